// The app with issue 10's parts: Je prends, the countdowns ticking in place, En retard, the
// Tableau de bord.
import { adminSession, request } from "./testing/fixtures";
import { flush, mount, press } from "./testing/mount";

/** An urgent intervention created `agoMin` minutes ago (ack target 15 min, resolve 4 h). */
function urgent(id: string, agoMin: number, over: Record<string, unknown> = {}) {
  const created = Date.now() - agoMin * 60_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  return request({
    _id: id, kind: "intervention", status: "open", priority: "urgent", ticketNumber: `INT-202612-000${id.slice(-1)}`, title: `Urgence ${id}`,
    createdAt: iso(created), acknowledgedAt: null, acknowledgedBy: null, assignedAt: null, assignmentAcknowledgedAt: null, enRouteAt: null, finishedAt: null,
    sla: { ackDueAt: iso(created + 15 * 60_000), resolveDueAt: iso(created + 4 * 3600_000), ack: "pending", resolve: "pending" },
    ...over,
  });
}

describe("App — ownership and service levels", () => {
  afterEach(() => vi.useRealTimers());

  it("never acknowledges on a keyboard preview or on opening; only Je prends does", async () => {
    const { root, calls } = await mount({ requests: [urgent("i1", 5), urgent("i2", 2)] });
    press("j");
    press("j");
    press("k");
    press("ArrowDown");
    press("ArrowUp");
    await flush();
    expect(root.querySelector("[data-testid=detail]")?.getAttribute("data-id")).toBe("i1");
    document.body.focus();
    press("Enter"); // opens: marks read, focuses the first action (Je prends), does not press it
    await flush();
    expect(calls("markRead").length).toBe(1);
    expect(calls("acknowledge").length).toBe(0);
    expect((document.activeElement as HTMLElement | null)?.dataset.testid).toBe("acknowledge");
    // The number keys run the numbered actions, and Je prends has no number.
    expect(root.querySelector("[data-testid=acknowledge]")?.hasAttribute("data-key")).toBe(false);
    expect(calls("acknowledge").length).toBe(0);

    root.querySelector<HTMLButtonElement>("[data-testid=acknowledge]")!.click();
    await flush();
    expect(calls("acknowledge").map(([, a]) => a)).toEqual([["i1"]]);
    expect(document.querySelector("[data-testid=toast]")?.textContent).toBe("Intervention prise en charge");
    // Detail and list read again: the button is gone, the row says who took it.
    expect(root.querySelector("[data-testid=acknowledge]")).toBeNull();
    expect(root.querySelector("[data-testid=ack-by]")?.textContent).toContain("Pris en charge par Admin");
    expect(root.querySelector('[data-testid=row][data-id="i1"] [data-testid=taken-by]')?.textContent).toBe("Pris par Admin");
  });

  it("says who was first when someone else had taken it meanwhile", async () => {
    const r = urgent("i1", 5);
    const { root, ipc } = await mount({ requests: [r] });
    root.querySelector<HTMLElement>("[data-testid=row]")!.click();
    await flush();
    // Another desk took it between the render and the press: the server answers it unchanged.
    ipc.acknowledge = async () => ({ ...r, acknowledgedAt: "2026-12-01T10:04:00Z", acknowledgedBy: { _id: "t9", name: "Awa Ndiaye" } });
    root.querySelector<HTMLButtonElement>("[data-testid=acknowledge]")!.click();
    await flush();
    expect(document.querySelector("[data-testid=toast]")?.textContent).toBe("Déjà prise en charge par Awa Ndiaye");
  });

  it("shows a refusal of the acknowledgement as a message", async () => {
    const { root } = await mount({ requests: [urgent("i1", 5)], refuse: { code: "conflict", message: "cette intervention est terminée", fields: {} } });
    root.querySelector<HTMLElement>("[data-testid=row]")!.click();
    await flush();
    root.querySelector<HTMLButtonElement>("[data-testid=acknowledge]")!.click();
    await flush();
    expect(document.querySelector("[data-testid=toast]")?.textContent).toBe("Erreur : cette intervention est terminée");
  });

  it("ticks the countdowns every second in the same elements, without reloading the list", async () => {
    // Only the clock is fake: the app's one-second interval (and jsdom's animation frames) run.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-12-01T10:10:00Z"));
    const { root, calls } = await mount({ requests: [urgent("i1", 10)] });
    const c = root.querySelector<HTMLElement>('[data-testid=row][data-id="i1"] [data-testid=countdown]')!;
    expect(c.textContent).toBe("⏱ 05:00");
    expect(c.dataset.state).toBe("pending");
    // The row's createdAt starts its timer: it turns amber by itself, not from a later read.
    expect(c.dataset.start).toBe("2026-12-01T10:00:00.000Z");
    const pages = calls("inboxPage").length;
    const at = async (iso: string) => {
      vi.setSystemTime(new Date(iso));
      await new Promise((r) => setTimeout(r, 1100));
    };
    await at("2026-12-01T10:10:01Z");
    expect(c.textContent).toBe("⏱ 04:59");
    await at("2026-12-01T10:12:01Z");
    expect(c.textContent).toBe("⏱ 02:59");
    expect(c.dataset.state).toBe("at_risk");
    await at("2026-12-01T10:16:30Z");
    expect(c.textContent).toBe("Retard 1 min");
    expect(c.dataset.state).toBe("breached");
    expect(c.isConnected).toBe(true);
    expect(calls("inboxPage").length).toBe(pages);
  }, 10_000);

  it("asks the engine for overdue interventions only with En retard", async () => {
    const { root, calls } = await mount();
    const box = root.querySelector<HTMLInputElement>("[data-testid=filter-overdue]")!;
    expect(calls("inboxPage")[0][1][0]).toMatchObject({ overdueOnly: false });
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    await flush();
    expect(calls("inboxPage").at(-1)![1][0]).toMatchObject({ overdueOnly: true });
  });
});

describe("App — Tableau de bord", () => {
  const metrics = {
    success: true, from: "2026-09-14", to: "2026-12-01",
    notificationDelivery: { count: 2, p50Seconds: 0.4, p95Seconds: 1.2 }, projectValidation: null, urgentEnRoute: null,
    sla: [], openByTechnician: [{ _id: "t1", name: "Moussa Diop", open: 2, urgent: 1 }],
    weeks: [{ weekStart: "2026-11-30", created: 3, urgentEnRouteMedianMinutes: 40, under2hShare: 1, slaMetShare: 0.5, notificationP50Seconds: 0.3 }],
  };

  it("is an admin screen (tab and key t) asking for the last 12 weeks", async () => {
    const { root, calls } = await mount({ metrics });
    const tab = root.querySelector<HTMLButtonElement>("[data-testid=nav-dashboard]")!;
    expect(tab.textContent).toBe("Tableau de bord");
    press("t");
    await flush();
    expect(root.querySelector("[data-testid=nav-dashboard]")?.getAttribute("aria-current")).toBe("true");
    const [from, to] = calls("metrics")[0][1] as [string, string];
    expect(to).toBe(new Date().toISOString().slice(0, 10));
    expect(new Date(`${from}T00:00:00Z`).getUTCDay()).toBe(1);
    expect(root.querySelector("[data-testid=chart-enroute]")).not.toBeNull();
    expect(root.querySelector("[data-testid=figure-technicians] tbody th")?.textContent).toBe("Moussa Diop");
  });

  it("says why when the metrics cannot be read, and technicians have no dashboard", async () => {
    const { root } = await mount({ metrics: new Error("hors ligne") });
    press("t");
    await flush();
    expect(root.querySelector("[data-testid=dash-error]")?.textContent).toContain("hors ligne");
    const tech = await mount({ session: { ...adminSession, user: { ...adminSession.user, role: "TECHNICIAN" } } });
    expect(tech.root.querySelector("[data-testid=nav-dashboard]")).toBeNull();
    press("t");
    await flush();
    expect(tech.calls("metrics").length).toBe(0);
  });
});
