//! The running server: the router, start and stop.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::ws::Utf8Bytes;
use axum::routing::get;
use tokio::sync::{broadcast, watch};
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::config::Config;
use crate::deliveries::Deliveries;
use crate::error::ApiError;
use crate::feed_guard::{FeedAdmission, PendingSockets};
use crate::live::LiveEvent;
use crate::log_identity::{self, MarkerWriter};
use crate::ratelimit::RateLimiter;
use crate::sessions::Sessions;
use crate::state::AppState;
use crate::store::EventSink;
use crate::store::{LoggedEvent, Store, StoreError};
use crate::tokens::{
    SecretError, TokenKeys, create_private_dir, given_secret, load_or_create_secret, new_secret,
};
use crate::{demo, routes};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data dir {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("{0}")]
    Secret(SecretError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("demo data: {0}")]
    Demo(String),
}

/// A server that is up; dropping it does not stop it, `stop` does.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop_tx: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    marker: Arc<MarkerWriter>,
}

impl RunningServer {
    /// Closes feed connections, lets in-flight requests finish, waits, and records the
    /// log's last head as a clean stop (`log_identity.rs`).
    pub async fn stop(self) {
        let _ = self.stop_tx.send(true);
        let _ = self.task.await;
        if let Err(e) = log_identity::record_head(&self.state, &self.marker, false).await {
            tracing::warn!(error = %e, "event log marker not written at stop");
        }
    }

    /// Stops accepting and drops every connection at once, as a crash would (the
    /// marker still says running).
    pub fn abort(self) {
        let _ = self.stop_tx.send(true);
        self.task.abort();
    }
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    // The document describes the routes, so it is served from here rather than from
    // `routes` (which `openapi` reads): no module imports the other back.
    routes::api()
        .route("/api/openapi.json", get(crate::openapi::serve))
        .with_state(state)
        .merge(crate::portal::routes())
        .fallback(|| async { ApiError::NoRoute })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http())
}

/// Opens the data dir, migrates, seeds the demo if asked, binds and serves.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let dir = config.data_dir.clone();
    create_private_dir(&dir).map_err(|e| StartError::DataDir(dir.display().to_string(), e))?;
    // A secret given too short is refused before the database is even opened.
    let given = config
        .jwt_secret
        .as_deref()
        .map(given_secret)
        .transpose()
        .map_err(StartError::Secret)?;
    let (events, _) = broadcast::channel::<Arc<LiveEvent>>(4096);
    let clock = Clock::default();
    let store = open_store(&config, live_sink(events.clone()), clock.clone()).await?;
    let secret = match (given, &config.database_url) {
        (Some(given), _) => given,
        (None, None) => load_or_create_secret(&dir)
            .map_err(|e| StartError::DataDir(dir.display().to_string(), e))?,
        // Kept in the database, so that every instance signs and checks alike.
        (None, Some(_)) => {
            let fresh = new_secret().map_err(|e| StartError::Secret(e.into()))?;
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.meta_or_insert("jwt_secret", &fresh))
                .await
                .map_err(|e| StartError::Demo(e.to_string()))??
                .into_bytes()
        }
    };
    let marker = {
        let (store, dir, forced) = (store.clone(), dir.clone(), config.new_epoch);
        let shared = config.database_url.is_some();
        tokio::task::spawn_blocking(move || {
            log_identity::settle(store.as_ref(), &dir, forced, shared)
        })
        .await
        .map_err(|e| StartError::Demo(e.to_string()))??
    };
    let marker = Arc::new(marker);
    let (stop_tx, stopping) = watch::channel(false);
    let sessions = Arc::new(Sessions::new(
        store.clone(),
        config.session_policy(),
        std::time::Duration::from_millis(config.session_cache_ms),
    ));
    let state = AppState {
        store: store.clone(),
        keys: Arc::new(TokenKeys::new(&secret)),
        sessions: sessions.clone(),
        events,
        limits: Arc::new(match config.database_url {
            Some(_) => RateLimiter::shared(store.clone()),
            None => RateLimiter::default(),
        }),
        pending_sockets: Arc::new(PendingSockets::default()),
        feed_admission: Arc::new(FeedAdmission::new(
            config.feed_max_sockets,
            config.feed_accept_per_sec,
        )),
        epoch: Arc::from(marker.epoch()),
        config: Arc::new(config.clone()),
        deliveries: Deliveries::start(store.clone(), clock.clone(), stopping.clone()),
        clock,
        stopping,
    };
    if config.demo {
        demo::seed(&state)
            .await
            .map_err(|e| StartError::Demo(e.to_string()))?;
    }
    let listener = listen(config.addr).map_err(|e| StartError::Bind(config.addr, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(config.addr, e))?;
    spawn_pruner(state.clone());
    log_identity::spawn_keeper(state.clone(), marker.clone());
    tokio::spawn(crate::escalation::run(state.clone()));
    tokio::spawn(crate::sessions::watch_ended(
        sessions,
        store,
        state.stopping.clone(),
    ));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let mut stop_rx = state.stopping.clone();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    tracing::info!(%addr, data_dir = %dir.display(), "IT Vision Desk server listening");
    Ok(RunningServer {
        addr,
        state,
        stop_tx,
        task,
        marker,
    })
}

/// Connections the kernel holds for us until they are accepted: enough for every desk
/// reconnecting at once after a restart. `TcpListener::bind` asks for 128, and a connection
/// beyond those waits for its client's SYN retry, a second later (the kernel caps the number
/// at `net.core.somaxconn`).
const ACCEPT_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    // As std's `bind` does on Unix: a restarted server takes its port back at once. Not on
    // Windows, where the option would let another program share the port.
    if cfg!(unix) {
        socket.set_reuseaddr(true)?;
    }
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Hands each committed event to the live subscribers, serialised once.
fn live_sink(events: broadcast::Sender<Arc<LiveEvent>>) -> EventSink {
    Arc::new(move |e: &LoggedEvent| {
        if events.receiver_count() == 0 {
            return;
        }
        match serde_json::to_string(&e.event) {
            Ok(json) => {
                let _ = events.send(Arc::new(LiveEvent::new(e.clone(), Utf8Bytes::from(json))));
            }
            Err(err) => tracing::error!(%err, seq = e.seq(), "event not serialisable"),
        }
    })
}

/// PostgreSQL with `--database`, else the SQLite file in the data dir.
async fn open_store(
    config: &Config,
    sink: EventSink,
    clock: Clock,
) -> Result<Arc<dyn Store>, StartError> {
    let (url, path, options) = (
        config.database_url.clone(),
        config.database_path(),
        config.write_options(),
    );
    tokio::task::spawn_blocking(move || {
        crate::store::open(url.as_deref(), &path, Some(sink), options, clock)
    })
    .await
    .map_err(|e| StartError::Demo(e.to_string()))?
    .map_err(StartError::Store)
}

/// Keeps the event log to its configured size, once a minute.
fn spawn_pruner(state: AppState) {
    let mut stopping = state.stopping.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            let keep = state.config.event_log_keep;
            match state.db(move |s| s.prune_events(keep)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "event log pruned"),
                Err(e) => tracing::warn!(error = %e, "event log pruning failed"),
            }
        }
    });
}
