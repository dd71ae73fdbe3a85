//! Test fixtures: requests shaped like the engine's types, and a fake IPC backed by an array.
import type { EngineEvent } from "../bindings/EngineEvent";
import type { InboxItem } from "../bindings/InboxItem";
import type { InboxPage } from "../bindings/InboxPage";
import type { InboxQuery } from "../bindings/InboxQuery";
import type { OutboxEntry } from "../bindings/OutboxEntry";
import type { Action } from "../bindings/Action";
import type { Account } from "../bindings/Account";
import type { AccountPatch } from "../bindings/AccountPatch";
import type { NewAccount } from "../bindings/NewAccount";
import type { SessionInfo } from "../bindings/SessionInfo";
import type { PerformOutcome } from "../bindings/PerformOutcome";
import type { QuoteDoc } from "../bindings/QuoteDoc";
import type { QuoteLineDraft } from "../bindings/QuoteLineDraft";
import type { QuotePreview } from "../bindings/QuotePreview";
import type { Request } from "../bindings/Request";
import type { RequestDetail } from "../bindings/RequestDetail";
import type { Session } from "../bindings/Session";
import type { Settings } from "../bindings/Settings";
import type { StatusSnapshot } from "../bindings/StatusSnapshot";
import type { Ipc } from "../ipc";
import { toIpcError } from "../ipc";
import { canAcknowledge, runningTimer, trackingOf } from "../tracking";

const n = (x: number) => x;

export function request(over: Partial<Request> & Record<string, unknown> = {}): Request {
  return {
    _id: "r1", kind: "project", ticketNumber: null, title: "Vidéosurveillance entrepôt", description: "12 caméras",
    site: "Zone industrielle, Dakar", status: "pending", priority: "high", clientId: "c1", clientName: "SARL Teranga",
    assigneeId: null, assigneeName: null, createdAt: "2025-11-19T10:00:00Z", updatedAt: "2025-11-19T11:00:00Z", version: n(1),
    acknowledgedAt: null, acknowledgedBy: null, assignedAt: null, assignmentAcknowledgedAt: null, enRouteAt: null, finishedAt: null, sla: null,
    serviceType: "surveillance", estimatedBudget: 2500000, preferredStartDate: "2025-12-01", urgency: "high",
    ...over,
  } as Request;
}

/** The row the engine makes of a request; its `createdAt` starts the row's timers, so the
 *  countdown turns amber on its own. */
export function itemOf(r: Request, unread = false, now = Date.now()): InboxItem {
  const tr = trackingOf(r);
  const running = runningTimer(tr, r.status, now);
  return {
    id: r._id, kind: r.kind, ticketNumber: r.ticketNumber, title: r.title, site: r.site, clientName: r.clientName, status: r.status,
    priority: r.priority, assigneeId: r.assigneeId, assigneeName: r.assigneeName, createdAt: r.createdAt, updatedAt: r.updatedAt, unread,
    acknowledgedByName: r.acknowledgedBy?.name ?? null, acknowledgedAt: r.acknowledgedAt, sla: r.sla, dueAt: running?.due ?? null,
  };
}

export const adminSession: Session = {
  serverUrl: "http://127.0.0.1:8080",
  user: { _id: "admin", name: "Admin", email: "admin@itvision.sn", role: "ADMIN" },
  secretStorage: { kind: "keyring" },
};

export function sessionInfo(over: Partial<SessionInfo> = {}): SessionInfo {
  return {
    _id: "s1", device: "IT Vision Desk · Linux · poste-1", createdAt: "2026-11-30T08:00:00Z", lastUsedAt: "2026-12-01T09:00:00Z",
    expiresAt: "2026-12-31T09:00:00Z", current: false, ...over,
  };
}

export function accounts(): Account[] {
  return [
    { _id: "admin", name: "Admin", email: "admin@itvision.sn", role: "ADMIN", active: true, lastSeenAt: "2026-12-01T09:00:00Z" },
    { _id: "t1", name: "Moussa Diop", email: "technicien@itvision.sn", role: "TECHNICIAN", active: true, lastSeenAt: null },
    { _id: "t2", name: "Awa Ndiaye", email: "technicien2@itvision.sn", role: "TECHNICIAN", active: false, lastSeenAt: null },
  ];
}

export const defaultSettings: Settings = {
  notifyProjects: true, notifyQuotes: true, notifyPlannedInterventions: true, notifyAssignments: true, urgentReminderMinutes: 5, summaryThreshold: 5,
};

export function memoryStorage(init: Record<string, string> = {}) {
  const m = new Map(Object.entries(init));
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), map: m };
}

/** A fake shell: `total` generated rows, details for `requests`, a log of every call. */
export function fakeIpc(
  opts: {
    session?: Session | null;
    total?: number;
    requests?: Request[];
    perform?: PerformOutcome | ((a: Action) => PerformOutcome);
    outbox?: OutboxEntry[];
    quote?: QuoteDoc | null;
    sessions?: SessionInfo[];
    accounts?: Account[];
    /** Throws this (as the shell would) from passwordChange / account changes. */
    refuse?: { code: string; message: string; fields: Record<string, string> };
    signedOutOnServer?: boolean;
    /** The metrics JSON the `metrics` command answers, or an Error it fails with. */
    metrics?: unknown;
    /** Whether autostart at login is on (the OS entry), or an Error reading it fails with. */
    autostart?: boolean | Error;
    /** What the status command answers, over a live default. */
    status?: Partial<StatusSnapshot>;
    /** Ids the cache does not have (request_detail answers not_found). */
    missing?: string[];
    /** The diagnostic report, or an Error the command fails with. */
    diagnostic?: string | Error;
  } = {},
) {
  const log: Array<[string, unknown[]]> = [];
  const requests = opts.requests ?? [request()];
  const total = opts.total ?? requests.length;
  const rowAt = (i: number): InboxItem =>
    i < requests.length ? itemOf(requests[i], i === 0) : itemOf(request({ _id: `gen${i}`, title: `Demande ${i}`, kind: "intervention", ticketNumber: `INT-202511-${i}` }));
  const status: StatusSnapshot = {
    connection: { state: "live" }, lastSyncAt: new Date().toISOString(), outboxPending: 0, outboxRefused: 0, unread: 1, notificationsPaused: false,
    health: { noticesFailing: 0, quarantined: 0 }, ...opts.status,
  };
  let autostart = opts.autostart ?? true;
  const rec = <A extends unknown[], R>(name: string, f: (...a: A) => R) => (...a: A) => {
    log.push([name, a]);
    return Promise.resolve(f(...a));
  };
  const ipc: Ipc = {
    sessionRestore: rec("sessionRestore", () => (opts.session === undefined ? adminSession : opts.session)),
    signIn: rec("signIn", (serverUrl: string, email: string): Session => ({ ...adminSession, serverUrl, user: { ...adminSession.user, email } })),
    signOut: rec("signOut", () => ({ endedOnServer: opts.signedOutOnServer ?? true, detail: null })),
    sessionsList: rec("sessionsList", () => opts.sessions ?? [sessionInfo({ current: true }), sessionInfo({ _id: "s2", device: "Chrome · Windows" })]),
    sessionEnd: rec("sessionEnd", () => undefined),
    passwordChange: rec("passwordChange", () => {
      if (opts.refuse) throw toIpcError(opts.refuse);
      return "Mot de passe modifié";
    }),
    accountsList: rec("accountsList", () => opts.accounts ?? accounts()),
    accountCreate: rec("accountCreate", (a: NewAccount): Account => {
      if (opts.refuse) throw toIpcError(opts.refuse);
      return { _id: "new", name: a.name, email: a.email, role: a.role, active: true, lastSeenAt: null };
    }),
    accountUpdate: rec("accountUpdate", (id: string, patch: AccountPatch): Account => {
      if (opts.refuse) throw toIpcError(opts.refuse);
      const a = (opts.accounts ?? accounts()).find((x) => x._id === id)!;
      return { ...a, ...patch } as Account;
    }),
    accountResetPassword: rec("accountResetPassword", () => {
      if (opts.refuse) throw toIpcError(opts.refuse);
      return "Mot de passe réinitialisé";
    }),
    inboxPage: rec("inboxPage", (q: InboxQuery): InboxPage => {
      const rows = [];
      const limit = q.limit ?? 50;
      for (let i = q.offset; i < Math.min(total, q.offset + limit); i++) rows.push(rowAt(i));
      return { total: n(total), offset: q.offset, items: rows };
    }),
    requestDetail: rec("requestDetail", (id: string): RequestDetail => {
      if (opts.missing?.includes(id)) throw toIpcError({ code: "not_found", message: `not found: ${id}` });
      const r = requests.find((x) => x._id === id) ?? request({ _id: id, title: `Demande ${id}` });
      // The engine answers canAcknowledge from itv-core's rule; the UI's copy stands in here.
      const user = (opts.session === undefined ? adminSession : opts.session)?.user ?? adminSession.user;
      return { request: r, history: [], messages: [], quote: opts.quote ?? null, unread: false, fresh: true, canAcknowledge: canAcknowledge(user, r, trackingOf(r)) };
    }),
    markRead: rec("markRead", () => undefined),
    perform: rec("perform", (a: Action): PerformOutcome => (typeof opts.perform === "function" ? opts.perform(a) : (opts.perform ?? { outcome: "applied", request: null }))),
    acknowledge: rec("acknowledge", (id: string): Request => {
      if (opts.refuse) throw toIpcError(opts.refuse);
      const r = requests.find((x) => x._id === id) ?? request({ _id: id });
      if (!r.acknowledgedAt) Object.assign(r, { acknowledgedAt: "2026-12-01T10:05:00Z", acknowledgedBy: { _id: "admin", name: "Admin" } });
      return r;
    }),
    metrics: rec("metrics", (from: string, to: string): unknown => {
      if (opts.metrics instanceof Error) throw toIpcError({ code: "network", message: opts.metrics.message });
      return opts.metrics ?? { success: true, from, to, sla: [], openByTechnician: [], weeks: [] };
    }),
    // Stand-in arithmetic for view tests only; the real totals are the engine's (Rust tests).
    quotePreview: rec("quotePreview", (lines: QuoteLineDraft[], discount: number): QuotePreview => {
      const lineTotals = lines.map((l) => l.quantity * l.unitPrice);
      const subtotal = lineTotals.reduce((a, b) => a + b, 0);
      const taxableAmount = subtotal - discount;
      const vatAmount = Math.floor((taxableAmount * 18 + 50) / 100);
      return { lineTotals, subtotal, taxableAmount, vatRate: 18, vatAmount, total: taxableAmount + vatAmount, problem: null };
    }),
    technicians: rec("technicians", () => [{ _id: "tech1", name: "Moussa Diop", email: "technicien@itvision.sn", role: "TECHNICIAN" as const }]),
    status: rec("status", () => status),
    outboxList: rec("outboxList", () => opts.outbox ?? []),
    outboxDiscard: rec("outboxDiscard", () => undefined),
    settingsGet: rec("settingsGet", () => defaultSettings),
    settingsSet: rec("settingsSet", (s: Settings) => s),
    inboxPainted: rec("inboxPainted", () => undefined),
    uiLanguage: rec("uiLanguage", () => undefined),
    autostartGet: rec("autostartGet", () => {
      if (autostart instanceof Error) throw toIpcError({ code: "autostart", message: autostart.message });
      return autostart;
    }),
    autostartSet: rec("autostartSet", (on: boolean) => (autostart = on)),
    quitPrompted: rec("quitPrompted", () => undefined),
    quitConfirmed: rec("quitConfirmed", () => undefined),
    diagnostic: rec("diagnostic", () => {
      if (opts.diagnostic instanceof Error) throw toIpcError({ code: "cache", message: opts.diagnostic.message });
      return opts.diagnostic ?? "IT Vision Desk        0.1.0\nConnection            live\n";
    }),
  };
  let engine: (e: EngineEvent) => void = () => undefined;
  let paused: (p: boolean) => void = () => undefined;
  let quit: () => void = () => undefined;
  let link: (id: string) => void = () => undefined;
  const events = {
    onEngine: (f: (e: EngineEvent) => void) => {
      engine = f;
      return Promise.resolve(() => undefined);
    },
    onPaused: (f: (p: boolean) => void) => {
      paused = f;
      return Promise.resolve(() => undefined);
    },
    onQuitRequested: (f: () => void) => {
      quit = f;
      return Promise.resolve(() => undefined);
    },
    onOpenRequest: (f: (id: string) => void) => {
      link = f;
      return Promise.resolve(() => undefined);
    },
  };
  return {
    ipc,
    events,
    log,
    emit: (e: EngineEvent) => engine(e),
    emitPaused: (p: boolean) => paused(p),
    /** The tray's "Quitter". */
    emitQuit: () => quit(),
    /** An itv://request/{id} link opened. */
    emitLink: (id: string) => link(id),
    calls: (name: string) => log.filter(([x]) => x === name),
  };
}
