//! Delivery of notices as freedesktop notifications over D-Bus (notify-rust): the actions
//! *Ouvrir* and *Je prends*, and the withdrawal of what is still on screen for a request
//! once nobody needs to act on it. Deciding *what* to show stays in `notify`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::{
    ACK_ACTION, ACK_LABEL, ClickSender, Notice, NoticeAction, Notifier, OPEN_ACTION, OPEN_LABEL,
};

/// A notification body for servers that read it as freedesktop body markup (a small
/// HTML subset: `<b>`, `<i>`, `<a>`…): `&`, `<` and `>` become entities, so a client's
/// "<b>Caméra</b> & NVR" shows as typed instead of bold text or a dropped body.
/// Only the text handed to the notification server changes; the feed's payload does not.
pub fn escape_body_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Notifications still on screen, by request: how to close each one.
type Live = Arc<Mutex<HashMap<String, Vec<(u64, oneshot::Sender<()>)>>>>;

/// The real notifier: freedesktop notifications over D-Bus through notify-rust.
#[derive(Debug, Default, Clone)]
pub struct DesktopNotifier {
    pub app_name: String,
    live: Live,
    next: Arc<AtomicU64>,
}

impl DesktopNotifier {
    pub fn new(app_name: &str) -> Self {
        DesktopNotifier {
            app_name: app_name.to_owned(),
            ..DesktopNotifier::default()
        }
    }

    /// Remembers a shown notification of `request_id`; the receiver fires on withdrawal.
    fn register(&self, request_id: &str) -> (u64, oneshot::Receiver<()>) {
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(request_id.to_owned())
            .or_default()
            .push((token, tx));
        (token, rx)
    }
}

fn forget(live: &Live, request_id: &str, token: u64) {
    let mut live = live.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(list) = live.get_mut(request_id) {
        list.retain(|(t, _)| *t != token);
        if list.is_empty() {
            live.remove(request_id);
        }
    }
}

impl Notifier for DesktopNotifier {
    fn show(&self, notice: &Notice, clicks: ClickSender) -> Result<(), String> {
        use notify_rust::{Hint, Notification, NotificationResponse, Timeout, Urgency};
        let mut n = Notification::new();
        n.appname(&self.app_name)
            .summary(&notice.summary)
            .body(&escape_body_markup(&notice.body))
            .action(OPEN_ACTION, OPEN_LABEL);
        if notice.acknowledge && notice.request_id.is_some() {
            n.action(ACK_ACTION, ACK_LABEL);
        }
        if notice.critical {
            n.urgency(Urgency::Critical)
                .timeout(Timeout::Never)
                .hint(Hint::SoundName("alarm-clock-elapsed".into()))
                .hint(Hint::Category("im.received".into()));
        } else {
            n.urgency(Urgency::Normal);
        }
        let handle = n.show().map_err(|e| e.to_string())?;
        let request_id = notice.request_id.clone();
        let registered = request_id.as_deref().map(|id| self.register(id));
        let live = self.live.clone();
        std::thread::Builder::new()
            .name("itv-notif-action".into())
            .spawn(move || {
                let (token, withdrawn) = match registered {
                    Some((t, rx)) => (Some(t), Some(rx)),
                    None => (None, None),
                };
                let on_response = |response: &NotificationResponse| {
                    let action = match response {
                        NotificationResponse::Default => {
                            Some(NoticeAction::Open(request_id.clone()))
                        }
                        NotificationResponse::Action(key) if key == OPEN_ACTION => {
                            Some(NoticeAction::Open(request_id.clone()))
                        }
                        NotificationResponse::Action(key) if key == ACK_ACTION => {
                            request_id.clone().map(NoticeAction::Acknowledge)
                        }
                        _ => None,
                    };
                    if let Some(a) = action {
                        let _ = clicks.send(a);
                    }
                };
                // One small runtime per notification: it waits for whichever comes first,
                // the user's action (or the server closing it) or a withdrawal.
                let rt = match tokio::runtime::Builder::new_current_thread().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::warn!(error = %e, "notification action thread");
                        return;
                    }
                };
                rt.block_on(async {
                    let withdrawn = async {
                        match withdrawn {
                            Some(rx) => rx.await.is_ok(),
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = handle.wait_for_action_async(on_response) => {}
                        true = withdrawn => handle.close_async().await,
                    }
                });
                if let (Some(id), Some(token)) = (request_id.as_deref(), token) {
                    forget(&live, id, token);
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    fn withdraw(&self, request_id: &str) {
        let closers = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(request_id)
            .unwrap_or_default();
        for (_, close) in closers {
            let _ = close.send(());
        }
    }
}
