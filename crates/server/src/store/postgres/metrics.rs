//! What the metrics read for a period, and the first deliveries to staff desks, on
//! PostgreSQL (the queries of `store/sqlite/metrics.rs`).

use chrono::{DateTime, Utc};
use itv_core::Priority;
use itv_core::metrics::{MetricsInput, TechnicianLoad};
use postgres::GenericClient;

use super::requests::{COLUMNS, row_request};
use crate::store::StoreError;

/// Records first deliveries `(seq, request id, at)`; later ones of a seq are ignored.
pub fn record_deliveries(
    c: &mut impl GenericClient,
    delivered: &[(i64, String, DateTime<Utc>)],
) -> Result<(), StoreError> {
    let statement = c.prepare(
        "INSERT INTO deliveries (seq, request_id, delivered_at) VALUES ($1, $2, $3)
         ON CONFLICT (seq) DO NOTHING",
    )?;
    for (seq, request_id, at) in delivered {
        c.execute(&statement, &[seq, request_id, at])?;
    }
    Ok(())
}

/// An instant and, maybe, a later one (submission → validation, en route…).
type Span = (DateTime<Utc>, Option<DateTime<Utc>>);

fn pairs(
    c: &mut impl GenericClient,
    sql: &str,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<Span>, StoreError> {
    Ok(c.query(sql, &[&from, &to])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

pub fn input(
    c: &mut impl GenericClient,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<MetricsInput, StoreError> {
    let range = (from, to);
    let both = |v: Vec<Span>| {
        v.into_iter()
            .filter_map(|(a, b)| b.map(|b| (a, b)))
            .collect::<Vec<_>>()
    };
    let created = pairs(
        c,
        "SELECT created_at, NULL::timestamptz FROM requests WHERE created_at >= $1 AND created_at < $2",
        range,
    )?
    .into_iter()
    .map(|(at, _)| at)
    .collect();
    let deliveries = both(pairs(
        c,
        "SELECT r.created_at, MIN(d.delivered_at) FROM deliveries d JOIN requests r ON r.id = d.request_id
         WHERE r.created_at >= $1 AND r.created_at < $2 GROUP BY r.id",
        range,
    )?);
    let validations = both(pairs(
        c,
        "SELECT r.created_at, MIN(h.at) FROM requests r
         JOIN history h ON h.request_id = r.id AND h.to_status = 'active'
         WHERE r.kind = 'project' AND r.created_at >= $1 AND r.created_at < $2 GROUP BY r.id",
        range,
    )?);
    let urgent = pairs(
        c,
        "SELECT r.created_at, MIN(h.at) FROM requests r
         LEFT JOIN history h ON h.request_id = r.id AND h.to_status = 'en_route'
         WHERE r.kind = 'intervention' AND r.priority = 'urgent' AND r.status <> 'cancelled'
         AND r.created_at >= $1 AND r.created_at < $2 GROUP BY r.id",
        range,
    )?;
    let rows = c.query(
        &format!(
            "SELECT {COLUMNS} FROM requests WHERE kind = 'intervention' AND ack_due_at IS NOT NULL
             AND created_at >= $1 AND created_at < $2"
        ),
        &[&from, &to],
    )?;
    let mut sla: Vec<(Priority, _, _)> = Vec::new();
    for row in &rows {
        let r = row_request(row, now)?;
        if let Some(s) = r.tracking.sla.clone() {
            sla.push((r.priority, r.created_at, s));
        }
    }
    let open_by_technician = c
        .query(
            "SELECT assignee_id, MAX(assignee_name), COUNT(*), COUNT(*) FILTER (WHERE priority = 'urgent')
             FROM requests WHERE kind = 'intervention' AND assignee_id IS NOT NULL
             AND status NOT IN ('resolved', 'closed', 'cancelled')
             GROUP BY assignee_id ORDER BY COUNT(*) DESC, MAX(assignee_name)",
            &[],
        )?
        .iter()
        .map(|r| TechnicianLoad {
            id: r.get(0),
            name: r.get(1),
            open: r.get::<_, i64>(2) as u64,
            urgent: r.get::<_, i64>(3) as u64,
        })
        .collect();
    Ok(MetricsInput {
        created,
        deliveries,
        validations,
        urgent,
        sla,
        open_by_technician,
    })
}
