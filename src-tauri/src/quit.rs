//! *Quitter* in the tray ends the app, and with it every alert. A signed-in admin or technician
//! is asked first, in the window (the UI's dialog: French or English, keyboard-usable); someone
//! signed out quits at once, as there is nothing to lose. Admins are asked too: their desk gets
//! the same urgent calls, and the escalations meant for when nobody took one.
//!
//! If the window does not say it is asking within a few seconds (a hung web view), the app
//! quits anyway: *Quitter* must always work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use itv_desk::Role;
use tauri::{AppHandle, Emitter, Manager};

use crate::shell::{Shell, show_main};

/// Asks the UI to confirm quitting.
pub const QUIT_EVENT: &str = "desk://quit-requested";
/// How long the UI has to show the question before the app quits without asking.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// Counts the questions asked and the ones the UI showed.
#[derive(Default)]
pub struct QuitPrompt {
    asked: AtomicU64,
    shown: AtomicU64,
}

/// Whether quitting needs a confirmation for this role (`None`: signed out).
pub fn must_ask(role: Option<Role>) -> bool {
    matches!(role, Some(Role::Admin | Role::Technician))
}

/// The tray's *Quitter*.
pub fn requested(app: &AppHandle) {
    let role = app
        .try_state::<Shell>()
        .and_then(|s| s.engine.session())
        .map(|s| s.user.role);
    let Some(prompt) = app.try_state::<QuitPrompt>().filter(|_| must_ask(role)) else {
        tracing::info!("quit from the tray");
        return app.exit(0);
    };
    let n = prompt.asked.fetch_add(1, Ordering::SeqCst) + 1;
    show_main(app);
    if let Err(e) = app.emit(QUIT_EVENT, ()) {
        tracing::warn!(error = %e, "could not ask the window: quitting");
        return app.exit(0);
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(ANSWER_WITHIN).await;
        let shown = app
            .try_state::<QuitPrompt>()
            .map_or(0, |p| p.shown.load(Ordering::SeqCst));
        if shown < n {
            tracing::warn!("the window did not ask about quitting: quitting");
            app.exit(0);
        }
    });
}

/// The UI shows the question (every question asked so far is answered by it).
pub fn shown(app: &AppHandle) {
    if let Some(p) = app.try_state::<QuitPrompt>() {
        p.shown
            .store(p.asked.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_are_asked_and_nobody_else() {
        assert!(must_ask(Some(Role::Technician)));
        assert!(must_ask(Some(Role::Admin)));
        assert!(!must_ask(Some(Role::Client)));
        assert!(!must_ask(None));
    }
}
