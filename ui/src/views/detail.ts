//! The detail pane: every field of a request, its actions for the user's role, history and chat.
import type { RequestDetail } from "../bindings/RequestDetail";
import type { Request } from "../bindings/Request";
import type { User } from "../bindings/User";
import { availableActions, type UiAction } from "../actions";
import { h } from "../dom";
import { formatDate, formatDateTime, formatXof } from "../format";
import { label, language, t, type MessageKey } from "../i18n";
import { renderQuote } from "./quote";
import { ackButton, ownershipSection } from "./sla";
import { trackingOf } from "../tracking";

export interface DetailCallbacks {
  onAction(a: UiAction): void;
  onSend(body: string): Promise<boolean>;
  /** "Je prends": the only way the detail pane acknowledges an intervention. */
  onAcknowledge?(): void;
}

/** Chat messages still waiting in the outbox, shown greyed after the sent ones. */
export interface PendingMessage {
  body: string;
  createdAt: string;
  refused: string | null;
}

/** A kind-specific field the engine keeps verbatim (`serviceType`, `estimatedBudget`, `items`...). */
export function extra(r: Request, key: string): unknown {
  return (r as unknown as Record<string, unknown>)[key];
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function actionLabel(a: UiAction): string {
  if (a.type === "status" && a.step) return t(a.labelKey, { status: label("status", a.status) });
  return t(a.labelKey);
}

/** Translates a code of a closed set (`serviceType`, `category`...) when a label exists. */
function code(prefix: "service" | "category" | "urgency" | "itype", v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const key = `${prefix}.${s}` as MessageKey;
  const text = t(key);
  return text === key ? s : text;
}

/** The fields shown for a request, in order, skipping the ones it does not have. */
export function fieldRows(r: Request): Array<[MessageKey, string]> {
  const lang = language();
  const budget = num(extra(r, "estimatedBudget"));
  const start = str(extra(r, "preferredStartDate"));
  const date = str(extra(r, "preferredDate"));
  const rows: Array<[MessageKey, string | null]> = [
    ["field.ticketNumber", r.ticketNumber],
    ["field.kind", label("kind", r.kind)],
    ["field.status", label("status", r.status)],
    ["field.priority", label("priority", r.priority)],
    ["field.client", r.clientName || null],
    ["field.assignee", r.assigneeName],
    ["field.site", r.site || null],
    ["field.serviceType", code("service", extra(r, "serviceType"))],
    ["field.urgency", code("urgency", extra(r, "urgency"))],
    ["field.interventionType", code("itype", extra(r, "type"))],
    ["field.category", code("category", extra(r, "category"))],
    ["field.estimatedBudget", budget === null ? null : formatXof(budget, lang)],
    ["field.preferredStartDate", start ? formatDate(start, lang) : null],
    ["field.preferredDate", date ? formatDate(date, lang) : null],
    ["field.deadline", str(extra(r, "deadline"))],
    ["field.rejectionReason", str(extra(r, "rejectionReason"))],
    ["field.createdAt", formatDateTime(r.createdAt, lang)],
    ["field.updatedAt", formatDateTime(r.updatedAt, lang)],
    ["field.version", String(r.version)],
  ];
  return rows.filter((x): x is [MessageKey, string] => x[1] !== null && x[1] !== "");
}

interface QuoteItemView {
  name: string;
  quantity: number;
  specifications?: string | null;
}

function items(r: Request): QuoteItemView[] {
  const v = extra(r, "items");
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === "object" && typeof x.name === "string") as QuoteItemView[]) : [];
}

export function renderDetail(d: RequestDetail, user: User, cb: DetailCallbacks, pending: PendingMessage[] = []): HTMLElement {
  const r = d.request;
  const lang = language();
  const actions = availableActions(user, r, d.quote !== null);
  const tracking = trackingOf(r);
  const now = Date.now();
  const take = cb.onAcknowledge ? ackButton(d.canAcknowledge, r, tracking, cb.onAcknowledge) : null;
  const composer = h("textarea", {
    class: "composer",
    placeholder: t("chat.placeholder"),
    attrs: { rows: "2", "data-testid": "chat-input", "aria-label": t("detail.chat") },
  });
  // Emptied as soon as it is sent: the pane may be redrawn while the send is under way
  // (its own message.created arrives), and a redraw keeps whatever the field holds as the
  // draft of the next message. Put back if refused, into the field shown by then.
  const send = async () => {
    const body = composer.value.trim();
    if (!body) return;
    composer.value = "";
    if (await cb.onSend(body)) return;
    // Ids are UUIDs: nothing in them needs escaping in the selector.
    const redrawn = composer.isConnected ? null : document.querySelector<HTMLTextAreaElement>(`[data-id="${r._id}"] .composer`);
    const live = redrawn ?? composer;
    if (!live.value) live.value = body;
  };
  composer.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void send();
    }
  });
  const its = items(r);
  const message = (cls: string, author: string, at: string, body: string, note: string | null) =>
    h(
      "li",
      { class: cls, attrs: { "data-testid": "chat-message" } },
      h("div", { class: "meta" }, `${author} · ${formatDateTime(at, lang)}`, note ? ` · ${note}` : ""),
      h("div", { class: "body" }, body),
    );
  const messages = [
    ...d.messages.map((m) => message(`msg role-${(m.authorRole ?? "CLIENT").toLowerCase()}`, m.authorName, m.createdAt, m.body, null)),
    ...pending.map((p) => message("msg role-admin pending", user.name, p.createdAt, p.body, p.refused ?? t("chat.pending"))),
  ];
  return h(
    "article",
    { class: "detail-body", attrs: { "data-testid": "detail", "data-id": r._id, "data-status": r.status } },
    h(
      "header",
      null,
      h("div", { class: "ticket", attrs: { "data-testid": "detail-ticket" } }, r.ticketNumber ?? label("kind", r.kind)),
      h("h2", { attrs: { "data-testid": "detail-title" } }, r.title),
      h("span", { class: `prio prio-${r.priority}` }, label("priority", r.priority)),
      h("span", { class: "status", attrs: { "data-testid": "detail-status" } }, label("status", r.status)),
    ),
    h(
      "section",
      { class: "actions", attrs: { "aria-label": t("detail.actions") } },
      take,
      ...(actions.length
        ? actions.map((a, i) =>
            h(
              "button",
              {
                class: a.type === "reject" || (a.type === "status" && a.status === "cancelled") ? "danger" : "primary",
                attrs: {
                  "data-testid": `action-${a.type === "status" ? a.status : a.type}`,
                  "data-key": String(i + 1),
                  "aria-keyshortcuts": String(i + 1),
                },
                on: { click: () => cb.onAction(a) },
              },
              h("kbd", null, String(i + 1)),
              " ",
              actionLabel(a),
            ),
          )
        : take
          ? []
          : [h("span", { class: "muted" }, t("detail.noActions"))]),
    ),
    r.kind === "intervention" ? ownershipSection(r, tracking, now) : null,
    h("p", { class: "description" }, r.description),
    d.quote ? renderQuote(d.quote) : r.kind === "quote" ? h("p", { class: "muted", attrs: { "data-testid": "quote-none" } }, t("quote.none")) : null,
    its.length ? h("section", null, h("h3", null, t("field.items")), h("ul", { class: "items" }, ...its.map((it) => h("li", null, `${it.quantity} × ${it.name}`, it.specifications ? ` — ${it.specifications}` : "")))) : null,
    h(
      "section",
      null,
      h("h3", null, t("detail.fields")),
      h("dl", { class: "fields" }, ...fieldRows(r).flatMap(([k, v]) => [h("dt", null, t(k)), h("dd", null, v)])),
    ),
    h(
      "section",
      { class: "chat", attrs: { "data-testid": "chat" } },
      h("h3", null, t("detail.chat")),
      messages.length ? h("ol", { class: "messages" }, ...messages) : h("p", { class: "muted" }, t("chat.empty")),
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
            h("strong", null, e.actorName ?? "—"),
            " — ",
            e.fromStatus || e.toStatus ? `${e.fromStatus ? label("status", e.fromStatus) : "∅"} → ${e.toStatus ? label("status", e.toStatus) : "∅"}` : label("history", e.action),
            e.note ? h("div", { class: "note" }, e.note) : null,
          ),
        ),
      ),
    ),
  );
}
