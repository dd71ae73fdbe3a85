//! The durable event log: every change appends one row; the feed replays from it.

use itv_core::FeedEvent;
use itv_core::event::Audience;
use rusqlite::{Connection, params};

use itv_core::Role;

use super::{row, run};
use crate::store::{LoggedEvent, Reader, StoreError};

/// Appends `event` for `audience`; its `seq` is given by the log.
pub fn append_event(
    conn: &Connection,
    mut event: FeedEvent,
    audience: Audience,
) -> Result<LoggedEvent, StoreError> {
    // The body is stored without its seq (unknown until the insert) and given it on read.
    run(
        conn,
        "INSERT INTO events (request_id, client_id, all_technicians, technicians, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            event.request_id,
            audience.client_id,
            audience.all_technicians,
            audience.technicians.join(","),
            serde_json::to_string(&event)?,
        ],
    )?;
    event.seq = conn.last_insert_rowid();
    Ok(LoggedEvent { event, audience })
}

/// The audience rule of `Audience::admits`, as SQL over the row's columns (`?3` is
/// the reader's id), so a replay reads only the rows its reader may see.
fn audience_filter(reader: Option<&Reader>) -> &'static str {
    match reader.map(|r| r.role) {
        None | Some(Role::Admin) => "?3 = ?3",
        Some(Role::Client) => "client_id = ?3",
        Some(Role::Technician) => {
            "(all_technicians = 1 OR instr(',' || technicians || ',', ',' || ?3 || ',') > 0)"
        }
    }
}

pub fn after(
    conn: &Connection,
    after: i64,
    limit: u32,
    reader: Option<&Reader>,
) -> Result<Vec<LoggedEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT seq, client_id, all_technicians, technicians, body FROM events
         WHERE seq > ?1 AND {} ORDER BY seq LIMIT ?2",
        audience_filter(reader)
    ))?;
    let reader_id = reader.map(|r| r.user_id.as_str()).unwrap_or("");
    let rows = stmt.query_map(params![after, limit, reader_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, client_id, all_technicians, technicians, body) = row?;
        let mut event: FeedEvent = serde_json::from_str(&body)?;
        event.seq = seq;
        let technicians = technicians
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        out.push(LoggedEvent {
            event,
            audience: Audience {
                client_id,
                all_technicians,
                technicians,
            },
        });
    }
    Ok(out)
}

/// Two subqueries, not `SELECT MIN(seq), MAX(seq)`: SQLite reads one end of the rowid for a
/// lone MIN or MAX, but scans the whole log for the two together, and every feed subscription
/// asks (a thousand desks reconnecting after a restart, each scanning 100,000 events).
const BOUNDS: &str = "SELECT (SELECT MIN(seq) FROM events), (SELECT MAX(seq) FROM events)";

pub fn bounds(conn: &Connection) -> Result<(i64, i64), StoreError> {
    let (oldest, newest): (Option<i64>, Option<i64>) =
        row(conn, BOUNDS, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // After pruning everything, AUTOINCREMENT still knows the last seq handed out.
    let last_given: i64 = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    Ok((
        oldest.unwrap_or(last_given + 1),
        newest.unwrap_or(last_given),
    ))
}

pub fn prune(conn: &Connection, keep: u64) -> Result<u64, StoreError> {
    let removed = run(
        conn,
        "DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?1",
        [keep as i64],
    )?;
    Ok(removed as u64)
}

/// The log's current epoch: the last one started.
pub fn epoch(conn: &Connection) -> Result<String, StoreError> {
    Ok(row(
        conn,
        "SELECT epoch FROM log_epochs ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )?)
}

/// Starts a new epoch at the current head, recorded with why; returns it.
pub fn new_epoch(conn: &Connection, reason: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Io(e.to_string()))?;
    let epoch: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let (_, head) = bounds(conn)?;
    run(
        conn,
        "INSERT INTO log_epochs (epoch, started_at, head_seq, reason) VALUES (?1, ?2, ?3, ?4)",
        params![epoch, super::ts(chrono::Utc::now()), head, reason],
    )?;
    Ok(epoch)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    /// The subscription's question reads the two ends of the log, never the whole of it.
    #[test]
    fn the_bounds_read_both_ends_without_a_scan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        super::super::SqliteStore::open(&path, None, Default::default()).unwrap();
        let conn = Connection::open(&path).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", super::BOUNDS))
            .unwrap()
            .query_map([], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            plan.iter()
                .filter(|p| p.starts_with("SEARCH events"))
                .count(),
            2,
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|p| p.starts_with("SCAN events")),
            "{plan:?}"
        );
        conn.execute_batch(
            "INSERT INTO events (request_id, client_id, all_technicians, technicians, body)
             VALUES ('r', 'c', 1, '[]', '{}'), ('r', 'c', 1, '[]', '{}'), ('r', 'c', 1, '[]', '{}');
             DELETE FROM events WHERE seq = (SELECT MIN(seq) FROM events);",
        )
        .unwrap();
        let (oldest, newest) = super::bounds(&conn).unwrap();
        assert_eq!(newest - oldest, 1);
    }
}
