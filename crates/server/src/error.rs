//! Errors as HTTP clients see them: the seed's `{success: false, ...}` with a French
//! message, a machine `code`, and the fields at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use itv_core::account::EndReason;
use itv_core::{FieldErrors, Status};
use serde::Serialize;
use serde_json::json;
use utoipa::{IntoResponses, ToSchema};

use crate::store::{Refusal, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation: {0}")]
    Validation(FieldErrors),
    #[error("malformed JSON: {0}")]
    BadJson(String),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The token's session was ended (sign-out, deactivation, expiry…).
    #[error("session ended: {}", .0.as_str())]
    SessionEnded(EndReason),
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Not found, with a message naming what (an account, a session).
    #[error("not found: {0}")]
    NotFoundWith(&'static str),
    /// The password was right but the account is deactivated.
    #[error("account disabled")]
    AccountDisabled(&'static str),
    #[error("no such route")]
    NoRoute,
    #[error("invalid transition from {}", current.as_str())]
    InvalidTransition { current: Status },
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("{0}")]
    QuoteExpired(itv_core::quote::QuoteExpired),
    #[error("payload too large")]
    TooLarge,
    #[error("rate limited for {retry_after}s")]
    RateLimited { retry_after: u64 },
    /// The database stayed locked longer than its busy timeout: nothing was written.
    #[error("database busy")]
    Busy,
    /// The feed takes no more sockets for now (`feed_guard::FeedAdmission`).
    #[error("feed overloaded, retry in {retry_after}s")]
    Overloaded { retry_after: u64 },
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, message: &str) -> ApiError {
        ApiError::Validation(FieldErrors::single(field, message))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::EmailTaken => ApiError::Conflict("Cet email est déjà utilisé"),
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Refused(r) => r.into(),
            StoreError::Account(refusal) => ApiError::Conflict(refusal.message()),
            StoreError::Database(db) if is_busy(&db) => ApiError::Busy,
            StoreError::Postgres(db) if is_unavailable(&db) => ApiError::Busy,
            StoreError::Unavailable(_) => ApiError::Busy,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// The database is away (its connection found dead) or asks for a retry: the caller may
/// try again shortly.
fn is_unavailable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    crate::store::postgres::found_dead(e)
        || e.code().is_some_and(|c| {
            [
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::LOCK_NOT_AVAILABLE,
            ]
            .contains(c)
        })
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        match r {
            Refusal::NotFound => ApiError::NotFound,
            Refusal::Forbidden => ApiError::Forbidden,
            Refusal::InvalidTransition { current } => ApiError::InvalidTransition { current },
            Refusal::Invalid(fields) => ApiError::Validation(fields),
            Refusal::QuoteExpired(e) => ApiError::QuoteExpired(e),
            // Actions turn it into "nothing changed" before it can get here.
            Refusal::Unchanged => ApiError::Internal("unchanged refusal escaped".into()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let expired;
        let (status, code, message) = match &self {
            ApiError::Validation(_) => (
                StatusCode::BAD_REQUEST,
                "validation",
                "Certains champs sont invalides",
            ),
            ApiError::BadJson(_) => (
                StatusCode::BAD_REQUEST,
                "bad_json",
                "Le corps de la requête n'est pas un JSON valide",
            ),
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", *m),
            ApiError::SessionEnded(reason) => {
                (StatusCode::UNAUTHORIZED, "session_ended", reason.message())
            }
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Action non autorisée pour votre rôle",
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Demande introuvable"),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, "not_found", "Ressource introuvable"),
            ApiError::NotFoundWith(m) => (StatusCode::NOT_FOUND, "not_found", *m),
            ApiError::AccountDisabled(m) => (StatusCode::FORBIDDEN, "account_disabled", *m),
            ApiError::InvalidTransition { .. } => (
                StatusCode::CONFLICT,
                "invalid_transition",
                "Ce changement de statut n'est pas possible depuis le statut actuel",
            ),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", *m),
            ApiError::QuoteExpired(e) => {
                expired = e.to_string();
                (StatusCode::CONFLICT, "quote_expired", expired.as_str())
            }
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "La requête est trop volumineuse",
            ),
            ApiError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Trop de requêtes, veuillez réessayer dans quelques instants",
            ),
            ApiError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Le service est momentanément occupé, veuillez réessayer",
            ),
            ApiError::Overloaded { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                crate::feed::MSG_OVERLOADED,
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Erreur interne du serveur",
                )
            }
        };
        let mut body = json!({ "success": false, "code": code, "message": message });
        match &self {
            ApiError::Validation(fields) => body["errors"] = json!(fields),
            ApiError::InvalidTransition { current } => body["currentStatus"] = json!(current),
            ApiError::SessionEnded(reason) => body["reason"] = json!(reason),
            ApiError::QuoteExpired(e) => body["validUntil"] = json!(e.valid_until),
            ApiError::Overloaded { retry_after } => body["retryAfter"] = json!(retry_after),
            _ => {}
        }
        let mut response = (status, axum::Json(body)).into_response();
        let retry_after = match self {
            ApiError::RateLimited { retry_after } | ApiError::Overloaded { retry_after } => {
                Some(retry_after)
            }
            ApiError::Busy => Some(1),
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

// ---------------------------------------------------------------------------
// Shapes of the error answers, for the OpenAPI document (`openapi.rs`): the body
// above as a schema, and the responses most operations share.

/// The machine `code` of an error body: every code `ApiError` answers with.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a field is missing or wrong; `errors` names each.
    Validation,
    /// 400: the body is not JSON.
    BadJson,
    /// 401: no token, a bad or expired token, wrong credentials.
    Unauthorized,
    /// 401: the token's session was ended (`reason` says why); sign in again.
    SessionEnded,
    /// 403: the caller's role may not do this.
    Forbidden,
    /// 403: the account is deactivated and cannot sign in.
    AccountDisabled,
    /// 404: unknown id, or a request the caller may not see.
    NotFound,
    /// 409: the status change is not allowed from `currentStatus`.
    InvalidTransition,
    /// 409: e.g. the email is already used.
    Conflict,
    /// 409: the quote's `validUntil` (in the body) has passed; it cannot be accepted.
    QuoteExpired,
    /// 413: the body is over the limit (default 64 KiB).
    PayloadTooLarge,
    /// 429: too many requests; see the `Retry-After` header.
    RateLimited,
    /// 503: the database stayed locked past its busy timeout; nothing was written;
    /// `Retry-After: 1`.
    Busy,
    /// 503: the feed takes no more sockets for now (too many open, or too many
    /// upgrades this second); come back after `Retry-After` seconds, as `retryAfter`
    /// in the body says too.
    Overloaded,
    /// 500: a bug; the message says nothing more.
    Internal,
}

/// Every error: `{success: false, code, message}`, plus `errors` for validation
/// errors and `currentStatus` for an invalid transition.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Always `false`.
    #[schema(example = false)]
    pub success: bool,
    pub code: ErrorCode,
    /// A French sentence for people.
    #[schema(example = "Certains champs sont invalides")]
    pub message: String,
    /// Validation errors only: one French message per field at fault (nested
    /// fields as `items[0].quantity`, `lines[1].unitPrice`; `body` when the body
    /// is not an object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<std::collections::BTreeMap<String, String>>,
    /// `invalid_transition` only: the request's status now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<Status>,
    /// `session_ended` only: why the session ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<EndReason>,
    /// `quote_expired` only: the last day the quote could be accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<chrono::NaiveDate>,
    /// `overloaded` only: the seconds of the `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// 400 of an operation with a JSON body, when no more needs saying.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "`validation`: a field is missing or wrong (`errors` names each); `bad_json`: the body is not JSON"
)]
pub struct BadBody400(pub ErrorBody);

/// 400 of an operation with query parameters.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "`validation`: a query parameter is wrong (`errors` names it)"
)]
pub struct BadQuery400(pub ErrorBody);

/// 401 of every operation that needs a bearer token.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "`unauthorized`: no token, a bad or expired token; `session_ended`: the token's session was ended (sign-out, an admin, a password change, expiry; `reason` says which): sign in again"
)]
pub struct Unauthorized401(pub ErrorBody);

/// 403 of an operation some roles may not call.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "`forbidden`: the caller's role may not do this"
)]
pub struct Forbidden403(pub ErrorBody);

/// 404 of an operation on `/api/requests/{id}`.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "`not_found`: unknown id, or a request the caller may not see"
)]
pub struct RequestNotFound404(pub ErrorBody);

/// 413 of an operation with a JSON body.
#[derive(IntoResponses)]
#[response(
    status = 413,
    description = "`payload_too_large`: the body is over the limit (default 64 KiB)"
)]
pub struct TooLarge413(pub ErrorBody);

/// 429 of a rate-limited operation.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "`rate_limited`: too many requests",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
pub struct RateLimited429(pub ErrorBody);

/// 503 of every operation that reads or writes the database (a token's session
/// is checked there too).
#[derive(IntoResponses)]
#[response(
    status = 503,
    description = "`busy`: the database stayed locked past its busy timeout; nothing was written; try again",
    headers(("Retry-After" = u64, description = "Seconds to wait: always 1"))
)]
pub struct Busy503(pub ErrorBody);

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    /// Every `code` the server answers with is one `ErrorCode` documents.
    #[tokio::test]
    async fn every_code_is_documented() {
        let schema = serde_json::to_value(ErrorCode::schema()).unwrap();
        let documented = serde_json::to_string(&schema).unwrap();
        let errors = [
            ApiError::field("f", "m"),
            ApiError::BadJson(String::new()),
            ApiError::Unauthorized("m"),
            ApiError::SessionEnded(EndReason::Revoked),
            ApiError::Forbidden,
            ApiError::NotFound,
            ApiError::NotFoundWith("m"),
            ApiError::AccountDisabled("m"),
            ApiError::NoRoute,
            ApiError::InvalidTransition {
                current: Status::Open,
            },
            ApiError::Conflict("m"),
            ApiError::QuoteExpired(itv_core::quote::QuoteExpired {
                valid_until: chrono::NaiveDate::MIN,
            }),
            ApiError::TooLarge,
            ApiError::RateLimited { retry_after: 1 },
            ApiError::Busy,
            ApiError::Overloaded { retry_after: 3 },
            ApiError::Internal(String::new()),
        ];
        for e in errors {
            let body = axum::body::to_bytes(e.into_response().into_body(), usize::MAX)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let code = body["code"].as_str().unwrap();
            assert!(
                documented.contains(&format!("\"{code}\"")),
                "{code} not in ErrorCode: {documented}"
            );
        }
    }
}
