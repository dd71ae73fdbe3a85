//! Fixed-window rate limits per key (account or address), in memory.
//!
//! Enough for one server; limits reset with it, which errs on the side of the user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

const WINDOW: Duration = Duration::from_secs(60);

impl RateLimiter {
    /// Counts one hit on `key`; `limit` hits per minute pass, 0 means unlimited.
    pub fn hit(&self, key: &str, limit: u32) -> Result<(), ApiError> {
        if limit == 0 {
            return Ok(());
        }
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

    #[test]
    fn the_limit_plus_one_is_refused_with_a_delay() {
        let rl = RateLimiter::default();
        for _ in 0..3 {
            rl.hit("a", 3).unwrap();
        }
        match rl.hit("a", 3) {
            Err(ApiError::RateLimited { retry_after }) => assert!((1..=60).contains(&retry_after)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        rl.hit("b", 3).unwrap();
        rl.hit("a", 0).unwrap();
    }
}
