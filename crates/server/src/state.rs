//! What every handler and feed socket shares while the server runs.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crate::clock::Clock;
use crate::config::Config;
use crate::deliveries::Deliveries;
use crate::error::ApiError;
use crate::feed_guard::{FeedAdmission, PendingSockets};
use crate::live::LiveEvent;
use crate::ratelimit::RateLimiter;
use crate::sessions::Sessions;
use crate::store::{Store, StoreError};
use crate::tokens::TokenKeys;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub keys: Arc<TokenKeys>,
    pub sessions: Arc<Sessions>,
    /// Committed events, in `seq` order, for live subscribers.
    pub events: broadcast::Sender<Arc<LiveEvent>>,
    pub limits: Arc<RateLimiter>,
    /// Feed sockets still waiting for their auth frame, per address.
    pub pending_sockets: Arc<PendingSockets>,
    /// Bounds on open feed sockets and on upgrades per second.
    pub feed_admission: Arc<FeedAdmission>,
    /// The event log's epoch, settled at start (`log_identity.rs`); fixed while the
    /// server runs.
    pub epoch: Arc<str>,
    pub config: Arc<Config>,
    /// First deliveries of new requests to staff desks, for the metrics.
    pub deliveries: Deliveries,
    /// The workflow's time (tests move it forward).
    pub clock: Clock,
    /// Flips to `true` when the server stops, so feed connections close.
    pub stopping: watch::Receiver<bool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish()
    }
}

impl AppState {
    /// Runs a blocking store call off the async executor.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || f(store.as_ref())).await??)
    }
}
