//! The tray icon: unread count in its title and tooltip, and a menu to open the window, pause
//! non-urgent notifications, or quit (closing the window only hides it; quitting asks first,
//! see quit.rs). Its words follow the UI's language (French unless the user chose English).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Manager};

use crate::shell::{Shell, show_main};

const TRAY_ID: &str = "main";
/// Event telling the UI that non-urgent notifications were paused (true) or resumed.
pub const PAUSED_EVENT: &str = "desk://paused";

/// The languages of the UI, as the tray speaks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// The UI's language code; anything unknown is French, the default.
    pub fn from_code(code: &str) -> Lang {
        if code == "en" { Lang::En } else { Lang::Fr }
    }
}

struct Words {
    open: &'static str,
    pause: &'static str,
    quit: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Fr => Words {
            open: "Ouvrir IT Vision Desk",
            pause: "Suspendre les notifications non urgentes",
            quit: "Quitter",
        },
        Lang::En => Words {
            open: "Open IT Vision Desk",
            pause: "Pause non-urgent notifications",
            quit: "Quit",
        },
    }
}

/// The menu entries whose text changes with the language, and the language in use.
pub struct TrayMenu {
    open: MenuItem<tauri::Wry>,
    pause: CheckMenuItem<tauri::Wry>,
    quit: MenuItem<tauri::Wry>,
    lang: AtomicU8,
}

impl TrayMenu {
    fn lang(&self) -> Lang {
        if self.lang.load(Ordering::Relaxed) == 1 {
            Lang::En
        } else {
            Lang::Fr
        }
    }
}

pub fn build(app: &AppHandle, paused: Arc<AtomicBool>) -> tauri::Result<()> {
    let w = words(Lang::Fr);
    let open = MenuItem::with_id(app, "open", w.open, true, None::<&str>)?;
    let pause = CheckMenuItem::with_id(app, "pause", w.pause, true, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", w.quit, true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&open, &pause, &sep, &quit])?;
    app.manage(TrayMenu {
        open: open.clone(),
        pause: pause.clone(),
        quit: quit.clone(),
        lang: AtomicU8::new(0),
    });
    // The macOS menu bar wants a template image (black on transparent, tinted by the system
    // for light and dark bars); elsewhere the coloured icon.
    #[cfg(target_os = "macos")]
    let (icon, template) = (
        include_bytes!("../../icons/tray-template.png").as_slice(),
        true,
    );
    #[cfg(not(target_os = "macos"))]
    let (icon, template) = (include_bytes!("../../icons/tray.png").as_slice(), false);
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(icon)?)
        .icon_as_template(template)
        .tooltip("IT Vision Desk")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(move |app, event| match event.id.as_ref() {
            "open" => show_main(app),
            "pause" => {
                let now = !paused.load(Ordering::Relaxed);
                paused.store(now, Ordering::Relaxed);
                let _ = pause.set_checked(now);
                // The window says so too, so nobody wonders why projects went quiet.
                let _ = app.emit(PAUSED_EVENT, now);
                tracing::info!(paused = now, "non-urgent notifications");
            }
            "quit" => crate::quit::requested(app),
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

/// Switches the tray's words to `lang` (the UI calls this at start and on every change).
pub async fn set_language(app: &AppHandle, lang: Lang) {
    if let Some(menu) = app.try_state::<TrayMenu>() {
        menu.lang
            .store(u8::from(lang == Lang::En), Ordering::Relaxed);
        let w = words(lang);
        let _ = menu.open.set_text(w.open);
        let _ = menu.pause.set_text(w.pause);
        let _ = menu.quit.set_text(w.quit);
    }
    refresh_unread(app).await;
}

/// The tray's words for an unread count: the title, and the tooltip.
pub fn unread_label(n: u64, lang: Lang) -> (Option<String>, String) {
    let title = (n > 0).then(|| n.to_string());
    let tooltip = match (n, lang) {
        (0, _) => "IT Vision Desk".to_owned(),
        (1, Lang::Fr) => "IT Vision Desk — 1 demande non lue".to_owned(),
        (n, Lang::Fr) => format!("IT Vision Desk — {n} demandes non lues"),
        (1, Lang::En) => "IT Vision Desk — 1 unread request".to_owned(),
        (n, Lang::En) => format!("IT Vision Desk — {n} unread requests"),
    };
    (title, tooltip)
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
    let lang = app.try_state::<TrayMenu>().map_or(Lang::Fr, |m| m.lang());
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let (title, tooltip) = unread_label(n, lang);
        let _ = tray.set_title(title.as_deref());
        let _ = tray.set_tooltip(Some(tooltip));
    }
}

#[cfg(test)]
mod tests {
    use super::{Lang, unread_label};

    #[test]
    fn unread_count_reads_in_french_or_english() {
        assert_eq!(unread_label(0, Lang::Fr), (None, "IT Vision Desk".into()));
        assert_eq!(
            unread_label(1, Lang::Fr).1,
            "IT Vision Desk — 1 demande non lue"
        );
        assert_eq!(
            unread_label(12, Lang::Fr),
            (
                Some("12".into()),
                "IT Vision Desk — 12 demandes non lues".into()
            )
        );
        assert_eq!(
            unread_label(1, Lang::En).1,
            "IT Vision Desk — 1 unread request"
        );
        assert_eq!(
            unread_label(3, Lang::En).1,
            "IT Vision Desk — 3 unread requests"
        );
    }

    #[test]
    fn unknown_language_codes_are_french() {
        assert_eq!(Lang::from_code("en"), Lang::En);
        assert_eq!(Lang::from_code("fr"), Lang::Fr);
        assert_eq!(Lang::from_code("wo"), Lang::Fr);
    }
}
