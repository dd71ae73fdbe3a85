//! Small inline SVG charts for the dashboard, written by hand (no chart library): grouped
//! vertical bars per week or per category, and horizontal bars per person. Each chart is an
//! image with a title and a text description; every bar carries its value in a `<title>`.
//! Colours come from classes (the CSP allows no inline style).
import { formatValue, niceMax, type Num, type Unit } from "../metrics";
import type { Language } from "../i18n";

const SVG = "http://www.w3.org/2000/svg";

type Attrs = Record<string, string | number>;

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<SVGElement | string | null>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) {
    if (c === null) continue;
    el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

export interface Series {
  name: string;
  values: Num[];
  /** `series-a`, `series-b`, `series-met`, `series-breached`…: the colour, from styles.css. */
  cls: string;
}

export interface ChartSpec {
  /** Unique in the page: ids of the title and description. */
  id: string;
  title: string;
  /** Read out after the title: what the chart says in words. */
  summary: string;
  labels: string[];
  series: Series[];
  unit: Unit;
  lang: Language;
  /** Top of the axis (1 for shares); otherwise a round number above the largest value. */
  max?: number;
  /** A horizontal line, e.g. the 2 h promise. */
  reference?: { value: number; label: string };
  /** Text for a missing value. */
  noData: string;
}

function frame(spec: ChartSpec, width: number, height: number): SVGSVGElement {
  return s(
    "svg",
    {
      class: "chart",
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-labelledby": `${spec.id}-title ${spec.id}-desc`,
      "data-testid": `chart-${spec.id}`,
    },
    s("title", { id: `${spec.id}-title` }, spec.title),
    s("desc", { id: `${spec.id}-desc` }, spec.summary),
  );
}

function top(spec: ChartSpec): number {
  if (spec.max !== undefined) return spec.max;
  const values = spec.series.flatMap((x) => x.values).filter((v): v is number => v !== null);
  return niceMax(Math.max(0, ...values, spec.reference?.value ?? 0));
}

/** Grouped vertical bars: one group per label, one bar per series. */
export function barChart(spec: ChartSpec): SVGSVGElement {
  const W = 560;
  const H = 200;
  const m = { left: 52, right: 8, top: 12, bottom: 26 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const svg = frame(spec, W, H);
  const max = top(spec);
  const y = (v: number) => m.top + plotH - (Math.min(v, max) / max) * plotH;
  const axis = s("g", { class: "axis", "aria-hidden": "true" });
  for (const v of [0, max / 2, max]) {
    axis.append(
      s("line", { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v), class: v === 0 ? "baseline" : "grid" }),
      s("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, formatValue(v, spec.unit, spec.lang)),
    );
  }
  svg.append(axis);
  const n = Math.max(1, spec.labels.length);
  const band = plotW / n;
  const groupW = band * 0.72;
  const barW = groupW / Math.max(1, spec.series.length);
  const bars = s("g", { class: "bars" });
  spec.labels.forEach((label, i) => {
    const x0 = m.left + i * band + (band - groupW) / 2;
    spec.series.forEach((series, j) => {
      const v = series.values[i] ?? null;
      const text = `${label} · ${series.name} : ${v === null ? spec.noData : formatValue(v, spec.unit, spec.lang)}`;
      if (v === null) {
        bars.append(s("text", { x: x0 + j * barW + barW / 2, y: y(0) - 3, "text-anchor": "middle", class: "nodata" }, s("title", {}, text), "–"));
        return;
      }
      const yv = y(v);
      bars.append(
        s("rect", { x: x0 + j * barW + 1, y: yv, width: Math.max(1, barW - 2), height: Math.max(0, y(0) - yv), class: series.cls, "data-value": v }, s("title", {}, text)),
      );
    });
    axis.append(s("text", { x: m.left + i * band + band / 2, y: H - 8, "text-anchor": "middle" }, label));
  });
  svg.append(bars);
  if (spec.reference && spec.reference.value <= max) {
    const yr = y(spec.reference.value);
    svg.append(
      s(
        "g",
        { class: "reference" },
        s("line", { x1: m.left, x2: W - m.right, y1: yr, y2: yr }),
        s("text", { x: W - m.right - 2, y: yr - 4, "text-anchor": "end" }, spec.reference.label),
      ),
    );
  }
  return svg;
}

/** Horizontal bars, one row per label (a person), one bar per series. */
export function hbarChart(spec: ChartSpec): SVGSVGElement {
  const W = 560;
  const rowH = 26;
  const m = { left: 150, right: 40, top: 6, bottom: 6 };
  const H = m.top + m.bottom + Math.max(1, spec.labels.length) * rowH;
  const svg = frame(spec, W, H);
  const max = top(spec);
  const plotW = W - m.left - m.right;
  const barH = (rowH - 8) / Math.max(1, spec.series.length);
  spec.labels.forEach((label, i) => {
    const y0 = m.top + i * rowH + 4;
    const short = label.length > 22 ? `${label.slice(0, 21)}…` : label;
    svg.append(s("text", { x: m.left - 8, y: y0 + (rowH - 8) / 2 + 4, "text-anchor": "end", class: "axis-label" }, s("title", {}, label), short));
    spec.series.forEach((series, j) => {
      const v = series.values[i] ?? null;
      const text = `${label} · ${series.name} : ${v === null ? spec.noData : formatValue(v, spec.unit, spec.lang)}`;
      const w = v === null ? 0 : (Math.min(v, max) / max) * plotW;
      const y = y0 + j * barH;
      svg.append(
        s("rect", { x: m.left, y, width: Math.max(v ? 1 : 0, w), height: Math.max(1, barH - 1), class: series.cls, "data-value": v ?? "" }, s("title", {}, text)),
        s("text", { x: m.left + w + 4, y: y + barH - 2, class: "value" }, v === null ? "–" : formatValue(v, spec.unit, spec.lang)),
      );
    });
  });
  return svg;
}
