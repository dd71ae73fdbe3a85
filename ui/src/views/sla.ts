//! Ownership and service levels on screen: the inbox row's chip ("Pris par Awa" or a countdown),
//! the detail pane's section (who took it and when, each timer with its target and due time, the
//! seed's en-route promise for urgent calls) and the "Je prends" button.
import { h } from "../dom";
import { formatDateTime, parseTimestamp } from "../format";
import { language, t } from "../i18n";
import {
  ackTimer,
  awaitsAssignee,
  countdownEl,
  enRouteTimer,
  firstName,
  formatSpan,
  isFinal,
  resolveTimer,
  runningTimer,
  timerState,
  type Timer,
  type Tracking,
  type Wording,
} from "../tracking";

const TIMER_NAME = { ack: "sla.ack", resolve: "sla.resolve", enRoute: "sla.enRoute" } as const;

/** Short due time for labels: the time in Dakar, with the day when it is not today. */
function dueText(iso: string): string {
  return formatDateTime(iso, language());
}

/** The words of a countdown: `reste 14:05` / `en retard de 5 min`, or compact for rows
 *  (`⏱ 14:05` / `Retard 5 min`); the accessible label always names the timer and due time. */
export const words: Wording = (timer, state, spanMs, compact) => {
  const lang = language();
  const name = t(TIMER_NAME[timer.which]);
  const due = dueText(timer.due);
  if (state === "met" || (state === "breached" && timer.done)) {
    const word = t(state === "met" ? "sla.met" : "sla.breached");
    return { text: compact ? `${name} ${word}` : word, label: `${name} : ${word} (${t("sla.due", { when: due })})` };
  }
  if (state === "breached") {
    const time = formatSpan(spanMs, lang, false);
    return { text: compact ? t("sla.lateShort", { time }) : t("sla.late", { time }), label: t("sla.labelLate", { timer: name, time, due }) };
  }
  const time = formatSpan(spanMs, lang, true);
  return {
    text: compact ? `⏱ ${time}` : t("sla.left", { time }),
    label: t("sla.labelLeft", { timer: name, time: formatSpan(spanMs, lang, false), due }),
  };
};

/** The row's chip: who took it (and a countdown if resolution is at risk or late), or the
 *  countdown of the running timer; nothing for requests without service levels. */
export function rowChip(tr: Tracking, status: string, nowMs: number): HTMLElement | null {
  const running = runningTimer(tr, status, nowMs);
  if (tr.acknowledgedBy) {
    const taken = h(
      "span",
      { class: "taken", attrs: { "data-testid": "taken-by" }, title: t("sla.takenByFull", { name: tr.acknowledgedBy.name, when: formatDateTime(tr.acknowledgedAt, language()) }) },
      t("sla.takenBy", { name: firstName(tr.acknowledgedBy.name) }),
    );
    const late = running && running.which === "resolve" && timerState(running, nowMs) !== "pending" ? countdownEl(running, nowMs, true, words) : null;
    return h("span", { class: "sla-chip" }, taken, late);
  }
  if (!running) return null;
  return h("span", { class: "sla-chip" }, countdownEl(running, nowMs, true, words));
}

/** Target of a timer: its due time minus the request's creation. */
function target(timer: Timer): string | null {
  if (!timer.start) return null;
  const span = parseTimestamp(timer.due).getTime() - parseTimestamp(timer.start).getTime();
  return Number.isFinite(span) && span > 0 ? t("sla.target", { span: formatSpan(span, language(), false) }) : null;
}

/** One line per timer: name, target, due time and the live countdown (or met / missed). */
function timerLine(timer: Timer, nowMs: number, final: boolean): HTMLElement {
  const state = timerState(timer, nowMs);
  const stopped = final || state === "met" || timer.done !== null;
  return h(
    "li",
    { class: `sla-line sla-${state}`, attrs: { "data-testid": `sla-${timer.which}`, "data-state": state } },
    h("strong", null, timer.which === "enRoute" ? t("sla.promise") : t(TIMER_NAME[timer.which])),
    timer.which === "enRoute" ? null : h("span", { class: "muted" }, target(timer)),
    h("span", { class: "muted" }, t("sla.due", { when: dueText(timer.due) })),
    stopped
      ? h("span", { class: `verdict sla-${state}` }, timer.which === "enRoute" ? t(state === "met" ? "sla.promiseKept" : "sla.promiseMissed") : t(state === "met" ? "sla.met" : "sla.breached"))
      : countdownEl(timer, nowMs, false, words, `countdown-${timer.which}`),
  );
}

/** The detail pane's section of an intervention: who took it, the assignee's own
 *  acknowledgement, the timers, and for urgent calls the en-route promise. */
export function ownershipSection(r: { status: string; priority: string; assigneeName: string | null; assigneeId: string | null }, tr: Tracking, nowMs: number): HTMLElement {
  const lang = language();
  const final = isFinal(r.status);
  const lines: HTMLElement[] = [];
  if (tr.acknowledgedBy) {
    lines.push(h("p", { attrs: { "data-testid": "ack-by" } }, t("sla.takenByFull", { name: tr.acknowledgedBy.name, when: formatDateTime(tr.acknowledgedAt, lang) })));
  } else if (!final) {
    lines.push(h("p", { class: "sla-nobody", attrs: { "data-testid": "ack-nobody" } }, t("sla.nobody")));
  }
  const assignee = r.assigneeName ?? "";
  if (awaitsAssignee(r, tr)) lines.push(h("p", { class: "sla-awaits", attrs: { "data-testid": "assignment-pending" } }, t("sla.awaitsAssignee", { name: assignee })));
  else if (r.assigneeId && tr.assignmentAcknowledgedAt) {
    lines.push(h("p", { class: "muted", attrs: { "data-testid": "assignment-acked" } }, t("sla.assigneeAcked", { name: assignee, when: formatDateTime(tr.assignmentAcknowledgedAt, lang) })));
  }
  const timers = [ackTimer(tr), resolveTimer(tr), enRouteTimer(tr, r.priority)].filter((x): x is Timer => x !== null);
  if (tr.enRouteAt) lines.push(h("p", { attrs: { "data-testid": "en-route-at" } }, t("sla.enRouteAt", { when: formatDateTime(tr.enRouteAt, lang) })));
  return h(
    "section",
    { class: "ownership", attrs: { "data-testid": "ownership", "aria-label": t("sla.title") } },
    h("h3", null, t("sla.title")),
    ...lines,
    timers.length ? h("ul", { class: "sla-lines" }, ...timers.map((x) => timerLine(x, nowMs, final))) : null,
  );
}

/** "Je prends", when the engine says it means something for this user
 *  (`RequestDetail.canAcknowledge`: nobody took it, or it is their assignment not yet
 *  acknowledged) and the request is an intervention still open. A real button, so Tab, Enter
 *  and Space reach it; nothing else (no list move, no preview) acknowledges. */
export function ackButton(
  may: boolean,
  r: { kind: string; status: string },
  tr: Tracking,
  onAcknowledge: () => void,
): HTMLElement | null {
  if (!may || r.kind !== "intervention" || isFinal(r.status)) return null;
  const assignment = tr.acknowledgedAt !== null;
  return h(
    "button",
    {
      class: "primary acknowledge",
      type: "button",
      title: t(assignment ? "ack.hintAssignment" : "ack.hint"),
      attrs: { "data-testid": "acknowledge" },
      on: { click: onAcknowledge },
    },
    h("span", { attrs: { "aria-hidden": "true" } }, "✋ "),
    t("ack.button"),
  );
}
