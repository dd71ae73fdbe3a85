import { commandFor, isTextField, moveSelection, SHORTCUTS } from "./keyboard";
import { hasKey } from "./i18n";

const key = (k: string, extra: Partial<Parameters<typeof commandFor>[0]> = {}) =>
  commandFor({ key: k, ctrlKey: false, metaKey: false, altKey: false, inField: false, ...extra });

describe("keyboard", () => {
  it("maps list navigation, open, search and help", () => {
    expect(key("j")).toEqual({ type: "next" });
    expect(key("ArrowDown")).toEqual({ type: "next" });
    expect(key("k")).toEqual({ type: "prev" });
    expect(key("ArrowUp")).toEqual({ type: "prev" });
    expect(key("Enter")).toEqual({ type: "open" });
    expect(key("/")).toEqual({ type: "search" });
    expect(key("k", { ctrlKey: true })).toEqual({ type: "search" });
    expect(key("?")).toEqual({ type: "help" });
    expect(key("3")).toEqual({ type: "action", index: 2 });
    expect(key("m")).toEqual({ type: "screen", screen: "mine" });
    expect(key("x")).toBeNull();
  });

  it("lets text fields keep plain letters but not Ctrl+K or Escape", () => {
    expect(key("j", { inField: true })).toBeNull();
    expect(key("/", { inField: true })).toBeNull();
    expect(key("Enter", { inField: true })).toBeNull();
    expect(key("k", { inField: true, ctrlKey: true })).toEqual({ type: "search" });
    expect(key("Escape", { inField: true })).toEqual({ type: "escape" });
  });

  it("does not steal browser shortcuts with modifiers", () => {
    expect(key("j", { ctrlKey: true })).toBeNull();
    expect(key("1", { altKey: true })).toBeNull();
  });

  it("keeps the selection inside the list", () => {
    expect(moveSelection(-1, { type: "next" }, 10)).toBe(0);
    expect(moveSelection(9, { type: "next" }, 10)).toBe(9);
    expect(moveSelection(0, { type: "prev" }, 10)).toBe(0);
    expect(moveSelection(4, { type: "last" }, 100000)).toBe(99999);
    expect(moveSelection(50, { type: "first" }, 100)).toBe(0);
    expect(moveSelection(3, { type: "next" }, 0)).toBe(-1);
    expect(moveSelection(20, { type: "open" }, 5)).toBe(4);
  });

  it("describes every shortcut with a translated text", () => {
    for (const [, what] of SHORTCUTS) expect(hasKey(what)).toBe(true);
  });

  it("knows which elements take typed text", () => {
    const text = document.createElement("input");
    const box = document.createElement("input");
    box.type = "checkbox";
    expect(isTextField(text)).toBe(true);
    expect(isTextField(box)).toBe(false);
    expect(isTextField(document.createElement("textarea"))).toBe(true);
    expect(isTextField(document.createElement("button"))).toBe(false);
    expect(isTextField(null)).toBe(false);
  });
});
