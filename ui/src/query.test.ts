import { defaultFilters, filtersKey, loadViewPrefs, mineFilters, saveViewPrefs, statusOptions, toInboxQuery, updateFilters } from "./query";

function memoryStorage(): Pick<Storage, "getItem" | "setItem"> & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe("query", () => {
  it("offers the statuses of the chosen kind, or all of them once", () => {
    expect(statusOptions("quote")).toEqual(["open", "in_progress", "sent", "accepted", "declined"]);
    const all = statusOptions(null);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain("pending");
    expect(all).toContain("en_route");
  });

  it("drops a status the new kind does not have, keeps one it has", () => {
    const f = updateFilters(defaultFilters(), { status: "en_route" });
    expect(updateFilters(f, { kind: "project" }).status).toBeNull();
    expect(updateFilters(f, { kind: "intervention" }).status).toBe("en_route");
  });

  it("keys filters by every field, ignoring surrounding spaces in the text", () => {
    const f = defaultFilters();
    expect(filtersKey({ ...f, text: " caméra " })).toBe(filtersKey({ ...f, text: "caméra" }));
    expect(filtersKey({ ...f, unreadOnly: true })).not.toBe(filtersKey(f));
    expect(filtersKey({ ...f, activeOnly: true })).not.toBe(filtersKey(f));
    expect(filtersKey({ ...f, sort: "priority" })).not.toBe(filtersKey(f));
    expect(filtersKey({ ...f, overdueOnly: true })).not.toBe(filtersKey(f));
  });

  it("builds the engine query with a window and no empty text", () => {
    expect(toInboxQuery({ ...defaultFilters(), text: "   " }, 200, 100)).toEqual({
      kind: null, status: null, priority: null, assignedToMe: false, unreadOnly: false, activeOnly: false, overdueOnly: false, sort: "updated", text: null, limit: 100, offset: 200,
    });
    expect(toInboxQuery({ ...defaultFilters(), overdueOnly: true }, 0, 50)).toMatchObject({ overdueOnly: true });
    expect(toInboxQuery({ ...defaultFilters(), text: " INT-2025 ", priority: "urgent" }, 0, 50)).toMatchObject({ text: "INT-2025", priority: "urgent" });
  });

  it("makes 'Mes interventions' my interventions still to do, oldest first", () => {
    expect(mineFilters()).toMatchObject({ kind: "intervention", assignedToMe: true, activeOnly: true, overdueOnly: false, sort: "oldest" });
  });

  it("remembers the sort and 'active only', and ignores what it does not know", () => {
    const store = memoryStorage();
    expect(loadViewPrefs(store)).toEqual({ sort: "updated", activeOnly: false });
    saveViewPrefs(store, { ...defaultFilters(), sort: "priority", activeOnly: true, text: "not kept" });
    expect(loadViewPrefs(store)).toEqual({ sort: "priority", activeOnly: true });
    expect([...store.data.values()].join()).not.toContain("not kept");
    store.setItem("itv.inbox.view", JSON.stringify({ sort: "random", activeOnly: "yes" }));
    expect(loadViewPrefs(store)).toEqual({ sort: "updated", activeOnly: false });
    store.setItem("itv.inbox.view", "{not json");
    expect(loadViewPrefs(store)).toEqual({ sort: "updated", activeOnly: false });
  });
});
