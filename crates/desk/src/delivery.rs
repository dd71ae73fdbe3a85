//! Showing notices, off the feed loop: the delivery task plans what the feed queued (each
//! notice, or one summary after a catch-up burst), hands it to the notifier one at a time,
//! and keeps what failed until the notification server took it, retrying with backoff
//! (at least once on screen; the dedupe key keeps it at most once per event). Reminders
//! about urgent interventions nobody has taken yet replace the alert still on screen.
//!
//! A crash after the server showed a notice but before the cache says so shows it once more
//! on the next start: the side chosen is a duplicate rather than a lost urgent alert.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::engine::{Inner, SessionCtx, unix_now};
use crate::error::Result;
use crate::notify::{Notice, due_reminders, is_moot, plan_delivery, reminder_notice};
use crate::sync::Backoff;
use crate::types::Role;

/// Retries of a notice the notification server did not take: full jitter over
/// [0, min(cap, base·2ⁿ)]. Capped low: the server is local, a try costs little, and an
/// urgent alert should not wait long once the server is back.
const RETRY: Backoff = Backoff {
    base: Duration::from_millis(500),
    cap: Duration::from_secs(8),
};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Tells the delivery task that notices may be waiting. Never waits for the notifier.
pub(crate) fn wake(inner: &Inner) {
    inner.deliver_wake.notify_one();
}

/// Queues a notice of the engine's own (a failed *Je prends*, a session ended) for the
/// delivery task, which shows it as it is.
pub(crate) async fn show(inner: &Arc<Inner>, notice: Notice) {
    if let Err(e) = inner.cache().enqueue_notice(&notice, unix_now()) {
        tracing::error!(key = %notice.key, error = %e, "could not queue a notification");
    }
    wake(inner);
}

/// The delivery task: a pass whenever woken (the feed queued something) or when the next
/// retry is due.
pub(crate) async fn run(inner: Arc<Inner>) {
    let weak = Arc::downgrade(&inner);
    inner.notifier.on_ready(Box::new(move || {
        if let Some(inner) = weak.upgrade() {
            if let Err(e) = inner.cache().retry_notices_now() {
                tracing::warn!(error = %e, "notification queue");
            }
            wake(&inner);
        }
    }));
    loop {
        let next = pass(&inner).await;
        match next {
            Some(wait) => {
                tokio::select! {
                    _ = inner.deliver_wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            None => inner.deliver_wake.notified().await,
        }
    }
}

/// A notice that failed this often no longer holds back the ones behind it (the server
/// may refuse that one notice, not all of them); it is still retried on its own.
const HOLDS_THE_QUEUE: u32 = 5;

/// Plans what the feed queued, then tries the queue in order, urgent alerts first: a notice
/// waiting for its retry holds back those behind it, so a server that is down or hung is
/// tried once per retry rather than once per notice, and the alerts come out in order when
/// it is back. A failing urgent alert holds back every other notice however often it
/// failed (an alert that cannot be shown matters more than a quote's notice).
/// Returns when the next try is due.
async fn pass(inner: &Arc<Inner>) -> Option<Duration> {
    let _guard = inner.deliver_lock.lock().await;
    let ctx = inner.ctx();
    if let Some(ctx) = &ctx
        && let Err(e) = plan(inner, ctx)
    {
        tracing::error!(error = %e, "could not plan queued notifications");
    }
    let queue = inner.cache().queued_notices();
    let mut next: Option<i64> = None;
    match queue {
        Ok(mut queue) => {
            // Urgent alerts first (in their order), and no other notice overtakes one that
            // is still failing: when the server is back, the alert is what shows first.
            queue.sort_by_key(|(n, _, _)| !n.critical);
            let mut blocked = false;
            let mut alert_failing = false;
            for (notice, attempts, next_try_ms) in queue {
                let now = now_ms();
                let held = blocked || (alert_failing && !notice.critical);
                if held || next_try_ms > now {
                    if next_try_ms > now {
                        next = Some(next.map_or(next_try_ms, |n| n.min(next_try_ms)));
                    }
                    blocked |= attempts < HOLDS_THE_QUEUE;
                    alert_failing |= notice.critical && attempts > 0;
                    continue;
                }
                let critical = notice.critical;
                if let Some(retry_at) = attempt(inner, ctx.as_ref(), notice, attempts).await {
                    next = Some(next.map_or(retry_at, |n| n.min(retry_at)));
                    blocked |= attempts + 1 < HOLDS_THE_QUEUE;
                    alert_failing |= critical;
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "could not read the notification queue"),
    }
    let failing = inner.cache().failing_notices().unwrap_or(0);
    inner.update_health(|h| h.notices_failing = failing);
    next.map(|at| Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64))
}

/// Moves what the feed queued into the delivery queue: each notice, or one summary after a
/// burst. An alert asking to take a request someone took meanwhile (both events in one
/// catch-up) is settled unshown.
fn plan(inner: &Arc<Inner>, ctx: &SessionCtx) -> Result<()> {
    let threshold = inner.settings_for(&ctx.user.id).summary_threshold as usize;
    let mut cache = inner.cache();
    let pending = cache.pending_notices()?;
    if pending.is_empty() {
        return Ok(());
    }
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
    cache.settle_moot(&moot)?;
    let plan = plan_delivery(&live, threshold);
    let keys: Vec<String> = live.iter().map(|n| n.key.clone()).collect();
    cache.claim_notices(&keys, &plan, unix_now())?;
    Ok(())
}

/// One try at showing `notice`. Returns when to try again (unix ms) if the notifier failed.
async fn attempt(
    inner: &Arc<Inner>,
    ctx: Option<&SessionCtx>,
    notice: Notice,
    attempts: u32,
) -> Option<i64> {
    let key = notice.key.clone();
    let replaces = match prepare(inner, ctx, &notice) {
        Ok(Some(replaces)) => replaces,
        Ok(None) => return None,
        Err(e) => {
            tracing::error!(%key, error = %e, "notification queue");
            return None;
        }
    };
    let notifier = inner.notifier.clone();
    let clicks = inner.clicks.clone();
    let shown =
        tokio::task::spawn_blocking(move || notifier.display(&notice, replaces, clicks)).await;
    let outcome = match shown {
        Ok(Ok(id)) => Ok(id),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(e.to_string()),
    };
    let now = now_ms();
    let mut cache = inner.cache();
    match outcome {
        Ok(id) => {
            tracing::info!(%key, ?id, ?replaces, "notification shown");
            if let Err(e) = cache.mark_shown(&key, id, unix_now()) {
                tracing::error!(%key, error = %e, "could not record a shown notification");
            }
            None
        }
        Err(error) => {
            let delay = RETRY.delay(attempts, fastrand::f64());
            tracing::warn!(%key, %error, attempt = attempts + 1, retry_in_ms = delay.as_millis() as u64, "notification failed");
            let next = now + delay.as_millis() as i64;
            if let Err(e) = cache.mark_failed(&key, &error, next) {
                tracing::error!(%key, error = %e, "could not record a failed notification");
            }
            Some(next)
        }
    }
}

/// Whether `notice` is still worth showing (`None`: settled unshown) and, for a reminder,
/// which notification of the same request it replaces.
fn prepare(
    inner: &Arc<Inner>,
    ctx: Option<&SessionCtx>,
    notice: &Notice,
) -> Result<Option<Option<u32>>> {
    let mut cache = inner.cache();
    if notice.acknowledge
        && let Some(id) = &notice.request_id
    {
        let current = cache.request(id)?.map(|(r, _)| r);
        // Signed out, nobody on this desk can take it.
        let moot = ctx.is_none_or(|c| is_moot(notice, current.as_ref(), &c.user));
        if moot {
            cache.settle_moot(std::slice::from_ref(&notice.key))?;
            tracing::info!(key = %notice.key, "notification no longer needed");
            return Ok(None);
        }
    }
    let replaces = match &notice.request_id {
        Some(id) if is_reminder(notice) => cache.last_shown_id(id)?,
        _ => None,
    };
    Ok(Some(replaces))
}

fn is_reminder(n: &Notice) -> bool {
    n.key.starts_with("remind:")
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
        match remind_due(&inner, &ctx) {
            Ok(true) => wake(&inner),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "reminders"),
        }
    }
}

/// Queues the reminders due; returns whether it queued any. A request whose alert still
/// waits for the notification server gets no second one on top.
fn remind_due(inner: &Arc<Inner>, ctx: &SessionCtx) -> Result<bool> {
    let minutes = inner.settings_for(&ctx.user.id).urgent_reminder_minutes as i64;
    let interval = minutes * inner.config.seconds_per_minute;
    let now = unix_now();
    let mut cache = inner.cache();
    let watches = cache.urgent_watches(&ctx.user)?;
    let mut queued = false;
    for w in due_reminders(&watches, now, interval) {
        let (Some((request, _)), Some(awaiting)) = (cache.request(&w.request_id)?, w.awaiting)
        else {
            continue;
        };
        if !cache.notice_queued_for(&w.request_id)? {
            // Keyed by time, not by count: a watch ends on acknowledgement and may start
            // again (an urgent assignment), and a reused key would be deduplicated away.
            let key = format!("remind:{}:{now}", w.request_id);
            queued |= cache.enqueue_notice(&reminder_notice(key, &request, awaiting), now)?;
        }
        cache.bump_watch(&w.request_id, now)?;
    }
    Ok(queued)
}
