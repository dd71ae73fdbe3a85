import { availableActions, nextInterventionStep, toEngineAction } from "./actions";

const admin = { _id: "a", role: "ADMIN" as const };
const tech = { _id: "t", role: "TECHNICIAN" as const };
const client = { _id: "c", role: "CLIENT" as const };
const kinds = (xs: ReturnType<typeof availableActions>) => xs.map((a) => (a.type === "status" ? `status:${a.status}` : a.type));

describe("actions", () => {
  it("lets an admin validate or reject a pending project, then complete it", () => {
    expect(kinds(availableActions(admin, { kind: "project", status: "pending", assigneeId: null }))).toEqual(["validate", "reject"]);
    expect(kinds(availableActions(admin, { kind: "project", status: "active", assigneeId: null }))).toEqual(["status:completed"]);
    expect(availableActions(admin, { kind: "project", status: "rejected", assigneeId: null })).toEqual([]);
    expect(availableActions(tech, { kind: "project", status: "pending", assigneeId: null })).toEqual([]);
  });

  it("lets an admin assign, step, close and cancel interventions", () => {
    expect(kinds(availableActions(admin, { kind: "intervention", status: "open", assigneeId: null }))).toEqual(["assign", "status:cancelled"]);
    expect(kinds(availableActions(admin, { kind: "intervention", status: "assigned", assigneeId: "t" }))).toEqual(["status:en_route", "assign", "status:cancelled"]);
    expect(kinds(availableActions(admin, { kind: "intervention", status: "resolved", assigneeId: "t" }))).toEqual(["status:closed"]);
    expect(availableActions(admin, { kind: "intervention", status: "closed", assigneeId: "t" })).toEqual([]);
  });

  it("lets a technician step only their own interventions, one step at a time", () => {
    expect(kinds(availableActions(tech, { kind: "intervention", status: "en_route", assigneeId: "t" }))).toEqual(["status:on_site"]);
    expect(availableActions(tech, { kind: "intervention", status: "en_route", assigneeId: "other" })).toEqual([]);
    expect(availableActions(tech, { kind: "intervention", status: "resolved", assigneeId: "t" })).toEqual([]);
  });

  it("lets an admin prepare, edit and send a quote, and offers clients nothing here", () => {
    const quote = (status: string) => ({ kind: "quote" as const, status, assigneeId: null });
    expect(availableActions(admin, quote("open"))).toEqual([{ type: "prepareQuote", labelKey: "action.prepareQuote" }]);
    expect(kinds(availableActions(admin, quote("in_progress")))).toEqual(["prepareQuote"]);
    expect(availableActions(admin, quote("in_progress"), true)).toEqual([
      { type: "prepareQuote", labelKey: "action.editQuote" },
      { type: "sendQuote", labelKey: "action.sendQuote" },
    ]);
    expect(availableActions(admin, quote("sent"), true)).toEqual([]);
    expect(availableActions(client, quote("open"))).toEqual([]);
    expect(toEngineAction({ type: "sendQuote", labelKey: "action.sendQuote" }, "q1")).toEqual({ type: "sendQuote", requestId: "q1" });
    expect(toEngineAction({ type: "prepareQuote", labelKey: "action.prepareQuote" }, "q1")).toBeNull();
  });

  it("walks the technician's steps in order", () => {
    expect(nextInterventionStep("assigned")).toBe("en_route");
    expect(nextInterventionStep("en_route")).toBe("on_site");
    expect(nextInterventionStep("on_site")).toBe("resolved");
    expect(nextInterventionStep("resolved")).toBeNull();
    expect(nextInterventionStep("open")).toBeNull();
  });

  it("turns UI actions into engine actions, refusing a missing reason or technician", () => {
    expect(toEngineAction({ type: "validate", labelKey: "action.validate" }, "p1")).toEqual({ type: "validateProject", requestId: "p1" });
    expect(toEngineAction({ type: "reject", labelKey: "action.reject" }, "p1", "Hors zone")).toEqual({ type: "rejectProject", requestId: "p1", reason: "Hors zone" });
    expect(toEngineAction({ type: "reject", labelKey: "action.reject" }, "p1", null)).toBeNull();
    expect(toEngineAction({ type: "assign", labelKey: "action.assign" }, "i1", "t9")).toEqual({ type: "assign", requestId: "i1", technicianId: "t9" });
    expect(toEngineAction({ type: "status", status: "en_route", labelKey: "action.step" }, "i1")).toEqual({ type: "setStatus", requestId: "i1", status: "en_route", reason: null });
  });
});
