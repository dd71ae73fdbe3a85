//! The app controller: owns the store, wires shell events and keyboard to views and commands.
import type { Action } from "./bindings/Action";
import type { EngineEvent } from "./bindings/EngineEvent";
import type { InboxItem } from "./bindings/InboxItem";
import type { OutboxEntry } from "./bindings/OutboxEntry";
import type { RequestDetail } from "./bindings/RequestDetail";
import type { Settings } from "./bindings/Settings";
import { nextInterventionStep, toEngineAction, type UiAction } from "./actions";
import { h, replace } from "./dom";
import { label, language, saveLanguage, savedLanguage, setLanguage, t, type Language, type MessageKey } from "./i18n";
import { defaultPeriod, readMetrics } from "./metrics";
import { tick } from "./tracking";
import type { Events, Ipc } from "./ipc";
import { IpcError } from "./ipc";
import { commandFor, isTextField, moveSelection, type Command } from "./keyboard";
import { filtersKey, loadViewPrefs, saveViewPrefs, toInboxQuery, type Filters } from "./query";
import { activeFilters, Store, type Screen } from "./state";
import { PageCache } from "./virtual";
import { renderDetail, type PendingMessage } from "./views/detail";
import { askReason, askTechnician } from "./views/dialogs";
import { blankDraft, editQuote, typedFrom } from "./views/quote";
import { helpOverlay } from "./views/help";
import { VirtualList } from "./views/list";
import { accountsView, type AccountsCallbacks, type Answer } from "./views/accounts";
import { sessionsFieldset, sessionsList, type SessionsCallbacks } from "./views/sessions";
import { settingsView } from "./views/settings";
import { supportFieldset } from "./views/support";
import { signInForm } from "./views/signin";
import { renderStatus } from "./views/statusbar";
import { dashboardView, type DashboardState } from "./views/dashboard";
import { renderFilters } from "./views/filters";
import { outboxOverlay } from "./views/outbox";
import { quitHandler } from "./views/quit";
import { mountStartup } from "./views/startup";
import { words } from "./views/sla";

export class App {
  readonly store = new Store();
  private list: VirtualList | null = null;
  private listKey = "";
  private detail: RequestDetail | null = null;
  private detailEl = h("section", { class: "detail", attrs: { "aria-live": "polite" } });
  private statusEl = h("div", { class: "statusbar", attrs: { "data-testid": "statusbar" } });
  private filtersEl = h("div", { class: "filters" });
  private mainEl = h("div", { class: "content" });
  private search = h("input", { type: "search", attrs: { "data-testid": "search", "aria-label": "search" } });
  private navEl = h("nav", { class: "tabs" });
  private helpEl: HTMLElement | null = null;
  private toastTimer = 0;
  private toastEl: HTMLElement | null = null;
  private searchTimer = 0;
  /** What start() set going, undone by stop(). */
  private intervals: number[] = [];
  private readonly keydown = (e: KeyboardEvent) => this.onKey(e);
  private eventsSeen = 0;
  /** A link opened before sign-in: opened once signed in. */
  private pendingLink: string | null = null;

  constructor(
    private root: HTMLElement,
    private ipc: Ipc,
    private ev: Events,
    /** Remembers UI preferences: the last server typed, the inbox's sort and "active only". */
    private storage: Pick<Storage, "getItem" | "setItem"> | undefined = globalThis.localStorage,
  ) {}

  async start(): Promise<void> {
    document.addEventListener("keydown", this.keydown);
    this.intervals = [
      // "Synchronisé il y a …" ages even when nothing happens.
      window.setInterval(() => this.store.state.phase === "ready" && this.renderStatusBar(), 30_000),
      // SLA countdowns tick in place (a few dozen spans at most), no list re-render.
      window.setInterval(() => this.tickCountdowns(), 1000),
    ];
    // Before subscribing: the remembered view is the starting state, not a change.
    if (this.storage) this.store.dispatch({ type: "filters", patch: loadViewPrefs(this.storage) });
    this.store.subscribe((s, prev) => this.onState(s, prev));
    setLanguage(savedLanguage(this.storage));
    void this.ipc.uiLanguage(language()).catch(() => undefined);
    this.renderRoot();
    await this.ev.onEngine((e) => this.onEngine(e));
    await this.ev.onPaused((paused) => this.store.dispatch({ type: "paused", paused }));
    await this.ev.onQuitRequested(quitHandler(this.ipc));
    await this.ev.onOpenRequest((id) => this.openLink(id));
    try {
      const session = await this.ipc.sessionRestore();
      if (session) await this.signedIn(session);
      else this.store.dispatch({ type: "restoreFailed" });
    } catch {
      this.store.dispatch({ type: "restoreFailed" });
    }
  }

  private async signedIn(session: NonNullable<typeof this.store.state.session>): Promise<void> {
    this.storage?.setItem("itv.server", session.serverUrl);
    try {
      this.store.dispatch({ type: "settings", settings: await this.ipc.settingsGet() });
    } catch {
      /* settings stay unknown; the screen says so */
    }
    this.store.dispatch({ type: "signedIn", session });
    await this.refreshSnapshot();
    const link = this.pendingLink;
    this.pendingLink = null;
    if (link) void this.openById(link);
  }

  /** Reads the engine's current status. An event that arrives while the snapshot is on its way
   *  is newer than it, so the snapshot is read again rather than applied over that event. */
  async refreshSnapshot(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const seen = this.eventsSeen;
      let snapshot;
      try {
        snapshot = await this.ipc.status();
      } catch {
        return; // events will tell
      }
      if (seen === this.eventsSeen) {
        this.store.dispatch({ type: "snapshot", snapshot });
        return;
      }
    }
  }

  private onEngine(e: EngineEvent): void {
    this.eventsSeen++;
    this.store.dispatch({ type: "engine", event: e, now: new Date().toISOString() });
    if (e.type === "requestsChanged") this.onRequestsChanged(e.ids);
    else if (e.type === "notificationClicked" && e.requestId) void this.openById(e.requestId);
    else if (e.type === "outbox" && this.store.state.openId) void this.loadDetail();
  }

  // ---- state → DOM -------------------------------------------------------------------------

  private onState(s: typeof this.store.state, prev: typeof this.store.state): void {
    if (s.phase !== prev.phase || s.screen !== prev.screen || s.signInError !== prev.signInError || s.endedReason !== prev.endedReason) {
      this.renderRoot();
      return;
    }
    if (s.status !== prev.status) this.renderStatusBar();
    if (s.filters !== prev.filters) {
      this.renderFilters();
      this.ensureList();
    }
    if (s.helpOpen !== prev.helpOpen) this.renderHelp();
    if (s.toast !== prev.toast) this.renderToast();
    if (s.openId !== prev.openId) void this.loadDetail();
  }

  private renderRoot(): void {
    const s = this.store.state;
    if (s.phase === "restoring") {
      replace(this.root, h("main", { class: "signin-page" }, h("p", { class: "muted" }, t("signin.restoring"))));
      return;
    }
    if (s.phase === "signin" || !s.session) {
      replace(this.root, signInForm(this.storage?.getItem("itv.server") ?? "", s.signInError, s.endedReason, (server, email, pw) => this.signIn(server, email, pw)));
      return;
    }
    this.search.placeholder = t("search.placeholder");
    this.search.value = s.filters.text;
    this.search.oninput = () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => {
        if (this.store.state.screen !== "inbox") this.store.dispatch({ type: "screen", screen: "inbox" });
        this.store.dispatch({ type: "filters", patch: { text: this.search.value } });
      }, 150);
    };
    this.renderNav();
    replace(
      this.root,
      h("header", { class: "top" }, h("strong", { class: "brand" }, t("app.title")), this.navEl, this.search, this.statusEl),
      this.mainEl,
    );
    this.renderStatusBar();
    this.renderScreen();
    this.renderHelp();
  }

  private renderNav(): void {
    const s = this.store.state;
    const tab = (screen: Screen, key: "nav.inbox" | "nav.mine" | "nav.settings" | "nav.accounts" | "nav.dashboard", hotkey: string) =>
      h(
        "button",
        {
          class: s.screen === screen ? "tab active" : "tab",
          attrs: { "data-testid": `nav-${screen}`, "aria-keyshortcuts": hotkey, "aria-current": String(s.screen === screen) },
          on: { click: () => this.store.dispatch({ type: "screen", screen }) },
        },
        t(key),
      );
    const admin = s.session?.user.role === "ADMIN";
    replace(
      this.navEl,
      tab("inbox", "nav.inbox", "i"),
      admin ? null : tab("mine", "nav.mine", "m"),
      admin ? tab("dashboard", "nav.dashboard", "t") : null,
      admin ? tab("accounts", "nav.accounts", "a") : null,
      tab("settings", "nav.settings", ","),
    );
  }

  private renderStatusBar(): void {
    renderStatus(this.statusEl, this.store.state.status, () => void this.showOutbox());
  }

  private renderScreen(): void {
    const s = this.store.state;
    this.list = null;
    this.listKey = "";
    if (s.screen === "settings") {
      const host = h("div", { class: "sessions-host" }, sessionsList(null, null, this.sessionsCallbacks));
      const startup = h("div", { class: "startup-host" });
      replace(
        this.mainEl,
        s.settings && s.session
          ? settingsView(
              s.settings,
              language(),
              s.session,
              {
                onChange: (n) => void this.saveSettings(n),
                onLanguage: (l) => this.setLanguage(l),
                onSignOut: () => void this.signOut(),
              },
              sessionsFieldset(host, this.sessionsCallbacks),
              startup,
              supportFieldset(this.ipc, navigator.clipboard),
            )
          : h("p", { class: "muted" }, "…"),
      );
      void this.loadSessions(host);
      void mountStartup(startup, this.ipc, (text) => this.store.dispatch({ type: "toast", text }));
      return;
    }
    if (s.screen === "accounts") {
      void this.loadAccounts();
      return;
    }
    if (s.screen === "dashboard") {
      void this.loadDashboard();
      return;
    }
    this.renderFilters();
    replace(this.mainEl, h("div", { class: "listpane" }, s.screen === "inbox" ? this.filtersEl : h("h2", { class: "mine-title" }, t("nav.mine"))), this.detailEl);
    this.ensureList();
    void this.loadDetail();
  }

  /** Builds the list for the current query, or keeps the current one when the query is the same. */
  private ensureList(): void {
    const s = this.store.state;
    if (s.screen === "settings" || s.screen === "accounts" || s.screen === "dashboard") return;
    const f = activeFilters(s);
    const key = `${s.screen}:${filtersKey(f)}`;
    if (this.list && key === this.listKey) return;
    this.listKey = key;
    const loader = (offset: number, limit: number) => this.ipc.inboxPage(toInboxQuery(f, offset, limit));
    if (this.list) {
      this.list.cache.reset(loader);
      this.list.select(-1);
      this.list.el.scrollTop = 0;
      this.list.schedule();
      return;
    }
    const list = new VirtualList(new PageCache(loader), {
      onSelect: (i, row) => {
        list.select(i);
        if (row) this.open(row);
      },
      onOpen: (_i, row) => this.open(row, true),
      rowExtra: s.screen === "mine" ? (row) => this.stepButton(row) : undefined,
      onFirstPaint: () => void this.ipc.inboxPainted().catch(() => undefined),
    });
    this.list = list;
    const pane = this.mainEl.querySelector(".listpane");
    pane?.append(list.countElement, list.el);
    list.schedule();
  }

  private stepButton(row: InboxItem): HTMLElement | null {
    const next = nextInterventionStep(row.status);
    if (!next) return null;
    return h(
      "button",
      {
        class: "primary step",
        attrs: { "data-testid": "step", "data-to": next },
        on: {
          click: (e) => {
            e.stopPropagation();
            void this.perform({ type: "setStatus", requestId: row.id, status: next, reason: null });
          },
        },
      },
      `→ ${label("status", next)}`,
    );
  }

  private renderFilters(): void {
    renderFilters(this.filtersEl, this.store.state.filters, (p) => this.patchFilters(p));
  }

  private patchFilters(p: Partial<Filters>): void {
    this.store.dispatch({ type: "filters", patch: p });
    if (this.storage && ("sort" in p || "activeOnly" in p)) saveViewPrefs(this.storage, this.store.state.filters);
  }

  private renderHelp(): void {
    const open = this.store.state.helpOpen;
    if (open && !this.helpEl) {
      this.helpEl = helpOverlay(() => this.store.dispatch({ type: "help", open: false }));
      document.body.appendChild(this.helpEl);
    } else if (!open && this.helpEl) {
      this.helpEl.remove();
      this.helpEl = null;
      this.list?.el.focus();
    }
  }

  private renderToast(): void {
    // Its own toast only: another window's (or an earlier test's) is not this one's to remove.
    this.toastEl?.remove();
    this.toastEl = null;
    const text = this.store.state.toast;
    if (!text) return;
    this.toastEl = document.body.appendChild(h("div", { class: "toast", attrs: { role: "status", "data-testid": "toast" } }, text));
    clearTimeout(this.toastTimer);
    this.toastTimer = window.setTimeout(() => this.store.dispatch({ type: "toast", text: null }), 5000);
  }

  // ---- detail -----------------------------------------------------------------------------

  private open(row: InboxItem, focus = false): void {
    this.store.dispatch({ type: "open", id: row.id });
    if (row.unread) void this.ipc.markRead(row.id).catch(() => undefined);
    if (focus) queueMicrotask(() => this.detailEl.querySelector<HTMLElement>(".actions button")?.focus());
  }

  /** An itv://request/{id} link: opened like a notification's "Ouvrir" (`openById`), or, from
   *  the sign-in screen, once signed in. */
  private openLink(id: string): void {
    if (this.store.state.phase === "ready") void this.openById(id);
    else this.pendingLink = id;
  }

  /** Brings a request forward (a notification's "Ouvrir", an itv:// link): inbox screen,
   *  detail pane on it. */
  async openById(id: string): Promise<void> {
    if (this.store.state.phase !== "ready") return;
    const screen = this.store.state.screen;
    if (screen === "settings" || screen === "accounts" || screen === "dashboard") this.store.dispatch({ type: "screen", screen: "inbox" });
    this.store.dispatch({ type: "open", id });
    const idx = this.list?.cache.indexOf(id) ?? -1;
    if (idx >= 0) this.list?.select(idx);
    void this.ipc.markRead(id).catch(() => undefined);
  }

  private async loadDetail(): Promise<void> {
    const { openId, session } = this.store.state;
    if (!openId || !session) {
      this.detail = null;
      replace(this.detailEl, h("p", { class: "muted placeholder" }, t("detail.none")));
      return;
    }
    try {
      const [d, outbox] = await Promise.all([this.ipc.requestDetail(openId), this.ipc.outboxList().catch(() => [] as OutboxEntry[])]);
      if (this.store.state.openId !== openId) return;
      // Not in the cache nor visible to this account (a link to someone else's request).
      if (!d?.request) throw new IpcError("not_found", openId);
      this.detail = d;
      const had = this.detailEl.querySelector<HTMLTextAreaElement>(".composer");
      const draft = had?.value ?? "";
      const focused = document.activeElement === had;
      replace(this.detailEl, renderDetail(d, session.user, { onAction: (a) => void this.runAction(a), onSend: (b) => this.sendMessage(b), onAcknowledge: () => void this.acknowledge(d.request._id) }, pendingMessages(outbox, openId)));
      const composer = this.detailEl.querySelector<HTMLTextAreaElement>(".composer");
      if (composer && had && d.request._id === had.closest("[data-id]")?.getAttribute("data-id")) {
        composer.value = draft;
        if (focused) composer.focus();
      }
    } catch (e) {
      if (this.store.state.openId !== openId) return;
      this.detail = null;
      const notFound = e instanceof IpcError && e.code === "not_found";
      replace(
        this.detailEl,
        h("p", { class: "error", attrs: { "data-testid": "detail-error" } }, notFound ? t("detail.notFound") : t("error.generic", { message: (e as Error).message })),
      );
    }
  }

  private async runAction(a: UiAction): Promise<void> {
    const d = this.detail;
    if (!d) return;
    let input: string | null = null;
    if (a.type === "prepareQuote") {
      await this.editQuote(d);
      return;
    }
    if (a.type === "reject") {
      input = await askReason();
      if (!input) return;
    } else if (a.type === "assign") {
      let techs;
      try {
        techs = await this.ipc.technicians();
      } catch (e) {
        this.toastError(e);
        return;
      }
      input = await askTechnician(techs, d.request.assigneeId);
      if (!input) return;
    }
    const action = toEngineAction(a, d.request._id, input);
    if (action) await this.perform(action);
  }

  /** Opens the quote editor; a refusal from the server is shown in the editor, which stays open. */
  private async editQuote(d: RequestDetail): Promise<void> {
    const requestId = d.request._id;
    const start = d.quote ? typedFrom(d.quote) : blankDraft(new Date());
    const title = t("quote.editorTitle", { ticket: d.request.ticketNumber ?? d.request.title });
    const saved = await editQuote(title, start, {
      preview: (lines, discount) => this.ipc.quotePreview(lines, discount),
      save: async (quote) => {
        try {
          const r = await this.ipc.perform({ type: "prepareQuote", requestId, quote });
          if (r.outcome !== "refused") {
            if (r.outcome === "queued") this.store.dispatch({ type: "toast", text: t("status.queued") });
            return null;
          }
          // Shown in the editor, where it can be fixed: not left in the outbox as well.
          await this.ipc.outboxDiscard(r.outboxId).catch(() => undefined);
          return r.refusal.message;
        } catch (e) {
          return e instanceof IpcError ? e.message : String(e);
        }
      },
    });
    if (saved) {
      void this.loadDetail();
      this.list?.refresh();
    }
  }

  private async sendMessage(body: string): Promise<boolean> {
    const id = this.detail?.request._id;
    if (!id) return false;
    return this.perform({ type: "sendMessage", requestId: id, body });
  }

  /** "Je prends", from the detail pane's button only (never from a list move or a preview).
   *  Never queued: offline, the engine refuses and the message says why. */
  private async acknowledge(id: string): Promise<void> {
    try {
      const r = await this.ipc.acknowledge(id);
      const me = this.store.state.session?.user._id;
      const by = r.acknowledgedBy;
      // A second "Je prends" changes nothing on the server: say who was first.
      const mine = !by || by._id === me || r.assigneeId === me;
      this.store.dispatch({ type: "toast", text: mine ? t("ack.done") : t("ack.already", { name: by.name }) });
    } catch (e) {
      this.toastError(e);
    }
    if (this.store.state.openId === id) void this.loadDetail();
    this.list?.refresh();
  }

  /** Stops the clocks and the keyboard handler: the window is going away (or a test is over). */
  stop(): void {
    document.removeEventListener("keydown", this.keydown);
    for (const id of this.intervals) clearInterval(id);
    this.intervals = [];
    clearTimeout(this.searchTimer);
    clearTimeout(this.toastTimer);
  }

  private tickCountdowns(): void {
    if (this.store.state.phase !== "ready" || document.hidden) return;
    tick(this.mainEl, Date.now(), words);
  }

  /** Runs an action through the engine (sent now, or queued in the outbox when offline). */
  private async perform(action: Action): Promise<boolean> {
    try {
      const r = await this.ipc.perform(action);
      if (r.outcome === "queued") this.store.dispatch({ type: "toast", text: t("status.queued") });
      else if (r.outcome === "refused") this.store.dispatch({ type: "toast", text: t("error.generic", { message: r.refusal.message }) });
      void this.loadDetail();
      this.list?.refresh();
      return r.outcome !== "refused";
    } catch (e) {
      this.toastError(e);
      return false;
    }
  }

  private toastError(e: unknown): void {
    const message = e instanceof IpcError ? e.message : String(e);
    this.store.dispatch({ type: "toast", text: t("error.generic", { message }) });
  }

  private onRequestsChanged(ids: string[]): void {
    this.list?.refresh();
    const open = this.store.state.openId;
    if (open && (ids.length === 0 || ids.includes(open))) void this.loadDetail();
  }

  private async showOutbox(): Promise<void> {
    let items;
    try {
      items = await this.ipc.outboxList();
    } catch (e) {
      this.toastError(e);
      return;
    }
    outboxOverlay(items, (id) => this.ipc.outboxDiscard(id), () => void this.showOutbox());
  }

  // ---- commands ---------------------------------------------------------------------------

  private async signIn(server: string, email: string, password: string): Promise<void> {
    try {
      const session = await this.ipc.signIn(server, email, password);
      await this.signedIn(session);
    } catch (e) {
      this.store.dispatch({ type: "signInFailed", error: e instanceof Error ? e.message : String(e) });
    }
  }

  private async signOut(): Promise<void> {
    let offline = false;
    try {
      offline = !(await this.ipc.signOut()).endedOnServer;
    } catch {
      offline = true;
    } finally {
      this.store.dispatch({ type: "signedOut" });
    }
    if (offline) this.store.dispatch({ type: "toast", text: t("signout.offline") });
  }

  // ---- sessions and accounts ----------------------------------------------------------------

  private readonly sessionsCallbacks: SessionsCallbacks = {
    onEnd: async (id) => {
      try {
        await this.ipc.sessionEnd(id);
        this.store.dispatch({ type: "toast", text: t("sessions.ended") });
        const host = this.mainEl.querySelector<HTMLElement>(".sessions-host");
        if (host) void this.loadSessions(host);
        return null;
      } catch (e) {
        return e instanceof IpcError ? e.message : String(e);
      }
    },
    onChangePassword: async (current, next) => {
      try {
        await this.ipc.passwordChange(current, next);
        const host = this.mainEl.querySelector<HTMLElement>(".sessions-host");
        if (host) void this.loadSessions(host);
        return null;
      } catch (e) {
        return answerOf(e);
      }
    },
  };

  private async loadSessions(host: HTMLElement): Promise<void> {
    try {
      const list = await this.ipc.sessionsList();
      replace(host, sessionsList(list, null, this.sessionsCallbacks));
    } catch (e) {
      replace(host, sessionsList(null, e instanceof Error ? e.message : String(e), this.sessionsCallbacks));
    }
  }

  private readonly accountsCallbacks: AccountsCallbacks = {
    create: (account) => this.accountChange(() => this.ipc.accountCreate(account), "accounts.created"),
    update: (id, patch) => this.accountChange(() => this.ipc.accountUpdate(id, patch), "accounts.saved"),
    resetPassword: (id, password) => this.accountChange(() => this.ipc.accountResetPassword(id, password), "accounts.resetDone"),
  };

  /** Runs one account change; on success says so and reloads the list. */
  private async accountChange(f: () => Promise<unknown>, done: MessageKey): Promise<Answer> {
    try {
      await f();
      this.store.dispatch({ type: "toast", text: t(done) });
      void this.loadAccounts();
      return null;
    } catch (e) {
      return answerOf(e);
    }
  }

  private async loadAccounts(): Promise<void> {
    const me = this.store.state.session?.user._id ?? "";
    if (!this.mainEl.querySelector("[data-testid=accounts]")) replace(this.mainEl, accountsView(null, null, me, this.accountsCallbacks));
    let view: HTMLElement;
    try {
      view = accountsView(await this.ipc.accountsList(), null, me, this.accountsCallbacks);
    } catch (e) {
      view = accountsView(null, e instanceof Error ? e.message : String(e), me, this.accountsCallbacks);
    }
    if (this.store.state.screen !== "accounts") return;
    // Keep the keyboard where it was: the same control of the same row, if any.
    const active = document.activeElement;
    const row = active?.closest("[data-testid=account-row]")?.getAttribute("data-id");
    const which = active?.getAttribute("data-testid");
    replace(this.mainEl, view);
    if (row && which) this.mainEl.querySelector<HTMLElement>(`[data-testid=account-row][data-id="${row}"] [data-testid=${which}]`)?.focus();
  }

  private dashboard: Pick<DashboardState, "from" | "to"> | null = null;

  /** The *Tableau de bord*: the last 12 weeks unless another period was asked for. */
  private async loadDashboard(from?: string, to?: string): Promise<void> {
    const period = from && to ? { from, to } : (this.dashboard ?? defaultPeriod(new Date()));
    this.dashboard = period;
    const show = (st: DashboardState) => {
      const focused = document.activeElement?.closest("[data-testid=dashboard]") ? document.activeElement.getAttribute("data-testid") : null;
      replace(this.mainEl, dashboardView(st, (f, t2) => void this.loadDashboard(f, t2)));
      if (focused) this.mainEl.querySelector<HTMLElement>(`[data-testid=${focused}]`)?.focus();
    };
    show({ ...period, metrics: null, error: null });
    let st: DashboardState;
    try {
      st = { ...period, metrics: readMetrics(await this.ipc.metrics(period.from, period.to)), error: null };
    } catch (e) {
      st = { ...period, metrics: null, error: e instanceof Error ? e.message : String(e) };
    }
    if (this.store.state.screen !== "dashboard" || this.dashboard !== period) return;
    show(st);
  }

  private async saveSettings(next: Settings): Promise<void> {
    try {
      const saved = await this.ipc.settingsSet(next);
      this.store.dispatch({ type: "settings", settings: saved });
      if (this.store.state.screen === "settings") this.renderScreen();
      this.store.dispatch({ type: "toast", text: t("settings.saved") });
    } catch (e) {
      this.toastError(e);
    }
  }

  private setLanguage(lang: Language): void {
    saveLanguage(lang, this.storage);
    void this.ipc.uiLanguage(lang).catch(() => undefined);
    this.renderRoot();
    this.store.dispatch({ type: "toast", text: t("settings.saved") });
  }

  // ---- keyboard ---------------------------------------------------------------------------

  private onKey(e: KeyboardEvent): void {
    const s = this.store.state;
    if (s.phase !== "ready") return;
    const target = e.target as Element | null;
    if (target?.closest(".overlay") && !this.helpEl?.contains(target)) return; // dialogs handle their own keys
    if ((e.key === "Enter" || e.key === " ") && target?.tagName === "BUTTON") return;
    const cmd = commandFor({ key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, inField: isTextField(target) });
    if (!cmd) return;
    if (s.helpOpen && cmd.type !== "help" && cmd.type !== "escape") return;
    e.preventDefault();
    this.run(cmd, target);
  }

  run(cmd: Command, target: Element | null = null): void {
    const s = this.store.state;
    switch (cmd.type) {
      case "help":
        this.store.dispatch({ type: "help", open: !s.helpOpen });
        return;
      case "escape":
        if (s.helpOpen) this.store.dispatch({ type: "help", open: false });
        else if (isTextField(target)) {
          (target as HTMLElement).blur();
          this.list?.el.focus();
        }
        return;
      case "search":
        if (s.screen !== "inbox") this.store.dispatch({ type: "screen", screen: "inbox" });
        this.search.focus();
        this.search.select();
        return;
      case "screen":
        if (cmd.screen === "mine" && s.session?.user.role === "ADMIN") return;
        if ((cmd.screen === "accounts" || cmd.screen === "dashboard") && s.session?.user.role !== "ADMIN") return;
        this.store.dispatch({ type: "screen", screen: cmd.screen });
        return;
      case "toggleUnread":
        if (s.screen === "inbox") this.patchFilters({ unreadOnly: !s.filters.unreadOnly });
        return;
      case "chat":
        this.detailEl.querySelector<HTMLElement>(".composer")?.focus();
        return;
      case "action": {
        const btn = this.detailEl.querySelector<HTMLButtonElement>(`.actions button[data-key="${cmd.index + 1}"]`);
        btn?.click();
        return;
      }
      case "open": {
        const list = this.list;
        if (!list) return;
        const row = list.cache.row(list.selectedIndex);
        if (row) this.open(row, true);
        return;
      }
      default: {
        const list = this.list;
        if (!list) return;
        const next = moveSelection(list.selectedIndex, cmd, list.cache.total);
        list.select(next);
        void list.cache.ensure(next, next + 1).then(() => {
          const row = list.cache.row(next);
          if (row) {
            list.render();
            this.store.dispatch({ type: "open", id: row.id }); // a preview: read marks wait for Enter
          }
        });
      }
    }
  }
}


/** A refusal as a form shows it: per field when the server named fields, else one message. */
export function answerOf(e: unknown): { errors: Record<string, string>; message: string } {
  if (e instanceof IpcError) return { errors: e.fields, message: e.message.replace(/ \(.*\)$/, "") };
  return { errors: {}, message: String(e) };
}

/** Chat messages of this request still in the outbox (or refused), for the chat to show. */
export function pendingMessages(outbox: OutboxEntry[], requestId: string): PendingMessage[] {
  const out: PendingMessage[] = [];
  for (const e of outbox) {
    if (e.action.type === "sendMessage" && e.action.requestId === requestId) {
      out.push({ body: e.action.body, createdAt: e.createdAt, refused: e.state === "refused" ? e.refusal?.message ?? t("outbox.refused") : null });
    }
  }
  return out;
}
