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

pub async fn technicians(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let list = state.db(|s| s.users_with_role(Role::Technician)).await?;
    Ok(Json(json!({ "success": true, "technicians": list })))
}

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
