//! Errors as HTTP clients see them: the seed's `{success: false, ...}` with a French
//! message, a machine `code`, and the fields at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use itv_core::account::EndReason;
use itv_core::{FieldErrors, Status};
use serde_json::json;

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

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        match r {
            Refusal::NotFound => ApiError::NotFound,
            Refusal::Forbidden => ApiError::Forbidden,
            Refusal::InvalidTransition { current } => ApiError::InvalidTransition { current },
            Refusal::Invalid(fields) => ApiError::Validation(fields),
            Refusal::QuoteExpired(e) => ApiError::QuoteExpired(e),
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
            _ => {}
        }
        let mut response = (status, axum::Json(body)).into_response();
        let retry_after = match self {
            ApiError::RateLimited { retry_after } => Some(retry_after),
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
