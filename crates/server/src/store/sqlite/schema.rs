//! Versioned migrations, applied in order on open; `PRAGMA user_version` records the last.

use rusqlite::Connection;

/// Each entry is one version; never edit a released one, append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: users, requests with full-text search, history, chat, event log, counters.
    r#"
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE requests (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        ticket_number TEXT UNIQUE,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        site TEXT NOT NULL,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        client_id TEXT NOT NULL REFERENCES users(id),
        client_name TEXT NOT NULL,
        assignee_id TEXT REFERENCES users(id),
        assignee_name TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL,
        details TEXT NOT NULL
    );
    CREATE INDEX requests_client ON requests(client_id, kind, created_at DESC);
    CREATE INDEX requests_updated ON requests(updated_at DESC, id DESC);
    CREATE INDEX requests_kind_status ON requests(kind, status);
    CREATE INDEX requests_assignee ON requests(assignee_id);
    CREATE VIRTUAL TABLE requests_fts USING fts5(
        ticket_number, title, description, client_name, site,
        content='requests', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN
        INSERT INTO requests_fts(rowid, ticket_number, title, description, client_name, site)
        VALUES (new.rowid, new.ticket_number, new.title, new.description, new.client_name, new.site);
    END;
    CREATE TRIGGER requests_fts_update AFTER UPDATE ON requests BEGIN
        INSERT INTO requests_fts(requests_fts, rowid, ticket_number, title, description, client_name, site)
        VALUES ('delete', old.rowid, old.ticket_number, old.title, old.description, old.client_name, old.site);
        INSERT INTO requests_fts(rowid, ticket_number, title, description, client_name, site)
        VALUES (new.rowid, new.ticket_number, new.title, new.description, new.client_name, new.site);
    END;
    CREATE TABLE ticket_counters (
        prefix TEXT NOT NULL,
        month TEXT NOT NULL,
        last INTEGER NOT NULL,
        PRIMARY KEY (prefix, month)
    );
    CREATE TABLE history (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES requests(id),
        at TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        action TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT,
        note TEXT
    );
    CREATE INDEX history_request ON history(request_id, id);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES requests(id),
        author_id TEXT NOT NULL,
        author_name TEXT NOT NULL,
        author_role TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_request ON messages(request_id, created_at);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        all_technicians INTEGER NOT NULL,
        technicians TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE idempotency (
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        request_id TEXT NOT NULL,
        message_id TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    CREATE TABLE quotes (
        request_id TEXT PRIMARY KEY REFERENCES requests(id),
        body TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: accounts that can be deactivated; server-side sessions; a client's replay
    // reads its own rows of the event log through an index.
    r#"
    ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        device TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ended_at TEXT,
        end_reason TEXT
    );
    CREATE INDEX sessions_user ON sessions(user_id, ended_at);
    CREATE INDEX sessions_ended ON sessions(ended_at) WHERE ended_at IS NOT NULL;
    CREATE INDEX events_client ON events(client_id, seq);
    "#,
    // 3: history entries for staff only (a draft quote's price); the notes of the
    // quotes prepared so far carry that price, so they become staff-only too.
    r#"
    ALTER TABLE history ADD COLUMN staff_only INTEGER NOT NULL DEFAULT 0;
    UPDATE history SET staff_only = 1 WHERE action = 'quote:prepared';
    "#,
    // 4: idempotency keys scoped to the route and request they were sent to;
    // keys recorded before have the empty scope, which no call matches any more.
    r#"
    CREATE TABLE idempotency_scoped (
        user_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        request_id TEXT NOT NULL,
        message_id TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, scope, key)
    );
    INSERT INTO idempotency_scoped (user_id, scope, key, request_id, message_id, created_at)
        SELECT user_id, '', key, request_id, message_id, created_at FROM idempotency;
    DROP TABLE idempotency;
    ALTER TABLE idempotency_scoped RENAME TO idempotency;
    "#,
    // 5: who took an intervention and when, its service-level deadlines (fixed at
    // creation; older requests have none and raise no alerts), the alerts raised (one
    // row per key, so none is raised twice), and when a staff desk first received
    // each new request (for the metrics). Existing requests get what their history
    // tells: when they finished, went en route, were first moved by staff.
    r#"
    ALTER TABLE requests ADD COLUMN acknowledged_at TEXT;
    ALTER TABLE requests ADD COLUMN acknowledged_by TEXT;
    ALTER TABLE requests ADD COLUMN acknowledged_by_name TEXT;
    ALTER TABLE requests ADD COLUMN assigned_at TEXT;
    ALTER TABLE requests ADD COLUMN assignment_acknowledged_at TEXT;
    ALTER TABLE requests ADD COLUMN en_route_at TEXT;
    ALTER TABLE requests ADD COLUMN finished_at TEXT;
    ALTER TABLE requests ADD COLUMN ack_risk_at TEXT;
    ALTER TABLE requests ADD COLUMN ack_due_at TEXT;
    ALTER TABLE requests ADD COLUMN resolve_risk_at TEXT;
    ALTER TABLE requests ADD COLUMN resolve_due_at TEXT;
    CREATE INDEX requests_unfinished ON requests(kind) WHERE finished_at IS NULL;
    CREATE TABLE alerts (
        request_id TEXT NOT NULL REFERENCES requests(id),
        key TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (request_id, key)
    );
    CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        delivered_at TEXT NOT NULL
    );
    UPDATE requests SET finished_at = (
        SELECT MIN(h.at) FROM history h
        WHERE h.request_id = requests.id AND h.to_status IN ('resolved', 'closed', 'cancelled')
    ) WHERE kind = 'intervention' AND status IN ('resolved', 'closed', 'cancelled');
    UPDATE requests SET finished_at = updated_at
        WHERE kind = 'intervention' AND status IN ('resolved', 'closed', 'cancelled')
        AND finished_at IS NULL;
    UPDATE requests SET en_route_at = (
        SELECT MAX(h.at) FROM history h WHERE h.request_id = requests.id AND h.to_status = 'en_route'
    ) WHERE kind = 'intervention';
    UPDATE requests SET assigned_at = (
        SELECT MAX(h.at) FROM history h WHERE h.request_id = requests.id AND h.action = 'assigned'
    ) WHERE kind = 'intervention' AND assignee_id IS NOT NULL;
    UPDATE requests SET (acknowledged_at, acknowledged_by, acknowledged_by_name) = (
        SELECT h.at, h.actor_id, h.actor_name FROM history h
        JOIN users u ON u.id = h.actor_id AND u.role <> 'CLIENT'
        WHERE h.request_id = requests.id AND h.action <> 'created'
        ORDER BY h.id LIMIT 1
    ) WHERE kind = 'intervention';
    UPDATE requests SET assignment_acknowledged_at = COALESCE(en_route_at, assigned_at)
        WHERE kind = 'intervention' AND assignee_id IS NOT NULL;
    "#,
    // 6: the event log's identity. An epoch is a random id; the last row is the log's
    // current one. A new one starts when the log may have handed out a seq it no longer
    // holds (a restored database, see `log_identity.rs`), so that a desk whose position
    // came from the other history resynchronises instead of skipping the reused range.
    // An existing log gets its first epoch here, as a new log does.
    r#"
    CREATE TABLE log_epochs (
        id INTEGER PRIMARY KEY,
        epoch TEXT NOT NULL UNIQUE,
        started_at TEXT NOT NULL,
        head_seq INTEGER NOT NULL,
        reason TEXT NOT NULL
    );
    INSERT INTO log_epochs (epoch, started_at, head_seq, reason) VALUES (
        lower(hex(randomblob(16))),
        strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
        'created'
    );
    "#,
    // 7: the full-text index is written once per commit, not once per write. FTS5 writes
    // what it holds to a new segment at every savepoint, and every write of a batch runs in
    // one (group_commit.rs): a batch of eight creations made eight segments and the merges
    // they bring. A new or retitled request now waits in `requests_fts_pending`, and
    // `FTS_FLUSH` indexes the batch's rows in one statement before its commit. A change that
    // leaves the indexed columns as they were (a status, an assignment) no longer touches
    // the index at all.
    r#"
    DROP TRIGGER requests_fts_insert;
    DROP TRIGGER requests_fts_update;
    CREATE TABLE requests_fts_pending (rowid INTEGER PRIMARY KEY);
    CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN
        INSERT INTO requests_fts_pending (rowid) VALUES (new.rowid);
    END;
    CREATE TRIGGER requests_fts_update AFTER UPDATE ON requests
    WHEN old.ticket_number IS NOT new.ticket_number OR old.title IS NOT new.title
        OR old.description IS NOT new.description OR old.client_name IS NOT new.client_name
        OR old.site IS NOT new.site
    BEGIN
        -- A row still pending is not in the index yet: there is nothing to take out.
        INSERT INTO requests_fts (requests_fts, rowid, ticket_number, title, description, client_name, site)
            SELECT 'delete', old.rowid, old.ticket_number, old.title, old.description, old.client_name, old.site
            WHERE NOT EXISTS (SELECT 1 FROM requests_fts_pending WHERE rowid = old.rowid);
        INSERT OR IGNORE INTO requests_fts_pending (rowid) VALUES (new.rowid);
    END;
    "#,
    // 8: what a creation writes, cut to what is read. The staff search never ranks
    // (`requests::fts_query`), so the index keeps no per-request sizes (columnsize=0, which
    // only ranking reads): rebuilt once from the requests. It keeps positions: a word the
    // tokenizer splits in two (a Devanagari word with its vowel signs) is a phrase, which
    // detail=none refuses. The assignee index holds assigned requests only (every query on
    // it names an assignee), so a new request, unassigned, no longer writes to it.
    r#"
    DROP TABLE requests_fts;
    CREATE VIRTUAL TABLE requests_fts USING fts5(
        ticket_number, title, description, client_name, site,
        content='requests', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2',
        columnsize=0
    );
    INSERT INTO requests_fts (requests_fts) VALUES ('rebuild');
    DELETE FROM requests_fts_pending;
    DROP INDEX requests_assignee;
    CREATE INDEX requests_assignee ON requests(assignee_id) WHERE assignee_id IS NOT NULL;
    "#,
];

/// Run in every batch before its commit (migration 7): indexes the rows the batch created or
/// retitled, with their values as committed.
pub const FTS_FLUSH: &[&str] = &[
    "INSERT INTO requests_fts (rowid, ticket_number, title, description, client_name, site)
        SELECT r.rowid, r.ticket_number, r.title, r.description, r.client_name, r.site
        FROM requests_fts_pending p JOIN requests r ON r.rowid = p.rowid",
    // With a WHERE clause: without one SQLite clears the table by rewriting its page even when
    // it is empty, one more page in the WAL at every commit.
    "DELETE FROM requests_fts_pending WHERE rowid IS NOT NULL",
];

/// Brings the database to the newest version, one transaction per version.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<u32> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as u32 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "database migrated");
    }
    Ok(MIGRATIONS.len() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(conn: &Connection) {
        conn.execute(
            "INSERT INTO users (id, email, name, role, password_hash, created_at)
             VALUES ('c', 'c@client.sn', 'Client', 'CLIENT', '-', 't')",
            [],
        )
        .unwrap();
    }

    fn request(conn: &Connection, id: &str, title: &str) {
        conn.execute(
            "INSERT INTO requests (id, kind, ticket_number, title, description, site, status,
                 priority, client_id, client_name, created_at, updated_at, version, details)
             VALUES (?1, 'intervention', ?1, ?2, 'caméra hors service', 'Plateau', 'open',
                 'urgent', 'c', 'Client', 't', 't', 1, '{}')",
            [id, title],
        )
        .unwrap();
    }

    fn found(conn: &Connection, word: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare(
                "SELECT r.id FROM requests_fts f JOIN requests r ON r.rowid = f.rowid
                 WHERE requests_fts MATCH ?1 ORDER BY r.id",
            )
            .unwrap();
        stmt.query_map([word], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn flush(conn: &Connection) {
        for sql in FTS_FLUSH {
            conn.execute(sql, []).unwrap();
        }
    }

    fn sound(conn: &Connection) {
        conn.execute(
            "INSERT INTO requests_fts (requests_fts, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .expect("the index matches the requests' text");
    }

    /// What a batch does: writes in savepoints, then the flush before the commit. A request
    /// retitled in the batch that created it, one retitled after it was indexed, and a status
    /// change (indexed text unchanged) all end up indexed with their committed text.
    #[test]
    fn the_search_index_is_written_at_the_flush_with_the_committed_text() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        client(&conn);
        conn.execute_batch("BEGIN").unwrap();
        request(&conn, "a", "portail");
        request(&conn, "b", "barrière");
        assert!(found(&conn, "portail").is_empty(), "indexed at the flush");
        conn.execute(
            "UPDATE requests SET title = 'tourniquet' WHERE id = 'b'",
            [],
        )
        .unwrap();
        flush(&conn);
        conn.execute_batch("COMMIT").unwrap();
        sound(&conn);
        assert_eq!(found(&conn, "portail"), ["a"]);
        assert!(found(&conn, "barriere").is_empty());
        assert_eq!(found(&conn, "tourniquet"), ["b"]);

        conn.execute_batch("BEGIN").unwrap();
        conn.execute("UPDATE requests SET title = 'badge' WHERE id = 'a'", [])
            .unwrap();
        conn.execute("UPDATE requests SET status = 'assigned' WHERE id = 'b'", [])
            .unwrap();
        let waiting: i64 = conn
            .query_row("SELECT count(*) FROM requests_fts_pending", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(waiting, 1, "a status change leaves the index alone");
        flush(&conn);
        conn.execute_batch("COMMIT").unwrap();
        sound(&conn);
        assert!(found(&conn, "portail").is_empty());
        assert_eq!(found(&conn, "badge"), ["a"]);
        assert_eq!(found(&conn, "camera"), ["a", "b"]);
    }

    /// A database indexed by migration 1's triggers keeps its requests searchable, and its
    /// new rows join them.
    #[test]
    fn a_database_indexed_before_version_7_keeps_its_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        for sql in &MIGRATIONS[..6] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 6).unwrap();
        tx.commit().unwrap();
        client(&conn);
        request(&conn, "old", "portail");
        migrate(&mut conn).unwrap();
        request(&conn, "new", "portail");
        flush(&conn);
        sound(&conn);
        assert_eq!(found(&conn, "portail"), ["new", "old"]);
    }
}
