//! Windows toasts and macOS notifications (notify-rust's WinRT and NSUserNotification
//! backends). Each notification on screen has a thread waiting for the user's answer, which
//! it forwards as a `NoticeAction`; the thread ends when the notification is answered or
//! dismissed. Every line of the macOS half is compiled only there (no macOS SDK on our build
//! machines): it follows notify-rust 4.19's documented API.

use std::time::Duration;

use notify_rust::{Notification, NotificationResponse};

use super::{ClickSender, action_for};

/// One notification to show and where its answer goes.
pub struct Shown {
    pub notification: Notification,
    pub request_id: Option<String>,
    pub clicks: ClickSender,
}

/// The answer the user gave, as the engine's action.
fn forward(response: &NotificationResponse, request_id: Option<&String>, clicks: &ClickSender) {
    let action = match response {
        NotificationResponse::Default => action_for("default", request_id),
        NotificationResponse::Action(key) => action_for(key, request_id),
        _ => None,
    };
    if let Some(a) = action {
        let _ = clicks.send(a);
    }
}

/// Windows: the toast is shown (or refused) before this returns.
#[cfg(target_os = "windows")]
pub fn show(shown: Shown, _timeout: Duration) -> Result<(), String> {
    let Shown {
        notification,
        request_id,
        clicks,
    } = shown;
    let handle = notification.show().map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("toast-answer".into())
        .spawn(move || {
            let _ = handle.wait_for_response(|r: &NotificationResponse| {
                forward(r, request_id.as_ref(), &clicks)
            });
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// macOS: NSUserNotificationCenter sends and then waits for the answer in one blocking call,
/// so the send runs on the answer's thread and a refusal (an unknown bundle, notifications
/// not allowed) is reported if it comes back within `timeout`; silence counts as shown.
#[cfg(target_os = "macos")]
pub fn show(shown: Shown, timeout: Duration) -> Result<(), String> {
    attribute();
    let Shown {
        notification,
        request_id,
        clicks,
    } = shown;
    let (refused, refusal) = std::sync::mpsc::channel::<String>();
    std::thread::Builder::new()
        .name("notification-answer".into())
        .spawn(move || {
            let outcome = notification.show().and_then(|handle| {
                handle.wait_for_response(|r: &NotificationResponse| {
                    forward(r, request_id.as_ref(), &clicks)
                })
            });
            if let Err(e) = outcome {
                let _ = refused.send(e.to_string());
            }
        })
        .map_err(|e| e.to_string())?;
    match refusal.recv_timeout(timeout.min(Duration::from_secs(1))) {
        Ok(reason) => Err(reason),
        Err(_) => Ok(()),
    }
}

/// macOS attributes a notification to the bundle named here (by default Finder's): once
/// per process, to the app's own bundle. A run outside the .app bundle keeps Finder's, and
/// says so in the log.
#[cfg(target_os = "macos")]
fn attribute() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Err(e) = notify_rust::set_application(super::APP_ID) {
            tracing::warn!(error = %e, "notifications stay attributed to Finder (not run from the app bundle?)");
        }
    });
}

#[cfg(not(any(target_os = "windows", target_os = "macos")))]
pub fn show(shown: Shown, _timeout: Duration) -> Result<(), String> {
    shown
        .notification
        .show()
        .map(|_| ())
        .map_err(|e| e.to_string())
}
