//! Delivery of notices as native notifications, built with notify-rust. On Linux,
//! freedesktop notifications over one shared D-Bus connection (`dbus`), with the actions
//! *Ouvrir* and *Je prends*, reminders replacing the alert still on screen, and the
//! withdrawal of what is on screen for a request once nobody needs to act on it. On Windows
//! (toasts) and macOS (Notification Center), `native`. Deciding *what* to show stays in
//! `notify`; this module decides how each platform is asked.

#[cfg(target_os = "linux")]
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::{ACK_ACTION, ACK_LABEL, ClickSender, Notice, Notifier, OPEN_ACTION, OPEN_LABEL};

/// The app's identifier everywhere the OS attributes a notification: the bundle identifier
/// of `tauri.conf.json`, the Windows AppUserModelID the installer gives the Start-menu
/// shortcut, the macOS bundle whose name and icon Notification Center shows.
pub const APP_ID: &str = "sn.itvision.desk";

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
    pub fn build(&self, notice: &Notice) -> notify_rust::Notification {
        use notify_rust::{Notification, Timeout};
        let mut n = Notification::new();
        n.appname(&self.app_name)
            .summary(&notice.summary)
            .action(OPEN_ACTION, OPEN_LABEL);
        if notice.acknowledge && notice.request_id.is_some() {
            n.action(ACK_ACTION, ACK_LABEL);
        }
        if notice.critical {
            // Freedesktop servers keep it until acted on; Windows shows it long.
            n.timeout(Timeout::Never);
        }
        platform_style(&mut n, notice);
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

    /// Windows and macOS: no ids to replace by (a reminder is a new notification).
    #[cfg(not(target_os = "linux"))]
    fn display(
        &self,
        notice: &Notice,
        _replaces: Option<u32>,
        clicks: ClickSender,
    ) -> Result<Option<u32>, String> {
        let shown = super::native::Shown {
            notification: self.build(notice),
            request_id: notice.request_id.clone(),
            clicks,
        };
        super::native::show(shown, self.timeout).map(|()| None)
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

/// Urgency, sound and attribution, in each platform's terms (notify-rust offers each only
/// where the platform has it).
#[cfg(target_os = "linux")]
fn platform_style(n: &mut notify_rust::Notification, notice: &Notice) {
    use notify_rust::{Hint, Urgency};
    // Freedesktop bodies are markup; Windows and macOS show the text as given.
    n.body(&escape_body_markup(&notice.body));
    if notice.critical {
        n.urgency(Urgency::Critical)
            .sound_name("alarm-clock-elapsed")
            .hint(Hint::Category("im.received".into()));
    } else {
        n.urgency(Urgency::Normal);
    }
}

/// Windows: the AppUserModelID attributes the toast to the app (without it Windows shows
/// "Windows PowerShell" and a click opens PowerShell); critical is the *Reminder* scenario,
/// which stays on screen until dismissed, with the looping-capable alarm sound.
#[cfg(target_os = "windows")]
fn platform_style(n: &mut notify_rust::Notification, notice: &Notice) {
    use notify_rust::Urgency;
    n.body(&notice.body).app_id(APP_ID);
    if notice.critical {
        n.urgency(Urgency::Critical).sound_name("Alarm");
    } else {
        n.urgency(Urgency::Normal).sound_name("Default");
    }
}

/// macOS (NSUserNotificationCenter): the attribution is set once per process
/// (`native::attribute`); urgency has no equivalent there, the alert style comes from
/// Info.plist (`NSUserNotificationAlertStyle` = alert), and a critical notice plays a sound.
#[cfg(target_os = "macos")]
fn platform_style(n: &mut notify_rust::Notification, notice: &Notice) {
    n.body(&notice.body);
    if notice.critical {
        n.sound_name("Sosumi");
    }
}

#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
fn platform_style(n: &mut notify_rust::Notification, notice: &Notice) {
    n.body(&notice.body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urgent() -> Notice {
        Notice {
            key: "urgent:1".into(),
            request_id: Some("r1".into()),
            critical: true,
            summary: "🚨 Intervention urgente".into(),
            body: "<b>NVR</b> & caméras".into(),
            acknowledge: true,
        }
    }

    #[test]
    fn both_actions_are_offered_on_every_platform() {
        let n = DesktopNotifier::new("IT Vision Desk").build(&urgent());
        assert_eq!(n.actions, [OPEN_ACTION, OPEN_LABEL, ACK_ACTION, ACK_LABEL]);
        assert_eq!(n.summary, "🚨 Intervention urgente");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_gets_markup_escaped_critical_urgency_and_a_sound() {
        use notify_rust::{Hint, Urgency};
        let n = DesktopNotifier::new("IT Vision Desk").build(&urgent());
        assert_eq!(n.body, "&lt;b&gt;NVR&lt;/b&gt; &amp; caméras");
        assert!(n.hints.contains(&Hint::Urgency(Urgency::Critical)));
        assert!(
            n.hints
                .contains(&Hint::SoundName("alarm-clock-elapsed".into()))
        );
    }

    /// Run under Wine in CI: the toast carries the app's AppUserModelID (not PowerShell's),
    /// the Reminder scenario and the alarm; the body is plain text, not escaped markup.
    #[cfg(target_os = "windows")]
    #[test]
    fn windows_toasts_carry_the_app_id_the_reminder_urgency_and_an_alarm() {
        let n = DesktopNotifier::new("IT Vision Desk").build(&urgent());
        assert_eq!(n.body, "<b>NVR</b> & caméras");
        // notify-rust keeps these fields crate-private; its Debug output shows them.
        let shown = format!("{n:?}");
        assert!(
            shown.contains(r#"app_id: Some("sn.itvision.desk")"#),
            "{shown}"
        );
        assert!(shown.contains("urgency: Some(Critical)"), "{shown}");
        assert!(shown.contains(r#"sound_name: Some("Alarm")"#), "{shown}");
    }
}
