//! Server-side sessions: every request and every feed socket asks here whether its
//! session is still alive, and who its user is *now* (role, active flag).
//!
//! A small cache answers repeated checks for at most `cache_for` (≤ 1 s); ending a
//! session evicts it at once and tells open feed sockets through `ended`. Sessions
//! ended by another process (the `itv-server user` CLI) are found by `watch_ended`,
//! which reads the store every second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use itv_core::account::{EndReason, SessionPolicy};
use tokio::sync::broadcast;

use crate::store::{SessionRecord, SessionSet, Store, StoreError, User};

/// A use refreshes the stored last use (and so the expiry) at most this often.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// The longest a cached answer may be served.
pub const MAX_CACHE: Duration = Duration::from_secs(1);

/// A session that is alive, with its user as they are now.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub session_id: String,
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

/// Why a session check failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no such session")]
    Unknown,
    #[error("session ended: {}", .0.as_str())]
    Ended(EndReason),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A session that ended, as feed sockets hear of it.
#[derive(Debug, Clone)]
pub struct Ended {
    pub session_id: Arc<str>,
    pub reason: EndReason,
}

pub struct Sessions {
    store: Arc<dyn Store>,
    pub policy: SessionPolicy,
    cache_for: Duration,
    cache: Mutex<HashMap<String, (Instant, LiveSession)>>,
    ended: broadcast::Sender<Ended>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("policy", &self.policy)
            .finish()
    }
}

impl Sessions {
    pub fn new(store: Arc<dyn Store>, policy: SessionPolicy, cache_for: Duration) -> Sessions {
        let (ended, _) = broadcast::channel(1024);
        Sessions {
            store,
            policy,
            cache_for: cache_for.min(MAX_CACHE),
            cache: Mutex::new(HashMap::new()),
            ended,
        }
    }

    /// Opens a session for `user` (a sign-in). Blocking: call off the executor.
    pub fn open(
        &self,
        user: &User,
        device: String,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, StoreError> {
        let record = SessionRecord {
            id: crate::tokens::random_id().map_err(|e| StoreError::Io(e.to_string()))?,
            user_id: user.id.clone(),
            device,
            created_at: now,
            last_used_at: now,
            expires_at: self.policy.expires_at(now, now),
            ended: None,
        };
        self.store.create_session(&record)?;
        Ok(record)
    }

    /// The cached answer for `id`, if fresh: no store access.
    pub fn cached(&self, id: &str, now: DateTime<Utc>) -> Option<LiveSession> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(id)
            .filter(|(at, live)| at.elapsed() < self.cache_for && live.expires_at > now)
            .map(|(_, live)| live.clone())
    }

    /// Whether session `id` is alive now; a use slides its expiry. Blocking.
    pub fn check(&self, id: &str, now: DateTime<Utc>) -> Result<LiveSession, SessionError> {
        if let Some(live) = self.cached(id, now) {
            return Ok(live);
        }
        let (mut session, account) = self.store.session(id)?.ok_or(SessionError::Unknown)?;
        if let Some((_, reason)) = session.ended {
            return Err(SessionError::Ended(reason));
        }
        if !account.active {
            return Err(SessionError::Ended(EndReason::Deactivated));
        }
        if now >= session.expires_at {
            let set = SessionSet::One {
                id: id.to_string(),
                user_id: session.user_id.clone(),
            };
            let ended = self.store.end_sessions(&set, EndReason::Expired, now)?;
            self.announce(ended, EndReason::Expired);
            return Err(SessionError::Ended(EndReason::Expired));
        }
        if now - session.last_used_at >= TOUCH_EVERY {
            session.expires_at = self.policy.expires_at(session.created_at, now);
            self.store.touch_session(id, now, session.expires_at)?;
        }
        let live = LiveSession {
            session_id: session.id,
            user: account.user(),
            expires_at: session.expires_at,
        };
        if !self.cache_for.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() > 10_000 {
                cache.retain(|_, (at, _)| at.elapsed() < self.cache_for);
            }
            cache.insert(id.to_string(), (Instant::now(), live.clone()));
        }
        Ok(live)
    }

    /// Ends the sessions in `set`. Blocking.
    pub fn end(
        &self,
        set: &SessionSet,
        reason: EndReason,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let ids = self.store.end_sessions(set, reason, now)?;
        self.announce(ids.clone(), reason);
        Ok(ids)
    }

    /// Forgets the cached answers for `ids` and tells open sockets they ended.
    pub fn announce(&self, ids: Vec<String>, reason: EndReason) {
        for id in &ids {
            tracing::info!(session = %id, reason = reason.as_str(), "session ended");
        }
        self.forget_and_tell(ids, reason);
    }

    fn forget_and_tell(&self, ids: Vec<String>, reason: EndReason) {
        if ids.is_empty() {
            return;
        }
        {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            for id in &ids {
                cache.remove(id);
            }
        }
        for id in ids {
            let _ = self.ended.send(Ended {
                session_id: id.into(),
                reason,
            });
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Ended> {
        self.ended.subscribe()
    }
}

/// Every second, finds sessions ended by someone else (another process writing the
/// same database) and announces them. Re-announcing one is harmless.
pub async fn watch_ended(
    sessions: Arc<Sessions>,
    store: Arc<dyn Store>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut since = Utc::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        let now = Utc::now();
        // Overlap a little: a row committed just before the last read is read again.
        let from = since - chrono::Duration::seconds(2);
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.sessions_ended_since(from)).await {
            Ok(Ok(rows)) => {
                since = now;
                for (id, reason) in rows {
                    sessions.forget_and_tell(vec![id], reason);
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "reading ended sessions failed"),
            Err(e) => tracing::warn!(error = %e, "reading ended sessions failed"),
        }
    }
}
