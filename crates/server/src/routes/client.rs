//! The seed's client API: create and list projects, interventions and quotes.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use itv_core::validation::{parse_new_intervention, parse_new_project, parse_new_quote};
use itv_core::{FieldErrors, RequestKind, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::actions;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::body::JsonBody;
use crate::error::ApiError;

type Created = (StatusCode, Json<Value>);

/// Counts a creation against the account's and the address's limits.
fn limit_creation(state: &AppState, user: &AuthUser, peer: SocketAddr) -> Result<(), ApiError> {
    let cfg = &state.config;
    state.limits.hit(
        &format!("create-account:{}", user.id()),
        cfg.rate_create_per_account,
    )?;
    state.limits.hit(
        &format!("create-ip:{}", peer.ip()),
        cfg.rate_create_per_address,
    )
}

pub async fn create_project(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Created, ApiError> {
    user.require(&[Role::Client])?;
    let project = parse_new_project(&body).map_err(ApiError::Validation)?;
    limit_creation(&state, &user, peer)?;
    let client = user.0.clone();
    let e = state
        .db(move |s| actions::create_project(s, &client, project))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "Demande de projet envoyée avec succès",
            "project": e.event.request,
        })),
    ))
}

pub async fn create_intervention(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Created, ApiError> {
    user.require(&[Role::Client])?;
    let intervention = parse_new_intervention(&body).map_err(ApiError::Validation)?;
    limit_creation(&state, &user, peer)?;
    let client = user.0.clone();
    let e = state
        .db(move |s| actions::create_intervention(s, &client, intervention))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "Demande d'intervention envoyée avec succès",
            "ticket": e.event.request,
        })),
    ))
}

pub async fn create_quote(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Created, ApiError> {
    user.require(&[Role::Client])?;
    let quote = parse_new_quote(&body).map_err(ApiError::Validation)?;
    limit_creation(&state, &user, peer)?;
    let client = user.0.clone();
    let e = state
        .db(move |s| actions::create_quote(s, &client, quote))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "success": true,
            "message": "Demande de devis envoyée avec succès",
            "ticket": e.event.request,
        })),
    ))
}

#[derive(Debug, Deserialize)]
pub struct PageParams {
    page: Option<String>,
    limit: Option<String>,
}

/// `page` ≥ 1 (default 1), `limit` 1..=100 (default 20).
fn page_of(p: &PageParams) -> Result<(u32, u32), ApiError> {
    let mut errors = FieldErrors::new();
    let mut number = |field: &str, raw: &Option<String>, default: u32, max: u32| -> u32 {
        match raw.as_deref().map(str::parse::<u32>) {
            None => default,
            Some(Ok(n)) if (1..=max).contains(&n) => n,
            Some(_) => {
                errors.add(field, format!("Doit être un entier entre 1 et {max}"));
                default
            }
        }
    };
    let page = number("page", &p.page, 1, 1_000_000);
    let limit = number("limit", &p.limit, 20, 100);
    errors
        .into_result((page, limit))
        .map_err(ApiError::Validation)
}

async fn list(
    state: AppState,
    user: AuthUser,
    params: PageParams,
    kind: RequestKind,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Client])?;
    let (page, limit) = page_of(&params)?;
    let id = user.0.id.clone();
    let (items, total) = state
        .db(move |s| s.client_requests(&id, kind, page, limit))
        .await?;
    let key = if kind == RequestKind::Project {
        "projects"
    } else {
        "tickets"
    };
    Ok(Json(json!({
        "success": true,
        key: items,
        "pagination": {
            "page": page,
            "limit": limit,
            "total": total,
            "pages": total.div_ceil(u64::from(limit)),
        },
    })))
}

pub async fn list_projects(
    State(state): State<AppState>,
    user: AuthUser,
    Query(p): Query<PageParams>,
) -> Result<Json<Value>, ApiError> {
    list(state, user, p, RequestKind::Project).await
}

pub async fn list_interventions(
    State(state): State<AppState>,
    user: AuthUser,
    Query(p): Query<PageParams>,
) -> Result<Json<Value>, ApiError> {
    list(state, user, p, RequestKind::Intervention).await
}

pub async fn list_quotes(
    State(state): State<AppState>,
    user: AuthUser,
    Query(p): Query<PageParams>,
) -> Result<Json<Value>, ApiError> {
    list(state, user, p, RequestKind::Quote).await
}
