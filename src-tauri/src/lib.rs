//! IT Vision Desk's Tauri shell: wires plugins, the engine, the tray and the commands together.
//! Behaviour lives in `itv-desk`; each module here adapts one part of it to Tauri.

mod commands;
pub mod notifier;
pub mod shell;
pub mod snapshot;
mod tray;

use tauri::WindowEvent;

/// Starts the app; returns when it quits.
pub fn run() {
    let started = std::time::Instant::now();
    shell::init_tracing();
    tauri::Builder::default()
        // First, so a second launch only brings the running window forward.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            shell::show_main(app)
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
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
