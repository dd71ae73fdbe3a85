//! The virtualised request list: a tall spacer and only the visible rows, absolutely placed.
import type { InboxItem } from "../bindings/InboxItem";
import { h, replace } from "../dom";
import { formatShort } from "../format";
import { label, language, t } from "../i18n";
import { PageCache, scrollToReveal, visibleRange } from "../virtual";
import { trackingOf } from "../tracking";
import { rowChip } from "./sla";

export const ROW_HEIGHT = 58;

export interface ListCallbacks {
  onSelect(index: number, row: InboxItem | undefined): void;
  onOpen(index: number, row: InboxItem): void;
  /** Extra controls at the end of a row ("Mes interventions" puts its next-step button there). */
  rowExtra?(row: InboxItem): HTMLElement | null;
  /** Called once, when the first rows are on screen. */
  onFirstPaint?(): void;
}

export class VirtualList {
  readonly el: HTMLElement;
  private spacer: HTMLElement;
  private countEl: HTMLElement;
  private selected = -1;
  private frame = 0;
  private painted = false;

  constructor(
    readonly cache: PageCache,
    private cb: ListCallbacks,
  ) {
    this.spacer = h("div", { class: "spacer" });
    this.el = h("div", {
      class: "list",
      tabIndex: 0,
      attrs: { role: "listbox", "aria-label": t("nav.inbox"), "data-testid": "list" },
      on: { scroll: () => this.schedule() },
    }, this.spacer);
    this.countEl = h("div", { class: "count", attrs: { "data-testid": "count" } });
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  get countElement(): HTMLElement {
    return this.countEl;
  }

  get selectedIndex(): number {
    return this.selected;
  }

  select(index: number, reveal = true): void {
    this.selected = index;
    if (reveal && index >= 0) {
      const top = scrollToReveal(index, this.el.scrollTop, this.el.clientHeight, ROW_HEIGHT);
      if (top !== null) this.el.scrollTop = top;
    }
    this.render();
  }

  /** Reloads the visible pages (data changed) or everything (query changed). */
  refresh(): void {
    this.cache.invalidate();
    this.schedule();
  }

  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
      const range = this.range();
      const want = this.cache.loaded ? range : { start: 0, end: Math.max(range.end, 50) };
      void this.cache.ensure(want.start, want.end).then((fresh) => {
        if (fresh) this.render();
      });
    });
  }

  private range() {
    return visibleRange(this.el.scrollTop, this.el.clientHeight || 600, ROW_HEIGHT, this.cache.total);
  }

  render(): void {
    const total = this.cache.total;
    this.spacer.style.height = `${total * ROW_HEIGHT}px`;
    replace(this.countEl, !this.cache.loaded ? "" : total === 1 ? t("list.countOne") : t("list.count", { n: total.toLocaleString(language() === "fr" ? "fr-SN" : "en") }));
    const { start, end } = this.range();
    const rows: HTMLElement[] = [];
    for (let i = start; i < end; i++) {
      const row = this.cache.row(i);
      const el = row ? this.rowEl(i, row) : h("div", { class: "row loading" }, "…");
      el.style.top = `${i * ROW_HEIGHT}px`; // CSSOM, not a style attribute: the CSP forbids inline styles
      rows.push(el);
    }
    if (this.cache.loaded && total === 0) rows.push(h("div", { class: "empty" }, t("list.empty")));
    replace(this.spacer, ...rows);
    if (!this.painted && this.cache.loaded) {
      this.painted = true;
      this.cb.onFirstPaint?.();
    }
  }

  private rowEl(i: number, r: InboxItem): HTMLElement {
    const lang = language();
    const classes = ["row", `prio-${r.priority}`];
    if (r.unread) classes.push("unread");
    if (i === this.selected) classes.push("selected");
    return h(
      "div",
      {
        class: classes.join(" "),
        attrs: {
          role: "option",
          "aria-selected": String(i === this.selected),
          "data-id": r.id,
          "data-index": String(i),
          "data-testid": "row",
        },
        on: {
          click: () => this.cb.onSelect(i, r),
          dblclick: () => this.cb.onOpen(i, r),
        },
      },
      h("span", { class: "unread-dot", title: r.unread ? t("list.unread") : undefined }),
      h(
        "div",
        { class: "main" },
        h(
          "div",
          { class: "line1" },
          h("span", { class: `badge kind-${r.kind}` }, label("kind", r.kind)),
          h("span", { class: "ticket", attrs: { "data-testid": "ticket" } }, r.ticketNumber ?? ""),
          h("span", { class: "title" }, r.title),
        ),
        h(
          "div",
          { class: "line2" },
          h("span", { class: `prio prio-${r.priority}` }, label("priority", r.priority)),
          h("span", { class: "status" }, label("status", r.status)),
          r.kind === "intervention" ? rowChip(trackingOf(r), r.status, Date.now()) : null,
          h("span", { class: "client" }, r.clientName),
          h("span", { class: "assignee" }, r.assigneeName ?? (r.kind === "intervention" ? t("list.unassigned") : "")),
        ),
      ),
      h("span", { class: "time" }, formatShort(r.updatedAt, new Date(), lang)),
      this.cb.rowExtra?.(r) ?? null,
    );
  }
}
