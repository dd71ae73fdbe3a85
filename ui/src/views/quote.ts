//! Quotes in the detail pane: the stored quote (lines and totals in XOF), and the editor an
//! admin prepares it with. Totals come from the engine (the server's own arithmetic), never
//! from arithmetic here; this module only reads what was typed and lays it out.
import type { QuoteDoc } from "../bindings/QuoteDoc";
import type { QuoteDraft } from "../bindings/QuoteDraft";
import type { QuoteLineDraft } from "../bindings/QuoteLineDraft";
import type { QuotePreview } from "../bindings/QuotePreview";
import { h, replace } from "../dom";
import { dialogKeys } from "./dialogs";
import { formatDate, formatXof } from "../format";
import { language, t } from "../i18n";

/** The stored quote as the detail pane shows it. */
export function renderQuote(q: QuoteDoc): HTMLElement {
  const lang = language();
  const money = (n: number) => formatXof(n, lang);
  const total = (key: Parameters<typeof t>[0], amount: number, cls = "", params: Record<string, string | number> = {}) =>
    h("tr", { class: cls }, h("th", { attrs: { scope: "row", colspan: "3" } }, t(key, params)), h("td", { class: "num" }, money(amount)));
  return h(
    "section",
    { class: "quote", attrs: { "data-testid": "quote" } },
    h("h3", null, t("quote.title")),
    h(
      "table",
      { class: "quote-lines" },
      h(
        "thead",
        null,
        h("tr", null, h("th", null, t("quote.designation")), h("th", { class: "num" }, t("quote.quantity")), h("th", { class: "num" }, t("quote.unitPrice")), h("th", { class: "num" }, t("quote.lineTotal"))),
      ),
      h(
        "tbody",
        null,
        ...q.lines.map((l) => h("tr", null, h("td", null, l.designation), h("td", { class: "num" }, String(l.quantity)), h("td", { class: "num" }, money(l.unitPrice)), h("td", { class: "num" }, money(l.lineTotal)))),
      ),
      h(
        "tfoot",
        null,
        total("quote.subtotal", q.subtotal),
        q.discount > 0 ? total("quote.discount", q.discount) : null,
        q.discount > 0 ? total("quote.taxable", q.taxableAmount) : null,
        total("quote.vat", q.vatAmount, "", { rate: q.vatRate }),
        h("tr", { class: "grand", attrs: { "data-testid": "quote-total" } }, h("th", { attrs: { scope: "row", colspan: "3" } }, t("quote.total")), h("td", { class: "num" }, money(q.total))),
      ),
    ),
    h(
      "p",
      { class: "muted" },
      `${t("quote.validUntil")} ${formatDate(q.validUntil, lang)}`,
      q.issuedOn ? ` · ${t("quote.issuedOn")} ${formatDate(q.issuedOn, lang)}` : "",
    ),
    q.notes ? h("p", { class: "note" }, q.notes) : null,
  );
}

/** What the editor's inputs hold, as typed. */
export interface TypedQuote {
  lines: Array<{ designation: string; quantity: string; unitPrice: string }>;
  discount: string;
  validUntil: string;
  notes: string;
}

const WHOLE = /^\d{1,15}$/;

/** Whole francs typed with or without group separators ("150 000", "150000"). */
function whole(s: string): number | null {
  const v = s.replace(/[\s\u202f\u00a0.]/g, "");
  return WHOLE.test(v) ? Number(v) : null;
}

/** Reads the typed quote into a draft, or lists what is wrong (French first, per line). */
export function readDraft(typed: TypedQuote): { draft: QuoteDraft } | { errors: string[] } {
  const errors: string[] = [];
  const lines: QuoteLineDraft[] = [];
  const used = typed.lines.filter((l) => l.designation.trim() || l.quantity.trim() || l.unitPrice.trim());
  if (used.length === 0) errors.push(t("quote.err.noLines"));
  used.forEach((l, i) => {
    const n = i + 1;
    const quantity = whole(l.quantity);
    const unitPrice = whole(l.unitPrice);
    if (!l.designation.trim()) errors.push(t("quote.err.designation", { n }));
    if (quantity === null || quantity < 1) errors.push(t("quote.err.quantity", { n }));
    if (unitPrice === null) errors.push(t("quote.err.unitPrice", { n }));
    lines.push({ designation: l.designation.trim(), quantity: quantity ?? 0, unitPrice: unitPrice ?? 0 });
  });
  const discount = typed.discount.trim() === "" ? 0 : whole(typed.discount);
  if (discount === null) errors.push(t("quote.err.discount"));
  if (!/^\d{4}-\d{2}-\d{2}$/.test(typed.validUntil)) errors.push(t("quote.err.validUntil"));
  if (errors.length) return { errors };
  return { draft: { lines, discount: discount ?? 0, validUntil: typed.validUntil, notes: typed.notes.trim() } };
}

/** The draft a new quote starts from: one empty line, valid 30 days from `today`. */
export function blankDraft(today: Date): TypedQuote {
  const until = new Date(today.getTime() + 30 * 86_400_000).toISOString().slice(0, 10);
  return { lines: [{ designation: "", quantity: "1", unitPrice: "" }], discount: "", validUntil: until, notes: "" };
}

export function typedFrom(q: QuoteDoc): TypedQuote {
  return {
    lines: q.lines.map((l) => ({ designation: l.designation, quantity: String(l.quantity), unitPrice: String(l.unitPrice) })),
    discount: q.discount ? String(q.discount) : "",
    validUntil: q.validUntil,
    notes: q.notes,
  };
}

export interface QuoteEditorDeps {
  preview(lines: QuoteLineDraft[], discount: number): Promise<QuotePreview>;
  /** Saves the draft; resolves to null when done, or the server's reason to show. */
  save(draft: QuoteDraft): Promise<string | null>;
}

/** The quote editor dialog. Resolves true once saved, false when cancelled. */
export function editQuote(title: string, start: TypedQuote, deps: QuoteEditorDeps): Promise<boolean> {
  return new Promise((resolve) => {
    const previous = document.activeElement as HTMLElement | null;
    const lang = language();
    const rowsEl = h("tbody", null);
    const errorsEl = h("div", { class: "error", attrs: { role: "alert", "data-testid": "quote-errors" } });
    const totalsEl = h("dl", { class: "quote-totals", attrs: { "aria-live": "polite", "data-testid": "quote-preview" } });
    const discount = h("input", { value: start.discount, attrs: { inputmode: "numeric", "data-testid": "quote-discount", "aria-label": t("quote.discount") } });
    const validUntil = h("input", { type: "date", value: start.validUntil, attrs: { "data-testid": "quote-valid-until", "aria-label": t("quote.validUntil") } });
    const notes = h("textarea", { attrs: { rows: "2", "data-testid": "quote-notes", "aria-label": t("quote.notes") } });
    notes.value = start.notes;
    let previewSeq = 0;

    const typed = (): TypedQuote => ({
      lines: [...rowsEl.querySelectorAll("tr")].map((tr) => {
        const [d, q, p] = [...tr.querySelectorAll("input")].map((i) => i.value);
        return { designation: d, quantity: q, unitPrice: p };
      }),
      discount: discount.value,
      validUntil: validUntil.value,
      notes: notes.value,
    });

    const refreshTotals = async () => {
      const seq = ++previewSeq;
      const lines = typed().lines.map((l) => ({ designation: l.designation, quantity: whole(l.quantity) ?? 0, unitPrice: whole(l.unitPrice) ?? 0 }));
      const p = await deps.preview(lines, whole(discount.value) ?? 0);
      if (seq !== previewSeq) return; // a newer keystroke won
      rowsEl.querySelectorAll<HTMLElement>("[data-line-total]").forEach((cell, i) => (cell.textContent = formatXof(p.lineTotals[i] ?? 0, lang)));
      const item = (key: Parameters<typeof t>[0], v: number, params: Record<string, string | number> = {}) => [h("dt", null, t(key, params)), h("dd", null, formatXof(v, lang))];
      replace(
        totalsEl,
        ...item("quote.subtotal", p.subtotal),
        ...item("quote.taxable", p.taxableAmount),
        ...item("quote.vat", p.vatAmount, { rate: p.vatRate }),
        h("dt", { class: "grand" }, t("quote.total")),
        h("dd", { class: "grand", attrs: { "data-testid": "quote-preview-total" } }, formatXof(p.total, lang)),
        p.problem ? h("dd", { class: "error" }, p.problem) : null,
      );
    };

    const addRow = (l: TypedQuote["lines"][number], focus = false) => {
      const cell = (value: string, key: string, label: string, numeric: boolean) =>
        h("td", null, h("input", { value, attrs: { "data-field": key, "aria-label": label, ...(numeric ? { inputmode: "numeric" } : {}) } }));
      const tr = h(
        "tr",
        { attrs: { "data-testid": "quote-line" } },
        cell(l.designation, "designation", t("quote.designation"), false),
        cell(l.quantity, "quantity", t("quote.quantity"), true),
        cell(l.unitPrice, "unitPrice", t("quote.unitPrice"), true),
        h("td", { class: "num", attrs: { "data-line-total": "" } }, "—"),
        h("td", null),
      );
      const remove = h("button", {
        type: "button",
        class: "icon",
        on: {
          click: () => {
            tr.remove();
            renumber();
            void refreshTotals();
          },
        },
      }, "✕");
      tr.lastElementChild!.appendChild(remove);
      rowsEl.appendChild(tr);
      renumber();
      if (focus) tr.querySelector("input")?.focus();
    };
    const renumber = () =>
      rowsEl.querySelectorAll("tr").forEach((tr, i) => tr.querySelector("button")?.setAttribute("aria-label", t("quote.removeLine", { n: i + 1 })));

    start.lines.forEach((l) => addRow(l));
    const done = (saved: boolean) => {
      overlay.remove();
      previous?.focus();
      resolve(saved);
    };
    const saveBtn = h("button", { class: "primary", type: "submit", attrs: { "data-testid": "dialog-confirm" } }, t("quote.save"));
    const form = h(
      "form",
      {
        class: "dialog quote-editor",
        on: {
          input: () => void refreshTotals(),
          submit: async (e) => {
            e.preventDefault();
            const read = readDraft(typed());
            if ("errors" in read) {
              replace(errorsEl, h("ul", null, ...read.errors.map((x) => h("li", null, x))));
              return;
            }
            replace(errorsEl);
            saveBtn.disabled = true;
            saveBtn.textContent = t("quote.saving");
            const refusal = await deps.save(read.draft);
            saveBtn.disabled = false;
            saveBtn.textContent = t("quote.save");
            if (refusal === null) done(true);
            else replace(errorsEl, refusal);
          },
          keydown: (e) => dialogKeys(e, form, () => done(false)),
        },
      },
      h("h2", null, title),
      h(
        "table",
        { class: "quote-lines" },
        h("thead", null, h("tr", null, h("th", null, t("quote.designation")), h("th", null, t("quote.quantity")), h("th", null, t("quote.unitPrice")), h("th", { class: "num" }, t("quote.lineTotal")), h("th", null))),
        rowsEl,
      ),
      h("button", { type: "button", attrs: { "data-testid": "quote-add-line" }, on: { click: () => addRow({ designation: "", quantity: "1", unitPrice: "" }, true) } }, `+ ${t("quote.addLine")}`),
      h(
        "div",
        { class: "quote-meta" },
        h("label", { class: "field" }, t("quote.discount"), discount),
        h("label", { class: "field" }, t("quote.validUntil"), validUntil),
      ),
      h("label", { class: "field" }, t("quote.notes"), notes),
      totalsEl,
      errorsEl,
      h("div", { class: "buttons" }, h("button", { type: "button", on: { click: () => done(false) } }, t("dialog.cancel")), saveBtn),
    );
    const overlay = h("div", { class: "overlay", attrs: { role: "dialog", "aria-modal": "true", "data-testid": "quote-editor" } }, form);
    document.body.appendChild(overlay);
    void refreshTotals();
    rowsEl.querySelector("input")?.focus();
  });
}
