//! Quotes on quote requests: an admin prepares the priced quote (lines, discount,
//! VAT 18 %, validity), sends it to the client, and anyone who may see it downloads
//! it as a PDF. The arithmetic is `itv_core::quote`'s; the PDF is `quote_pdf`'s.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use itv_core::quote::{Quote, format_xof, parse_quote};
use itv_core::request::Details;
use itv_core::status::check_transition;
use itv_core::{EventType, FieldErrors, Request, RequestKind, Role, Status, event};
use serde_json::{Value, json};

use super::requests::idem_key;
use crate::actions;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::quote_pdf::{QuotePdfInput, render_quote_pdf};
use crate::store::{Current, HistoryDraft, Refusal, StoreError, Update};

/// The quote routes, merged into the API by `routes::api`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/requests/{id}/quote", put(prepare))
        .route("/api/requests/{id}/quote/send", post(send))
        .route("/api/requests/{id}/quote.pdf", get(pdf))
}

/// Statuses in which the quote may still be (re)prepared.
const PREPARABLE: [Status; 2] = [Status::Open, Status::InProgress];
/// Statuses in which the client may see the quote document.
const DELIVERED: [Status; 3] = [Status::Sent, Status::Accepted, Status::Declined];

/// `PUT /api/requests/{id}/quote` (ADMIN): validates and stores the quote with its
/// computed totals; the request keeps its status.
pub async fn prepare(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let today = Utc::now().date_naive();
    let quote = parse_quote(&body, today).map_err(ApiError::Validation)?;
    let stored = stored_quote(&quote, today)?;
    let idem = idem_key(&headers, &user)?;
    let (admin, rid, saved) = (user.0.clone(), id.clone(), stored.clone());
    state
        .db(move |s| {
            s.update_request(&rid, idem.as_ref(), &mut |cur: &Current| {
                let r = quote_request(cur)?;
                if !PREPARABLE.contains(&r.status) {
                    return Err(Refusal::InvalidTransition { current: r.status });
                }
                Ok(Update {
                    request: r.clone(),
                    event_type: EventType::RequestUpdated,
                    notification: None,
                    history: HistoryDraft {
                        actor: admin.clone(),
                        action: "quote:prepared".into(),
                        note: Some(format!("Total TTC {}", format_xof(quote.total))),
                    },
                    quote: Some(saved.clone()),
                })
            })
        })
        .await?;
    // A replayed key changed nothing: answer with what is stored.
    let caller = user.0.clone();
    let current = state
        .db(move |s| {
            actions::visible(s, &caller, &id)?;
            Ok(s.request_detail(&id)?.and_then(|d| d.quote))
        })
        .await?;
    Ok(Json(
        json!({ "success": true, "message": "Devis enregistré", "quote": current.unwrap_or(stored) }),
    ))
}

/// `POST /api/requests/{id}/quote/send` (ADMIN): `in_progress` → `sent`, once a
/// quote is prepared; the client is notified through the feed.
pub async fn send(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let idem = idem_key(&headers, &user)?;
    let (admin, rid) = (user.0.clone(), id.clone());
    state
        .db(move |s| {
            s.update_request(&rid, idem.as_ref(), &mut |cur: &Current| {
                let r = quote_request(cur)?;
                if !cur.has_quote {
                    return Err(Refusal::Invalid(FieldErrors::single(
                        "quote",
                        "Préparez le devis avant de l'envoyer",
                    )));
                }
                check_transition(
                    r.kind(),
                    r.status,
                    Status::Sent,
                    actions::actor_for(&admin, r),
                )
                .map_err(|e| match e {
                    itv_core::TransitionError::Invalid { current } => {
                        Refusal::InvalidTransition { current }
                    }
                    itv_core::TransitionError::Forbidden => Refusal::Forbidden,
                })?;
                let mut after = r.clone();
                after.status = Status::Sent;
                Ok(Update {
                    notification: Some(event::quote_sent_notification(&after)),
                    request: after,
                    event_type: EventType::QuoteSent,
                    history: HistoryDraft {
                        actor: admin.clone(),
                        action: "quote:sent".into(),
                        note: None,
                    },
                    quote: None,
                })
            })
        })
        .await?;
    let caller = user.0.clone();
    let request = state.db(move |s| actions::visible(s, &caller, &id)).await?;
    Ok(Json(
        json!({ "success": true, "message": "Devis envoyé au client", "request": request }),
    ))
}

/// `GET /api/requests/{id}/quote.pdf`: staff once prepared; the owning client
/// once sent. Anything else is 404, like a request one may not see.
pub async fn pdf(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = user.0.clone();
    let (request, stored) = state
        .db(move |s| {
            let request = actions::visible(s, &caller, &id)?;
            let delivered = DELIVERED.contains(&request.status);
            if request.kind() != RequestKind::Quote || (caller.role == Role::Client && !delivered) {
                return Err(StoreError::NotFound);
            }
            let quote = s.request_detail(&id)?.and_then(|d| d.quote);
            Ok((request, quote.ok_or(StoreError::NotFound)?))
        })
        .await?;
    let input = pdf_input(&request, &stored)?;
    let bytes = tokio::task::spawn_blocking(move || render_quote_pdf(&input))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let filename = format!("{}.pdf", input_name(&request));
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// The request under `cur` if it is a quote request, else a refusal on `quote`.
fn quote_request(cur: &Current) -> Result<&Request, Refusal> {
    let r = &cur.request;
    match r.details {
        Details::Quote { .. } => Ok(r),
        _ => Err(Refusal::Invalid(FieldErrors::single(
            "quote",
            "Seule une demande de devis peut recevoir un devis",
        ))),
    }
}

/// The quote as stored: the computed quote plus the date it was issued on.
fn stored_quote(quote: &Quote, today: NaiveDate) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(quote).map_err(|e| ApiError::Internal(e.to_string()))?;
    v["issuedOn"] = json!(today);
    Ok(v)
}

fn pdf_input(request: &Request, stored: &Value) -> Result<QuotePdfInput, ApiError> {
    let quote: Quote = serde_json::from_value(stored.clone())
        .map_err(|e| ApiError::Internal(format!("stored quote unreadable: {e}")))?;
    let issued_on = stored["issuedOn"]
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .unwrap_or_else(|| request.updated_at.date_naive());
    Ok(QuotePdfInput {
        ticket_number: input_name(request),
        title: request.title.clone(),
        client_name: request.client_name.clone(),
        issued_on,
        quote,
    })
}

fn input_name(request: &Request) -> String {
    request
        .ticket_number
        .clone()
        .unwrap_or_else(|| format!("DEVIS-{}", request.id))
}
