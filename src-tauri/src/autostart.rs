//! Starting at login, so a technician gets alerts after a reboot without opening the app: the
//! OS's own entry (XDG autostart on Linux, the `Run` key on Windows, a launch agent on macOS)
//! through tauri-plugin-autostart, whose `is_enabled` is the truth the Settings screen shows.
//! The entry passes `--hidden`: the app starts in the tray, engine running, window hidden.
//!
//! On by default: the first start with a data directory enables it once and leaves a marker
//! there, so a user who turned it off is never turned back on.

use std::path::Path;

use itv_desk::UiError;
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Runtime};
use tauri_plugin_autostart::ManagerExt;

/// The argument the autostart entry passes: start in the tray, window hidden.
pub const HIDDEN_ARG: &str = "--hidden";
/// Written once the default (on) was applied or the user chose; its absence means neither.
const MARKER: &str = "autostart-chosen";

pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new()
        .arg(HIDDEN_ARG)
        .build()
}

/// True when `args` (a command line) asks for a start in the tray.
pub fn wants_hidden<S: AsRef<str>>(args: &[S]) -> bool {
    args.iter().skip(1).any(|a| a.as_ref() == HIDDEN_ARG)
}

/// Whether this run was started by the autostart entry (or by hand with `--hidden`).
pub fn started_hidden() -> bool {
    wants_hidden(&std::env::args().collect::<Vec<_>>())
}

fn ui_error(e: impl std::fmt::Display) -> UiError {
    UiError {
        code: "autostart".into(),
        message: format!("Démarrage automatique indisponible : {e}"),
        fields: Default::default(),
    }
}

fn mark_chosen(data_dir: &Path) {
    if let Err(e) = std::fs::write(data_dir.join(MARKER), b"") {
        tracing::warn!(error = %e, "could not write the autostart marker");
    }
}

/// Turns autostart on the first time the app runs on `data_dir`; later starts leave the
/// user's choice alone. A failure is retried at the next start (no marker is written).
pub fn apply_default<R: Runtime>(app: &AppHandle<R>, data_dir: &Path) {
    if data_dir.join(MARKER).exists() {
        return;
    }
    match app.autolaunch().enable() {
        Ok(()) => {
            tracing::info!("autostart at login enabled (the default)");
            mark_chosen(data_dir);
        }
        Err(e) => tracing::warn!(error = %e, "could not enable autostart at login"),
    }
}

/// Whether the OS will start the app at login.
pub fn enabled<R: Runtime>(app: &AppHandle<R>) -> Result<bool, UiError> {
    app.autolaunch().is_enabled().map_err(ui_error)
}

/// Writes or removes the OS entry; answers the state the OS now reports.
pub fn set<R: Runtime>(app: &AppHandle<R>, data_dir: &Path, on: bool) -> Result<bool, UiError> {
    let manager = app.autolaunch();
    if on {
        manager.enable().map_err(ui_error)?;
    } else {
        manager.disable().map_err(ui_error)?;
    }
    mark_chosen(data_dir);
    tracing::info!(on, "autostart at login set");
    manager.is_enabled().map_err(ui_error)
}

#[cfg(test)]
mod tests {
    use super::wants_hidden;

    #[test]
    fn only_the_hidden_argument_after_the_program_starts_hidden() {
        assert!(wants_hidden(&["/usr/bin/itv-desk-app", "--hidden"]));
        assert!(!wants_hidden(&["/usr/bin/itv-desk-app"]));
        // The program's own path is not an argument.
        assert!(!wants_hidden(&["--hidden"]));
        assert!(!wants_hidden(&["itv-desk-app", "--hidden-not"]));
    }
}
