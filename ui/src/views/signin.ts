//! The sign-in form: server address (remembered), email, password; and why the last session ended.
import { h } from "../dom";
import { t } from "../i18n";

export function signInForm(
  server: string,
  error: string | null,
  /** Why the server ended the previous session, if it did. */
  ended: string | null,
  onSubmit: (server: string, email: string, password: string) => Promise<void>,
): HTMLElement {
  const serverIn = h("input", { type: "url", value: server, attrs: { required: "", name: "server", "data-testid": "server", autocomplete: "url" } });
  const email = h("input", { type: "email", attrs: { required: "", name: "email", "data-testid": "email", autocomplete: "username" } });
  const password = h("input", { type: "password", attrs: { required: "", name: "password", "data-testid": "password", autocomplete: "current-password" } });
  const submit = h("button", { class: "primary", type: "submit", attrs: { "data-testid": "signin-submit" } }, t("signin.submit"));
  const form = h(
    "form",
    {
      class: "signin",
      on: {
        submit: (e) => {
          e.preventDefault();
          submit.disabled = true;
          submit.textContent = t("signin.busy");
          void onSubmit(serverIn.value.trim(), email.value.trim(), password.value).finally(() => {
            submit.disabled = false;
            submit.textContent = t("signin.submit");
          });
        },
      },
    },
    h("h1", null, t("app.title")),
    h("h2", null, t("signin.title")),
    ended
      ? h("div", { class: "notice", attrs: { role: "alert", "data-testid": "session-ended" } }, h("strong", null, t("signin.ended")), " ", ended)
      : null,
    h("label", { class: "field" }, t("signin.server"), serverIn),
    h("label", { class: "field" }, t("signin.email"), email),
    h("label", { class: "field" }, t("signin.password"), password),
    error ? h("p", { class: "error", attrs: { role: "alert", "data-testid": "signin-error" } }, error) : null,
    submit,
  );
  queueMicrotask(() => (server ? email : serverIn).focus());
  return h("main", { class: "signin-page" }, form);
}
