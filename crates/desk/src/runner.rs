//! The engine's background work: keep the cache in step with the server (full
//! sync, feed resume, reconnect with backoff), deliver queued notifications,
//! remind about unacknowledged urgent interventions, and drain the outbox.

use std::sync::Arc;

use tokio::sync::watch;

use crate::accounts::SessionEnd;
use crate::api::feed_url;
use crate::engine::{Inner, SessionCtx, unix_now};
use crate::error::{Error, Result};
use crate::feed::{self, FeedEnd};
use crate::notify::{
    Notice, due_reminders, is_moot, notices_for_event, notices_for_missed, plan_delivery,
    reminder_notice,
};
use crate::outbox::{SendVerdict, verdict_for_error};
use crate::sync::{self, Phase, REPLAY_CHUNK, Step, plan_start};
use crate::types::{ConnectionState, EngineEvent, FeedEvent, Role};

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
                deliver_pending(inner, ctx).await;
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
                deliver_pending(inner, ctx).await;
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

/// Shows the queued notices: each one, or one summary after a catch-up burst.
pub(crate) async fn deliver_pending(inner: &Arc<Inner>, ctx: &SessionCtx) {
    let _guard = inner.deliver_lock.lock().await;
    let threshold = inner.settings_for(&ctx.user.id).summary_threshold as usize;
    let result = (|| -> Result<Vec<Notice>> {
        let mut cache = inner.cache();
        let pending = cache.pending_notices()?;
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        // An alert asking to take a request someone took meanwhile (both events in one
        // catch-up) is settled unshown.
        let mut live = Vec::new();
        let mut moot = Vec::new();
        for n in pending {
            let current = match &n.request_id {
                Some(id) => cache.request(id)?.map(|(r, _)| r),
                None => None,
            };
            if is_moot(&n, current.as_ref(), &ctx.user) {
                moot.push(n.key);
            } else {
                live.push(n);
            }
        }
        cache.claim_notices(&moot, &[], unix_now())?;
        let plan = plan_delivery(&live, threshold);
        let keys: Vec<String> = live.iter().map(|n| n.key.clone()).collect();
        cache.claim_notices(&keys, &plan, unix_now())
    })();
    match result {
        Ok(notices) => {
            for n in notices {
                show(inner, n).await;
            }
        }
        Err(e) => tracing::error!(error = %e, "could not read queued notifications"),
    }
}

pub(crate) async fn show(inner: &Arc<Inner>, notice: Notice) {
    let notifier = inner.notifier.clone();
    let clicks = inner.clicks.clone();
    let key = notice.key.clone();
    let shown = tokio::task::spawn_blocking(move || notifier.show(&notice, clicks)).await;
    match shown {
        Ok(Ok(())) => tracing::info!(%key, "notification shown"),
        Ok(Err(e)) => tracing::warn!(%key, error = %e, "notification failed"),
        Err(e) => tracing::warn!(%key, error = %e, "notification task failed"),
    }
}

/// Every `reminder_tick`: alert again about urgent interventions the server says nobody
/// has taken (or whose assignment this desk's technician has not acknowledged).
pub(crate) async fn reminders(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(inner.config.reminder_tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(ctx) = inner.ctx() else { continue };
        if !matches!(ctx.user.role, Role::Admin | Role::Technician) {
            continue;
        }
        let due = match remind_due(&inner, &ctx) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reminders");
                continue;
            }
        };
        for n in due {
            show(&inner, n).await;
        }
    }
}

fn remind_due(inner: &Arc<Inner>, ctx: &SessionCtx) -> Result<Vec<Notice>> {
    let minutes = inner.settings_for(&ctx.user.id).urgent_reminder_minutes as i64;
    let interval = minutes * inner.config.seconds_per_minute;
    let now = unix_now();
    let mut cache = inner.cache();
    let watches = cache.urgent_watches(&ctx.user)?;
    let mut out = Vec::new();
    for w in due_reminders(&watches, now, interval) {
        let (Some((request, _)), Some(awaiting)) = (cache.request(&w.request_id)?, w.awaiting)
        else {
            continue;
        };
        // Keyed by time, not by count: a watch ends on acknowledgement and may start again
        // (an urgent assignment), and a reused key would be deduplicated away.
        let key = format!("remind:{}:{now}", w.request_id);
        let notice = reminder_notice(key, &request, awaiting);
        let fresh = cache.claim_notices(&[], std::slice::from_ref(&notice), now)?;
        cache.bump_watch(&w.request_id, now)?;
        out.extend(fresh);
    }
    Ok(out)
}

/// The outbox's retries: drains it when kicked (action queued, feed live) and,
/// while the server gives no verdict, tries again with backoff as long as the
/// feed stays live. Going live again kicks it, so nothing waits for a timer.
pub(crate) async fn outbox_loop(inner: Arc<Inner>) {
    let mut attempt: u32 = 0;
    loop {
        if attempt == 0 {
            inner.outbox_kick.notified().await;
        } else {
            let delay = inner.config.backoff.delay(attempt, fastrand::f64());
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = inner.outbox_kick.notified() => {}
            }
        }
        if inner.connection() != ConnectionState::Live {
            attempt = 0;
            continue;
        }
        attempt = match flush_outbox(&inner).await {
            Flushed::Settled => 0,
            Flushed::Stalled => attempt.saturating_add(1),
        };
    }
}

/// How a pass over the outbox ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flushed {
    /// Every entry has a verdict (applied or refused), or none can be sent now.
    Settled,
    /// An entry got no verdict (network, 5xx, 429): it and those after it wait.
    Stalled,
}

/// Sends pending outbox entries in order, each with its idempotency key.
/// Stops at the first one without a verdict (offline); refused ones stay, with the reason.
pub(crate) async fn flush_outbox(inner: &Arc<Inner>) -> Flushed {
    let _guard = inner.outbox_lock.lock().await;
    let Some(ctx) = inner.ctx() else {
        return Flushed::Settled;
    };
    let mut flushed = Flushed::Settled;
    let mut lost: Option<SessionEnd> = None;
    loop {
        let next = match inner.cache().outbox_next() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                tracing::error!(error = %e, "outbox unreadable");
                break;
            }
        };
        let sent = ctx.api.perform(&next.action, &next.idempotency_key).await;
        let verdict = match &sent {
            Ok(_) => SendVerdict::Done,
            Err(e) => verdict_for_error(e),
        };
        let mut cache = inner.cache();
        let step: Result<bool> = (|| match verdict {
            SendVerdict::Done => {
                let answer = sent.as_ref().ok().cloned().unwrap_or_default();
                cache.outbox_done(next.id)?;
                let changed = cache.store_action_result(
                    next.action.request_id(),
                    answer.request.as_ref(),
                    answer.chat_message.as_ref(),
                    answer.quote.as_ref(),
                )?;
                inner.emit_changed(changed);
                tracing::info!(id = next.id, "outbox: applied");
                Ok(true)
            }
            SendVerdict::Refused(r) => {
                tracing::warn!(id = next.id, code = %r.code, "outbox: refused by the server");
                cache.outbox_refused(next.id, &r)?;
                Ok(true)
            }
            SendVerdict::RetryLater(why) => {
                tracing::warn!(id = next.id, %why, "outbox: no verdict, will retry");
                cache.outbox_failed_attempt(next.id, &why)?;
                Ok(false)
            }
            SendVerdict::AuthLost => {
                tracing::warn!(id = next.id, "outbox: session refused, waits for sign-in");
                lost = sent.as_ref().err().and_then(SessionEnd::from_error);
                Ok(false)
            }
        })();
        drop(cache);
        match step {
            Ok(true) => continue,
            Ok(false) => {
                flushed = Flushed::Stalled;
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "outbox write failed");
                flushed = Flushed::Stalled;
                break;
            }
        }
    }
    inner.emit_outbox();
    if let Some(end) = lost {
        // The entry stays queued for the next sign-in; this session is over.
        crate::sessions::session_lost(inner, &ctx, end).await;
        return Flushed::Settled;
    }
    flushed
}
