//! Versioned migrations, numbered as SQLite's (`store/sqlite/schema.rs`): version N
//! means the same tables on both backends, so `migrate --from-sqlite` knows what it reads.
//!
//! No PostgreSQL database predates version 6, so the first entry creates version 6's
//! schema in one step; later versions are added to both backends under one number.

use postgres::Client;

/// `(version, SQL)`, in order; never edit a released one, append a new one.
const MIGRATIONS: &[(i32, &str)] = &[(
    6,
    r#"
    CREATE EXTENSION IF NOT EXISTS unaccent;
    -- unaccent() is only STABLE (its dictionary could change); a generated column needs
    -- an IMMUTABLE expression, hence this wrapper naming its dictionary.
    CREATE FUNCTION itv_unaccent(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN public.unaccent('public.unaccent'::regdictionary, $1);
    -- The text as SQLite's `unicode61` tokenizer sees it: accents folded, and anything
    -- but letters and digits a separator (PostgreSQL's parser would read the `-0001` of
    -- `INT-202511-0001` as a negative number, and no prefix `0001` would find it).
    CREATE FUNCTION itv_search_text(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        RETURN regexp_replace(itv_unaccent($1), '[^[:alnum:]]+', ' ', 'g');

    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        active BOOLEAN NOT NULL DEFAULT TRUE
    );
    CREATE TABLE requests (
        id TEXT PRIMARY KEY,
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
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        version BIGINT NOT NULL,
        details JSONB NOT NULL,
        acknowledged_at TIMESTAMPTZ,
        acknowledged_by TEXT,
        acknowledged_by_name TEXT,
        assigned_at TIMESTAMPTZ,
        assignment_acknowledged_at TIMESTAMPTZ,
        en_route_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        ack_risk_at TIMESTAMPTZ,
        ack_due_at TIMESTAMPTZ,
        resolve_risk_at TIMESTAMPTZ,
        resolve_due_at TIMESTAMPTZ,
        -- Every word unstemmed (`simple`, for prefixes and ticket numbers) and stemmed
        -- (`french`), accents and case folded, as SQLite's `unicode61 remove_diacritics`.
        search TSVECTOR GENERATED ALWAYS AS (
            to_tsvector('simple', itv_search_text(
                coalesce(ticket_number, '') || ' ' || title || ' ' || description || ' ' || client_name || ' ' || site))
            || to_tsvector('french', itv_search_text(
                title || ' ' || description || ' ' || client_name || ' ' || site))
        ) STORED
    );
    CREATE INDEX requests_client ON requests(client_id, kind, created_at DESC);
    CREATE INDEX requests_updated ON requests(updated_at DESC, id DESC);
    CREATE INDEX requests_kind_status ON requests(kind, status);
    CREATE INDEX requests_assignee ON requests(assignee_id);
    CREATE INDEX requests_unfinished ON requests(kind) WHERE finished_at IS NULL;
    CREATE INDEX requests_search ON requests USING GIN (search);
    CREATE TABLE ticket_counters (
        prefix TEXT NOT NULL,
        month TEXT NOT NULL,
        last INTEGER NOT NULL,
        PRIMARY KEY (prefix, month)
    );
    CREATE TABLE history (
        id BIGSERIAL PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES requests(id),
        at TIMESTAMPTZ NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        action TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT,
        note TEXT,
        staff_only BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX history_request ON history(request_id, id);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL REFERENCES requests(id),
        author_id TEXT NOT NULL,
        author_name TEXT NOT NULL,
        author_role TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX messages_request ON messages(request_id, created_at);
    -- The log's numbers come from this one row, bumped in the writing transaction: the
    -- row lock orders the writers, so seqs become visible in the order they were given
    -- (events.rs). It also remembers the last seq after the log is pruned empty.
    CREATE TABLE event_counter (
        id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
        last BIGINT NOT NULL
    );
    INSERT INTO event_counter (last) VALUES (0);
    CREATE TABLE events (
        seq BIGINT PRIMARY KEY,
        request_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        all_technicians BOOLEAN NOT NULL,
        technicians TEXT[] NOT NULL,
        body JSONB NOT NULL
    );
    CREATE INDEX events_client ON events(client_id, seq);
    CREATE TABLE idempotency (
        user_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        request_id TEXT NOT NULL,
        message_id TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (user_id, scope, key)
    );
    CREATE TABLE quotes (
        request_id TEXT PRIMARY KEY REFERENCES requests(id),
        body JSONB NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        device TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        last_used_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        ended_at TIMESTAMPTZ,
        end_reason TEXT
    );
    CREATE INDEX sessions_user ON sessions(user_id, ended_at);
    CREATE INDEX sessions_ended ON sessions(ended_at) WHERE ended_at IS NOT NULL;
    CREATE TABLE alerts (
        request_id TEXT NOT NULL REFERENCES requests(id),
        key TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (request_id, key)
    );
    CREATE TABLE deliveries (
        seq BIGINT PRIMARY KEY,
        request_id TEXT NOT NULL,
        delivered_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE log_epochs (
        id BIGSERIAL PRIMARY KEY,
        epoch TEXT NOT NULL UNIQUE,
        started_at TIMESTAMPTZ NOT NULL,
        head_seq BIGINT NOT NULL,
        reason TEXT NOT NULL
    );
    INSERT INTO log_epochs (epoch, started_at, head_seq, reason)
        VALUES (md5(random()::text || clock_timestamp()::text), now(), 0, 'created');
    -- What one process keeps in memory on SQLite, shared here by every instance: the
    -- rate limits' windows (ratelimit.rs).
    CREATE TABLE rate_windows (
        key TEXT PRIMARY KEY,
        started_at TIMESTAMPTZ NOT NULL,
        hits INTEGER NOT NULL
    );
    "#,
)];

/// Brings the database to the newest version in one transaction. Instances
/// starting together take turns on an advisory lock, so each version runs once.
pub fn migrate(client: &mut Client) -> Result<i32, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock(7301)", &[])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .get(0);
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )?;
        tracing::info!(version, "database migrated");
    }
    tx.commit()?;
    Ok(MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0))
}
