//! Storage behind one small trait, so that a PostgreSQL backend can follow the
//! SQLite one for deployments that outgrow a single machine.
//!
//! Every write is one transaction that also appends its feed event: a request never
//! exists without its event, nor the reverse. Business rules stay out of here: an
//! update receives a closure that decides, from the current state, what changes.

mod compose;
pub mod from_sqlite;
pub mod postgres;
pub mod sqlite;

use chrono::{DateTime, Utc};
use itv_core::account::{AccountPatch, AccountRefusal, EndReason};
use itv_core::event::Audience;
use itv_core::request::{ChatMessage, HistoryEntry};
use itv_core::status::Status;
use itv_core::{
    Details, EventType, FeedEvent, FieldErrors, Notification, Priority, Request, RequestKind, Role,
};
use serde::Serialize;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Called with each committed event, in `seq` order (SQLite: before the next write starts;
/// PostgreSQL: from the tailer, for every instance's events).
pub type EventSink = std::sync::Arc<dyn Fn(&LoggedEvent) + Send + Sync>;

/// Hands committed events to the sink, one by one. They are durable whatever the sink does:
/// should it panic on one, that one reaches live subscribers from the log only (when they
/// resume), the others are still handed over, and the writes they came from are answered
/// and the tailer goes on.
pub(crate) fn publish(sink: &EventSink, events: &[LoggedEvent]) {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    for event in events {
        if catch_unwind(AssertUnwindSafe(|| sink(event))).is_err() {
            tracing::error!(
                seq = event.seq(),
                "the live sink panicked: this event reaches subscribers from the log only"
            );
        }
    }
}

/// The store a server or a command works on: PostgreSQL at `database_url`, else the
/// SQLite file at `sqlite_path`. Blocks (connects, migrates).
pub fn open(
    database_url: Option<&str>,
    sqlite_path: &std::path::Path,
    sink: Option<EventSink>,
    options: sqlite::WriteOptions,
    clock: crate::clock::Clock,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    Ok(match database_url {
        Some(url) => std::sync::Arc::new(PgStore::open(url, sink)?.with_clock(clock)),
        None => {
            std::sync::Arc::new(SqliteStore::open(sqlite_path, sink, options)?.with_clock(clock))
        }
    })
}

/// A new id for a row (users, requests, messages): a UUID v7, so ids sort by creation.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Timestamps as fixed-width RFC 3339 UTC strings, so text order is time order (SQLite's
/// columns, list cursors).
pub(crate) fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// An account as admins see it: its state and when it was last used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// The last use of any of its sessions.
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl Account {
    pub fn user(&self) -> User {
        User {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
        }
    }
}

/// An account after an admin's change, and the sessions the change ended.
#[derive(Debug, Clone)]
pub struct AccountChange {
    pub account: Account,
    /// Why sessions ended, and which; `None` when the change ends none.
    pub ended: Option<(EndReason, Vec<String>)>,
}

/// What sign-in needs: the user, the stored hash, and whether the account is active.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user: User,
    pub password_hash: String,
    pub active: bool,
}

/// A session as stored: one per sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(skip)]
    pub user_id: String,
    pub device: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(skip)]
    pub ended: Option<(DateTime<Utc>, EndReason)>,
}

/// Which sessions a change ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSet {
    /// This session, if it belongs to this user.
    One { id: String, user_id: String },
    /// Every session of the user.
    AllOf(String),
    /// Every session of the user but one (the caller's own).
    AllOfExcept { user_id: String, keep: String },
}

#[derive(Debug, Clone)]
pub struct NewUserRecord {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
}

/// A request as a client submits it, validated, before it has an id or a number.
#[derive(Debug, Clone)]
pub struct Draft {
    pub client: User,
    pub title: String,
    pub description: String,
    pub site: String,
    pub priority: Priority,
    pub details: Details,
    /// The service-level target the request is held to (interventions).
    pub sla: Option<itv_core::sla::Target>,
}

/// The state an update decides from.
#[derive(Debug, Clone)]
pub struct Current {
    pub request: Request,
    /// The instant the change is made at (the store's clock).
    pub now: DateTime<Utc>,
    pub has_quote: bool,
    /// The prepared quote (JSON), if any.
    pub quote: Option<serde_json::Value>,
}

/// What an update changes; the store bumps `version` and `updatedAt` itself.
#[derive(Debug, Clone)]
pub struct Update {
    pub request: Request,
    pub event_type: EventType,
    pub notification: Option<Notification>,
    pub history: HistoryDraft,
    /// A prepared quote (JSON) saved with the change.
    pub quote: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct HistoryDraft {
    pub actor: User,
    pub action: String,
    pub note: Option<String>,
    /// Hidden from the client (`HistoryEntry::as_seen_by`).
    pub staff_only: bool,
}

/// Why an update closure refused the change.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    #[error("introuvable")]
    NotFound,
    #[error("interdit")]
    Forbidden,
    #[error("transition impossible depuis {}", current.as_str())]
    InvalidTransition { current: Status },
    #[error("données invalides: {0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    QuoteExpired(itv_core::quote::QuoteExpired),
    /// Nothing to change (a repeated acknowledgement): nothing is written.
    #[error("rien à changer")]
    Unchanged,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("stored data is not valid JSON: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("email already used")]
    EmailTaken,
    #[error("request not found")]
    NotFound,
    #[error("change refused: {0}")]
    Refused(Refusal),
    #[error("account change refused: {0}")]
    Account(AccountRefusal),
    #[error("{0}")]
    Io(String),
    /// The database cannot take the call now (every connection busy): try again shortly.
    #[error("{0}")]
    Unavailable(String),
}

/// A repeated `Idempotency-Key` from the same user, on the same route and request,
/// returns the first outcome; the same key elsewhere is a new call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemKey {
    pub user_id: String,
    /// The route template and the request it targets, e.g.
    /// `POST /api/requests/{id}/status 0193…` (see `routes::requests::idem_key`).
    pub scope: String,
    pub key: String,
}

/// What a retried key points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemRecord {
    pub request_id: String,
    /// The id of the chat message the first call created, if any.
    pub message_id: Option<String>,
}

/// An alert the scheduler raises: its key (once per request) and its event.
#[derive(Debug, Clone)]
pub struct AlertDraft {
    pub key: String,
    /// Everything but `seq` and `request` (the store fills both).
    pub event: FeedEvent,
    pub audience: Audience,
}

/// One event as written to the log, with who may receive it.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub event: FeedEvent,
    pub audience: Audience,
}

impl LoggedEvent {
    pub fn seq(&self) -> i64 {
        self.event.seq
    }
}

/// Who reads the event log, for its audience filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub role: Role,
    pub user_id: String,
}

/// Filters of the staff list; `scope` narrows it to what the caller may see.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    pub kind: Option<RequestKind>,
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
    pub text: Option<String>,
    /// `breached` or `at_risk`: either timer in that state.
    pub sla: Option<itv_core::sla::SlaState>,
    pub sort: ListSort,
    pub cursor: Option<Cursor>,
    pub limit: u32,
    pub scope: Scope,
}

/// Order of the staff list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListSort {
    /// Last change first.
    #[default]
    Updated,
    /// Soonest service-level due time first (`Deadlines::next_due`); none last.
    Due,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    All,
    /// Open interventions and those assigned to this technician.
    Technician(String),
    Client(String),
}

/// Position in the list: the last row's sort key (`updatedAt`, or its due time with
/// `sort=due`) and `_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: String,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.at, self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (at, id) = s.split_once('_')?;
        DateTime::parse_from_rfc3339(at).ok()?;
        (!id.is_empty()).then(|| Cursor {
            at: at.to_string(),
            id: id.to_string(),
        })
    }
}

/// One page of the staff list.
#[derive(Debug, Clone)]
pub struct RequestPage {
    pub requests: Vec<Request>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Cursor>,
    /// How many requests match the filters: given on the first page only.
    pub total: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct RequestDetail {
    pub request: Request,
    pub history: Vec<HistoryEntry>,
    pub messages: Vec<ChatMessage>,
    pub quote: Option<serde_json::Value>,
}

/// The storage the server runs on. Methods block: callers run them off the async
/// executor (`spawn_blocking`).
pub trait Store: Send + Sync + 'static {
    fn create_user(&self, user: NewUserRecord) -> Result<User, StoreError>;
    fn login_record(&self, email: &str) -> Result<Option<LoginRecord>, StoreError>;
    fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The active accounts of one role, by name.
    fn users_with_role(&self, role: Role) -> Result<Vec<User>, StoreError>;
    fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    fn account(&self, id: &str) -> Result<Option<Account>, StoreError>;
    /// Applies an admin's change in one transaction, refusing it if it would leave no
    /// active admin; a deactivation or a role change ends the account's sessions.
    fn update_account(
        &self,
        id: &str,
        patch: &AccountPatch,
        at: DateTime<Utc>,
    ) -> Result<AccountChange, StoreError>;
    fn password_hash(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// Stores a new password hash and ends `ends` in the same transaction.
    fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        ends: &SessionSet,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError>;

    fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// The session and its user as they are now, ended or not.
    fn session(&self, id: &str) -> Result<Option<(SessionRecord, Account)>, StoreError>;
    /// Records a use: the session's new last use and expiry.
    fn touch_session(
        &self,
        id: &str,
        used_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Ends the sessions in `set` that are still alive; returns their ids.
    fn end_sessions(
        &self,
        set: &SessionSet,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError>;
    /// The user's sessions that have not ended or expired by `now`, newest use first.
    fn live_sessions(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionRecord>, StoreError>;
    /// Sessions ended at or after `since` (by anyone, this process or another).
    fn sessions_ended_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, EndReason)>, StoreError>;

    /// Numbers the request (tickets), stores it with its history and its event.
    fn create_request(&self, draft: Draft) -> Result<LoggedEvent, StoreError>;
    /// Reads the request, lets `decide` choose the change, and writes it with its
    /// event, all in one transaction. With `idem`, a key seen before is refused with
    /// `Ok(None)` and nothing changes.
    fn update_request(
        &self,
        id: &str,
        idem: Option<&IdemKey>,
        decide: &mut dyn FnMut(&Current) -> Result<Update, Refusal>,
    ) -> Result<Option<LoggedEvent>, StoreError>;
    fn add_message(
        &self,
        request_id: &str,
        author: &User,
        body: &str,
        idem: Option<&IdemKey>,
    ) -> Result<Option<LoggedEvent>, StoreError>;
    fn idempotent(&self, key: &IdemKey) -> Result<Option<IdemRecord>, StoreError>;

    fn request(&self, id: &str) -> Result<Option<Request>, StoreError>;
    fn request_detail(&self, id: &str) -> Result<Option<RequestDetail>, StoreError>;
    fn message(&self, id: &str) -> Result<Option<ChatMessage>, StoreError>;
    fn messages(&self, request_id: &str) -> Result<Vec<ChatMessage>, StoreError>;
    /// A client's own requests of one kind, newest first: (page, total).
    fn client_requests(
        &self,
        client_id: &str,
        kind: RequestKind,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<Request>, u64), StoreError>;
    fn query_requests(&self, query: &RequestQuery) -> Result<RequestPage, StoreError>;

    /// Records when staff desks first received events `(seq, request id, at)`.
    fn record_deliveries(
        &self,
        delivered: &[(i64, String, DateTime<Utc>)],
    ) -> Result<(), StoreError>;
    /// What the metrics need about the requests created in `[from, to)`.
    fn metrics_input(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<itv_core::metrics::MetricsInput, StoreError>;

    /// Open interventions that may have alerts to raise, each with the keys of the
    /// alerts it has raised already (`itv_core::alerts`).
    fn alert_candidates(&self) -> Result<Vec<(Request, Vec<String>)>, StoreError>;
    /// Reads the request, lets `decide` list the alerts due on it, and records each
    /// whose key it has not raised yet, with its event, in one transaction; returns
    /// the events written (none for keys seen before).
    fn raise_alerts(
        &self,
        request_id: &str,
        decide: &mut dyn FnMut(&Request) -> Vec<AlertDraft>,
    ) -> Result<Vec<LoggedEvent>, StoreError>;

    /// Events with `seq > after`, oldest first, at most `limit`; with a `reader`, only
    /// those its audience admits (filtered by the database, not after reading).
    fn events_after(
        &self,
        after: i64,
        limit: u32,
        reader: Option<&Reader>,
    ) -> Result<Vec<LoggedEvent>, StoreError>;
    /// (oldest seq still held, newest seq); (0, 0) when the log is empty.
    fn event_bounds(&self) -> Result<(i64, i64), StoreError>;
    /// Drops the oldest events, keeping the newest `keep`; returns how many went.
    fn prune_events(&self, keep: u64) -> Result<u64, StoreError>;
    /// The log's epoch: an opaque id made with the log and again whenever the log
    /// may have handed out seqs it no longer holds (`log_identity.rs`). A `seq` means
    /// something only together with the epoch it was read in.
    fn log_epoch(&self) -> Result<String, StoreError>;
    /// Starts a new random epoch at the current head, recording `reason`; returns it.
    fn new_log_epoch(&self, reason: &str) -> Result<String, StoreError>;

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;
    fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// The value of `key`, storing `value` first if there is none: instances starting
    /// together all get the first one stored.
    fn meta_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError>;

    /// Counts one hit on `key` in its one-minute window, kept in the database for every
    /// instance; `Some(seconds left)` once more than `limit` hits fell in the window.
    /// Only stores shared by several instances keep windows (`ratelimit.rs`).
    fn rate_hit(&self, key: &str, limit: u32) -> Result<Option<u64>, StoreError>;
}
