//! The PostgreSQL store, for deployments of several server instances on one managed
//! database: every table, query and transaction of the SQLite store, and nothing that
//! matters kept in one process (see docs/deploy.md).
//!
//! Where SQLite's single writer serialises everything, each write here is its own
//! transaction on a pooled connection, and what must take turns says so: the request's
//! row (`FOR UPDATE`), the ticket counter's row, the event counter's row (events.rs),
//! an idempotency key's advisory lock, the active admins' rows.

mod events;
mod metrics;
mod pool;
mod requests;
mod schema;
mod sessions;
mod tail;
mod users;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use itv_core::account::{AccountPatch, EndReason};
use itv_core::request::ChatMessage;
use itv_core::{FeedEvent, Request, RequestKind, Role};
use postgres::GenericClient;

use super::{
    Account, AccountChange, AlertDraft, Current, Draft, IdemKey, IdemRecord, LoggedEvent,
    LoginRecord, NewUserRecord, Reader, Refusal, RequestDetail, RequestPage, RequestQuery,
    SessionRecord, SessionSet, Store, StoreError, Update, User,
};
use super::{compose, new_id};
use crate::clock::Clock;
use crate::store::EventSink;
use pool::Pool;
use tail::Signal;

/// Connections one instance opens at most (PostgreSQL's default allows 100 in all).
const POOL_MAX: usize = 32;

pub struct PgStore {
    pool: Arc<Pool>,
    signal: Arc<Signal>,
    clock: Clock,
    /// Where it is, for logs: the URL without its password.
    target: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user@host/db`.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

impl PgStore {
    /// Connects, migrates and, with a `sink`, starts handing it every event committed
    /// from now on by any instance (tail.rs).
    pub fn open(url: &str, sink: Option<EventSink>) -> Result<PgStore, StoreError> {
        let mut config: postgres::Config = url.parse()?;
        config.application_name("itv-server");
        config.connect_timeout(std::time::Duration::from_secs(10));
        // A row another session holds (an operator's open transaction, say) is waited
        // for as SQLite's busy timeout waits, then answered 503, never forever.
        config.options("-c lock_timeout=5000");
        let pool = Arc::new(Pool::new(config, POOL_MAX));
        let head = {
            let mut client = pool.get()?;
            schema::migrate(&mut client)?;
            events::bounds(&mut *client)?.1
        };
        let signal = Arc::new(Signal::default());
        if let Some(sink) = sink {
            tail::start(pool.clone(), signal.clone(), sink, head);
        }
        Ok(PgStore {
            pool,
            signal,
            clock: Clock::default(),
            target: without_password(url),
        })
    }

    /// The same store, telling time with `clock` (shared with the server).
    pub fn with_clock(mut self, clock: Clock) -> PgStore {
        self.clock = clock;
        self
    }

    /// Runs `f` on a pooled connection, outside any transaction (reads, and single
    /// statements that commit alone). A connection found dead (the database restarted,
    /// or ended it) is dropped and `f` runs once more on a new one.
    fn read<T>(
        &self,
        f: impl Fn(&mut postgres::Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.pool.get()?;
        match f(&mut client) {
            Err(StoreError::Postgres(e)) if found_dead(&e) => {
                self.pool.lost(client);
                f(&mut *self.pool.get()?)
            }
            done => done,
        }
    }

    /// Runs `f` in one transaction: all of it or, on any error, nothing. Its events are
    /// handed on by the tailer, which this wakes.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<(T, Vec<LoggedEvent>), StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.pool.get()?;
        // A dead connection fails at BEGIN, before `f` has run: take another.
        if let Err(e) = client.batch_execute("BEGIN") {
            if !found_dead(&e) {
                return Err(e.into());
            }
            self.pool.lost(client);
            client = self.pool.get()?;
            client.batch_execute("BEGIN")?;
        }
        client.in_transaction = true;
        let done = f(&mut client)
            .and_then(|(out, events)| Ok((out, events, client.batch_execute("COMMIT")?)));
        match done {
            Ok((out, events, ())) => {
                client.in_transaction = false;
                drop(client);
                if let Some(last) = events.last() {
                    self.signal.committed(last.seq());
                }
                Ok(out)
            }
            Err(e) => {
                match &e {
                    StoreError::Postgres(db) if found_dead(db) => self.pool.lost(client),
                    // Refused or failed: nothing of it stays.
                    _ => {
                        if client.batch_execute("ROLLBACK").is_ok() {
                            client.in_transaction = false;
                        }
                    }
                }
                Err(e)
            }
        }
    }
}

/// The connection is gone, not the statement wrong: worth one more try elsewhere.
pub(crate) fn found_dead(e: &postgres::Error) -> bool {
    e.is_closed()
        || e.code() == Some(&postgres::error::SqlState::ADMIN_SHUTDOWN)
        || (e.as_db_error().is_none() && e.code().is_none())
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.signal.stop();
    }
}

fn idem_lookup(
    c: &mut impl GenericClient,
    key: &IdemKey,
) -> Result<Option<IdemRecord>, StoreError> {
    Ok(c
        .query_opt(
            "SELECT request_id, message_id FROM idempotency WHERE user_id = $1 AND scope = $2 AND key = $3",
            &[&key.user_id, &key.scope, &key.key],
        )?
        .map(|r| IdemRecord {
            request_id: r.get(0),
            message_id: r.get(1),
        }))
}

/// A write's open transaction (BEGIN … COMMIT on a pooled connection), for the steps
/// of `compose`.
impl compose::Tx for postgres::Client {
    fn insert_request(&mut self, draft: Draft, now: DateTime<Utc>) -> Result<Request, StoreError> {
        requests::insert(self, draft, now)
    }

    fn request_for_change(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Request>, StoreError> {
        requests::by_id_for_update(self, id, now)
    }

    fn quote(&mut self, request_id: &str) -> Result<Option<serde_json::Value>, StoreError> {
        requests::quote(self, request_id)
    }

    fn apply_update(
        &mut self,
        before: &Request,
        update: Update,
        now: DateTime<Utc>,
    ) -> Result<Request, StoreError> {
        requests::apply_update(self, before, update, now)
    }

    fn insert_message(&mut self, message: &ChatMessage) -> Result<(), StoreError> {
        requests::insert_message(self, message)
    }

    fn record_alert(
        &mut self,
        request_id: &str,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        requests::record_alert(self, request_id, key, at)
    }

    /// Concurrent calls with one key, on any instance, take turns on an advisory lock
    /// held until the commit.
    fn idem_seen(&mut self, key: &IdemKey) -> Result<bool, StoreError> {
        self.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2 || chr(31) || $3, 0))",
            &[&key.user_id, &key.scope, &key.key],
        )?;
        Ok(idem_lookup(self, key)?.is_some())
    }

    fn idem_record(
        &mut self,
        key: &IdemKey,
        request_id: &str,
        message_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO idempotency (user_id, scope, key, request_id, message_id, created_at) VALUES ($1, $2, $3, $4, $5, now())",
            &[&key.user_id, &key.scope, &key.key, &request_id, &message_id],
        )?;
        Ok(())
    }

    fn append_event(
        &mut self,
        event: FeedEvent,
        audience: itv_core::event::Audience,
    ) -> Result<LoggedEvent, StoreError> {
        events::append_event(self, event, audience)
    }
}

impl Store for PgStore {
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
            let ended = match users::update(tx, &current, patch)? {
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
        self.read(|c| sessions::touch(c, id, used_at, expires_at))
    }

    fn end_sessions(
        &self,
        set: &SessionSet,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        self.read(|c| sessions::end(c, set, reason, at))
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
        self.write(|c| compose::create_request(c, draft, now))
    }

    fn update_request(
        &self,
        id: &str,
        idem: Option<&IdemKey>,
        decide: &mut dyn FnMut(&Current) -> Result<Update, Refusal>,
    ) -> Result<Option<LoggedEvent>, StoreError> {
        let now = self.clock.now();
        self.write(|c| compose::update_request(c, id, idem, decide, now))
    }

    fn add_message(
        &self,
        request_id: &str,
        author: &User,
        body: &str,
        idem: Option<&IdemKey>,
    ) -> Result<Option<LoggedEvent>, StoreError> {
        let now = self.clock.now();
        self.write(|c| compose::add_message(c, (request_id, author, body), idem, now))
    }

    fn idempotent(&self, key: &IdemKey) -> Result<Option<IdemRecord>, StoreError> {
        self.read(|c| idem_lookup(c, key))
    }

    fn request(&self, id: &str) -> Result<Option<Request>, StoreError> {
        self.read(|c| requests::by_id(c, id, self.clock.now()))
    }

    fn request_detail(&self, id: &str) -> Result<Option<RequestDetail>, StoreError> {
        // One snapshot for the four reads, as SQLite's read transaction gives.
        self.write(|tx| {
            tx.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
            let Some(request) = requests::by_id(tx, id, self.clock.now())? else {
                return Ok((None, Vec::new()));
            };
            let detail = RequestDetail {
                history: requests::history(tx, id)?,
                messages: requests::messages(tx, id)?,
                quote: requests::quote(tx, id)?,
                request,
            };
            Ok((Some(detail), Vec::new()))
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
        self.write(|c| compose::raise_alerts(c, request_id, decide, now))
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
        self.read(|c| {
            c.execute(
                "DELETE FROM rate_windows WHERE started_at < now() - interval '1 minute'",
                &[],
            )?;
            events::prune(c, keep)
        })
    }

    fn log_epoch(&self) -> Result<String, StoreError> {
        self.read(events::epoch)
    }

    fn new_log_epoch(&self, reason: &str) -> Result<String, StoreError> {
        self.read(|c| events::new_epoch(c, reason))
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(
                c.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?
                    .map(|r| r.get(0)),
            )
        })
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.read(|c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )?;
            Ok(())
        })
    }

    fn meta_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.read(|c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&key, &value],
            )?;
            Ok(
                c.query_one("SELECT value FROM meta WHERE key = $1", &[&key])?
                    .get(0),
            )
        })
    }

    fn rate_hit(&self, key: &str, limit: u32) -> Result<Option<u64>, StoreError> {
        self.read(|c| {
            let row = c.query_one(
                "INSERT INTO rate_windows (key, started_at, hits) VALUES ($1, now(), 1)
                 ON CONFLICT (key) DO UPDATE SET
                   started_at = CASE WHEN rate_windows.started_at <= now() - interval '1 minute'
                                THEN now() ELSE rate_windows.started_at END,
                   hits = CASE WHEN rate_windows.started_at <= now() - interval '1 minute'
                          THEN 1 ELSE rate_windows.hits + 1 END
                 RETURNING hits, CEIL(EXTRACT(EPOCH FROM started_at + interval '1 minute' - now()))::bigint",
                &[&key],
            )?;
            let (hits, left): (i32, i64) = (row.get(0), row.get(1));
            Ok((hits as i64 > i64::from(limit)).then_some(left.max(1) as u64))
        })
    }
}
