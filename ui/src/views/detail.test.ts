import { renderDetail, fieldRows } from "./detail";
import { request } from "../testing/fixtures";

const admin = { _id: "admin", name: "A", email: "a@itvision.sn", role: "ADMIN" as const };

describe("detail pane", () => {
  it("renders request text as text, never as HTML", () => {
    const evil = '<img src=x onerror="alert(1)"><b>gras</b>';
    const el = renderDetail(
      {
        request: request({ title: evil, description: evil, clientName: evil }),
        history: [{ at: "2025-11-19T10:00:00Z", actorId: "c1", actorName: evil, action: "created", fromStatus: null, toStatus: "pending", note: evil }],
        messages: [{ _id: "m1", requestId: "r1", authorId: "c1", authorName: evil, authorRole: "CLIENT", body: evil, createdAt: "2025-11-19T10:00:00Z" }],
        unread: false,
        fresh: true,
        quote: null,
        canAcknowledge: false,
      },
      admin,
      { onAction: () => undefined, onSend: async () => true },
    );
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("b")).toBeNull();
    expect(el.querySelector("h2")?.textContent).toBe(evil);
    expect(el.querySelector(".msg .body")?.textContent).toBe(evil);
  });

  it("shows the role's actions with their number keys", () => {
    const clicked: string[] = [];
    const el = renderDetail({ request: request(), history: [], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: false }, admin, {
      onAction: (a) => clicked.push(a.type),
      onSend: async () => true,
    });
    const buttons = [...el.querySelectorAll<HTMLButtonElement>(".actions button")];
    expect(buttons.map((b) => b.dataset.key)).toEqual(["1", "2"]);
    expect(buttons[0].textContent).toContain("Valider le projet");
    buttons[1].click();
    expect(clicked).toEqual(["reject"]);
  });

  it("lists every field the kind has and formats budget and dates", () => {
    const rows = new Map(fieldRows(request()));
    expect(rows.get("field.estimatedBudget")?.replace(/[\u202f\u00a0]/g, " ")).toBe("2 500 000 F CFA");
    expect(rows.get("field.preferredStartDate")).toBe("01/12/2025");
    expect(rows.has("field.assignee")).toBe(false);
    expect(rows.has("field.interventionType")).toBe(false);
    expect(rows.get("field.serviceType")).toBe("Vidéosurveillance");
  });

  it("shows chat messages still in the outbox after the sent ones", () => {
    const el = renderDetail({ request: request(), history: [], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: false }, admin, { onAction: () => undefined, onSend: async () => true }, [
      { body: "Envoi hors ligne", createdAt: "2025-11-19T10:00:00Z", refused: null },
    ]);
    const msgs = el.querySelectorAll(".msg.pending");
    expect(msgs.length).toBe(1);
    expect(msgs[0].textContent).toContain("en attente");
  });

  it("sends the chat message on Ctrl+Enter and clears the field once accepted", async () => {
    const sent: string[] = [];
    const el = renderDetail({ request: request(), history: [], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: false }, admin, {
      onAction: () => undefined,
      onSend: async (b) => (sent.push(b), true),
    });
    const area = el.querySelector<HTMLTextAreaElement>(".composer")!;
    area.value = "  Nous passons demain  ";
    area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true }));
    await Promise.resolve();
    await Promise.resolve();
    expect(sent).toEqual(["Nous passons demain"]);
    expect(area.value).toBe("");
  });

  it("empties the field while sending, so a redraw meanwhile does not carry the message into the next one", async () => {
    const seenDuringSend: string[] = [];
    let area!: HTMLTextAreaElement;
    const el = renderDetail({ request: request(), history: [], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: false }, admin, {
      onAction: () => undefined,
      // What the app's redraw reads as the draft while the message is on its way.
      onSend: async () => (seenDuringSend.push(area.value), true),
    });
    area = el.querySelector<HTMLTextAreaElement>(".composer")!;
    area.value = "Premier message";
    area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true }));
    await Promise.resolve();
    expect(seenDuringSend).toEqual([""]);
  });

  it("names history entries without a status move in words", () => {
    const at = "2025-11-19T10:00:00Z";
    const entry = (action: string) => ({ at, actorId: "a1", actorName: "Awa", action, fromStatus: null, toStatus: null, note: null, staffOnly: false });
    const el = renderDetail(
      { request: request(), history: [entry("acknowledged"), entry("something:new")], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: false },
      admin,
      { onAction: () => undefined, onSend: async () => true },
    );
    const lines = [...el.querySelectorAll(".history li")].map((li) => li.textContent ?? "");
    expect(lines[0]).toContain("Awa — a pris en charge");
    // An action the UI does not know yet is shown as the server named it.
    expect(lines[1]).toContain("something:new");
  });

  it("puts a refused message back into the field", async () => {
    const el = renderDetail({ request: request(), history: [], messages: [], quote: null, unread: false, fresh: true, canAcknowledge: false }, admin, {
      onAction: () => undefined,
      onSend: async () => false,
    });
    const area = el.querySelector<HTMLTextAreaElement>(".composer")!;
    area.value = "Refusé";
    area.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", ctrlKey: true }));
    await Promise.resolve();
    await Promise.resolve();
    expect(area.value).toBe("Refusé");
  });
});
