//! Staff actions and the outbox's rules: what each action sends, what a server answer
//! means for a queued action (done, refused for good, retry later and when), and which
//! queued actions may go now (order is kept per request, not across requests).

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;

use crate::error::{Error, ServerRefusal};
use crate::quote::QuoteDraft;
use crate::sync::Backoff;
use crate::types::Request;

/// A staff action on a request; queued in the outbox, sent in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Action {
    /// ADMIN: project `pending` → `active`.
    ValidateProject { request_id: String },
    /// ADMIN: project `pending` → `rejected` with a reason.
    RejectProject { request_id: String, reason: String },
    /// Any status change the role allows (`en_route`, `closed`, ...).
    SetStatus {
        request_id: String,
        status: String,
        reason: Option<String>,
    },
    /// ADMIN: assign an intervention to a technician.
    Assign {
        request_id: String,
        technician_id: String,
    },
    /// Post a chat message on a request.
    SendMessage { request_id: String, body: String },
    /// ADMIN: store (or replace) the priced quote of a quote request.
    PrepareQuote {
        request_id: String,
        quote: QuoteDraft,
    },
    /// ADMIN: send the prepared quote to the client (`in_progress` → `sent`).
    SendQuote { request_id: String },
}

impl Action {
    pub fn request_id(&self) -> &str {
        match self {
            Action::ValidateProject { request_id }
            | Action::RejectProject { request_id, .. }
            | Action::SetStatus { request_id, .. }
            | Action::Assign { request_id, .. }
            | Action::SendMessage { request_id, .. }
            | Action::PrepareQuote { request_id, .. }
            | Action::SendQuote { request_id } => request_id,
        }
    }

    /// Checks what can be checked locally before queueing.
    pub fn validate(&self) -> Result<(), Error> {
        let blank = |s: &str| s.trim().is_empty();
        let bad = match self {
            Action::ValidateProject { request_id } => blank(request_id),
            Action::RejectProject { request_id, reason } => blank(request_id) || blank(reason),
            Action::SetStatus {
                request_id, status, ..
            } => blank(request_id) || blank(status),
            Action::Assign {
                request_id,
                technician_id,
            } => blank(request_id) || blank(technician_id),
            Action::SendMessage { request_id, body } => blank(request_id) || blank(body),
            // The server checks the lines, amounts and date, field by field.
            Action::PrepareQuote { request_id, .. } | Action::SendQuote { request_id } => {
                blank(request_id)
            }
        };
        if bad {
            Err(Error::Invalid(format!("incomplete action: {self:?}")))
        } else {
            Ok(())
        }
    }

    /// The method, endpoint path and JSON body this action is sent as.
    pub fn endpoint(&self) -> (Method, String, Value) {
        let id = self.request_id();
        let status = format!("/api/requests/{id}/status");
        match self {
            Action::ValidateProject { .. } => (Method::POST, status, json!({"status": "active"})),
            Action::RejectProject { reason, .. } => (
                Method::POST,
                status,
                json!({"status": "rejected", "reason": reason}),
            ),
            Action::SetStatus {
                status: to, reason, ..
            } => {
                let mut body = json!({ "status": to });
                if let Some(r) = reason {
                    body["reason"] = json!(r);
                }
                (Method::POST, status, body)
            }
            Action::Assign { technician_id, .. } => (
                Method::POST,
                format!("/api/requests/{id}/assign"),
                json!({ "technicianId": technician_id }),
            ),
            Action::SendMessage { body, .. } => (
                Method::POST,
                format!("/api/requests/{id}/messages"),
                json!({ "body": body }),
            ),
            Action::PrepareQuote { quote, .. } => (
                Method::PUT,
                format!("/api/requests/{id}/quote"),
                serde_json::to_value(quote).unwrap_or(Value::Null),
            ),
            Action::SendQuote { .. } => (
                Method::POST,
                format!("/api/requests/{id}/quote/send"),
                json!({}),
            ),
        }
    }
}

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum OutboxState {
    /// Waits to be sent (now, or at `nextAttemptAt` after a failed attempt).
    Pending,
    /// The server refused it; `refusal` says why.
    Refused,
    /// Not sent: an earlier action on the same request was refused, and this one was
    /// queued after it. The user retries or discards it.
    Held,
    /// Queued by another account of this desk: sent when that account signs in again.
    Abandoned,
}

/// One queued action, as the UI lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    #[ts(type = "number")]
    pub id: i64,
    pub action: Action,
    pub idempotency_key: String,
    pub state: OutboxState,
    pub created_at: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The server's reason when it refused the action (kept, never dropped).
    pub refusal: Option<ServerRefusal>,
    /// Why it is held or abandoned, in French, for the UI.
    pub reason: Option<String>,
    /// When the next attempt is planned (RFC 3339), after a failed one.
    pub next_attempt_at: Option<String>,
}

/// How many entries are in each state (the status bar's counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub refused: u64,
    pub held: u64,
    pub abandoned: u64,
}

/// The result of `Engine::perform`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(
    rename_all = "camelCase",
    tag = "outcome",
    rename_all_fields = "camelCase"
)]
pub enum PerformOutcome {
    /// The server applied it; the updated request when it returned one.
    Applied { request: Option<Box<Request>> },
    /// Not sent yet (offline): waits in the outbox.
    Queued {
        #[ts(type = "number")]
        outbox_id: i64,
    },
    /// The server refused it; it stays in the outbox with the reason.
    Refused {
        #[ts(type = "number")]
        outbox_id: i64,
        refusal: ServerRefusal,
    },
}

/// What to do with an entry after one send attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendVerdict {
    Done,
    /// The server will never accept it as is: keep it with the reason, hold what follows it.
    Refused(ServerRefusal),
    /// Could not reach a verdict (network, 5xx, 429): try again later; `retry_after` is
    /// the server's own wait (`Retry-After` of a 429 or 503), if it gave one.
    RetryLater {
        why: String,
        retry_after: Option<Duration>,
    },
    /// The session is no longer valid: stop until the user signs in again.
    AuthLost,
}

/// The longest `Retry-After` honoured: a wrong header must not park an action for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Classifies the error of one send attempt, `now` reading an HTTP-date `Retry-After`.
pub fn verdict_for_error(err: &Error, now: DateTime<Utc>) -> SendVerdict {
    match err {
        Error::Server(r) if r.is_session_lost() => SendVerdict::AuthLost,
        Error::Server(r) if r.status == 429 || r.status >= 500 => SendVerdict::RetryLater {
            why: format!("{} {}", r.status, r.message),
            retry_after: match r.status {
                429 | 503 => r
                    .retry_after
                    .as_deref()
                    .and_then(|v| parse_retry_after(v, now)),
                _ => None,
            },
        },
        Error::Server(r) => SendVerdict::Refused((**r).clone()),
        Error::Network(m) => SendVerdict::RetryLater {
            why: m.clone(),
            retry_after: None,
        },
        other => SendVerdict::RetryLater {
            why: other.to_string(),
            retry_after: None,
        },
    }
}

/// A `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3); a date in the
/// past means now. `None` when unreadable.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some(
        (at - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// The wait before the next attempt of an entry that failed `attempts` times (1 = first
/// failure): full jitter, uniform in [0, min(cap, base·2^(attempts-1))] with `jitter` in
/// [0, 1], so desks coming back together spread out; never shorter than the server asked.
pub fn retry_delay(
    backoff: &Backoff,
    attempts: u32,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Duration {
    let ceiling = backoff
        .base
        .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1).min(20)))
        .min(backoff.cap);
    let jittered = ceiling.mul_f64(jitter.clamp(0.0, 1.0));
    jittered.max(retry_after.unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

/// What the sending rules need of a pending entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub id: i64,
    pub request_id: String,
    /// Unix ms before which it is not tried again (`None`: at once).
    pub next_attempt_ms: Option<i64>,
}

/// The entries to send now, given every pending one in queue order: order is kept per
/// request, so only the first of each request may go, and only once its wait is over. A
/// request whose first action waits does not hold back the others.
pub fn due_now(pending: &[Waiting], now_ms: i64) -> Vec<i64> {
    first_per_request(pending)
        .filter(|w| w.next_attempt_ms.is_none_or(|t| t <= now_ms))
        .map(|w| w.id)
        .collect()
}

/// How long until some first-of-its-request entry is due (`None`: nothing waits).
pub fn next_wake(pending: &[Waiting], now_ms: i64) -> Option<Duration> {
    first_per_request(pending)
        .map(|w| {
            w.next_attempt_ms
                .unwrap_or(now_ms)
                .saturating_sub(now_ms)
                .max(0)
        })
        .min()
        .map(|ms| Duration::from_millis(ms as u64))
}

fn first_per_request(pending: &[Waiting]) -> impl Iterator<Item = &Waiting> {
    let mut seen = std::collections::HashSet::new();
    pending
        .iter()
        .filter(move |w| seen.insert(w.request_id.as_str()))
}

/// The key an entry is kept under: the account that queued it (server URL and user id),
/// the one that sends it. It matches the SQL backfill of the cache's migration 7.
pub fn owner_key(server_url: &str, user_id: &str) -> String {
    format!("{server_url} {user_id}")
}

/// Why an entry is held, from the refusal of the earlier action it depends on.
pub fn held_reason(refusal: &ServerRefusal) -> String {
    format!(
        "Retenue : une action précédente sur cette demande a été refusée ({})",
        refusal.message.trim_end_matches('.')
    )
}

/// Why another account's entry is not sent, naming that account.
pub fn abandoned_reason(account_label: &str) -> String {
    format!("En attente de {account_label} : envoyée quand ce compte se reconnectera")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16) -> Error {
        refusal_after(status, None)
    }

    fn refusal_after(status: u16, retry_after: Option<&str>) -> Error {
        Error::Server(Box::new(ServerRefusal {
            status,
            code: "x".into(),
            message: "non".into(),
            retry_after: retry_after.map(str::to_owned),
            ..Default::default()
        }))
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn retry(err: &Error) -> Option<Option<Duration>> {
        match verdict_for_error(err, now()) {
            SendVerdict::RetryLater { retry_after, .. } => Some(retry_after),
            _ => None,
        }
    }

    #[test]
    fn verdicts() {
        for status in [400, 403, 404, 409] {
            assert!(
                matches!(
                    verdict_for_error(&refusal(status), now()),
                    SendVerdict::Refused(_)
                ),
                "{status}"
            );
        }
        assert_eq!(
            verdict_for_error(&refusal(401), now()),
            SendVerdict::AuthLost
        );
        assert_eq!(retry(&refusal(503)), Some(None));
        assert_eq!(retry(&refusal(500)), Some(None));
        assert_eq!(retry(&refusal(429)), Some(None));
        assert_eq!(retry(&Error::Network("down".into())), Some(None));
    }

    #[test]
    fn retry_after_is_read_on_429_and_503_only() {
        let secs = Some(Some(Duration::from_secs(2)));
        assert_eq!(retry(&refusal_after(429, Some("2"))), secs);
        assert_eq!(retry(&refusal_after(503, Some(" 2 "))), secs);
        assert_eq!(retry(&refusal_after(500, Some("2"))), Some(None));
        // An HTTP date, 90 s after now; one in the past means at once.
        let date = Some(Some(Duration::from_secs(90)));
        assert_eq!(
            retry(&refusal_after(429, Some("Wed, 02 Dec 2026 07:01:30 GMT"))),
            date
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 06:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("bientôt", now()), None);
        assert_eq!(parse_retry_after("999999", now()), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn backoff_is_full_jitter_capped_and_never_below_retry_after() {
        let b = Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        };
        assert_eq!(retry_delay(&b, 1, 1.0, None), Duration::from_millis(500));
        assert_eq!(retry_delay(&b, 3, 1.0, None), Duration::from_secs(2));
        assert_eq!(retry_delay(&b, 3, 0.0, None), Duration::ZERO);
        assert_eq!(retry_delay(&b, 3, 0.5, None), Duration::from_secs(1));
        assert_eq!(retry_delay(&b, 40, 1.0, None), Duration::from_secs(30));
        let server = Some(Duration::from_secs(5));
        assert_eq!(retry_delay(&b, 1, 0.1, server), Duration::from_secs(5));
        assert_eq!(retry_delay(&b, 10, 1.0, server), Duration::from_secs(30));
    }

    fn waiting(id: i64, request: &str, next: Option<i64>) -> Waiting {
        Waiting {
            id,
            request_id: request.into(),
            next_attempt_ms: next,
        }
    }

    #[test]
    fn order_is_kept_per_request_not_across_requests() {
        let q = [
            waiting(1, "a", Some(5_000)), // failed, waits until 5 s
            waiting(2, "a", None),        // behind it: same request
            waiting(3, "b", None),        // another request: goes
            waiting(4, "b", None),        // after 3
            waiting(5, "c", Some(500)),   // its wait is over
        ];
        assert_eq!(due_now(&q, 1_000), vec![3, 5]);
        assert_eq!(next_wake(&q, 1_000), Some(Duration::ZERO));
        assert_eq!(due_now(&q, 6_000), vec![1, 3, 5]);
        let waiting_only = [waiting(1, "a", Some(5_000)), waiting(2, "a", None)];
        assert!(due_now(&waiting_only, 1_000).is_empty());
        assert_eq!(
            next_wake(&waiting_only, 1_000),
            Some(Duration::from_secs(4))
        );
        assert_eq!(next_wake(&[], 1_000), None);
    }

    #[test]
    fn reasons_are_french() {
        let r = ServerRefusal {
            status: 409,
            message: "Transition impossible.".into(),
            ..Default::default()
        };
        assert_eq!(
            held_reason(&r),
            "Retenue : une action précédente sur cette demande a été refusée (Transition impossible)"
        );
        assert!(abandoned_reason("Awa (https://itv.sn)").starts_with("En attente de Awa"));
    }

    #[test]
    fn endpoints_and_json() {
        let a = Action::RejectProject {
            request_id: "r1".into(),
            reason: "hors zone".into(),
        };
        let (m, p, b) = a.endpoint();
        assert_eq!(m, Method::POST);
        assert_eq!(p, "/api/requests/r1/status");
        assert_eq!(b, json!({"status": "rejected", "reason": "hors zone"}));
        let (_, p, b) = Action::Assign {
            request_id: "r2".into(),
            technician_id: "t".into(),
        }
        .endpoint();
        assert_eq!(p, "/api/requests/r2/assign");
        assert_eq!(b, json!({"technicianId": "t"}));
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["type"], "rejectProject");
        assert_eq!(v["requestId"], "r1");
        assert!(
            Action::SendMessage {
                request_id: "r".into(),
                body: " ".into()
            }
            .validate()
            .is_err()
        );
    }
}
