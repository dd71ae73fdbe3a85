//! Fixed-window rate limits per key (account or address).
//!
//! On SQLite one process serves everything, so the windows are in its memory (they
//! reset with it, which errs on the side of the user). Several instances on PostgreSQL
//! share them in the database: a client cannot get twice the limit by being balanced
//! over two instances.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::store::Store;

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
    shared: Option<Arc<dyn Store>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

const WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// Windows kept by `store`, for every instance on it.
    pub fn shared(store: Arc<dyn Store>) -> RateLimiter {
        RateLimiter {
            windows: Mutex::default(),
            shared: Some(store),
        }
    }

    /// Counts one hit on `key`; `limit` hits per minute pass, 0 means unlimited.
    pub async fn hit(&self, key: &str, limit: u32) -> Result<(), ApiError> {
        if limit == 0 {
            return Ok(());
        }
        let Some(store) = self.shared.clone() else {
            return self.hit_in_memory(key, limit);
        };
        let key = key.to_string();
        match tokio::task::spawn_blocking(move || store.rate_hit(&key, limit)).await?? {
            Some(retry_after) => Err(ApiError::RateLimited { retry_after }),
            None => Ok(()),
        }
    }

    fn hit_in_memory(&self, key: &str, limit: u32) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let left = WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(ApiError::RateLimited {
                retry_after: left.as_secs().max(1),
            });
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_limit_plus_one_is_refused_with_a_delay() {
        let rl = RateLimiter::default();
        for _ in 0..3 {
            rl.hit("a", 3).await.unwrap();
        }
        match rl.hit("a", 3).await {
            Err(ApiError::RateLimited { retry_after }) => assert!((1..=60).contains(&retry_after)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        rl.hit("b", 3).await.unwrap();
        rl.hit("a", 0).await.unwrap();
    }
}
