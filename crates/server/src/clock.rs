//! The server's sense of "now" for the request workflow: timestamps, service-level
//! timers and escalation. Wall time, plus an offset that tests move forward to cross
//! a deadline without waiting for it. Sessions and tokens keep plain wall time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every copy of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_copy_moves_together() {
        let clock = Clock::default();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(Duration::minutes(5));
        let moved = copy.now() - before;
        assert!(moved >= Duration::minutes(5) && moved < Duration::minutes(6));
    }
}
