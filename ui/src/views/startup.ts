//! The "Démarrage" part of the settings screen: whether the OS starts IT Vision Desk at login,
//! in the tray. The OS entry is the truth: the switch shows what the shell reads from it, and
//! each change shows what the OS says afterwards.
import { h, replace } from "../dom";
import { t } from "../i18n";
import type { Ipc } from "../ipc";
import { IpcError } from "../ipc";

/** `null` while asking the shell; a message when it could not say. */
export type AutostartState = { enabled: boolean } | { error: string } | null;

export function startupFieldset(state: AutostartState, onChange: (on: boolean) => void): HTMLElement {
  const hintId = "autostart-hint";
  const box = h("input", {
    type: "checkbox",
    checked: state !== null && "enabled" in state && state.enabled,
    attrs: { "data-testid": "setting-autostart", "aria-describedby": hintId, role: "switch" },
    on: { change: (e) => onChange((e.target as HTMLInputElement).checked) },
  });
  box.disabled = state === null || "error" in state;
  return h(
    "fieldset",
    { attrs: { "data-testid": "startup-fieldset" } },
    h("legend", null, t("settings.startup")),
    h("label", { class: "check" }, box, t("settings.autostart")),
    h("p", { class: "muted", id: hintId }, t("settings.autostartHint")),
    state !== null && "error" in state ? h("p", { class: "error", attrs: { "data-testid": "autostart-error" } }, t("settings.autostartUnknown", { message: state.error })) : null,
  );
}

const message = (e: unknown) => (e instanceof IpcError ? e.message : String(e));

/** Fills `host` with the fieldset, asks the shell for the state, and applies changes;
 *  `say` shows a short confirmation or error. Keeps the focus on the switch across redraws. */
export async function mountStartup(host: HTMLElement, ipc: Pick<Ipc, "autostartGet" | "autostartSet">, say: (text: string) => void): Promise<void> {
  const draw = (state: AutostartState) => {
    const focused = document.activeElement?.getAttribute("data-testid") === "setting-autostart" && host.contains(document.activeElement);
    replace(host, startupFieldset(state, (on) => void change(on)));
    if (focused) host.querySelector<HTMLElement>("[data-testid=setting-autostart]")?.focus();
  };
  const change = async (on: boolean) => {
    try {
      const now = await ipc.autostartSet(on);
      draw({ enabled: now });
      say(t(now ? "settings.autostartOn" : "settings.autostartOff"));
    } catch (e) {
      say(t("error.generic", { message: message(e) }));
      await load();
    }
  };
  const load = async () => {
    try {
      draw({ enabled: await ipc.autostartGet() });
    } catch (e) {
      draw({ error: message(e) });
    }
  };
  draw(null);
  await load();
}
