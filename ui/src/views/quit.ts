//! The question the tray's *Quitter* asks a signed-in admin or technician: quitting stops the
//! urgent alerts. Cancel has the focus, so a stray Enter keeps the app running; Esc cancels.
import { h } from "../dom";
import { t } from "../i18n";
import type { Ipc } from "../ipc";
import { formDialog } from "./dialogs";

/** Resolves true when the user confirms quitting. */
export function askQuit(): Promise<boolean> {
  const body = h("div", null, h("p", { attrs: { "data-testid": "quit-text" } }, t("quit.text")), h("p", { class: "muted" }, t("quit.hint")));
  const answer = formDialog(t("quit.title"), body, async () => null, { confirmLabel: t("quit.confirm"), testid: "quit-dialog" });
  document.querySelector<HTMLElement>("[data-testid=quit-dialog] [data-testid=dialog-cancel]")?.focus();
  return answer;
}

/** Answers the shell's quit requests: one question at a time, told to the shell as shown. */
export function quitHandler(ipc: Pick<Ipc, "quitPrompted" | "quitConfirmed">, ask: () => Promise<boolean> = askQuit): () => Promise<void> {
  let open: Promise<boolean> | null = null;
  const shown = () => void ipc.quitPrompted().catch(() => undefined);
  return async () => {
    // A second Quitter while asking: the question is already on screen.
    if (open) return shown();
    open = ask();
    shown();
    try {
      if (await open) await ipc.quitConfirmed();
    } finally {
      open = null;
    }
  };
}
