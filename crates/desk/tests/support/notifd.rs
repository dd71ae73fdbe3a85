//! A recording notification server: owns `org.freedesktop.Notifications` on
//! the (private) session bus, records every `Notify` and `CloseNotification` call
//! (with when it arrived) and can emit `ActionInvoked` as a click would. Faults on demand:
//! refuse given `Notify` calls with a D-Bus error, or leave them unanswered (a hung daemon).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

const PATH: &str = "/org/freedesktop/Notifications";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    /// The `urgency` hint (0 low, 1 normal, 2 critical), when sent.
    pub urgency: Option<u8>,
    pub expire_timeout: i32,
    /// The notification the sender asked this one to replace (0: none).
    pub replaces_id: u32,
    /// When the call arrived.
    pub at: Instant,
}

/// Faults of the server, changeable while it runs.
#[derive(Debug, Default)]
pub struct Faults {
    /// `Notify` calls (1 = the first one received) answered with a D-Bus error.
    pub refuse: Mutex<HashSet<usize>>,
    /// While set, `Notify` is never answered (nor recorded as shown).
    pub hang: AtomicBool,
    /// Every `Notify` call received, answered or not.
    pub calls: AtomicUsize,
    /// When each call arrived, answered or not.
    pub call_times: Mutex<Vec<Instant>>,
}

impl Recorded {
    /// Whether it offers the action `key` (actions come as key, label pairs).
    pub fn offers(&self, key: &str) -> bool {
        self.actions.chunks(2).any(|pair| pair[0] == key)
    }
}

/// One `CloseNotification` call: which notification, and when it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Closed {
    pub id: u32,
    pub at: Instant,
}

struct Recorder {
    log: Arc<Mutex<Vec<Recorded>>>,
    closed: Arc<Mutex<Vec<Closed>>>,
    faults: Arc<Faults>,
    next: AtomicUsize,
}

// `crate`: the engine's own zbus 6 (renamed zbus6) would otherwise be the one the macro names.
#[zbus::interface(name = "org.freedesktop.Notifications", crate = "zbus")]
impl Recorder {
    /// `&self`: calls are served concurrently, so a hung one holds back no other.
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        expire_timeout: i32,
    ) -> zbus::fdo::Result<u32> {
        let call = self.faults.calls.fetch_add(1, Ordering::SeqCst) + 1;
        self.faults.call_times.lock().unwrap().push(Instant::now());
        if self.faults.refuse.lock().unwrap().contains(&call) {
            return Err(zbus::fdo::Error::Failed(format!("refused call {call}")));
        }
        if self.faults.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        let mut log = self.log.lock().unwrap();
        // As a daemon does: a replacement keeps the id of the notification it replaces.
        let id = if replaces_id != 0 && log.iter().any(|r| r.id == replaces_id) {
            replaces_id
        } else {
            self.next.fetch_add(1, Ordering::SeqCst) as u32 + 1
        };
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok());
        log.push(Recorded {
            id,
            app_name,
            summary,
            body,
            actions,
            urgency,
            expire_timeout,
            replaces_id,
            at: Instant::now(),
        });
        Ok(id)
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into(), "sound".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "itv-recorder".into(),
            "itv".into(),
            "0.1".into(),
            "1.2".into(),
        )
    }

    /// Records the call and, as a daemon does, says the notification closed (reason 3: by a
    /// call), which ends the sender's wait for an action.
    async fn close_notification(
        &self,
        id: u32,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) {
        self.closed.lock().unwrap().push(Closed {
            id,
            at: Instant::now(),
        });
        let _ = Recorder::notification_closed(&emitter, id, 3).await;
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

pub struct NotificationServer {
    conn: zbus::Connection,
    log: Arc<Mutex<Vec<Recorded>>>,
    closed: Arc<Mutex<Vec<Closed>>>,
    pub faults: Arc<Faults>,
}

impl NotificationServer {
    /// Connects to the session bus named by DBUS_SESSION_BUS_ADDRESS and owns the name.
    pub async fn start() -> NotificationServer {
        NotificationServer::start_with(Faults::default()).await
    }

    /// Starts with these faults.
    pub async fn start_with(faults: Faults) -> NotificationServer {
        let faults = Arc::new(faults);
        let address = std::env::var("DBUS_SESSION_BUS_ADDRESS")
            .expect("DBUS_SESSION_BUS_ADDRESS points at the private bus");
        let log = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(Mutex::new(Vec::new()));
        let conn = zbus::connection::Builder::address(address.as_str())
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at(
                PATH,
                Recorder {
                    log: log.clone(),
                    closed: closed.clone(),
                    faults: faults.clone(),
                    next: AtomicUsize::new(0),
                },
            )
            .unwrap()
            .build()
            .await
            .expect("own org.freedesktop.Notifications");
        NotificationServer {
            conn,
            log,
            closed,
            faults,
        }
    }

    /// Every `Notify` call received so far, answered or not.
    pub fn calls(&self) -> usize {
        self.faults.calls.load(Ordering::SeqCst)
    }

    /// Connections open on the bus, other than this server's and the bus's own.
    pub async fn bus_connections(&self) -> usize {
        let bus = zbus::fdo::DBusProxy::new(&self.conn).await.unwrap();
        let me = self.conn.unique_name().map(|n| n.to_string());
        bus.list_names()
            .await
            .unwrap()
            .iter()
            .filter(|n| n.starts_with(':') && Some(n.to_string()) != me)
            .count()
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    /// What `app_name` (one engine's notifier) showed, oldest first.
    pub fn recorded_by(&self, app_name: &str) -> Vec<Recorded> {
        self.recorded()
            .into_iter()
            .filter(|r| r.app_name == app_name)
            .collect()
    }

    /// Every `CloseNotification` call so far.
    pub fn closed(&self) -> Vec<Closed> {
        self.closed.lock().unwrap().clone()
    }

    /// Waits until notification `id` was closed by its sender; returns when.
    pub async fn wait_closed(&self, id: u32, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(c) = self.closed().iter().find(|c| c.id == id) {
                return c.at;
            }
            assert!(
                Instant::now() < deadline,
                "notification {id} was not closed: {:?}",
                self.closed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until `app_name` showed at least `n` notifications matching `keep`.
    pub async fn wait_for_by(
        &self,
        app_name: &str,
        n: usize,
        timeout: Duration,
        keep: impl Fn(&Recorded) -> bool,
    ) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        loop {
            let r: Vec<Recorded> = self
                .recorded_by(app_name)
                .into_iter()
                .filter(&keep)
                .collect();
            if r.len() >= n {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} notifications from {app_name}, got {}: {:#?}",
                r.len(),
                self.recorded()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until at least `n` notifications were recorded.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.recorded();
            if r.len() >= n {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} notifications, got {}: {r:#?}",
                r.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Emits `ActionInvoked(id, key)` then `NotificationClosed(id, 2)`, as a daemon does on a click.
    pub async fn click(&self, id: u32, key: &str) {
        let iface = self
            .conn
            .object_server()
            .interface::<_, Recorder>(PATH)
            .await
            .unwrap();
        Recorder::action_invoked(iface.signal_emitter(), id, key)
            .await
            .unwrap();
        Recorder::notification_closed(iface.signal_emitter(), id, 2)
            .await
            .unwrap();
    }
}
