//! The `requests` table (plus `messages`, `history` and the FTS index): versioned
//! upserts, the inbox query for a virtual list, full-text search, unread marks.

use std::rc::Rc;

use rusqlite::types::{ToSql, Value};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::Cache;
use crate::error::{Error, Result};
use crate::ownership::{Timers, format_ms};
use crate::quote::QuoteDoc;
use crate::types::{
    ChatMessage, HistoryEntry, InboxItem, InboxPage, InboxQuery, InboxSort, Priority, Request,
    RequestKind, is_terminal_status,
};

const ITEM_COLUMNS: &str = "r.id, r.kind, r.ticket_number, r.title, r.site, r.client_name, \
     r.status, r.priority, r.assignee_id, r.assignee_name, r.updated_at, r.unread, \
     r.created_at, r.active, r.acknowledged_by_name, r.acknowledged_ms, r.finished_ms, \
     r.ack_due_ms, r.resolve_due_ms";

/// `due_ms` of a request with no deadline to meet: sorts last.
const NO_DUE: i64 = i64::MAX;

/// Default and maximum page size of an inbox window.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// Up to this many text matches, an inbox window reads them by rowid (≈ 2 µs each); above,
/// it walks its order's index (≈ 3 ms for the whole 100k-row index at worst).
const LOOKUP_MATCHES: usize = 1000;

/// How many of the newest matches a full-text search ranks (the rowid grows as requests
/// are first cached, so these are the most recently arrived).
const SEARCH_CANDIDATES: u32 = 200;

/// Inserts or updates `r` when it is new or newer than the cached version.
/// Returns whether the cached copy changed. `generation` marks it as seen by a full sync.
pub(crate) fn upsert(
    tx: &Transaction<'_>,
    r: &Request,
    mark_unread: bool,
    generation: Option<i64>,
) -> Result<bool> {
    // Prepared once per connection: a full sync runs these for every row, and parsing the
    // statement cost more than running it.
    let stored: Option<i64> = tx
        .prepare_cached("SELECT version FROM requests WHERE id = ?1")?
        .query_row([&r.id], |row| row.get(0))
        .optional()?;
    if let Some(v) = stored
        && v >= r.version
    {
        if let Some(g) = generation {
            tx.prepare_cached("UPDATE requests SET sync_gen = ?2 WHERE id = ?1")?
                .execute(params![r.id, g])?;
        }
        return Ok(false);
    }
    let active = !r.is_terminal();
    let pinned = r.priority == Priority::Urgent && active;
    let raw = serde_json::to_string(r)?;
    let timers = Timers::of(r);
    tx.prepare_cached(
        "INSERT INTO requests(id, kind, ticket_number, title, description, site, status, priority,
            pinned, client_name, assignee_id, assignee_name, created_at, updated_at, version, raw,
            unread, sync_gen, active, priority_rank, acknowledged_by_name, acknowledged_ms,
            finished_ms, ack_due_ms, resolve_due_ms, due_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, ticket_number = excluded.ticket_number,
            title = excluded.title, description = excluded.description, site = excluded.site,
            status = excluded.status, priority = excluded.priority, pinned = excluded.pinned,
            active = excluded.active, priority_rank = excluded.priority_rank,
            client_name = excluded.client_name, assignee_id = excluded.assignee_id,
            assignee_name = excluded.assignee_name, created_at = excluded.created_at,
            updated_at = excluded.updated_at, version = excluded.version, raw = excluded.raw,
            unread = MAX(requests.unread, excluded.unread),
            sync_gen = MAX(requests.sync_gen, excluded.sync_gen),
            acknowledged_by_name = excluded.acknowledged_by_name,
            acknowledged_ms = excluded.acknowledged_ms, finished_ms = excluded.finished_ms,
            ack_due_ms = excluded.ack_due_ms, resolve_due_ms = excluded.resolve_due_ms,
            due_ms = excluded.due_ms",
    )?
    .execute(params![
        r.id,
        r.kind.as_str(),
        r.ticket_number,
        r.title,
        r.description,
        r.site,
        r.status,
        r.priority.as_str(),
        pinned,
        r.client_name,
        r.assignee_id,
        r.assignee_name,
        r.created_at,
        r.updated_at,
        r.version,
        raw,
        mark_unread,
        generation.unwrap_or(0),
        active,
        r.priority.rank(),
        r.tracking.acknowledged_by.as_ref().map(|p| p.name.as_str()),
        timers.acknowledged,
        timers.finished,
        timers.ack_due,
        timers.resolve_due,
        timers.next_due(active).unwrap_or(NO_DUE),
    ])?;
    Ok(true)
}

/// The stored JSON of a request's quote, if any.
fn quote_raw(conn: &Connection, request_id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT raw FROM quotes WHERE request_id = ?1",
            [request_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Replaces (or, with `None`, removes) the cached quote; returns whether it changed.
fn store_quote(tx: &Transaction<'_>, request_id: &str, quote: Option<&QuoteDoc>) -> Result<bool> {
    let old = quote_raw(tx, request_id)?;
    let new = quote.map(serde_json::to_string).transpose()?;
    if old == new {
        return Ok(false);
    }
    match &new {
        Some(raw) => tx.execute(
            "INSERT INTO quotes(request_id, raw) VALUES (?1, ?2)
             ON CONFLICT(request_id) DO UPDATE SET raw = excluded.raw",
            params![request_id, raw],
        )?,
        None => tx.execute("DELETE FROM quotes WHERE request_id = ?1", [request_id])?,
    };
    Ok(true)
}

/// The `WHERE` clause of an inbox query, built clause by clause, and its arguments.
#[derive(Default)]
pub(crate) struct Filter {
    clauses: Vec<&'static str>,
    args: Vec<Box<dyn ToSql>>,
}

impl Filter {
    fn push(&mut self, clause: &'static str, args: Vec<Box<dyn ToSql>>) {
        self.clauses.push(clause);
        self.args.extend(args);
    }

    fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub(crate) fn params(&self) -> Vec<&dyn ToSql> {
        self.args.iter().map(|a| a.as_ref()).collect()
    }
}

/// The filters of an inbox query but its text, which `Cache::inbox_at` matches once and
/// passes as a list of rowids; `now` in unix ms.
pub(crate) fn inbox_filter(q: &InboxQuery, me: Option<&str>, now: i64) -> Filter {
    let mut f = Filter::default();
    if let Some(k) = q.kind {
        f.push("r.kind = ?", vec![Box::new(k.as_str())]);
    }
    if let Some(s) = &q.status {
        f.push("r.status = ?", vec![Box::new(s.clone())]);
    }
    if let Some(p) = q.priority {
        f.push("r.priority = ?", vec![Box::new(p.as_str())]);
    }
    if q.assigned_to_me {
        f.push(
            "r.assignee_id = ?",
            vec![Box::new(me.unwrap_or_default().to_owned())],
        );
    }
    if q.unread_only {
        f.push("r.unread = 1", Vec::new());
    }
    if q.active_only {
        f.push("r.active = 1", Vec::new());
    }
    if q.overdue_only {
        // A target missed: taken late or not yet taken past its due time, or not resolved
        // past its due time. `ack_due_ms IS NOT NULL` lets the partial index serve it.
        f.push(
            "r.active = 1 AND r.ack_due_ms IS NOT NULL \
             AND (r.ack_due_ms < COALESCE(r.acknowledged_ms, ?) OR r.resolve_due_ms < ?)",
            vec![Box::new(now), Box::new(now)],
        );
    }
    f
}

/// The `ORDER BY` of an inbox query: active urgent first, then the chosen order
/// (each one matches an index of migration 3).
pub(crate) fn inbox_order(sort: InboxSort) -> &'static str {
    match sort {
        InboxSort::Updated => "r.pinned DESC, r.updated_at DESC, r.id DESC",
        InboxSort::Newest => "r.pinned DESC, r.created_at DESC, r.id DESC",
        InboxSort::Oldest => "r.pinned DESC, r.created_at, r.id",
        // itv_core's rank: urgent 0 … low 3.
        InboxSort::Priority => "r.pinned DESC, r.priority_rank, r.updated_at DESC, r.id DESC",
        // Migration 5's index: the deadline still to meet, overdue first, none last.
        InboxSort::Due => "r.pinned DESC, r.due_ms, r.id",
    }
}

/// Migration 5: fills the tracking columns of rows cached before they existed. Only rows
/// whose stored JSON has timers can have any (an older build kept the server's unknown
/// fields verbatim), so the others are not parsed.
pub(crate) fn backfill_tracking_columns(tx: &Transaction<'_>) -> Result<()> {
    let rows: Vec<String> = tx
        .prepare("SELECT raw FROM requests WHERE kind = 'intervention' AND raw LIKE '%\"sla\":{%'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx.prepare(
        "UPDATE requests SET acknowledged_by_name = ?2, acknowledged_ms = ?3, finished_ms = ?4,
            ack_due_ms = ?5, resolve_due_ms = ?6, due_ms = ?7 WHERE id = ?1",
    )?;
    for raw in rows {
        let Ok(r) = serde_json::from_str::<Request>(&raw) else {
            continue;
        };
        let t = Timers::of(&r);
        update.execute(params![
            r.id,
            r.tracking.acknowledged_by.as_ref().map(|p| p.name.as_str()),
            t.acknowledged,
            t.finished,
            t.ack_due,
            t.resolve_due,
            t.next_due(!r.is_terminal()).unwrap_or(NO_DUE),
        ])?;
    }
    Ok(())
}

/// Migration 3: fills `active` and `priority_rank` for rows cached before they existed.
pub(crate) fn backfill_order_columns(tx: &Transaction<'_>) -> Result<()> {
    let rows: Vec<(String, String, String)> = tx
        .prepare("SELECT id, status, priority FROM requests")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update =
        tx.prepare("UPDATE requests SET active = ?2, priority_rank = ?3 WHERE id = ?1")?;
    for (id, status, priority) in rows {
        let rank = parse_priority(&priority).rank();
        update.execute(params![id, !is_terminal_status(&status), rank])?;
    }
    Ok(())
}

pub(crate) fn exists(tx: &Transaction<'_>, id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM requests WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(crate) fn remove(tx: &Transaction<'_>, id: &str) -> Result<bool> {
    tx.execute("DELETE FROM messages WHERE request_id = ?1", [id])?;
    tx.execute("DELETE FROM quotes WHERE request_id = ?1", [id])?;
    tx.execute("DELETE FROM history WHERE request_id = ?1", [id])?;
    Ok(tx.execute("DELETE FROM requests WHERE id = ?1", [id])? > 0)
}

pub(crate) fn mark_unread(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute("UPDATE requests SET unread = 1 WHERE id = ?1", [id])?;
    Ok(())
}

/// Deletes requests not seen by the full sync `generation`; returns their ids.
pub(crate) fn sweep(tx: &Transaction<'_>, generation: i64) -> Result<Vec<String>> {
    let mut stmt = tx.prepare("SELECT id FROM requests WHERE sync_gen < ?1")?;
    let gone: Vec<String> = stmt
        .query_map([generation], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    tx.execute("DELETE FROM requests WHERE sync_gen < ?1", [generation])?;
    Ok(gone)
}

/// Turns user input into a safe FTS5 query: every word must match, as a prefix.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|t| t.replace('"', ""))
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{t}\"*"))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

/// One inbox row; its timers' states are computed for `now` (unix ms).
fn item(row: &Row<'_>, now: i64) -> rusqlite::Result<InboxItem> {
    let kind: String = row.get(1)?;
    let priority: String = row.get(7)?;
    let created_at: String = row.get(12)?;
    let active: bool = row.get(13)?;
    let timers = Timers {
        created: crate::ownership::parse_ms(&created_at),
        acknowledged: row.get(15)?,
        finished: row.get(16)?,
        ack_due: row.get(17)?,
        resolve_due: row.get(18)?,
    };
    Ok(InboxItem {
        id: row.get(0)?,
        kind: parse_kind(&kind),
        ticket_number: row.get(2)?,
        title: row.get(3)?,
        site: row.get(4)?,
        client_name: row.get(5)?,
        status: row.get(6)?,
        priority: parse_priority(&priority),
        assignee_id: row.get(8)?,
        assignee_name: row.get(9)?,
        created_at,
        updated_at: row.get(10)?,
        unread: row.get(11)?,
        acknowledged_by_name: row.get(14)?,
        acknowledged_at: timers.acknowledged.map(format_ms),
        sla: timers.sla_at(now),
        due_at: timers.next_due(active).map(format_ms),
    })
}

/// The cache only holds what the server sent; an unknown word (a newer server) reads as
/// the most common value rather than failing the whole inbox.
fn parse_kind(s: &str) -> RequestKind {
    RequestKind::parse(s).unwrap_or(RequestKind::Intervention)
}

fn parse_priority(s: &str) -> Priority {
    Priority::parse(s).unwrap_or(Priority::Medium)
}

impl Cache {
    /// One window of the inbox: filters, active urgent first, then the chosen order.
    pub fn inbox(&self, q: &InboxQuery, me: Option<&str>) -> Result<InboxPage> {
        self.inbox_at(q, me, chrono::Utc::now().timestamp_millis())
    }

    /// `inbox` as of `now` (unix ms): *En retard* and the timers' states depend on it.
    pub fn inbox_at(&self, q: &InboxQuery, me: Option<&str>, now: i64) -> Result<InboxPage> {
        let mut filter = inbox_filter(q, me, now);
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
        // The text is matched once, for the count and the window both: a common word
        // matches thousands of rows, and matching it twice was most of a window's time.
        let matches = match q.text.as_deref().and_then(fts_query) {
            Some(text) => Some(self.text_matches(&text)?),
            None => None,
        };
        let text_only = filter.is_empty();
        if let Some(m) = &matches {
            // Few matches are read by rowid. Many are found by walking the order's index and
            // keeping those in the list (`+` stops SQLite from reading each one by rowid, then
            // sorting them): the window's rows come first, and none outside it is read.
            let clause = if m.len() <= LOOKUP_MATCHES {
                "r.rowid IN rarray(?)"
            } else {
                "+r.rowid IN rarray(?)"
            };
            filter.push(clause, vec![Box::new(m.clone())]);
        }
        let where_sql = filter.sql();
        let params = filter.params();
        let total = match &matches {
            Some(m) if text_only => m.len() as i64,
            _ => self.conn().query_row(
                &format!("SELECT COUNT(*) FROM requests r {where_sql}"),
                params.as_slice(),
                |r| r.get(0),
            )?,
        };
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM requests r {where_sql}
             ORDER BY {} LIMIT {limit} OFFSET {}",
            inbox_order(q.sort),
            q.offset
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let items = stmt
            .query_map(params.as_slice(), |row| item(row, now))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(InboxPage {
            items,
            total: total as u64,
            offset: q.offset,
        })
    }

    /// The rowids of the requests matching an FTS query (`fts_query`'s form).
    fn text_matches(&self, fts: &str) -> Result<Rc<Vec<Value>>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT rowid FROM requests_fts WHERE requests_fts MATCH ?1")?;
        let rows = stmt
            .query_map([fts], |r| r.get::<_, i64>(0).map(Value::Integer))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Rc::new(rows))
    }

    /// Full-text search over ticket number, title, description, client name and site, best first.
    pub fn search(&self, text: &str, limit: u32) -> Result<Vec<InboxItem>> {
        let limit = limit.min(MAX_LIMIT);
        let Some(query) = fts_query(text) else {
            return Ok(Vec::new());
        };
        // Only the newest matches are ranked: bm25 reads every candidate's positions, and a
        // common word matches a third of a 100k cache (40 ms to rank them all, 4 ms for 200).
        // With fewer matches than that the ranking is over all of them.
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM (
                SELECT rowid, bm25(requests_fts, 10.0, 4.0, 1.0, 3.0, 2.0) AS score
                FROM requests_fts WHERE requests_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?3
             ) f JOIN requests r ON r.rowid = f.rowid
             ORDER BY f.score, r.updated_at DESC LIMIT ?2"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let now = chrono::Utc::now().timestamp_millis();
        let items = stmt
            .query_map(params![query, limit, limit.max(SEARCH_CANDIDATES)], |row| {
                item(row, now)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(items)
    }

    pub fn request(&self, id: &str) -> Result<Option<(Request, bool)>> {
        let row: Option<(String, bool)> = self
            .conn()
            .query_row(
                "SELECT raw, unread FROM requests WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((raw, unread)) => Ok(Some((serde_json::from_str(&raw)?, unread))),
            None => Ok(None),
        }
    }

    pub fn request_version(&self, id: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row("SELECT version FROM requests WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn messages(&self, request_id: &str) -> Result<Vec<ChatMessage>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT raw FROM messages WHERE request_id = ?1 ORDER BY created_at, id",
        )?;
        let rows = stmt
            .query_map([request_id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter()
            .map(|s| serde_json::from_str(s).map_err(Error::from))
            .collect()
    }

    pub fn history(&self, request_id: &str) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT raw FROM history WHERE request_id = ?1 ORDER BY idx")?;
        let rows = stmt
            .query_map([request_id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter()
            .map(|s| serde_json::from_str(s).map_err(Error::from))
            .collect()
    }

    /// Stores a detail fetched from the server (request, whole history, messages, quote).
    pub fn store_detail(
        &mut self,
        request: &Request,
        history: &[HistoryEntry],
        messages: &[ChatMessage],
        quote: Option<&QuoteDoc>,
    ) -> Result<bool> {
        let tx = self.conn_mut().transaction()?;
        let mut changed = upsert(&tx, request, false, None)?;
        changed |= store_quote(&tx, &request.id, quote)?;
        tx.execute("DELETE FROM history WHERE request_id = ?1", [&request.id])?;
        for (i, h) in history.iter().enumerate() {
            tx.execute(
                "INSERT INTO history(request_id, idx, raw) VALUES (?1, ?2, ?3)",
                params![request.id, i as i64, serde_json::to_string(h)?],
            )?;
        }
        for m in messages {
            super::insert_message(&tx, m)?;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// The cached quote of a quote request.
    pub fn quote(&self, request_id: &str) -> Result<Option<QuoteDoc>> {
        let raw = quote_raw(self.conn(), request_id)?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    /// Stores what a successful action returned: the request, a message, a prepared quote.
    pub fn store_action_result(
        &mut self,
        request_id: &str,
        request: Option<&Request>,
        message: Option<&ChatMessage>,
        quote: Option<&QuoteDoc>,
    ) -> Result<Vec<String>> {
        let tx = self.conn_mut().transaction()?;
        let mut changed = Vec::new();
        if quote.is_some() && store_quote(&tx, request_id, quote)? {
            changed.push(request_id.to_owned());
        }
        if let Some(r) = request
            && upsert(&tx, r, false, None)?
            && !changed.contains(&r.id)
        {
            changed.push(r.id.clone());
        }
        if let Some(m) = message
            && super::insert_message(&tx, m)?
            && !changed.contains(&m.request_id)
        {
            changed.push(m.request_id.clone());
        }
        tx.commit()?;
        Ok(changed)
    }

    pub fn mark_read(&mut self, ids: &[String]) -> Result<Vec<String>> {
        let tx = self.conn_mut().transaction()?;
        let mut changed = Vec::new();
        for id in ids {
            if tx.execute(
                "UPDATE requests SET unread = 0 WHERE id = ?1 AND unread = 1",
                [id],
            )? > 0
            {
                changed.push(id.clone());
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    pub fn unread_count(&self) -> Result<u64> {
        let n: i64 =
            self.conn()
                .query_row("SELECT COUNT(*) FROM requests WHERE unread = 1", [], |r| {
                    r.get(0)
                })?;
        Ok(n as u64)
    }

    pub fn request_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM requests", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// All cached requests as (id, version), for consistency checks.
    pub fn versions(&self) -> Result<Vec<(String, i64)>> {
        versions(self.conn())
    }
}

fn versions(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare("SELECT id, version FROM requests ORDER BY id")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
