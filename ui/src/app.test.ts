import { adminSession, memoryStorage, request } from "./testing/fixtures";
import { flush, mount, press } from "./testing/mount";

describe("App", () => {
  it("asks to sign in when the keyring has no session, with the remembered server", async () => {
    const { root, calls } = await mount({ session: null });
    const server = root.querySelector<HTMLInputElement>("[data-testid=server]");
    expect(server?.value).toBe("http://127.0.0.1:8080");
    root.querySelector<HTMLInputElement>("[data-testid=email]")!.value = "admin@itvision.sn";
    root.querySelector<HTMLInputElement>("[data-testid=password]")!.value = "demo1234";
    root.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(calls("signIn")[0][1]).toEqual(["http://127.0.0.1:8080", "admin@itvision.sn", "demo1234"]);
    expect(root.querySelector("[data-testid=list]")).not.toBeNull();
  });

  it("paints only the visible rows of 100,000 and reports the first paint", async () => {
    const { root, calls } = await mount({ total: 100_000 });
    const rows = root.querySelectorAll("[data-testid=row]");
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(60);
    expect(root.querySelector("[data-testid=count]")?.textContent?.replace(/[\u202f\u00a0]/g, " ")).toBe("100 000 demandes");
    expect(calls("inboxPainted").length).toBe(1);
    expect(calls("inboxPage").length).toBe(1);
    expect(calls("inboxPage")[0][1][0]).toMatchObject({ offset: 0, limit: 100 });
  });

  it("sorts and keeps only active requests on demand, and remembers both", async () => {
    const { root, calls, storage } = await mount();
    const sort = root.querySelector<HTMLSelectElement>("[data-testid=filter-sort]")!;
    expect(sort.value).toBe("updated");
    expect(sort.labels[0]?.textContent).toBe("Trier par");
    sort.value = "priority";
    sort.dispatchEvent(new Event("change"));
    const active = root.querySelector<HTMLInputElement>("[data-testid=filter-active]")!;
    active.checked = true;
    active.dispatchEvent(new Event("change"));
    await flush();
    expect(calls("inboxPage").at(-1)![1][0]).toMatchObject({ sort: "priority", activeOnly: true });

    // A new window starts with the remembered view.
    const again = await mount({}, storage as ReturnType<typeof memoryStorage>);
    expect(again.calls("inboxPage")[0][1][0]).toMatchObject({ sort: "priority", activeOnly: true });
    expect(again.root.querySelector<HTMLSelectElement>("[data-testid=filter-sort]")!.value).toBe("priority");
  });

  it("moves with j/k, opens with Enter (marking read) and runs action 1 by its key", async () => {
    const { root, calls } = await mount({ requests: [request(), request({ _id: "r2", title: "Deuxième" })] });
    press("j");
    await flush();
    expect(root.querySelector(".row.selected")?.getAttribute("data-id")).toBe("r1");
    expect(root.querySelector("[data-testid=detail]")?.getAttribute("data-id")).toBe("r1");
    expect(calls("markRead").length).toBe(0);
    press("j");
    press("k");
    await flush();
    expect(root.querySelector(".row.selected")?.getAttribute("data-id")).toBe("r1");
    document.body.focus();
    press("Enter");
    await flush();
    expect(calls("markRead")[0][1]).toEqual(["r1"]);
    (document.activeElement as HTMLElement | null)?.blur();
    press("1");
    await flush();
    expect(calls("perform")[0][1]).toEqual([{ type: "validateProject", requestId: "r1" }]);
  });

  it("focuses search with / and Ctrl+K and filters the inbox by the typed text", async () => {
    const { root, calls } = await mount();
    press("/");
    const search = root.querySelector<HTMLInputElement>("[data-testid=search]")!;
    expect(document.activeElement).toBe(search);
    search.value = "INT-2025";
    search.dispatchEvent(new Event("input"));
    await new Promise((r) => setTimeout(r, 250));
    await flush();
    const last = calls("inboxPage").at(-1)!;
    expect((last[1][0] as { text: string }).text).toBe("INT-2025");
    press("Escape");
    expect(document.activeElement).not.toBe(search);
    press("k", { ctrlKey: true });
    expect(document.activeElement).toBe(search);
  });

  it("shows and hides the shortcut overlay with ?", async () => {
    await mount();
    press("?");
    expect(document.querySelector("[data-testid=help]")).not.toBeNull();
    press("Escape");
    expect(document.querySelector("[data-testid=help]")).toBeNull();
  });

  it("rejects a project only with a reason typed in the dialog", async () => {
    const { root, calls } = await mount();
    root.querySelector<HTMLElement>("[data-testid=row]")!.click();
    await flush();
    root.querySelector<HTMLButtonElement>("[data-testid=action-reject]")!.click();
    const reason = document.querySelector<HTMLTextAreaElement>("[data-testid=reason]")!;
    expect(document.activeElement).toBe(reason);
    document.querySelector("[data-testid=dialog-confirm]")!.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    await flush();
    expect(calls("perform").length).toBe(0);
    reason.value = "Hors zone";
    reason.closest("form")!.requestSubmit();
    await flush();
    expect(calls("perform")[0][1]).toEqual([{ type: "rejectProject", requestId: "r1", reason: "Hors zone" }]);
  });

  it("opens the request a notification asks for", async () => {
    const { root, emit } = await mount({ requests: [request(), request({ _id: "r9", title: "Urgence" })] });
    emit({ type: "notificationClicked", requestId: "r9" });
    await flush();
    expect(root.querySelector("[data-testid=detail-title]")?.textContent).toBe("Urgence");
    expect(root.querySelector(".row.selected")?.getAttribute("data-id")).toBe("r9");
  });

  it("shows the progress of a full sync", async () => {
    const { root, emit } = await mount();
    emit({ type: "syncProgress", done: 200, total: 1000 });
    expect(root.querySelector("[data-testid=sync-progress]")?.textContent).toContain("200/1000");
    expect(root.querySelector("[data-testid=sync-progress] progress")?.getAttribute("value")).toBe("200");
  });

  it("remembers the server and switches the language from the settings (tray included)", async () => {
    const { root, storage, calls } = await mount();
    expect(calls("uiLanguage").map(([, a]) => a[0])).toEqual(["fr"]);
    expect(storage.map.get("itv.server")).toBe("http://127.0.0.1:8080");
    press(",");
    await flush();
    const lang = root.querySelector<HTMLSelectElement>("[data-testid=setting-language]")!;
    lang.value = "en";
    lang.dispatchEvent(new Event("change"));
    await flush();
    expect(storage.map.get("itv.language")).toBe("en");
    expect(root.querySelector("[data-testid=nav-inbox]")?.textContent).toBe("Inbox");
    expect(calls("uiLanguage").map(([, a]) => a[0])).toEqual(["fr", "en"]);
  });

  it("does not let a status snapshot overwrite an event that arrived while it was read", async () => {
    const { root, app, emit, ipc } = await mount();
    const real = ipc.status;
    ipc.status = async () => {
      const snap = await real();
      if (!("raced" in ipc)) {
        Object.assign(ipc, { raced: true });
        emit({ type: "connection", state: { state: "offline", lastSyncAt: null } });
        return { ...snap, connection: { state: "syncing" as const } };
      }
      return { ...snap, connection: { state: "offline" as const, lastSyncAt: null } };
    };
    await app.refreshSnapshot();
    expect(root.querySelector("[data-testid=connection]")?.getAttribute("data-state")).toBe("offline");
  });

  it("saves notification settings per kind and the urgent re-alert delay", async () => {
    const { root, calls } = await mount();
    press(",");
    await flush();
    const quotes = root.querySelector<HTMLInputElement>("[data-testid=setting-notifyQuotes]")!;
    quotes.checked = false;
    quotes.dispatchEvent(new Event("change"));
    await flush();
    expect(calls("settingsSet").at(-1)![1][0]).toMatchObject({ notifyQuotes: false, notifyProjects: true });
    const delay = root.querySelector<HTMLInputElement>("[data-testid=setting-realert]")!;
    delay.value = "0";
    delay.dispatchEvent(new Event("change"));
    await flush();
    expect(calls("settingsSet").length).toBe(1); // 0 is refused: the engine needs at least 1 minute
    delay.value = "15";
    delay.dispatchEvent(new Event("change"));
    await flush();
    expect(calls("settingsSet").at(-1)![1][0]).toMatchObject({ urgentReminderMinutes: 15 });
  });

  it("shows offline state and waiting actions from the status event", async () => {
    const { root, emit } = await mount();
    const n = (x: number) => x;
    emit({ type: "syncProgress", done: n(200), total: n(1000) });
    emit({ type: "connection", state: { state: "offline", lastSyncAt: null } });
    emit({ type: "outbox", pending: n(2), refused: n(1), held: n(0), abandoned: n(0) });
    expect(root.querySelector("[data-testid=connection]")?.getAttribute("data-state")).toBe("offline");
    expect(root.querySelector("[data-testid=connection]")?.textContent).toContain("Hors ligne");
    expect(root.querySelector("[data-testid=outbox]")?.textContent).toBe("2 en attente · 1 refusée(s)");

  });

  it("says when an action was queued for later", async () => {
    const { root, calls } = await mount({ perform: { outcome: "queued", outboxId: 7 } });
    root.querySelector<HTMLElement>("[data-testid=row]")!.click();
    await flush();
    root.querySelector<HTMLTextAreaElement>("[data-testid=chat-input]")!.value = "Bonjour";
    root.querySelector<HTMLButtonElement>("[data-testid=chat-send]")!.click();
    await flush();
    expect(document.querySelector("[data-testid=toast]")?.textContent).toContain("file d'attente");
    expect(calls("perform")[0][1]).toEqual([{ type: "sendMessage", requestId: "r1", body: "Bonjour" }]);
  });

  it("prepares a quote in the editor: live totals, errors kept in the dialog, then saved", async () => {
    const quoteRequest = request({ _id: "q1", kind: "quote", status: "open", ticketNumber: "DEV-202611-0001", title: "Devis caméras" });
    let attempts = 0;
    const { root, calls } = await mount({
      requests: [quoteRequest],
      perform: (a) => {
        if (a.type !== "prepareQuote") return { outcome: "applied", request: null };
        attempts += 1;
        return attempts === 1
          ? { outcome: "refused", outboxId: 3, refusal: { status: 400, code: "validation", message: "Certains champs sont invalides (validUntil: trop tôt)", currentStatus: null, reason: null, fields: { validUntil: "trop tôt" } } }
          : { outcome: "applied", request: null };
      },
    });
    root.querySelector<HTMLElement>("[data-testid=row]")!.click();
    await flush();
    expect(root.querySelector("[data-testid=quote-none]")).not.toBeNull();
    root.querySelector<HTMLButtonElement>("[data-testid=action-prepareQuote]")!.click();
    await flush();
    const editor = document.querySelector<HTMLElement>("[data-testid=quote-editor]")!;
    expect(editor.querySelector("h2")?.textContent).toBe("Devis DEV-202611-0001");
    const line = editor.querySelector<HTMLElement>("[data-testid=quote-line]")!;
    const [designation, quantity, price] = [...line.querySelectorAll("input")];
    designation.value = "Caméra IP 4K";
    quantity.value = "4";
    price.value = "85 000";
    price.dispatchEvent(new Event("input", { bubbles: true }));
    await flush();
    const total = () => editor.querySelector("[data-testid=quote-preview-total]")?.textContent?.replace(/[\u202f\u00a0]/g, " ");
    expect(total()).toBe("401 200 F CFA");
    expect(calls("quotePreview").at(-1)![1]).toEqual([[{ designation: "Caméra IP 4K", quantity: 4, unitPrice: 85000 }], 0]);

    editor.querySelector("form")!.requestSubmit();
    await flush();
    expect(editor.isConnected).toBe(true);
    expect(editor.querySelector("[data-testid=quote-errors]")?.textContent).toContain("validUntil: trop tôt");
    expect(calls("outboxDiscard")[0][1]).toEqual([3]);

    editor.querySelector("form")!.requestSubmit();
    await flush();
    expect(editor.isConnected).toBe(false);
    const sent = calls("perform").map(([, args]) => args[0]);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ type: "prepareQuote", requestId: "q1", quote: { lines: [{ designation: "Caméra IP 4K", quantity: 4, unitPrice: 85000 }], discount: 0 } });
  });

  it("says in the status bar when the tray paused non-urgent notifications", async () => {
    const { root, emitPaused } = await mount();
    expect(root.querySelector("[data-testid=paused]")).toBeNull();
    emitPaused(true);
    await flush();
    expect(root.querySelector("[data-testid=paused]")?.textContent).toBe("🔕 Notifications non urgentes suspendues");
    emitPaused(false);
    await flush();
    expect(root.querySelector("[data-testid=paused]")).toBeNull();
  });

  it("keeps a technician's session on 'Mes interventions' by default", async () => {
    const { root } = await mount({ session: { ...adminSession, user: { ...adminSession.user, role: "TECHNICIAN" } } });
    expect(root.querySelector("[data-testid=nav-mine]")?.getAttribute("aria-current")).toBe("true");
  });

  it("shows the sign-in screen with the reason when the server ends the session", async () => {
    const { root, emit } = await mount();
    expect(root.querySelector("[data-testid=list]")).not.toBeNull();
    emit({ type: "sessionChanged", session: null });
    emit({ type: "sessionEnded", end: { code: "session_ended", reason: "deactivated", message: "Votre compte a été désactivé par un administrateur" } });
    await flush();
    expect(root.querySelector("[data-testid=list]")).toBeNull();
    expect(root.querySelector("[data-testid=email]")).not.toBeNull();
    expect(root.querySelector("[data-testid=session-ended]")?.textContent).toContain("Votre compte a été désactivé par un administrateur");
  });

  it("gives admins the Comptes screen (key a), and technicians not", async () => {
    const { root, calls } = await mount();
    press("a");
    await flush();
    expect(root.querySelector("[data-testid=nav-accounts]")?.getAttribute("aria-current")).toBe("true");
    expect(root.querySelectorAll("[data-testid=account-row]").length).toBe(3);
    expect(calls("accountsList").length).toBe(1);
    const tech = await mount({ session: { ...adminSession, user: { ...adminSession.user, role: "TECHNICIAN" } } });
    expect(tech.root.querySelector("[data-testid=nav-accounts]")).toBeNull();
    press("a");
    await flush();
    expect(tech.calls("accountsList").length).toBe(0);
  });

  it("lists the sessions in the settings, this device marked, and closes another one", async () => {
    const { root, calls } = await mount();
    press(",");
    await flush();
    const sessions = root.querySelectorAll("[data-testid=session]");
    expect(sessions.length).toBe(2);
    expect(root.querySelector("[data-testid=session][data-current=true] [data-testid=this-device]")?.textContent).toBe("cet appareil");
    root.querySelector<HTMLButtonElement>("[data-testid=session-end]")!.click();
    await flush();
    expect(calls("sessionEnd")[0][1]).toEqual(["s2"]);
    expect(calls("sessionsList").length).toBe(2);
  });

  it("shows a wrong current password beside its field", async () => {
    const refuse = { code: "validation", message: "Données invalides (currentPassword: Le mot de passe actuel est incorrect)", fields: { currentPassword: "Le mot de passe actuel est incorrect" } };
    const { root } = await mount({ refuse });
    press(",");
    await flush();
    const form = root.querySelector<HTMLFormElement>("[data-testid=password-form]")!;
    form.querySelector<HTMLInputElement>("[data-testid=field-currentPassword]")!.value = "faux";
    form.querySelector<HTMLInputElement>("[data-testid=field-newPassword]")!.value = "Nouveau-Secret-9";
    form.querySelector<HTMLInputElement>("[data-testid=field-newPasswordAgain]")!.value = "Nouveau-Secret-9";
    form.requestSubmit();
    await flush();
    expect(form.querySelector("[data-testid=error-currentPassword]")?.textContent).toBe("Le mot de passe actuel est incorrect");
    expect(form.querySelector<HTMLElement>("[data-testid=password-error]")!.hidden).toBe(true);
  });

  it("says so when signing out could not reach the server", async () => {
    const { root } = await mount({ signedOutOnServer: false });
    press(",");
    await flush();
    root.querySelector<HTMLButtonElement>("[data-testid=signout]")!.click();
    await flush();
    expect(root.querySelector("[data-testid=email]")).not.toBeNull();
    expect(document.querySelector("[data-testid=toast]")?.textContent).toContain("Le serveur n'a pas pu être prévenu");
  });
});
