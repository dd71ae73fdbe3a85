//! Staff administration (admins): the technicians list, and accounts: list, create,
//! rename, change role, deactivate or reactivate, reset a password.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use itv_core::Role;
use itv_core::account::{EndReason, parse_account_patch, parse_password_reset};
use itv_core::validation::parse_new_user;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{MessageAnswer, User, UserAnswer};
use crate::auth::AuthUser;
use crate::body::JsonBody;
use crate::error::{
    ApiError, BadBody400, Busy503, ErrorBody, Forbidden403, TooLarge413, Unauthorized401,
};
use crate::passwords::hash_password;
use crate::state::AppState;
use crate::store::{NewUserRecord, SessionSet};

/// `GET /api/staff/technicians` (ADMIN): every active TECHNICIAN account.
#[utoipa::path(
    get,
    path = "/api/staff/technicians",
    tag = "staff",
    responses(
        (status = 200, description = "The technicians", body = TechniciansAnswer),
        Unauthorized401,
        Forbidden403,
        Busy503,
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
    request_body = NewUserBody,
    responses(
        (status = 201, description = "Created", body = UserAnswer),
        BadBody400,
        Unauthorized401,
        Forbidden403,
        (status = 409, description = "`conflict`: the email is already used", body = ErrorBody),
        TooLarge413,
        Busy503,
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

/// `GET /api/staff/users` (ADMIN): every account, active ones first.
#[utoipa::path(
    get,
    path = "/api/staff/users",
    tag = "staff",
    responses(
        (status = 200, description = "Every account with its state and last use", body = UsersAnswer),
        Unauthorized401,
        Forbidden403,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn users(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let list = state.db(|s| s.accounts()).await?;
    Ok(Json(json!({ "success": true, "users": list })))
}

/// `PATCH /api/staff/users/{id}` (ADMIN): rename, change the role, deactivate or
/// reactivate. A deactivation or a role change ends the account's sessions.
#[utoipa::path(
    patch,
    path = "/api/staff/users/{id}",
    tag = "staff",
    params(("id" = String, Path, description = "The account's `_id`")),
    request_body = AccountPatchBody,
    responses(
        (status = 200, description = "Changed", body = AccountAnswer),
        (status = 400, description = "`validation`: a field is wrong, or none is given (`errors` names each); `bad_json`", body = ErrorBody),
        Unauthorized401,
        Forbidden403,
        (status = 404, description = "`not_found`: no such account", body = ErrorBody),
        (status = 409, description = "`conflict`: it would leave no active admin", body = ErrorBody),
        TooLarge413,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn update_user(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let patch = parse_account_patch(&body).map_err(ApiError::Validation)?;
    let change = state
        .db(move |s| s.update_account(&id, &patch, Utc::now()))
        .await
        .map_err(account_not_found)?;
    if let Some((reason, ended)) = change.ended {
        state.sessions.announce(ended, reason);
    }
    let account = change.account;
    tracing::info!(admin = %user.id(), account = %account.id, role = account.role.as_str(), active = account.active, "account changed");
    Ok(Json(json!({
        "success": true,
        "message": "Compte mis à jour",
        "user": account,
    })))
}

fn account_not_found(e: ApiError) -> ApiError {
    match e {
        ApiError::NotFound => ApiError::NotFoundWith("Compte introuvable"),
        other => other,
    }
}

/// `POST /api/staff/users/{id}/password` (ADMIN): sets a new password; every session
/// of that account ends.
#[utoipa::path(
    post,
    path = "/api/staff/users/{id}/password",
    tag = "staff",
    params(("id" = String, Path, description = "The account's `_id`")),
    request_body = PasswordResetBody,
    responses(
        (status = 200, description = "Reset; the account's sessions are ended", body = MessageAnswer),
        (status = 400, description = "`validation`: `password` breaks a rule; `bad_json`", body = ErrorBody),
        Unauthorized401,
        Forbidden403,
        (status = 404, description = "`not_found`: no such account", body = ErrorBody),
        TooLarge413,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn reset_password(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let target = id.clone();
    let account = state
        .db(move |s| s.account(&target))
        .await?
        .ok_or(ApiError::NotFoundWith("Compte introuvable"))?;
    let password = parse_password_reset(&body, &account.email).map_err(ApiError::Validation)?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    let set = SessionSet::AllOf(id.clone());
    let ended = state
        .db(move |s| s.set_password(&id, &hash, &set, EndReason::PasswordReset, Utc::now()))
        .await
        .map_err(account_not_found)?;
    state.sessions.announce(ended, EndReason::PasswordReset);
    tracing::info!(admin = %user.id(), account = %account.id, "password reset");
    Ok(Json(json!({
        "success": true,
        "message": "Mot de passe réinitialisé ; les sessions de ce compte sont fermées",
    })))
}

// ---------------------------------------------------------------------------
// Shapes of this group's bodies, for the OpenAPI document (`openapi.rs`).

/// `POST /api/staff/users`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewUserBody {
    #[schema(pattern = r"\S", min_length = 2, max_length = 120)]
    pub name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    pub role: Role,
    #[schema(pattern = r"\S", min_length = 8, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TechniciansAnswer {
    pub success: bool,
    pub technicians: Vec<User>,
}

/// An account as admins see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// `false`: deactivated, cannot sign in, cannot be assigned.
    pub active: bool,
    /// The last use of any of its sessions; `null` if it never signed in.
    pub last_seen_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsersAnswer {
    pub success: bool,
    pub users: Vec<AccountView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountAnswer {
    pub success: bool,
    #[schema(example = "Compte mis à jour")]
    pub message: String,
    pub user: AccountView,
}

/// Any of the three; at least one.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPatchBody {
    /// 2 to 120 characters.
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetBody {
    /// The new password, under the same rules as `POST /api/auth/password`.
    pub password: String,
}
