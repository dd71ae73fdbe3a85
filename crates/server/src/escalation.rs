//! Raises what nobody acts on, from the server so that it happens with every desk
//! closed: escalation of urgent interventions nobody took (or whose technician did
//! not acknowledge the assignment) and service-level breaches.
//!
//! The rules are `itv_core::alerts`; the state is rows in the database (one per
//! alert raised), not timers in memory: a restart loses nothing, and a pass that
//! runs twice raises nothing twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use itv_core::alerts::{Alert, AlertKind, due_alerts};
use itv_core::event::{Audience, alert_notification};
use itv_core::sla::Escalation;
use itv_core::{EventType, FeedEvent, Request};

use crate::state::AppState;
use crate::store::{AlertDraft, Store, StoreError};

/// How often the scheduler looks; an alert is raised at most this late.
const TICK: Duration = Duration::from_secs(1);

/// Runs until the server stops.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut stopping = state.stopping.clone();
    let escalation = state.config.policy().escalation;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopping.changed() => return,
        }
        let clock = state.clock.clone();
        match state
            .db(move |s| raise_due(s, &escalation, || clock.now()))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(raised = n, "alerts raised"),
            Err(e) => tracing::warn!(error = %e, "alert pass failed; next tick retries"),
        }
    }
}

/// One pass: raises every alert due by now that was not raised before; returns how
/// many. Each request is decided again inside its write, so an acknowledgement
/// that lands during the pass stops its escalation.
pub fn raise_due(
    store: &dyn Store,
    escalation: &Escalation,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut raised = 0;
    for (request, seen) in store.alert_candidates()? {
        let pending = |r: &Request, at: DateTime<Utc>| -> Vec<Alert> {
            due_alerts(r, escalation, at)
                .into_iter()
                .filter(|a| !seen.contains(&a.key))
                .collect()
        };
        if pending(&request, now()).is_empty() {
            continue;
        }
        raised += store
            .raise_alerts(&request.id, &mut |current: &Request| {
                let at = now();
                pending(current, at)
                    .into_iter()
                    .map(|a| draft(current, a, at))
                    .collect()
            })?
            .len();
    }
    Ok(raised)
}

/// The feed event of `alert` on `r`.
fn draft(r: &Request, alert: Alert, at: DateTime<Utc>) -> AlertDraft {
    let (event_type, escalation_level, escalation_reason, sla_timer) = match alert.kind {
        AlertKind::Escalated { reason, level, .. } => {
            (EventType::RequestEscalated, Some(level), Some(reason), None)
        }
        AlertKind::SlaBreached { timer, .. } => (EventType::SlaBreached, None, None, Some(timer)),
    };
    AlertDraft {
        event: FeedEvent {
            seq: 0,
            event_type,
            kind: r.kind(),
            request_id: r.id.clone(),
            ticket_number: r.ticket_number.clone(),
            at,
            request: r.clone(),
            chat_message: None,
            notification: Some(alert_notification(r, &alert, at)),
            escalation_level,
            escalation_reason,
            sla_timer,
        },
        audience: Audience::of_alert(&alert),
        key: alert.key,
    }
}
