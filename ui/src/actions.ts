//! Which action buttons the detail pane and "Mes interventions" show for a role on a request.
// The server stays the authority (it answers 409 with the current status); this only decides
// what to offer, following the transitions of docs/api.md.
import type { RequestDto } from "./bindings/RequestDto";
import type { UserDto } from "./bindings/UserDto";
import type { MessageKey } from "./i18n";

export type Action =
  | { type: "status"; status: string; labelKey: MessageKey; labelParams?: Record<string, string> }
  | { type: "reject"; labelKey: MessageKey }
  | { type: "assign"; labelKey: MessageKey };

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

type Req = Pick<RequestDto, "kind" | "status" | "assigneeId">;

export function availableActions(user: Pick<UserDto, "id" | "role">, r: Req): Action[] {
  const admin = user.role === "ADMIN";
  const out: Action[] = [];
  if (r.kind === "project") {
    if (!admin) return out;
    if (r.status === "pending") {
      out.push({ type: "status", status: "active", labelKey: "action.validate" });
      out.push({ type: "reject", labelKey: "action.reject" });
    } else if (r.status === "active") {
      out.push({ type: "status", status: "completed", labelKey: "action.complete" });
    }
    return out;
  }
  if (r.kind === "intervention") {
    const mine = user.role === "TECHNICIAN" && r.assigneeId === user.id;
    const step = nextInterventionStep(r.status);
    if (step && (admin || mine)) {
      out.push({ type: "status", status: step, labelKey: "action.step", labelParams: { status: step } });
    }
    if (admin) {
      if (r.status === "open" || r.status === "assigned") out.push({ type: "assign", labelKey: "action.assign" });
      if (r.status === "resolved") out.push({ type: "status", status: "closed", labelKey: "action.close" });
      if (CANCELLABLE.has(r.status)) out.push({ type: "status", status: "cancelled", labelKey: "action.cancel" });
    }
    return out;
  }
  if (r.kind === "quote" && admin && r.status === "open") {
    out.push({ type: "status", status: "in_progress", labelKey: "action.startQuote" });
  }
  return out;
}
