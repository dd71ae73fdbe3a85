//! The local SQLite cache: opening (WAL), versioned migrations, and the
//! transaction that applies a batch of feed events together with the feed
//! position and the notifications they raise. Tables live in submodules.

mod bulk;
pub(crate) mod meta;
mod notifications;
mod outbox;
mod quarantine;
mod requests;

use std::path::Path;

use rusqlite::{Connection, Transaction, params};

use crate::error::Result;
use crate::notify::Notice;
use crate::types::{ChatMessage, FeedEvent, Request};

pub use meta::StoredAccount;
pub use notifications::PendingNotice;
pub use quarantine::{Quarantined, Undecoded};
pub use requests::fts_query;

/// One schema step: its SQL, then an optional Rust backfill in the same transaction.
struct Migration {
    sql: &'static str,
    backfill: Option<fn(&Transaction<'_>) -> Result<()>>,
}

const fn sql(sql: &'static str) -> Migration {
    Migration {
        sql,
        backfill: None,
    }
}

/// Ordered schema migrations; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[Migration] = &[
    sql(
        // 1: requests, their FTS index, messages, history, feed position, notifications, outbox.
        r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        ticket_number TEXT,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        site TEXT NOT NULL,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        pinned INTEGER NOT NULL,
        client_name TEXT NOT NULL,
        assignee_id TEXT,
        assignee_name TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL,
        raw TEXT NOT NULL,
        unread INTEGER NOT NULL DEFAULT 0,
        acked INTEGER NOT NULL DEFAULT 0,
        sync_gen INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX requests_order ON requests(pinned DESC, updated_at DESC, id DESC);
    CREATE INDEX requests_kind ON requests(kind, pinned DESC, updated_at DESC, id DESC);
    CREATE INDEX requests_assignee ON requests(assignee_id);
    CREATE INDEX requests_unread ON requests(unread) WHERE unread = 1;
    CREATE VIRTUAL TABLE requests_fts USING fts5(
        ticket_number, title, description, client_name, site,
        content = 'requests', content_rowid = 'rowid',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER requests_ai AFTER INSERT ON requests BEGIN
        INSERT INTO requests_fts(rowid, ticket_number, title, description, client_name, site)
        VALUES (new.rowid, new.ticket_number, new.title, new.description, new.client_name, new.site);
    END;
    CREATE TRIGGER requests_ad AFTER DELETE ON requests BEGIN
        INSERT INTO requests_fts(requests_fts, rowid, ticket_number, title, description, client_name, site)
        VALUES ('delete', old.rowid, old.ticket_number, old.title, old.description, old.client_name, old.site);
    END;
    CREATE TRIGGER requests_au AFTER UPDATE OF ticket_number, title, description, client_name, site
    ON requests BEGIN
        INSERT INTO requests_fts(requests_fts, rowid, ticket_number, title, description, client_name, site)
        VALUES ('delete', old.rowid, old.ticket_number, old.title, old.description, old.client_name, old.site);
        INSERT INTO requests_fts(rowid, ticket_number, title, description, client_name, site)
        VALUES (new.rowid, new.ticket_number, new.title, new.description, new.client_name, new.site);
    END;
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        raw TEXT NOT NULL
    );
    CREATE INDEX messages_request ON messages(request_id, created_at);
    CREATE TABLE history (
        request_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        raw TEXT NOT NULL,
        PRIMARY KEY (request_id, idx)
    );
    CREATE TABLE notifications (
        key TEXT PRIMARY KEY,
        request_id TEXT,
        notice TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    CREATE INDEX notifications_pending ON notifications(state) WHERE state = 'pending';
    CREATE TABLE urgent_watch (
        request_id TEXT PRIMARY KEY,
        last_alert_at INTEGER NOT NULL,
        alerts INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        request_id TEXT NOT NULL,
        action TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        refusal TEXT
    );
    "#,
    ),
    // 2: indexes for the inbox filters (status, priority) in display order.
    sql(r#"
    CREATE INDEX requests_status ON requests(status, kind, pinned DESC, updated_at DESC, id DESC);
    CREATE INDEX requests_priority ON requests(priority, pinned DESC, updated_at DESC, id DESC);
    "#),
    // 3: the inbox's sort choices and its "active only" filter; each order has an index, alone
    // and after the kind filter (the most used one), so a window is read in order, not sorted.
    // requests_active keeps "active only" counts off a full scan (34 → 7.5 ms at 100k).
    Migration {
        sql: r#"
    ALTER TABLE requests ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE requests ADD COLUMN priority_rank INTEGER NOT NULL DEFAULT 2;
    CREATE INDEX requests_newest ON requests(pinned DESC, created_at DESC, id DESC);
    CREATE INDEX requests_oldest ON requests(pinned DESC, created_at, id);
    CREATE INDEX requests_rank ON requests(pinned DESC, priority_rank, updated_at DESC, id DESC);
    CREATE INDEX requests_active ON requests(active, pinned DESC, updated_at DESC, id DESC);
    CREATE INDEX requests_kind_newest ON requests(kind, pinned DESC, created_at DESC, id DESC);
    CREATE INDEX requests_kind_oldest ON requests(kind, pinned DESC, created_at, id);
    CREATE INDEX requests_kind_rank ON requests(kind, pinned DESC, priority_rank, updated_at DESC, id DESC);
    "#,
        backfill: Some(requests::backfill_order_columns),
    },
    // 4: the quote of a quote request, as last fetched (shown offline too).
    sql(r#"
    CREATE TABLE quotes (request_id TEXT PRIMARY KEY, raw TEXT NOT NULL);
    "#),
    // 5: acknowledgement and service levels are the server's (issue 10). The local `acked`
    // flag goes: opening a request no longer takes it. The tracking fields the inbox filters
    // and sorts on become columns, instants in unix ms (the server's RFC 3339 text varies in
    // precision, so it does not compare as time). `due_ms` is the deadline still to meet
    // (i64::MAX when none), so *Échéance* reads an index in order; *En retard* reads only
    // the interventions that have timers.
    Migration {
        sql: r#"
    ALTER TABLE requests DROP COLUMN acked;
    ALTER TABLE requests ADD COLUMN acknowledged_by_name TEXT;
    ALTER TABLE requests ADD COLUMN acknowledged_ms INTEGER;
    ALTER TABLE requests ADD COLUMN finished_ms INTEGER;
    ALTER TABLE requests ADD COLUMN ack_due_ms INTEGER;
    ALTER TABLE requests ADD COLUMN resolve_due_ms INTEGER;
    ALTER TABLE requests ADD COLUMN due_ms INTEGER NOT NULL DEFAULT 9223372036854775807;
    CREATE INDEX requests_due ON requests(pinned DESC, due_ms, id);
    CREATE INDEX requests_kind_due ON requests(kind, pinned DESC, due_ms, id);
    CREATE INDEX requests_timed ON requests(active, pinned DESC, updated_at DESC, id DESC)
        WHERE ack_due_ms IS NOT NULL;
    "#,
        backfill: Some(requests::backfill_tracking_columns),
    },
    // 6: notices are done only once the notification server showed them (issue 11).
    sql(notifications::DELIVERY_SCHEMA),
    // 7: the outbox is kept per account and survives a cache reset (issue 11).
    sql(outbox::PER_ACCOUNT_SCHEMA),
    // 8: feed events and rows this build could not decode (issue 11).
    sql(quarantine::SCHEMA),
    // 9: the slow windows of the 100k bench (issue 13). *Assigned to me* and *active, by
    // priority* read their rows in order instead of sorting them; *unread* windows and counts
    // read only the unread rows; an unfiltered count reads a one-column index.
    // The search index gets prefix indexes (a word typed so far, 2–4 letters, is one
    // doclist, not the merge of every word it begins) and is rebuilt once here.
    sql(r#"
    DROP INDEX requests_assignee;
    CREATE INDEX requests_assignee ON requests(assignee_id, pinned DESC, updated_at DESC, id DESC);
    DROP INDEX requests_unread;
    CREATE INDEX requests_unread ON requests(pinned DESC, updated_at DESC, id DESC) WHERE unread = 1;
    CREATE INDEX requests_unread_kind ON requests(kind, pinned DESC, updated_at DESC, id DESC)
        WHERE unread = 1;
    CREATE INDEX requests_count ON requests(pinned);
    CREATE INDEX requests_active_rank
        ON requests(active, pinned DESC, priority_rank, updated_at DESC, id DESC);
    DROP TABLE requests_fts;
    CREATE VIRTUAL TABLE requests_fts USING fts5(
        ticket_number, title, description, client_name, site,
        content = 'requests', content_rowid = 'rowid',
        tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4'
    );
    INSERT INTO requests_fts(requests_fts) VALUES ('rebuild');
    "#),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// One open cache database. Not `Sync`: the engine keeps it behind a mutex.
pub struct Cache {
    conn: Connection,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").finish_non_exhaustive()
    }
}

/// What one applied batch changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    /// Requests whose cached copy changed (new version or new message).
    pub changed: Vec<String>,
    /// Notices newly queued (dedupe by key already done).
    pub queued_notices: usize,
    /// Events skipped because their seq was already applied.
    pub skipped: usize,
}

impl Cache {
    /// Opens (creating if needed) `cache.sqlite3` in `dir` and migrates it.
    pub fn open(dir: &Path) -> Result<Cache> {
        std::fs::create_dir_all(dir)?;
        let conn = Connection::open(dir.join("cache.sqlite3"))?;
        Self::init(conn)
    }

    /// An in-memory cache (tests).
    pub fn open_in_memory() -> Result<Cache> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Cache> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL + NORMAL: a killed process never corrupts nor half-applies a transaction.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 32 MiB of page cache instead of 2 (a negative size is KiB): the inbox windows and the
        // search read their index pages from memory, not through a read(2) each (costly in VMs).
        // The pages are allocated only as a large cache is read.
        conn.pragma_update(None, "cache_size", -32 * 1024)?;
        rusqlite::vtab::array::load_module(&conn)?;
        // A bulk load cut short gets its indexes back before anything (a migration) needs them;
        // its full sync then goes on as an ordinary one.
        let tx = conn.transaction()?;
        if bulk::finish(&tx)? {
            tracing::warn!("a bulk load was cut short: indexes and search rebuilt");
        }
        tx.commit()?;
        migrate(&mut conn)?;
        Ok(Cache { conn })
    }

    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok(v as usize)
    }

    /// Applies feed events (requests no longer `visible` to us are removed), queues the notices `decide` gives for each applied one
    /// (dedupe by key) and stores the new feed
    /// position, all in one transaction. Idempotent: events at or below the
    /// stored seq are skipped, and a request is only replaced by a newer version.
    pub fn apply_events(
        &mut self,
        events: &[FeedEvent],
        decide: impl Fn(&FeedEvent) -> Vec<Notice>,
        visible: impl Fn(&Request) -> bool,
        ready_seq: Option<i64>,
        now: i64,
    ) -> Result<ApplyReport> {
        let tx = self.conn.transaction()?;
        let mut seq = meta::feed_seq(&tx)?.unwrap_or(0);
        // During a full sync, what the feed brings counts as seen by it (not swept at its end).
        let generation = meta::unfinished_sync(&tx)?;
        let mut report = ApplyReport::default();
        for ev in events {
            if ev.seq <= seq {
                report.skipped += 1;
                continue;
            }
            seq = ev.seq;
            if !visible(&ev.request) {
                // Left our scope (e.g. assigned to another technician): forget it.
                if requests::remove(&tx, &ev.request.id)? {
                    report.changed.push(ev.request.id.clone());
                }
                continue;
            }
            let mut changed = requests::upsert(&tx, &ev.request, true, generation)?;
            if let Some(m) = &ev.chat_message {
                changed |= insert_message(&tx, m)?;
                if changed {
                    requests::mark_unread(&tx, &m.request_id)?;
                }
            }
            if changed && !report.changed.contains(&ev.request.id) {
                report.changed.push(ev.request.id.clone());
            }
            for n in decide(ev) {
                if queue_notice(&tx, &n, now)? {
                    report.queued_notices += 1;
                }
            }
        }
        let seq = ready_seq.map_or(seq, |r| r.max(seq));
        meta::set_feed_seq(&tx, seq)?;
        tx.commit()?;
        Ok(report)
    }

    /// Stores one page of a full sync (no notifications) under sync generation `generation`.
    pub fn apply_sync_page(
        &mut self,
        page: &[Request],
        generation: i64,
        mark_unread: bool,
    ) -> Result<Vec<String>> {
        self.apply_sync_page_alerting(page, generation, mark_unread, |_| Vec::new(), 0)
    }

    /// Stores one page of a full sync, and queues the notices `alert` gives for each request
    /// the cache did not hold yet (a resync after a long absence: what arrived meanwhile).
    /// Keys dedupe against the feed's notices, so nothing is shown twice.
    pub fn apply_sync_page_alerting(
        &mut self,
        page: &[Request],
        generation: i64,
        mark_unread: bool,
        alert: impl Fn(&Request) -> Vec<Notice>,
        now: i64,
    ) -> Result<Vec<String>> {
        let tx = self.conn.transaction()?;
        let mut changed = Vec::new();
        for r in page {
            let known = requests::exists(&tx, &r.id)?;
            if requests::upsert(&tx, r, mark_unread, Some(generation))? {
                changed.push(r.id.clone());
            }
            if !known {
                for n in alert(r) {
                    queue_notice(&tx, &n, now)?;
                }
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Ends a full sync begun by `begin_sync`: drops requests neither its pages nor the
    /// feed brought meanwhile, and marks it finished, atomically. The feed position is the
    /// feed's own (set at the start, moved by the events applied since).
    pub fn finish_sync(&mut self, generation: i64) -> Result<Vec<String>> {
        let tx = self.conn.transaction()?;
        let gone = requests::sweep(&tx, generation)?;
        if bulk::finish(&tx)? {
            tracing::info!(generation, "bulk load: indexes and search built");
        }
        tx.execute("DELETE FROM meta WHERE key = 'sync_running'", [])?;
        meta::set(&tx, "last_sync_at", &chrono::Utc::now().to_rfc3339())?;
        tx.commit()?;
        // Fresh statistics so the planner picks the right inbox index; sampled (1,000 rows
        // an index), as SQLite advises: 0.6 s → 20 ms at 100k.
        self.conn
            .execute_batch("PRAGMA analysis_limit = 1000; ANALYZE")?;
        Ok(gone)
    }

    /// Forgets everything cached (another account signed in), but the outbox: its entries
    /// are kept under the account that queued them, sent when it signs in again.
    pub fn clear(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM requests; DELETE FROM messages; DELETE FROM history;
             DELETE FROM notifications; DELETE FROM urgent_watch; DELETE FROM quarantine;
             DELETE FROM meta WHERE key IN
                ('feed_seq', 'feed_epoch', 'last_sync_at', 'sync_gen', 'sync_running');",
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Applies the migrations not yet applied, up to `version` (tests build older caches).
fn migrate_to(conn: &mut Connection, version: usize) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, step) in MIGRATIONS
        .iter()
        .enumerate()
        .take(version)
        .skip(current as usize)
    {
        let tx = conn.transaction()?;
        tx.execute_batch(step.sql)?;
        if let Some(backfill) = step.backfill {
            backfill(&tx)?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "cache migrated");
    }
    Ok(())
}

/// Queues a notice (dedupe by key). A critical one asking to take a request (the urgent
/// alert, an urgent assignment) starts its reminders; an escalation counts as an alert.
fn queue_notice(tx: &Transaction<'_>, n: &Notice, now: i64) -> Result<bool> {
    let queued = notifications::queue(tx, n, now)?;
    if let (true, true, Some(id)) = (queued, n.critical, &n.request_id) {
        if n.key.starts_with("escalated:") {
            notifications::touch_watch(tx, id, now)?;
        } else if n.acknowledge {
            notifications::watch(tx, id, now)?;
        }
    }
    Ok(queued)
}

pub(crate) fn insert_message(tx: &Transaction<'_>, m: &ChatMessage) -> Result<bool> {
    let n = tx.execute(
        "INSERT OR IGNORE INTO messages(id, request_id, created_at, raw) VALUES (?1, ?2, ?3, ?4)",
        params![m.id, m.request_id, m.created_at, serde_json::to_string(m)?],
    )?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bulk;
#[cfg(test)]
mod tests_search;
#[cfg(test)]
mod tests_tracking;
