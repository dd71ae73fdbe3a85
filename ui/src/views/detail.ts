//! The detail pane: every field of a request, its actions for the user's role, history and chat.
import type { RequestDetail } from "../bindings/RequestDetail";
import type { RequestDto } from "../bindings/RequestDto";
import type { UserDto } from "../bindings/UserDto";
import { availableActions, type Action } from "../actions";
import { h, type Child } from "../dom";
import { formatDate, formatDateTime, formatXof } from "../format";
import { label, language, t, type MessageKey } from "../i18n";

export interface DetailCallbacks {
  onAction(a: Action): void;
  onSend(body: string): Promise<boolean>;
}

export function actionLabel(a: Action): string {
  if (a.type === "status" && a.labelParams?.status) return t(a.labelKey, { status: label("status", a.labelParams.status) });
  return t(a.labelKey);
}

/** The fields shown for a request, in order, skipping the ones a kind does not have. */
export function fieldRows(r: RequestDto): Array<[MessageKey, string]> {
  const lang = language();
  const rows: Array<[MessageKey, string | null]> = [
    ["field.ticketNumber", r.ticketNumber],
    ["field.kind", label("kind", r.kind)],
    ["field.status", label("status", r.status)],
    ["field.priority", label("priority", r.priority)],
    ["field.client", r.clientName],
    ["field.assignee", r.assigneeName],
    ["field.site", r.site],
    ["field.serviceType", r.serviceType],
    ["field.urgency", r.urgency],
    ["field.interventionType", r.interventionType],
    ["field.category", r.category],
    ["field.estimatedBudget", r.estimatedBudget === null ? null : formatXof(r.estimatedBudget, lang)],
    ["field.preferredStartDate", r.preferredStartDate ? formatDate(r.preferredStartDate, lang) : null],
    ["field.preferredDate", r.preferredDate ? formatDate(r.preferredDate, lang) : null],
    ["field.deadline", r.deadline],
    ["field.rejectionReason", r.rejectionReason],
    ["field.createdAt", formatDateTime(r.createdAt, lang)],
    ["field.updatedAt", formatDateTime(r.updatedAt, lang)],
    ["field.version", String(r.version)],
  ];
  return rows.filter((x): x is [MessageKey, string] => x[1] !== null && x[1] !== "");
}

export function renderDetail(d: RequestDetail, user: UserDto, cb: DetailCallbacks): HTMLElement {
  const r = d.request;
  const lang = language();
  const actions = availableActions(user, r);
  const composer = h("textarea", {
    class: "composer",
    placeholder: t("chat.placeholder"),
    attrs: { rows: "2", "data-testid": "chat-input", "aria-label": t("detail.chat") },
  });
  const send = async () => {
    const body = composer.value.trim();
    if (!body) return;
    if (await cb.onSend(body)) composer.value = "";
  };
  composer.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void send();
    }
  });
  const items: Child = r.items.length
    ? h("ul", { class: "items" }, ...r.items.map((it) => h("li", null, `${it.quantity} × ${it.name}`, it.specifications ? ` — ${it.specifications}` : "")))
    : null;
  return h(
    "article",
    { class: "detail-body", attrs: { "data-testid": "detail", "data-id": r.id, "data-status": r.status } },
    h(
      "header",
      null,
      h("div", { class: "ticket" }, r.ticketNumber ?? label("kind", r.kind)),
      h("h2", { attrs: { "data-testid": "detail-title" } }, r.title),
      h("span", { class: `prio prio-${r.priority}` }, label("priority", r.priority)),
      h("span", { class: "status", attrs: { "data-testid": "detail-status" } }, label("status", r.status)),
    ),
    h(
      "section",
      { class: "actions", attrs: { "aria-label": t("detail.actions") } },
      ...(actions.length
        ? actions.map((a, i) =>
            h(
              "button",
              {
                class: a.type === "reject" || (a.type === "status" && a.status === "cancelled") ? "danger" : "primary",
                title: `${i + 1}`,
                attrs: { "data-testid": `action-${a.type === "status" ? a.status : a.type}`, "data-key": String(i + 1) },
                on: { click: () => cb.onAction(a) },
              },
              h("kbd", null, String(i + 1)),
              " ",
              actionLabel(a),
            ),
          )
        : [h("span", { class: "muted" }, t("detail.noActions"))]),
    ),
    h("p", { class: "description" }, r.description),
    items ? h("section", null, h("h3", null, t("field.items")), items) : null,
    h(
      "section",
      null,
      h("h3", null, t("detail.fields")),
      h("dl", { class: "fields" }, ...fieldRows(r).flatMap(([k, v]) => [h("dt", null, t(k)), h("dd", null, v)])),
    ),
    d.quote
      ? h(
          "section",
          { class: "quote" },
          h("h3", null, t("detail.quote")),
          h(
            "table",
            null,
            h(
              "tbody",
              null,
              ...d.quote.lines.map((l) =>
                h("tr", null, h("td", null, l.designation), h("td", null, String(l.quantity)), h("td", { class: "num" }, formatXof(l.unitPrice, lang)), h("td", { class: "num" }, formatXof(l.unitPrice * l.quantity, lang))),
              ),
            ),
          ),
          h(
            "dl",
            { class: "fields" },
            ...quoteTotals(d.quote).flatMap(([k, v]) => [h("dt", null, t(k)), h("dd", null, v)]),
          ),
        )
      : null,
    h(
      "section",
      { class: "chat", attrs: { "data-testid": "chat" } },
      h("h3", null, t("detail.chat")),
      d.messages.length
        ? h(
            "ol",
            { class: "messages" },
            ...d.messages.map((m) =>
              h(
                "li",
                { class: `msg role-${m.authorRole.toLowerCase()}${m.pending ? " pending" : ""}`, attrs: { "data-testid": "chat-message" } },
                h("div", { class: "meta" }, `${m.authorName} · ${formatDateTime(m.createdAt, lang)}`, m.pending ? ` · ${t("chat.pending")}` : ""),
                h("div", { class: "body" }, m.body),
              ),
            ),
          )
        : h("p", { class: "muted" }, t("chat.empty")),
      h("div", { class: "composer-row" }, composer, h("button", { class: "primary", attrs: { "data-testid": "chat-send" }, on: { click: () => void send() } }, t("chat.send"))),
    ),
    h(
      "section",
      { class: "history" },
      h("h3", null, t("detail.history")),
      h(
        "ol",
        null,
        ...d.history.map((e) =>
          h(
            "li",
            null,
            h("time", null, formatDateTime(e.at, lang)),
            " ",
            h("strong", null, e.actorName),
            " — ",
            e.fromStatus || e.toStatus ? `${e.fromStatus ? label("status", e.fromStatus) : "∅"} → ${e.toStatus ? label("status", e.toStatus) : "∅"}` : e.action,
            e.note ? h("div", { class: "note" }, e.note) : null,
          ),
        ),
      ),
    ),
  );
}

function quoteTotals(q: NonNullable<RequestDetail["quote"]>): Array<[MessageKey, string]> {
  const lang = language();
  const rows: Array<[MessageKey, string | null]> = [
    ["quote.subtotal", q.subtotal === null ? null : formatXof(q.subtotal, lang)],
    ["quote.vat", q.vat === null ? null : formatXof(q.vat, lang)],
    ["quote.total", q.total === null ? null : formatXof(q.total, lang)],
    ["quote.validUntil", q.validUntil ? formatDate(q.validUntil, lang) : null],
  ];
  return rows.filter((x): x is [MessageKey, string] => x[1] !== null);
}
