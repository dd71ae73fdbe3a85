//! The only module that talks to the Tauri shell: one typed function per command, one per event.
// Everything else in the UI imports from here, so tests replace this module with a fake.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { ErrorDto } from "./bindings/ErrorDto";
import type { InboxPage } from "./bindings/InboxPage";
import type { InboxQuery } from "./bindings/InboxQuery";
import type { MutationResult } from "./bindings/MutationResult";
import type { OpenRequest } from "./bindings/OpenRequest";
import type { OutboxItemDto } from "./bindings/OutboxItemDto";
import type { RequestDetail } from "./bindings/RequestDetail";
import type { RequestsChanged } from "./bindings/RequestsChanged";
import type { SessionDto } from "./bindings/SessionDto";
import type { SettingsDto } from "./bindings/SettingsDto";
import type { StatusDto } from "./bindings/StatusDto";
import type { UserDto } from "./bindings/UserDto";

/** An error from a command, as the shell maps it: `{code, message}`. */
export class IpcError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function toIpcError(e: unknown): IpcError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const dto = e as ErrorDto;
    return new IpcError(dto.code, dto.message);
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
  sessionRestore: () => call<SessionDto | null>("session_restore"),
  signIn: (server: string, email: string, password: string) =>
    call<SessionDto>("sign_in", { server, email, password }),
  signOut: () => call<void>("sign_out"),
  inboxPage: (query: InboxQuery, offset: number, limit: number) =>
    call<InboxPage>("inbox_page", { query, offset, limit }),
  requestDetail: (id: string) => call<RequestDetail>("request_detail", { id }),
  markRead: (id: string) => call<void>("mark_read", { id }),
  changeStatus: (id: string, status: string, reason: string | null) =>
    call<MutationResult>("change_status", { id, status, reason }),
  assign: (id: string, technicianId: string) => call<MutationResult>("assign", { id, technicianId }),
  sendMessage: (id: string, body: string) => call<MutationResult>("send_message", { id, body }),
  technicians: () => call<UserDto[]>("technicians"),
  status: () => call<StatusDto>("status"),
  outboxList: () => call<OutboxItemDto[]>("outbox_list"),
  outboxDismiss: (id: number) => call<void>("outbox_dismiss", { id }),
  settingsGet: () => call<SettingsDto>("settings_get"),
  settingsSet: (settings: SettingsDto) => call<SettingsDto>("settings_set", { settings }),
  /** Tells the shell the inbox has painted (for start-up timing). */
  inboxPainted: () => call<void>("inbox_painted"),
};

export type Ipc = typeof ipc;

export const events = {
  onStatus: (f: (s: StatusDto) => void): Promise<UnlistenFn> =>
    listen<StatusDto>("desk://status", (e) => f(e.payload)),
  onRequestsChanged: (f: (c: RequestsChanged) => void): Promise<UnlistenFn> =>
    listen<RequestsChanged>("desk://requests-changed", (e) => f(e.payload)),
  onOpenRequest: (f: (o: OpenRequest) => void): Promise<UnlistenFn> =>
    listen<OpenRequest>("desk://open-request", (e) => f(e.payload)),
};
