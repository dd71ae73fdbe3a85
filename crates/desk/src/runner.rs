//! The engine's background work: keep the cache in step with the server (full
//! sync, feed resume, reconnect with backoff), handing what it brings to the cache and to
//! the notices queue.

use std::sync::Arc;

use tokio::sync::watch;

use crate::accounts::SessionEnd;
use crate::api::feed_url;
use crate::engine::{Inner, SessionCtx, unix_now};
use crate::error::{Error, Result};
use crate::feed::{self, FeedEnd};
use crate::notify::{notices_for_event, notices_for_missed};
use crate::sync::{self, Phase, REPLAY_CHUNK, Step, plan_start};
use crate::types::{ConnectionState, EngineEvent, FeedEvent};

/// How one feed session ended.
enum Ended {
    /// The server asked for a full resync.
    Resync,
    /// Network trouble: back off and retry.
    Lost(String),
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
    let mut attempt: u32 = 0;
    let mut resync = false;
    loop {
        inner.set_connection(ConnectionState::Connecting);
        let ended = connect_once(inner, &ctx, resync, &mut attempt).await;
        resync = false;
        match ended {
            Ended::Resync => {
                tracing::info!("feed: resync required");
                resync = true;
                continue;
            }
            Ended::AuthLost(end) => {
                crate::sessions::session_lost(inner, &ctx, end).await;
                return;
            }
            Ended::Lost(why) => {
                let last_sync_at = inner.cache().last_sync_at().ok().flatten();
                inner.set_connection(ConnectionState::Offline { last_sync_at });
                let delay = inner.config.backoff.delay(attempt, fastrand::f64());
                attempt = attempt.saturating_add(1);
                tracing::info!(%why, ?delay, attempt, "feed lost; reconnecting");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = inner.wake.notified() => { attempt = 0; }
                }
            }
        }
    }
}

fn classify(e: Error) -> Ended {
    match SessionEnd::from_error(&e) {
        Some(end) => Ended::AuthLost(end),
        None => Ended::Lost(e.to_string()),
    }
}

async fn connect_once(
    inner: &Arc<Inner>,
    ctx: &SessionCtx,
    resync: bool,
    attempt: &mut u32,
) -> Ended {
    let stored = match inner.cache().feed_seq() {
        Ok(s) => s,
        Err(e) => return Ended::Lost(e.to_string()),
    };
    let since = match plan_start(stored, resync) {
        sync::StartPlan::Resume { since } => since,
        sync::StartPlan::FullSync => {
            inner.set_connection(ConnectionState::Syncing);
            match full_sync(inner, ctx, stored.is_none()).await {
                Ok(head) => head,
                Err(e) => return classify(e),
            }
        }
    };
    let token = ctx.api.token().unwrap_or_default();
    let url = feed_url(ctx.api.base(), Some(since));
    let mut conn = match feed::connect(&url, token, inner.config.liveness).await {
        Ok(c) => c,
        Err(e) => return classify(e),
    };
    let mut phase = Phase::Replaying;
    let mut last_seq = since;
    let mut buffer: Vec<FeedEvent> = Vec::new();
    loop {
        let frame = match conn.next_frame().await {
            Ok(f) => f,
            Err(FeedEnd::Dead) => return Ended::Lost("no ping for too long".into()),
            Err(FeedEnd::Closed(why)) => {
                // Keep what was replayed so far; notices wait in the queue.
                if !buffer.is_empty() {
                    let _ = apply(inner, ctx, std::mem::take(&mut buffer), None);
                }
                return Ended::Lost(why);
            }
        };
        match sync::on_frame(phase, last_seq, frame) {
            Step::Buffer(ev) => {
                last_seq = ev.seq;
                buffer.push(*ev);
                if buffer.len() >= REPLAY_CHUNK
                    && let Err(e) = apply(inner, ctx, std::mem::take(&mut buffer), None)
                {
                    return Ended::Lost(e.to_string());
                }
            }
            Step::Apply(ev) => {
                last_seq = ev.seq;
                if let Err(e) = apply(inner, ctx, vec![*ev], None) {
                    return Ended::Lost(e.to_string());
                }
                crate::delivery::wake(inner);
            }
            Step::GoLive { seq } => {
                if let Err(e) = apply(inner, ctx, std::mem::take(&mut buffer), Some(seq)) {
                    return Ended::Lost(e.to_string());
                }
                last_seq = last_seq.max(seq);
                phase = Phase::Live;
                *attempt = 0;
                let _ = inner.cache().touch_last_sync();
                inner.set_connection(ConnectionState::Live);
                crate::delivery::wake(inner);
                inner.outbox_kick.notify_one();
            }
            Step::Resync { .. } => {
                conn.close().await;
                return Ended::Resync;
            }
            Step::Fail {
                code,
                message,
                reason,
            } => {
                if let Some(end) = SessionEnd::from_frame(&code, reason, &message) {
                    return Ended::AuthLost(end);
                }
                return Ended::Lost(format!("{code}: {message}"));
            }
            Step::Ignore => {}
        }
    }
}

/// Applies events in one cache transaction (with the feed seq and the notices).
fn apply(
    inner: &Arc<Inner>,
    ctx: &SessionCtx,
    events: Vec<FeedEvent>,
    ready_seq: Option<i64>,
) -> Result<()> {
    if events.is_empty() && ready_seq.is_none() {
        return Ok(());
    }
    let settings = inner.settings_for(&ctx.user.id);
    let me = ctx.user.clone();
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

/// Full sync over `GET /api/requests`: head first, every page, then sweep.
/// Returns the seq to resume the feed from.
async fn full_sync(inner: &Arc<Inner>, ctx: &SessionCtx, first: bool) -> Result<i64> {
    let head = ctx.api.feed_head().await?;
    let generation = inner.cache().next_sync_generation()?;
    let mut cursor: Option<String> = None;
    let mut done: u64 = 0;
    inner.emit(EngineEvent::SyncProgress {
        done: 0,
        total: None,
    });
    loop {
        let page = ctx
            .api
            .list_requests(cursor.as_deref(), sync::SYNC_PAGE)
            .await?;
        done += page.requests.len() as u64;
        // After a long absence (not on a first sync), an urgent intervention that arrived
        // meanwhile and is still active alerts as if the feed had brought it.
        let alert = |r: &crate::types::Request| {
            if first {
                Vec::new()
            } else {
                notices_for_missed(r, &ctx.user)
            }
        };
        let changed = inner.cache().apply_sync_page_alerting(
            &page.requests,
            generation,
            !first,
            alert,
            unix_now(),
        )?;
        inner.emit_changed(changed);
        inner.emit(EngineEvent::SyncProgress {
            done,
            total: page.total,
        });
        match page.next_cursor {
            Some(c) if !page.requests.is_empty() => cursor = Some(c),
            _ => break,
        }
    }
    let gone = inner.cache().finish_sync(generation, head)?;
    inner.emit_changed(gone);
    crate::acknowledge::settle(inner, ctx, &[]);
    tracing::info!(done, head, "full sync done");
    Ok(head)
}
