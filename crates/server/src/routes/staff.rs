//! Staff administration: the technicians list and user creation (admins).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use itv_core::Role;
use itv_core::validation::parse_new_user;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{AuthUser, hash_password};
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::store::NewUserRecord;

/// `GET /api/staff/technicians` (ADMIN): every TECHNICIAN account.
#[utoipa::path(
    get,
    path = "/api/staff/technicians",
    tag = "staff",
    responses(
        (status = 200, description = "The technicians", body = crate::openapi::TechniciansAnswer),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not do this", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn technicians(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let list = state.db(|s| s.users_with_role(Role::Technician)).await?;
    Ok(Json(json!({ "success": true, "technicians": list })))
}

/// `POST /api/staff/users` (ADMIN): a new account of any role.
#[utoipa::path(
    post,
    path = "/api/staff/users",
    tag = "staff",
    request_body = crate::openapi::NewUserBody,
    responses(
        (status = 201, description = "Created", body = crate::openapi::UserAnswer),
        (status = 400, description = "`validation`: a field is missing or wrong (`errors` names each); `bad_json`: the body is not JSON", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not do this", body = crate::openapi::ErrorBody),
        (status = 409, description = "`conflict`: the email is already used", body = crate::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the limit (default 64 KiB)", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_user(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    user.require(&[Role::Admin])?;
    let new = parse_new_user(&body).map_err(ApiError::Validation)?;
    let password = new.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    let record = NewUserRecord {
        name: new.name,
        email: new.email,
        role: new.role,
        password_hash,
    };
    let created = state.db(move |s| s.create_user(record)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "user": created })),
    ))
}
