//! The tray icon: unread count in its title and tooltip, and a menu to open the window, pause
//! non-urgent notifications, or quit (closing the window only hides it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};

use crate::shell::{Shell, show_main};

const TRAY_ID: &str = "main";

pub fn build(app: &AppHandle, paused: Arc<AtomicBool>) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Ouvrir IT Vision Desk", true, None::<&str>)?;
    let pause = CheckMenuItem::with_id(
        app,
        "pause",
        "Suspendre les notifications non urgentes",
        true,
        false,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quitter", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&open, &pause, &sep, &quit])?;
    let icon = Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("IT Vision Desk")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(move |app, event| match event.id.as_ref() {
            "open" => show_main(app),
            "pause" => {
                let now = !paused.load(Ordering::Relaxed);
                paused.store(now, Ordering::Relaxed);
                let _ = pause.set_checked(now);
                tracing::info!(paused = now, "non-urgent notifications");
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

/// The tray's words for an unread count.
pub fn unread_label(n: u64) -> (Option<String>, String) {
    match n {
        0 => (None, "IT Vision Desk".to_owned()),
        1 => (
            Some("1".into()),
            "IT Vision Desk — 1 demande non lue".to_owned(),
        ),
        n => (
            Some(n.to_string()),
            format!("IT Vision Desk — {n} demandes non lues"),
        ),
    }
}

/// Reads the unread count from the engine and shows it on the tray icon.
pub async fn refresh_unread(app: &AppHandle) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    let n = match shell.engine.unread_count().await {
        Ok(n) => n,
        Err(e) => return tracing::debug!(error = %e, "unread count"),
    };
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let (title, tooltip) = unread_label(n);
        let _ = tray.set_title(title.as_deref());
        let _ = tray.set_tooltip(Some(tooltip));
    }
}

#[cfg(test)]
mod tests {
    use super::unread_label;

    #[test]
    fn unread_count_reads_in_french() {
        assert_eq!(unread_label(0), (None, "IT Vision Desk".into()));
        assert_eq!(unread_label(1).1, "IT Vision Desk — 1 demande non lue");
        assert_eq!(
            unread_label(12),
            (
                Some("12".into()),
                "IT Vision Desk — 12 demandes non lues".into()
            )
        );
    }
}
