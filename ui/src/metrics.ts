//! The seed's *Métriques* as `GET /api/staff/metrics` returns them (the contract's JSON names,
//! read as is through the `metrics` command), the default period, and number formatting.
import type { Language } from "./i18n";

/** Any number may be null when the period has no data for it. */
export type Num = number | null;

export interface WeekMetrics {
  weekStart: string;
  created: Num;
  urgentEnRouteMedianMinutes: Num;
  under2hShare: Num;
  slaMetShare: Num;
  notificationP50Seconds: Num;
  /** Not in the contract's example; drawn when the server sends it. */
  notificationP95Seconds?: Num;
  projectValidationMedianHours?: Num;
}

export interface SlaPriorityMetrics {
  priority: string;
  ackMet: Num;
  ackBreached: Num;
  resolveMet: Num;
  resolveBreached: Num;
}

export interface TechnicianLoad {
  _id: string;
  name: string;
  open: Num;
  urgent: Num;
}

export interface Metrics {
  from: string;
  to: string;
  notificationDelivery: { count: Num; p50Seconds: Num; p95Seconds: Num } | null;
  projectValidation: { count: Num; medianHours: Num } | null;
  urgentEnRoute: { count: Num; medianMinutes: Num; under2hShare: Num } | null;
  sla: SlaPriorityMetrics[];
  openByTechnician: TechnicianLoad[];
  weeks: WeekMetrics[];
}

const num = (v: unknown): Num => (typeof v === "number" && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
const arr = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Record<string, unknown> => x !== null) : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Reads the server's JSON defensively: a missing part becomes null or an empty list. */
export function readMetrics(raw: unknown): Metrics {
  const m = obj(raw) ?? {};
  const nd = obj(m.notificationDelivery);
  const pv = obj(m.projectValidation);
  const ue = obj(m.urgentEnRoute);
  return {
    from: str(m.from),
    to: str(m.to),
    notificationDelivery: nd && { count: num(nd.count), p50Seconds: num(nd.p50Seconds), p95Seconds: num(nd.p95Seconds) },
    projectValidation: pv && { count: num(pv.count), medianHours: num(pv.medianHours) },
    urgentEnRoute: ue && { count: num(ue.count), medianMinutes: num(ue.medianMinutes), under2hShare: num(ue.under2hShare) },
    sla: arr(m.sla).map((s) => ({ priority: str(s.priority), ackMet: num(s.ackMet), ackBreached: num(s.ackBreached), resolveMet: num(s.resolveMet), resolveBreached: num(s.resolveBreached) })),
    openByTechnician: arr(m.openByTechnician).map((x) => ({ _id: str(x._id), name: str(x.name), open: num(x.open), urgent: num(x.urgent) })),
    weeks: arr(m.weeks).map((w) => ({
      weekStart: str(w.weekStart),
      created: num(w.created),
      urgentEnRouteMedianMinutes: num(w.urgentEnRouteMedianMinutes),
      under2hShare: num(w.under2hShare),
      slaMetShare: num(w.slaMetShare),
      notificationP50Seconds: num(w.notificationP50Seconds),
      notificationP95Seconds: num(w.notificationP95Seconds),
      projectValidationMedianHours: num(w.projectValidationMedianHours),
    })),
  };
}

const ymd = (d: Date) => d.toISOString().slice(0, 10);

/** The last 12 ISO weeks up to `now` (Dakar is UTC): from the Monday 11 weeks before this
 *  week's Monday, to today. */
export function defaultPeriod(now: Date): { from: string; to: string } {
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const sinceMonday = (today.getUTCDay() + 6) % 7;
  const from = new Date(today.getTime() - (sinceMonday + 77) * 86400_000);
  return { from: ymd(from), to: ymd(today) };
}

/** Met share of a pair of counts, or null when nothing was measured. */
export function share(met: Num, breached: Num): Num {
  const total = (met ?? 0) + (breached ?? 0);
  return total > 0 ? (met ?? 0) / total : null;
}

function locale(lang: Language): string {
  return lang === "en" ? "en-SN" : "fr-SN";
}

/** `1.25` → `1,3` (fr) / `1.3` (en); at most one decimal. */
export function formatNumber(v: number, lang: Language, digits = 1): string {
  return new Intl.NumberFormat(locale(lang), { maximumFractionDigits: digits }).format(v);
}

export type Unit = "count" | "seconds" | "minutes" | "hours" | "share";

/** A value with its unit: `350 ms`, `4,2 s`, `42 min`, `5,5 h`, `75 %`; `—` when null. Below
 *  one unit the next smaller one says it, so a fast delivery never reads `0 s`. */
export function formatValue(v: Num, unit: Unit, lang: Language): string {
  if (v === null) return "—";
  switch (unit) {
    case "count":
      return formatNumber(v, lang, 0);
    case "seconds":
      if (v > 0 && v < 1) return `${formatNumber(Math.max(1, Math.round(v * 1000)), lang, 0)} ms`;
      return `${formatNumber(v, lang, v < 10 ? 2 : 1)} s`;
    case "minutes":
      return `${formatNumber(v, lang, 0)} min`;
    case "hours":
      if (v > 0 && v < 1) return `${formatNumber(Math.max(1, Math.round(v * 60)), lang, 0)} min`;
      return `${formatNumber(v, lang)} h`;
    case "share":
      return new Intl.NumberFormat(locale(lang), { style: "percent", maximumFractionDigits: 0 }).format(v);
  }
}

/** `2026-11-30` → `30/11`: the week's Monday, short. */
export function weekLabel(weekStart: string): string {
  const m = /^\d{4}-(\d{2})-(\d{2})$/.exec(weekStart);
  return m ? `${m[2]}/${m[1]}` : weekStart;
}

/** A round upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}
