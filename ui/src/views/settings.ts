//! The settings screen: notifications per kind, urgent re-alert delay, start at login
//! (`views/startup.ts`), language, server, sign out, the sessions part (`views/sessions.ts`) and
//! the support part (`views/support.ts`); the app hands those parts in.

import type { Session } from "../bindings/Session";
import type { Settings } from "../bindings/Settings";
import { h } from "../dom";
import { t, type Language, type MessageKey } from "../i18n";

export interface SettingsCallbacks {
  onChange(next: Settings): void;
  onLanguage(lang: Language): void;
  onSignOut(): void;
}

export function settingsView(
  s: Settings,
  lang: Language,
  session: Session,
  cb: SettingsCallbacks,
  sessions: HTMLElement | null = null,
  startup: HTMLElement | null = null,
  support: HTMLElement | null = null,
): HTMLElement {
  const box = (key: "notifyProjects" | "notifyQuotes" | "notifyPlannedInterventions" | "notifyAssignments", text: MessageKey) =>
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        checked: s[key],
        attrs: { "data-testid": `setting-${key}` },
        on: { change: (e) => cb.onChange({ ...s, [key]: (e.target as HTMLInputElement).checked }) },
      }),
      t(text),
    );
  const language = h(
    "select",
    { attrs: { "data-testid": "setting-language" }, on: { change: (e) => cb.onLanguage((e.target as HTMLSelectElement).value as Language) } },
    h("option", { value: "fr" }, "Français"),
    h("option", { value: "en" }, "English"),
  );
  language.value = lang;
  const realert = h("input", {
    type: "number",
    value: String(s.urgentReminderMinutes),
    attrs: { min: "1", max: "1440", step: "1", "data-testid": "setting-realert" },
    on: {
      change: (e) => {
        const n = Math.round(Number((e.target as HTMLInputElement).value));
        if (Number.isFinite(n) && n >= 1 && n <= 1440) cb.onChange({ ...s, urgentReminderMinutes: n });
      },
    },
  });
  return h(
    "section",
    { class: "settings", attrs: { "data-testid": "settings" } },
    h("h2", null, t("nav.settings")),
    h(
      "fieldset",
      null,
      h("legend", null, t("settings.notifications")),
      box("notifyProjects", "settings.notifyProjects"),
      box("notifyQuotes", "settings.notifyQuotes"),
      box("notifyPlannedInterventions", "settings.notifyPlannedInterventions"),
      box("notifyAssignments", "settings.notifyAssignments"),
      h("label", { class: "field" }, t("settings.realert"), realert),
    ),
    startup,
    h("fieldset", null, h("legend", null, t("settings.language")), language),
    h(
      "fieldset",
      null,
      h("legend", null, t("settings.server")),
      h("p", { attrs: { "data-testid": "setting-server" } }, session.serverUrl),
      h("p", { class: "muted" }, `${session.user.name} <${session.user.email}> · ${session.user.role}`),
      h("button", { class: "danger", attrs: { "data-testid": "signout" }, on: { click: () => cb.onSignOut() } }, t("settings.signOut")),
    ),
    sessions,
    support,
  );
}
