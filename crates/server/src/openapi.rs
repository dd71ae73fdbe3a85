//! The OpenAPI 3.1 document of the HTTP API, generated from the code with `utoipa`
//! and served at `GET /api/openapi.json`.
//!
//! Each handler carries its own `#[utoipa::path]` (method, path, parameters, body,
//! answers, security) next to its code in `routes/*.rs` and `feed.rs`; the domain
//! types (`Request`, `ChatMessage`, `FeedEvent`…) derive their schemas in `itv-core`
//! behind its `openapi` feature.
//!
//! Why the structs below exist: the handlers take their bodies as raw JSON
//! (`body::JsonBody`) because `itv_core::validation` parses them field by field to
//! answer with one French message per field, and they answer with `json!` envelopes
//! (`{success, message, ticket}`…). Neither the bodies nor the envelopes are Rust
//! types the handlers use, so they are described here, for the document only, to
//! the letter of `docs/api.md` and of the JSON the server really sends (the
//! integration tests in `crates/server/tests` check those). Nothing here is used to
//! parse or build a real body: changing a shape means changing the handler *and*
//! the struct that documents it; `tests/openapi.rs` checks every route has a path.

use std::collections::BTreeMap;

use axum::Json;
use chrono::NaiveDate;
use itv_core::request::{ChatMessage, HistoryEntry, InterventionType, QuoteCategory, ServiceType};
use itv_core::{Priority, Request, RequestKind, Role, Status, Urgency};
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

/// The document, built from the annotations of every handler.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /api/openapi.json`: this API's OpenAPI 3.1 document. Public, like the
/// portal's files: it holds no data, only the shapes.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API", body = serde_json::Value, content_type = "application/json"),
    )
)]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// `GET /api/health` is a closure in `routes::api`; this only documents it.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "meta",
    responses((status = 200, description = "The server is up", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health { success: true })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "IT Vision Desk API",
        description = "The HTTP contract between the server, the client portal and the desktop app (docs/api.md). JSON bodies, camelCase fields, ids in `_id`, money in whole XOF francs. Every success body has `success: true`; every error body is an `ErrorBody`.",
    ),
    paths(
        health,
        serve,
        crate::routes::auth::login,
        crate::routes::auth::me,
        crate::routes::auth::logout,
        crate::routes::auth::sessions,
        crate::routes::auth::end_session,
        crate::routes::auth::change_password,
        crate::routes::client::create_project,
        crate::routes::client::list_projects,
        crate::routes::client::create_intervention,
        crate::routes::client::list_interventions,
        crate::routes::client::create_quote,
        crate::routes::client::list_quotes,
        crate::routes::requests::list,
        crate::routes::requests::detail,
        crate::routes::requests::change_status,
        crate::routes::requests::assign,
        crate::routes::requests::messages,
        crate::routes::requests::post_message,
        crate::routes::quotes::prepare,
        crate::routes::quotes::send,
        crate::routes::quotes::pdf,
        crate::routes::staff::technicians,
        crate::routes::staff::create_user,
        crate::routes::staff::users,
        crate::routes::staff::update_user,
        crate::routes::staff::reset_password,
        crate::feed::subscribe,
        crate::feed::head,
    ),
    components(schemas(
        itv_core::FeedEvent,
        itv_core::Notification,
        itv_core::EventType,
        ReadyFrame,
        ResyncRequiredFrame,
        FeedErrorFrame,
        AuthFrame,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "meta", description = "Health and this document"),
        (name = "auth", description = "Sign in, who am I, the caller's sessions and password"),
        (name = "client", description = "The seed's client API (role CLIENT)"),
        (name = "requests", description = "Requests of every kind, scoped to the caller"),
        (name = "quotes", description = "Priced quotes on quote requests"),
        (name = "staff", description = "Staff administration (ADMIN)"),
        (name = "feed", description = "The live feed (WebSocket) and its head"),
    )
)]
struct ApiDoc;

/// Adds the `bearer` scheme the paths name in `security`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        http.description =
            Some("`Authorization: Bearer <token>` from `POST /api/auth/login`".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

// ---------------------------------------------------------------------------
// Errors

/// The machine `code` of an error body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a field is missing or wrong; `errors` names each.
    Validation,
    /// 400: the body is not JSON.
    BadJson,
    /// 401: no token, a bad or expired token, wrong credentials.
    Unauthorized,
    /// 401: the token's session was ended (`reason` says why); sign in again.
    SessionEnded,
    /// 403: the caller's role may not do this.
    Forbidden,
    /// 403: the account is deactivated and cannot sign in.
    AccountDisabled,
    /// 404: unknown id, or a request the caller may not see.
    NotFound,
    /// 409: the status change is not allowed from `currentStatus`.
    InvalidTransition,
    /// 409: e.g. the email is already used.
    Conflict,
    /// 409: the quote's `validUntil` (in the body) has passed; it cannot be accepted.
    QuoteExpired,
    /// 413: the body is over the limit (default 64 KiB).
    PayloadTooLarge,
    /// 429: too many requests; see the `Retry-After` header.
    RateLimited,
    /// 500: a bug; the message says nothing more.
    Internal,
}

/// Every error: `{success: false, code, message}`, plus `errors` for validation
/// errors and `currentStatus` for an invalid transition.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Always `false`.
    #[schema(example = false)]
    pub success: bool,
    pub code: ErrorCode,
    /// A French sentence for people.
    #[schema(example = "Certains champs sont invalides")]
    pub message: String,
    /// Validation errors only: one French message per field at fault (nested
    /// fields as `items[0].quantity`, `lines[1].unitPrice`; `body` when the body
    /// is not an object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
    /// `invalid_transition` only: the request's status now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<Status>,
    /// `session_ended` only: why the session ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<itv_core::account::EndReason>,
    /// `quote_expired` only: the last day the quote could be accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<chrono::NaiveDate>,
}

// ---------------------------------------------------------------------------
// Query parameters

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
    /// `nextCursor` of the previous page, as given.
    pub cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// `?since=` of the feed.
#[derive(Debug, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Replay the events with `seq > since` first; without it, only live events.
    #[param(minimum = 0)]
    pub since: Option<i64>,
}

// ---------------------------------------------------------------------------
// Request bodies

/// `POST /api/auth/login`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginBody {
    /// Trimmed, compared without case.
    #[schema(
        pattern = r"\S",
        min_length = 3,
        max_length = 254,
        example = "client@itvision.sn"
    )]
    pub email: String,
    /// Not blank.
    #[schema(min_length = 1, pattern = r"\S", example = "demo1234")]
    pub password: String,
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

/// One priced line of a quote being prepared.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLineBody {
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub designation: String,
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub quantity: u64,
    /// Excluding VAT, whole francs.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub unit_price: u64,
}

/// `PUT /api/requests/{id}/quote` (ADMIN).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrepareQuoteBody {
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<QuoteLineBody>,
    /// Whole francs, at most the subtotal (default 0).
    #[schema(minimum = 0)]
    pub discount: Option<u64>,
    /// Today or later.
    pub valid_until: NaiveDate,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

// ---------------------------------------------------------------------------
// Answers

/// `{"success": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub success: bool,
}

/// A user as the API shows one (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAnswer {
    pub success: bool,
    /// The JWT for `Authorization: Bearer`; it names a server-side session, which
    /// sign-out, an admin or expiry can end before the token's own `exp`.
    pub token: String,
    pub user: User,
    pub session: crate::routes::auth::SessionView,
}

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

#[derive(Debug, Serialize, ToSchema)]
pub struct TechniciansAnswer {
    pub success: bool,
    pub technicians: Vec<User>,
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

/// One priced line of a stored quote.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLine {
    pub designation: String,
    pub quantity: u64,
    pub unit_price: u64,
    /// `quantity × unitPrice`.
    pub line_total: u64,
}

/// A prepared quote as stored: `itv_core::quote::Quote` plus `issuedOn`. Amounts
/// in whole XOF francs; VAT 18 % rounded half up.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub lines: Vec<QuoteLine>,
    pub subtotal: u64,
    pub discount: u64,
    /// `subtotal − discount`.
    pub taxable_amount: u64,
    /// Always 18.
    pub vat_rate: u64,
    pub vat_amount: u64,
    /// TTC.
    pub total: u64,
    pub valid_until: NaiveDate,
    pub notes: String,
    /// The day the quote was prepared.
    pub issued_on: NaiveDate,
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
    pub quote: Option<Quote>,
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

/// `PUT /api/requests/{id}/quote`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteAnswer {
    pub success: bool,
    #[schema(example = "Devis enregistré")]
    pub message: String,
    pub quote: Quote,
}

/// `GET /api/feed/head`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedHead {
    pub success: bool,
    /// The last `seq` in the log (0 when empty).
    pub seq: i64,
    /// The oldest `seq` the log still holds.
    pub oldest_seq: i64,
}

/// A PDF file.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PdfFile(pub Vec<u8>);

// ---------------------------------------------------------------------------
// Feed frames other than `FeedEvent`

/// Browser → server, first frame when the upgrade carried no token.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthFrame {
    /// `"auth"`.
    #[serde(rename = "type")]
    pub frame_type: String,
    pub token: String,
}

/// Server → subscriber once the replay is done.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyFrame {
    /// `"ready"`.
    #[serde(rename = "type")]
    pub frame_type: String,
    /// The last seq sent or known.
    pub seq: i64,
}

/// Server → subscriber when `since` is older than the log holds; then closes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResyncRequiredFrame {
    /// `"resync_required"`.
    #[serde(rename = "type")]
    pub frame_type: String,
    pub oldest_seq: i64,
    pub head_seq: i64,
}

/// Server → subscriber before a close (e.g. bad token in the auth frame).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedErrorFrame {
    /// `"error"`.
    #[serde(rename = "type")]
    pub frame_type: String,
    pub code: ErrorCode,
    pub message: String,
}
