import type { Session } from "./bindings/Session";
import { activeFilters, initialState, initialStatus, reduce, reduceStatus, Store } from "./state";

const session = (role: "ADMIN" | "TECHNICIAN"): Session => ({
  serverUrl: "http://127.0.0.1:8080",
  user: { _id: "u", name: "N", email: "n@itvision.sn", role },
  secretStorage: { kind: "keyring" },
});
const NOW = "2025-11-19T10:00:00Z";

describe("state", () => {
  it("sends technicians to 'Mes interventions' and admins to the inbox", () => {
    expect(reduce(initialState(), { type: "signedIn", session: session("TECHNICIAN") }).screen).toBe("mine");
    const s = reduce(initialState(), { type: "signedIn", session: session("ADMIN") });
    expect(s.screen).toBe("inbox");
    expect(s.phase).toBe("ready");
  });

  it("shows the sign-in form with the error after a failure", () => {
    const s = reduce(initialState(), { type: "signInFailed", error: "Email ou mot de passe incorrect" });
    expect(s.phase).toBe("signin");
    expect(s.signInError).toBe("Email ou mot de passe incorrect");
  });

  it("forgets the session on sign-out (also when the engine says so) but keeps the settings", () => {
    let s = reduce(initialState(), { type: "signedIn", session: session("ADMIN") });
    const settings = { notifyProjects: true, notifyQuotes: false, notifyPlannedInterventions: true, notifyAssignments: true, urgentReminderMinutes: 5, summaryThreshold: 5 };
    s = reduce(s, { type: "settings", settings });
    s = reduce(s, { type: "open", id: "r1" });
    const out = reduce(s, { type: "engine", event: { type: "sessionChanged", session: null }, now: NOW });
    expect(out.session).toBeNull();
    expect(out.openId).toBeNull();
    expect(out.settings).toEqual(settings);
    expect(out.phase).toBe("signin");
  });

  it("keeps separate filters for the inbox and 'Mes interventions'", () => {
    let s = reduce(initialState(), { type: "signedIn", session: session("TECHNICIAN") });
    s = reduce(s, { type: "screen", screen: "inbox" });
    s = reduce(s, { type: "filters", patch: { unreadOnly: true } });
    expect(activeFilters(s).unreadOnly).toBe(true);
    const mine = activeFilters(reduce(s, { type: "screen", screen: "mine" }));
    expect(mine.assignedToMe).toBe(true);
    expect(mine.unreadOnly).toBe(false);
  });

  it("notifies subscribers only on real changes", () => {
    const store = new Store();
    const seen: string[] = [];
    store.subscribe((s) => seen.push(s.screen));
    store.dispatch({ type: "screen", screen: "inbox" }); // already there
    store.dispatch({ type: "screen", screen: "settings" });
    expect(seen).toEqual(["settings"]);
  });
});

describe("status from engine events", () => {
  it("goes offline keeping the last sync time, and live stamps it", () => {
    let st = reduceStatus(initialStatus(), { type: "connection", state: { state: "live" } }, NOW);
    expect(st).toMatchObject({ connection: "live", lastSyncAt: NOW });
    st = reduceStatus(st, { type: "connection", state: { state: "offline", lastSyncAt: null } }, "2025-11-19T11:00:00Z");
    expect(st).toMatchObject({ connection: "offline", lastSyncAt: NOW });
    st = reduceStatus(st, { type: "connection", state: { state: "offline", lastSyncAt: "2025-11-19T10:30:00Z" } }, NOW);
    expect(st.lastSyncAt).toBe("2025-11-19T10:30:00Z");
  });

  it("shows sync progress until it completes or the connection settles", () => {
    let st = reduceStatus(initialStatus(), { type: "syncProgress", done: 200, total: 1000 }, NOW);
    expect(st.sync).toEqual({ done: 200, total: 1000 });
    expect(reduceStatus(st, { type: "syncProgress", done: 1000, total: 1000 }, NOW).sync).toBeNull();
    st = reduceStatus(st, { type: "connection", state: { state: "live" } }, NOW);
    expect(st.sync).toBeNull();
  });

  it("counts waiting and refused outbox actions", () => {
    const st = reduceStatus(initialStatus(), { type: "outbox", pending: 2, refused: 1, held: 0, abandoned: 0 }, NOW);
    expect(st).toMatchObject({ outboxPending: 2, outboxRefused: 1 });
  });

  it("refreshes the last sync time on live changes only", () => {
    const live = { ...initialStatus(), connection: "live" as const, lastSyncAt: "x" };
    expect(reduceStatus(live, { type: "requestsChanged", ids: ["a"] }, NOW).lastSyncAt).toBe(NOW);
    const off = { ...initialStatus(), connection: "offline" as const, lastSyncAt: "x" };
    expect(reduceStatus(off, { type: "requestsChanged", ids: ["a"] }, NOW)).toBe(off);
  });
});
