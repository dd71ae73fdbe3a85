//! The `Engine`: the one public entry point a UI shell calls. It owns the cache,
//! the secret store, the background sync task and the event stream.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::Api;
use crate::cache::{Cache, StoredAccount};
use crate::error::{Error, Result};
use crate::notify::{DesktopNotifier, NoticeAction, Notifier};
use crate::outbox::{Action, OutboxEntry, OutboxState, PerformOutcome};
use crate::secrets::{Secrets, account_key};
use crate::settings::Settings;
use crate::sync::{Backoff, Liveness};
use crate::types::{
    ConnectionState, EngineEvent, Health, InboxItem, InboxPage, InboxQuery, RequestDetail, Session,
    User,
};

/// Knobs of an engine; `Default` is what the desktop app uses.
#[derive(Clone)]
pub struct EngineConfig {
    /// Shows notifications (default: `DesktopNotifier`, D-Bus via notify-rust).
    pub notifier: Option<Arc<dyn Notifier>>,
    /// Service name under which the session secret is stored.
    pub keyring_service: String,
    /// Use the OS secret store (false: memory only, for tests).
    pub use_keyring: bool,
    pub backoff: Backoff,
    pub liveness: Liveness,
    /// How often reminders of urgent interventions nobody has taken are checked.
    pub reminder_tick: Duration,
    /// Seconds per reminder "minute" (60; tests shorten it).
    pub seconds_per_minute: i64,
    /// Broadcast channel capacity of the event stream.
    pub event_capacity: usize,
    /// Requests per page of a full sync (`sync::SYNC_PAGE`; tests page a few hundred).
    pub sync_page: u32,
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("keyring_service", &self.keyring_service)
            .field("use_keyring", &self.use_keyring)
            .field("backoff", &self.backoff)
            .field("liveness", &self.liveness)
            .finish_non_exhaustive()
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            notifier: None,
            keyring_service: "itv-desk".into(),
            use_keyring: true,
            backoff: Backoff::default(),
            liveness: Liveness::default(),
            reminder_tick: Duration::from_secs(30),
            seconds_per_minute: 60,
            event_capacity: 1024,
            sync_page: crate::sync::SYNC_PAGE,
        }
    }
}

/// The signed-in context the background task runs with.
#[derive(Clone, Debug)]
pub(crate) struct SessionCtx {
    pub api: Api,
    pub user: User,
}

pub(crate) struct Inner {
    pub cache: Mutex<Cache>,
    pub secrets: Secrets,
    pub config: EngineConfig,
    pub notifier: Arc<dyn Notifier>,
    pub events: broadcast::Sender<EngineEvent>,
    pub session_tx: watch::Sender<Option<SessionCtx>>,
    pub session: Mutex<Option<Session>>,
    pub connection: Mutex<ConnectionState>,
    pub health: Mutex<Health>,
    pub wake: Notify,
    /// Wakes the outbox loop: an action was queued, or the feed went live.
    pub outbox_kick: Notify,
    pub outbox_lock: tokio::sync::Mutex<()>,
    pub deliver_lock: tokio::sync::Mutex<()>,
    /// Wakes the delivery task: notices were queued (the feed never waits for the notifier).
    pub deliver_wake: Notify,
    pub clicks: mpsc::UnboundedSender<NoticeAction>,
}

impl Inner {
    pub fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn emit(&self, e: EngineEvent) {
        let _ = self.events.send(e);
    }

    pub fn emit_changed(&self, ids: Vec<String>) {
        if !ids.is_empty() {
            self.emit(EngineEvent::RequestsChanged { ids });
        }
    }

    pub fn set_connection(&self, state: ConnectionState) {
        let mut cur = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        if *cur != state {
            tracing::info!(?state, "connection");
            *cur = state.clone();
            drop(cur);
            self.emit(EngineEvent::Connection { state });
        }
    }

    pub fn connection(&self) -> ConnectionState {
        self.connection
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn health(&self) -> Health {
        *self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the health figures; the UI hears of it only when they moved.
    pub fn update_health(&self, change: impl FnOnce(&mut Health)) {
        let mut cur = self.health.lock().unwrap_or_else(|p| p.into_inner());
        let before = *cur;
        change(&mut cur);
        let health = *cur;
        drop(cur);
        if health != before {
            self.emit(EngineEvent::Health { health });
        }
    }

    pub fn ctx(&self) -> Option<SessionCtx> {
        self.session_tx.borrow().clone()
    }

    pub fn emit_outbox(&self) {
        if let Ok(c) = self.cache().outbox_counts() {
            self.emit(EngineEvent::Outbox {
                pending: c.pending,
                refused: c.refused,
                held: c.held,
                abandoned: c.abandoned,
            });
        }
    }

    /// The OS says the machine sleeps or lost its network (`up` false): offline now, honestly.
    /// It woke or the network is back (`up` true): reconnect at once, whatever the socket looks like.
    pub fn network_changed(&self, up: bool) {
        if up {
            self.wake.notify_one();
        } else if self.ctx().is_some() {
            let last_sync_at = self.cache().last_sync_at().ok().flatten();
            self.set_connection(ConnectionState::Offline { last_sync_at });
        }
    }

    pub fn settings_for(&self, user_id: &str) -> Settings {
        self.cache().settings(user_id).unwrap_or_default()
    }
}

/// The desktop engine. Dropping it stops its background tasks.
pub struct Engine {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn unix_now() -> i64 {
    now_secs()
}

impl Engine {
    /// Opens the cache in `data_dir` (serving it at once), restores the session
    /// from the secret store if any, and starts syncing in the background.
    /// Must be called inside a tokio runtime.
    pub async fn open(data_dir: impl AsRef<Path>, config: EngineConfig) -> Result<Engine> {
        let dir = data_dir.as_ref().to_owned();
        let cache = tokio::task::spawn_blocking(move || Cache::open(&dir)).await??;
        let account = cache.account()?;
        let last_sync_at = cache.last_sync_at()?;
        let notifier: Arc<dyn Notifier> = config
            .notifier
            .clone()
            .unwrap_or_else(|| Arc::new(DesktopNotifier::new("IT Vision Desk")));
        let (events, _) = broadcast::channel(config.event_capacity.max(16));
        let (session_tx, _) = watch::channel(None);
        let (clicks, mut clicks_rx) = mpsc::unbounded_channel();
        let secrets = Secrets::new(&config.keyring_service, config.use_keyring);
        let inner = Arc::new(Inner {
            cache: Mutex::new(cache),
            secrets,
            config,
            notifier,
            events,
            session_tx,
            session: Mutex::new(None),
            connection: Mutex::new(ConnectionState::SignedOut),
            health: Mutex::new(Health::default()),
            wake: Notify::new(),
            outbox_kick: Notify::new(),
            outbox_lock: tokio::sync::Mutex::new(()),
            deliver_lock: tokio::sync::Mutex::new(()),
            deliver_wake: Notify::new(),
            clicks,
        });

        if let Some(account) = account {
            let key = account_key(&account.server_url, &account.user.email);
            let inner2 = inner.clone();
            let found = tokio::task::spawn_blocking(move || inner2.secrets.load(&key)).await?;
            match found {
                Some((token, storage)) => {
                    let api = Api::new(&account.server_url, Some(token))?;
                    *inner.session.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(account.session(storage));
                    inner.set_connection(ConnectionState::Offline { last_sync_at });
                    inner.session_tx.send_replace(Some(SessionCtx {
                        api,
                        user: account.user.clone(),
                    }));
                }
                None => tracing::info!("no stored session secret: sign-in needed"),
            }
        }

        let mut tasks = vec![
            tokio::spawn(crate::runner::run(inner.clone())),
            tokio::spawn(crate::delivery::reminders(inner.clone())),
            tokio::spawn(crate::delivery::run(inner.clone())),
            tokio::spawn(crate::outbox_send::outbox_loop(inner.clone())),
        ];
        let inner2 = inner.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(action) = clicks_rx.recv().await {
                tracing::info!(?action, "notification action");
                match action {
                    NoticeAction::Open(request_id) => {
                        inner2.emit(EngineEvent::NotificationClicked { request_id });
                    }
                    // In a task of its own: a slow server must not hold back other clicks.
                    NoticeAction::Acknowledge(id) => {
                        tokio::spawn(crate::acknowledge::from_notification(inner2.clone(), id));
                    }
                }
            }
        }));
        tasks.push(tokio::spawn(crate::power::watch(inner.clone())));
        Ok(Engine { inner, tasks })
    }

    /// Signs in: exchanges email + password for a token, stores it in the OS
    /// secret store (or memory, reported in the session), and starts syncing.
    pub async fn sign_in(&self, server_url: &str, email: &str, password: &str) -> Result<Session> {
        let api = Api::new(server_url, None)?;
        let answer = api.login(email.trim(), password).await?;
        let account = StoredAccount {
            server_url: api.base().to_owned(),
            user: answer.user.clone(),
        };
        // No outbox pass runs across the switch: one under way ends first, still as the
        // previous account, and the next one starts as this one. Otherwise a retry of the
        // previous account's action could leave after its owner left this desk.
        let _outbox = self.inner.outbox_lock.lock().await;
        {
            let mut cache = self.inner.cache();
            let previous = cache.account()?;
            // Stored before URLs were normalised, a previous account may be spelt otherwise.
            let same = previous.as_ref().is_some_and(|p| {
                crate::api::normalize_url(&p.server_url).ok().as_deref()
                    == Some(account.server_url.as_str())
                    && p.user.id == account.user.id
            });
            if !same {
                cache.clear()?;
            }
            cache.set_account(Some(&account))?;
        }
        let key = account_key(&account.server_url, &account.user.email);
        let inner = self.inner.clone();
        let token = answer.token.clone();
        let storage =
            tokio::task::spawn_blocking(move || inner.secrets.store(&key, &token)).await?;
        let session = account.session(storage);
        *self.inner.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(session.clone());
        self.inner.set_connection(ConnectionState::Connecting);
        self.inner.session_tx.send_replace(Some(SessionCtx {
            api: Api::new(&account.server_url, Some(answer.token))?,
            user: answer.user,
        }));
        self.inner.emit(EngineEvent::SessionChanged {
            session: Some(session.clone()),
        });
        Ok(session)
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// The current session, if signed in.
    pub fn session(&self) -> Option<Session> {
        self.inner
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn connection(&self) -> ConnectionState {
        self.inner.connection()
    }

    /// Failing notices and quarantined events, for the status bar.
    pub fn health(&self) -> Health {
        self.inner.health()
    }

    /// The event stream for the UI shell.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// Skips the current reconnect delay (network came back, machine woke up).
    pub fn reconnect_now(&self) {
        self.inner.wake.notify_one();
    }

    fn me(&self) -> Option<String> {
        self.session().map(|s| s.user.id)
    }

    /// One window of the inbox, from the cache.
    pub async fn inbox(&self, query: InboxQuery) -> Result<InboxPage> {
        let me = self.me();
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.cache().inbox(&query, me.as_deref())).await?
    }

    /// Full-text search over the cache, best matches first.
    pub async fn search(&self, text: &str, limit: u32) -> Result<Vec<InboxItem>> {
        let inner = self.inner.clone();
        let text = text.to_owned();
        tokio::task::spawn_blocking(move || inner.cache().search(&text, limit)).await?
    }

    /// Number of unread requests (tray badge).
    pub async fn unread_count(&self) -> Result<u64> {
        self.inner.cache().unread_count()
    }

    /// A request with its history and messages: from the server when reachable
    /// (and then cached), otherwise from the cache. Reading it takes nothing: a keyboard
    /// preview must not silence anyone's reminders; only `acknowledge` does.
    pub async fn request_detail(&self, id: &str) -> Result<RequestDetail> {
        let mut fresh = false;
        if let Some(ctx) = self.inner.ctx() {
            match tokio::time::timeout(Duration::from_secs(5), ctx.api.request_detail(id)).await {
                Ok(Ok(d)) => {
                    let changed = self.inner.cache().store_detail(
                        &d.request,
                        &d.history,
                        &d.messages,
                        d.quote.as_ref(),
                    )?;
                    if changed {
                        self.inner.emit_changed(vec![id.to_owned()]);
                    }
                    fresh = true;
                }
                Ok(Err(Error::Server(r))) if r.status == 404 => {
                    return Err(Error::NotFound(id.to_owned()));
                }
                Ok(Err(e)) if crate::accounts::SessionEnd::from_error(&e).is_some() => {
                    // The cached copy still shows; the session is over.
                    let _ = crate::sessions::checked(&self.inner, &ctx, Err::<(), _>(e)).await;
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "detail from cache"),
                Err(_) => tracing::debug!("detail timed out, from cache"),
            }
        }
        let cache = self.inner.cache();
        let (mut request, unread) = cache
            .request(id)?
            .ok_or_else(|| Error::NotFound(id.to_owned()))?;
        // The cached states are as of the server's read; the countdown needs them now.
        request.tracking.sla = request.sla_at(chrono::Utc::now().timestamp_millis());
        let can_acknowledge = self
            .session()
            .is_some_and(|s| request.can_acknowledge(&s.user));
        Ok(RequestDetail {
            history: cache.history(id)?,
            messages: cache.messages(id)?,
            quote: cache.quote(id)?,
            request,
            unread,
            fresh,
            can_acknowledge,
        })
    }

    /// Clears the unread mark of these requests.
    pub async fn mark_read(&self, ids: &[String]) -> Result<()> {
        let changed = self.inner.cache().mark_read(ids)?;
        self.inner.emit_changed(changed);
        Ok(())
    }

    /// The technicians an intervention can be assigned to (admins), asked of the
    /// server: assigning needs the server's current list, so this is not cached.
    pub async fn technicians(&self) -> Result<Vec<User>> {
        let ctx = self.inner.ctx().ok_or(Error::NotSignedIn)?;
        crate::sessions::checked(&self.inner, &ctx, ctx.api.technicians().await).await
    }

    /// The *Tableau de bord*'s figures (admins): `GET /api/staff/metrics` for `from`..`to`
    /// (`YYYY-MM-DD`, both inclusive; an empty string lets the server choose), the server's
    /// JSON as is. Asked each time, never cached: offline it fails with `network`; a
    /// technician gets the server's 403 (`forbidden`), and a bad date its 400 naming the field.
    pub async fn metrics(&self, from: &str, to: &str) -> Result<serde_json::Value> {
        let ctx = self.inner.ctx().ok_or(Error::NotSignedIn)?;
        crate::sessions::checked(&self.inner, &ctx, ctx.api.metrics(from, to).await).await
    }

    /// Queues a staff action in the outbox and, when live, sends it right away; otherwise
    /// the outbox's task tries it over HTTPS at once (the feed may be blocked, not HTTPS).
    pub async fn perform(&self, action: Action) -> Result<PerformOutcome> {
        action.validate()?;
        if self.inner.ctx().is_none() {
            return Err(Error::NotSignedIn);
        }
        let key = uuid::Uuid::new_v4().to_string();
        let id = self.inner.cache().outbox_push(&action, &key)?;
        self.inner.emit_outbox();
        if self.inner.connection() == ConnectionState::Live {
            self.flush_outbox().await;
        } else {
            self.inner.outbox_kick.notify_one();
        }
        let cache = self.inner.cache();
        Ok(match cache.outbox_get(id)? {
            None => PerformOutcome::Applied {
                request: cache
                    .request(action.request_id())?
                    .map(|(r, _)| Box::new(r)),
            },
            Some(OutboxEntry {
                state: OutboxState::Refused,
                refusal: Some(refusal),
                ..
            }) => PerformOutcome::Refused {
                outbox_id: id,
                refusal,
            },
            Some(_) => PerformOutcome::Queued { outbox_id: id },
        })
    }

    /// Everything in the outbox, oldest first: waiting, refused, held, and other accounts'
    /// entries as abandoned (each with its reason).
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.inner.cache().outbox_list()
    }

    /// Sends what may go now (also done on every reconnection); the outbox's task retries
    /// the rest when their wait is over.
    pub async fn flush_outbox(&self) {
        crate::outbox_send::flush_outbox(&self.inner).await;
        self.inner.outbox_kick.notify_one();
    }

    /// Removes an entry the user gave up on (refused, held or abandoned).
    pub async fn discard_outbox_entry(&self, id: i64) -> Result<bool> {
        let removed = self.inner.cache().outbox_remove(id)?;
        self.inner.emit_outbox();
        Ok(removed)
    }

    /// Sends a held or refused entry again (a refused one under a new idempotency key).
    /// False when it is neither, or another account's.
    pub async fn retry_outbox_entry(&self, id: i64) -> Result<bool> {
        let key = uuid::Uuid::new_v4().to_string();
        let retried = self.inner.cache().outbox_retry(id, &key)?;
        if retried {
            self.inner.emit_outbox();
            self.inner.outbox_kick.notify_one();
        }
        Ok(retried)
    }

    /// The signed-in user's settings (defaults otherwise).
    pub async fn settings(&self) -> Result<Settings> {
        let me = self.me().unwrap_or_default();
        self.inner.cache().settings(&me)
    }

    pub async fn set_settings(&self, settings: Settings) -> Result<Settings> {
        let me = self.me().ok_or(Error::NotSignedIn)?;
        let s = settings.normalized();
        self.inner.cache().set_settings(&me, &s)?;
        Ok(s)
    }

    /// Notification keys recorded so far (diagnostics and tests).
    pub async fn notification_log(&self) -> Result<Vec<(String, String)>> {
        self.inner.cache().notice_keys()
    }

    /// (id, version) of every cached request (diagnostics and tests).
    pub async fn cached_versions(&self) -> Result<Vec<(String, i64)>> {
        self.inner.cache().versions()
    }

    /// The last feed seq stored.
    pub async fn feed_seq(&self) -> Result<Option<i64>> {
        self.inner.cache().feed_seq()
    }

    /// Stops background work now (also done on drop).
    pub fn shutdown(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}
