//! The seed's client API: create and list projects, interventions and quotes.

use std::net::IpAddr;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use itv_core::request::{InterventionType, QuoteCategory, ServiceType};
use itv_core::validation::{parse_new_intervention, parse_new_project, parse_new_quote};
use itv_core::{FieldErrors, Request, RequestKind, Role, Urgency};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::actions;
use crate::auth::AuthUser;
use crate::body::{JsonBody, QueryParams};
use crate::client_ip::ClientIp;
use crate::error::{
    ApiError, BadBody400, BadQuery400, Busy503, Forbidden403, RateLimited429, TooLarge413,
    Unauthorized401,
};
use crate::state::AppState;
use crate::store::{LoggedEvent, Store, StoreError, User};

type Created = (StatusCode, Json<Value>);

/// Counts a creation against the account's and the address's limits.
async fn limit_creation(state: &AppState, user: &AuthUser, ip: IpAddr) -> Result<(), ApiError> {
    let cfg = &state.config;
    state
        .limits
        .hit(
            &format!("create-account:{}", user.id()),
            cfg.rate_create_per_account,
        )
        .await?;
    state
        .limits
        .hit(&format!("create-ip:{ip}"), cfg.rate_create_per_address)
        .await
}

/// What every creation shares: the role, the seed's validation, the limits, one
/// store call, and the seed's answer `{success, message, <key>: request}`.
async fn create<T: Send + 'static>(
    state: AppState,
    ip: IpAddr,
    user: AuthUser,
    body: &Value,
    parse: fn(&Value) -> Result<T, FieldErrors>,
    act: impl FnOnce(&dyn Store, &User, T) -> Result<LoggedEvent, StoreError> + Send + 'static,
    (key, message): (&str, &str),
) -> Result<Created, ApiError> {
    user.require(&[Role::Client])?;
    let input = parse(body).map_err(ApiError::Validation)?;
    limit_creation(&state, &user, ip).await?;
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
    request_body = ProjectBody,
    responses(
        (status = 201, description = "Created", body = ProjectCreated),
        BadBody400,
        Unauthorized401,
        Forbidden403,
        TooLarge413,
        RateLimited429,
        Busy503,
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
    request_body = InterventionBody,
    responses(
        (status = 201, description = "Created", body = TicketCreated),
        BadBody400,
        Unauthorized401,
        Forbidden403,
        TooLarge413,
        RateLimited429,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn create_intervention(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Created, ApiError> {
    let targets = state.config.sla.clone();
    create(
        state,
        ip,
        user,
        &body,
        parse_new_intervention,
        move |s, client, i| actions::create_intervention(s, &targets, client, i),
        ("ticket", "Demande d'intervention envoyée avec succès"),
    )
    .await
}

/// `POST /api/client/requests/quote` (CLIENT): a new quote request, as the seed.
#[utoipa::path(
    post,
    path = "/api/client/requests/quote",
    tag = "client",
    request_body = QuoteBody,
    responses(
        (status = 201, description = "Created", body = TicketCreated),
        BadBody400,
        Unauthorized401,
        Forbidden403,
        TooLarge413,
        RateLimited429,
        Busy503,
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
    params(PageQuery),
    responses(
        (status = 200, description = "One page of the caller's project requests", body = ProjectPage),
        BadQuery400,
        Unauthorized401,
        Forbidden403,
        Busy503,
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
    params(PageQuery),
    responses(
        (status = 200, description = "One page of the caller's intervention requests", body = TicketPage),
        BadQuery400,
        Unauthorized401,
        Forbidden403,
        Busy503,
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
    params(PageQuery),
    responses(
        (status = 200, description = "One page of the caller's quote requests", body = TicketPage),
        BadQuery400,
        Unauthorized401,
        Forbidden403,
        Busy503,
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

// ---------------------------------------------------------------------------
// Shapes of this group's bodies, for the OpenAPI document (`openapi.rs`).

/// `?page=&limit=` of the client lists.
#[derive(Debug, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1 (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u32>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `POST /api/client/requests/project` (the seed's project form).
///
/// In every body, text is trimmed and cleaned of control characters before its
/// length is checked, and a blank string counts as missing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectBody {
    #[schema(
        pattern = r"\S",
        min_length = 3,
        max_length = 200,
        example = "Installation vidéosurveillance"
    )]
    pub name: String,
    pub service_type: ServiceType,
    #[schema(pattern = r"\S", min_length = 10, max_length = 5000)]
    pub description: String,
    #[schema(pattern = r"\S", min_length = 3, max_length = 300)]
    pub address: String,
    /// Whole XOF francs.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub estimated_budget: Option<i64>,
    #[schema(value_type = Option<String>, format = Date, example = "2025-12-01")]
    pub preferred_start_date: Option<String>,
    /// Default `normal`.
    pub urgency: Option<Urgency>,
}

/// `POST /api/client/requests/intervention`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InterventionBody {
    #[serde(rename = "type")]
    pub intervention_type: InterventionType,
    #[schema(pattern = r"\S", min_length = 3, max_length = 200)]
    pub title: String,
    #[schema(pattern = r"\S", min_length = 10, max_length = 5000)]
    pub description: String,
    #[schema(pattern = r"\S", min_length = 3, max_length = 300)]
    pub site: String,
    #[schema(value_type = Option<String>, format = Date, example = "2025-12-01")]
    pub preferred_date: Option<String>,
    #[schema(max_length = 100)]
    pub project_id: Option<String>,
}

/// One wished item of a quote request.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteItemBody {
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub quantity: i64,
    #[schema(max_length = 1000)]
    pub specifications: Option<String>,
}

/// `POST /api/client/requests/quote`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteBody {
    #[schema(pattern = r"\S", min_length = 3, max_length = 200)]
    pub title: String,
    pub category: QuoteCategory,
    #[schema(pattern = r"\S", min_length = 10, max_length = 5000)]
    pub description: String,
    /// Whole XOF francs.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub estimated_budget: Option<i64>,
    /// Free text (e.g. a date).
    #[schema(max_length = 100)]
    pub deadline: Option<String>,
    /// At most 100.
    #[schema(max_items = 100)]
    pub items: Option<Vec<QuoteItemBody>>,
}

/// `201` of a project creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectCreated {
    pub success: bool,
    #[schema(example = "Demande de projet envoyée avec succès")]
    pub message: String,
    pub project: Request,
}

/// `201` of an intervention or quote request creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketCreated {
    pub success: bool,
    #[schema(example = "Demande d'intervention envoyée avec succès")]
    pub message: String,
    pub ticket: Request,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pagination {
    pub page: u32,
    pub limit: u32,
    pub total: u64,
    pub pages: u64,
}

/// The caller's projects, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectPage {
    pub success: bool,
    pub projects: Vec<Request>,
    pub pagination: Pagination,
}

/// The caller's interventions or quote requests, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPage {
    pub success: bool,
    pub tickets: Vec<Request>,
    pub pagination: Pagination,
}
