//! `POST /api/auth/login` and `GET /api/auth/me`.

use axum::Json;
use axum::extract::State;
use itv_core::validation::parse_credentials;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{AuthUser, MSG_BAD_CREDENTIALS, verify_password};
use crate::body::JsonBody;
use crate::client_ip::ClientIp;
use crate::error::ApiError;

/// `POST /api/auth/login`: email and password for a JWT and the user.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = crate::openapi::LoginBody,
    responses(
        (status = 200, description = "Signed in", body = crate::openapi::LoginAnswer),
        (status = 400, description = "`validation`: a field is missing or wrong (`errors` names each); `bad_json`: the body is not JSON", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: wrong email or password", body = crate::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the limit (default 64 KiB)", body = crate::openapi::ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests", body = crate::openapi::ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let creds = parse_credentials(&body).map_err(ApiError::Validation)?;
    // Per address; per account from that address, so that a stranger failing an
    // account's login does not lock its owner out elsewhere; per account from
    // everywhere, a higher ceiling against guessing from many addresses.
    let cfg = &state.config;
    let limits = &state.limits;
    limits.hit(&format!("login-ip:{ip}"), cfg.rate_login_per_address)?;
    limits.hit(
        &format!("login-email-ip:{}|{ip}", creds.email),
        cfg.rate_login_per_account,
    )?;
    limits.hit(
        &format!("login-email:{}", creds.email),
        cfg.rate_login_global_per_account,
    )?;
    let email = creds.email.clone();
    let found = state.db(move |s| s.user_by_email(&email)).await?;
    let password = creds.password;
    let (user, ok) = tokio::task::spawn_blocking(move || {
        let ok = verify_password(&password, found.as_ref().map(|(_, h)| h.as_str()));
        (found.map(|(u, _)| u), ok)
    })
    .await?;
    match user {
        Some(user) if ok => {
            let token = state.keys.issue(&user)?;
            tracing::info!(user = %user.id, role = user.role.as_str(), "signed in");
            Ok(Json(
                json!({ "success": true, "token": token, "user": user }),
            ))
        }
        _ => Err(ApiError::Unauthorized(MSG_BAD_CREDENTIALS)),
    }
}

/// `GET /api/auth/me`: the user the token belongs to.
#[utoipa::path(
    get,
    path = "/api/auth/me",
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = crate::openapi::UserAnswer),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, ApiError> {
    let id = user.0.id.clone();
    let found = state.db(move |s| s.user_by_id(&id)).await?;
    let user = found.ok_or(ApiError::Unauthorized(crate::auth::MSG_BAD_TOKEN))?;
    Ok(Json(json!({ "success": true, "user": user })))
}
