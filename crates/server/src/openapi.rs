//! The OpenAPI 3.1 document of the HTTP API, generated from the code with `utoipa`
//! and served at `GET /api/openapi.json`.
//!
//! This file only assembles the document: each handler carries its own
//! `#[utoipa::path]` (method, path, parameters, body, answers, security) next to its
//! code in `routes/*.rs` and `feed.rs`, with the shapes it names in a section at the
//! bottom of the same file; the error body and the responses most operations share
//! (`Unauthorized401`, `Busy503`…) are beside `ApiError` in `error.rs`; the domain
//! types (`Request`, `ChatMessage`, `FeedEvent`…) derive their schemas in `itv-core`
//! behind its `openapi` feature. The routes never import this module's items; only
//! the router mounts `serve`.
//!
//! Why those documentation-only shapes exist: the handlers take their bodies as raw
//! JSON (`body::JsonBody`) because `itv_core::validation` parses them field by field
//! to answer with one French message per field, and they answer with `json!`
//! envelopes (`{success, message, ticket}`…). Neither the bodies nor the envelopes
//! are Rust types the handlers use, so they are described beside them, for the
//! document only, to the letter of `docs/api.md` and of the JSON the server really
//! sends (the integration tests in `crates/server/tests` check those). None of them
//! is used to parse or build a real body: changing a shape means changing the
//! handler *and* the struct that documents it; `tests/openapi.rs` checks every route
//! has a path, `tests/matrix.rs` that every status it expects is documented.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::feed::{self, AuthFrame, FeedErrorFrame, ReadyFrame, ResyncRequiredFrame};
use crate::routes::{auth, client, metrics, quotes, requests, staff};

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
        auth::login,
        auth::me,
        auth::logout,
        auth::sessions,
        auth::end_session,
        auth::change_password,
        client::create_project,
        client::list_projects,
        client::create_intervention,
        client::list_interventions,
        client::create_quote,
        client::list_quotes,
        requests::list,
        requests::detail,
        requests::change_status,
        requests::assign,
        requests::acknowledge,
        requests::messages,
        requests::post_message,
        quotes::prepare,
        quotes::send,
        quotes::pdf,
        staff::technicians,
        metrics::metrics,
        staff::create_user,
        staff::users,
        staff::update_user,
        staff::reset_password,
        feed::subscribe,
        feed::head,
    ),
    components(schemas(
        // Named by the shared responses (`error.rs`), which do not register it.
        crate::error::ErrorBody,
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

/// `{"success": true}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub success: bool,
}
