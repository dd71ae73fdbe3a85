//! Sending the outbox over HTTPS, whatever the feed's state: when kicked (an action queued,
//! a sign-in, the feed going live) and when the next entry's wait is over. The rules (what
//! may go now, how long to wait) are `crate::outbox`'s; this applies their verdicts.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use crate::accounts::SessionEnd;
use crate::engine::{Inner, SessionCtx};
use crate::error::Result;
use crate::outbox::{
    OutboxEntry, SendVerdict, due_now, next_wake, owner_key, retry_delay, verdict_for_error,
};
use crate::types::ConnectionState;

/// The outbox's task. It needs no live feed: a blocked WebSocket does not stop HTTPS.
pub(crate) async fn outbox_loop(inner: Arc<Inner>) {
    let mut sessions = inner.session_tx.subscribe();
    let mut was_live = false;
    loop {
        let live = inner.connection() == ConnectionState::Live;
        let wait = match inner.ctx() {
            Some(ctx) => {
                if live && !was_live {
                    // The network is back: our own waits end, the server's do not.
                    let key = account_of(&ctx);
                    if let Err(e) = inner.cache().outbox_wake(&key) {
                        tracing::error!(error = %e, "outbox unreadable");
                    }
                }
                flush_outbox(&inner).await
            }
            None => None,
        };
        was_live = live;
        let sleep = async {
            match wait {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => {}
            _ = inner.outbox_kick.notified() => {}
            changed = sessions.changed() => {
                if changed.is_err() {
                    return; // the engine is gone
                }
            }
        }
    }
}

fn account_of(ctx: &SessionCtx) -> String {
    owner_key(ctx.api.base(), &ctx.user.id)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Sends every entry that may go now, the first of each request together, until none is
/// left that this pass has not tried. Returns how long until the next one is due.
pub(crate) async fn flush_outbox(inner: &Arc<Inner>) -> Option<Duration> {
    let _guard = inner.outbox_lock.lock().await;
    let ctx = inner.ctx()?;
    let account = account_of(&ctx);
    let mut tried = HashSet::new();
    let mut lost: Option<SessionEnd> = None;
    let wait = loop {
        let batch = match due_entries(inner, &account, &tried) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "outbox unreadable");
                break None;
            }
        };
        if batch.is_empty() {
            break inner
                .cache()
                .outbox_waiting(&account)
                .ok()
                .and_then(|w| next_wake(&w, now_ms()));
        }
        tried.extend(batch.iter().map(|e| e.id));
        let sends = batch
            .iter()
            .map(|e| ctx.api.perform(&e.action, &e.idempotency_key));
        for (entry, sent) in batch.iter().zip(join_all(sends).await) {
            match record(inner, entry, sent) {
                Ok(Some(end)) => lost = Some(end),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, id = entry.id, "outbox write failed"),
            }
        }
        if lost.is_some() {
            break None;
        }
    };
    inner.emit_outbox();
    if let Some(end) = lost {
        // The entries stay queued for the next sign-in; this session is over.
        crate::sessions::session_lost(inner, &ctx, end).await;
        return None;
    }
    wait
}

/// The entries due now for `account` that this pass has not sent yet.
fn due_entries(inner: &Inner, account: &str, tried: &HashSet<i64>) -> Result<Vec<OutboxEntry>> {
    let cache = inner.cache();
    let waiting = cache.outbox_waiting(account)?;
    let mut out = Vec::new();
    for id in due_now(&waiting, now_ms()) {
        if !tried.contains(&id)
            && let Some(e) = cache.outbox_get(id)?
        {
            out.push(e);
        }
    }
    Ok(out)
}

/// Stores one attempt's verdict; the session's end when the server no longer takes it.
fn record(
    inner: &Inner,
    entry: &OutboxEntry,
    sent: Result<crate::api::ActionAnswer>,
) -> Result<Option<SessionEnd>> {
    let verdict = match &sent {
        Ok(_) => SendVerdict::Done,
        Err(e) => verdict_for_error(e, chrono::Utc::now()),
    };
    let mut cache = inner.cache();
    match verdict {
        SendVerdict::Done => {
            let answer = sent.unwrap_or_default();
            cache.outbox_done(entry.id)?;
            let changed = cache.store_action_result(
                entry.action.request_id(),
                answer.request.as_ref(),
                answer.chat_message.as_ref(),
                answer.quote.as_ref(),
            )?;
            drop(cache);
            inner.emit_changed(changed);
            tracing::info!(id = entry.id, "outbox: applied");
        }
        SendVerdict::Refused(r) => {
            let held = cache.outbox_refused(entry.id, &r)?;
            tracing::warn!(id = entry.id, code = %r.code, held, "outbox: refused by the server");
        }
        SendVerdict::RetryLater { why, retry_after } => {
            let delay = retry_delay(
                &inner.config.backoff,
                entry.attempts + 1,
                fastrand::f64(),
                retry_after,
            );
            let now = now_ms();
            let at = now + delay.as_millis() as i64;
            let server_at = retry_after.map(|d| now + d.as_millis() as i64);
            cache.outbox_failed_attempt(entry.id, &why, at, server_at)?;
            tracing::warn!(id = entry.id, %why, ?delay, "outbox: no verdict, will retry");
        }
        SendVerdict::AuthLost => {
            tracing::warn!(id = entry.id, "outbox: session refused, waits for sign-in");
            return Ok(sent.err().as_ref().and_then(SessionEnd::from_error));
        }
    }
    Ok(None)
}
