//! The only module that talks to the Tauri shell: one typed function per command, one per event.
// Everything else in the UI imports from here, so tests replace this module with a fake.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { Account } from "./bindings/Account";
import type { AccountPatch } from "./bindings/AccountPatch";
import type { Action } from "./bindings/Action";
import type { NewAccount } from "./bindings/NewAccount";
import type { SessionInfo } from "./bindings/SessionInfo";
import type { SignOutOutcome } from "./bindings/SignOutOutcome";
import type { EngineEvent } from "./bindings/EngineEvent";
import type { InboxPage } from "./bindings/InboxPage";
import type { InboxQuery } from "./bindings/InboxQuery";
import type { OutboxEntry } from "./bindings/OutboxEntry";
import type { PerformOutcome } from "./bindings/PerformOutcome";
import type { QuoteLineDraft } from "./bindings/QuoteLineDraft";
import type { QuotePreview } from "./bindings/QuotePreview";
import type { Request } from "./bindings/Request";
import type { RequestDetail } from "./bindings/RequestDetail";
import type { Session } from "./bindings/Session";
import type { Settings } from "./bindings/Settings";
import type { StatusSnapshot } from "./bindings/StatusSnapshot";
import type { UiError } from "./bindings/UiError";
import type { User } from "./bindings/User";

/** An error from a command, as the shell maps it: `{code, message}`. */
export class IpcError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The server's French message per faulty field (`currentPassword`, `email`...). */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function toIpcError(e: unknown): IpcError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const dto = e as UiError;
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(dto.fields ?? {})) if (typeof v === "string") fields[k] = v;
    return new IpcError(String(dto.code), String(dto.message), fields);
  }
  return new IpcError("internal", String(e));
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export const ipc = {
  /** Signs in again from the keyring; null when there is nothing to restore. */
  sessionRestore: () => call<Session | null>("session_restore"),
  signIn: (server: string, email: string, password: string) => call<Session>("sign_in", { server, email, password }),
  /** Ends the session on the server when reachable; forgets it here in any case. */
  signOut: () => call<SignOutOutcome>("sign_out"),
  /** The user's live sessions; `current` is this device. */
  sessionsList: () => call<SessionInfo[]>("sessions_list"),
  sessionEnd: (id: string) => call<void>("session_end", { id }),
  passwordChange: (current: string, next: string) => call<string>("password_change", { current, new: next }),
  /** Admins: every account. */
  accountsList: () => call<Account[]>("accounts_list"),
  accountCreate: (account: NewAccount) => call<Account>("account_create", { account }),
  accountUpdate: (id: string, patch: AccountPatch) => call<Account>("account_update", { id, patch }),
  accountResetPassword: (id: string, password: string) => call<string>("account_reset_password", { id, password }),
  inboxPage: (query: InboxQuery) => call<InboxPage>("inbox_page", { query }),
  requestDetail: (id: string) => call<RequestDetail>("request_detail", { id }),
  markRead: (id: string) => call<void>("mark_read", { id }),
  perform: (action: Action) => call<PerformOutcome>("perform", { action }),
  /** "Je prends": acknowledges an intervention on the server, for everyone; never queued
   *  (offline it fails). Answers the request as the server has it now. */
  acknowledge: (id: string) => call<Request>("acknowledge", { id }),
  /** Admins: the server's `/api/staff/metrics` JSON for [from, to] (`YYYY-MM-DD`), as is. */
  metrics: (from: string, to: string) => call<unknown>("metrics", { from, to }),
  /** Totals of a quote being edited, by the engine (the server's arithmetic). */
  quotePreview: (lines: QuoteLineDraft[], discount: number) => call<QuotePreview>("quote_preview", { lines, discount }),
  technicians: () => call<User[]>("technicians"),
  status: () => call<StatusSnapshot>("status"),
  outboxList: () => call<OutboxEntry[]>("outbox_list"),
  outboxDiscard: (id: number) => call<void>("outbox_discard", { id }),
  settingsGet: () => call<Settings>("settings_get"),
  settingsSet: (settings: Settings) => call<Settings>("settings_set", { settings }),
  /** Tells the shell the inbox has painted (start-up timing). */
  inboxPainted: () => call<void>("inbox_painted"),
  /** The UI's language, so the tray menu speaks it too. */
  uiLanguage: (lang: string) => call<void>("ui_language", { lang }),
  /** Whether the OS starts the app (in the tray) at login. */
  autostartGet: () => call<boolean>("autostart_get"),
  /** Writes or removes the autostart entry; answers what the OS now says. */
  autostartSet: (enabled: boolean) => call<boolean>("autostart_set", { enabled }),
  /** The quit question is on screen (without it, the shell quits after a few seconds). */
  quitPrompted: () => call<void>("quit_prompted"),
  /** Quits the app: alerts stop until it runs again. */
  quitConfirmed: () => call<void>("quit_confirmed"),
  /** The plain-text report for a support request (no secrets). */
  diagnostic: () => call<string>("diagnostic"),
};

export type Ipc = typeof ipc;

export const events = {
  /** Every engine event, forwarded as is by the shell. */
  onEngine: (f: (e: EngineEvent) => void): Promise<UnlistenFn> => listen<EngineEvent>("desk://engine", (e) => f(e.payload)),
  /** The tray's "pause non-urgent notifications" switch changed. */
  onPaused: (f: (paused: boolean) => void): Promise<UnlistenFn> => listen<boolean>("desk://paused", (e) => f(e.payload)),
  /** The tray's "Quitter": the shell asks the window to confirm. */
  onQuitRequested: (f: () => void): Promise<UnlistenFn> => listen<null>("desk://quit-requested", () => f()),
  /** An itv://request/{id} link was opened (an e-mail, a chat): show that request. */
  onOpenRequest: (f: (requestId: string) => void): Promise<UnlistenFn> =>
    listen<{ requestId: string }>("desk://open-request", (e) => f(e.payload.requestId)),
};

export type Events = typeof events;
