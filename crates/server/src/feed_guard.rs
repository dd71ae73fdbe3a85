//! Limits on feed sockets: those that have not signed in yet, a few per address,
//! each counted until it authenticates or closes; and, for every socket, a bound on
//! how many are open and how many upgrades are accepted per second, so that a
//! thousand desks reconnecting at once after a restart come in at a pace the server
//! serves, each refused one told when to come back (`Retry-After`), spread out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The longest `Retry-After` the feed answers, in seconds.
pub const MAX_RETRY_AFTER: u64 = 120;
/// A refusal for the number of open sockets: nothing frees at a known pace, so the
/// desk waits between these, at random.
const FULL_RETRY: (u64, u64) = (10, 60);

#[derive(Debug, Default)]
pub struct PendingSockets {
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One unauthenticated socket; dropping it frees its place.
#[derive(Debug)]
pub struct PendingSlot {
    owner: Arc<PendingSockets>,
    address: IpAddr,
}

impl PendingSockets {
    /// A place for one more socket from `address`, or `None` past `limit`.
    pub fn take(self: &Arc<Self>, address: IpAddr, limit: usize) -> Option<PendingSlot> {
        let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(address).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(PendingSlot {
            owner: self.clone(),
            address,
        })
    }

    pub fn count(&self, address: IpAddr) -> usize {
        let map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&address).copied().unwrap_or(0)
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut map = self
            .owner
            .per_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.address);
            }
        }
    }
}

/// Bounds on open feed sockets and on upgrades accepted per second (0: none).
#[derive(Debug)]
pub struct FeedAdmission {
    max_sockets: usize,
    per_second: u32,
    open: AtomicUsize,
    pace: Mutex<Pace>,
}

/// A token bucket of `per_second` upgrades (as many at once at most), and the desks
/// told to come back that are not due yet, so each is given a later second.
#[derive(Debug)]
struct Pace {
    tokens: f64,
    backlog: f64,
    at: Option<Instant>,
}

/// One open feed socket; dropping it frees its place.
#[derive(Debug)]
pub struct FeedPermit {
    owner: Arc<FeedAdmission>,
}

/// Why an upgrade was refused, and in how many seconds to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `--feed-max-sockets` are open.
    Full { retry_after: u64 },
    /// `--feed-accept-per-sec` upgrades were accepted this second.
    Pace { retry_after: u64 },
}

impl Refused {
    pub fn retry_after(self) -> u64 {
        match self {
            Refused::Full { retry_after } | Refused::Pace { retry_after } => retry_after,
        }
    }
}

impl FeedAdmission {
    pub fn new(max_sockets: usize, per_second: u32) -> FeedAdmission {
        FeedAdmission {
            max_sockets,
            per_second,
            open: AtomicUsize::new(0),
            pace: Mutex::new(Pace {
                tokens: f64::from(per_second),
                backlog: 0.0,
                at: None,
            }),
        }
    }

    pub fn open_sockets(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Admits one upgrade at `now`, or says when to come back; `random` spreads the
    /// answers (any value, e.g. from the OS).
    pub fn admit(self: &Arc<Self>, now: Instant, random: u64) -> Result<FeedPermit, Refused> {
        let open = self.open.fetch_add(1, Ordering::AcqRel);
        let permit = FeedPermit {
            owner: self.clone(),
        };
        if self.max_sockets > 0 && open >= self.max_sockets {
            let (low, high) = FULL_RETRY;
            return Err(Refused::Full {
                retry_after: low + random % (high - low + 1),
            });
        }
        if self.per_second == 0 {
            return Ok(permit);
        }
        let rate = f64::from(self.per_second);
        let mut pace = self.pace.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = pace
            .at
            .map_or(0.0, |at| now.duration_since(at).as_secs_f64());
        pace.at = Some(now);
        pace.tokens = (pace.tokens + elapsed * rate).min(rate);
        pace.backlog = (pace.backlog - elapsed * rate).max(0.0);
        if pace.tokens >= 1.0 {
            pace.tokens -= 1.0;
            return Ok(permit);
        }
        // The n-th desk refused comes back in the second where the bucket has room for
        // it, plus up to a second at random so those of one second do not arrive at once.
        pace.backlog += 1.0;
        let due = (pace.backlog / rate).ceil() as u64 + random % 2;
        let retry_after = if due > MAX_RETRY_AFTER {
            MAX_RETRY_AFTER / 2 + random % (MAX_RETRY_AFTER / 2 + 1)
        } else {
            due.max(1)
        };
        Err(Refused::Pace { retry_after })
    }
}

impl Drop for FeedPermit {
    fn drop(&mut self) {
        self.owner.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A random number from the OS, for spreading `Retry-After` (0 if unavailable).
pub fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_or(0, |()| u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn upgrades_beyond_the_pace_are_told_later_seconds() {
        let admission = Arc::new(FeedAdmission::new(0, 10));
        let t0 = Instant::now();
        let mut kept = Vec::new();
        let mut refused = Vec::new();
        for i in 0..100u64 {
            match admission.admit(t0, i) {
                Ok(p) => kept.push(p),
                Err(r) => refused.push(r.retry_after()),
            }
        }
        assert_eq!(kept.len(), 10, "one second's worth at once");
        assert_eq!(refused.len(), 90);
        // 90 desks at 10 a second: told 1 to 10 s, no second given to more than 20.
        assert_eq!(*refused.iter().min().unwrap(), 1);
        assert!(*refused.iter().max().unwrap() <= 10, "{refused:?}");
        for s in 1..=10 {
            let n = refused.iter().filter(|&&r| r == s).count();
            assert!(n <= 20, "{n} desks told {s} s");
        }
        // A second later, the bucket admits ten again.
        let t1 = t0 + Duration::from_secs(1);
        let again = (0..12).filter(|&i| admission.admit(t1, i).is_ok()).count();
        assert_eq!(again, 10);
    }

    #[test]
    fn sockets_beyond_the_bound_are_refused_until_one_closes() {
        let admission = Arc::new(FeedAdmission::new(2, 0));
        let now = Instant::now();
        let a = admission.admit(now, 0).unwrap();
        let _b = admission.admit(now, 0).unwrap();
        let refused = admission.admit(now, 7).unwrap_err();
        assert!(
            matches!(refused, Refused::Full { retry_after } if (10..=60).contains(&retry_after))
        );
        assert_eq!(admission.open_sockets(), 2, "a refusal holds no place");
        drop(a);
        assert!(admission.admit(now, 0).is_ok());
    }

    #[test]
    fn places_are_counted_per_address_and_freed_on_drop() {
        let pending = Arc::new(PendingSockets::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = pending.take(a, 2).unwrap();
        let _second = pending.take(a, 2).unwrap();
        assert!(pending.take(a, 2).is_none());
        assert!(pending.take(b, 2).is_some());
        drop(first);
        assert!(pending.take(a, 2).is_some());
    }
}
