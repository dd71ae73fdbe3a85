//! Showing notices: the queued ones (each, or one summary after a catch-up burst) and the
//! reminders about urgent interventions nobody has taken yet.

use std::sync::Arc;

use crate::engine::{Inner, SessionCtx, unix_now};
use crate::error::Result;
use crate::notify::{Notice, due_reminders, is_moot, plan_delivery, reminder_notice};
use crate::types::Role;

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
