//! `GET /api/staff/metrics` (ADMIN): the seed's *Métriques* over a period, measured
//! from the history, the feed's deliveries and the service-level timers.

use axum::Json;
use axum::extract::State;
use chrono::{Duration, NaiveDate};
use itv_core::FieldErrors;
use itv_core::Role;
use itv_core::metrics::{Metrics, summarize, week_of};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::body::QueryParams;
use crate::error::{ApiError, BadQuery400, Busy503, Forbidden403, Unauthorized401};
use crate::state::AppState;

/// The default period: the last 12 weeks, this one included.
const DEFAULT_WEEKS: i64 = 12;
/// The longest period one call may ask for.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize)]
pub struct MetricsParams {
    from: Option<String>,
    to: Option<String>,
}

/// `from` and `to` as dates, checked; both inclusive.
fn period(p: MetricsParams, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut date = |field: &str, raw: Option<String>| -> Option<NaiveDate> {
        let raw = raw.filter(|s| !s.is_empty())?;
        let d = NaiveDate::parse_from_str(&raw, "%Y-%m-%d").ok();
        if d.is_none() {
            errors.add(field, "Date invalide : attendu AAAA-MM-JJ");
        }
        d
    };
    let to = date("to", p.to).unwrap_or(today);
    let from =
        date("from", p.from).unwrap_or_else(|| week_of(to) - Duration::weeks(DEFAULT_WEEKS - 1));
    if errors.is_empty() && from > to {
        errors.add("from", "La date de début doit précéder la date de fin");
    }
    if errors.is_empty() && (to - from).num_days() > MAX_DAYS {
        errors.add("from", "Période trop longue : une année au plus");
    }
    errors.into_result((from, to))
}

/// `GET /api/staff/metrics?from=&to=` (ADMIN).
#[utoipa::path(
    get,
    path = "/api/staff/metrics",
    tag = "staff",
    params(MetricsQuery),
    responses(
        (status = 200, description = "The period's metrics", body = MetricsAnswer),
        BadQuery400,
        Unauthorized401,
        Forbidden403,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn metrics(
    State(state): State<AppState>,
    user: AuthUser,
    QueryParams(params): QueryParams<MetricsParams>,
) -> Result<Json<Value>, ApiError> {
    user.require(&[Role::Admin])?;
    let now = state.clock.now();
    let (from, to) = period(params, now.date_naive()).map_err(ApiError::Validation)?;
    let start = from.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let end = (to + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let input = state.db(move |s| s.metrics_input(start, end)).await?;
    let metrics: Metrics = summarize(&input, from, to, now);
    let mut body = serde_json::to_value(metrics).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["success"] = json!(true);
    Ok(Json(body))
}

// ---------------------------------------------------------------------------
// Shapes for the OpenAPI document (`openapi.rs`).

/// The period of `GET /api/staff/metrics`; both dates inclusive (UTC, Dakar's time).
#[derive(Debug, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// First day (`YYYY-MM-DD`); default: the Monday 11 weeks before `to`'s week.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`); default: today. At most a year after `from`.
    #[param(format = Date)]
    pub to: Option<String>,
}

/// `GET /api/staff/metrics`: the seed's promises measured over requests created in
/// the period; every figure is `null` when nothing measured it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricsAnswer {
    pub success: bool,
    #[schema(value_type = String, format = Date)]
    pub from: String,
    #[schema(value_type = String, format = Date)]
    pub to: String,
    /// Submission → first delivery of its event to a staff desk, in seconds.
    #[schema(value_type = Object, example = json!({"count": 12, "p50Seconds": 0.4, "p95Seconds": 1.2}))]
    pub notification_delivery: Value,
    /// Project submission → validation (`active`), in hours.
    #[schema(value_type = Object, example = json!({"count": 3, "medianHours": 5.5}))]
    pub project_validation: Value,
    /// Urgent intervention → technician en route, in minutes; share within 2 h among
    /// those en route or waiting longer than that.
    #[schema(value_type = Object, example = json!({"count": 4, "medianMinutes": 42.0, "under2hShare": 0.75}))]
    pub urgent_en_route: Value,
    /// Per priority, urgent first: timers met and breached.
    #[schema(value_type = Vec<Object>, example = json!([{"priority": "urgent", "ackMet": 3, "ackBreached": 1, "resolveMet": 2, "resolveBreached": 0}]))]
    pub sla: Vec<Value>,
    /// Open interventions per technician (now, whatever the period).
    #[schema(value_type = Vec<Object>, example = json!([{"_id": "…", "name": "Moussa Diop", "open": 3, "urgent": 1}]))]
    pub open_by_technician: Vec<Value>,
    /// One per week (Monday first), oldest first.
    #[schema(value_type = Vec<Object>, example = json!([{"weekStart": "2026-11-30", "created": 5, "notificationP50Seconds": 0.3, "urgentEnRouteMedianMinutes": 40.0, "under2hShare": 1.0, "slaMetShare": 0.8}]))]
    pub weeks: Vec<Value>,
}
