//! Which action buttons the detail pane and "Mes interventions" show for a role on a request,
//! and the engine `Action` each one becomes. The server stays the authority (409 with the
//! current status); this only decides what to offer, following the transitions of docs/api.md.
import type { Action } from "./bindings/Action";
import type { Request } from "./bindings/Request";
import type { User } from "./bindings/User";
import type { MessageKey } from "./i18n";

export type UiAction =
  | { type: "validate"; labelKey: MessageKey }
  | { type: "status"; status: string; labelKey: MessageKey; step?: boolean }
  | { type: "reject"; labelKey: MessageKey }
  | { type: "assign"; labelKey: MessageKey }
  | { type: "prepareQuote"; labelKey: MessageKey }
  | { type: "sendQuote"; labelKey: MessageKey };

/** The technician's step after `status`, one click each: assigned → en_route → on_site → resolved. */
export function nextInterventionStep(status: string): string | null {
  switch (status) {
    case "assigned":
      return "en_route";
    case "en_route":
      return "on_site";
    case "on_site":
      return "resolved";
    default:
      return null;
  }
}

const CANCELLABLE = new Set(["open", "assigned", "en_route", "on_site"]);

type Req = Pick<Request, "kind" | "status" | "assigneeId">;

/** `hasQuote`: a quote request already has a prepared quote (it can be edited, then sent). */
export function availableActions(user: Pick<User, "_id" | "role">, r: Req, hasQuote = false): UiAction[] {
  const admin = user.role === "ADMIN";
  const out: UiAction[] = [];
  if (r.kind === "project") {
    if (!admin) return out;
    if (r.status === "pending") {
      out.push({ type: "validate", labelKey: "action.validate" });
      out.push({ type: "reject", labelKey: "action.reject" });
    } else if (r.status === "active") {
      out.push({ type: "status", status: "completed", labelKey: "action.complete" });
    }
    return out;
  }
  if (r.kind === "intervention") {
    const mine = user.role === "TECHNICIAN" && r.assigneeId === user._id;
    const step = nextInterventionStep(r.status);
    if (step && (admin || mine)) out.push({ type: "status", status: step, labelKey: "action.step", step: true });
    if (admin) {
      if (r.status === "open" || r.status === "assigned") out.push({ type: "assign", labelKey: "action.assign" });
      if (r.status === "resolved") out.push({ type: "status", status: "closed", labelKey: "action.close" });
      if (CANCELLABLE.has(r.status)) out.push({ type: "status", status: "cancelled", labelKey: "action.cancel" });
    }
    return out;
  }
  if (r.kind === "quote" && admin && (r.status === "open" || r.status === "in_progress")) {
    // Preparing the quote also moves an open request to in_progress (the server does it).
    out.push({ type: "prepareQuote", labelKey: hasQuote ? "action.editQuote" : "action.prepareQuote" });
    if (hasQuote && r.status === "in_progress") out.push({ type: "sendQuote", labelKey: "action.sendQuote" });
  }
  return out;
}

/** The engine action for a UI action; `input` is the reason or technician id the dialog asked for.
 *  `prepareQuote` is built by the quote editor, not here. */
export function toEngineAction(a: UiAction, requestId: string, input: string | null = null): Action | null {
  switch (a.type) {
    case "validate":
      return { type: "validateProject", requestId };
    case "reject":
      return input ? { type: "rejectProject", requestId, reason: input } : null;
    case "status":
      return { type: "setStatus", requestId, status: a.status, reason: null };
    case "assign":
      return input ? { type: "assign", requestId, technicianId: input } : null;
    case "sendQuote":
      return { type: "sendQuote", requestId };
    case "prepareQuote":
      return null;
  }
}
