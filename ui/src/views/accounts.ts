//! The admins' *Comptes* screen: every account with its role, state and last activity; create
//! an account, change a role, deactivate or reactivate (confirmed), reset a password. Each
//! change goes to the server at once; its French refusals show beside the field they name.
import type { Account } from "../bindings/Account";
import type { AccountPatch } from "../bindings/AccountPatch";
import type { NewAccount } from "../bindings/NewAccount";
import type { Role } from "../bindings/Role";
import { h } from "../dom";
import { formatDateTime } from "../format";
import { language, t, type MessageKey } from "../i18n";
import { confirmDialog, formDialog, formField, type FieldErrors } from "./dialogs";

export const ROLES: Role[] = ["ADMIN", "TECHNICIAN", "CLIENT"];

/** What a change answered: null when done, or the errors to show. */
export type Answer = { errors: FieldErrors; message?: string } | null;

export interface AccountsCallbacks {
  create(account: NewAccount): Promise<Answer>;
  update(id: string, patch: AccountPatch): Promise<Answer>;
  resetPassword(id: string, password: string): Promise<Answer>;
}

export function roleLabel(role: Role): string {
  return t(`role.${role}` as MessageKey);
}

/** The screen: `accounts` null while loading, `error` when the server could not be asked. */
export function accountsView(accounts: Account[] | null, error: string | null, me: string, cb: AccountsCallbacks): HTMLElement {
  const create = h("button", { class: "primary", attrs: { "data-testid": "account-create" }, on: { click: () => void createDialog(cb) } }, t("accounts.create"));
  const head = h("div", { class: "accounts-head" }, h("h2", null, t("nav.accounts")), create);
  if (error) return h("section", { class: "accounts", attrs: { "data-testid": "accounts" } }, head, h("p", { class: "error" }, error));
  if (!accounts) return h("section", { class: "accounts", attrs: { "data-testid": "accounts" } }, head, h("p", { class: "muted" }, t("sessions.loading")));
  const th = (key: MessageKey) => h("th", { attrs: { scope: "col" } }, t(key));
  const rows = accounts.map((a) => accountRow(a, a._id === me, cb));
  return h(
    "section",
    { class: "accounts", attrs: { "data-testid": "accounts" } },
    head,
    h(
      "table",
      { class: "accounts-table", attrs: { "aria-label": t("nav.accounts") } },
      h("thead", null, h("tr", null, th("accounts.name"), th("accounts.email"), th("accounts.role"), th("accounts.state"), th("accounts.lastSeen"), th("accounts.actions"))),
      h("tbody", null, ...rows),
    ),
  );
}

function accountRow(a: Account, isMe: boolean, cb: AccountsCallbacks): HTMLElement {
  const error = h("div", { class: "error", attrs: { role: "alert", "data-testid": "account-error" } });
  const show = (r: Answer) => {
    error.textContent = r ? (Object.values(r.errors)[0] ?? r.message ?? "") : "";
  };
  const role = h(
    "select",
    {
      attrs: { "data-testid": "account-role", "aria-label": t("accounts.roleOf", { name: a.name }) },
      on: {
        change: () => {
          const next = role.value as Role;
          void cb.update(a._id, { role: next }).then((r) => {
            show(r);
            if (r) role.value = a.role;
          });
        },
      },
    },
    ...ROLES.map((r) => h("option", { value: r }, roleLabel(r))),
  );
  role.value = a.role;
  const toggle = h(
    "button",
    {
      class: a.active ? "danger" : "",
      attrs: { "data-testid": "account-toggle", "aria-label": t(a.active ? "accounts.deactivateOf" : "accounts.reactivateOf", { name: a.name }) },
      on: {
        click: () => {
          const key = a.active ? "accounts.confirmDeactivate" : "accounts.confirmReactivate";
          const label = t(a.active ? "accounts.deactivate" : "accounts.reactivate");
          void confirmDialog(label, t(key, { name: a.name, email: a.email }), label).then(async (yes) => {
            if (yes) show(await cb.update(a._id, { active: !a.active }));
          });
        },
      },
    },
    t(a.active ? "accounts.deactivate" : "accounts.reactivate"),
  );
  const reset = h(
    "button",
    { attrs: { "data-testid": "account-reset", "aria-label": t("accounts.resetOf", { name: a.name }) }, on: { click: () => void resetDialog(a, cb) } },
    t("accounts.reset"),
  );
  return h(
    "tr",
    { class: a.active ? "account" : "account inactive", attrs: { "data-testid": "account-row", "data-id": a._id, "data-email": a.email, "data-active": String(a.active) } },
    h("td", null, a.name, isMe ? h("span", { class: "chip" }, t("accounts.you")) : null),
    h("td", null, a.email),
    h("td", null, role),
    h("td", { attrs: { "data-testid": "account-state" } }, t(a.active ? "accounts.active" : "accounts.inactive")),
    h("td", null, a.lastSeenAt ? formatDateTime(a.lastSeenAt, language()) : t("accounts.never")),
    h("td", { class: "row-actions" }, toggle, reset, error),
  );
}

/** The "Nouveau compte" dialog: name, email, role, initial password. */
export function createDialog(cb: AccountsCallbacks): Promise<boolean> {
  const name = h("input", { type: "text", attrs: { autocomplete: "off", required: "" } });
  const email = h("input", { type: "email", attrs: { autocomplete: "off", required: "" } });
  const role = h("select", null, ...ROLES.map((r) => h("option", { value: r }, roleLabel(r))));
  role.value = "TECHNICIAN";
  const password = h("input", { type: "password", attrs: { autocomplete: "new-password", required: "" } });
  const body = h(
    "div",
    null,
    formField("name", t("accounts.name"), name),
    formField("email", t("accounts.email"), email),
    formField("role", t("accounts.role"), role),
    formField("password", t("accounts.initialPassword"), password),
    h("p", { class: "muted hint" }, t("password.rules")),
  );
  return formDialog(
    t("accounts.create"),
    body,
    () => {
      const errors: FieldErrors = {};
      if (!name.value.trim()) errors.name = t("accounts.err.name");
      if (!email.value.trim()) errors.email = t("accounts.err.email");
      if (!password.value) errors.password = t("password.err.new");
      if (Object.keys(errors).length) return Promise.resolve({ errors });
      return cb.create({ name: name.value.trim(), email: email.value.trim(), role: role.value as Role, password: password.value });
    },
    { confirmLabel: t("accounts.createConfirm"), testid: "account-dialog" },
  );
}

/** The "Réinitialiser le mot de passe" dialog: the new password, twice. */
export function resetDialog(a: Account, cb: AccountsCallbacks): Promise<boolean> {
  const password = h("input", { type: "password", attrs: { autocomplete: "new-password", required: "" } });
  const again = h("input", { type: "password", attrs: { autocomplete: "new-password", required: "" } });
  const body = h(
    "div",
    null,
    h("p", null, t("accounts.resetText", { name: a.name, email: a.email })),
    formField("password", t("password.new"), password),
    formField("passwordAgain", t("password.again"), again),
    h("p", { class: "muted hint" }, t("password.rules")),
  );
  return formDialog(
    t("accounts.resetTitle", { name: a.name }),
    body,
    () => {
      if (!password.value) return Promise.resolve({ errors: { password: t("password.err.new") } });
      if (password.value !== again.value) return Promise.resolve({ errors: { passwordAgain: t("password.err.mismatch") } });
      return cb.resetPassword(a._id, password.value);
    },
    { confirmLabel: t("accounts.reset"), testid: "reset-dialog" },
  );
}
