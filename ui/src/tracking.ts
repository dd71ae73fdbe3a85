//! Who took an intervention and where its service-level timers stand, as the UI shows them:
//! the contract's tracking fields (read from a request or an inbox row by their JSON names, so
//! the UI works before and after the bindings carry them), the timer arithmetic of
//! `itv_core::sla::Deadline`, and countdowns that tick in place without re-rendering a list.
import type { Language } from "./i18n";
import { parseTimestamp } from "./format";

export type SlaState = "pending" | "at_risk" | "met" | "breached";

/** `sla` of an intervention, as the server sends it (states as of when the copy was read). */
export interface Sla {
  ackDueAt: string;
  resolveDueAt: string;
  ack: SlaState;
  resolve: SlaState;
}

export interface Person {
  _id: string;
  name: string;
}

/** The tracking fields of a request or an inbox row; null when absent or not applicable. */
export interface Tracking {
  createdAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: Person | null;
  assignedAt: string | null;
  assignmentAcknowledgedAt: string | null;
  enRouteAt: string | null;
  finishedAt: string | null;
  sla: Sla | null;
}

/** Statuses where the timers stop and nothing is left to acknowledge (`ownership::is_final`). */
export const FINAL_STATUSES = new Set(["resolved", "closed", "cancelled"]);
/** Below this share of its target left, a running timer is at risk (`sla::AT_RISK_SHARE`). */
export const AT_RISK_SHARE = 0.2;
/** The seed's promise for urgent calls: a technician en route within two hours. */
export const EN_ROUTE_PROMISE_MS = 2 * 3600_000;

const STATES: SlaState[] = ["pending", "at_risk", "met", "breached"];

function text(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

/** Reads the tracking fields of anything shaped like the contract (request or row). */
export function trackingOf(x: object): Tracking {
  const r = x as Record<string, unknown>;
  const by = r.acknowledgedBy as Record<string, unknown> | null | undefined;
  const byName = text(by?.name) ?? text(r.acknowledgedByName);
  const sla = r.sla as Record<string, unknown> | null | undefined;
  const state = (v: unknown): SlaState => (STATES.includes(v as SlaState) ? (v as SlaState) : "pending");
  return {
    createdAt: text(r.createdAt),
    acknowledgedAt: text(r.acknowledgedAt),
    acknowledgedBy: byName ? { _id: text(by?._id) ?? text(r.acknowledgedById) ?? "", name: byName } : null,
    assignedAt: text(r.assignedAt),
    assignmentAcknowledgedAt: text(r.assignmentAcknowledgedAt),
    enRouteAt: text(r.enRouteAt),
    finishedAt: text(r.finishedAt),
    sla:
      sla && text(sla.ackDueAt) && text(sla.resolveDueAt)
        ? { ackDueAt: sla.ackDueAt as string, resolveDueAt: sla.resolveDueAt as string, ack: state(sla.ack), resolve: state(sla.resolve) }
        : null,
  };
}

const ms = (iso: string | null): number | null => {
  if (!iso) return null;
  const t = parseTimestamp(iso).getTime();
  return Number.isNaN(t) ? null : t;
};

/** One timer: started at `start`, due at `due`, stopped at `done` if it was. */
export interface Timer {
  which: "ack" | "resolve" | "enRoute";
  start: string | null;
  due: string;
  done: string | null;
  /** The server's state when the copy was read: used only when the clock cannot tell. */
  stored: SlaState | null;
}

/** When a timer turns amber: `due − 0.2 × (due − start)`, rounded to the millisecond like
 *  `Deadline::after`. */
export function atRiskFrom(startMs: number, dueMs: number): number {
  return dueMs - Math.round((dueMs - startMs) * AT_RISK_SHARE);
}

/** Where a timer stands at `now` (`Deadline::state`): met or breached once stopped, else
 *  breached after `due`, at risk after `atRiskFrom`, pending before. */
export function timerState(t: Timer, nowMs: number): SlaState {
  const due = ms(t.due);
  const done = ms(t.done);
  if (due === null) return t.stored ?? "pending";
  if (done !== null) return done <= due ? "met" : "breached";
  if (t.stored === "met") return "met"; // stopped, though this copy does not say when
  if (nowMs > due) return "breached";
  const start = ms(t.start);
  if (start === null) return t.stored === "at_risk" ? "at_risk" : "pending";
  return nowMs > atRiskFrom(start, due) ? "at_risk" : "pending";
}

export function isFinal(status: string): boolean {
  return FINAL_STATUSES.has(status);
}

/** The acknowledgement timer (stops at the first acknowledgement, or at the end). */
export function ackTimer(tr: Tracking): Timer | null {
  if (!tr.sla) return null;
  return { which: "ack", start: tr.createdAt, due: tr.sla.ackDueAt, done: tr.acknowledgedAt ?? tr.finishedAt, stored: tr.sla.ack };
}

export function resolveTimer(tr: Tracking): Timer | null {
  if (!tr.sla) return null;
  return { which: "resolve", start: tr.createdAt, due: tr.sla.resolveDueAt, done: tr.finishedAt, stored: tr.sla.resolve };
}

/** The seed's promise for an urgent call: en route within 2 h of its creation. */
export function enRouteTimer(tr: Tracking, priority: string): Timer | null {
  const created = ms(tr.createdAt);
  if (priority !== "urgent" || created === null) return null;
  return { which: "enRoute", start: tr.createdAt, due: new Date(created + EN_ROUTE_PROMISE_MS).toISOString(), done: tr.enRouteAt, stored: null };
}

/** The timer to count down for a request in `status`: acknowledgement while nobody has taken
 *  it, then resolution; none once final or when the request has no service level. */
export function runningTimer(tr: Tracking, status: string, nowMs: number): Timer | null {
  if (!tr.sla || isFinal(status)) return null;
  const ack = ackTimer(tr)!;
  const st = timerState(ack, nowMs);
  if (st !== "met" && !tr.acknowledgedAt) return ack;
  return resolveTimer(tr);
}

/** "En retard": a timer breached on a request that is not final. */
export function isOverdue(tr: Tracking, status: string, nowMs: number): boolean {
  if (!tr.sla || isFinal(status)) return false;
  return [ackTimer(tr)!, resolveTimer(tr)!].some((t) => timerState(t, nowMs) === "breached");
}

/** Whether `user` may press "Je prends": staff, an intervention not final, and either nobody has
 *  taken it, or it is assigned to them and they have not acknowledged the assignment. The engine
 *  answers this itself (`RequestDetail.canAcknowledge`, from itv-core's ownership rules); this
 *  copy stands in for it in the test fixtures and documents the rule. */
export function canAcknowledge(
  user: { _id: string; role: string },
  r: { kind: string; status: string; assigneeId: string | null },
  tr: Tracking,
): boolean {
  if (user.role !== "ADMIN" && user.role !== "TECHNICIAN") return false;
  if (r.kind !== "intervention" || isFinal(r.status)) return false;
  if (!tr.acknowledgedAt) return true;
  return r.assigneeId === user._id && tr.assignedAt !== null && tr.assignmentAcknowledgedAt === null;
}

/** The assignee has not yet acknowledged their assignment (`ownership::awaits_assignee`). */
export function awaitsAssignee(r: { status: string; assigneeId: string | null }, tr: Tracking): boolean {
  return r.assigneeId !== null && tr.assignedAt !== null && tr.assignmentAcknowledgedAt === null && !isFinal(r.status);
}

/** "Awa Ndiaye" → "Awa". */
export function firstName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? name;
}

/** A duration for a countdown: under an hour `14:05` (with seconds) or `14 min`; then
 *  `3 h 05`; from a day `2 j 3 h` (`2 d 3 h` in English). Without seconds, round spans drop
 *  their zero part (`4 h`, `3 j`). Negative spans are shown as positive. */
export function formatSpan(spanMs: number, lang: Language, seconds = true): string {
  const total = Math.floor(Math.abs(spanMs) / 1000);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  const day = lang === "fr" ? "j" : "d";
  if (d > 0) return !seconds && h === 0 ? `${d} ${day}` : `${d} ${day} ${h} h`;
  if (h > 0) return !seconds && m === 0 ? `${h} h` : `${h} h ${two(m)}`;
  if (seconds) return `${two(m)}:${two(s)}`;
  // Whole minutes, but never "0 min" for a span that is not nothing.
  return m === 0 && s > 0 ? `${s} s` : `${m} min`;
}

// ---- countdowns in the DOM ---------------------------------------------------------------

/** What a countdown element shows: its timer, and the wording (compact for list rows). */
export interface CountdownText {
  state: SlaState;
  text: string;
  label: string;
}

export type Wording = (t: Timer, state: SlaState, spanMs: number, compact: boolean) => { text: string; label: string };

/** The state and words of `t` at `now`. */
export function countdown(t: Timer, nowMs: number, compact: boolean, words: Wording): CountdownText {
  const state = timerState(t, nowMs);
  const due = ms(t.due) ?? nowMs;
  return { state, ...words(t, state, due - nowMs, compact) };
}

/** A `<span>` that `tick` keeps up to date; it carries its timer in data attributes. */
export function countdownEl(t: Timer, nowMs: number, compact: boolean, words: Wording, testid = "countdown"): HTMLElement {
  const el = document.createElement("span");
  el.setAttribute("role", "timer");
  el.setAttribute("data-countdown", t.which);
  el.setAttribute("data-testid", testid);
  el.setAttribute("data-due", t.due);
  if (t.start) el.setAttribute("data-start", t.start);
  if (t.done) el.setAttribute("data-done", t.done);
  if (t.stored) el.setAttribute("data-stored", t.stored);
  if (compact) el.setAttribute("data-compact", "");
  paint(el, countdown(t, nowMs, compact, words));
  return el;
}

function paint(el: HTMLElement, c: CountdownText): void {
  const cls = `countdown sla-${c.state}`;
  if (el.className !== cls) el.className = cls;
  if (el.getAttribute("data-state") !== c.state) el.setAttribute("data-state", c.state);
  if (el.textContent !== c.text) el.textContent = c.text;
  if (el.getAttribute("aria-label") !== c.label) {
    el.setAttribute("aria-label", c.label);
    el.title = c.label;
  }
}

/** Brings every countdown under `root` to `now`, touching only what changed. */
export function tick(root: ParentNode, nowMs: number, words: Wording): number {
  const els = root.querySelectorAll<HTMLElement>("[data-countdown]");
  for (const el of els) {
    const t: Timer = {
      which: el.getAttribute("data-countdown") as Timer["which"],
      due: el.getAttribute("data-due") ?? "",
      start: el.getAttribute("data-start"),
      done: el.getAttribute("data-done"),
      stored: el.getAttribute("data-stored") as SlaState | null,
    };
    paint(el, countdown(t, nowMs, el.hasAttribute("data-compact"), words));
  }
  return els.length;
}
