//! The durable event log on PostgreSQL.
//!
//! **Why seqs are seen in order.** A writer takes its seq by bumping the one row of
//! `event_counter` in its own transaction, as the last statement before `COMMIT`. The
//! row stays locked until that transaction ends; PostgreSQL makes a transaction visible
//! before it releases its locks. So the writer given N + 1 waited for N's transaction to
//! end, and N was visible (or rolled back, taking its bump with it) before N + 1 could
//! even exist: a reader that has seen N + 1 can never later find N, and seqs have no
//! holes. A `bigserial` would give neither: numbers are drawn at insert, not at commit.

use itv_core::event::Audience;
use itv_core::{FeedEvent, Role};
use postgres::GenericClient;

use crate::store::{LoggedEvent, Reader, StoreError};

/// Appends `event` for `audience`, numbered from the counter row; call it last in the
/// transaction, since every other writer waits on that row until this one commits.
pub fn append_event(
    tx: &mut impl GenericClient,
    mut event: FeedEvent,
    audience: Audience,
) -> Result<LoggedEvent, StoreError> {
    // The body is stored without its seq and given it on read, as on SQLite.
    let body = serde_json::to_value(&event)?;
    let row = tx.query_one(
        "WITH next AS (UPDATE event_counter SET last = last + 1 RETURNING last)
         INSERT INTO events (seq, request_id, client_id, all_technicians, technicians, body)
         SELECT last, $1, $2, $3, $4, $5 FROM next RETURNING seq",
        &[
            &event.request_id,
            &audience.client_id,
            &audience.all_technicians,
            &audience.technicians,
            &body,
        ],
    )?;
    event.seq = row.get(0);
    Ok(LoggedEvent { event, audience })
}

/// `Audience::admits` as SQL over the row's columns (`$3` is the reader's id).
fn audience_filter(reader: Option<&Reader>) -> &'static str {
    match reader.map(|r| r.role) {
        None | Some(Role::Admin) => "$3::text IS NOT NULL",
        Some(Role::Client) => "client_id = $3",
        Some(Role::Technician) => "(all_technicians OR $3 = ANY(technicians))",
    }
}

pub fn after(
    client: &mut impl GenericClient,
    after: i64,
    limit: u32,
    reader: Option<&Reader>,
) -> Result<Vec<LoggedEvent>, StoreError> {
    let sql = format!(
        "SELECT seq, client_id, all_technicians, technicians, body FROM events
         WHERE seq > $1 AND {} ORDER BY seq LIMIT $2",
        audience_filter(reader)
    );
    let reader_id = reader.map(|r| r.user_id.as_str()).unwrap_or("");
    let rows = client.query(&sql, &[&after, &i64::from(limit), &reader_id])?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut event: FeedEvent = serde_json::from_value(row.get(4))?;
        event.seq = row.get(0);
        out.push(LoggedEvent {
            event,
            audience: Audience {
                client_id: row.get(1),
                all_technicians: row.get(2),
                technicians: row.get(3),
            },
        });
    }
    Ok(out)
}

pub fn bounds(client: &mut impl GenericClient) -> Result<(i64, i64), StoreError> {
    let row = client.query_one(
        "SELECT (SELECT MIN(seq) FROM events), (SELECT last FROM event_counter)",
        &[],
    )?;
    let (oldest, last): (Option<i64>, i64) = (row.get(0), row.get(1));
    Ok((oldest.unwrap_or(last + 1), last))
}

pub fn prune(client: &mut impl GenericClient, keep: u64) -> Result<u64, StoreError> {
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    Ok(client.execute(
        "DELETE FROM events WHERE seq <= (SELECT last FROM event_counter) - $1",
        &[&keep],
    )?)
}

pub fn epoch(client: &mut impl GenericClient) -> Result<String, StoreError> {
    Ok(client
        .query_one("SELECT epoch FROM log_epochs ORDER BY id DESC LIMIT 1", &[])?
        .get(0))
}

pub fn new_epoch(client: &mut impl GenericClient, reason: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Io(e.to_string()))?;
    let epoch: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    client.execute(
        "INSERT INTO log_epochs (epoch, started_at, head_seq, reason)
         VALUES ($1, now(), (SELECT last FROM event_counter), $2)",
        &[&epoch, &reason],
    )?;
    Ok(epoch)
}
