//! Always-visible status: live/offline with the last sync time, full-sync progress, outbox counts,
//! and whether non-urgent notifications are paused from the tray.
import { h, replace } from "../dom";
import { formatRelative } from "../format";
import { language, t, type MessageKey } from "../i18n";
import type { Status } from "../state";

export function statusText(s: Status, now: Date): string {
  const conn = t(`status.${s.connection}` as MessageKey);
  const when = formatRelative(s.lastSyncAt, now, language());
  return `${conn} · ${when ? t("status.lastSync", { when }) : t("status.never")}`;
}

/** Renders into `el`; `onOutbox` opens the list of waiting actions. */
export function renderStatus(el: HTMLElement, s: Status, onOutbox: () => void): void {
  const now = new Date();
  const sync = s.sync;
  replace(
    el,
    h(
      "span",
      { class: `conn conn-${s.connection}`, attrs: { "data-testid": "connection", "data-state": s.connection, title: s.lastSyncAt ?? "" } },
      h("span", { class: "dot", attrs: { "aria-hidden": "true" } }),
      statusText(s, now),
    ),
    sync
      ? h(
          "span",
          { class: "sync", attrs: { "data-testid": "sync-progress" } },
          sync.total ? h("progress", { attrs: { max: String(sync.total), value: String(sync.done) } }) : h("progress", null),
          sync.total ? t("status.sync", { done: sync.done, total: sync.total }) : t("status.syncing"),
        )
      : null,
    s.paused ? h("span", { class: "paused", attrs: { "data-testid": "paused", title: t("status.pausedHint") } }, t("status.paused")) : null,
    s.outboxPending > 0 || s.outboxRefused > 0
      ? h(
          "button",
          {
            class: `outbox${s.outboxRefused > 0 ? " refused" : ""}`,
            attrs: { "data-testid": "outbox", "data-pending": String(s.outboxPending), "data-refused": String(s.outboxRefused) },
            on: { click: onOutbox },
          },
          s.outboxPending > 0 ? t("status.outbox", { n: s.outboxPending }) : null,
          s.outboxPending > 0 && s.outboxRefused > 0 ? " · " : null,
          s.outboxRefused > 0 ? t("status.refused", { n: s.outboxRefused }) : null,
        )
      : null,
  );
}
