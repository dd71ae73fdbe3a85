//! The freedesktop notification server over one D-Bus connection, shared by every
//! notification: `Notify` (replacing a notification still on screen when asked),
//! `CloseNotification`, and the `ActionInvoked` / `NotificationClosed` signals for all ids.
//! notify-rust's handle keeps a connection (and, to wait for a click, a thread) per
//! notification; here one thread owns one connection, every call has a timeout, and a
//! notification the server never closes costs a map entry, not a thread or a socket.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use zbus::message::Type as MessageType;
use zbus::{MatchRule, MessageStream};
use zbus6 as zbus;

use super::{ClickSender, action_for};

const BUS_NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

/// A notification the server showed and has not closed yet.
struct Shown {
    request_id: Option<String>,
    clicks: ClickSender,
}

/// What is on screen, by the server's id (cleared when the connection is lost: the ids
/// belonged to that connection's server), and the last few actions on ids not known yet: a
/// click may overtake the `Notify` answer on its way to the task that records the id.
#[derive(Default)]
struct Screen {
    shown: HashMap<u32, Shown>,
    early: VecDeque<(u32, String)>,
}

const EARLY_ACTIONS_KEPT: usize = 16;
/// Stands for `NotificationClosed` among the early actions (not a valid action key).
const CLOSED: &str = "\u{0}closed";

impl Screen {
    fn act(&self, id: u32, key: &str) -> bool {
        let Some(shown) = self.shown.get(&id) else {
            return false;
        };
        if let Some(a) = action_for(key, shown.request_id.as_ref()) {
            let _ = shown.clicks.send(a);
        }
        true
    }

    fn record(&mut self, id: u32, shown: Shown) {
        self.shown.insert(id, shown);
        while let Some(i) = self.early.iter().position(|(e, _)| *e == id) {
            match self.early.remove(i) {
                Some((_, key)) if key == CLOSED => {
                    self.shown.remove(&id);
                }
                Some((_, key)) => {
                    self.act(id, &key);
                }
                None => {}
            }
        }
    }

    fn keep_early(&mut self, id: u32, key: String) {
        if self.early.len() == EARLY_ACTIONS_KEPT {
            self.early.pop_front();
        }
        self.early.push_back((id, key));
    }
}

type Live = Arc<Mutex<Screen>>;

fn lock(live: &Live) -> std::sync::MutexGuard<'_, Screen> {
    live.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) struct ShowCall {
    pub notification: notify_rust::Notification,
    pub request_id: Option<String>,
    /// The id of a notification this one replaces, if it is still on screen.
    pub replaces: Option<u32>,
    pub clicks: ClickSender,
}

enum Command {
    Show(Box<ShowCall>, std_mpsc::SyncSender<Result<u32, String>>),
    Withdraw(String),
}

/// Called when a notification server takes the name (see `Notifier::on_ready`).
pub(super) type Ready = Arc<Mutex<Option<super::ReadyHook>>>;

fn lock_ready(ready: &Ready) -> std::sync::MutexGuard<'_, Option<super::ReadyHook>> {
    ready.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Handle on the notification thread; cloning shares it.
#[derive(Clone)]
pub(super) struct Bus {
    commands: mpsc::UnboundedSender<Command>,
    timeout: Duration,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// Starts the notification thread. `timeout` bounds every D-Bus call (and the
    /// connection's setup), so a hung server costs a failed attempt, never a stuck caller.
    pub fn start(timeout: Duration, ready: Ready) -> std::io::Result<Bus> {
        let (commands, rx) = mpsc::unbounded_channel();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        std::thread::Builder::new()
            .name("itv-notify".into())
            .spawn(move || rt.block_on(Worker::new(timeout, ready).run(rx)))?;
        Ok(Bus { commands, timeout })
    }

    /// Shows a notification; blocks at most about `timeout` (twice when it must connect
    /// first). Returns the server's id.
    pub fn show(&self, call: ShowCall) -> Result<u32, String> {
        let (tx, rx) = std_mpsc::sync_channel(1);
        self.commands
            .send(Command::Show(Box::new(call), tx))
            .map_err(|_| "le fil des notifications s'est arrêté".to_owned())?;
        match rx.recv_timeout(self.timeout * 2 + Duration::from_millis(500)) {
            Ok(result) => result,
            Err(_) => Err(format!(
                "le serveur de notifications n'a pas répondu en {} ms",
                self.timeout.as_millis()
            )),
        }
    }

    /// Closes every notification of `request_id` still on screen. Does not wait.
    pub fn withdraw(&self, request_id: &str) {
        let _ = self.commands.send(Command::Withdraw(request_id.to_owned()));
    }
}

/// The thread's state: the connection (made on first use, remade after it broke) and
/// what is on screen.
struct Worker {
    timeout: Duration,
    conn: Option<zbus::Connection>,
    live: Live,
    /// Signals of the current connection, forwarded by a task (ended with the connection).
    signals: Option<mpsc::UnboundedReceiver<zbus::Message>>,
    ready: Ready,
}

impl Worker {
    fn new(timeout: Duration, ready: Ready) -> Worker {
        Worker {
            timeout,
            conn: None,
            live: Live::default(),
            signals: None,
            ready,
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            let signal = async {
                match self.signals.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Show(call, reply)) => self.show(call, reply).await,
                    Some(Command::Withdraw(request_id)) => self.withdraw(&request_id),
                    None => return,
                },
                message = signal => match message {
                    Some(m) => self.on_signal(&m),
                    None => self.lost("the signal stream ended"),
                },
            }
        }
    }

    /// Forgets the connection and what it showed; the next call connects again.
    fn lost(&mut self, why: &str) {
        if self.conn.take().is_some() {
            tracing::warn!(why, "notification connection lost");
        }
        self.signals = None;
        *lock(&self.live) = Screen::default();
    }

    async fn connection(&mut self) -> Result<zbus::Connection, String> {
        if let Some(c) = &self.conn {
            return Ok(c.clone());
        }
        let timeout = self.timeout;
        let (conn, signals) = tokio::time::timeout(timeout, connect(timeout))
            .await
            .map_err(|_| format!("bus de session injoignable en {} ms", timeout.as_millis()))?
            .map_err(|e| e.to_string())?;
        self.conn = Some(conn.clone());
        self.signals = Some(signals);
        Ok(conn)
    }

    /// Sends `Notify` from a task of its own, so that a server slow to answer holds back
    /// neither withdrawals nor clicks. The caller waits `timeout`; a server answering later
    /// still gets its notification closed, since the caller will show it again.
    async fn show(
        &mut self,
        call: Box<ShowCall>,
        reply: std_mpsc::SyncSender<Result<u32, String>>,
    ) {
        let conn = match self.connection().await {
            Ok(c) => c,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let replaces = call
            .replaces
            .filter(|id| lock(&self.live).shown.contains_key(id))
            .unwrap_or(0);
        let live = self.live.clone();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let sent = tokio::time::timeout(timeout, notify(&conn, &call.notification, replaces));
            let result = match sent.await {
                Ok(Ok(id)) => Ok(id),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!(
                    "le serveur de notifications n'a pas répondu en {} ms",
                    timeout.as_millis()
                )),
            };
            if let Ok(id) = result {
                let mut live = lock(&live);
                if replaces != 0 && replaces != id {
                    live.shown.remove(&replaces);
                }
                live.record(
                    id,
                    Shown {
                        request_id: call.request_id,
                        clicks: call.clicks,
                    },
                );
            }
            if reply.send(result.clone()).is_err()
                && let Ok(id) = result
            {
                lock(&live).shown.remove(&id);
                close(&conn, id, timeout).await;
            }
        });
    }

    fn withdraw(&mut self, request_id: &str) {
        let Some(conn) = self.conn.clone() else {
            return;
        };
        let ids: Vec<u32> = {
            let mut live = lock(&self.live);
            let ids: Vec<u32> = live
                .shown
                .iter()
                .filter(|(_, s)| s.request_id.as_deref() == Some(request_id))
                .map(|(id, _)| *id)
                .collect();
            for id in &ids {
                live.shown.remove(id);
            }
            ids
        };
        let timeout = self.timeout;
        for id in ids {
            let conn = conn.clone();
            tokio::spawn(async move { close(&conn, id, timeout).await });
        }
    }

    fn on_signal(&mut self, m: &zbus::Message) {
        let header = m.header();
        match header.member().map(|m| m.as_str()) {
            Some("ActionInvoked") => {
                let Ok((id, key)) = m.body().deserialize::<(u32, String)>() else {
                    return;
                };
                let mut live = lock(&self.live);
                if !live.act(id, &key) {
                    live.keep_early(id, key);
                }
            }
            Some("NameOwnerChanged") => {
                let Ok((_, _, new_owner)) = m.body().deserialize::<(String, String, String)>()
                else {
                    return;
                };
                // Another server: the ids on record were the previous one's.
                *lock(&self.live) = Screen::default();
                if !new_owner.is_empty() {
                    tracing::info!("notification server appeared");
                    if let Some(ready) = lock_ready(&self.ready).as_ref() {
                        ready();
                    }
                }
            }
            Some("NotificationClosed") => {
                if let Ok((id, _reason)) = m.body().deserialize::<(u32, u32)>() {
                    let mut live = lock(&self.live);
                    if live.shown.remove(&id).is_none() {
                        live.keep_early(id, CLOSED.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
}

/// Connects to the session bus and subscribes to the notification server's signals before
/// anything is shown (a click right after `Notify` is not lost).
async fn connect(
    timeout: Duration,
) -> zbus::Result<(zbus::Connection, mpsc::UnboundedReceiver<zbus::Message>)> {
    let conn = zbus::connection::Builder::session()
        .method_timeout(timeout)
        .build()
        .await?;
    // One rule for both signals, so they come in the order sent (a click, then the close).
    let rule = MatchRule::builder()
        .msg_type(MessageType::Signal)
        .interface(INTERFACE)
        .build()?;
    let signals = MessageStream::for_match_rule(rule, &conn, None).await?;
    // A notification server starting (at login, after a crash): what waits can go now.
    let owner = MatchRule::builder()
        .msg_type(MessageType::Signal)
        .sender("org.freedesktop.DBus")
        .interface("org.freedesktop.DBus")
        .member("NameOwnerChanged")
        .arg(0, BUS_NAME)
        .build()?;
    let owners = MessageStream::for_match_rule(owner, &conn, None).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut both = futures_util::stream::select(signals, owners);
        while let Some(Ok(m)) = both.next().await {
            if tx.send(m).is_err() {
                return;
            }
        }
    });
    Ok((conn, rx))
}

/// `Notify`, with the fields and hints notify-rust's builder set.
async fn notify(
    conn: &zbus::Connection,
    n: &notify_rust::Notification,
    replaces: u32,
) -> zbus::Result<u32> {
    let hints: HashMap<&str, zbus::Variant<'_>> = n.hints.iter().map(Into::into).collect();
    let reply = conn
        .call_method(
            Some(BUS_NAME),
            PATH,
            Some(INTERFACE),
            "Notify",
            &(
                &n.appname,
                replaces,
                &n.icon,
                &n.summary,
                &n.body,
                &n.actions,
                hints,
                i32::from(n.timeout),
            ),
        )
        .await?;
    reply.body().deserialize::<u32>()
}

async fn close(conn: &zbus::Connection, id: u32, timeout: Duration) {
    let call = conn.call_method(
        Some(BUS_NAME),
        PATH,
        Some(INTERFACE),
        "CloseNotification",
        &id,
    );
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::debug!(id, error = %e, "close notification"),
        Err(_) => tracing::debug!(id, "close notification timed out"),
    }
}
