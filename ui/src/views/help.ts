//! The "?" overlay listing every keyboard shortcut.
import { h } from "../dom";
import { t } from "../i18n";
import { SHORTCUTS } from "../keyboard";

export function helpOverlay(onClose: () => void): HTMLElement {
  const close = h("button", { class: "primary", on: { click: onClose } }, t("help.close"));
  const el = h(
    "div",
    { class: "overlay", attrs: { role: "dialog", "aria-modal": "true", "data-testid": "help" } },
    h(
      "div",
      { class: "dialog" },
      h("h2", null, t("help.title")),
      h(
        "table",
        { class: "shortcuts" },
        h("tbody", null, ...SHORTCUTS.map(([keys, what]) => h("tr", null, h("td", null, h("kbd", null, keys)), h("td", null, t(what))))),
      ),
      close,
    ),
  );
  queueMicrotask(() => close.focus());
  return el;
}
