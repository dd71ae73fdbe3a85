//! Requests as staff (and clients, on their own) see them: list, detail, status
//! changes, assignment, chat. Mutations honour an `Idempotency-Key` header.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use itv_core::request::{ChatMessage, HistoryEntry};
use itv_core::sla::SlaState;
use itv_core::validation::{parse_assign, parse_message, parse_status_change};
use itv_core::{FieldErrors, Priority, Request, RequestKind, Role, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::actions;
use crate::auth::AuthUser;
use crate::body::{JsonBody, QueryParams};
use crate::error::{
    ApiError, BadBody400, BadQuery400, Busy503, ErrorBody, Forbidden403, RequestNotFound404,
    TooLarge413, Unauthorized401,
};
use crate::state::AppState;
use crate::store::{Cursor, IdemKey, ListSort, RequestQuery, Scope, StoreError};

/// The caller's `Idempotency-Key`, scoped to them, to `route` (the route template,
/// `"POST /api/requests/{id}/status"`) and to the request it targets.
pub fn idem_key(
    headers: &HeaderMap,
    user: &AuthUser,
    route: &str,
    request_id: &str,
) -> Result<Option<IdemKey>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 200 => Ok(Some(IdemKey {
            user_id: user.user.id.clone(),
            scope: format!("{route} {request_id}"),
            key: k.trim().to_string(),
        })),
        _ => Err(ApiError::field(
            "Idempotency-Key",
            "Clé d'idempotence invalide (1 à 200 caractères)",
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    kind: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    updated_since: Option<String>,
    q: Option<String>,
    sla: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

fn parse_list(p: ListParams, user: &AuthUser) -> Result<RequestQuery, ApiError> {
    let mut errors = FieldErrors::new();
    fn pick<T>(
        errors: &mut FieldErrors,
        field: &str,
        raw: Option<String>,
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = raw.filter(|s| !s.is_empty())?;
        let v = parse(&raw);
        if v.is_none() {
            errors.add(field, "Valeur invalide");
        }
        v
    }
    let kind = pick(&mut errors, "kind", p.kind, RequestKind::parse);
    let status = pick(&mut errors, "status", p.status, Status::parse);
    let priority = pick(&mut errors, "priority", p.priority, Priority::parse);
    let updated_since = pick(&mut errors, "updatedSince", p.updated_since, |s| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    });
    let sla = pick(&mut errors, "sla", p.sla, |s| match s {
        "breached" => Some(SlaState::Breached),
        "at_risk" => Some(SlaState::AtRisk),
        _ => None,
    });
    let sort = pick(&mut errors, "sort", p.sort, |s| match s {
        "updated" => Some(ListSort::Updated),
        "due" => Some(ListSort::Due),
        _ => None,
    });
    let cursor = pick(&mut errors, "cursor", p.cursor, Cursor::decode);
    let limit = pick(&mut errors, "limit", p.limit, |s| {
        s.parse::<u32>().ok().filter(|n| (1..=500).contains(n))
    });
    let assignee = p
        .assignee
        .filter(|s| !s.is_empty())
        .map(|a| if a == "me" { user.user.id.clone() } else { a });
    let scope = match user.role() {
        Role::Admin => Scope::All,
        Role::Technician => Scope::Technician(user.user.id.clone()),
        Role::Client => Scope::Client(user.user.id.clone()),
    };
    let query = RequestQuery {
        kind,
        status,
        priority,
        assignee,
        updated_since,
        text: p.q.filter(|s| !s.trim().is_empty()),
        sla,
        sort: sort.unwrap_or_default(),
        cursor,
        limit: limit.unwrap_or(50),
        scope,
    };
    errors.into_result(query).map_err(ApiError::Validation)
}

/// `GET /api/requests`: the requests the caller may see, filtered, newest change first,
/// by cursor.
#[utoipa::path(
    get,
    path = "/api/requests",
    tag = "requests",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of requests", body = RequestPage),
        BadQuery400,
        Unauthorized401,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let query = parse_list(params, &user)?;
    let page = state.db(move |s| s.query_requests(&query)).await?;
    Ok(Json(json!({
        "success": true,
        "requests": page.requests,
        "nextCursor": page.next.map(|c| c.encode()),
        "total": page.total,
    })))
}

/// `GET /api/requests/{id}`: a request with its history, chat and quote.
#[utoipa::path(
    get,
    path = "/api/requests/{id}",
    tag = "requests",
    params(("id" = String, Path, description = "The request's `_id`")),
    responses(
        (status = 200, description = "The request", body = RequestDetail),
        Unauthorized401,
        RequestNotFound404,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn detail(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = user.user.clone();
    let detail = state
        .db(move |s| {
            actions::visible(s, &caller, &id)?;
            s.request_detail(&id)?.ok_or(StoreError::NotFound)
        })
        .await?;
    let role = user.role();
    let history: Vec<_> = detail
        .history
        .iter()
        .filter_map(|h| h.as_seen_by(role))
        .collect();
    Ok(Json(json!({
        "success": true,
        "request": detail.request,
        "history": history,
        "messages": detail.messages,
        // A client sees the quote once it is sent to them, not while staff prepare it.
        "quote": detail.quote.filter(|_| user.role() != Role::Client
            || super::quotes::DELIVERED.contains(&detail.request.status)),
    })))
}

/// The answer to a status change or an assignment, first time or replayed.
async fn request_answer(
    state: &AppState,
    user: &AuthUser,
    id: String,
    message: &str,
) -> Result<Json<Value>, ApiError> {
    let caller = user.user.clone();
    let request = state.db(move |s| actions::visible(s, &caller, &id)).await?;
    Ok(Json(
        json!({ "success": true, "message": message, "request": request }),
    ))
}

/// `POST /api/requests/{id}/status`: moves a request along its workflow
/// (who may do which move: docs/api.md).
#[utoipa::path(
    post,
    path = "/api/requests/{id}/status",
    tag = "requests",
    params(("id" = String, Path, description = "The request's `_id`"), IdempotencyKey),
    request_body = StatusBody,
    responses(
        (status = 200, description = "Changed (or the replayed answer)", body = RequestAnswer),
        BadBody400,
        Unauthorized401,
        Forbidden403,
        RequestNotFound404,
        (status = 409, description = "`invalid_transition`: not allowed from `currentStatus`; `quote_expired`: accepting a quote after its `validUntil` (given in the body)", body = ErrorBody),
        TooLarge413,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn change_status(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let change = parse_status_change(&body).map_err(ApiError::Validation)?;
    let idem = idem_key(&headers, &user, "POST /api/requests/{id}/status", &id)?;
    let (caller, rid) = (user.user.clone(), id.clone());
    let done = state
        .db(move |s| actions::change_status(s, &caller, &rid, change, idem.as_ref()))
        .await?;
    match done {
        Some(e) => Ok(Json(
            json!({ "success": true, "message": "Statut mis à jour", "request": e.event.request }),
        )),
        None => request_answer(&state, &user, id, "Statut mis à jour").await,
    }
}

/// `POST /api/requests/{id}/assign` (ADMIN): assigns an intervention to a technician.
#[utoipa::path(
    post,
    path = "/api/requests/{id}/assign",
    tag = "requests",
    params(("id" = String, Path, description = "The request's `_id`"), IdempotencyKey),
    request_body = AssignBody,
    responses(
        (status = 200, description = "Assigned (or the replayed answer)", body = RequestAnswer),
        BadBody400,
        Unauthorized401,
        Forbidden403,
        RequestNotFound404,
        (status = 409, description = "`invalid_transition`: not allowed from `currentStatus`", body = ErrorBody),
        TooLarge413,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn assign(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let technician_id = parse_assign(&body).map_err(ApiError::Validation)?;
    let idem = idem_key(&headers, &user, "POST /api/requests/{id}/assign", &id)?;
    let (admin, rid) = (user.user.clone(), id.clone());
    let done = state
        .db(move |s| {
            let refuse = |message: &str| {
                StoreError::Refused(crate::store::Refusal::Invalid(FieldErrors::single(
                    "technicianId",
                    message,
                )))
            };
            let technician = s
                .account(&technician_id)?
                .filter(|t| t.role == Role::Technician)
                .ok_or_else(|| refuse("Technicien introuvable"))?;
            if !technician.active {
                return Err(refuse(
                    "Ce technicien est désactivé et ne peut pas être assigné",
                ));
            }
            let technician = technician.user();
            actions::assign(s, &admin, &rid, &technician, idem.as_ref())
        })
        .await?;
    match done {
        Some(e) => Ok(Json(
            json!({ "success": true, "message": "Technicien assigné", "request": e.event.request }),
        )),
        None => request_answer(&state, &user, id, "Technicien assigné").await,
    }
}

/// `POST /api/requests/{id}/ack` (ADMIN, or a TECHNICIAN who may see it): takes an
/// intervention. The first acknowledgement is everyone's (reminders stop on every
/// desk); the assignee's own answers their assignment. Again: same answer, no event.
#[utoipa::path(
    post,
    path = "/api/requests/{id}/ack",
    tag = "requests",
    params(("id" = String, Path, description = "The request's `_id`"), IdempotencyKey),
    responses(
        (status = 200, description = "Acknowledged (or already was)", body = RequestAnswer),
        (status = 400, description = "`validation`: not an intervention (`errors.kind`)", body = ErrorBody),
        Unauthorized401,
        Forbidden403,
        RequestNotFound404,
        (status = 409, description = "`invalid_transition`: it finished before anyone took it", body = ErrorBody),
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin, Role::Technician])?;
    let idem = idem_key(&headers, &user, "POST /api/requests/{id}/ack", &id)?;
    let (caller, rid) = (user.user.clone(), id.clone());
    let done = state
        .db(move |s| actions::acknowledge(s, &caller, &rid, idem.as_ref()))
        .await?;
    const TAKEN: &str = "Intervention prise en charge";
    match done {
        Some(e) => Ok(Json(
            json!({ "success": true, "message": TAKEN, "request": e.event.request }),
        )),
        None => request_answer(&state, &user, id, TAKEN).await,
    }
}

/// `GET /api/requests/{id}/messages`: the request's chat, oldest first.
#[utoipa::path(
    get,
    path = "/api/requests/{id}/messages",
    tag = "requests",
    params(("id" = String, Path, description = "The request's `_id`")),
    responses(
        (status = 200, description = "The chat", body = MessagesAnswer),
        Unauthorized401,
        RequestNotFound404,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn messages(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = user.user.clone();
    let messages = state
        .db(move |s| {
            actions::visible(s, &caller, &id)?;
            s.messages(&id)
        })
        .await?;
    Ok(Json(json!({ "success": true, "messages": messages })))
}

/// `POST /api/requests/{id}/messages`: a chat message on a request the caller sees.
#[utoipa::path(
    post,
    path = "/api/requests/{id}/messages",
    tag = "requests",
    params(("id" = String, Path, description = "The request's `_id`"), IdempotencyKey),
    request_body = MessageBody,
    responses(
        (status = 201, description = "Sent (or the replayed answer)", body = MessageCreated),
        BadBody400,
        Unauthorized401,
        RequestNotFound404,
        TooLarge413,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn post_message(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = parse_message(&body).map_err(ApiError::Validation)?;
    let idem = idem_key(&headers, &user, "POST /api/requests/{id}/messages", &id)?;
    let caller = user.user.clone();
    let message = state
        .db(move |s| {
            match actions::post_message(s, &caller, &id, &text, idem.as_ref())? {
                Some(e) => Ok(e.event.chat_message),
                // Replayed: the message the first call created.
                None => {
                    let record = idem
                        .as_ref()
                        .map(|k| s.idempotent(k))
                        .transpose()?
                        .flatten();
                    match record.and_then(|r| r.message_id) {
                        Some(mid) => s.message(&mid),
                        None => Ok(None),
                    }
                }
            }
        })
        .await?
        .ok_or_else(|| ApiError::Internal("message missing after commit".into()))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "message": "Message envoyé", "chatMessage": message })),
    ))
}

// ---------------------------------------------------------------------------
// Shapes of this group's bodies, for the OpenAPI document (`openapi.rs`).

/// The `Idempotency-Key` header of the mutations, as `idem_key` reads it.
#[derive(Debug, Serialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1 to 200 visible ASCII characters; a repeated key from the same user on the
    /// same route and request returns the first answer and changes nothing
    #[serde(rename = "Idempotency-Key")]
    #[param(min_length = 1, max_length = 200, pattern = "^[!-~]([ -~]*[!-~])?$")]
    pub key: Option<String>,
}

/// The filters of `GET /api/requests`; all optional, combined with AND.
#[derive(Debug, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub kind: Option<RequestKind>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    /// A user `_id`, or `me`.
    pub assignee: Option<String>,
    /// Only requests updated at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub updated_since: Option<String>,
    /// Searches ticket number, title, description, client name and site.
    pub q: Option<String>,
    /// Interventions with either service-level timer in this state.
    #[param(inline, value_type = Option<String>, pattern = "^(breached|at_risk)$")]
    pub sla: Option<String>,
    /// `updated` (default: last change first) or `due` (soonest service-level due
    /// time first, the most overdue at the top; requests without one last).
    #[param(inline, value_type = Option<String>, pattern = "^(updated|due)$")]
    pub sort: Option<String>,
    /// `nextCursor` of the previous page, as given.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// `POST /api/requests/{id}/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusBody {
    pub status: Status,
    /// Required to reject a project.
    #[schema(pattern = r"\S", min_length = 3, max_length = 1000)]
    pub reason: Option<String>,
}

/// `POST /api/requests/{id}/assign`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignBody {
    /// The `_id` of a TECHNICIAN.
    #[schema(pattern = r"\S", min_length = 1, max_length = 100)]
    pub technician_id: String,
}

/// `POST /api/requests/{id}/messages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageBody {
    #[schema(pattern = r"\S", min_length = 1, max_length = 5000)]
    pub body: String,
}

/// `GET /api/requests`: ordered by `updatedAt` then `_id`, both descending.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestPage {
    pub success: bool,
    pub requests: Vec<Request>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    /// How many requests match the filters, all pages together: on the first
    /// page only (no `cursor`), `null` on the others.
    #[schema(required = true)]
    pub total: Option<u64>,
}

/// `GET /api/requests/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestDetail {
    pub success: bool,
    pub request: Request,
    /// Oldest first.
    pub history: Vec<HistoryEntry>,
    /// Oldest first.
    pub messages: Vec<ChatMessage>,
    /// Quote requests with a prepared quote only.
    #[schema(required = true)]
    pub quote: Option<super::quotes::StoredQuote>,
}

/// A status change, an assignment or a quote sent: the request after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestAnswer {
    pub success: bool,
    #[schema(example = "Statut mis à jour")]
    pub message: String,
    pub request: Request,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagesAnswer {
    pub success: bool,
    /// Oldest first.
    pub messages: Vec<ChatMessage>,
}

/// `201` of a chat message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageCreated {
    pub success: bool,
    #[schema(example = "Message envoyé")]
    pub message: String,
    pub chat_message: ChatMessage,
}
