import type { OutboxEntry } from "../bindings/OutboxEntry";
import { outboxOverlay } from "./outbox";

const flush = () => new Promise((r) => setTimeout(r, 0));

function entry(id: number, over: Partial<OutboxEntry>): OutboxEntry {
  return {
    id,
    action: { type: "sendMessage", requestId: "r1", body: "Nous passons mardi" },
    idempotencyKey: `k${id}`,
    state: "pending",
    createdAt: "2026-12-02T07:00:00Z",
    attempts: 0,
    lastError: null,
    refusal: null,
    reason: null,
    nextAttemptAt: null,
    ...over,
  };
}

describe("outbox overlay", () => {
  afterEach(() => document.body.replaceChildren());

  it("shows held and abandoned entries in French with their reason, and lets them be discarded", async () => {
    const discarded: number[] = [];
    let reopened = 0;
    outboxOverlay(
      [
        entry(1, { attempts: 2, lastError: "503 Serveur occupé" }),
        entry(2, { state: "held", reason: "Retenue : une action précédente sur cette demande a été refusée (Transition impossible)" }),
        entry(3, { state: "abandoned", reason: "En attente de Awa Admin (https://itv.sn) : envoyée quand ce compte se reconnectera" }),
      ],
      async (id) => void discarded.push(id),
      () => void reopened++,
    );
    const items = [...document.querySelectorAll<HTMLElement>("[data-testid=outbox-entry]")];
    expect(items.map((i) => i.className)).toEqual(["state-pending", "state-held", "state-abandoned"]);
    expect(items[0].textContent).toContain("en attente");
    expect(items[0].querySelector("[data-testid=outbox-reason]")?.textContent).toBe("503 Serveur occupé");
    expect(items[0].querySelector("[data-testid=outbox-discard]")).toBeNull();
    expect(items[1].textContent).toContain("retenue");
    expect(items[1].querySelector("[data-testid=outbox-reason]")?.textContent).toMatch(/^Retenue : une action précédente/);
    expect(items[2].textContent).toContain("laissée par un autre compte");
    expect(items[2].querySelector("[data-testid=outbox-reason]")?.textContent).toContain("Awa Admin");
    const discard = items[2].querySelector<HTMLButtonElement>("[data-testid=outbox-discard]")!;
    expect(discard.textContent).toBe("Retirer");
    discard.click();
    await flush();
    expect(discarded).toEqual([3]);
    expect(reopened).toBe(1);
  });
});
