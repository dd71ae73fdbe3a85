//! The virtualised list's arithmetic and its page cache: only the rows on screen exist in the DOM,
//! and rows are fetched from the engine's SQLite inbox query one page at a time.
import type { InboxItem } from "./bindings/InboxItem";

export interface Range {
  start: number;
  end: number; // exclusive
}

/** Rows to render for a viewport, with `overscan` extra rows above and below. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan = 6,
): Range {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(first - overscan, total - 1));
  const end = Math.min(total, first + count + overscan);
  return { start, end: Math.max(start, end) };
}

/** The scrollTop that brings row `index` into view, or null when it already is. */
export function scrollToReveal(
  index: number,
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
): number | null {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight;
  return null;
}

/** Loads rows [offset, offset + limit) and the total matching; totals may come as bigint-typed numbers. */
export type PageLoader = (offset: number, limit: number) => Promise<{ items: InboxItem[]; total: number | bigint }>;

/** Pages of rows keyed by page number; keeps at most `maxPages`, dropping the least recently used. */
export class PageCache {
  private pages = new Map<number, InboxItem[]>();
  /** Pages from before the last invalidation, shown until their fresh copy arrives (no flicker). */
  private stale = new Map<number, InboxItem[]>();
  private inflight = new Map<number, Promise<void>>();
  private generation = 0;
  total = 0;
  loaded = false;

  constructor(
    private loader: PageLoader,
    readonly pageSize = 100,
    private maxPages = 40,
  ) {}

  row(index: number): InboxItem | undefined {
    if (index < 0 || index >= this.total) return undefined;
    const n = Math.floor(index / this.pageSize);
    const page = this.pages.get(n) ?? this.stale.get(n);
    if (!page) return undefined;
    return page[index % this.pageSize];
  }

  /** Index of the row with this id among the loaded pages, or -1. */
  indexOf(id: string): number {
    for (const [n, rows] of this.pages) {
      const i = rows.findIndex((r) => r.id === id);
      if (i >= 0) return n * this.pageSize + i;
    }
    return -1;
  }

  /** Loads the pages covering [start, end); resolves true when something new arrived. */
  async ensure(start: number, end: number): Promise<boolean> {
    const first = Math.floor(start / this.pageSize);
    const last = Math.floor(Math.max(start, end - 1) / this.pageSize);
    const waits: Promise<void>[] = [];
    for (let n = first; n <= last; n++) {
      if (this.pages.has(n)) {
        const rows = this.pages.get(n)!;
        this.pages.delete(n); // refresh its place in the LRU order
        this.pages.set(n, rows);
        continue;
      }
      waits.push(this.load(n));
    }
    if (waits.length === 0) return false;
    await Promise.all(waits);
    return true;
  }

  private load(n: number): Promise<void> {
    const existing = this.inflight.get(n);
    if (existing) return existing;
    const gen = this.generation;
    const p = this.loader(n * this.pageSize, this.pageSize)
      .then((page) => {
        if (gen !== this.generation) return;
        this.total = Number(page.total);
        this.loaded = true;
        this.pages.set(n, page.items);
        this.stale.delete(n);
        while (this.pages.size > this.maxPages) {
          const oldest = this.pages.keys().next().value as number;
          this.pages.delete(oldest);
        }
      })
      .finally(() => {
        if (this.inflight.get(n) === p) this.inflight.delete(n);
      });
    this.inflight.set(n, p);
    return p;
  }

  /** Forgets every page (the data or the query changed); the total stays until the next load. */
  invalidate(): void {
    this.generation++;
    for (const [n, rows] of this.pages) this.stale.set(n, rows);
    this.pages.clear();
    this.inflight.clear();
  }

  /** Replaces the loader (a new query) and forgets everything. */
  reset(loader: PageLoader): void {
    this.loader = loader;
    this.invalidate();
    this.stale.clear();
    this.total = 0;
    this.loaded = false;
  }

  get pageCount(): number {
    return this.pages.size;
  }
}
