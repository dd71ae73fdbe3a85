//! Test fixtures: requests shaped like the shell's DTOs, and a fake IPC backed by an array.
import type { InboxPage } from "../bindings/InboxPage";
import type { InboxQuery } from "../bindings/InboxQuery";
import type { RequestDetail } from "../bindings/RequestDetail";
import type { RequestDto } from "../bindings/RequestDto";
import type { RequestRow } from "../bindings/RequestRow";
import type { SessionDto } from "../bindings/SessionDto";
import type { SettingsDto } from "../bindings/SettingsDto";
import type { StatusDto } from "../bindings/StatusDto";
import type { Ipc } from "../ipc";

export function request(over: Partial<RequestDto> = {}): RequestDto {
  return {
    id: "r1", kind: "project", ticketNumber: null, title: "Vidéosurveillance entrepôt", description: "12 caméras",
    site: "Zone industrielle, Dakar", status: "pending", priority: "high", clientId: "c1", clientName: "SARL Teranga",
    assigneeId: null, assigneeName: null, createdAt: "2025-11-19T10:00:00Z", updatedAt: "2025-11-19T11:00:00Z", version: 1,
    serviceType: "surveillance", estimatedBudget: 2500000, preferredStartDate: "2025-12-01", urgency: "high", rejectionReason: null,
    interventionType: null, preferredDate: null, projectId: null, category: null, deadline: null, items: [], ...over,
  };
}

export function rowOf(r: RequestDto, unread = false): RequestRow {
  return {
    id: r.id, kind: r.kind, ticketNumber: r.ticketNumber, title: r.title, status: r.status, priority: r.priority,
    clientName: r.clientName, assigneeName: r.assigneeName, site: r.site, updatedAt: r.updatedAt, unread,
  };
}

export const adminSession: SessionDto = { server: "http://127.0.0.1:8080", user: { id: "admin", name: "Admin", email: "admin@itvision.sn", role: "ADMIN" } };

export const defaultSettings: SettingsDto = {
  language: "fr", notifyProject: true, notifyIntervention: true, notifyQuote: true, notifyMessage: true,
  urgentRealertMinutes: 10, pauseNonUrgent: false, server: "http://127.0.0.1:8080",
};

/** A fake shell: `total` generated rows, real details for `requests`, a log of every call. */
export function fakeIpc(opts: { session?: SessionDto | null; total?: number; requests?: RequestDto[] } = {}) {
  const log: Array<[string, unknown[]]> = [];
  const requests = opts.requests ?? [request()];
  const total = opts.total ?? requests.length;
  const rowAt = (i: number): RequestRow =>
    i < requests.length ? rowOf(requests[i], i === 0) : rowOf(request({ id: `gen${i}`, title: `Demande ${i}`, kind: "intervention", ticketNumber: `INT-202511-${i}` }));
  const status: StatusDto = { connection: "live", lastSyncAt: new Date().toISOString(), syncProgress: null, outboxPending: 0, outboxRefused: 0, unread: 1, notificationsPaused: false };
  const rec = <A extends unknown[], R>(name: string, f: (...a: A) => R) => (...a: A) => {
    log.push([name, a]);
    return Promise.resolve(f(...a));
  };
  const ipc: Ipc = {
    sessionRestore: rec("sessionRestore", () => (opts.session === undefined ? adminSession : opts.session)),
    signIn: rec("signIn", (server: string, email: string) => ({ server, user: { ...adminSession.user, email } })),
    signOut: rec("signOut", () => undefined),
    inboxPage: rec("inboxPage", (_q: InboxQuery, offset: number, limit: number): InboxPage => {
      const rows = [];
      for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push(rowAt(i));
      return { total, offset, rows };
    }),
    requestDetail: rec("requestDetail", (id: string): RequestDetail => {
      const r = requests.find((x) => x.id === id) ?? request({ id, title: `Demande ${id}` });
      return { request: r, history: [], messages: [], quote: null };
    }),
    markRead: rec("markRead", () => undefined),
    changeStatus: rec("changeStatus", () => ({ queued: false, request: null })),
    assign: rec("assign", () => ({ queued: false, request: null })),
    sendMessage: rec("sendMessage", () => ({ queued: true, request: null })),
    technicians: rec("technicians", () => [{ id: "tech1", name: "Moussa Diop", email: "technicien@itvision.sn", role: "TECHNICIAN" as const }]),
    status: rec("status", () => status),
    outboxList: rec("outboxList", () => []),
    outboxDismiss: rec("outboxDismiss", () => undefined),
    settingsGet: rec("settingsGet", () => defaultSettings),
    settingsSet: rec("settingsSet", (s: SettingsDto) => s),
    inboxPainted: rec("inboxPainted", () => undefined),
  };
  const handlers: Record<string, (p: unknown) => void> = {};
  const events = {
    onStatus: (f: (s: StatusDto) => void) => ((handlers.status = f as (p: unknown) => void), Promise.resolve(() => undefined)),
    onRequestsChanged: (f: (c: { ids: string[] }) => void) => ((handlers.changed = f as (p: unknown) => void), Promise.resolve(() => undefined)),
    onOpenRequest: (f: (o: { id: string }) => void) => ((handlers.open = f as (p: unknown) => void), Promise.resolve(() => undefined)),
  };
  return { ipc, events, log, handlers, calls: (name: string) => log.filter(([n]) => n === name) };
}
