//! The outbox overlay (opened from the status bar): actions waiting for the server, refused by it,
//! held behind a refused one, or left by another account; each with its reason.
import type { Action } from "../bindings/Action";
import type { OutboxEntry } from "../bindings/OutboxEntry";
import { h } from "../dom";
import { label, t } from "../i18n";

/** One line describing a queued action. */
export function describeAction(a: Action): string {
  switch (a.type) {
    case "validateProject":
      return t("action.validate");
    case "rejectProject":
      return `${t("action.reject")} ${a.reason}`;
    case "setStatus":
      return t("action.step", { status: label("status", a.status) });
    case "assign":
      return t("action.assign");
    case "sendMessage":
      return `${t("chat.send")} : ${a.body}`;
    case "prepareQuote":
      return t("action.prepareQuote");
    case "sendQuote":
      return t("action.sendQuote");
    default:
      // An action kind this UI does not know yet (a newer engine): its type, at least.
      return (a as { type: string }).type;
  }
}

const STATE_KEY = { pending: "outbox.pending", refused: "outbox.refused", held: "outbox.held", abandoned: "outbox.abandoned" } as const;

/** Why an entry is where it is: the engine's reason (held, abandoned), else the server's or the last error. */
function why(it: OutboxEntry): string {
  return it.reason ?? it.refusal?.message ?? it.lastError ?? "";
}

/** Shows the overlay; `discard(id)` removes a refused, held or abandoned entry, then `reopen()` shows it again. */
export function outboxOverlay(items: OutboxEntry[], discard: (id: number) => Promise<void>, reopen: () => void): HTMLElement {
  const close = () => overlay.remove();
  const overlay = h(
    "div",
    { class: "overlay", attrs: { role: "dialog", "data-testid": "outbox-list" }, on: { keydown: (e) => e.key === "Escape" && (e.stopPropagation(), close()) } },
    h(
      "div",
      { class: "dialog" },
      h("h2", null, t("outbox.title")),
      h(
        "ul",
        { class: "outbox-items" },
        ...items.map((it) =>
          h(
            "li",
            { class: `state-${it.state}`, attrs: { "data-testid": "outbox-entry" } },
            h("strong", null, describeAction(it.action)),
            ` · ${t(STATE_KEY[it.state] ?? "outbox.pending")}`,
            why(it) ? h("div", { class: "error", attrs: { "data-testid": "outbox-reason" } }, why(it)) : null,
            it.state !== "pending"
              ? h("button", { attrs: { "data-testid": "outbox-discard" }, on: { click: () => void discard(Number(it.id)).then(() => (close(), reopen())) } }, t("outbox.dismiss"))
              : null,
          ),
        ),
      ),
      h("button", { class: "primary", on: { click: close } }, t("help.close")),
    ),
  );
  document.body.appendChild(overlay);
  overlay.querySelector<HTMLElement>("button")?.focus();
  return overlay;
}
