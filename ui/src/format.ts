//! Formatting of dates, times and XOF amounts for Senegal (fr-SN) or English, through Intl.
import type { Language } from "./i18n";

const TIME_ZONE = "Africa/Dakar";

function locale(lang: Language): string {
  return lang === "en" ? "en-SN" : "fr-SN";
}

/** `2025-11-19T10:00:00Z` → `19 nov. 2025, 10:00` (fr-SN). Invalid input is returned as is. */
export function formatDateTime(iso: string | null | undefined, lang: Language): string {
  if (!iso) return "—";
  const d = parseTimestamp(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(lang), {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: TIME_ZONE,
  }).format(d);
}

/** A user-picked calendar date `YYYY-MM-DD` → `19/11/2025` (no time zone shift). */
export function formatDate(ymd: string | null | undefined, lang: Language): string {
  if (!ymd) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) return ymd;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: "short", timeZone: "UTC" }).format(d);
}

/** Whole francs → `150 000 F CFA` (fr-SN), `XOF 150,000` or similar (en). */
export function formatXof(amount: number | null | undefined, lang: Language): string {
  if (amount === null || amount === undefined) return "—";
  return new Intl.NumberFormat(locale(lang), {
    style: "currency",
    currency: "XOF",
    maximumFractionDigits: 0,
  }).format(amount);
}

/** Parses RFC 3339, also with more than 3 fractional digits (Rust's `to_rfc3339` writes 9,
 *  which not every JavaScript engine accepts). */
export function parseTimestamp(iso: string): Date {
  return new Date(iso.replace(/(\.\d{3})\d+/, "$1"));
}

/** "il y a 3 minutes" / "3 minutes ago", relative to `now`. */
export function formatRelative(iso: string | null, now: Date, lang: Language): string | null {
  if (!iso) return null;
  const then = parseTimestamp(iso);
  if (Number.isNaN(then.getTime())) return null;
  const seconds = Math.round((then.getTime() - now.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(lang), { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 45) return rtf.format(0, "second");
  if (abs < 45 * 60) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 22 * 3600) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86400), "day");
}

/** Short time for list rows: today → `10:05`, otherwise `19/11/2025`. */
export function formatShort(iso: string, now: Date, lang: Language): string {
  const d = parseTimestamp(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = (x: Date) =>
    new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE, dateStyle: "short" }).format(x);
  const opts: Intl.DateTimeFormatOptions =
    day(d) === day(now) ? { timeStyle: "short" } : { dateStyle: "short" };
  return new Intl.DateTimeFormat(locale(lang), { ...opts, timeZone: TIME_ZONE }).format(d);
}
