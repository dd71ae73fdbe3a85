//! The HTTP API: one module per route group, all thin over `actions` and the store.

pub(crate) mod auth;
pub(crate) mod client;
pub(crate) mod metrics;
pub(crate) mod quotes;
pub(crate) mod requests;
pub(crate) mod staff;

use axum::Router;
use axum::routing::{delete, get, patch, post};
use itv_core::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

pub fn api() -> Router<AppState> {
    Router::new()
        .route(
            "/api/health",
            get(|| async { axum::Json(serde_json::json!({"success": true})) }),
        )
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/me", get(auth::me))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/sessions", get(auth::sessions))
        .route("/api/auth/sessions/{id}", delete(auth::end_session))
        .route("/api/auth/password", post(auth::change_password))
        .route(
            "/api/client/requests/project",
            post(client::create_project).get(client::list_projects),
        )
        .route(
            "/api/client/requests/intervention",
            post(client::create_intervention).get(client::list_interventions),
        )
        .route(
            "/api/client/requests/quote",
            post(client::create_quote).get(client::list_quotes),
        )
        .route("/api/requests", get(requests::list))
        .route("/api/requests/{id}", get(requests::detail))
        .route("/api/requests/{id}/status", post(requests::change_status))
        .route("/api/requests/{id}/assign", post(requests::assign))
        .route("/api/requests/{id}/ack", post(requests::acknowledge))
        .route(
            "/api/requests/{id}/messages",
            get(requests::messages).post(requests::post_message),
        )
        .route("/api/staff/technicians", get(staff::technicians))
        .route("/api/staff/metrics", get(metrics::metrics))
        .route(
            "/api/staff/users",
            get(staff::users).post(staff::create_user),
        )
        .route("/api/staff/users/{id}", patch(staff::update_user))
        .route(
            "/api/staff/users/{id}/password",
            post(staff::reset_password),
        )
        .route("/api/feed", get(crate::feed::subscribe))
        .route("/api/feed/head", get(crate::feed::head))
        .merge(quotes::routes())
}

// ---------------------------------------------------------------------------
// Shapes several groups answer with, for the OpenAPI document (`openapi.rs`).

/// A user as the API shows one (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// `GET /api/auth/me`, `POST /api/staff/users`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserAnswer {
    pub success: bool,
    pub user: User,
    /// `GET /api/auth/me` only: the caller's session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// A success with a French sentence for people and nothing else.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageAnswer {
    pub success: bool,
    #[schema(example = "Session fermée")]
    pub message: String,
}
