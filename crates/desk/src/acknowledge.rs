//! Taking an intervention (issue 10). The acknowledgement is the server's, shared by every
//! desk: *Je prends* (from the detail pane or the notification) asks the server directly,
//! and each desk stops reminding — and takes the alerts off its screen — when the server's
//! copy of the request says someone took it, whoever it was.
//!
//! Why a direct call and not the outbox: taking an urgent call is a claim others rely on
//! at once. Queued offline, it would leave the user believing they own a call while every
//! other desk keeps ringing; so it either reaches the server now or fails visibly, and the
//! reminders go on.

use std::sync::Arc;
use std::time::Duration;

use crate::engine::{Engine, Inner, SessionCtx, unix_now};
use crate::error::{Error, Result};
use crate::notify::Notice;
use crate::types::Request;

/// How long *Je prends* waits for the server before saying it could not be sent.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

impl Engine {
    /// *Je prends*: acknowledges the intervention on the server (`POST /api/requests/{id}/ack`)
    /// and returns it as the server now has it (a second acknowledgement changes nothing).
    /// Never queued: offline, it fails with `network` and reminders go on.
    pub async fn acknowledge(&self, id: &str) -> Result<Request> {
        acknowledge(self.inner(), id).await
    }
}

pub(crate) async fn acknowledge(inner: &Arc<Inner>, id: &str) -> Result<Request> {
    let ctx = inner.ctx().ok_or(Error::NotSignedIn)?;
    let key = uuid::Uuid::new_v4().to_string();
    let sent = match tokio::time::timeout(ACK_TIMEOUT, ctx.api.acknowledge(id, &key)).await {
        Ok(sent) => sent,
        Err(_) => Err(Error::Network(format!(
            "no answer within {} s",
            ACK_TIMEOUT.as_secs()
        ))),
    };
    let request = crate::sessions::checked(inner, &ctx, sent).await?;
    let changed = inner
        .cache()
        .store_action_result(id, Some(&request), None, None)?;
    inner.emit_changed(changed);
    settle(inner, &ctx, &[&request]);
    tracing::info!(%id, "acknowledged on the server");
    Ok(request)
}

/// *Je prends* pressed on a notification. A failure is said in a notification of its own
/// (the user is not looking at the window), which offers *Je prends* again.
pub(crate) async fn from_notification(inner: Arc<Inner>, id: String) {
    let Err(e) = acknowledge(&inner, &id).await else {
        return;
    };
    tracing::warn!(%id, error = %e, "acknowledgement from a notification failed");
    let why = match &e {
        Error::Network(_) => {
            "Serveur injoignable : la prise en charge n'a pas été enregistrée, les rappels continuent."
                .to_owned()
        }
        Error::NotSignedIn => "Reconnectez-vous pour prendre en charge cette intervention.".into(),
        Error::Server(r) => r.message.clone(),
        other => other.to_string(),
    };
    let label = inner
        .cache()
        .request(&id)
        .ok()
        .flatten()
        .and_then(|(r, _)| r.ticket_number.or(Some(r.title)))
        .unwrap_or_default();
    let notice = Notice {
        key: format!("ack-failed:{id}:{}", unix_now()),
        request_id: Some(id),
        // About an urgent call, and it must not be missed: passes the tray's pause.
        critical: true,
        summary: "Prise en charge impossible".into(),
        body: format!("{label}\n{why}"),
        acknowledge: true,
    };
    crate::delivery::show(&inner, notice).await;
}

/// After the cache took in new copies of requests (`seen`, from the feed or an answer):
/// ends the watches of urgent interventions that no longer wait for this desk's user and
/// withdraws from the screen every alert asking them to take a request they no longer
/// need to (taken by someone, final, assigned elsewhere).
pub(crate) fn settle(inner: &Arc<Inner>, ctx: &SessionCtx, seen: &[&Request]) {
    let me = &ctx.user;
    let ended = (|| -> Result<Vec<String>> {
        let mut cache = inner.cache();
        let done: Vec<String> = cache
            .urgent_watches(me)?
            .into_iter()
            .filter(|w| w.awaiting.is_none())
            .map(|w| w.request_id)
            .collect();
        cache.drop_watches(&done)
    })();
    let mut moot = match ended {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "could not settle the reminders");
            Vec::new()
        }
    };
    for r in seen {
        if !r.can_acknowledge(me) && !moot.contains(&r.id) {
            moot.push(r.id.clone());
        }
    }
    for id in &moot {
        inner.notifier.withdraw(id);
    }
}
