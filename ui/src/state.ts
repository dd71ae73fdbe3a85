//! The UI's state and the pure reducer that changes it; views render from it, events dispatch to it.
import type { InboxQuery } from "./bindings/InboxQuery";
import type { SessionDto } from "./bindings/SessionDto";
import type { SettingsDto } from "./bindings/SettingsDto";
import type { StatusDto } from "./bindings/StatusDto";
import { defaultQuery, mineQuery, updateQuery } from "./query";

export type Screen = "inbox" | "mine" | "settings";
export type Phase = "restoring" | "signin" | "ready";

export interface State {
  phase: Phase;
  session: SessionDto | null;
  screen: Screen;
  /** The inbox's filters; "Mes interventions" has its own fixed query. */
  query: InboxQuery;
  mine: InboxQuery;
  /** Selected row index in the current list, and the id of the request shown in the detail pane. */
  selected: number;
  openId: string | null;
  status: StatusDto;
  settings: SettingsDto | null;
  helpOpen: boolean;
  toast: string | null;
  signInError: string | null;
}

export type Msg =
  | { type: "restoreFailed" }
  | { type: "signedIn"; session: SessionDto }
  | { type: "signInFailed"; error: string }
  | { type: "signedOut" }
  | { type: "screen"; screen: Screen }
  | { type: "query"; patch: Partial<InboxQuery> }
  | { type: "select"; index: number }
  | { type: "open"; id: string | null }
  | { type: "status"; status: StatusDto }
  | { type: "settings"; settings: SettingsDto }
  | { type: "help"; open: boolean }
  | { type: "toast"; text: string | null };

export function initialStatus(): StatusDto {
  return {
    connection: "connecting",
    lastSyncAt: null,
    syncProgress: null,
    outboxPending: 0,
    outboxRefused: 0,
    unread: 0,
    notificationsPaused: false,
  };
}

export function initialState(): State {
  return {
    phase: "restoring",
    session: null,
    screen: "inbox",
    query: defaultQuery(),
    mine: mineQuery(),
    selected: -1,
    openId: null,
    status: initialStatus(),
    settings: null,
    helpOpen: false,
    toast: null,
    signInError: null,
  };
}

/** The query of the list on screen. */
export function activeQuery(s: State): InboxQuery {
  return s.screen === "mine" ? s.mine : s.query;
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
        // Technicians land on their own interventions.
        screen: m.session.user.role === "TECHNICIAN" ? "mine" : "inbox",
        selected: -1,
        openId: null,
      };
    case "signInFailed":
      return { ...s, phase: "signin", signInError: m.error };
    case "signedOut":
      return { ...initialState(), phase: "signin", settings: s.settings };
    case "screen":
      if (m.screen === s.screen) return s;
      return { ...s, screen: m.screen, selected: -1 };
    case "query":
      return { ...s, query: updateQuery(s.query, m.patch), selected: -1 };
    case "select":
      return { ...s, selected: m.index };
    case "open":
      return { ...s, openId: m.id };
    case "status":
      return { ...s, status: m.status };
    case "settings":
      return { ...s, settings: m.settings };
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
