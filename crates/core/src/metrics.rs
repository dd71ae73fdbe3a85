//! The seed's *Métriques*, measured: how fast staff hear of a new request, how long
//! a project waits for validation, how soon a technician is en route to an urgent
//! call, service-level compliance and open work per technician.
//!
//! Pure arithmetic over what the store reads for a period; weeks start on Monday.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::sla::{EN_ROUTE_PROMISE, Sla, SlaState};
use crate::status::Priority;

/// What the store reads for a period (requests created in it).
#[derive(Debug, Clone, Default)]
pub struct MetricsInput {
    /// When each request of the period was created.
    pub created: Vec<DateTime<Utc>>,
    /// A request's creation and the first delivery of its event to a staff desk.
    pub deliveries: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// A project's submission and its validation.
    pub validations: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// An urgent intervention (not cancelled): its creation and first en route, if any.
    pub urgent: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
    /// Interventions held to service levels: priority, creation, timers now.
    pub sla: Vec<(Priority, DateTime<Utc>, Sla)>,
    pub open_by_technician: Vec<TechnicianLoad>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechnicianLoad {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub open: u64,
    pub urgent: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub count: usize,
    pub p50_seconds: Option<f64>,
    pub p95_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    pub count: usize,
    pub median_hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnRoute {
    /// Urgent calls decided: en route, or waiting past the promise.
    pub count: usize,
    pub median_minutes: Option<f64>,
    /// Share en route within the promise (2 h).
    pub under2h_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compliance {
    pub priority: Priority,
    pub ack_met: u64,
    pub ack_breached: u64,
    pub resolve_met: u64,
    pub resolve_breached: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Week {
    pub week_start: NaiveDate,
    /// Requests created this week, every kind.
    pub created: usize,
    pub notification_p50_seconds: Option<f64>,
    pub urgent_en_route_median_minutes: Option<f64>,
    pub under2h_share: Option<f64>,
    /// Timers met among those decided (met or breached).
    pub sla_met_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub notification_delivery: Delivery,
    pub project_validation: Validation,
    pub urgent_en_route: EnRoute,
    pub sla: Vec<Compliance>,
    pub open_by_technician: Vec<TechnicianLoad>,
    pub weeks: Vec<Week>,
}

/// The `p`-th percentile (0–100) by nearest rank; `None` when there is nothing.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn seconds(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// The Monday of the week holding `d`.
pub fn week_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(d.weekday().num_days_from_monday() as i64)
}

fn en_route(urgent: &[(DateTime<Utc>, Option<DateTime<Utc>>)], now: DateTime<Utc>) -> EnRoute {
    let minutes: Vec<f64> = urgent
        .iter()
        .filter_map(|(c, e)| e.map(|e| seconds(e - *c) / 60.0))
        .collect();
    // Decided: en route, or still waiting past the promise (a miss already).
    let decided: Vec<bool> = urgent
        .iter()
        .filter_map(|(c, e)| match e {
            Some(e) => Some(*e - *c <= EN_ROUTE_PROMISE),
            None if now - *c > EN_ROUTE_PROMISE => Some(false),
            None => None,
        })
        .collect();
    EnRoute {
        count: decided.len(),
        median_minutes: percentile(&minutes, 50.0),
        under2h_share: share(decided.iter().filter(|k| **k).count(), decided.len()),
    }
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn delivery(d: &[(DateTime<Utc>, DateTime<Utc>)]) -> Delivery {
    let s: Vec<f64> = d.iter().map(|(c, at)| seconds(*at - *c).max(0.0)).collect();
    Delivery {
        count: s.len(),
        p50_seconds: percentile(&s, 50.0),
        p95_seconds: percentile(&s, 95.0),
    }
}

fn met_share(sla: &[&(Priority, DateTime<Utc>, Sla)]) -> Option<f64> {
    let states = sla.iter().flat_map(|(_, _, s)| [s.ack, s.resolve]);
    let (met, decided) = states.fold((0, 0), |(m, d), s| match s {
        SlaState::Met => (m + 1, d + 1),
        SlaState::Breached => (m, d + 1),
        _ => (m, d),
    });
    share(met, decided)
}

/// The period's metrics at `now`, with one `Week` per week from `from` to `to`.
pub fn summarize(
    input: &MetricsInput,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Metrics {
    let count = |states: &mut dyn Iterator<Item = SlaState>, want: SlaState| {
        states.filter(|s| *s == want).count() as u64
    };
    let sla = Priority::ALL
        .iter()
        .rev()
        .map(|&p| {
            let of: Vec<&Sla> = input
                .sla
                .iter()
                .filter(|r| r.0 == p)
                .map(|r| &r.2)
                .collect();
            Compliance {
                priority: p,
                ack_met: count(&mut of.iter().map(|s| s.ack), SlaState::Met),
                ack_breached: count(&mut of.iter().map(|s| s.ack), SlaState::Breached),
                resolve_met: count(&mut of.iter().map(|s| s.resolve), SlaState::Met),
                resolve_breached: count(&mut of.iter().map(|s| s.resolve), SlaState::Breached),
            }
        })
        .collect();
    let mut weeks = Vec::new();
    let mut start = week_of(from);
    while start <= to {
        let within = |at: &DateTime<Utc>| week_of(at.date_naive()) == start;
        let deliveries: Vec<_> = input
            .deliveries
            .iter()
            .filter(|d| within(&d.0))
            .copied()
            .collect();
        let urgent: Vec<_> = input
            .urgent
            .iter()
            .filter(|u| within(&u.0))
            .copied()
            .collect();
        let sla_rows: Vec<_> = input.sla.iter().filter(|s| within(&s.1)).collect();
        let route = en_route(&urgent, now);
        weeks.push(Week {
            week_start: start,
            created: input.created.iter().filter(|c| within(c)).count(),
            notification_p50_seconds: delivery(&deliveries).p50_seconds,
            urgent_en_route_median_minutes: route.median_minutes,
            under2h_share: route.under2h_share,
            sla_met_share: met_share(&sla_rows),
        });
        start += Duration::days(7);
    }
    let hours: Vec<f64> = input
        .validations
        .iter()
        .map(|(c, v)| seconds(*v - *c) / 3600.0)
        .collect();
    Metrics {
        from,
        to,
        notification_delivery: delivery(&input.deliveries),
        project_validation: Validation {
            count: hours.len(),
            median_hours: percentile(&hours, 50.0),
        },
        urgent_en_route: en_route(&input.urgent, now),
        sla,
        open_by_technician: input.open_by_technician.clone(),
        weeks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32, min: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .unwrap()
            .and_hms_opt(hour, min, 0)
            .unwrap()
            .and_utc()
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&v, 50.0), Some(3.0));
        assert_eq!(percentile(&v, 95.0), Some(5.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn the_en_route_promise_counts_waiting_calls_past_two_hours_as_missed() {
        let now = at(30, 12, 0);
        let urgent = vec![
            (at(30, 8, 0), Some(at(30, 8, 40))),
            (at(30, 8, 0), Some(at(30, 10, 30))),
            (at(30, 9, 0), None),
            (at(30, 11, 30), None),
        ];
        let r = en_route(&urgent, now);
        assert_eq!(r.count, 3);
        assert_eq!(r.median_minutes, Some(40.0));
        assert_eq!(r.under2h_share, Some(1.0 / 3.0));
    }

    #[test]
    fn weeks_start_on_monday_and_cover_the_period() {
        // 2026-11-30 is a Monday.
        assert_eq!(
            week_of(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        let input = MetricsInput {
            deliveries: vec![(at(17, 9, 0), at(17, 9, 0) + Duration::milliseconds(400))],
            ..MetricsInput::default()
        };
        let from = NaiveDate::from_ymd_opt(2026, 11, 10).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let m = summarize(&input, from, to, at(30, 12, 0));
        let starts: Vec<u32> = m.weeks.iter().map(|w| w.week_start.day()).collect();
        assert_eq!(starts, [9, 16, 23, 30]);
        assert_eq!(m.weeks[1].notification_p50_seconds, Some(0.4));
        assert_eq!(m.weeks[0].notification_p50_seconds, None);
        assert_eq!(m.notification_delivery.p95_seconds, Some(0.4));
        assert_eq!(m.sla.len(), 4);
        assert_eq!(m.sla[0].priority, Priority::Urgent);
    }
}
