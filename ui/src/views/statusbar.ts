//! Always-visible status: live/offline with the last sync time, full-sync progress, outbox counts,
//! whether non-urgent notifications are paused from the tray, and what the engine owns up to:
//! alerts not shown yet and events it could not read (each hidden at zero).
import { h, replace } from "../dom";
import { formatRelative } from "../format";
import { language, t, type MessageKey } from "../i18n";
import type { Status } from "../state";

export function statusText(s: Status, now: Date): string {
  const conn = t(`status.${s.connection}` as MessageKey);
  const when = formatRelative(s.lastSyncAt, now, language());
  return `${conn} · ${when ? t("status.lastSync", { when }) : t("status.never")}`;
}

/** The health warnings, in words: [testid, text, hint], none when all is well. */
export function healthWarnings(s: Pick<Status, "noticesFailing" | "quarantined">): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  const n = s.noticesFailing;
  if (n > 0) out.push(["health-notices", t(n === 1 ? "status.noticesFailing.one" : "status.noticesFailing.many", { n }), t("status.noticesFailingHint")]);
  const q = s.quarantined;
  if (q > 0) out.push(["health-quarantined", t(q === 1 ? "status.quarantined.one" : "status.quarantined.many", { n: q }), t("status.quarantinedHint")]);
  return out;
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
    ...healthWarnings(s).map(([id, text, hint]) => h("span", { class: "health", attrs: { "data-testid": id, role: "status", title: hint } }, `⚠ ${text}`)),
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
