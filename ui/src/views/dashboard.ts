//! *Tableau de bord* (admins): the seed's promises measured by the server for a period (12 weeks
//! by default) — the period's figures as text, then a chart per week or per category, each
//! with its values in a table under it for those who do not read charts.
import { h } from "../dom";
import { label, language, t, type MessageKey } from "../i18n";
import { formatValue, share, weekLabel, type Metrics, type Num, type Unit, type WeekMetrics } from "../metrics";
import { barChart, hbarChart, type ChartSpec, type Series } from "./charts";

export interface DashboardState {
  from: string;
  to: string;
  metrics: Metrics | null;
  error: string | null;
}

const PRIORITY_ORDER = ["urgent", "high", "medium", "low"];

function tile(id: string, title: MessageKey, value: string, note: string | null): HTMLElement {
  return h(
    "div",
    { class: "tile", attrs: { "data-testid": `tile-${id}` } },
    h("h3", null, t(title)),
    h("p", { class: "big", attrs: { "data-testid": `tile-${id}-value` } }, value),
    note ? h("p", { class: "muted" }, note) : null,
  );
}

const countNote = (n: Num) => (n === null ? null : t("dash.count", { n }));

function table(caption: string, head: string[], rows: string[][]): HTMLElement {
  return h(
    "details",
    { class: "chart-data" },
    h("summary", null, t("dash.table")),
    h(
      "table",
      { class: "data" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", null, h("tr", null, ...head.map((x, i) => h("th", { attrs: { scope: "col", class: i ? "num" : "" } }, x)))),
      h("tbody", null, ...rows.map((r) => h("tr", null, ...r.map((x, i) => (i ? h("td", { class: "num" }, x) : h("th", { attrs: { scope: "row" } }, x)))))),
    ),
  );
}

/** A chart with its caption, its legend when it has several series, and its table. */
function figure(id: string, chart: SVGSVGElement, title: string, data: HTMLElement, series: Series[]): HTMLElement {
  const legend =
    series.length > 1
      ? h("ul", { class: "legend", attrs: { "aria-hidden": "true" } }, ...series.map((x) => h("li", null, h("span", { class: `swatch ${x.cls}` }), x.name)))
      : null;
  return h("figure", { class: "chart-card", attrs: { "data-testid": `figure-${id}` } }, h("figcaption", null, title), chart, legend, data);
}

/** A chart of one or more weekly series, with its table; null when the series are all empty. */
function weekly(id: string, title: MessageKey, weeks: WeekMetrics[], unit: Unit, series: Array<[MessageKey, (w: WeekMetrics) => Num, string]>, extra: Partial<ChartSpec> = {}): HTMLElement | null {
  const lang = language();
  const ss: Series[] = series.map(([name, get, cls]) => ({ name: t(name), values: weeks.map((w) => get(w) ?? null), cls }));
  const drawn = ss.filter((x, i) => i === 0 || x.values.some((v) => v !== null));
  if (!weeks.length) return null;
  const last = weeks.length - 1;
  const lastText = drawn.map((x) => (drawn.length > 1 ? `${x.name} ${formatValue(x.values[last], unit, lang)}` : formatValue(x.values[last], unit, lang))).join(", ");
  const spec: ChartSpec = {
    id,
    title: t(title),
    summary: t("dash.latest", { title: t(title), value: lastText }),
    labels: weeks.map((w) => weekLabel(w.weekStart)),
    series: drawn,
    unit,
    lang,
    noData: t("dash.noData"),
    ...extra,
  };
  const rows = weeks.map((w, i) => [weekLabel(w.weekStart), ...drawn.map((x) => formatValue(x.values[i], unit, lang))]);
  return figure(id, barChart(spec), t(title), table(t(title), [t("dash.week"), ...drawn.map((x) => x.name)], rows), drawn);
}

function slaChart(m: Metrics): HTMLElement | null {
  if (!m.sla.length) return null;
  const lang = language();
  const rows = [...m.sla].sort((a, b) => PRIORITY_ORDER.indexOf(a.priority) - PRIORITY_ORDER.indexOf(b.priority));
  const labels = rows.map((r) => label("priority", r.priority));
  const ack = rows.map((r) => share(r.ackMet, r.ackBreached));
  const resolve = rows.map((r) => share(r.resolveMet, r.resolveBreached));
  const title = t("dash.chart.sla");
  const spec: ChartSpec = {
    id: "sla",
    title,
    summary: `${title}. ${labels.map((l, i) => `${l} : ${t("dash.series.ack")} ${formatValue(ack[i], "share", lang)}, ${t("dash.series.resolve")} ${formatValue(resolve[i], "share", lang)}`).join(" ; ")}.`,
    labels,
    series: [
      { name: t("dash.series.ack"), values: ack, cls: "series-a" },
      { name: t("dash.series.resolve"), values: resolve, cls: "series-b" },
    ],
    unit: "share",
    lang,
    max: 1,
    noData: t("dash.noData"),
  };
  const n = (v: Num) => formatValue(v, "count", lang);
  const ackName = t("dash.series.ack");
  const resName = t("dash.series.resolve");
  return figure(
    "sla",
    barChart(spec),
    title,
    table(
      title,
      [t("dash.priority"), `${ackName} ${t("dash.met")}`, `${ackName} ${t("dash.breached")}`, `${resName} ${t("dash.met")}`, `${resName} ${t("dash.breached")}`],
      rows.map((r, i) => [labels[i], n(r.ackMet), n(r.ackBreached), n(r.resolveMet), n(r.resolveBreached)]),
    ),
    spec.series,
  );
}

function technicians(m: Metrics): HTMLElement {
  const title = t("dash.chart.technicians");
  const lang = language();
  const list = [...m.openByTechnician].sort((a, b) => (b.open ?? 0) - (a.open ?? 0));
  if (!list.length) return h("figure", { class: "chart-card", attrs: { "data-testid": "figure-technicians" } }, h("figcaption", null, title), h("p", { class: "muted" }, t("dash.noTechnicians")));
  const open = list.map((x) => x.open);
  const urgent = list.map((x) => x.urgent);
  const spec: ChartSpec = {
    id: "technicians",
    title,
    summary: `${title}. ${list.map((x) => `${x.name} : ${formatValue(x.open, "count", lang)} (${t("dash.series.urgent")} ${formatValue(x.urgent, "count", lang)})`).join(" ; ")}.`,
    labels: list.map((x) => x.name),
    series: [
      { name: t("dash.series.open"), values: open, cls: "series-a" },
      { name: t("dash.series.urgent"), values: urgent, cls: "series-urgent" },
    ],
    unit: "count",
    lang,
    noData: t("dash.noData"),
  };
  return figure(
    "technicians",
    hbarChart(spec),
    title,
    table(title, [t("dash.technician"), t("dash.series.open"), t("dash.series.urgent")], list.map((x) => [x.name, formatValue(x.open, "count", lang), formatValue(x.urgent, "count", lang)])),
    spec.series,
  );
}

/** The period's figures: tiles of text. */
function tiles(m: Metrics): HTMLElement {
  const lang = language();
  const nd = m.notificationDelivery;
  const pv = m.projectValidation;
  const ue = m.urgentEnRoute;
  const created = m.weeks.reduce<number | null>((a, w) => (w.created === null ? a : (a ?? 0) + w.created), null);
  return h(
    "section",
    { class: "tiles", attrs: { "aria-label": t("dash.title") } },
    tile("notification", "dash.notification", t("dash.notificationValue", { p50: formatValue(nd?.p50Seconds ?? null, "seconds", lang), p95: formatValue(nd?.p95Seconds ?? null, "seconds", lang) }), countNote(nd?.count ?? null)),
    tile("validation", "dash.validation", formatValue(pv?.medianHours ?? null, "hours", lang), countNote(pv?.count ?? null)),
    tile(
      "enroute",
      "dash.enRoute",
      formatValue(ue?.medianMinutes ?? null, "minutes", lang),
      [t("dash.under2h", { share: formatValue(ue?.under2hShare ?? null, "share", lang) }), countNote(ue?.count ?? null)].filter(Boolean).join(" · "),
    ),
    tile("created", "dash.created", formatValue(created, "count", lang), null),
  );
}

/** The whole screen for `st`; `onLoad(from, to)` asks for another period. */
export function dashboardView(st: DashboardState, onLoad: (from: string, to: string) => void): HTMLElement {
  const from = h("input", { type: "date", id: "dash-from", value: st.from, attrs: { "data-testid": "dash-from", required: "" } });
  const to = h("input", { type: "date", id: "dash-to", value: st.to, attrs: { "data-testid": "dash-to", required: "" } });
  const form = h(
    "form",
    { class: "dash-period", on: { submit: (e) => (e.preventDefault(), onLoad(from.value, to.value)) } },
    h("label", { attrs: { for: "dash-from" } }, t("dash.from")),
    from,
    h("label", { attrs: { for: "dash-to" } }, t("dash.to")),
    to,
    h("button", { class: "primary", type: "submit", attrs: { "data-testid": "dash-refresh" } }, t("dash.refresh")),
  );
  const head = h("div", { class: "dash-head" }, h("h2", null, t("dash.title")), form);
  const m = st.metrics;
  let body: Array<HTMLElement | null>;
  if (st.error) body = [h("p", { class: "error", attrs: { role: "alert", "data-testid": "dash-error" } }, t("dash.error", { message: st.error }))];
  else if (!m) body = [h("p", { class: "muted", attrs: { "data-testid": "dash-loading" } }, t("dash.loading"))];
  else {
    const w = m.weeks;
    body = [
      tiles(m),
      h(
        "div",
        { class: "charts" },
        weekly("created", "dash.chart.created", w, "count", [["dash.series.value", (x) => x.created, "series-a"]]),
        weekly("notification", "dash.chart.notification", w, "seconds", [
          ["dash.series.p50", (x) => x.notificationP50Seconds, "series-a"],
          ["dash.series.p95", (x) => x.notificationP95Seconds ?? null, "series-b"],
        ]),
        weekly("enroute", "dash.chart.enRoute", w, "minutes", [["dash.series.p50", (x) => x.urgentEnRouteMedianMinutes, "series-a"]], {
          reference: { value: 120, label: t("dash.promiseLine") },
        }),
        weekly("under2h", "dash.chart.under2h", w, "share", [["dash.series.value", (x) => x.under2hShare, "series-met"]], { max: 1 }),
        weekly("slaweek", "dash.chart.slaWeek", w, "share", [["dash.series.value", (x) => x.slaMetShare, "series-met"]], { max: 1 }),
        w.some((x) => x.projectValidationMedianHours != null)
          ? weekly("validation", "dash.chart.validation", w, "hours", [["dash.series.p50", (x) => x.projectValidationMedianHours ?? null, "series-a"]])
          : null,
        slaChart(m),
        technicians(m),
      ),
    ];
  }
  return h("section", { class: "dashboard", attrs: { "data-testid": "dashboard", "aria-busy": String(!m && !st.error) } }, head, ...body);
}
