//! A notifier adapter for the tray's "pause non-urgent notifications": critical notices (urgent
//! interventions, escalations) always go through, the others are dropped while paused.
//! Withdrawals always reach the real notifier: taking an alert off the screen is never noise.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use itv_desk::notify::{ClickSender, Notice, Notifier, ReadyHook};

pub struct PausableNotifier {
    inner: Arc<dyn Notifier>,
    paused: Arc<AtomicBool>,
}

impl PausableNotifier {
    pub fn new(inner: Arc<dyn Notifier>, paused: Arc<AtomicBool>) -> Self {
        PausableNotifier { inner, paused }
    }
}

impl PausableNotifier {
    fn silenced(&self, notice: &Notice) -> bool {
        let paused = self.paused.load(Ordering::Relaxed) && !notice.critical;
        if paused {
            tracing::debug!(key = %notice.key, "non-urgent notification paused");
        }
        paused
    }
}

/// Everything passes through to the real notifier (ids, replacement, readiness), so pausing
/// changes only what non-urgent notices do.
impl Notifier for PausableNotifier {
    fn show(&self, notice: &Notice, clicks: ClickSender) -> Result<(), String> {
        if self.silenced(notice) {
            return Ok(());
        }
        self.inner.show(notice, clicks)
    }

    fn display(
        &self,
        notice: &Notice,
        replaces: Option<u32>,
        clicks: ClickSender,
    ) -> Result<Option<u32>, String> {
        if self.silenced(notice) {
            return Ok(None);
        }
        self.inner.display(notice, replaces, clicks)
    }

    fn on_ready(&self, hook: ReadyHook) {
        self.inner.on_ready(hook);
    }

    fn withdraw(&self, request_id: &str) {
        self.inner.withdraw(request_id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Windows attributes toasts by the AppUserModelID the installer gives the shortcut, and
    /// macOS by the bundle: both are the bundle identifier the engine's notifier uses.
    #[test]
    fn the_notifier_app_id_is_the_bundle_identifier() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], itv_desk::notify::APP_ID);
        let installer = include_str!("../../packaging/windows/installer.nsi");
        assert!(
            installer.contains(&format!("\"{}\"", itv_desk::notify::APP_ID)),
            "the installer's AppUserModelID"
        );
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Notifier for Recorder {
        fn show(&self, notice: &Notice, _clicks: ClickSender) -> Result<(), String> {
            self.0.lock().unwrap().push(notice.key.clone());
            Ok(())
        }

        fn withdraw(&self, request_id: &str) {
            self.0
                .lock()
                .unwrap()
                .push(format!("withdraw:{request_id}"));
        }
    }

    fn notice(key: &str, critical: bool) -> Notice {
        Notice {
            key: key.into(),
            request_id: None,
            critical,
            summary: "s".into(),
            body: "b".into(),
            acknowledge: critical,
        }
    }

    #[test]
    fn pausing_drops_only_non_urgent_notices() {
        let rec = Arc::new(Recorder::default());
        let paused = Arc::new(AtomicBool::new(false));
        let n = PausableNotifier::new(rec.clone(), paused.clone());
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        n.show(&notice("a", false), tx.clone()).unwrap();
        paused.store(true, Ordering::Relaxed);
        n.show(&notice("b", false), tx.clone()).unwrap();
        n.show(&notice("urgent", true), tx.clone()).unwrap();
        paused.store(false, Ordering::Relaxed);
        n.show(&notice("c", false), tx.clone()).unwrap();
        // The engine's path (`display`) is paused the same way.
        paused.store(true, Ordering::Relaxed);
        assert_eq!(
            n.display(&notice("d", false), Some(3), tx.clone()),
            Ok(None)
        );
        n.display(&notice("urgent2", true), Some(3), tx).unwrap();
        assert_eq!(*rec.0.lock().unwrap(), ["a", "urgent", "c", "urgent2"]);
    }

    #[test]
    fn withdrawals_go_through_even_while_paused() {
        let rec = Arc::new(Recorder::default());
        let n = PausableNotifier::new(rec.clone(), Arc::new(AtomicBool::new(true)));
        n.withdraw("r1");
        assert_eq!(*rec.0.lock().unwrap(), ["withdraw:r1"]);
    }
}
