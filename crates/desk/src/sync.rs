//! Sync decisions as pure functions: where to start (full sync or resume),
//! what each feed frame means, how long to wait before reconnecting, when a
//! silent connection is dead. The engine computes these, then carries them out.

use std::time::Duration;

use crate::types::{FeedEvent, Frame};

/// How to (re)start the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPlan {
    /// Nothing cached yet (first sign-in) or the log no longer reaches us.
    FullSync,
    /// Resume the feed after the stored seq.
    Resume { since: i64 },
}

/// `sync_unfinished`: a full sync was started and not finished (the app stopped in the
/// middle): the cache holds part of the server's state, so it starts over.
pub fn plan_start(
    stored_seq: Option<i64>,
    resync_requested: bool,
    sync_unfinished: bool,
) -> StartPlan {
    match stored_seq {
        Some(since) if !resync_requested && !sync_unfinished => StartPlan::Resume { since },
        _ => StartPlan::FullSync,
    }
}

/// Phase of one feed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Replaying what we missed, until `ready`.
    Replaying,
    Live,
}

/// What to do with one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Keep for the catch-up batch (replay phase).
    Buffer(Box<FeedEvent>),
    /// Apply now and notify (live phase).
    Apply(Box<FeedEvent>),
    /// Replay done: apply the buffer as one batch, store `seq` (and the log's `epoch` when
    /// we knew none), go live.
    GoLive {
        seq: i64,
        epoch: Option<String>,
    },
    /// The server's log is not the one our position counts in (restored from a backup,
    /// recreated): resynchronise from scratch.
    OtherLog {
        epoch: String,
    },
    /// An event this build cannot read: set it aside (never skipped silently).
    Quarantine {
        seq: i64,
        raw: String,
        error: String,
    },
    /// The log no longer holds our position: full sync, then resume from `head`.
    Resync {
        head: i64,
    },
    /// The server ends the connection with an error.
    Fail {
        code: String,
        message: String,
        reason: Option<String>,
    },
    Ignore,
}

/// Decides what a frame means in a phase; `last_seq` is the highest seq seen, `epoch` the
/// log our position belongs to (`None` until a server has named one).
pub fn on_frame(phase: Phase, last_seq: i64, epoch: Option<&str>, frame: Frame) -> Step {
    match frame {
        Frame::Event(ev) if ev.seq <= last_seq => Step::Ignore,
        Frame::Event(ev) => match phase {
            Phase::Replaying => Step::Buffer(ev),
            Phase::Live => Step::Apply(ev),
        },
        Frame::Undecodable { seq, .. } if seq <= last_seq => Step::Ignore,
        Frame::Undecodable { seq, raw, error } => Step::Quarantine { seq, raw, error },
        Frame::Ready {
            epoch: Some(theirs),
            ..
        } if epoch.is_some_and(|ours| ours != theirs) => Step::OtherLog { epoch: theirs },
        Frame::Ready { seq, epoch } => Step::GoLive { seq, epoch },
        Frame::ResyncRequired { head_seq, .. } => Step::Resync { head: head_seq },
        Frame::Error {
            code,
            message,
            reason,
        } => Step::Fail {
            code,
            message,
            reason,
        },
        Frame::Unknown(_) => Step::Ignore,
    }
}

/// Replay buffers are applied in chunks of this many events (notifications
/// wait until `ready`, so a chunked catch-up still ends in one summary).
pub const REPLAY_CHUNK: usize = 500;

/// Reconnect delays: exponential from `base`, capped, with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// Delay before attempt `attempt` (0 = first retry); `jitter` in [0, 1) spreads it
    /// uniformly over [0, d] ("full jitter"): after a server restart, desks that lost it at
    /// the same instant come back spread over the whole window, not bunched in its upper half.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        self.ceiling(attempt).mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// The window `delay` draws from: exponential from `base`, capped.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        self.base
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.cap)
    }

    /// The delay, but never shorter than what the server asked for (`Retry-After`).
    pub fn delay_honouring(&self, attempt: u32, jitter: f64, asked: Option<Duration>) -> Duration {
        let own = self.delay(attempt, jitter);
        asked.map_or(own, |a| a.max(own))
    }
}

/// Liveness of a feed connection: the server pings every 20 s; 60 s of
/// silence (no frame, no ping) means the connection is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    pub dead_after: Duration,
    pub ping_every: Duration,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            dead_after: Duration::from_secs(60),
            ping_every: Duration::from_secs(20),
        }
    }
}

impl Liveness {
    pub fn is_dead(&self, silence: Duration) -> bool {
        silence >= self.dead_after
    }
}

/// Pages of `GET /api/requests` used by a full sync: the server's largest (a round trip per
/// 500 requests, not per 100: 100k in 200).
pub const SYNC_PAGE: u32 = 500;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::FeedEvent;

    fn ev(seq: i64) -> Frame {
        let text = format!(
            r#"{{"seq":{seq},"type":"request.created","kind":"quote","_id":"r","at":"t",
            "request":{{"_id":"r","kind":"quote","title":"t","status":"open","priority":"medium",
            "createdAt":"t","updatedAt":"t","version":1}}}}"#
        );
        Frame::parse(&text)
    }

    #[test]
    fn start_plan() {
        assert_eq!(plan_start(None, false, false), StartPlan::FullSync);
        assert_eq!(
            plan_start(Some(7), false, false),
            StartPlan::Resume { since: 7 }
        );
        assert_eq!(plan_start(Some(7), true, false), StartPlan::FullSync);
        assert_eq!(plan_start(Some(7), false, true), StartPlan::FullSync);
    }

    #[test]
    fn frames_by_phase() {
        assert!(matches!(ev(3), Frame::Event(_)));
        assert!(matches!(
            on_frame(Phase::Replaying, 2, None, ev(3)),
            Step::Buffer(_)
        ));
        assert!(matches!(
            on_frame(Phase::Live, 2, None, ev(3)),
            Step::Apply(_)
        ));
        assert_eq!(on_frame(Phase::Live, 3, None, ev(3)), Step::Ignore);
        assert_eq!(
            on_frame(
                Phase::Replaying,
                0,
                None,
                Frame::parse(r#"{"type":"ready","seq":9}"#)
            ),
            Step::GoLive {
                seq: 9,
                epoch: None
            }
        );
        assert_eq!(
            on_frame(
                Phase::Replaying,
                0,
                None,
                Frame::parse(r#"{"type":"resync_required","oldestSeq":50,"headSeq":90}"#)
            ),
            Step::Resync { head: 90 }
        );
        assert!(matches!(
            on_frame(
                Phase::Live,
                0,
                None,
                Frame::parse(r#"{"type":"error","code":"unauthorized","message":"x"}"#)
            ),
            Step::Fail { .. }
        ));
        assert_eq!(
            on_frame(Phase::Live, 0, None, Frame::parse("not json")),
            Step::Ignore
        );
        let _: Option<FeedEvent> = None;
    }

    #[test]
    fn backoff_grows_caps_and_jitters_over_the_whole_window() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 1.0), Duration::from_millis(500));
        assert_eq!(b.delay(0, 0.0), Duration::ZERO);
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(4));
        assert_eq!(b.delay(10, 1.0), Duration::from_secs(30));
        assert_eq!(b.delay(u32::MAX, 1.0), Duration::from_secs(30));
        assert_eq!(b.delay(10, 0.25), Duration::from_millis(7_500));
        assert_eq!(b.delay(4, 0.5), Duration::from_secs(4));
        // Retry-After is a floor, never shortened by the jitter.
        let asked = Some(Duration::from_secs(12));
        assert_eq!(b.delay_honouring(2, 0.9, asked), Duration::from_secs(12));
        assert_eq!(b.delay_honouring(10, 1.0, asked), Duration::from_secs(30));
        assert_eq!(b.delay_honouring(3, 0.5, None), Duration::from_secs(2));
    }

    #[test]
    fn another_log_means_resync_and_unreadable_events_are_set_aside() {
        let ready = |text: &str| Frame::parse(text);
        let ours = Some("e1");
        assert_eq!(
            on_frame(
                Phase::Replaying,
                0,
                ours,
                ready(r#"{"type":"ready","seq":4,"epoch":"e1"}"#)
            ),
            Step::GoLive {
                seq: 4,
                epoch: Some("e1".into())
            }
        );
        assert_eq!(
            on_frame(
                Phase::Replaying,
                0,
                ours,
                ready(r#"{"type":"ready","seq":4,"epoch":"e2"}"#)
            ),
            Step::OtherLog { epoch: "e2".into() }
        );
        // A server that names no epoch (older), or a desk that knows none yet: go live.
        assert_eq!(
            on_frame(
                Phase::Replaying,
                0,
                ours,
                ready(r#"{"type":"ready","seq":4}"#)
            ),
            Step::GoLive {
                seq: 4,
                epoch: None
            }
        );
        assert_eq!(
            on_frame(
                Phase::Replaying,
                0,
                None,
                ready(r#"{"type":"ready","seq":4,"epoch":"e2"}"#)
            ),
            Step::GoLive {
                seq: 4,
                epoch: Some("e2".into())
            }
        );
        let odd = r#"{"seq":5,"type":"request.created","kind":"intervention","_id":"r","at":"t",
            "request":{"_id":"r","kind":"intervention","title":"t","status":"open",
            "priority":"critical","createdAt":"t","updatedAt":"t","version":1}}"#;
        let Step::Quarantine { seq, error, .. } = on_frame(Phase::Live, 4, ours, Frame::parse(odd))
        else {
            panic!("an unreadable event must be set aside");
        };
        assert_eq!(seq, 5);
        assert!(error.contains("critical"), "{error}");
        assert_eq!(
            on_frame(Phase::Live, 5, ours, Frame::parse(odd)),
            Step::Ignore
        );
    }

    #[test]
    fn liveness() {
        let l = Liveness::default();
        assert!(!l.is_dead(Duration::from_secs(59)));
        assert!(l.is_dead(Duration::from_secs(60)));
    }
}
