//! The settings screen: notifications per kind, urgent re-alert delay, language, server, sign out.
import type { SettingsDto } from "../bindings/SettingsDto";
import type { SessionDto } from "../bindings/SessionDto";
import { h } from "../dom";
import { t, type MessageKey } from "../i18n";

export function settingsView(
  s: SettingsDto,
  session: SessionDto,
  onChange: (next: SettingsDto) => void,
  onSignOut: () => void,
): HTMLElement {
  const box = (key: keyof SettingsDto, text: MessageKey) =>
    h(
      "label",
      { class: "check" },
      h("input", {
        type: "checkbox",
        checked: Boolean(s[key]),
        attrs: { "data-testid": `setting-${key}` },
        on: { change: (e) => onChange({ ...s, [key]: (e.target as HTMLInputElement).checked }) },
      }),
      t(text),
    );
  const lang = h(
    "select",
    { attrs: { "data-testid": "setting-language" }, on: { change: (e) => onChange({ ...s, language: (e.target as HTMLSelectElement).value as SettingsDto["language"] }) } },
    h("option", { value: "fr" }, "Français"),
    h("option", { value: "en" }, "English"),
  );
  lang.value = s.language;
  const realert = h("input", {
    type: "number",
    value: String(s.urgentRealertMinutes),
    attrs: { min: "0", max: "1440", step: "1", "data-testid": "setting-realert" },
    on: {
      change: (e) => {
        const n = Math.round(Number((e.target as HTMLInputElement).value));
        if (Number.isFinite(n) && n >= 0 && n <= 1440) onChange({ ...s, urgentRealertMinutes: n });
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
      box("notifyProject", "settings.notifyProject"),
      box("notifyIntervention", "settings.notifyIntervention"),
      box("notifyQuote", "settings.notifyQuote"),
      box("notifyMessage", "settings.notifyMessage"),
      box("pauseNonUrgent", "settings.pause"),
      h("label", { class: "field" }, t("settings.realert"), realert),
    ),
    h("fieldset", null, h("legend", null, t("settings.language")), lang),
    h(
      "fieldset",
      null,
      h("legend", null, t("settings.server")),
      h("p", { attrs: { "data-testid": "setting-server" } }, session.server),
      h("p", { class: "muted" }, `${session.user.name} <${session.user.email}> · ${session.user.role}`),
      h("button", { class: "danger", attrs: { "data-testid": "signout" }, on: { click: onSignOut } }, t("settings.signOut")),
    ),
  );
}
