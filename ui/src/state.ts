//! The UI's state and the pure reducers that change it: user messages, and engine events folded
//! into the always-visible status (connection, last sync, sync progress, outbox, unread, health).
import type { ConnectionState } from "./bindings/ConnectionState";
import type { EngineEvent } from "./bindings/EngineEvent";
import type { Session } from "./bindings/Session";
import type { Settings } from "./bindings/Settings";
import type { StatusSnapshot } from "./bindings/StatusSnapshot";
import { defaultFilters, mineFilters, updateFilters, type Filters } from "./query";

export type Screen = "inbox" | "mine" | "settings" | "accounts" | "dashboard";
export type Phase = "restoring" | "signin" | "ready";

export interface Status {
  connection: ConnectionState["state"];
  lastSyncAt: string | null;
  /** Set during a full sync; `total` is null when the server does not say. */
  sync: { done: number; total: number | null } | null;
  outboxPending: number;
  outboxRefused: number;
  unread: number;
  paused: boolean;
  /** Notices the desktop's notification server did not show yet (retried). */
  noticesFailing: number;
  /** Events this build could not read (kept aside until an update). */
  quarantined: number;
}

export interface State {
  phase: Phase;
  session: Session | null;
  screen: Screen;
  /** The inbox's filters; "Mes interventions" has its own fixed ones. */
  filters: Filters;
  mine: Filters;
  /** Id of the request shown in the detail pane. */
  openId: string | null;
  status: Status;
  settings: Settings | null;
  helpOpen: boolean;
  toast: string | null;
  signInError: string | null;
  /** Why the server ended the last session (shown on the sign-in screen), in French. */
  endedReason: string | null;
}

export type Msg =
  | { type: "restoreFailed" }
  | { type: "signedIn"; session: Session }
  | { type: "signInFailed"; error: string }
  | { type: "signedOut" }
  | { type: "screen"; screen: Screen }
  | { type: "filters"; patch: Partial<Filters> }
  | { type: "open"; id: string | null }
  | { type: "snapshot"; snapshot: StatusSnapshot }
  | { type: "engine"; event: EngineEvent; now: string }
  | { type: "settings"; settings: Settings }
  | { type: "paused"; paused: boolean }
  | { type: "help"; open: boolean }
  | { type: "toast"; text: string | null };

export function initialStatus(): Status {
  return { connection: "connecting", lastSyncAt: null, sync: null, outboxPending: 0, outboxRefused: 0, unread: 0, paused: false, noticesFailing: 0, quarantined: 0 };
}

export function initialState(): State {
  return {
    phase: "restoring",
    session: null,
    screen: "inbox",
    filters: defaultFilters(),
    mine: mineFilters(),
    openId: null,
    status: initialStatus(),
    settings: null,
    helpOpen: false,
    toast: null,
    signInError: null,
    endedReason: null,
  };
}

/** The filters of the list on screen. */
export function activeFilters(s: State): Filters {
  return s.screen === "mine" ? s.mine : s.filters;
}

/** Folds one engine event into the status. `now` stamps the last sync while live. */
export function reduceStatus(st: Status, ev: EngineEvent, now: string): Status {
  switch (ev.type) {
    case "connection": {
      const c = ev.state;
      if (c.state === "offline") return { ...st, connection: "offline", sync: null, lastSyncAt: c.lastSyncAt ?? st.lastSyncAt };
      if (c.state === "live") return { ...st, connection: "live", sync: null, lastSyncAt: now };
      return { ...st, connection: c.state };
    }
    case "syncProgress": {
      const done = Number(ev.done);
      const total = ev.total === null ? null : Number(ev.total);
      if (total !== null && done >= total) return { ...st, sync: null };
      return { ...st, sync: { done, total } };
    }
    case "outbox":
      return { ...st, outboxPending: Number(ev.pending), outboxRefused: Number(ev.refused) };
    case "requestsChanged":
      return st.connection === "live" ? { ...st, lastSyncAt: now } : st;
    case "health":
      return { ...st, noticesFailing: ev.health.noticesFailing, quarantined: ev.health.quarantined };
    default:
      return st;
  }
}

export function reduce(s: State, m: Msg): State {
  switch (m.type) {
    case "restoreFailed":
      return { ...s, phase: "signin" };
    case "signedIn":
      return {
        ...s,
        phase: "ready",
        session: m.session,
        signInError: null,
        endedReason: null,
        // Technicians land on their own interventions.
        screen: m.session.user.role === "TECHNICIAN" ? "mine" : "inbox",
        openId: null,
      };
    case "signInFailed":
      return { ...s, phase: "signin", signInError: m.error, endedReason: null };
    case "signedOut":
      return { ...initialState(), phase: "signin", settings: s.settings };
    case "screen":
      return m.screen === s.screen ? s : { ...s, screen: m.screen };
    case "filters":
      return { ...s, filters: updateFilters(s.filters, m.patch) };
    case "open":
      return m.id === s.openId ? s : { ...s, openId: m.id };
    case "snapshot": {
      const x = m.snapshot;
      return {
        ...s,
        status: {
          ...s.status,
          connection: x.connection.state,
          // A snapshot never forgets a sync this window already saw.
          lastSyncAt: x.lastSyncAt ?? s.status.lastSyncAt,
          outboxPending: x.outboxPending,
          outboxRefused: x.outboxRefused,
          unread: x.unread,
          paused: x.notificationsPaused,
          noticesFailing: x.health.noticesFailing,
          quarantined: x.health.quarantined,
        },
      };
    }
    case "engine": {
      if (m.event.type === "sessionChanged" && m.event.session === null && s.phase === "ready") {
        return reduce(s, { type: "signedOut" });
      }
      if (m.event.type === "sessionEnded") {
        const out = s.phase === "ready" ? reduce(s, { type: "signedOut" }) : s;
        return { ...out, phase: out.phase === "restoring" ? "signin" : out.phase, endedReason: m.event.end.message };
      }
      const status = reduceStatus(s.status, m.event, m.now);
      return status === s.status ? s : { ...s, status };
    }
    case "settings":
      return { ...s, settings: m.settings };
    case "paused":
      return s.status.paused === m.paused ? s : { ...s, status: { ...s.status, paused: m.paused } };
    case "help":
      return { ...s, helpOpen: m.open };
    case "toast":
      return { ...s, toast: m.text };
  }
}

/** A tiny store: holds the state, applies messages, tells subscribers what changed. */
export class Store {
  private subs: Array<(s: State, prev: State) => void> = [];
  constructor(public state: State = initialState()) {}

  dispatch(m: Msg): void {
    const prev = this.state;
    const next = reduce(prev, m);
    if (next === prev) return;
    this.state = next;
    for (const f of this.subs) f(next, prev);
  }

  subscribe(f: (s: State, prev: State) => void): () => void {
    this.subs.push(f);
    return () => {
      this.subs = this.subs.filter((g) => g !== f);
    };
  }
}
