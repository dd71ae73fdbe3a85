//! Always-visible status: live/offline with the last sync time, full-sync progress, outbox counts.
import type { StatusDto } from "../bindings/StatusDto";
import { h, replace } from "../dom";
import { formatRelative } from "../format";
import { language, t } from "../i18n";

export function statusText(s: StatusDto, now: Date): string {
  const conn = t(`status.${s.connection}`);
  const when = formatRelative(s.lastSyncAt, now, language());
  return `${conn} · ${when ? t("status.lastSync", { when }) : t("status.never")}`;
}

/** Renders into `el`; `onOutbox` opens the list of waiting actions. */
export function renderStatus(el: HTMLElement, s: StatusDto, onOutbox: () => void): void {
  const now = new Date();
  const progress = s.syncProgress;
  replace(
    el,
    h(
      "span",
      { class: `conn conn-${s.connection}`, attrs: { "data-testid": "connection", "data-state": s.connection } },
      h("span", { class: "dot", attrs: { "aria-hidden": "true" } }),
      statusText(s, now),
    ),
    progress && progress.total > 0
      ? h(
          "span",
          { class: "sync", attrs: { "data-testid": "sync-progress" } },
          h("progress", { attrs: { max: String(progress.total), value: String(progress.done) } }),
          t("status.sync", { done: progress.done, total: progress.total }),
        )
      : null,
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
