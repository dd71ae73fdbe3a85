//! The inbox's filter state, the fixed filters of "Mes interventions", and the engine query they make.
import type { InboxQuery } from "./bindings/InboxQuery";
import type { Priority } from "./bindings/Priority";
import type { RequestKind } from "./bindings/RequestKind";

export const KINDS: RequestKind[] = ["project", "intervention", "quote"];
export const PRIORITIES: Priority[] = ["urgent", "high", "medium", "low"];

export const STATUSES_BY_KIND: Record<RequestKind, string[]> = {
  project: ["pending", "active", "rejected", "completed"],
  intervention: ["open", "assigned", "en_route", "on_site", "resolved", "closed", "cancelled"],
  quote: ["open", "in_progress", "sent", "accepted", "declined"],
};

export interface Filters {
  kind: RequestKind | null;
  status: string | null;
  priority: Priority | null;
  assignedToMe: boolean;
  unreadOnly: boolean;
  text: string;
}

/** Statuses offered by the status filter: those of the chosen kind, or all of them once each. */
export function statusOptions(kind: RequestKind | null): string[] {
  if (kind) return STATUSES_BY_KIND[kind];
  return [...new Set(KINDS.flatMap((k) => STATUSES_BY_KIND[k]))];
}

export function defaultFilters(): Filters {
  return { kind: null, status: null, priority: null, assignedToMe: false, unreadOnly: false, text: "" };
}

/** "Mes interventions": the interventions assigned to me (the engine puts urgent ones first). */
export function mineFilters(): Filters {
  return { ...defaultFilters(), kind: "intervention", assignedToMe: true };
}

/** Applies a filter change; choosing a kind drops a status that kind does not have. */
export function updateFilters(f: Filters, patch: Partial<Filters>): Filters {
  const next = { ...f, ...patch };
  if (next.status && !statusOptions(next.kind).includes(next.status)) next.status = null;
  return next;
}

/** The engine's inbox query for one window of rows. */
export function toInboxQuery(f: Filters, offset: number, limit: number): InboxQuery {
  const text = f.text.trim();
  return {
    kind: f.kind,
    status: f.status,
    priority: f.priority,
    assignedToMe: f.assignedToMe,
    unreadOnly: f.unreadOnly,
    text: text ? text : null,
    limit,
    offset,
  };
}

/** A stable key of filters: pages cached for one query are never shown for another. */
export function filtersKey(f: Filters): string {
  return JSON.stringify([f.kind, f.status, f.priority, f.assignedToMe, f.unreadOnly, f.text.trim()]);
}
