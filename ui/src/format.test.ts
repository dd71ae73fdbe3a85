import { parseTimestamp, formatDate, formatDateTime, formatRelative, formatShort, formatXof } from "./format";

const clean = (s: string) => s.replace(/[\u202f\u00a0]/g, " ");

describe("format", () => {
  it("formats XOF in whole francs for fr-SN", () => {
    expect(clean(formatXof(1500000, "fr"))).toBe("1 500 000 F CFA");
    expect(clean(formatXof(0, "fr"))).toBe("0 F CFA");
    expect(formatXof(null, "fr")).toBe("—");
  });

  it("formats XOF for English with grouping commas", () => {
    expect(clean(formatXof(150000, "en"))).toContain("150,000");
  });

  it("formats timestamps in Dakar time, French first", () => {
    expect(clean(formatDateTime("2025-11-19T10:00:00Z", "fr"))).toBe("19 nov. 2025, 10:00");
    expect(formatDateTime(null, "fr")).toBe("—");
    expect(formatDateTime("not a date", "fr")).toBe("not a date");
  });

  it("formats picked dates without shifting the day", () => {
    expect(formatDate("2025-12-01", "fr")).toBe("01/12/2025");
    expect(formatDate("soon", "fr")).toBe("soon");
  });

  it("says how long ago the last sync was", () => {
    const now = new Date("2025-11-19T10:10:00Z");
    expect(formatRelative("2025-11-19T10:07:00Z", now, "fr")).toBe("il y a 3 minutes");
    expect(formatRelative("2025-11-19T10:09:50Z", now, "en")).toBe("now");
    expect(formatRelative("2025-11-17T10:00:00Z", now, "fr")).toBe("avant-hier");
    expect(formatRelative(null, now, "fr")).toBeNull();
  });

  it("reads Rust's nanosecond timestamps", () => {
    expect(parseTimestamp("2026-11-26T10:30:49.084024722+00:00").toISOString()).toBe("2026-11-26T10:30:49.084Z");
    expect(formatRelative("2026-11-26T10:30:49.084024722+00:00", new Date("2026-11-26T10:40:49Z"), "fr")).toBe("il y a 10 minutes");
  });

  it("shows only the time for today's rows and the date otherwise", () => {
    const now = new Date("2025-11-19T18:00:00Z");
    expect(formatShort("2025-11-19T08:05:00Z", now, "fr")).toBe("08:05");
    expect(formatShort("2025-11-18T08:05:00Z", now, "fr")).toBe("18/11/2025");
  });
});
