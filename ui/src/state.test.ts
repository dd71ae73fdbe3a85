import type { SessionDto } from "./bindings/SessionDto";
import { activeQuery, initialState, reduce, Store } from "./state";

const session = (role: "ADMIN" | "TECHNICIAN"): SessionDto => ({
  server: "http://127.0.0.1:8080",
  user: { id: "u", name: "N", email: "n@itvision.sn", role },
});

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

  it("forgets the session on sign-out but keeps the settings", () => {
    let s = reduce(initialState(), { type: "signedIn", session: session("ADMIN") });
    const settings = { language: "en" as const, notifyProject: true, notifyIntervention: true, notifyQuote: false, notifyMessage: true, urgentRealertMinutes: 10, pauseNonUrgent: false, server: "http://x" };
    s = reduce(s, { type: "settings", settings });
    s = reduce(s, { type: "open", id: "r1" });
    s = reduce(s, { type: "signedOut" });
    expect(s.session).toBeNull();
    expect(s.openId).toBeNull();
    expect(s.settings).toEqual(settings);
    expect(s.phase).toBe("signin");
  });

  it("clears the selection when the filters or the screen change", () => {
    let s = reduce(initialState(), { type: "signedIn", session: session("TECHNICIAN") });
    s = reduce(s, { type: "select", index: 7 });
    s = reduce(s, { type: "screen", screen: "inbox" });
    expect(s.selected).toBe(-1);
    s = reduce(s, { type: "select", index: 3 });
    s = reduce(s, { type: "query", patch: { unreadOnly: true } });
    expect(s.selected).toBe(-1);
    expect(activeQuery(s).unreadOnly).toBe(true);
    expect(activeQuery(reduce(s, { type: "screen", screen: "mine" })).assignedToMe).toBe(true);
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
