//! The inbox's filter state: defaults, the fixed query of "Mes interventions", and filter options.
import type { InboxQuery } from "./bindings/InboxQuery";
import type { Kind } from "./bindings/Kind";
import type { Priority } from "./bindings/Priority";
import type { SortOrder } from "./bindings/SortOrder";

export const KINDS: Kind[] = ["project", "intervention", "quote"];
export const PRIORITIES: Priority[] = ["urgent", "high", "medium", "low"];
export const SORTS: SortOrder[] = ["updated_desc", "updated_asc", "created_desc", "priority"];

export const STATUSES_BY_KIND: Record<Kind, string[]> = {
  project: ["pending", "active", "rejected", "completed"],
  intervention: ["open", "assigned", "en_route", "on_site", "resolved", "closed", "cancelled"],
  quote: ["open", "in_progress", "sent", "accepted", "declined"],
};

/** Statuses offered by the status filter: those of the chosen kind, or all of them once each. */
export function statusOptions(kind: Kind | null): string[] {
  if (kind) return STATUSES_BY_KIND[kind];
  return [...new Set(KINDS.flatMap((k) => STATUSES_BY_KIND[k]))];
}

export function defaultQuery(): InboxQuery {
  return {
    kind: null,
    status: null,
    priority: null,
    assignedToMe: false,
    unreadOnly: false,
    openOnly: false,
    text: "",
    sort: "updated_desc",
    urgentFirst: true,
  };
}

/** "Mes interventions": the interventions assigned to me, urgent first, still to be worked on. */
export function mineQuery(): InboxQuery {
  return { ...defaultQuery(), kind: "intervention", assignedToMe: true, openOnly: true, urgentFirst: true };
}

/** Applies a filter change; choosing a kind drops a status that kind does not have. */
export function updateQuery(q: InboxQuery, patch: Partial<InboxQuery>): InboxQuery {
  const next = { ...q, ...patch };
  if (next.status && !statusOptions(next.kind).includes(next.status)) next.status = null;
  return next;
}

/** A stable key of a query: pages cached for one query are never shown for another. */
export function queryKey(q: InboxQuery): string {
  return JSON.stringify([q.kind, q.status, q.priority, q.assignedToMe, q.unreadOnly, q.openOnly, q.text.trim(), q.sort, q.urgentFirst]);
}

/** True when the query filters anything beyond the defaults. */
export function isFiltered(q: InboxQuery): boolean {
  return queryKey(q) !== queryKey(defaultQuery());
}
