// Issue 14 in the window: Copier le diagnostic (clipboard, or selected text when refused) and
// itv:// links opening a request like a notification's Ouvrir.
import { App } from "../app";
import { setLanguage } from "../i18n";
import { fakeIpc, memoryStorage, request } from "../testing/fixtures";
import { flush, mount, track } from "../testing/mount";
import { supportFieldset } from "./support";

const text = (css: string) => document.querySelector(css)?.textContent ?? null;

afterEach(() => setLanguage("fr"));

describe("Copier le diagnostic", () => {
  const mountField = (opts: Parameters<typeof fakeIpc>[0], clipboard: { writeText(t: string): Promise<void> } | undefined) => {
    document.body.replaceChildren(supportFieldset(fakeIpc(opts).ipc, clipboard));
    document.querySelector<HTMLButtonElement>("[data-testid=copy-diagnostic]")!.click();
  };

  it("copies the shell's report and says so", async () => {
    const copied: string[] = [];
    mountField({ diagnostic: "IT Vision Desk        0.1.0\nLast event seq        42\n" }, { writeText: async (t) => void copied.push(t) });
    await flush();
    expect(copied).toEqual(["IT Vision Desk        0.1.0\nLast event seq        42\n"]);
    expect(text("[data-testid=diagnostic-status]")).toBe("Diagnostic copié dans le presse-papiers");
    expect(document.querySelector("[data-testid=diagnostic-text]")).toBeNull();
    expect(document.querySelector("[data-testid=copy-diagnostic]")?.getAttribute("aria-describedby")).toBe("diagnostic-hint");
    expect(text("#diagnostic-hint")).toBe("À joindre à une demande d'assistance");
  });

  it("shows the text selected when the clipboard refuses", async () => {
    mountField({ diagnostic: "report text" }, { writeText: () => Promise.reject(new Error("NotAllowedError")) });
    await flush();
    const area = document.querySelector<HTMLTextAreaElement>("[data-testid=diagnostic-text]")!;
    expect(area.value).toBe("report text");
    expect(area.readOnly).toBe(true);
    expect(area.getAttribute("aria-label")).toBe("Texte du diagnostic");
    expect(document.activeElement).toBe(area);
    expect([area.selectionStart, area.selectionEnd]).toEqual([0, "report text".length]);
    expect(text("[data-testid=diagnostic-status]")).toBe("Copie impossible : le texte est sélectionné, copiez-le avec Ctrl+C");
  });

  it("shows the text when there is no clipboard at all, and announces a second click again", async () => {
    mountField({ diagnostic: "report text" }, undefined);
    await flush();
    expect(document.querySelector<HTMLTextAreaElement>("[data-testid=diagnostic-text]")?.value).toBe("report text");
    const status = document.querySelector("[data-testid=diagnostic-status]")!;
    expect(status.getAttribute("aria-live")).toBe("polite");
    const seen: string[] = [];
    new MutationObserver(() => seen.push(status.textContent ?? "")).observe(status, { childList: true, characterData: true, subtree: true });
    document.querySelector<HTMLButtonElement>("[data-testid=copy-diagnostic]")!.click();
    await flush();
    expect(seen[0]).toBe("");
    expect(status.textContent).toBe("Copie impossible : le texte est sélectionné, copiez-le avec Ctrl+C");
    expect(document.querySelectorAll("[data-testid=diagnostic-text]").length).toBe(1);
  });

  it("says why when the report cannot be made", async () => {
    mountField({ diagnostic: new Error("cache locked") }, { writeText: async () => undefined });
    await flush();
    expect(text("[data-testid=diagnostic-status]")).toContain("cache locked");
    expect(document.querySelector("[data-testid=diagnostic-text]")).toBeNull();
  });

  it("is on the settings screen, in English too", async () => {
    await mount({}, memoryStorage({ "itv.server": "http://127.0.0.1:8080", "itv.language": "en" }));
    document.body.dispatchEvent(new KeyboardEvent("keydown", { key: ",", bubbles: true, cancelable: true }));
    await flush();
    expect(text("[data-testid=copy-diagnostic]")).toBe("Copy diagnostics");
  });
});

describe("itv:// links", () => {
  async function mountWatched(opts: Parameters<typeof fakeIpc>[0] = {}) {
    const mounted = await mount(opts);
    const opened: string[] = [];
    const openById = mounted.app.openById.bind(mounted.app);
    mounted.app.openById = (id: string) => {
      opened.push(id);
      return openById(id);
    };
    return { opened, ...mounted };
  }
  const detailId = () => document.querySelector("[data-testid=detail]")?.getAttribute("data-id");

  it("open the request through the same path as a notification's Ouvrir", async () => {
    const r = request({ _id: "r-link", title: "Caméra hors ligne" });
    const { opened, emitLink, emit } = await mountWatched({ requests: [request(), r] });
    emitLink("r-link");
    await flush();
    expect(opened).toEqual(["r-link"]);
    expect(detailId()).toBe("r-link");
    emit({ type: "notificationClicked", requestId: "r-link" });
    await flush();
    expect(opened).toEqual(["r-link", "r-link"]);
  });

  it("wait for the sign-in when signed out", async () => {
    const { opened, emitLink } = await mountWatched({ session: null });
    emitLink("r1");
    await flush();
    expect(opened).toEqual([]);
    const form = document.querySelector("form")!;
    for (const [name, value] of [["email", "admin@itvision.sn"], ["password", "demo1234"]]) {
      const input = form.querySelector<HTMLInputElement>(`input[name=${name}], input[type=${name}]`);
      if (input) input.value = value;
    }
    form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await flush();
    expect(opened).toEqual(["r1"]);
    expect(detailId()).toBe("r1");
  });

  it("wait for a restore still on its way", async () => {
    document.body.replaceChildren();
    const root = document.createElement("div");
    document.body.appendChild(root);
    const fake = fakeIpc();
    let restored: (v: Awaited<ReturnType<typeof fake.ipc.sessionRestore>>) => void = () => undefined;
    const session = await fake.ipc.sessionRestore();
    fake.ipc.sessionRestore = () => new Promise((r) => (restored = r));
    const app = track(new App(root, fake.ipc, fake.events, memoryStorage({ "itv.server": "http://127.0.0.1:8080" })));
    const started = app.start();
    await flush();
    fake.emitLink("r2");
    restored(session);
    await started;
    await flush();
    expect(detailId()).toBe("r2");
  });

  it("leave the settings screen for the inbox", async () => {
    const { emitLink } = await mount();
    document.querySelector<HTMLButtonElement>("[data-testid=nav-settings]")!.click();
    await flush();
    expect(document.querySelector("[data-testid=support-fieldset]")).not.toBeNull();
    emitLink("r1");
    await flush();
    expect(document.querySelector("[data-testid=nav-inbox]")?.getAttribute("aria-current")).toBe("true");
    expect(detailId()).toBe("r1");
  });

  it("say so when the request is not in this account's cache", async () => {
    const { emitLink } = await mountWatched({ missing: ["nobody-sees"] });
    emitLink("nobody-sees");
    await flush();
    expect(text("[data-testid=detail-error]")).toBe("Demande introuvable ou non visible pour ce compte");
    expect(document.querySelector("[data-testid=detail]")).toBeNull();
  });

  it("say so too when the detail comes back empty", async () => {
    const { emitLink, ipc } = await mount();
    const detail = ipc.requestDetail;
    ipc.requestDetail = (id: string) => (id === "empty" ? Promise.resolve(null as never) : detail(id));
    emitLink("empty");
    await flush();
    expect(text("[data-testid=detail-error]")).toBe("Demande introuvable ou non visible pour ce compte");
  });
});
