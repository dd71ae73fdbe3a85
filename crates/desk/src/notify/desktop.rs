//! Delivery of notices as native notifications: on Linux freedesktop notifications built
//! with notify-rust and sent over one shared D-Bus connection (`dbus`), with the actions
//! *Ouvrir* and *Je prends*, reminders replacing the alert still on screen, and the
//! withdrawal of what is on screen for a request once nobody needs to act on it. Deciding
//! *what* to show stays in `notify`.

#[cfg(target_os = "linux")]
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::{ACK_ACTION, ACK_LABEL, ClickSender, Notice, Notifier, OPEN_ACTION, OPEN_LABEL};

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

/// How long one D-Bus call may take before the attempt counts as failed (and is retried).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The real notifier. On Linux, one thread and one D-Bus connection however many
/// notifications are on screen, started on first use.
#[derive(Clone)]
pub struct DesktopNotifier {
    pub app_name: String,
    timeout: Duration,
    #[cfg(target_os = "linux")]
    bus: Arc<OnceLock<Result<super::dbus::Bus, String>>>,
    #[cfg(target_os = "linux")]
    ready: super::dbus::Ready,
}

impl std::fmt::Debug for DesktopNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesktopNotifier")
            .field("app_name", &self.app_name)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for DesktopNotifier {
    fn default() -> Self {
        DesktopNotifier::new("IT Vision Desk")
    }
}

impl DesktopNotifier {
    pub fn new(app_name: &str) -> Self {
        DesktopNotifier::with_timeout(app_name, DEFAULT_CALL_TIMEOUT)
    }

    /// A notifier whose every D-Bus call gives up after `timeout`.
    pub fn with_timeout(app_name: &str, timeout: Duration) -> Self {
        DesktopNotifier {
            app_name: app_name.to_owned(),
            timeout,
            #[cfg(target_os = "linux")]
            bus: Arc::new(OnceLock::new()),
            #[cfg(target_os = "linux")]
            ready: super::dbus::Ready::default(),
        }
    }

    /// The notification as the platform takes it (notify-rust's builder).
    fn build(&self, notice: &Notice) -> notify_rust::Notification {
        use notify_rust::{Notification, Timeout};
        let mut n = Notification::new();
        n.appname(&self.app_name)
            .summary(&notice.summary)
            .body(&escape_body_markup(&notice.body))
            .action(OPEN_ACTION, OPEN_LABEL);
        if notice.acknowledge && notice.request_id.is_some() {
            n.action(ACK_ACTION, ACK_LABEL);
        }
        #[cfg(target_os = "linux")]
        {
            use notify_rust::{Hint, Urgency};
            if notice.critical {
                n.urgency(Urgency::Critical)
                    .hint(Hint::SoundName("alarm-clock-elapsed".into()))
                    .hint(Hint::Category("im.received".into()));
            } else {
                n.urgency(Urgency::Normal);
            }
        }
        if notice.critical {
            n.timeout(Timeout::Never);
        }
        n
    }

    #[cfg(target_os = "linux")]
    fn bus(&self) -> Result<&super::dbus::Bus, String> {
        self.bus
            .get_or_init(|| {
                super::dbus::Bus::start(self.timeout, self.ready.clone()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Notifier for DesktopNotifier {
    fn show(&self, notice: &Notice, clicks: ClickSender) -> Result<(), String> {
        self.display(notice, None, clicks).map(|_| ())
    }

    #[cfg(target_os = "linux")]
    fn display(
        &self,
        notice: &Notice,
        replaces: Option<u32>,
        clicks: ClickSender,
    ) -> Result<Option<u32>, String> {
        let call = super::dbus::ShowCall {
            notification: self.build(notice),
            request_id: notice.request_id.clone(),
            replaces,
            clicks,
        };
        self.bus()?.show(call).map(Some)
    }

    /// Other platforms (issue 14): shown without actions until their backend exists.
    #[cfg(not(target_os = "linux"))]
    fn display(
        &self,
        notice: &Notice,
        _replaces: Option<u32>,
        _clicks: ClickSender,
    ) -> Result<Option<u32>, String> {
        let _ = self.timeout;
        self.build(notice).show().map_err(|e| e.to_string())?;
        Ok(None)
    }

    fn on_ready(&self, hook: super::ReadyHook) {
        #[cfg(target_os = "linux")]
        {
            *self.ready.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = hook;
    }

    fn withdraw(&self, request_id: &str) {
        #[cfg(target_os = "linux")]
        if let Ok(bus) = self.bus() {
            bus.withdraw(request_id);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = request_id;
    }
}
