// Issue 11 in the window: an honest status bar (synced after the first sync, health warnings
// until they clear), the autostart switch in the settings, and Quitter's question.
import { setLanguage } from "./i18n";
import { reduce, initialState } from "./state";
import { flush, mount, press } from "./testing/mount";
import { askQuit, quitHandler } from "./views/quit";

const text = (css: string) => document.querySelector(css)?.textContent ?? null;

afterEach(() => setLanguage("fr"));

describe("status bar", () => {
  it("says synced, not 'jamais synchronisé', once live after the first sync", async () => {
    await mount({ status: { connection: { state: "live" }, lastSyncAt: new Date().toISOString() } });
    expect(text("[data-testid=connection]")).toBe("En ligne · Synchronisé maintenant");
  });

  it("keeps a sync it saw when a snapshot knows of none", () => {
    let s = reduce(initialState(), { type: "engine", event: { type: "connection", state: { state: "live" } }, now: "2026-12-02T06:00:00Z" });
    s = reduce(s, {
      type: "snapshot",
      snapshot: { connection: { state: "syncing" }, lastSyncAt: null, outboxPending: 0, outboxRefused: 0, unread: 0, notificationsPaused: false, health: { noticesFailing: 0, quarantined: 0 } },
    });
    expect(s.status.lastSyncAt).toBe("2026-12-02T06:00:00Z");
  });

  it("shows alerts not shown and unreadable events until they clear, hidden at zero", async () => {
    const { emit } = await mount({ status: { health: { noticesFailing: 1, quarantined: 0 } } });
    expect(text("[data-testid=health-notices]")).toBe("⚠ 1 alerte non affichée (nouvel essai…)");
    expect(document.querySelector("[data-testid=health-quarantined]")).toBeNull();
    emit({ type: "health", health: { noticesFailing: 2, quarantined: 3 } });
    expect(text("[data-testid=health-notices]")).toBe("⚠ 2 alertes non affichées (nouvel essai…)");
    expect(text("[data-testid=health-quarantined]")).toBe("⚠ 3 événements illisibles (mise à jour requise)");
    expect(document.querySelector("[data-testid=health-quarantined]")?.getAttribute("title")).toContain("mise à jour");
    emit({ type: "health", health: { noticesFailing: 0, quarantined: 1 } });
    expect(document.querySelector("[data-testid=health-notices]")).toBeNull();
    expect(text("[data-testid=health-quarantined]")).toBe("⚠ 1 événement illisible (mise à jour requise)");
    emit({ type: "health", health: { noticesFailing: 0, quarantined: 0 } });
    expect(document.querySelector("[data-testid^=health-]")).toBeNull();
  });

  it("speaks English when asked", async () => {
    setLanguage("en");
    const { emit } = await mount();
    setLanguage("en");
    emit({ type: "health", health: { noticesFailing: 2, quarantined: 1 } });
    expect(text("[data-testid=health-notices]")).toBe("⚠ 2 alerts not shown (retrying…)");
    expect(text("[data-testid=health-quarantined]")).toBe("⚠ 1 unreadable event (update needed)");
  });
});

describe("start at login", () => {
  it("shows the OS's state in a labelled switch, and turns it off and on", async () => {
    const { calls } = await mount({ autostart: true });
    press(",");
    await flush();
    const box = document.querySelector<HTMLInputElement>("[data-testid=setting-autostart]")!;
    expect(box.checked).toBe(true);
    expect(box.disabled).toBe(false);
    expect(box.closest("label")?.textContent).toBe("Démarrer IT Vision Desk à l'ouverture de session, dans la zone de notification");
    expect(document.getElementById(box.getAttribute("aria-describedby")!)?.textContent).toContain("aucune alerte urgente");
    expect(text("[data-testid=startup-fieldset] legend")).toBe("Démarrage");
    box.focus();
    box.checked = false;
    box.dispatchEvent(new Event("change"));
    await flush();
    expect(calls("autostartSet").map(([, a]) => a[0])).toEqual([false]);
    const after = document.querySelector<HTMLInputElement>("[data-testid=setting-autostart]")!;
    expect(after.checked).toBe(false);
    expect(document.activeElement).toBe(after); // the keyboard stays on the switch
    expect(text("[data-testid=toast]")).toBe("IT Vision Desk ne démarrera plus à l'ouverture de session");
    after.checked = true;
    after.dispatchEvent(new Event("change"));
    await flush();
    expect(calls("autostartSet").map(([, a]) => a[0])).toEqual([false, true]);
    expect(document.querySelector<HTMLInputElement>("[data-testid=setting-autostart]")!.checked).toBe(true);
  });

  it("says so when the shell cannot tell, and offers no switch to flip", async () => {
    await mount({ autostart: new Error("no home directory") });
    press(",");
    await flush();
    expect(document.querySelector<HTMLInputElement>("[data-testid=setting-autostart]")!.disabled).toBe(true);
    expect(text("[data-testid=autostart-error]")).toContain("no home directory");
  });
});

describe("Quitter", () => {
  it("asks, with the cancel button focused; cancelling keeps the app and tells the shell it asked", async () => {
    const { emitQuit, calls } = await mount();
    emitQuit();
    await flush();
    expect(document.querySelectorAll("[data-testid=quit-dialog]").length).toBe(1);
    expect(text("[data-testid=quit-text]")).toBe("Vous ne recevrez plus les alertes urgentes tant que l'application est fermée.");
    expect(document.activeElement?.getAttribute("data-testid")).toBe("dialog-cancel");
    expect(calls("quitPrompted").length).toBe(1);
    emitQuit(); // Quitter again while asking: one question on screen
    await flush();
    expect(document.querySelectorAll("[data-testid=quit-dialog]").length).toBe(1);
    expect(calls("quitPrompted").length).toBe(2);
    document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    await flush();
    expect(document.querySelector("[data-testid=quit-dialog]")).toBeNull();
    expect(calls("quitConfirmed").length).toBe(0);
  });

  it("quits once confirmed", async () => {
    const { emitQuit, calls } = await mount();
    emitQuit();
    await flush();
    expect(text("[data-testid=quit-dialog] [data-testid=dialog-confirm]")).toBe("Quitter quand même");
    document.querySelector<HTMLButtonElement>("[data-testid=quit-dialog] [data-testid=dialog-confirm]")!.click();
    await flush();
    expect(calls("quitConfirmed").length).toBe(1);
    expect(document.querySelector("[data-testid=quit-dialog]")).toBeNull();
  });

  it("asks in English too", async () => {
    document.body.replaceChildren();
    setLanguage("en");
    const shell = { quitPrompted: vi.fn(async () => undefined), quitConfirmed: vi.fn(async () => undefined) };
    const done = quitHandler(shell, askQuit)();
    expect(text("[data-testid=quit-dialog] h2")).toBe("Quit IT Vision Desk?");
    expect(text("[data-testid=quit-text]")).toBe("You will no longer receive urgent alerts while the app is closed.");
    document.querySelector<HTMLButtonElement>("[data-testid=dialog-cancel]")!.click();
    await done;
    expect(shell.quitConfirmed).not.toHaveBeenCalled();
  });
});
