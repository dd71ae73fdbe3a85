import type { InboxItem } from "./bindings/InboxItem";
import { PageCache, scrollToReveal, visibleRange } from "./virtual";

function row(i: number, tag = ""): InboxItem {
  return {
    id: `r${i}${tag}`, kind: "intervention", ticketNumber: `INT-202511-${String(i).padStart(4, "0")}`, title: `t${i}`,
    status: "open", priority: "medium", clientName: "c", assigneeId: null, assigneeName: null, site: "s", createdAt: "2025-11-19T09:00:00Z", updatedAt: "2025-11-19T10:00:00Z", unread: false,
    acknowledgedByName: null, acknowledgedAt: null, sla: null, dueAt: null,
  };
}

function fakeLoader(total: number, tag = "") {
  const calls: number[] = [];
  const loader = async (offset: number, limit: number) => {
    calls.push(offset);
    const rows = [];
    for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push(row(i, tag));
    return { total: BigInt(total), offset, items: rows };
  };
  return { loader, calls };
}

describe("visibleRange", () => {
  it("renders only the rows in view plus overscan, even for 100,000 rows", () => {
    const r = visibleRange(58 * 50_000, 580, 58, 100_000, 5);
    expect(r).toEqual({ start: 49_995, end: 50_016 });
    expect(r.end - r.start).toBeLessThan(30);
  });

  it("clamps at both ends and handles an empty list", () => {
    expect(visibleRange(0, 580, 58, 100_000, 5).start).toBe(0);
    expect(visibleRange(58 * 100_000, 580, 58, 100_000, 5).end).toBe(100_000);
    expect(visibleRange(0, 580, 58, 3, 5)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(100, 580, 58, 0)).toEqual({ start: 0, end: 0 });
  });

  it("scrolls only as far as needed to reveal a row", () => {
    expect(scrollToReveal(5, 0, 580, 58)).toBeNull();
    expect(scrollToReveal(10, 0, 580, 58)).toBe(58 * 11 - 580);
    expect(scrollToReveal(2, 58 * 5, 580, 58)).toBe(116);
  });
});

describe("PageCache", () => {
  it("loads each needed page once and serves rows by index", async () => {
    const { loader, calls } = fakeLoader(1000);
    const c = new PageCache(loader, 100);
    expect(await c.ensure(150, 260)).toBe(true);
    expect(calls).toEqual([100, 200]);
    expect(c.total).toBe(1000);
    expect(c.row(250)?.id).toBe("r250");
    expect(c.row(50)).toBeUndefined();
    expect(await c.ensure(120, 180)).toBe(false);
    expect(calls).toEqual([100, 200]);
    expect(c.indexOf("r199")).toBe(199);
  });

  it("shares a load in flight", async () => {
    const { loader, calls } = fakeLoader(1000);
    const c = new PageCache(loader, 100);
    await Promise.all([c.ensure(0, 10), c.ensure(5, 20)]);
    expect(calls).toEqual([0]);
  });

  it("keeps at most maxPages, dropping the least recently used", async () => {
    const { loader } = fakeLoader(100_000);
    const c = new PageCache(loader, 100, 3);
    await c.ensure(0, 1);
    await c.ensure(100, 101);
    await c.ensure(200, 201);
    await c.ensure(0, 1); // touch page 0
    await c.ensure(300, 301);
    expect(c.pageCount).toBe(3);
    expect(c.row(0)).toBeDefined();
    expect(c.row(100)).toBeUndefined();
  });

  it("shows the old rows after invalidation until the fresh page arrives", async () => {
    let tag = "";
    const c = new PageCache((o, l) => fakeLoader(500, tag).loader(o, l), 100);
    await c.ensure(0, 10);
    tag = "-new";
    c.invalidate();
    expect(c.row(3)?.id).toBe("r3");
    await c.ensure(0, 10);
    expect(c.row(3)?.id).toBe("r3-new");
  });

  it("ignores a page that arrives for a query that was replaced", async () => {
    let release: () => void = () => undefined;
    const slow = (offset: number, limit: number) =>
      new Promise<{ items: InboxItem[]; total: number }>((res) => {
        release = () => res({ total: 9 + offset, items: [row(0, "-old")].slice(0, limit) });
      });
    const c = new PageCache(slow, 100);
    const pending = c.ensure(0, 1);
    c.reset(fakeLoader(2, "-fresh").loader);
    release();
    await pending;
    expect(c.row(0)).toBeUndefined();
    await c.ensure(0, 1);
    expect(c.total).toBe(2);
    expect(c.row(0)?.id).toBe("r0-fresh");
  });
});
