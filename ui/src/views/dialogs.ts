//! Modal dialogs for actions that need input: a rejection reason, a technician to assign, the
//! account forms (errors shown beside each field) and a yes/no confirmation.
import type { User } from "../bindings/User";
import { h } from "../dom";
import { t } from "../i18n";

/** The keys every dialog takes: `Esc` cancels, `Ctrl+Enter` submits (from any field). */
export function dialogKeys(e: KeyboardEvent, form: HTMLFormElement, cancel: () => void): void {
  if (e.key === "Escape") {
    e.stopPropagation();
    cancel();
  } else if (e.key === "Enter" && e.ctrlKey) {
    e.preventDefault();
    form.requestSubmit();
  }
}

function modal<T>(title: string, body: HTMLElement, read: () => T | null): Promise<T | null> {
  return new Promise((resolve) => {
    const previous = document.activeElement as HTMLElement | null;
    const done = (v: T | null) => {
      overlay.remove();
      previous?.focus();
      resolve(v);
    };
    const confirm = h("button", { class: "primary", type: "submit", attrs: { "data-testid": "dialog-confirm" } }, t("dialog.confirm"));
    const form = h(
      "form",
      {
        class: "dialog",
        on: {
          submit: (e) => {
            e.preventDefault();
            const v = read();
            if (v !== null) done(v);
          },
          keydown: (e) => dialogKeys(e, form, () => done(null)),
        },
      },
      h("h2", null, title),
      body,
      h("div", { class: "buttons" }, h("button", { type: "button", on: { click: () => done(null) } }, t("dialog.cancel")), confirm),
    );
    const overlay = h("div", { class: "overlay", attrs: { role: "dialog", "aria-modal": "true" } }, form);
    document.body.appendChild(overlay);
    const first = body.querySelector<HTMLElement>("textarea, select, input");
    (first ?? confirm).focus();
  });
}

/** Asks for a rejection reason; null when cancelled. An empty reason is not accepted. */
export function askReason(): Promise<string | null> {
  const area = h("textarea", { attrs: { rows: "4", required: "", "data-testid": "reason", "aria-label": t("dialog.reject.reason") } });
  const body = h("label", { class: "field" }, t("dialog.reject.reason"), area);
  return modal(t("dialog.reject.title"), body, () => {
    const v = area.value.trim();
    return v ? v : null;
  });
}

/** Asks which technician to assign; null when cancelled. */
export function askTechnician(techs: User[], current: string | null): Promise<string | null> {
  const select = h(
    "select",
    { attrs: { size: String(Math.min(8, Math.max(2, techs.length))), "data-testid": "technician" } },
    ...techs.map((u) => {
      const o = h("option", { value: u._id }, `${u.name} — ${u.email}`);
      if (u._id === current) o.selected = true;
      return o;
    }),
  );
  if (select.selectedIndex < 0 && techs.length > 0) select.selectedIndex = 0;
  select.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      (select.closest("form") as HTMLFormElement).requestSubmit();
    }
  });
  const body = h("label", { class: "field" }, t("dialog.assign.title"), select);
  return modal(t("dialog.assign.title"), body, () => select.value || null);
}

/** Errors of a form, per field name, as the server names them (`email`, `newPassword`...). */
export type FieldErrors = Record<string, string>;

/** A labelled control with its error line below; `name` ties both to the server's field. */
export function formField(name: string, text: string, control: HTMLInputElement | HTMLSelectElement): HTMLElement {
  const errId = `err-${name}-${Math.random().toString(36).slice(2, 8)}`;
  control.name = name;
  control.setAttribute("aria-describedby", errId);
  control.setAttribute("data-testid", `field-${name}`);
  return h(
    "label",
    { class: "field", attrs: { "data-field": name } },
    text,
    control,
    h("span", { class: "field-error", id: errId, attrs: { "data-testid": `error-${name}`, "aria-live": "polite" } }),
  );
}

/** Shows `errors` beside their fields (and the rest in `summary`); focuses the first faulty field. */
export function showFieldErrors(form: HTMLElement, errors: FieldErrors, summary?: HTMLElement, message?: string): void {
  let first: HTMLElement | null = null;
  for (const wrap of form.querySelectorAll<HTMLElement>("[data-field]")) {
    const name = wrap.getAttribute("data-field") ?? "";
    const text = errors[name] ?? "";
    const line = wrap.querySelector(".field-error");
    if (line) line.textContent = text;
    const control = wrap.querySelector<HTMLElement>("input, select, textarea");
    if (control) {
      if (text) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
      if (text && !first) first = control;
    }
  }
  const known = new Set([...form.querySelectorAll("[data-field]")].map((w) => w.getAttribute("data-field")));
  const rest = Object.entries(errors).filter(([k]) => !known.has(k)).map(([, v]) => v);
  if (summary) {
    const text = rest.length ? rest.join(" · ") : Object.keys(errors).length ? "" : (message ?? "");
    summary.textContent = text;
    summary.hidden = !text;
  }
  first?.focus();
}

/** A form in a modal: `submit` answers null (done: the dialog closes, resolving true) or the
 *  errors to show, and the dialog stays. `Enter` submits from a field, `Esc` cancels. */
export function formDialog(
  title: string,
  body: HTMLElement,
  submit: () => Promise<{ errors: FieldErrors; message?: string } | null>,
  opts: { confirmLabel?: string; testid?: string } = {},
): Promise<boolean> {
  return new Promise((resolve) => {
    const previous = document.activeElement as HTMLElement | null;
    const done = (v: boolean) => {
      overlay.remove();
      previous?.focus();
      resolve(v);
    };
    const summary = h("p", { class: "error", attrs: { role: "alert", "data-testid": "dialog-error" } });
    summary.hidden = true;
    const confirm = h("button", { class: "primary", type: "submit", attrs: { "data-testid": "dialog-confirm" } }, opts.confirmLabel ?? t("dialog.confirm"));
    let busy = false;
    const form = h(
      "form",
      {
        class: "dialog",
        attrs: { novalidate: "" },
        on: {
          submit: (e) => {
            e.preventDefault();
            if (busy) return;
            busy = true;
            confirm.disabled = true;
            void submit()
              .then((r) => {
                if (r === null) done(true);
                else showFieldErrors(form, r.errors, summary, r.message);
              })
              .finally(() => {
                busy = false;
                confirm.disabled = false;
              });
          },
          keydown: (e) => dialogKeys(e, form, () => done(false)),
        },
      },
      h("h2", { id: "dialog-title" }, title),
      summary,
      body,
      h("div", { class: "buttons" }, h("button", { type: "button", attrs: { "data-testid": "dialog-cancel" }, on: { click: () => done(false) } }, t("dialog.cancel")), confirm),
    );
    const overlay = h("div", { class: "overlay", attrs: { role: "dialog", "aria-modal": "true", "aria-labelledby": "dialog-title", "data-testid": opts.testid ?? "dialog" } }, form);
    document.body.appendChild(overlay);
    (body.querySelector<HTMLElement>("input, select, textarea") ?? confirm).focus();
  });
}

/** Asks yes or no; `Enter` confirms, `Esc` cancels. */
export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return formDialog(title, h("p", null, text), async () => null, { confirmLabel, testid: "confirm-dialog" });
}
