//! The SQLite store: one file in the data dir, WAL mode, one writer and a few readers.

mod events;
mod group_commit;
mod metrics;
mod requests;
mod schema;
mod sessions;
mod users;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use itv_core::request::ChatMessage;
use itv_core::{FeedEvent, Request, RequestKind, Role};

use crate::clock::Clock;
use rusqlite::{Connection, OptionalExtension, params};

use itv_core::account::{AccountPatch, EndReason};

use super::compose;
use super::{
    Account, AccountChange, AlertDraft, Current, Draft, EventSink, IdemKey, IdemRecord,
    LoggedEvent, LoginRecord, NewUserRecord, Reader, Refusal, RequestDetail, RequestPage,
    RequestQuery, SessionRecord, SessionSet, Store, StoreError, User,
};

/// How the store trades durability for speed; see docs/durability.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    /// An fsync at every commit: an answered write survives a power cut.
    Full,
    /// No fsync at commit, only at checkpoints: an answered write survives a crash of the
    /// process but the last commits before a power cut can be lost.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// The writer's settings: durability and how many writes one commit may carry.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub synchronous: Synchronous,
    /// 1 commits every write on its own.
    pub max_batch: usize,
}

impl Default for WriteOptions {
    fn default() -> WriteOptions {
        WriteOptions {
            synchronous: Synchronous::Full,
            max_batch: 64,
        }
    }
}

pub struct SqliteStore {
    path: PathBuf,
    writer: group_commit::GroupWriter,
    readers: Mutex<Vec<Connection>>,
    sink: Option<EventSink>,
    /// The workflow's time: request timestamps, events, service levels.
    clock: Clock,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

pub(crate) use super::ts;

pub(crate) fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

/// `Connection::execute` with the statement compiled once per connection and kept: compiling
/// an `INSERT INTO requests` compiles its search triggers too, and that was a tenth of the
/// writer's CPU.
pub(crate) fn run(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// `Connection::query_row`, the statement kept as in `run`.
pub(crate) fn row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

pub(crate) use super::new_id;

/// Readers never commit, so `synchronous` only matters on the writer's connection.
fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Room for every statement of the write paths (`run`, `row`).
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Creates the database file readable by its owner only (0600 on Unix) before SQLite
/// opens it; SQLite gives its `-wal` and `-shm` files the same mode.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

impl SqliteStore {
    /// Opens (creating and migrating) the database file at `path`.
    pub fn open(
        path: &Path,
        sink: Option<EventSink>,
        options: WriteOptions,
    ) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent() {
            crate::tokens::create_private_dir(dir).map_err(|e| StoreError::Io(e.to_string()))?;
        }
        create_private_file(path).map_err(|e| StoreError::Io(e.to_string()))?;
        let mut writer = open_connection(path)?;
        schema::migrate(&mut writer)?;
        writer.pragma_update(None, "synchronous", options.synchronous.pragma())?;
        // Each write of a batch runs in a savepoint, whose journal of the pages it changes
        // spills to a temporary file past 64 KiB: a creation changes more than that, and
        // creating, writing and deleting that file was a seventh of the writer's CPU.
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: group_commit::GroupWriter::new(writer, options.max_batch, schema::FTS_FLUSH),
            readers: Mutex::new(Vec::new()),
            sink,
            clock: Clock::default(),
        })
    }

    /// The same store, telling time with `clock` (shared with the server).
    pub fn with_clock(mut self, clock: Clock) -> SqliteStore {
        self.clock = clock;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_connection(&self.path)?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
        out
    }

    /// Runs `f` as one all-or-nothing write, committed with whatever other writes are
    /// waiting (group_commit.rs); its events reach the sink after the commit, in seq order.
    fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<(T, Vec<LoggedEvent>), StoreError>,
    ) -> Result<T, StoreError> {
        self.writer.write(self.sink.as_ref(), f)
    }
}

fn idem_lookup(conn: &Connection, key: &IdemKey) -> rusqlite::Result<Option<IdemRecord>> {
    row(conn,
        "SELECT request_id, message_id FROM idempotency WHERE user_id = ?1 AND scope = ?2 AND key = ?3",
        params![key.user_id, key.scope, key.key],
        |r| {
            Ok(IdemRecord {
                request_id: r.get(0)?,
                message_id: r.get(1)?,
            })
        },
    )
    .optional()
}

fn idem_record(
    tx: &Connection,
    key: &IdemKey,
    request_id: &str,
    message_id: Option<&str>,
) -> rusqlite::Result<()> {
    run(
        tx,
        "INSERT INTO idempotency (user_id, scope, key, request_id, message_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key.user_id,
            key.scope,
            key.key,
            request_id,
            message_id,
            ts(Utc::now())
        ],
    )?;
    Ok(())
}

/// A write's open transaction, for the steps of `compose`.
struct SqliteTx<'a>(&'a Connection);

impl compose::Tx for SqliteTx<'_> {
    fn insert_request(&mut self, draft: Draft, now: DateTime<Utc>) -> Result<Request, StoreError> {
        requests::insert(self.0, draft, now)
    }

    /// The single writer holds every row until the commit already.
    fn request_for_change(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Request>, StoreError> {
        requests::by_id(self.0, id, now)
    }

    fn quote(&mut self, request_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        requests::quote(self.0, request_id)
    }

    fn apply_update(
        &mut self,
        before: &Request,
        update: super::Update,
        now: DateTime<Utc>,
    ) -> Result<Request, StoreError> {
        requests::apply_update(self.0, before, update, now)
    }

    fn insert_message(&mut self, message: &ChatMessage) -> Result<(), StoreError> {
        Ok(requests::insert_message(self.0, message)?)
    }

    fn record_alert(
        &mut self,
        request_id: &str,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        requests::record_alert(self.0, request_id, key, at)
    }

    fn idem_seen(&mut self, key: &IdemKey) -> Result<bool, StoreError> {
        Ok(idem_lookup(self.0, key)?.is_some())
    }

    fn idem_record(
        &mut self,
        key: &IdemKey,
        request_id: &str,
        message_id: Option<&str>,
    ) -> Result<(), StoreError> {
        Ok(idem_record(self.0, key, request_id, message_id)?)
    }

    fn append_event(
        &mut self,
        event: FeedEvent,
        audience: itv_core::event::Audience,
    ) -> Result<LoggedEvent, StoreError> {
        events::append_event(self.0, event, audience)
    }
}

impl Store for SqliteStore {
    fn create_user(&self, user: NewUserRecord) -> Result<User, StoreError> {
        self.write(|tx| Ok((users::insert(tx, user)?, Vec::new())))
    }

    fn login_record(&self, email: &str) -> Result<Option<LoginRecord>, StoreError> {
        self.read(|c| users::login_record(c, email))
    }

    fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read(|c| users::by_id(c, id))
    }

    fn users_with_role(&self, role: Role) -> Result<Vec<User>, StoreError> {
        self.read(|c| users::with_role(c, role))
    }

    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.read(users::accounts)
    }

    fn account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        self.read(|c| users::account(c, id))
    }

    fn update_account(
        &self,
        id: &str,
        patch: &AccountPatch,
        at: DateTime<Utc>,
    ) -> Result<AccountChange, StoreError> {
        self.write(|tx| {
            let current = users::account(tx, id)?.ok_or(StoreError::NotFound)?;
            let reason = users::update(tx, &current, patch)?;
            let ended = match reason {
                Some(reason) => Some((
                    reason,
                    sessions::end(tx, &SessionSet::AllOf(id.to_string()), reason, at)?,
                )),
                None => None,
            };
            let account = users::account(tx, id)?.ok_or(StoreError::NotFound)?;
            Ok((AccountChange { account, ended }, Vec::new()))
        })
    }

    fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| users::password_hash(c, user_id))
    }

    fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        ends: &SessionSet,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        self.write(|tx| {
            if !users::set_password_hash(tx, user_id, password_hash)? {
                return Err(StoreError::NotFound);
            }
            Ok((sessions::end(tx, ends, reason, at)?, Vec::new()))
        })
    }

    fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.write(|tx| Ok((sessions::insert(tx, session)?, Vec::new())))
    }

    fn session(&self, id: &str) -> Result<Option<(SessionRecord, Account)>, StoreError> {
        self.read(|c| sessions::with_account(c, id))
    }

    fn touch_session(
        &self,
        id: &str,
        used_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(|tx| Ok((sessions::touch(tx, id, used_at, expires_at)?, Vec::new())))
    }

    fn end_sessions(
        &self,
        set: &SessionSet,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        self.write(|tx| Ok((sessions::end(tx, set, reason, at)?, Vec::new())))
    }

    fn live_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.read(|c| sessions::live_of(c, user_id, now))
    }

    fn sessions_ended_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, EndReason)>, StoreError> {
        self.read(|c| sessions::ended_since(c, since))
    }

    fn create_request(&self, draft: Draft) -> Result<LoggedEvent, StoreError> {
        let now = self.clock.now();
        self.write(|tx| compose::create_request(&mut SqliteTx(tx), draft, now))
    }

    fn update_request(
        &self,
        id: &str,
        idem: Option<&IdemKey>,
        decide: &mut dyn FnMut(&Current) -> Result<super::Update, Refusal>,
    ) -> Result<Option<LoggedEvent>, StoreError> {
        let now = self.clock.now();
        self.write(|tx| compose::update_request(&mut SqliteTx(tx), id, idem, decide, now))
    }

    fn add_message(
        &self,
        request_id: &str,
        author: &User,
        body: &str,
        idem: Option<&IdemKey>,
    ) -> Result<Option<LoggedEvent>, StoreError> {
        let now = self.clock.now();
        self.write(|tx| {
            compose::add_message(&mut SqliteTx(tx), (request_id, author, body), idem, now)
        })
    }

    fn idempotent(&self, key: &IdemKey) -> Result<Option<IdemRecord>, StoreError> {
        self.read(|c| Ok(idem_lookup(c, key)?))
    }

    fn request(&self, id: &str) -> Result<Option<Request>, StoreError> {
        self.read(|c| requests::by_id(c, id, self.clock.now()))
    }

    fn request_detail(&self, id: &str) -> Result<Option<RequestDetail>, StoreError> {
        self.read(|c| {
            let Some(request) = requests::by_id(c, id, self.clock.now())? else {
                return Ok(None);
            };
            Ok(Some(RequestDetail {
                history: requests::history(c, id)?,
                messages: requests::messages(c, id)?,
                quote: requests::quote(c, id)?,
                request,
            }))
        })
    }

    fn message(&self, id: &str) -> Result<Option<ChatMessage>, StoreError> {
        self.read(|c| requests::message(c, id))
    }

    fn messages(&self, request_id: &str) -> Result<Vec<ChatMessage>, StoreError> {
        self.read(|c| requests::messages(c, request_id))
    }

    fn client_requests(
        &self,
        client_id: &str,
        kind: RequestKind,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<Request>, u64), StoreError> {
        self.read(|c| requests::of_client(c, client_id, kind, (page, limit), self.clock.now()))
    }

    fn query_requests(&self, query: &RequestQuery) -> Result<RequestPage, StoreError> {
        self.read(|c| requests::query(c, query, self.clock.now()))
    }

    fn record_deliveries(
        &self,
        delivered: &[(i64, String, DateTime<Utc>)],
    ) -> Result<(), StoreError> {
        self.write(|tx| Ok((metrics::record_deliveries(tx, delivered)?, Vec::new())))
    }

    fn metrics_input(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<itv_core::metrics::MetricsInput, StoreError> {
        self.read(|c| metrics::input(c, from, to, self.clock.now()))
    }

    fn alert_candidates(&self) -> Result<Vec<(Request, Vec<String>)>, StoreError> {
        self.read(|c| requests::alert_candidates(c, self.clock.now()))
    }

    fn raise_alerts(
        &self,
        request_id: &str,
        decide: &mut dyn FnMut(&Request) -> Vec<AlertDraft>,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let now = self.clock.now();
        self.write(|tx| compose::raise_alerts(&mut SqliteTx(tx), request_id, decide, now))
    }

    fn events_after(
        &self,
        after: i64,
        limit: u32,
        reader: Option<&Reader>,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        self.read(|c| events::after(c, after, limit, reader))
    }

    fn event_bounds(&self) -> Result<(i64, i64), StoreError> {
        self.read(events::bounds)
    }

    fn prune_events(&self, keep: u64) -> Result<u64, StoreError> {
        self.write(|tx| Ok((events::prune(tx, keep)?, Vec::new())))
    }

    fn log_epoch(&self) -> Result<String, StoreError> {
        self.read(events::epoch)
    }

    fn new_log_epoch(&self, reason: &str) -> Result<String, StoreError> {
        self.write(|tx| Ok((events::new_epoch(tx, reason)?, Vec::new())))
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(row(c, "SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
        })
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            run(tx,
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(((), Vec::new()))
        })
    }

    fn meta_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.write(|tx| {
            run(
                tx,
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
                params![key, value],
            )?;
            let stored = row(tx, "SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })?;
            Ok((stored, Vec::new()))
        })
    }

    /// One process owns a SQLite file, so its windows stay in memory.
    fn rate_hit(&self, _key: &str, _limit: u32) -> Result<Option<u64>, StoreError> {
        Err(StoreError::Io(
            "rate windows are kept in memory on SQLite".into(),
        ))
    }
}
