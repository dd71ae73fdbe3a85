//! What the metrics read for a period, and when staff desks first received each new
//! request (written by the feed, read back here).

use chrono::{DateTime, Utc};
use itv_core::Priority;
use itv_core::metrics::{MetricsInput, TechnicianLoad};
use rusqlite::{Connection, params};

use super::requests::{COLUMNS, row_request};
use super::{parse_ts, ts};
use crate::store::StoreError;

/// Records first deliveries `(seq, request id, at)`; later ones of a seq are ignored.
pub fn record_deliveries(
    conn: &Connection,
    delivered: &[(i64, String, DateTime<Utc>)],
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO deliveries (seq, request_id, delivered_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(seq) DO NOTHING",
    )?;
    for (seq, request_id, at) in delivered {
        stmt.execute(params![seq, request_id, ts(*at)])?;
    }
    Ok(())
}

/// An instant and, maybe, a later one (submission → validation, en route…).
type Span = (DateTime<Utc>, Option<DateTime<Utc>>);

/// Pairs of instants from `sql`, whose two columns are timestamps and whose
/// parameters are the period's bounds.
fn pairs(conn: &Connection, sql: &str, range: (&str, &str)) -> Result<Vec<Span>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params![range.0, range.1], |r| {
        let first = parse_ts(&r.get::<_, String>(0)?)?;
        let second = r
            .get::<_, Option<String>>(1)?
            .map(|s| parse_ts(&s))
            .transpose()?;
        Ok((first, second))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn input(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<MetricsInput, StoreError> {
    let (f, t) = (ts(from), ts(to));
    let range = (f.as_str(), t.as_str());
    let both = |v: Vec<Span>| {
        v.into_iter()
            .filter_map(|(a, b)| b.map(|b| (a, b)))
            .collect::<Vec<_>>()
    };
    let created = pairs(
        conn,
        "SELECT created_at, NULL FROM requests WHERE created_at >= ?1 AND created_at < ?2",
        range,
    )?
    .into_iter()
    .map(|(c, _)| c)
    .collect();
    let deliveries = both(pairs(
        conn,
        "SELECT r.created_at, MIN(d.delivered_at) FROM deliveries d JOIN requests r ON r.id = d.request_id
         WHERE r.created_at >= ?1 AND r.created_at < ?2 GROUP BY r.id",
        range,
    )?);
    let validations = both(pairs(
        conn,
        "SELECT r.created_at, MIN(h.at) FROM requests r
         JOIN history h ON h.request_id = r.id AND h.to_status = 'active'
         WHERE r.kind = 'project' AND r.created_at >= ?1 AND r.created_at < ?2 GROUP BY r.id",
        range,
    )?);
    let urgent = pairs(
        conn,
        "SELECT r.created_at, MIN(h.at) FROM requests r
         LEFT JOIN history h ON h.request_id = r.id AND h.to_status = 'en_route'
         WHERE r.kind = 'intervention' AND r.priority = 'urgent' AND r.status <> 'cancelled'
         AND r.created_at >= ?1 AND r.created_at < ?2 GROUP BY r.id",
        range,
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM requests WHERE kind = 'intervention' AND ack_due_at IS NOT NULL
         AND created_at >= ?1 AND created_at < ?2"
    ))?;
    let sla = stmt
        .query_map(params![f, t], |r| row_request(r, now))?
        .filter_map(|r| match r {
            Ok(r) => r
                .tracking
                .sla
                .clone()
                .map(|s| Ok((r.priority, r.created_at, s))),
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<(Priority, _, _)>, _>>()?;
    let mut stmt = conn.prepare(
        "SELECT assignee_id, MAX(assignee_name), COUNT(*), SUM(priority = 'urgent') FROM requests
         WHERE kind = 'intervention' AND assignee_id IS NOT NULL
         AND status NOT IN ('resolved', 'closed', 'cancelled')
         GROUP BY assignee_id ORDER BY COUNT(*) DESC, MAX(assignee_name)",
    )?;
    let open_by_technician = stmt
        .query_map([], |r| {
            Ok(TechnicianLoad {
                id: r.get(0)?,
                name: r.get(1)?,
                open: r.get(2)?,
                urgent: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(MetricsInput {
        created,
        deliveries,
        validations,
        urgent,
        sla,
        open_by_technician,
    })
}
