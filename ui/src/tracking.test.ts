import { setLanguage } from "./i18n";
import {
  ackTimer,
  atRiskFrom,
  canAcknowledge,
  countdownEl,
  enRouteTimer,
  firstName,
  formatSpan,
  isOverdue,
  runningTimer,
  tick,
  timerState,
  trackingOf,
  type Timer,
} from "./tracking";
import { words } from "./views/sla";

const at = (hm: string, s = 0, msPart = 0) => Date.parse(`2026-12-01T${hm}:${String(s).padStart(2, "0")}.${String(msPart).padStart(3, "0")}Z`);

/** An urgent intervention created at 10:00: ack due 10:15, resolve due 14:00. */
function urgent(over: Record<string, unknown> = {}) {
  return trackingOf({
    createdAt: "2026-12-01T10:00:00Z",
    acknowledgedAt: null,
    acknowledgedBy: null,
    sla: { ackDueAt: "2026-12-01T10:15:00Z", resolveDueAt: "2026-12-01T14:00:00Z", ack: "pending", resolve: "pending" },
    ...over,
  });
}

describe("SLA timer arithmetic (as itv_core::sla::Deadline)", () => {
  afterEach(() => setLanguage("fr"));

  it("turns at risk when less than 20 % of the target is left", () => {
    expect(atRiskFrom(at("10:00"), at("10:15"))).toBe(at("10:12"));
    // 4 h target: at risk from 3 h 12 in.
    expect(atRiskFrom(at("10:00"), at("14:00"))).toBe(at("13:12"));
    // Rounded to the millisecond like Deadline::after: 0.2 × 1001 ms = 200.2 → 200.
    expect(atRiskFrom(0, 1001)).toBe(801);
  });

  it("is pending, then at risk, then breached, with the boundaries strict as in Rust", () => {
    const t = ackTimer(urgent())!;
    expect(timerState(t, at("10:11", 59))).toBe("pending");
    expect(timerState(t, at("10:12"))).toBe("pending");
    expect(timerState(t, at("10:12", 0, 1))).toBe("at_risk");
    expect(timerState(t, at("10:15"))).toBe("at_risk");
    expect(timerState(t, at("10:15", 0, 1))).toBe("breached");
  });

  it("stops at the acknowledgement: met on time, breached late, whatever the clock says", () => {
    expect(timerState(ackTimer(urgent({ acknowledgedAt: "2026-12-01T10:14:00Z" }))!, at("18:00"))).toBe("met");
    expect(timerState(ackTimer(urgent({ acknowledgedAt: "2026-12-01T10:16:00Z" }))!, at("10:20"))).toBe("breached");
    // A final status stops the acknowledgement timer too.
    expect(timerState(ackTimer(urgent({ finishedAt: "2026-12-01T10:05:00Z" }))!, at("12:00"))).toBe("met");
  });

  it("reads Rust's nanosecond timestamps", () => {
    const t: Timer = { which: "ack", start: "2026-12-01T10:00:00.123456789Z", due: "2026-12-01T10:15:00.123456789+00:00", done: null, stored: "pending" };
    expect(timerState(t, at("10:15", 0, 124))).toBe("breached");
    expect(timerState(t, at("10:15", 0, 123))).toBe("at_risk");
  });

  it("falls back on the stored state when the creation time is unknown", () => {
    const t: Timer = { which: "ack", start: null, due: "2026-12-01T10:15:00Z", done: null, stored: "at_risk" };
    expect(timerState(t, at("10:01"))).toBe("at_risk");
    expect(timerState({ ...t, stored: "pending" }, at("10:14"))).toBe("pending");
    expect(timerState(t, at("10:16"))).toBe("breached");
  });

  it("counts down acknowledgement until someone takes it, then resolution, nothing once final", () => {
    expect(runningTimer(urgent(), "open", at("10:05"))?.which).toBe("ack");
    expect(runningTimer(urgent({ acknowledgedAt: "2026-12-01T10:03:00Z" }), "assigned", at("10:05"))?.which).toBe("resolve");
    expect(runningTimer(urgent(), "resolved", at("10:05"))).toBeNull();
    expect(runningTimer(trackingOf({ createdAt: "2026-12-01T10:00:00Z" }), "open", at("10:05"))).toBeNull();
  });

  it("is overdue when a timer is breached and the request not final", () => {
    expect(isOverdue(urgent(), "open", at("10:14"))).toBe(false);
    expect(isOverdue(urgent(), "open", at("10:16"))).toBe(true);
    expect(isOverdue(urgent({ acknowledgedAt: "2026-12-01T10:10:00Z" }), "en_route", at("13:00"))).toBe(false);
    expect(isOverdue(urgent({ acknowledgedAt: "2026-12-01T10:10:00Z" }), "on_site", at("14:01"))).toBe(true);
    expect(isOverdue(urgent({ acknowledgedAt: "2026-12-01T10:20:00Z" }), "on_site", at("11:00"))).toBe(true);
    expect(isOverdue(urgent(), "cancelled", at("16:00"))).toBe(false);
  });

  it("times the seed's en-route promise of urgent calls: 2 h from creation", () => {
    const t = enRouteTimer(urgent(), "urgent")!;
    expect(t.due).toBe("2026-12-01T12:00:00.000Z");
    expect(timerState(t, at("11:30"))).toBe("pending");
    expect(timerState(t, at("11:40"))).toBe("at_risk");
    expect(timerState(enRouteTimer(urgent({ enRouteAt: "2026-12-01T11:50:00Z" }), "urgent")!, at("13:00"))).toBe("met");
    expect(enRouteTimer(urgent(), "medium")).toBeNull();
  });
});

describe("who may press Je prends", () => {
  const admin = { _id: "a1", role: "ADMIN" };
  const tech = { _id: "t1", role: "TECHNICIAN" };
  const open = { kind: "intervention", status: "open", assigneeId: null };
  const taken = urgent({ acknowledgedAt: "2026-12-01T10:03:00Z", acknowledgedBy: { _id: "a1", name: "Awa Ndiaye" } });

  it("staff on an intervention nobody took", () => {
    expect(canAcknowledge(admin, open, urgent())).toBe(true);
    expect(canAcknowledge(tech, open, urgent())).toBe(true);
    expect(canAcknowledge({ _id: "c1", role: "CLIENT" }, open, urgent())).toBe(false);
    expect(canAcknowledge(admin, { ...open, kind: "project" }, urgent())).toBe(false);
    for (const status of ["resolved", "closed", "cancelled"]) expect(canAcknowledge(admin, { ...open, status }, urgent())).toBe(false);
  });

  it("not once taken, except by its assignee who has not acknowledged the assignment", () => {
    expect(canAcknowledge(admin, open, taken)).toBe(false);
    const assigned = { kind: "intervention", status: "assigned", assigneeId: "t1" };
    const waiting = { ...taken, assignedAt: "2026-12-01T10:03:00Z", assignmentAcknowledgedAt: null };
    expect(canAcknowledge(tech, assigned, waiting)).toBe(true);
    expect(canAcknowledge({ _id: "t2", role: "TECHNICIAN" }, assigned, waiting)).toBe(false);
    expect(canAcknowledge(admin, assigned, waiting)).toBe(false);
    expect(canAcknowledge(tech, assigned, { ...waiting, assignmentAcknowledgedAt: "2026-12-01T10:04:00Z" })).toBe(false);
  });
});

describe("countdown text", () => {
  afterEach(() => setLanguage("fr"));

  it("formats spans: mm:ss under an hour, h mm, then days", () => {
    expect(formatSpan(14 * 60_000 + 5_000, "fr")).toBe("14:05");
    expect(formatSpan(14 * 60_000 + 5_000, "fr", false)).toBe("14 min");
    expect(formatSpan(45_000, "fr", false)).toBe("45 s");
    expect(formatSpan(3 * 3600_000 + 5 * 60_000, "fr")).toBe("3 h 05");
    expect(formatSpan(51 * 3600_000, "fr")).toBe("2 j 3 h");
    expect(formatSpan(51 * 3600_000, "en")).toBe("2 d 3 h");
    expect(formatSpan(-(5 * 60_000 + 30_000), "fr", false)).toBe("5 min");
    expect(formatSpan(4 * 3600_000, "fr", false)).toBe("4 h");
    expect(formatSpan(4 * 3600_000, "fr")).toBe("4 h 00");
    expect(formatSpan(72 * 3600_000, "fr", false)).toBe("3 j");
  });

  it("reads the tracking fields by their contract names, tolerating their absence", () => {
    expect(trackingOf({})).toEqual({ createdAt: null, acknowledgedAt: null, acknowledgedBy: null, assignedAt: null, assignmentAcknowledgedAt: null, enRouteAt: null, finishedAt: null, sla: null });
    expect(trackingOf({ acknowledgedByName: "Awa Ndiaye" }).acknowledgedBy?.name).toBe("Awa Ndiaye");
    expect(trackingOf({ sla: { ackDueAt: "x" } }).sla).toBeNull();
    expect(firstName("  Awa  Ndiaye ")).toBe("Awa");
  });

  it("ticks in place: the same element turns amber, then red", () => {
    const t = ackTimer(urgent())!;
    const el = countdownEl(t, at("10:05"), true, words);
    const host = document.createElement("div");
    host.append(el);
    expect(el.textContent).toBe("⏱ 10:00");
    expect(el.getAttribute("data-state")).toBe("pending");
    expect(el.getAttribute("aria-label")).toMatch(/^Prise en charge : reste 10 min \(échéance /);
    tick(host, at("10:13", 30), words);
    expect(host.firstChild).toBe(el);
    expect(el.textContent).toBe("⏱ 01:30");
    expect(el.className).toBe("countdown sla-at_risk");
    tick(host, at("10:20", 10), words);
    expect(el.textContent).toBe("Retard 5 min");
    expect(el.className).toBe("countdown sla-breached");
    setLanguage("en");
    tick(host, at("11:20"), words);
    expect(el.textContent).toBe("Late 1 h 05");
  });
});
