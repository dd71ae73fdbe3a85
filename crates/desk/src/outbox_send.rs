//! Sending the outbox: drains it when kicked, retries with backoff while the server gives
//! no verdict, and records each entry's verdict.

use std::sync::Arc;

use crate::accounts::SessionEnd;
use crate::engine::Inner;
use crate::error::Result;
use crate::outbox::{SendVerdict, verdict_for_error};
use crate::types::ConnectionState;

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
