//! The "Sessions" part of the settings screen: the user's live sessions (this device marked,
//! the others closable) and the password change form, with the server's errors per field.
import type { SessionInfo } from "../bindings/SessionInfo";
import { h, replace } from "../dom";
import { formatDateTime } from "../format";
import { language, t } from "../i18n";
import { formField, showFieldErrors, type FieldErrors } from "./dialogs";

export interface SessionsCallbacks {
  /** Closes another session; resolves to an error message, or null when done. */
  onEnd(id: string): Promise<string | null>;
  /** Changes the password; resolves to null when done, or the errors to show. */
  onChangePassword(current: string, next: string): Promise<{ errors: FieldErrors; message?: string } | null>;
}

/** The sessions list: `null` while loading; `error` when the server could not be asked. */
export function sessionsList(sessions: SessionInfo[] | null, error: string | null, cb: SessionsCallbacks): HTMLElement {
  const list = h("ul", { class: "sessions", attrs: { "data-testid": "sessions", "aria-label": t("sessions.title") } });
  if (error) return h("p", { class: "error", attrs: { "data-testid": "sessions-error" } }, error);
  if (!sessions) return h("p", { class: "muted" }, t("sessions.loading"));
  const ordered = [...sessions].sort((a, b) => Number(b.current) - Number(a.current));
  for (const s of ordered) {
    const close = s.current
      ? h("span", { class: "chip", attrs: { "data-testid": "this-device" } }, t("sessions.thisDevice"))
      : h(
          "button",
          {
            attrs: { "data-testid": "session-end", "aria-label": t("sessions.endLabel", { device: s.device }) },
            on: {
              click: (e) => {
                const btn = e.currentTarget as HTMLButtonElement;
                btn.disabled = true;
                void cb.onEnd(s._id).then((err) => {
                  btn.disabled = false;
                  if (err) replace(note, err);
                });
              },
            },
          },
          t("sessions.end"),
        );
    const note = h("span", { class: "error" });
    list.append(
      h(
        "li",
        { class: s.current ? "session current" : "session", attrs: { "data-testid": "session", "data-id": s._id, "data-current": String(s.current) } },
        h("strong", { class: "device" }, s.device),
        h(
          "span",
          { class: "muted" },
          t("sessions.since", { when: formatDateTime(s.createdAt, language()) }),
          " · ",
          t("sessions.lastUsed", { when: formatDateTime(s.lastUsedAt, language()) }),
        ),
        close,
        note,
      ),
    );
  }
  return list;
}

/** "Changer le mot de passe": current, new, and the new one again (checked here). */
export function passwordForm(cb: SessionsCallbacks): HTMLElement {
  const input = (autocomplete: string) => h("input", { type: "password", attrs: { autocomplete, required: "" } });
  const current = input("current-password");
  const next = input("new-password");
  const again = input("new-password");
  const summary = h("p", { class: "error", attrs: { role: "alert", "data-testid": "password-error" } });
  summary.hidden = true;
  const done = h("p", { class: "ok", attrs: { role: "status", "data-testid": "password-done" } });
  const submit = h("button", { class: "primary", type: "submit", attrs: { "data-testid": "password-submit" } }, t("password.submit"));
  const form: HTMLFormElement = h(
    "form",
    {
      class: "password",
      attrs: { novalidate: "", "data-testid": "password-form", "aria-labelledby": "password-title" },
      on: {
        submit: (e) => {
          e.preventDefault();
          done.textContent = "";
          const errors: FieldErrors = {};
          if (!current.value) errors.currentPassword = t("password.err.current");
          if (!next.value) errors.newPassword = t("password.err.new");
          else if (next.value !== again.value) errors.newPasswordAgain = t("password.err.mismatch");
          if (Object.keys(errors).length) {
            showFieldErrors(form, errors, summary);
            return;
          }
          submit.disabled = true;
          void cb
            .onChangePassword(current.value, next.value)
            .then((r) => {
              if (r) {
                showFieldErrors(form, r.errors, summary, r.message);
                return;
              }
              showFieldErrors(form, {}, summary);
              form.reset();
              done.textContent = t("password.done");
            })
            .finally(() => (submit.disabled = false));
        },
      },
    },
    h("h3", { id: "password-title" }, t("password.title")),
    summary,
    formField("currentPassword", t("password.current"), current),
    formField("newPassword", t("password.new"), next),
    h("p", { class: "muted hint" }, t("password.rules")),
    formField("newPasswordAgain", t("password.again"), again),
    submit,
    done,
  );
  return form;
}

/** The settings screen's "Sessions" fieldset: `listHost` receives the list once loaded. */
export function sessionsFieldset(listHost: HTMLElement, cb: SessionsCallbacks): HTMLElement {
  return h("fieldset", { attrs: { "data-testid": "sessions-fieldset" } }, h("legend", null, t("sessions.title")), listHost, passwordForm(cb));
}
