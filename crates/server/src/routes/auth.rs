//! Sign-in and the caller's own sessions: `POST /api/auth/login`, `GET /api/auth/me`,
//! `POST /api/auth/logout`, `GET|DELETE /api/auth/sessions`, `POST /api/auth/password`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use chrono::Utc;
use itv_core::FieldErrors;
use itv_core::account::{EndReason, device_label, parse_password_change};
use itv_core::validation::parse_credentials;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{MessageAnswer, User, UserAnswer};
use crate::auth::{AuthUser, MSG_BAD_CREDENTIALS, MSG_DISABLED};
use crate::body::JsonBody;
use crate::client_ip::ClientIp;
use crate::error::{
    ApiError, BadBody400, Busy503, ErrorBody, RateLimited429, TooLarge413, Unauthorized401,
};
use crate::passwords::{hash_password, verify_password};
use crate::state::AppState;
use crate::store::SessionSet;

/// `POST /api/auth/login`: email and password for a session token and the user.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in: a new session", body = LoginAnswer),
        BadBody400,
        (status = 401, description = "`unauthorized`: wrong email or password", body = ErrorBody),
        (status = 403, description = "`account_disabled`: the password is right but an admin deactivated the account", body = ErrorBody),
        TooLarge413,
        RateLimited429,
        Busy503,
    ),
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let creds = parse_credentials(&body).map_err(ApiError::Validation)?;
    // Per address; per account from that address, so that a stranger failing an
    // account's login does not lock its owner out elsewhere; per account from
    // everywhere, a higher ceiling against guessing from many addresses.
    let cfg = &state.config;
    let limits = &state.limits;
    limits
        .hit(&format!("login-ip:{ip}"), cfg.rate_login_per_address)
        .await?;
    limits
        .hit(
            &format!("login-email-ip:{}|{ip}", creds.email),
            cfg.rate_login_per_account,
        )
        .await?;
    limits
        .hit(
            &format!("login-email:{}", creds.email),
            cfg.rate_login_global_per_account,
        )
        .await?;
    let device = device_label(
        body.get("device").and_then(Value::as_str),
        headers.get(USER_AGENT).and_then(|v| v.to_str().ok()),
    );
    let email = creds.email.clone();
    let found = state.db(move |s| s.login_record(&email)).await?;
    let password = creds.password;
    let (found, ok) = tokio::task::spawn_blocking(move || {
        let ok = verify_password(&password, found.as_ref().map(|r| r.password_hash.as_str()));
        (found, ok)
    })
    .await?;
    let record = match found {
        Some(record) if ok => record,
        _ => return Err(ApiError::Unauthorized(MSG_BAD_CREDENTIALS)),
    };
    if !record.active {
        return Err(ApiError::AccountDisabled(MSG_DISABLED));
    }
    let user = record.user;
    let (sessions, signed_in) = (state.sessions.clone(), user.clone());
    let session =
        tokio::task::spawn_blocking(move || sessions.open(&signed_in, device, Utc::now()))
            .await??;
    let token = state
        .keys
        .issue(&session, state.sessions.policy.hard_end(session.created_at))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(user = %user.id, role = user.role.as_str(), session = %session.id, "signed in");
    Ok(Json(json!({
        "success": true,
        "token": token,
        "user": user,
        "session": session,
    })))
}

/// `GET /api/auth/me`: the user the token's session belongs to, as they are now.
#[utoipa::path(
    get,
    path = "/api/auth/me",
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = UserAnswer),
        Unauthorized401,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn me(user: AuthUser) -> Json<Value> {
    Json(json!({ "success": true, "user": user.user, "sessionId": user.session_id }))
}

/// `POST /api/auth/logout`: ends the caller's session.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    responses(
        (status = 200, description = "The session is ended; its token no longer works", body = MessageAnswer),
        Unauthorized401,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Value>, ApiError> {
    end_own(&state, &user, user.session_id.clone(), EndReason::SignedOut).await?;
    Ok(Json(
        json!({ "success": true, "message": "Vous êtes déconnecté" }),
    ))
}

async fn end_own(
    state: &AppState,
    user: &AuthUser,
    session_id: String,
    reason: EndReason,
) -> Result<Vec<String>, ApiError> {
    let set = SessionSet::One {
        id: session_id,
        user_id: user.id().to_string(),
    };
    let sessions = state.sessions.clone();
    Ok(tokio::task::spawn_blocking(move || sessions.end(&set, reason, Utc::now())).await??)
}

/// `GET /api/auth/sessions`: the caller's sessions that are still alive.
#[utoipa::path(
    get,
    path = "/api/auth/sessions",
    tag = "auth",
    responses(
        (status = 200, description = "The caller's live sessions, most recently used first; `current` marks the caller's own", body = SessionsAnswer),
        Unauthorized401,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let id = user.id().to_string();
    let list = state.db(move |s| s.live_sessions(&id, Utc::now())).await?;
    let list: Vec<Value> = list
        .into_iter()
        .map(|s| {
            let current = s.id == user.session_id;
            let mut v = json!(s);
            v["current"] = json!(current);
            v
        })
        .collect();
    Ok(Json(json!({ "success": true, "sessions": list })))
}

/// `DELETE /api/auth/sessions/{id}`: ends one of the caller's sessions.
#[utoipa::path(
    delete,
    path = "/api/auth/sessions/{id}",
    tag = "auth",
    params(("id" = String, Path, description = "The session's `_id`")),
    responses(
        (status = 200, description = "Ended; its feed sockets are closed", body = MessageAnswer),
        Unauthorized401,
        (status = 404, description = "`not_found`: no live session of the caller has this id", body = ErrorBody),
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn end_session(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let reason = if id == user.session_id {
        EndReason::SignedOut
    } else {
        EndReason::Revoked
    };
    if end_own(&state, &user, id, reason).await?.is_empty() {
        return Err(ApiError::NotFoundWith("Session introuvable"));
    }
    Ok(Json(
        json!({ "success": true, "message": "Session fermée" }),
    ))
}

/// `POST /api/auth/password`: changes the caller's password; every other session ends.
#[utoipa::path(
    post,
    path = "/api/auth/password",
    tag = "auth",
    request_body = PasswordChangeBody,
    responses(
        (status = 200, description = "Changed; the caller's other sessions are ended", body = MessageAnswer),
        (status = 400, description = "`validation`: `currentPassword` is wrong or missing, or `newPassword` breaks a rule (`errors` names each)", body = ErrorBody),
        Unauthorized401,
        TooLarge413,
        RateLimited429,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let change = parse_password_change(&body, &user.user.email).map_err(ApiError::Validation)?;
    state
        .limits
        .hit(
            &format!("password:{}", user.id()),
            state.config.rate_login_per_account,
        )
        .await?;
    let id = user.id().to_string();
    let stored = state.db(move |s| s.password_hash(&id)).await?;
    let current = change.current;
    let new_hash = tokio::task::spawn_blocking(move || {
        if verify_password(&current, stored.as_deref()) {
            hash_password(&change.new).map(Some)
        } else {
            Ok(None)
        }
    })
    .await??;
    let Some(new_hash) = new_hash else {
        return Err(ApiError::Validation(FieldErrors::single(
            "currentPassword",
            "Le mot de passe actuel est incorrect",
        )));
    };
    let set = SessionSet::AllOfExcept {
        user_id: user.id().to_string(),
        keep: user.session_id.clone(),
    };
    let id = user.id().to_string();
    let ended = state
        .db(move |s| s.set_password(&id, &new_hash, &set, EndReason::PasswordChanged, Utc::now()))
        .await?;
    let count = ended.len();
    state.sessions.announce(ended, EndReason::PasswordChanged);
    tracing::info!(user = %user.id(), other_sessions_ended = count, "password changed");
    Ok(Json(json!({
        "success": true,
        "message": "Mot de passe modifié ; vos autres sessions sont fermées",
    })))
}

// ---------------------------------------------------------------------------
// Shapes of this group's bodies, for the OpenAPI document (`openapi.rs`).

/// `POST /api/auth/login`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginBody {
    /// Trimmed, compared without case.
    #[schema(
        pattern = r"\S",
        min_length = 3,
        max_length = 254,
        example = "client@itvision.sn"
    )]
    pub email: String,
    /// Not blank.
    #[schema(min_length = 1, pattern = r"\S", example = "demo1234")]
    pub password: String,
    /// Names the session in the owner's list (else the `User-Agent` does); at most 80
    /// characters are kept.
    #[schema(example = "Portable de Moussa")]
    pub device: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAnswer {
    pub success: bool,
    /// The JWT for `Authorization: Bearer`; it names a server-side session, which
    /// sign-out, an admin or expiry can end before the token's own `exp`.
    pub token: String,
    pub user: User,
    pub session: SessionView,
}

/// A session as its owner sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    #[serde(rename = "_id")]
    pub id: String,
    /// From the sign-in's `device` field or its `User-Agent`, e.g. `Chrome · Windows`.
    pub device: String,
    pub created_at: chrono::DateTime<Utc>,
    pub last_used_at: chrono::DateTime<Utc>,
    /// Pushed back by each use, never past the sign-in plus `--session-max-days`.
    pub expires_at: chrono::DateTime<Utc>,
    /// `GET /api/auth/sessions` only: this is the caller's own session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsAnswer {
    pub success: bool,
    pub sessions: Vec<SessionView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChangeBody {
    pub current_password: String,
    /// 8 to 128 characters, letters and at least one digit or symbol, not a common
    /// password, not the email.
    pub new_password: String,
}
