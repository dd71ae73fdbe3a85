//! The inbox's filter state, the fixed filters of "Mes interventions", and the engine query they make.
import type { InboxQuery } from "./bindings/InboxQuery";
import type { InboxSort } from "./bindings/InboxSort";
import type { Priority } from "./bindings/Priority";
import type { RequestKind } from "./bindings/RequestKind";

export const KINDS: RequestKind[] = ["project", "intervention", "quote"];
export const PRIORITIES: Priority[] = ["urgent", "high", "medium", "low"];
export const SORTS: InboxSort[] = ["updated", "newest", "oldest", "priority", "due"];

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
  activeOnly: boolean;
  /** "En retard": interventions past an acknowledgement or resolution target, not final. */
  overdueOnly: boolean;
  sort: InboxSort;
  text: string;
}

/** The part of the filters remembered between runs: how the user likes to read the inbox. */
export interface ViewPrefs {
  sort: InboxSort;
  activeOnly: boolean;
}

const PREFS_KEY = "itv.inbox.view";

/** Statuses offered by the status filter: those of the chosen kind, or all of them once each. */
export function statusOptions(kind: RequestKind | null): string[] {
  if (kind) return STATUSES_BY_KIND[kind];
  return [...new Set(KINDS.flatMap((k) => STATUSES_BY_KIND[k]))];
}

export function defaultFilters(): Filters {
  return { kind: null, status: null, priority: null, assignedToMe: false, unreadOnly: false, activeOnly: false, overdueOnly: false, sort: "updated", text: "" };
}

/** Reads the remembered sort and "active only"; anything unknown falls back to the defaults. */
export function loadViewPrefs(store: Pick<Storage, "getItem">): ViewPrefs {
  const d = defaultFilters();
  try {
    const raw = JSON.parse(store.getItem(PREFS_KEY) ?? "{}") as Partial<ViewPrefs>;
    return {
      sort: SORTS.includes(raw.sort as InboxSort) ? (raw.sort as InboxSort) : d.sort,
      activeOnly: typeof raw.activeOnly === "boolean" ? raw.activeOnly : d.activeOnly,
    };
  } catch {
    return { sort: d.sort, activeOnly: d.activeOnly };
  }
}

export function saveViewPrefs(store: Pick<Storage, "setItem">, f: Filters): void {
  const prefs: ViewPrefs = { sort: f.sort, activeOnly: f.activeOnly };
  store.setItem(PREFS_KEY, JSON.stringify(prefs));
}

/** "Mes interventions": my interventions still to do, urgent first, then the oldest. */
export function mineFilters(): Filters {
  return { ...defaultFilters(), kind: "intervention", assignedToMe: true, activeOnly: true, sort: "oldest" };
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
    activeOnly: f.activeOnly,
    overdueOnly: f.overdueOnly,
    sort: f.sort,
    text: text ? text : null,
    limit,
    offset,
  };
}

/** A stable key of filters: pages cached for one query are never shown for another. */
export function filtersKey(f: Filters): string {
  return JSON.stringify([f.kind, f.status, f.priority, f.assignedToMe, f.unreadOnly, f.activeOnly, f.overdueOnly, f.sort, f.text.trim()]);
}
