//! The `requests` table with its ticket counters, history, chat and quotes.

use chrono::{DateTime, Utc};
use itv_core::request::{ChatMessage, HistoryEntry, Person, Tracking};
use itv_core::sla::{Deadline, Deadlines};
use itv_core::ticket::TicketNumber;
use itv_core::{Request, RequestKind, Role, Status};
use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, params};

use super::{new_id, parse_ts, row, run, ts};
use itv_core::sla::SlaState;

use crate::store::{Cursor, Draft, ListSort, RequestPage, RequestQuery, Scope, StoreError, Update};

pub(super) const COLUMNS: &str = "id, ticket_number, title, description, site, status, priority, client_id, client_name, \
     assignee_id, assignee_name, created_at, updated_at, version, details, \
     acknowledged_at, acknowledged_by, acknowledged_by_name, assigned_at, assignment_acknowledged_at, \
     en_route_at, finished_at, ack_risk_at, ack_due_at, resolve_risk_at, resolve_due_at";

/// Where the sort key follows the columns in a list query.
const SORT_KEY_COLUMN: usize = 26;

/// The due time `sort=due` orders by (`Deadlines::next_due` over the columns); none
/// sorts last.
const NEXT_DUE: &str = "CASE WHEN ack_due_at IS NULL OR finished_at IS NOT NULL THEN '9999-12-31T23:59:59.999999Z' \
     WHEN acknowledged_at IS NULL THEN MIN(ack_due_at, resolve_due_at) ELSE resolve_due_at END";

/// `sla=breached` and `sla=at_risk` over the columns: `Deadline::state` with the
/// acknowledgement stopping at `COALESCE(acknowledged_at, finished_at)`. `?` is now.
const SLA_BREACHED: &str = "((ack_due_at IS NOT NULL AND (COALESCE(acknowledged_at, finished_at) > ack_due_at \
     OR (COALESCE(acknowledged_at, finished_at) IS NULL AND ack_due_at < ?N))) \
     OR (resolve_due_at IS NOT NULL AND (finished_at > resolve_due_at \
     OR (finished_at IS NULL AND resolve_due_at < ?N))))";
const SLA_AT_RISK: &str = "((COALESCE(acknowledged_at, finished_at) IS NULL AND ack_risk_at < ?N AND ack_due_at >= ?N) \
     OR (finished_at IS NULL AND resolve_risk_at < ?N AND resolve_due_at >= ?N))";

fn bad(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("{what} {value}").into(),
    )
}

fn opt_ts(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    r.get::<_, Option<String>>(i)?
        .map(|s| parse_ts(&s))
        .transpose()
}

/// The stored deadlines, when the request has them (interventions created since
/// service levels exist).
fn row_deadlines(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Deadlines>> {
    let deadline = |risk: usize, due: usize| -> rusqlite::Result<Option<Deadline>> {
        Ok(match (opt_ts(r, risk)?, opt_ts(r, due)?) {
            (Some(at_risk_from), Some(due)) => Some(Deadline { at_risk_from, due }),
            _ => None,
        })
    };
    Ok(match (deadline(22, 23)?, deadline(24, 25)?) {
        (Some(ack), Some(resolve)) => Some(Deadlines { ack, resolve }),
        _ => None,
    })
}

/// A request as stored, its service levels as they stand at `now`.
pub(super) fn row_request(r: &rusqlite::Row<'_>, now: DateTime<Utc>) -> rusqlite::Result<Request> {
    let status: String = r.get(5)?;
    let priority: String = r.get(6)?;
    let details: String = r.get(14)?;
    let acknowledged_by = match (
        r.get::<_, Option<String>>(16)?,
        r.get::<_, Option<String>>(17)?,
    ) {
        (Some(id), Some(name)) => Some(Person { id, name }),
        _ => None,
    };
    let mut tracking = Tracking {
        acknowledged_at: opt_ts(r, 15)?,
        acknowledged_by,
        assigned_at: opt_ts(r, 18)?,
        assignment_acknowledged_at: opt_ts(r, 19)?,
        en_route_at: opt_ts(r, 20)?,
        finished_at: opt_ts(r, 21)?,
        sla: None,
    };
    tracking.sla =
        row_deadlines(r)?.map(|d| d.sla(tracking.acknowledged_at, tracking.finished_at, now));
    Ok(Request {
        id: r.get(0)?,
        ticket_number: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        site: r.get(4)?,
        status: Status::parse(&status).ok_or_else(|| bad("status", &status))?,
        priority: itv_core::Priority::parse(&priority).ok_or_else(|| bad("priority", &priority))?,
        client_id: r.get(7)?,
        client_name: r.get(8)?,
        assignee_id: r.get(9)?,
        assignee_name: r.get(10)?,
        created_at: parse_ts(&r.get::<_, String>(11)?)?,
        updated_at: parse_ts(&r.get::<_, String>(12)?)?,
        version: r.get(13)?,
        details: serde_json::from_str(&details).map_err(|_| bad("details", &details))?,
        tracking,
    })
}

/// Next number of `prefix` this month: bumped inside the caller's transaction, so two
/// concurrent creations can never share one and a number is never reused.
fn next_ticket(conn: &Connection, prefix: &str, month: &str) -> rusqlite::Result<TicketNumber> {
    let seq: u32 = row(
        conn,
        "INSERT INTO ticket_counters (prefix, month, last) VALUES (?1, ?2, 1)
         ON CONFLICT(prefix, month) DO UPDATE SET last = last + 1 RETURNING last",
        params![prefix, month],
        |r| r.get(0),
    )?;
    Ok(TicketNumber::new(prefix, month, seq))
}

pub fn insert(conn: &Connection, draft: Draft, now: DateTime<Utc>) -> Result<Request, StoreError> {
    let kind = draft.details.kind();
    let ticket_number = match kind.ticket_prefix() {
        Some(prefix) => Some(next_ticket(conn, prefix, &TicketNumber::month_of(now))?.to_string()),
        None => None,
    };
    let request = Request {
        id: new_id(),
        ticket_number,
        title: draft.title,
        description: draft.description,
        site: draft.site,
        status: Status::initial(kind),
        priority: draft.priority,
        client_id: draft.client.id.clone(),
        client_name: draft.client.name.clone(),
        assignee_id: None,
        assignee_name: None,
        created_at: now,
        updated_at: now,
        version: 1,
        details: draft.details,
        tracking: Tracking::default(),
    };
    let deadlines = draft.sla.map(|target| Deadlines::starting(now, target));
    run(
        conn,
        &format!(
            "INSERT INTO requests (kind, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                  NULL, NULL, NULL, NULL, NULL, NULL, NULL, ?17, ?18, ?19, ?20)"
        ),
        params![
            kind.as_str(),
            request.id,
            request.ticket_number,
            request.title,
            request.description,
            request.site,
            request.status.as_str(),
            request.priority.as_str(),
            request.client_id,
            request.client_name,
            request.assignee_id,
            request.assignee_name,
            ts(request.created_at),
            ts(request.updated_at),
            request.version,
            serde_json::to_string(&request.details)?,
            deadlines.map(|d| ts(d.ack.at_risk_from)),
            deadlines.map(|d| ts(d.ack.due)),
            deadlines.map(|d| ts(d.resolve.at_risk_from)),
            deadlines.map(|d| ts(d.resolve.due)),
        ],
    )?;
    let mut request = request;
    request.tracking.sla = deadlines.map(|d| d.sla(None, None, now));
    insert_history(
        conn,
        &request.id,
        &HistoryEntry {
            at: now,
            actor_id: draft.client.id,
            actor_name: draft.client.name,
            action: "created".into(),
            from_status: None,
            to_status: Some(request.status),
            note: None,
            staff_only: false,
        },
    )?;
    Ok(request)
}

/// Writes the decided state; `version` and `updatedAt` move forward here, whatever
/// the update carried, so every change is visible to caches.
pub fn apply_update(
    conn: &Connection,
    before: &Request,
    update: Update,
    now: DateTime<Utc>,
) -> Result<Request, StoreError> {
    let mut after = update.request;
    after.id = before.id.clone();
    after.version = before.version + 1;
    after.updated_at = now.max(before.updated_at + chrono::Duration::microseconds(1));
    let t = &after.tracking;
    run(conn,
        "UPDATE requests SET title = ?2, description = ?3, site = ?4, status = ?5, priority = ?6,
         assignee_id = ?7, assignee_name = ?8, updated_at = ?9, version = ?10, details = ?11,
         acknowledged_at = ?12, acknowledged_by = ?13, acknowledged_by_name = ?14, assigned_at = ?15,
         assignment_acknowledged_at = ?16, en_route_at = ?17, finished_at = ?18 WHERE id = ?1",
        params![
            after.id,
            after.title,
            after.description,
            after.site,
            after.status.as_str(),
            after.priority.as_str(),
            after.assignee_id,
            after.assignee_name,
            ts(after.updated_at),
            after.version,
            serde_json::to_string(&after.details)?,
            t.acknowledged_at.map(ts),
            t.acknowledged_by.as_ref().map(|p| p.id.as_str()),
            t.acknowledged_by.as_ref().map(|p| p.name.as_str()),
            t.assigned_at.map(ts),
            t.assignment_acknowledged_at.map(ts),
            t.en_route_at.map(ts),
            t.finished_at.map(ts),
        ],
    )?;
    // Read back: the service levels as they stand after the change.
    let after = by_id(conn, &before.id, now)?.ok_or(StoreError::NotFound)?;
    insert_history(
        conn,
        &after.id,
        &HistoryEntry {
            at: after.updated_at,
            actor_id: update.history.actor.id,
            actor_name: update.history.actor.name,
            action: update.history.action,
            from_status: Some(before.status).filter(|s| *s != after.status),
            to_status: Some(after.status).filter(|s| *s != before.status),
            note: update.history.note,
            staff_only: update.history.staff_only,
        },
    )?;
    if let Some(quote) = update.quote {
        run(conn,
            "INSERT INTO quotes (request_id, body, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(request_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            params![after.id, serde_json::to_string(&quote)?, ts(after.updated_at)],
        )?;
    }
    Ok(after)
}

fn insert_history(conn: &Connection, request_id: &str, h: &HistoryEntry) -> rusqlite::Result<()> {
    run(conn,
        "INSERT INTO history (request_id, at, actor_id, actor_name, action, from_status, to_status, note, staff_only)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            request_id,
            ts(h.at),
            h.actor_id,
            h.actor_name,
            h.action,
            h.from_status.map(Status::as_str),
            h.to_status.map(Status::as_str),
            h.note,
            h.staff_only,
        ],
    )?;
    Ok(())
}

pub fn by_id(
    conn: &Connection,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Request>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM requests WHERE id = ?1"),
            [id],
            |r| row_request(r, now),
        )
        .optional()?)
}

pub fn history(conn: &Connection, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT at, actor_id, actor_name, action, from_status, to_status, note, staff_only FROM history
         WHERE request_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        let status = |i: usize| -> rusqlite::Result<Option<Status>> {
            Ok(r.get::<_, Option<String>>(i)?
                .as_deref()
                .and_then(Status::parse))
        };
        Ok(HistoryEntry {
            at: parse_ts(&r.get::<_, String>(0)?)?,
            actor_id: r.get(1)?,
            actor_name: r.get(2)?,
            action: r.get(3)?,
            from_status: status(4)?,
            to_status: status(5)?,
            note: r.get(6)?,
            staff_only: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn row_message(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChatMessage> {
    let role: String = r.get(4)?;
    Ok(ChatMessage {
        id: r.get(0)?,
        request_id: r.get(1)?,
        author_id: r.get(2)?,
        author_name: r.get(3)?,
        author_role: Role::parse(&role).ok_or_else(|| bad("role", &role))?,
        body: r.get(5)?,
        created_at: parse_ts(&r.get::<_, String>(6)?)?,
    })
}

const MESSAGE_COLUMNS: &str =
    "id, request_id, author_id, author_name, author_role, body, created_at";

pub fn insert_message(conn: &Connection, m: &ChatMessage) -> rusqlite::Result<()> {
    run(
        conn,
        &format!("INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            m.id,
            m.request_id,
            m.author_id,
            m.author_name,
            m.author_role.as_str(),
            m.body,
            ts(m.created_at)
        ],
    )?;
    Ok(())
}

pub fn messages(conn: &Connection, request_id: &str) -> Result<Vec<ChatMessage>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE request_id = ?1 ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map([request_id], row_message)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn message(conn: &Connection, id: &str) -> Result<Option<ChatMessage>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"),
            [id],
            row_message,
        )
        .optional()?)
}

pub fn quote(conn: &Connection, request_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM quotes WHERE request_id = ?1",
            [request_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
}

pub fn of_client(
    conn: &Connection,
    client_id: &str,
    kind: RequestKind,
    (page, limit): (u32, u32),
    now: DateTime<Utc>,
) -> Result<(Vec<Request>, u64), StoreError> {
    let total: u64 = row(
        conn,
        "SELECT COUNT(*) FROM requests WHERE client_id = ?1 AND kind = ?2",
        params![client_id, kind.as_str()],
        |r| r.get(0),
    )?;
    let offset = u64::from(page.saturating_sub(1)) * u64::from(limit);
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM requests WHERE client_id = ?1 AND kind = ?2
         ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(params![client_id, kind.as_str(), limit, offset], |r| {
        row_request(r, now)
    })?;
    Ok((rows.collect::<Result<_, _>>()?, total))
}

/// Interventions still running that are held to service levels, with the keys of the
/// alerts each has raised.
pub fn alert_candidates(
    conn: &Connection,
    now: DateTime<Utc>,
) -> Result<Vec<(Request, Vec<String>)>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM requests WHERE kind = 'intervention' AND finished_at IS NULL
         AND ack_due_at IS NOT NULL AND status NOT IN ('resolved', 'closed', 'cancelled')"
    ))?;
    let running: Vec<Request> = stmt
        .query_map([], |r| row_request(r, now))?
        .collect::<Result<_, _>>()?;
    let mut keys = conn.prepare_cached("SELECT key FROM alerts WHERE request_id = ?1")?;
    running
        .into_iter()
        .map(|r| {
            let raised = keys
                .query_map([&r.id], |row| row.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok((r, raised))
        })
        .collect()
}

/// Records that `request_id` raised the alert `key`; false if it had already.
pub fn record_alert(
    conn: &Connection,
    request_id: &str,
    key: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let added = run(
        conn,
        "INSERT INTO alerts (request_id, key, at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        params![request_id, key, ts(at)],
    )?;
    Ok(added == 1)
}

/// Turns what a user typed into an FTS5 query: every word must match as a prefix,
/// and nothing they type is read as FTS syntax.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

pub fn query(
    conn: &Connection,
    q: &RequestQuery,
    now: DateTime<Utc>,
) -> Result<RequestPage, StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    let mut arg = |clause: &str, value: Box<dyn ToSql>, clauses: &mut Vec<String>| {
        args.push(value);
        clauses.push(
            clause
                .replace("?N", "?")
                .replace('?', &format!("?{}", args.len())),
        );
    };
    match &q.scope {
        Scope::All => {}
        Scope::Client(id) => arg("client_id = ?", Box::new(id.clone()), &mut clauses),
        Scope::Technician(id) => {
            clauses.push("kind = 'intervention'".into());
            arg(
                "(status = 'open' OR assignee_id = ?)",
                Box::new(id.clone()),
                &mut clauses,
            );
        }
    }
    if let Some(kind) = q.kind {
        arg("kind = ?", Box::new(kind.as_str()), &mut clauses);
    }
    if let Some(status) = q.status {
        arg("status = ?", Box::new(status.as_str()), &mut clauses);
    }
    if let Some(priority) = q.priority {
        arg("priority = ?", Box::new(priority.as_str()), &mut clauses);
    }
    if let Some(assignee) = &q.assignee {
        arg("assignee_id = ?", Box::new(assignee.clone()), &mut clauses);
    }
    if let Some(since) = q.updated_since {
        arg("updated_at >= ?", Box::new(ts(since)), &mut clauses);
    }
    match q.sla {
        Some(SlaState::Breached) => arg(SLA_BREACHED, Box::new(ts(now)), &mut clauses),
        Some(SlaState::AtRisk) => arg(SLA_AT_RISK, Box::new(ts(now)), &mut clauses),
        _ => {}
    }
    if let Some(text) = q.text.as_deref().and_then(fts_query) {
        arg(
            "rowid IN (SELECT rowid FROM requests_fts WHERE requests_fts MATCH ?)",
            Box::new(text),
            &mut clauses,
        );
    }
    // The count of the whole list, on its first page only: progress bars need it once.
    let total: Option<u64> = if q.cursor.is_none() {
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let params: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
        Some(row(
            conn,
            &format!("SELECT COUNT(*) FROM requests {filter}"),
            params.as_slice(),
            |r| r.get(0),
        )?)
    } else {
        None
    };
    // The sort key and its cursor: the last change, or the next due time.
    let (key, order, after) = match q.sort {
        ListSort::Updated => ("updated_at", "DESC", "<"),
        ListSort::Due => (NEXT_DUE, "ASC", ">"),
    };
    if let Some(c) = &q.cursor {
        args.push(Box::new(c.at.clone()));
        args.push(Box::new(c.id.clone()));
        let (a, b) = (args.len() - 1, args.len());
        clauses.push(format!(
            "(({key}) {after} ?{a} OR (({key}) = ?{a} AND id {after} ?{b}))"
        ));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let limit = q.limit.clamp(1, 500);
    let sql = format!(
        "SELECT {COLUMNS}, {key} FROM requests {filter} ORDER BY {key} {order}, id {order} LIMIT {}",
        limit + 1
    );
    let mut stmt = conn.prepare(&sql)?;
    let params: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
    let mut rows: Vec<(Request, String)> = stmt
        .query_map(params.as_slice(), |r| {
            Ok((row_request(r, now)?, r.get(SORT_KEY_COLUMN)?))
        })?
        .collect::<Result<_, _>>()?;
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|(r, key)| Cursor {
            at: key.clone(),
            id: r.id.clone(),
        })
    } else {
        None
    };
    Ok(RequestPage {
        requests: rows.into_iter().map(|(r, _)| r).collect(),
        next,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn user_text_never_becomes_fts_syntax() {
        assert_eq!(
            fts_query("INT-202511-0001").unwrap(),
            "\"INT\"* \"202511\"* \"0001\"*"
        );
        assert_eq!(
            fts_query("caméra OR \"x").unwrap(),
            "\"caméra\"* \"OR\"* \"x\"*"
        );
        assert_eq!(fts_query("  -- "), None);
    }
}
