//! Modal dialogs for actions that need input: a rejection reason, a technician to assign.
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
