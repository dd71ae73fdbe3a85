//! The "Assistance" part of the settings screen: *Copier le diagnostic* puts the shell's
//! plain-text report on the clipboard for a support request. WebKitGTK may refuse the
//! clipboard: the text is then shown, selected, for Ctrl+C.
import { h, replace } from "../dom";
import { t } from "../i18n";
import type { Ipc } from "../ipc";
import { IpcError } from "../ipc";

export type Clipboard = Pick<globalThis.Clipboard, "writeText">;

const message = (e: unknown) => (e instanceof IpcError ? e.message : String(e));

export function supportFieldset(ipc: Pick<Ipc, "diagnostic">, clipboard: Clipboard | undefined): HTMLElement {
  const hintId = "diagnostic-hint";
  const status = h("p", { class: "muted", attrs: { role: "status", "aria-live": "polite", "data-testid": "diagnostic-status" } });
  const fallback = h("div", { attrs: { "data-testid": "diagnostic-fallback" } });
  const copy = async () => {
    // Emptied first, so that a second click's message is announced again.
    replace(fallback);
    status.textContent = "";
    let text: string;
    try {
      text = await ipc.diagnostic();
    } catch (e) {
      status.className = "error";
      status.textContent = t("error.generic", { message: message(e) });
      return;
    }
    try {
      if (!clipboard) throw new Error("no clipboard");
      await clipboard.writeText(text);
      status.className = "muted";
      status.textContent = t("settings.diagnosticCopied");
    } catch {
      const area = h("textarea", {
        value: text,
        class: "diagnostic-text",
        attrs: { readonly: "", rows: "12", "aria-label": t("settings.diagnosticText"), "data-testid": "diagnostic-text" },
      });
      replace(fallback, area);
      area.focus();
      area.select();
      status.className = "muted";
      status.textContent = t("settings.diagnosticSelect");
    }
  };
  return h(
    "fieldset",
    { attrs: { "data-testid": "support-fieldset" } },
    h("legend", null, t("settings.support")),
    h("button", { attrs: { "data-testid": "copy-diagnostic", "aria-describedby": hintId }, on: { click: () => void copy() } }, t("settings.copyDiagnostic")),
    h("p", { class: "muted", id: hintId }, t("settings.diagnosticHint")),
    status,
    fallback,
  );
}
