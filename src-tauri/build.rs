//! Tauri's build step, with an app manifest so that capabilities can allow each command by name.

const COMMANDS: &[&str] = &[
    "session_restore",
    "sign_in",
    "sign_out",
    "inbox_page",
    "request_detail",
    "mark_read",
    "acknowledge",
    "metrics",
    "perform",
    "quote_preview",
    "technicians",
    "status",
    "outbox_list",
    "outbox_discard",
    "settings_get",
    "settings_set",
    "inbox_painted",
    "ui_language",
    "sessions_list",
    "session_end",
    "password_change",
    "accounts_list",
    "account_create",
    "account_update",
    "account_reset_password",
    "autostart_get",
    "autostart_set",
    "quit_prompted",
    "quit_confirmed",
    "diagnostic",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
