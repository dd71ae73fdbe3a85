//! `POST /api/auth/login` and `GET /api/auth/me`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use itv_core::validation::parse_credentials;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{AuthUser, MSG_BAD_CREDENTIALS, verify_password};
use crate::body::JsonBody;
use crate::error::ApiError;

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let creds = parse_credentials(&body).map_err(ApiError::Validation)?;
    let cfg = &state.config;
    state.limits.hit(
        &format!("login-ip:{}", peer.ip()),
        cfg.rate_login_per_address,
    )?;
    state.limits.hit(
        &format!("login-email:{}", creds.email),
        cfg.rate_login_per_account,
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

pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, ApiError> {
    let id = user.0.id.clone();
    let found = state.db(move |s| s.user_by_id(&id)).await?;
    let user = found.ok_or(ApiError::Unauthorized(crate::auth::MSG_BAD_TOKEN))?;
    Ok(Json(json!({ "success": true, "user": user })))
}
