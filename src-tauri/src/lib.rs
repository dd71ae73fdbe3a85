//! IT Vision Desk's Tauri shell: wires plugins, the engine, the tray and the commands together.
//! Behaviour lives in `itv-desk`; each module here adapts one part of it to Tauri.

pub mod autostart;
mod commands;
pub mod deep_link;
pub mod diagnostic;
pub mod logging;
pub mod notifier;
pub mod quit;
pub mod shell;
pub mod snapshot;
mod tray;

use tauri::WindowEvent;
use tauri_plugin_window_state::StateFlags;

/// Starts the app; returns when it quits.
pub fn run() {
    let started = std::time::Instant::now();
    tauri::Builder::default()
        // First, so a second launch only brings the running window forward (unless it is the
        // autostart entry's, which asks for the tray).
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            if !autostart::wants_hidden(&args) {
                shell::show_main(app)
            }
        }))
        // Size and place only: whether the window shows is `--hidden`'s call (shell::setup).
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(StateFlags::all() - StateFlags::VISIBLE)
                .build(),
        )
        // After single-instance, which hands a second launch's itv:// link to it.
        .plugin(tauri_plugin_deep_link::init())
        .plugin(autostart::plugin())
        .setup(move |app| shell::setup(app, started))
        .on_window_event(|window, event| {
            // Closing the window keeps the app in the tray; "Quitter" in the tray menu quits.
            if let WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!())
        .expect("IT Vision Desk failed to start");
}
