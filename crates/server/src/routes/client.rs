//! The seed's client API: create and list projects, interventions and quotes.

use std::net::IpAddr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use itv_core::validation::{parse_new_intervention, parse_new_project, parse_new_quote};
use itv_core::{FieldErrors, RequestKind, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::actions;
use crate::auth::AuthUser;
use crate::body::{JsonBody, QueryParams};
use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{LoggedEvent, Store, StoreError, User};

type Created = (StatusCode, Json<Value>);

/// Counts a creation against the account's and the address's limits.
fn limit_creation(state: &AppState, user: &AuthUser, ip: IpAddr) -> Result<(), ApiError> {
    let cfg = &state.config;
    state.limits.hit(
        &format!("create-account:{}", user.id()),
        cfg.rate_create_per_account,
    )?;
    state
        .limits
        .hit(&format!("create-ip:{ip}"), cfg.rate_create_per_address)
}

/// What every creation shares: the role, the seed's validation, the limits, one
/// store call, and the seed's answer `{success, message, <key>: request}`.
async fn create<T: Send + 'static>(
    state: AppState,
    ip: IpAddr,
    user: AuthUser,
    body: &Value,
    parse: fn(&Value) -> Result<T, FieldErrors>,
    act: fn(&dyn Store, &User, T) -> Result<LoggedEvent, StoreError>,
    (key, message): (&str, &str),
) -> Result<Created, ApiError> {
    user.require(&[Role::Client])?;
    let input = parse(body).map_err(ApiError::Validation)?;
    limit_creation(&state, &user, ip)?;
    let client = user.user;
    let e = state.db(move |s| act(s, &client, input)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "message": message, key: e.event.request })),
    ))
}

/// `POST /api/client/requests/project` (CLIENT): a new project request, as the seed.
#[utoipa::path(
    post,
    path = "/api/client/requests/project",
    tag = "client",
    request_body = crate::openapi::ProjectBody,
    responses(
        (status = 201, description = "Created", body = crate::openapi::ProjectCreated),
        (status = 400, description = "`validation`: a field is missing or wrong (`errors` names each); `bad_json`: the body is not JSON", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not do this", body = crate::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the limit (default 64 KiB)", body = crate::openapi::ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests", body = crate::openapi::ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn create_project(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Created, ApiError> {
    create(
        state,
        ip,
        user,
        &body,
        parse_new_project,
        actions::create_project,
        ("project", "Demande de projet envoyée avec succès"),
    )
    .await
}

/// `POST /api/client/requests/intervention` (CLIENT): a new intervention request, as the seed.
#[utoipa::path(
    post,
    path = "/api/client/requests/intervention",
    tag = "client",
    request_body = crate::openapi::InterventionBody,
    responses(
        (status = 201, description = "Created", body = crate::openapi::TicketCreated),
        (status = 400, description = "`validation`: a field is missing or wrong (`errors` names each); `bad_json`: the body is not JSON", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not do this", body = crate::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the limit (default 64 KiB)", body = crate::openapi::ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests", body = crate::openapi::ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn create_intervention(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Created, ApiError> {
    create(
        state,
        ip,
        user,
        &body,
        parse_new_intervention,
        actions::create_intervention,
        ("ticket", "Demande d'intervention envoyée avec succès"),
    )
    .await
}

/// `POST /api/client/requests/quote` (CLIENT): a new quote request, as the seed.
#[utoipa::path(
    post,
    path = "/api/client/requests/quote",
    tag = "client",
    request_body = crate::openapi::QuoteBody,
    responses(
        (status = 201, description = "Created", body = crate::openapi::TicketCreated),
        (status = 400, description = "`validation`: a field is missing or wrong (`errors` names each); `bad_json`: the body is not JSON", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not do this", body = crate::openapi::ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over the limit (default 64 KiB)", body = crate::openapi::ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests", body = crate::openapi::ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn create_quote(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Created, ApiError> {
    create(
        state,
        ip,
        user,
        &body,
        parse_new_quote,
        actions::create_quote,
        ("ticket", "Demande de devis envoyée avec succès"),
    )
    .await
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
    let id = user.user.id.clone();
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

/// `GET /api/client/requests/project` (CLIENT): the caller's own project requests, newest first, by page.
#[utoipa::path(
    get,
    path = "/api/client/requests/project",
    tag = "client",
    params(crate::openapi::PageQuery),
    responses(
        (status = 200, description = "One page of the caller's project requests", body = crate::openapi::ProjectPage),
        (status = 400, description = "`validation`: a query parameter is wrong (`errors` names it)", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not do this", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_projects(
    State(state): State<AppState>,
    user: AuthUser,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Json<Value>, ApiError> {
    list(state, user, p, RequestKind::Project).await
}

/// `GET /api/client/requests/intervention` (CLIENT): the caller's own intervention requests, newest first, by page.
#[utoipa::path(
    get,
    path = "/api/client/requests/intervention",
    tag = "client",
    params(crate::openapi::PageQuery),
    responses(
        (status = 200, description = "One page of the caller's intervention requests", body = crate::openapi::TicketPage),
        (status = 400, description = "`validation`: a query parameter is wrong (`errors` names it)", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not do this", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_interventions(
    State(state): State<AppState>,
    user: AuthUser,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Json<Value>, ApiError> {
    list(state, user, p, RequestKind::Intervention).await
}

/// `GET /api/client/requests/quote` (CLIENT): the caller's own quote requests, newest first, by page.
#[utoipa::path(
    get,
    path = "/api/client/requests/quote",
    tag = "client",
    params(crate::openapi::PageQuery),
    responses(
        (status = 200, description = "One page of the caller's quote requests", body = crate::openapi::TicketPage),
        (status = 400, description = "`validation`: a query parameter is wrong (`errors` names it)", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not do this", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_quotes(
    State(state): State<AppState>,
    user: AuthUser,
    QueryParams(p): QueryParams<PageParams>,
) -> Result<Json<Value>, ApiError> {
    list(state, user, p, RequestKind::Quote).await
}
