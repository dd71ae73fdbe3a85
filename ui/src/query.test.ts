import { defaultQuery, isFiltered, mineQuery, queryKey, statusOptions, updateQuery } from "./query";

describe("query", () => {
  it("starts unfiltered with urgent first", () => {
    const q = defaultQuery();
    expect(q.urgentFirst).toBe(true);
    expect(isFiltered(q)).toBe(false);
  });

  it("offers the statuses of the chosen kind, or all of them once", () => {
    expect(statusOptions("quote")).toEqual(["open", "in_progress", "sent", "accepted", "declined"]);
    const all = statusOptions(null);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain("pending");
    expect(all).toContain("en_route");
  });

  it("drops a status the new kind does not have, keeps one it has", () => {
    const q = updateQuery(defaultQuery(), { status: "en_route" });
    expect(updateQuery(q, { kind: "project" }).status).toBeNull();
    expect(updateQuery(q, { kind: "intervention" }).status).toBe("en_route");
  });

  it("keys queries by every filter, ignoring surrounding spaces in the text", () => {
    const q = defaultQuery();
    expect(queryKey({ ...q, text: " caméra " })).toBe(queryKey({ ...q, text: "caméra" }));
    expect(queryKey({ ...q, unreadOnly: true })).not.toBe(queryKey(q));
    expect(isFiltered({ ...q, priority: "urgent" })).toBe(true);
  });

  it("makes 'Mes interventions' my open interventions, urgent first", () => {
    expect(mineQuery()).toMatchObject({ kind: "intervention", assignedToMe: true, openOnly: true, urgentFirst: true });
  });
});
