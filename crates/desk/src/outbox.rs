//! Staff actions and the outbox's rules: what each action sends, and what a
//! server answer means for a queued action (done, refused for good, retry later).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;

use crate::error::{Error, ServerRefusal};
use crate::quote::QuoteDraft;
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
    Pending,
    Refused,
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
    /// The server will never accept it as is: keep it with the reason.
    Refused(ServerRefusal),
    /// Could not reach a verdict (network, 5xx, 429): stop and retry later, keeping order.
    RetryLater(String),
    /// The session is no longer valid: stop until the user signs in again.
    AuthLost,
}

/// Classifies the error of one send attempt.
pub fn verdict_for_error(err: &Error) -> SendVerdict {
    match err {
        Error::Server(r) if r.status == 401 => SendVerdict::AuthLost,
        Error::Server(r) if r.status == 429 || r.status >= 500 => {
            SendVerdict::RetryLater(format!("{} {}", r.status, r.message))
        }
        Error::Server(r) => SendVerdict::Refused((**r).clone()),
        Error::Network(m) => SendVerdict::RetryLater(m.clone()),
        other => SendVerdict::RetryLater(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16) -> Error {
        Error::Server(Box::new(ServerRefusal {
            status,
            code: "x".into(),
            message: "non".into(),
            ..Default::default()
        }))
    }

    #[test]
    fn verdicts() {
        assert!(matches!(
            verdict_for_error(&refusal(409)),
            SendVerdict::Refused(_)
        ));
        assert!(matches!(
            verdict_for_error(&refusal(403)),
            SendVerdict::Refused(_)
        ));
        assert!(matches!(
            verdict_for_error(&refusal(400)),
            SendVerdict::Refused(_)
        ));
        assert_eq!(verdict_for_error(&refusal(401)), SendVerdict::AuthLost);
        assert!(matches!(
            verdict_for_error(&refusal(503)),
            SendVerdict::RetryLater(_)
        ));
        assert!(matches!(
            verdict_for_error(&refusal(429)),
            SendVerdict::RetryLater(_)
        ));
        assert!(matches!(
            verdict_for_error(&Error::Network("down".into())),
            SendVerdict::RetryLater(_)
        ));
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
