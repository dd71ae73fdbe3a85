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
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::requests::{IdempotencyKey, RequestAnswer, idem_key};
use crate::actions;
use crate::auth::AuthUser;
use crate::body::JsonBody;
use crate::error::{
    ApiError, Busy503, ErrorBody, Forbidden403, RequestNotFound404, TooLarge413, Unauthorized401,
};
use crate::quote_pdf::{QuotePdfInput, render_quote_pdf};
use crate::state::AppState;
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
/// Statuses in which the client may see the quote: it has been sent to them.
pub(crate) const DELIVERED: [Status; 3] = [Status::Sent, Status::Accepted, Status::Declined];

/// `PUT /api/requests/{id}/quote` (ADMIN): validates and stores the quote with its
/// computed totals; the request keeps its status.
#[utoipa::path(
    put,
    path = "/api/requests/{id}/quote",
    tag = "quotes",
    params(("id" = String, Path, description = "The request's `_id`"), IdempotencyKey),
    request_body = PrepareQuoteBody,
    responses(
        (status = 200, description = "Stored, with its computed totals (or the replayed answer)", body = QuoteAnswer),
        (status = 400, description = "`validation`: a field is wrong (`errors` names each, e.g. `lines[0].quantity`, `discount`, `validUntil`); `bad_json`", body = ErrorBody),
        Unauthorized401,
        Forbidden403,
        RequestNotFound404,
        (status = 409, description = "`invalid_transition`: the quote was already sent (`currentStatus`)", body = ErrorBody),
        TooLarge413,
        Busy503,
    ),
    security(("bearer" = []))
)]
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
    let idem = idem_key(&headers, &user, "PUT /api/requests/{id}/quote", &id)?;
    let (admin, rid, saved) = (user.user.clone(), id.clone(), stored.clone());
    state
        .db(move |s| {
            s.update_request(&rid, idem.as_ref(), &mut |cur: &Current| {
                let r = quote_request(cur)?;
                if !PREPARABLE.contains(&r.status) {
                    return Err(Refusal::InvalidTransition { current: r.status });
                }
                // Preparing the quote is the work of `in_progress`: an open request moves there.
                let mut after = r.clone();
                after.status = Status::InProgress;
                Ok(Update {
                    notification: (r.status != after.status)
                        .then(|| event::status_notification(&after)),
                    request: after,
                    event_type: EventType::RequestUpdated,
                    history: HistoryDraft {
                        actor: admin.clone(),
                        action: "quote:prepared".into(),
                        note: Some(format!("Total TTC {}", format_xof(quote.total))),
                        // The price is the client's to read once the quote is sent.
                        staff_only: true,
                    },
                    quote: Some(saved.clone()),
                })
            })
        })
        .await?;
    // A replayed key changed nothing: answer with what is stored.
    let caller = user.user.clone();
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
#[utoipa::path(
    post,
    path = "/api/requests/{id}/quote/send",
    tag = "quotes",
    params(("id" = String, Path, description = "The request's `_id`"), IdempotencyKey),
    responses(
        (status = 200, description = "Sent: the request, now `sent` (or the replayed answer)", body = RequestAnswer),
        (status = 400, description = "`validation`: no quote prepared yet (`errors.quote`)", body = ErrorBody),
        Unauthorized401,
        Forbidden403,
        RequestNotFound404,
        (status = 409, description = "`invalid_transition`: not allowed from `currentStatus`", body = ErrorBody),
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn send(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let idem = idem_key(&headers, &user, "POST /api/requests/{id}/quote/send", &id)?;
    let (admin, rid) = (user.user.clone(), id.clone());
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
                .map_err(actions::refusal)?;
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
                        staff_only: false,
                    },
                    quote: None,
                })
            })
        })
        .await?;
    let caller = user.user.clone();
    let request = state.db(move |s| actions::visible(s, &caller, &id)).await?;
    Ok(Json(
        json!({ "success": true, "message": "Devis envoyé au client", "request": request }),
    ))
}

/// `GET /api/requests/{id}/quote.pdf`: staff once prepared; the owning client
/// once sent. Anything else is 404, like a request one may not see.
#[utoipa::path(
    get,
    path = "/api/requests/{id}/quote.pdf",
    tag = "quotes",
    params(("id" = String, Path, description = "The request's `_id`")),
    responses(
        (status = 200, description = "The quote as a PDF document", content_type = "application/pdf", body = PdfFile),
        Unauthorized401,
        (status = 404, description = "`not_found`: unknown id, not a quote request, no quote prepared, or (for a client) not sent yet", body = ErrorBody),
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn pdf(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = user.user.clone();
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

// ---------------------------------------------------------------------------
// Shapes of this group's bodies, for the OpenAPI document (`openapi.rs`).

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
#[schema(as = Quote)]
pub struct StoredQuote {
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

/// `PUT /api/requests/{id}/quote`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteAnswer {
    pub success: bool,
    #[schema(example = "Devis enregistré")]
    pub message: String,
    pub quote: StoredQuote,
}

/// A PDF file.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PdfFile(pub Vec<u8>);

#[cfg(test)]
mod tests {
    use crate::testing::TestServer;
    use itv_core::Role;
    use serde_json::{Value, json};

    struct Api {
        url: String,
        http: reqwest::Client,
    }

    impl Api {
        async fn call(
            &self,
            token: &str,
            method: &str,
            path: &str,
            body: Option<Value>,
        ) -> (u16, Value) {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut req = self
                .http
                .request(method, format!("{}{path}", self.url))
                .bearer_auth(token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }

        async fn pdf(&self, token: &str, id: &str) -> (u16, String, Vec<u8>) {
            let res = self
                .http
                .get(format!("{}/api/requests/{id}/quote.pdf", self.url))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let ct = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, ct, res.bytes().await.unwrap().to_vec())
        }
    }

    fn valid_until() -> String {
        (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string()
    }

    #[tokio::test]
    async fn prepare_send_download_and_accept_a_quote() {
        let server = TestServer::start().await;
        let admin = server.create_user(Role::Admin, "admin@itvision.sn", "Admin", "secret-admin-1");
        let client = server.create_user(
            Role::Client,
            "awa@example.sn",
            "Awa Diop",
            "secret-client-1",
        );
        let other = server.create_user(
            Role::Client,
            "modou@example.sn",
            "Modou Fall",
            "secret-client-2",
        );
        let (admin, client, other) = (
            server.token_for(&admin),
            server.token_for(&client),
            server.token_for(&other),
        );
        let api = Api {
            url: server.url.clone(),
            http: reqwest::Client::new(),
        };

        let (status, created) = api
            .call(
                &client,
                "POST",
                "/api/client/requests/quote",
                Some(json!({
                    "title": "Devis pour 10 caméras IP 4K",
                    "category": "equipment",
                    "description": "Nous souhaitons installer 10 caméras.",
                })),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["ticket"]["_id"].as_str().unwrap().to_string();
        let quote_path = format!("/api/requests/{id}/quote");

        // Clients may not prepare; bad bodies are refused per field.
        let body = json!({
            "lines": [
                {"designation": "Caméra IP 4K", "quantity": 10, "unitPrice": 125_000},
                {"designation": "NVR 16 canaux", "quantity": 1, "unitPrice": 350_000}
            ],
            "discount": 100_000,
            "validUntil": valid_until(),
            "notes": "Installation comprise."
        });
        let (status, _) = api
            .call(&client, "PUT", &quote_path, Some(body.clone()))
            .await;
        assert_eq!(status, 403);
        let (status, err) = api
            .call(&admin, "PUT", &quote_path, Some(json!({"lines": [{"designation": "", "quantity": 0, "unitPrice": 5}], "validUntil": valid_until()})))
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            err["errors"]["lines[0].quantity"],
            "La quantité doit être un nombre entier supérieur à 0"
        );
        assert!(err["errors"]["lines[0].designation"].is_string());

        // Sending needs a prepared quote.
        let (status, _) = api
            .call(
                &admin,
                "POST",
                &format!("/api/requests/{id}/status"),
                Some(json!({"status": "in_progress"})),
            )
            .await;
        assert_eq!(status, 200);
        let (status, err) = api
            .call(&admin, "POST", &format!("{quote_path}/send"), None)
            .await;
        assert_eq!(status, 400, "{err}");
        assert!(err["errors"]["quote"].is_string());

        let (status, saved) = api.call(&admin, "PUT", &quote_path, Some(body)).await;
        assert_eq!(status, 200, "{saved}");
        // 1 600 000 − 100 000 = 1 500 000 ; TVA 270 000 ; TTC 1 770 000.
        assert_eq!(saved["quote"]["subtotal"], 1_600_000);
        assert_eq!(saved["quote"]["vatAmount"], 270_000);
        assert_eq!(saved["quote"]["total"], 1_770_000);

        // Not yet sent: the client can neither see nor download it, staff can preview it.
        let (_, seen) = api
            .call(&client, "GET", &format!("/api/requests/{id}"), None)
            .await;
        assert!(seen["quote"].is_null(), "{seen}");
        assert_eq!(api.pdf(&client, &id).await.0, 404);
        let (status, ct, _) = api.pdf(&admin, &id).await;
        assert_eq!((status, ct.as_str()), (200, "application/pdf"));

        let (status, sent) = api
            .call(&admin, "POST", &format!("{quote_path}/send"), None)
            .await;
        assert_eq!(status, 200, "{sent}");
        assert_eq!(sent["request"]["status"], "sent");
        let (status, _) = api.call(&admin, "PUT", &quote_path, Some(json!({"lines": [{"designation": "x", "quantity": 1, "unitPrice": 1}], "validUntil": valid_until()}))).await;
        assert_eq!(status, 409, "a sent quote is not rewritten");

        let (_, seen) = api
            .call(&client, "GET", &format!("/api/requests/{id}"), None)
            .await;
        assert_eq!(seen["quote"]["total"], 1_770_000);
        let (status, ct, bytes) = api.pdf(&client, &id).await;
        assert_eq!((status, ct.as_str()), (200, "application/pdf"));
        assert!(bytes.starts_with(b"%PDF-"));
        assert_eq!(
            api.pdf(&other, &id).await.0,
            404,
            "another client's quote is hidden"
        );

        let (status, done) = api
            .call(
                &client,
                "POST",
                &format!("/api/requests/{id}/status"),
                Some(json!({"status": "accepted"})),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        let (_, detail) = api
            .call(&admin, "GET", &format!("/api/requests/{id}"), None)
            .await;
        assert_eq!(detail["request"]["status"], "accepted");
        assert_eq!(detail["quote"]["total"], 1_770_000);

        // Preparing the quote of an open request moves it to in_progress.
        let (_, created) = api
            .call(
                &client,
                "POST",
                "/api/client/requests/quote",
                Some(json!({
                    "title": "Devis maintenance", "category": "maintenance",
                    "description": "Contrat annuel pour 20 caméras.",
                })),
            )
            .await;
        let id = created["ticket"]["_id"].as_str().unwrap();
        let lines = json!({"lines": [{"designation": "Visite", "quantity": 4, "unitPrice": 50_000}], "validUntil": valid_until()});
        let (status, _) = api
            .call(
                &admin,
                "PUT",
                &format!("/api/requests/{id}/quote"),
                Some(lines),
            )
            .await;
        assert_eq!(status, 200);
        let (_, detail) = api
            .call(&admin, "GET", &format!("/api/requests/{id}"), None)
            .await;
        assert_eq!(detail["request"]["status"], "in_progress");
        server.stop().await;
    }
}
