import { setLanguage } from "../i18n";
import { request } from "../testing/fixtures";
import { canAcknowledge, trackingOf } from "../tracking";
import { renderDetail } from "./detail";
import { rowChip } from "./sla";

const admin = { _id: "admin", name: "Admin", email: "admin@itvision.sn", role: "ADMIN" as const };
const tech = { _id: "t1", name: "Moussa Diop", email: "technicien@itvision.sn", role: "TECHNICIAN" as const };

/** An urgent intervention created 5 minutes ago (ack due in 10 min, resolve in 3 h 55). */
function intervention(over: Record<string, unknown> = {}) {
  const created = Date.now() - 5 * 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  return request({
    _id: "i1", kind: "intervention", ticketNumber: "INT-202612-0001", status: "open", priority: "urgent", title: "Caméras hors ligne",
    createdAt: iso(created), type: "urgent", serviceType: undefined, estimatedBudget: undefined, preferredStartDate: undefined, urgency: undefined,
    acknowledgedAt: null, acknowledgedBy: null, assignedAt: null, assignmentAcknowledgedAt: null, enRouteAt: null, finishedAt: null,
    sla: { ackDueAt: iso(created + 15 * 60_000), resolveDueAt: iso(created + 4 * 3600_000), ack: "pending", resolve: "pending" },
    ...over,
  });
}

/** The detail as the engine gives it: `canAcknowledge` from the core rule (the UI's copy). */
const detail = (r = intervention(), user: typeof admin | typeof tech = admin, onAcknowledge: () => void = () => undefined) =>
  renderDetail({ request: r, history: [], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: canAcknowledge(user, r, trackingOf(r)) }, user, { onAction: () => undefined, onSend: async () => true, onAcknowledge });

describe("ownership in the inbox row", () => {
  afterEach(() => setLanguage("fr"));

  it("counts down to the acknowledgement target while nobody took it", () => {
    const chip = rowChip(trackingOf(intervention()), "open", Date.now())!;
    const c = chip.querySelector("[data-testid=countdown]")!;
    expect(c.textContent).toMatch(/^⏱ (10:00|09:59)$/);
    expect(c.getAttribute("data-state")).toBe("pending");
    expect(c.getAttribute("role")).toBe("timer");
  });

  it("says who took it, by first name, with the full name and time in the tooltip", () => {
    const r = intervention({ acknowledgedAt: "2026-12-01T10:03:00Z", acknowledgedBy: { _id: "t2", name: "Awa Ndiaye" } });
    const chip = rowChip(trackingOf(r), "assigned", Date.now())!;
    const taken = chip.querySelector("[data-testid=taken-by]")!;
    expect(taken.textContent).toBe("Pris par Awa");
    expect(taken.getAttribute("title")).toContain("Awa Ndiaye");
    expect(chip.querySelector("[data-testid=countdown]")).toBeNull(); // resolution is far off
    setLanguage("en");
    expect(rowChip(trackingOf(r), "assigned", Date.now())!.textContent).toBe("Taken by Awa");
  });

  it("is red once the target is missed, and shows nothing for a final request", () => {
    const late = intervention({ createdAt: new Date(Date.now() - 20 * 60_000).toISOString(), sla: { ackDueAt: new Date(Date.now() - 5 * 60_000).toISOString(), resolveDueAt: new Date(Date.now() + 3600_000).toISOString(), ack: "breached", resolve: "pending" } });
    const c = rowChip(trackingOf(late), "open", Date.now())!.querySelector("[data-testid=countdown]")!;
    expect(c.className).toBe("countdown sla-breached");
    expect(c.textContent).toBe("Retard 5 min");
    expect(rowChip(trackingOf(late), "cancelled", Date.now())).toBeNull();
  });
});

describe("ownership in the detail pane", () => {
  it("offers Je prends to staff while nobody took it, and calls back only when pressed", () => {
    let calls = 0;
    const el = detail(intervention(), admin, () => calls++);
    const btn = el.querySelector<HTMLButtonElement>("[data-testid=acknowledge]")!;
    expect(btn.tagName).toBe("BUTTON");
    expect(btn.textContent).toContain("Je prends");
    expect(btn.title).toContain("rappels");
    expect(calls).toBe(0);
    btn.click();
    expect(calls).toBe(1);
    expect(el.querySelector("[data-testid=ack-nobody]")?.textContent).toBe("Personne n'a encore pris cette intervention");
    expect(el.querySelector("[data-testid=countdown-ack]")?.getAttribute("data-state")).toBe("pending");
  });

  it("shows who took it and when, without the button, once taken", () => {
    const r = intervention({ status: "assigned", acknowledgedAt: "2026-12-01T10:03:00Z", acknowledgedBy: { _id: "admin", name: "Awa Ndiaye" } });
    const el = detail(r);
    expect(el.querySelector("[data-testid=acknowledge]")).toBeNull();
    expect(el.querySelector("[data-testid=ack-by]")?.textContent?.replace(/[\u202f\u00a0]/g, " ")).toBe("Pris en charge par Awa Ndiaye le 1 déc. 2026, 10:03");
    expect(el.querySelector("[data-testid=sla-ack]")?.getAttribute("data-state")).toBe("met");
    expect(el.querySelector("[data-testid=countdown-resolve]")).not.toBeNull();
  });

  it("asks the assignee to acknowledge their assignment, and only them", () => {
    const r = intervention({
      status: "assigned", assigneeId: "t1", assigneeName: "Moussa Diop", assignedAt: "2026-12-01T10:03:00Z",
      acknowledgedAt: "2026-12-01T10:03:00Z", acknowledgedBy: { _id: "admin", name: "Admin" },
    });
    const mine = detail(r, tech);
    expect(mine.querySelector("[data-testid=acknowledge]")?.getAttribute("title")).toBe("Confirmer que vous prenez cette affectation");
    expect(mine.querySelector("[data-testid=assignment-pending]")?.textContent).toBe("Moussa Diop n'a pas encore confirmé son affectation");
    expect(detail(r, admin).querySelector("[data-testid=acknowledge]")).toBeNull();
    const acked = detail({ ...r, assignmentAcknowledgedAt: "2026-12-01T10:04:00Z" } as typeof r, tech);
    expect(acked.querySelector("[data-testid=acknowledge]")).toBeNull();
    expect(acked.querySelector("[data-testid=assignment-acked]")).not.toBeNull();
  });

  it("follows the engine's canAcknowledge, and never on a final status even if told so", () => {
    const withFlag = (r: ReturnType<typeof intervention>, flag: boolean) =>
      renderDetail({ request: r, history: [], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: flag }, admin, {
        onAction: () => undefined,
        onSend: async () => true,
        onAcknowledge: () => undefined,
      });
    expect(withFlag(intervention(), false).querySelector("[data-testid=acknowledge]")).toBeNull();
    expect(withFlag(intervention(), true).querySelector("[data-testid=acknowledge]")).not.toBeNull();
    expect(withFlag(intervention({ status: "closed" }), true).querySelector("[data-testid=acknowledge]")).toBeNull();
  });

  it("never offers it on a final status, a project, or without the callback", () => {
    expect(detail(intervention({ status: "resolved" })).querySelector("[data-testid=acknowledge]")).toBeNull();
    expect(detail(request()).querySelector("[data-testid=acknowledge]")).toBeNull();
    expect(detail(request()).querySelector("[data-testid=ownership]")).toBeNull();
    const none = renderDetail({ request: intervention(), history: [], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: true }, admin, { onAction: () => undefined, onSend: async () => true });
    expect(none.querySelector("[data-testid=acknowledge]")).toBeNull();
  });

  it("shows the targets and, for urgent calls, the en-route promise and when it happened", () => {
    const el = detail();
    const ack = el.querySelector("[data-testid=sla-ack]")!.textContent!;
    expect(ack).toContain("Prise en charge");
    expect(ack).toContain("objectif 15 min");
    expect(el.querySelector("[data-testid=sla-resolve]")!.textContent).toContain("objectif 4 h");
    const promise = el.querySelector("[data-testid=sla-enRoute]")!;
    expect(promise.textContent).toContain("Technicien en route < 2 h");
    expect(promise.querySelector("[data-testid=countdown-enRoute]")).not.toBeNull();

    const enRoute = new Date(Date.now() - 60_000).toISOString();
    const went = detail(intervention({ status: "en_route", enRouteAt: enRoute, acknowledgedAt: enRoute, acknowledgedBy: { _id: "t1", name: "Moussa Diop" } }));
    expect(went.querySelector("[data-testid=en-route-at]")?.textContent).toMatch(/^Technicien en route depuis le /);
    expect(went.querySelector("[data-testid=sla-enRoute]")?.textContent).toContain("promesse tenue");
    expect(detail(intervention({ priority: "medium" })).querySelector("[data-testid=sla-enRoute]")).toBeNull();
  });
});
