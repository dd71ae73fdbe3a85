import { setLanguage } from "../i18n";
import { defaultPeriod, formatValue, niceMax, readMetrics, share } from "../metrics";
import { dashboardView } from "./dashboard";

const plain = (s: string | null | undefined) => (s ?? "").replace(/[\u202f\u00a0]/g, " ");

/** The contract's example, with 12 weeks (some without data). */
function sample() {
  const weeks = Array.from({ length: 12 }, (_, i) => {
    const d = new Date(Date.UTC(2026, 8, 14) + i * 7 * 86400_000).toISOString().slice(0, 10);
    const empty = i === 3;
    return {
      weekStart: d,
      created: empty ? 0 : i + 1,
      urgentEnRouteMedianMinutes: empty ? null : 30 + i * 10,
      under2hShare: empty ? null : i === 11 ? 1.0 : 0.5,
      slaMetShare: empty ? null : 0.8,
      notificationP50Seconds: empty ? null : 0.3,
    };
  });
  return {
    success: true,
    from: "2026-09-14",
    to: "2026-12-01",
    notificationDelivery: { count: 12, p50Seconds: 0.4, p95Seconds: 1.2 },
    projectValidation: { count: 3, medianHours: 5.5 },
    urgentEnRoute: { count: 4, medianMinutes: 42.0, under2hShare: 0.75 },
    sla: [
      { priority: "high", ackMet: 1, ackBreached: 1, resolveMet: 0, resolveBreached: 0 },
      { priority: "urgent", ackMet: 3, ackBreached: 1, resolveMet: 2, resolveBreached: 0 },
    ],
    openByTechnician: [
      { _id: "t1", name: "Moussa Diop", open: 3, urgent: 1 },
      { _id: "t2", name: "Awa Ndiaye", open: 5, urgent: 0 },
    ],
    weeks,
  };
}

const view = (raw: unknown = sample(), onLoad: (f: string, t: string) => void = () => undefined) =>
  dashboardView({ from: "2026-09-14", to: "2026-12-01", metrics: readMetrics(raw), error: null }, onLoad);

describe("metrics", () => {
  it("asks for the last 12 ISO weeks by default, Monday first", () => {
    // Tuesday 1 December 2026 → Monday 14 September (12 weeks: 14/09 … 30/11).
    expect(defaultPeriod(new Date("2026-12-01T23:30:00Z"))).toEqual({ from: "2026-09-14", to: "2026-12-01" });
    // On a Monday the current week counts as the 12th.
    expect(defaultPeriod(new Date("2026-11-30T08:00:00Z"))).toEqual({ from: "2026-09-14", to: "2026-11-30" });
    // Sunday.
    expect(defaultPeriod(new Date("2026-12-06T08:00:00Z")).from).toBe("2026-09-14");
  });

  it("reads a partial or odd answer without throwing", () => {
    const m = readMetrics({ weeks: [{ weekStart: "2026-11-30", created: "x" }], sla: "nope" });
    expect(m.notificationDelivery).toBeNull();
    expect(m.sla).toEqual([]);
    expect(m.weeks[0].created).toBeNull();
    expect(readMetrics(null).weeks).toEqual([]);
  });

  it("formats values with their unit and rounds axes", () => {
    expect(plain(formatValue(0.4, "seconds", "fr"))).toBe("400 ms");
    expect(plain(formatValue(0.0004, "seconds", "fr"))).toBe("1 ms");
    expect(plain(formatValue(0.25, "hours", "fr"))).toBe("15 min");
    expect(formatValue(1.25, "seconds", "en")).toBe("1.25 s");
    expect(formatValue(42, "minutes", "fr")).toBe("42 min");
    expect(plain(formatValue(5.5, "hours", "fr"))).toBe("5,5 h");
    expect(plain(formatValue(0.75, "share", "fr"))).toBe("75 %");
    expect(formatValue(null, "share", "fr")).toBe("—");
    expect(share(3, 1)).toBe(0.75);
    expect(share(0, 0)).toBeNull();
    expect([niceMax(0), niceMax(7), niceMax(130), niceMax(0.4)]).toEqual([1, 10, 200, 0.5]);
  });
});

describe("Tableau de bord", () => {
  afterEach(() => setLanguage("fr"));

  it("gives the period's figures as text", () => {
    const el = view();
    expect(plain(el.querySelector("[data-testid=tile-notification-value]")?.textContent)).toBe("p50 400 ms · p95 1,2 s");
    expect(plain(el.querySelector("[data-testid=tile-validation-value]")?.textContent)).toBe("5,5 h");
    expect(el.querySelector("[data-testid=tile-enroute-value]")?.textContent).toBe("42 min");
    expect(plain(el.querySelector("[data-testid=tile-enroute]")?.textContent)).toContain("75 % en route en moins de 2 h");
    expect(el.querySelector("[data-testid=tile-created-value]")?.textContent).toBe("74");
  });

  it("draws a chart per week for the last 12 weeks, each an image with a title and a description", () => {
    const el = view();
    for (const id of ["created", "notification", "enroute", "under2h", "slaweek", "sla", "technicians"]) {
      const svg = el.querySelector(`[data-testid=chart-${id}]`);
      expect(svg, id).not.toBeNull();
      expect(svg!.getAttribute("role")).toBe("img");
      const [titleId, descId] = svg!.getAttribute("aria-labelledby")!.split(" ");
      expect(svg!.querySelector(`title[id="${titleId}"]`)?.textContent, id).toBeTruthy();
      expect(svg!.querySelector(`desc[id="${descId}"]`)?.textContent, id).toBeTruthy();
    }
    const enroute = el.querySelector("[data-testid=chart-enroute]")!;
    // 11 weeks with a value, one without (a dash, not a zero-height bar).
    expect(enroute.querySelectorAll("rect").length).toBe(11);
    expect(enroute.querySelectorAll(".nodata").length).toBe(1);
    expect(enroute.querySelector(".reference text")?.textContent).toBe("promesse 2 h");
    expect(enroute.querySelector("desc")?.textContent).toBe("Urgence → en route, médiane par semaine (minutes). Dernière semaine : 140 min.");
    expect(enroute.querySelector("rect title")?.textContent).toBe("14/09 · médiane (p50) : 30 min");
    // Only the series the server sends are drawn: no p95 per week in the contract.
    expect(el.querySelector("[data-testid=figure-notification] .legend")).toBeNull();
    expect(el.querySelector("[data-testid=figure-validation]")).toBeNull();
  });

  it("has a table of the values under every chart", () => {
    const el = view();
    const rows = el.querySelectorAll("[data-testid=figure-under2h] table tbody tr");
    expect(rows.length).toBe(12);
    expect(plain(rows[11].textContent)).toBe("30/11100 %");
    expect(rows[3].querySelector("td")?.textContent).toBe("—");
    const sla = [...el.querySelectorAll("[data-testid=figure-sla] tbody tr")].map((r) => [...r.children].map((c) => c.textContent));
    expect(sla).toEqual([
      ["Urgente", "3", "1", "2", "0"],
      ["Haute", "1", "1", "0", "0"],
    ]);
    const techs = [...el.querySelectorAll("[data-testid=figure-technicians] tbody th")].map((c) => c.textContent);
    expect(techs).toEqual(["Awa Ndiaye", "Moussa Diop"]);
  });

  it("keeps charts inside their axis and draws bars proportional to the values", () => {
    const el = view();
    const bars = [...el.querySelectorAll<SVGRectElement>("[data-testid=chart-technicians] rect")];
    const width = (v: string) => Number(bars.find((b) => b.getAttribute("data-value") === v)!.getAttribute("width"));
    expect(width("5") / width("1")).toBeCloseTo(5, 5);
    for (const r of el.querySelectorAll("[data-testid=chart-under2h] rect")) {
      expect(Number(r.getAttribute("y"))).toBeGreaterThanOrEqual(12);
    }
  });

  it("speaks English", () => {
    setLanguage("en");
    const el = view();
    expect(el.querySelector("h2")?.textContent).toBe("Dashboard");
    expect(el.querySelector("[data-testid=figure-technicians] figcaption")?.textContent).toBe("Open work per technician");
    expect(el.querySelector("[data-testid=tile-enroute]")?.textContent).toContain("75% on the way within 2 h");
  });

  it("says when there is nothing, loading or an error, and asks for another period", () => {
    const empty = view({ success: true, from: "2026-09-14", to: "2026-12-01", sla: [], openByTechnician: [], weeks: [] });
    expect(empty.querySelector("[data-testid=tile-notification-value]")?.textContent).toBe("p50 — · p95 —");
    expect(empty.querySelector("[data-testid=figure-technicians]")?.textContent).toContain("Aucun travail en cours");
    expect(empty.querySelector("svg")).toBeNull();
    expect(dashboardView({ from: "a", to: "b", metrics: null, error: null }, () => undefined).querySelector("[data-testid=dash-loading]")).not.toBeNull();
    const err = dashboardView({ from: "a", to: "b", metrics: null, error: "hors ligne" }, () => undefined);
    expect(err.querySelector("[role=alert]")?.textContent).toBe("Impossible de lire les métriques : hors ligne");

    const asked: string[][] = [];
    const el = view(sample(), (f, t) => asked.push([f, t]));
    document.body.replaceChildren(el);
    const from = el.querySelector<HTMLInputElement>("[data-testid=dash-from]")!;
    expect(from.labels![0].textContent).toBe("Du");
    from.value = "2026-10-05";
    el.querySelector("form")!.requestSubmit();
    expect(asked).toEqual([["2026-10-05", "2026-12-01"]]);
  });
});
