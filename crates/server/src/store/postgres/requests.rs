//! The `requests` table on PostgreSQL, with its ticket counters, history, chat and
//! quotes. The queries mirror `store/sqlite/requests.rs`; what differs is said here.

use chrono::{DateTime, Utc};
use itv_core::request::{ChatMessage, HistoryEntry, Person, Tracking};
use itv_core::sla::{Deadline, Deadlines, SlaState};
use itv_core::ticket::TicketNumber;
use itv_core::{Request, RequestKind, Role, Status};
use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use super::new_id;
use crate::store::{
    Cursor, Draft, ListSort, RequestPage, RequestQuery, Scope, StoreError, Update, ts,
};

pub(super) const COLUMNS: &str = "id, ticket_number, title, description, site, status, priority, client_id, client_name, \
     assignee_id, assignee_name, created_at, updated_at, version, details, \
     acknowledged_at, acknowledged_by, acknowledged_by_name, assigned_at, assignment_acknowledged_at, \
     en_route_at, finished_at, ack_risk_at, ack_due_at, resolve_risk_at, resolve_due_at";

/// Where the sort key follows the columns in a list query.
const SORT_KEY_COLUMN: usize = 26;

/// The due time `sort=due` orders by (`Deadlines::next_due`); none sorts last.
const NEXT_DUE: &str = "CASE WHEN ack_due_at IS NULL OR finished_at IS NOT NULL THEN '9999-12-31T23:59:59.999999Z'::timestamptz \
     WHEN acknowledged_at IS NULL THEN LEAST(ack_due_at, resolve_due_at) ELSE resolve_due_at END";

/// `sla=breached` and `sla=at_risk`, as on SQLite; `$N` is now.
const SLA_BREACHED: &str = "((ack_due_at IS NOT NULL AND (COALESCE(acknowledged_at, finished_at) > ack_due_at \
     OR (COALESCE(acknowledged_at, finished_at) IS NULL AND ack_due_at < $N))) \
     OR (resolve_due_at IS NOT NULL AND (finished_at > resolve_due_at \
     OR (finished_at IS NULL AND resolve_due_at < $N))))";
const SLA_AT_RISK: &str = "((COALESCE(acknowledged_at, finished_at) IS NULL AND ack_risk_at < $N AND ack_due_at >= $N) \
     OR (finished_at IS NULL AND resolve_risk_at < $N AND resolve_due_at >= $N))";

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Io(format!("stored {what} {value} is unknown"))
}

fn row_deadlines(r: &Row) -> Option<Deadlines> {
    let deadline = |risk: usize, due: usize| -> Option<Deadline> {
        Some(Deadline {
            at_risk_from: r.get::<_, Option<DateTime<Utc>>>(risk)?,
            due: r.get::<_, Option<DateTime<Utc>>>(due)?,
        })
    };
    Some(Deadlines {
        ack: deadline(22, 23)?,
        resolve: deadline(24, 25)?,
    })
}

/// A request as stored, its service levels as they stand at `now`.
pub(super) fn row_request(r: &Row, now: DateTime<Utc>) -> Result<Request, StoreError> {
    let status: &str = r.get(5);
    let priority: &str = r.get(6);
    let acknowledged_by = match (
        r.get::<_, Option<String>>(16),
        r.get::<_, Option<String>>(17),
    ) {
        (Some(id), Some(name)) => Some(Person { id, name }),
        _ => None,
    };
    let mut tracking = Tracking {
        acknowledged_at: r.get(15),
        acknowledged_by,
        assigned_at: r.get(18),
        assignment_acknowledged_at: r.get(19),
        en_route_at: r.get(20),
        finished_at: r.get(21),
        sla: None,
    };
    tracking.sla =
        row_deadlines(r).map(|d| d.sla(tracking.acknowledged_at, tracking.finished_at, now));
    Ok(Request {
        id: r.get(0),
        ticket_number: r.get(1),
        title: r.get(2),
        description: r.get(3),
        site: r.get(4),
        status: Status::parse(status).ok_or_else(|| bad("status", status))?,
        priority: itv_core::Priority::parse(priority).ok_or_else(|| bad("priority", priority))?,
        client_id: r.get(7),
        client_name: r.get(8),
        assignee_id: r.get(9),
        assignee_name: r.get(10),
        created_at: r.get(11),
        updated_at: r.get(12),
        version: r.get(13),
        details: serde_json::from_value(r.get(14))?,
        tracking,
    })
}

/// Next number of `prefix` this month. The upsert locks the counter's row until the
/// transaction ends, so concurrent creations, on any instance, take turns.
fn next_ticket(
    c: &mut impl GenericClient,
    prefix: &str,
    month: &str,
) -> Result<TicketNumber, StoreError> {
    let last: i32 = c
        .query_one(
            "INSERT INTO ticket_counters (prefix, month, last) VALUES ($1, $2, 1)
             ON CONFLICT (prefix, month) DO UPDATE SET last = ticket_counters.last + 1 RETURNING last",
            &[&prefix, &month],
        )?
        .get(0);
    Ok(TicketNumber::new(prefix, month, last as u32))
}

pub fn insert(
    c: &mut impl GenericClient,
    draft: Draft,
    now: DateTime<Utc>,
) -> Result<Request, StoreError> {
    let kind = draft.details.kind();
    let ticket_number = match kind.ticket_prefix() {
        Some(prefix) => Some(next_ticket(c, prefix, &TicketNumber::month_of(now))?.to_string()),
        None => None,
    };
    let mut request = Request {
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
    // The row and its first history line (the client created it, in its first status)
    // in one statement: one round trip fewer while the ticket counter's row is held.
    c.execute(
        &format!(
            "WITH created AS (
                 INSERT INTO requests (kind, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                     NULL, NULL, NULL, NULL, NULL, NULL, NULL, $17, $18, $19, $20)
                 RETURNING id, created_at, client_id, client_name, status)
             INSERT INTO history (request_id, at, actor_id, actor_name, action, to_status, staff_only)
             SELECT id, created_at, client_id, client_name, 'created', status, FALSE FROM created"
        ),
        &[
            &kind.as_str(),
            &request.id,
            &request.ticket_number,
            &request.title,
            &request.description,
            &request.site,
            &request.status.as_str(),
            &request.priority.as_str(),
            &request.client_id,
            &request.client_name,
            &request.assignee_id,
            &request.assignee_name,
            &request.created_at,
            &request.updated_at,
            &request.version,
            &serde_json::to_value(&request.details)?,
            &deadlines.map(|d| d.ack.at_risk_from),
            &deadlines.map(|d| d.ack.due),
            &deadlines.map(|d| d.resolve.at_risk_from),
            &deadlines.map(|d| d.resolve.due),
        ],
    )?;
    request.tracking.sla = deadlines.map(|d| d.sla(None, None, now));
    Ok(request)
}

/// Writes the decided state; `version` and `updatedAt` move forward here.
pub fn apply_update(
    c: &mut impl GenericClient,
    before: &Request,
    update: Update,
    now: DateTime<Utc>,
) -> Result<Request, StoreError> {
    let mut after = update.request;
    after.id = before.id.clone();
    after.version = before.version + 1;
    after.updated_at = now.max(before.updated_at + chrono::Duration::microseconds(1));
    let t = &after.tracking;
    c.execute(
        "UPDATE requests SET title = $2, description = $3, site = $4, status = $5, priority = $6,
         assignee_id = $7, assignee_name = $8, updated_at = $9, version = $10, details = $11,
         acknowledged_at = $12, acknowledged_by = $13, acknowledged_by_name = $14, assigned_at = $15,
         assignment_acknowledged_at = $16, en_route_at = $17, finished_at = $18 WHERE id = $1",
        &[
            &after.id,
            &after.title,
            &after.description,
            &after.site,
            &after.status.as_str(),
            &after.priority.as_str(),
            &after.assignee_id,
            &after.assignee_name,
            &after.updated_at,
            &after.version,
            &serde_json::to_value(&after.details)?,
            &t.acknowledged_at,
            &t.acknowledged_by.as_ref().map(|p| p.id.as_str()),
            &t.acknowledged_by.as_ref().map(|p| p.name.as_str()),
            &t.assigned_at,
            &t.assignment_acknowledged_at,
            &t.en_route_at,
            &t.finished_at,
        ],
    )?;
    let after = by_id(c, &before.id, now)?.ok_or(StoreError::NotFound)?;
    insert_history(
        c,
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
        c.execute(
            "INSERT INTO quotes (request_id, body, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (request_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            &[&after.id, &quote, &after.updated_at],
        )?;
    }
    Ok(after)
}

fn insert_history(
    c: &mut impl GenericClient,
    request_id: &str,
    h: &HistoryEntry,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO history (request_id, at, actor_id, actor_name, action, from_status, to_status, note, staff_only)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &request_id,
            &h.at,
            &h.actor_id,
            &h.actor_name,
            &h.action,
            &h.from_status.map(Status::as_str),
            &h.to_status.map(Status::as_str),
            &h.note,
            &h.staff_only,
        ],
    )?;
    Ok(())
}

pub fn by_id(
    c: &mut impl GenericClient,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Request>, StoreError> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM requests WHERE id = $1"),
        &[&id],
    )?
    .map(|r| row_request(&r, now))
    .transpose()
}

/// The request, its row locked until the transaction ends: what SQLite's single writer
/// gives for free, two changes to one request on two instances must ask for.
pub fn by_id_for_update(
    c: &mut impl GenericClient,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Request>, StoreError> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM requests WHERE id = $1 FOR UPDATE"),
        &[&id],
    )?
    .map(|r| row_request(&r, now))
    .transpose()
}

pub fn history(c: &mut impl GenericClient, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    let rows = c.query(
        "SELECT at, actor_id, actor_name, action, from_status, to_status, note, staff_only FROM history
         WHERE request_id = $1 ORDER BY id",
        &[&id],
    )?;
    Ok(rows
        .iter()
        .map(|r| HistoryEntry {
            at: r.get(0),
            actor_id: r.get(1),
            actor_name: r.get(2),
            action: r.get(3),
            from_status: r.get::<_, Option<&str>>(4).and_then(Status::parse),
            to_status: r.get::<_, Option<&str>>(5).and_then(Status::parse),
            note: r.get(6),
            staff_only: r.get(7),
        })
        .collect())
}

const MESSAGE_COLUMNS: &str =
    "id, request_id, author_id, author_name, author_role, body, created_at";

fn row_message(r: &Row) -> Result<ChatMessage, StoreError> {
    let role: &str = r.get(4);
    Ok(ChatMessage {
        id: r.get(0),
        request_id: r.get(1),
        author_id: r.get(2),
        author_name: r.get(3),
        author_role: Role::parse(role).ok_or_else(|| bad("role", role))?,
        body: r.get(5),
        created_at: r.get(6),
    })
}

pub fn insert_message(c: &mut impl GenericClient, m: &ChatMessage) -> Result<(), StoreError> {
    c.execute(
        &format!("INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        &[
            &m.id,
            &m.request_id,
            &m.author_id,
            &m.author_name,
            &m.author_role.as_str(),
            &m.body,
            &m.created_at,
        ],
    )?;
    Ok(())
}

pub fn messages(
    c: &mut impl GenericClient,
    request_id: &str,
) -> Result<Vec<ChatMessage>, StoreError> {
    c.query(
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE request_id = $1 ORDER BY created_at, id"
        ),
        &[&request_id],
    )?
    .iter()
    .map(row_message)
    .collect()
}

pub fn message(c: &mut impl GenericClient, id: &str) -> Result<Option<ChatMessage>, StoreError> {
    c.query_opt(
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1"),
        &[&id],
    )?
    .map(|r| row_message(&r))
    .transpose()
}

pub fn quote(
    c: &mut impl GenericClient,
    request_id: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    Ok(c.query_opt(
        "SELECT body FROM quotes WHERE request_id = $1",
        &[&request_id],
    )?
    .map(|r| r.get(0)))
}

pub fn of_client(
    c: &mut impl GenericClient,
    client_id: &str,
    kind: RequestKind,
    (page, limit): (u32, u32),
    now: DateTime<Utc>,
) -> Result<(Vec<Request>, u64), StoreError> {
    let total: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM requests WHERE client_id = $1 AND kind = $2",
            &[&client_id, &kind.as_str()],
        )?
        .get(0);
    let offset = i64::from(page.saturating_sub(1)) * i64::from(limit);
    let rows = c.query(
        &format!(
            "SELECT {COLUMNS} FROM requests WHERE client_id = $1 AND kind = $2
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        ),
        &[&client_id, &kind.as_str(), &i64::from(limit), &offset],
    )?;
    let requests = rows
        .iter()
        .map(|r| row_request(r, now))
        .collect::<Result<_, _>>()?;
    Ok((requests, total as u64))
}

/// Interventions still running that are held to service levels, with the keys of the
/// alerts each has raised (read in one query).
pub fn alert_candidates(
    c: &mut impl GenericClient,
    now: DateTime<Utc>,
) -> Result<Vec<(Request, Vec<String>)>, StoreError> {
    let rows = c.query(
        &format!(
            "SELECT {COLUMNS}, ARRAY(SELECT key FROM alerts a WHERE a.request_id = requests.id)
             FROM requests WHERE kind = 'intervention' AND finished_at IS NULL
             AND ack_due_at IS NOT NULL AND status NOT IN ('resolved', 'closed', 'cancelled')"
        ),
        &[],
    )?;
    rows.iter()
        .map(|r| Ok((row_request(r, now)?, r.get(SORT_KEY_COLUMN))))
        .collect()
}

/// Records that `request_id` raised the alert `key`; false if it had already (here or
/// on another instance: the second insert waits for the first to commit, then skips).
pub fn record_alert(
    c: &mut impl GenericClient,
    request_id: &str,
    key: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "INSERT INTO alerts (request_id, key, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[&request_id, &key, &at],
    )? == 1)
}

/// What a user typed as a `tsquery`: every word must match as a prefix, and nothing
/// they type is read as query syntax (words are letters and digits only).
pub fn ts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("{w}:*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

type Param = Box<dyn ToSql + Sync>;

/// Filters with their parameters, numbered as they are added.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    args: Vec<Param>,
}

impl Filter {
    /// Adds `clause`, whose every `$N` stands for `value`.
    fn with(&mut self, clause: &str, value: Param) {
        self.args.push(value);
        self.clauses
            .push(clause.replace("$N", &format!("${}", self.args.len())));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args.iter().map(|b| b.as_ref()).collect()
    }
}

fn cursor_at(c: &Cursor) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(&c.at)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| StoreError::Io(format!("cursor: {e}")))
}

pub fn query(
    c: &mut impl GenericClient,
    q: &RequestQuery,
    now: DateTime<Utc>,
) -> Result<RequestPage, StoreError> {
    let mut f = Filter::default();
    match &q.scope {
        Scope::All => {}
        Scope::Client(id) => f.with("client_id = $N", Box::new(id.clone())),
        Scope::Technician(id) => {
            f.clauses.push("kind = 'intervention'".into());
            f.with(
                "(status = 'open' OR assignee_id = $N)",
                Box::new(id.clone()),
            );
        }
    }
    if let Some(kind) = q.kind {
        f.with("kind = $N", Box::new(kind.as_str()));
    }
    if let Some(status) = q.status {
        f.with("status = $N", Box::new(status.as_str()));
    }
    if let Some(priority) = q.priority {
        f.with("priority = $N", Box::new(priority.as_str()));
    }
    if let Some(assignee) = &q.assignee {
        f.with("assignee_id = $N", Box::new(assignee.clone()));
    }
    if let Some(since) = q.updated_since {
        f.with("updated_at >= $N", Box::new(since));
    }
    match q.sla {
        Some(SlaState::Breached) => f.with(SLA_BREACHED, Box::new(now)),
        Some(SlaState::AtRisk) => f.with(SLA_AT_RISK, Box::new(now)),
        _ => {}
    }
    if let Some(text) = q.text.as_deref().and_then(ts_query) {
        // Unstemmed prefixes, or the French stems' prefixes (« caméras » finds « caméra »).
        f.with(
            "(search @@ to_tsquery('simple', itv_unaccent($N)) OR search @@ to_tsquery('french', itv_unaccent($N)))",
            Box::new(text),
        );
    }
    let total = match q.cursor {
        None => {
            let n: i64 = c
                .query_one(
                    &format!("SELECT COUNT(*) FROM requests {}", f.sql()),
                    &f.params(),
                )?
                .get(0);
            Some(n as u64)
        }
        Some(_) => None,
    };
    let (key, order, after) = match q.sort {
        ListSort::Updated => ("updated_at", "DESC", "<"),
        ListSort::Due => (NEXT_DUE, "ASC", ">"),
    };
    if let Some(cursor) = &q.cursor {
        f.args.push(Box::new(cursor_at(cursor)?));
        f.args.push(Box::new(cursor.id.clone()));
        let (a, b) = (f.args.len() - 1, f.args.len());
        f.clauses.push(format!(
            "(({key}) {after} ${a} OR (({key}) = ${a} AND id {after} ${b}))"
        ));
    }
    let limit = q.limit.clamp(1, 500);
    let rows = c.query(
        &format!(
            "SELECT {COLUMNS}, {key} FROM requests {} ORDER BY {key} {order}, id {order} LIMIT {}",
            f.sql(),
            limit + 1
        ),
        &f.params(),
    )?;
    let mut page: Vec<(Request, DateTime<Utc>)> = rows
        .iter()
        .map(|r| Ok((row_request(r, now)?, r.get(SORT_KEY_COLUMN))))
        .collect::<Result<_, StoreError>>()?;
    let next = if page.len() > limit as usize {
        page.truncate(limit as usize);
        page.last().map(|(r, key)| Cursor {
            at: ts(*key),
            id: r.id.clone(),
        })
    } else {
        None
    };
    Ok(RequestPage {
        requests: page.into_iter().map(|(r, _)| r).collect(),
        next,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::ts_query;

    #[test]
    fn user_text_never_becomes_query_syntax() {
        assert_eq!(
            ts_query("INT-202511-0001").unwrap(),
            "INT:* & 202511:* & 0001:*"
        );
        assert_eq!(
            ts_query("caméra | !x & (y)").unwrap(),
            "caméra:* & x:* & y:*"
        );
        assert_eq!(ts_query("  -- "), None);
    }
}
