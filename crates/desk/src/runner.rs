//! The engine's feed: keeps the cache in step with the server. The feed connects first
//! (replay from the stored seq, then live); when the cache needs a full sync it runs beside
//! the feed (`full_sync`), never instead of it. Reconnects back off with full jitter and
//! honour the server's `Retry-After`; a wake-up (machine resumed, network back) drops the
//! connection, however alive it looks, and reconnects at once. What the feed brings goes to
//! the cache and the notices queue.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use crate::accounts::SessionEnd;
use crate::api::feed_url;
use crate::engine::{Inner, SessionCtx, unix_now};
use crate::error::{Error, Result};
use crate::feed::{self, FeedEnd};
use crate::full_sync::{self, FullSync};
use crate::notify::notices_for_event;
use crate::sync::{self, Phase, REPLAY_CHUNK, Step};
use crate::types::{ConnectionState, FeedEvent};

/// How one feed connection ended.
enum Ended {
    /// The server asked for a full resync, or its log is another one (restored).
    Resync,
    /// Network trouble: back off (at least what the server asked for) and retry.
    Lost {
        why: String,
        retry_after: Option<Duration>,
    },
    /// Woken (machine resumed, network back): reconnect at once.
    Woken,
    /// The server ended the session, or no longer accepts its token.
    AuthLost(SessionEnd),
}

/// The sync loop: waits for a session, then syncs until it changes.
pub(crate) async fn run(inner: Arc<Inner>) {
    let mut rx: watch::Receiver<Option<SessionCtx>> = inner.session_tx.subscribe();
    loop {
        let ctx = rx.borrow_and_update().clone();
        match ctx {
            None => {
                if rx.changed().await.is_err() {
                    return;
                }
            }
            Some(ctx) => {
                tokio::select! {
                    _ = run_session(&inner, ctx) => {
                        // Only ends on auth loss: wait for a new session.
                        if rx.changed().await.is_err() { return; }
                    }
                    changed = rx.changed() => if changed.is_err() { return; },
                }
            }
        }
    }
}

async fn run_session(inner: &Arc<Inner>, ctx: SessionCtx) {
    crate::drift::retry(inner, &ctx);
    let mut attempt: u32 = 0;
    // Resyncs in a row: a server that keeps asking (pruning faster than we sync, or a
    // restored log) is not answered by back-to-back full syncs from every desk at once.
    let mut resyncs: u32 = 0;
    let mut resync = false;
    let mut sync: Option<FullSync> = None;
    loop {
        let syncing = sync.as_ref().is_some_and(FullSync::running);
        inner.set_connection(if syncing {
            ConnectionState::Syncing
        } else {
            ConnectionState::Connecting
        });
        let needed = resync || (!syncing && full_sync::needed(inner).unwrap_or(true));
        resync = false;
        let mut went_live = false;
        let ended = if needed {
            sync = None; // a resync starts over
            inner.set_connection(ConnectionState::Syncing);
            match full_sync::start(inner, &ctx).await {
                Ok(s) => {
                    sync = Some(s);
                    connect_once(inner, &ctx, &mut sync, &mut went_live).await
                }
                Err(e) => classify(e),
            }
        } else {
            connect_once(inner, &ctx, &mut sync, &mut went_live).await
        };
        if went_live {
            attempt = 0;
            resyncs = 0;
        }
        match ended {
            Ended::Resync => {
                tracing::info!(resyncs, "feed: resync required");
                if resyncs > 0 {
                    let delay = inner.config.backoff.delay(resyncs - 1, fastrand::f64());
                    wait_or_wake(inner, delay).await;
                }
                resyncs = resyncs.saturating_add(1);
                resync = true;
            }
            Ended::Woken => {
                tracing::info!("feed: woken; reconnecting now");
                attempt = 0;
            }
            Ended::AuthLost(end) => {
                crate::sessions::session_lost(inner, &ctx, end).await;
                return;
            }
            Ended::Lost { why, retry_after } => {
                let last_sync_at = inner.cache().last_sync_at().ok().flatten();
                inner.set_connection(ConnectionState::Offline { last_sync_at });
                let delay =
                    inner
                        .config
                        .backoff
                        .delay_honouring(attempt, fastrand::f64(), retry_after);
                attempt = attempt.saturating_add(1);
                tracing::info!(%why, ?delay, attempt, "feed lost; reconnecting");
                if wait_or_wake(inner, delay).await {
                    attempt = 0;
                }
            }
        }
    }
}

/// Sleeps `delay` unless woken first (then says so).
async fn wait_or_wake(inner: &Inner, delay: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(delay) => false,
        _ = inner.wake.notified() => true,
    }
}

fn classify(e: Error) -> Ended {
    if let Some(end) = SessionEnd::from_error(&e) {
        return Ended::AuthLost(end);
    }
    let retry_after = match &e {
        Error::Server(r) => r
            .retry_after
            .as_deref()
            .and_then(|v| crate::outbox::parse_retry_after(v, chrono::Utc::now())),
        _ => None,
    };
    Ended::Lost {
        why: e.to_string(),
        retry_after,
    }
}

fn lost(why: impl Into<String>) -> Ended {
    Ended::Lost {
        why: why.into(),
        retry_after: None,
    }
}

async fn connect_once(
    inner: &Arc<Inner>,
    ctx: &SessionCtx,
    sync: &mut Option<FullSync>,
    went_live: &mut bool,
) -> Ended {
    let (since, epoch) = {
        let cache = inner.cache();
        match (cache.feed_seq(), cache.feed_epoch()) {
            (Ok(s), Ok(e)) => (s.unwrap_or(0), e),
            (Err(e), _) | (_, Err(e)) => return lost(e.to_string()),
        }
    };
    let token = ctx.api.token().unwrap_or_default();
    let url = feed_url(ctx.api.base(), Some(since), epoch.as_deref());
    let mut conn = tokio::select! {
        c = feed::connect(&url, token, inner.config.liveness) => match c {
            Ok(c) => c,
            Err(e) => return classify(e),
        },
        _ = inner.wake.notified() => return Ended::Woken,
    };
    let mut phase = Phase::Replaying;
    let mut last_seq = since;
    let mut buffer: Vec<FeedEvent> = Vec::new();
    let ended = loop {
        let mut sync_ended = None;
        let frame = tokio::select! {
            f = conn.next_frame() => Some(f),
            r = async { match sync.as_mut() { Some(s) => s.done().await, None => std::future::pending().await } } => {
                sync_ended = Some(r);
                None
            }
            _ = inner.wake.notified() => break Ended::Woken,
        };
        if let Some(r) = sync_ended {
            *sync = None;
            match r {
                // The sync may have ended before the feed went live, or just after.
                Ok(()) if phase == Phase::Live => inner.set_connection(ConnectionState::Live),
                Ok(()) => {}
                Err(e) => break classify(e),
            }
            continue;
        }
        let Some(frame) = frame else { continue };
        let frame = match frame {
            Ok(f) => f,
            Err(FeedEnd::Dead) => break lost("no ping for too long"),
            Err(FeedEnd::Closed(why)) => {
                // Keep what was replayed so far; notices wait in the queue.
                if !buffer.is_empty() {
                    let _ = apply(inner, ctx, sync.as_ref(), std::mem::take(&mut buffer), None);
                }
                break lost(why);
            }
        };
        match sync::on_frame(phase, last_seq, epoch.as_deref(), frame) {
            Step::Buffer(ev) => {
                last_seq = ev.seq;
                buffer.push(*ev);
                if buffer.len() >= REPLAY_CHUNK
                    && let Err(e) =
                        apply(inner, ctx, sync.as_ref(), std::mem::take(&mut buffer), None)
                {
                    break lost(e.to_string());
                }
            }
            Step::Apply(ev) => {
                last_seq = ev.seq;
                if let Err(e) = apply(inner, ctx, sync.as_ref(), vec![*ev], None) {
                    break lost(e.to_string());
                }
                crate::delivery::wake(inner);
            }
            Step::Quarantine { seq, raw, error } => {
                last_seq = seq;
                crate::drift::set_aside_event(inner, seq, &raw, &error);
                if phase == Phase::Live {
                    crate::delivery::wake(inner);
                }
            }
            Step::GoLive { seq, epoch: theirs } => {
                if epoch.is_none()
                    && let Some(e) = theirs
                {
                    // A cache from before the server named its log: learn it now.
                    let _ = inner.cache().set_feed_epoch(&e);
                }
                if let Err(e) = apply(
                    inner,
                    ctx,
                    sync.as_ref(),
                    std::mem::take(&mut buffer),
                    Some(seq),
                ) {
                    break lost(e.to_string());
                }
                last_seq = last_seq.max(seq);
                phase = Phase::Live;
                *went_live = true;
                match sync.as_ref().filter(|s| s.running()) {
                    Some(s) => {
                        s.feed_live.store(true, Ordering::SeqCst);
                        inner.set_connection(ConnectionState::Syncing);
                    }
                    None => {
                        let _ = inner.cache().touch_last_sync();
                        inner.set_connection(ConnectionState::Live);
                    }
                }
                crate::delivery::wake(inner);
                inner.outbox_kick.notify_one();
            }
            Step::OtherLog { epoch: theirs } => {
                tracing::warn!(ours = ?epoch, %theirs, "the server's log is another one (restored?): resync");
                break Ended::Resync;
            }
            Step::Resync { .. } => break Ended::Resync,
            Step::Fail {
                code,
                message,
                reason,
            } => {
                if let Some(end) = SessionEnd::from_frame(&code, reason, &message) {
                    break Ended::AuthLost(end);
                }
                break lost(format!("{code}: {message}"));
            }
            Step::Ignore => {}
        }
    };
    if let Some(s) = sync.as_ref() {
        s.feed_live.store(false, Ordering::SeqCst);
    }
    conn.close().await;
    ended
}

/// Applies events in one cache transaction (with the feed seq and the notices).
/// During a full sync, what leaves our scope is remembered so an older page does not bring
/// it back.
fn apply(
    inner: &Arc<Inner>,
    ctx: &SessionCtx,
    sync: Option<&FullSync>,
    events: Vec<FeedEvent>,
    ready_seq: Option<i64>,
) -> Result<()> {
    if events.is_empty() && ready_seq.is_none() {
        return Ok(());
    }
    let settings = inner.settings_for(&ctx.user.id);
    let me = ctx.user.clone();
    if let Some(s) = sync.filter(|s| s.running()) {
        s.tombstones
            .record(&events, |r| r.visible_to(me.role, &me.id));
    }
    let report = inner.cache().apply_events(
        &events,
        |ev| notices_for_event(ev, &me, &settings),
        |r| r.visible_to(me.role, &me.id),
        ready_seq,
        unix_now(),
    )?;
    tracing::debug!(
        events = events.len(),
        changed = report.changed.len(),
        notices = report.queued_notices,
        "applied"
    );
    inner.emit_changed(report.changed);
    // The latest copy of each request in the batch says whether its alerts still stand.
    let mut latest: Vec<&crate::types::Request> = Vec::new();
    for ev in events.iter().rev() {
        if !latest.iter().any(|r| r.id == ev.request.id) {
            latest.push(&ev.request);
        }
    }
    crate::acknowledge::settle(inner, ctx, &latest);
    Ok(())
}
