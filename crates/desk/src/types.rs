//! Serializable types the engine shares with its callers: the server's wire shapes
//! (requests, messages, feed frames) and the UI-facing ones (inbox rows, events).
//! camelCase JSON everywhere, because a Tauri shell hands them to a TypeScript UI.

use crate::quote::QuoteDoc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

/// The domain's enums, from `itv_core` (the server's own): staff or client role, the three
/// kinds of client requests, and priority (`urgent` sorts first in the inbox).
pub use itv_core::{Priority, RequestKind, Role};

/// A signed-in user as `POST /api/auth/login` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// A request of any kind, as the server sends it. Kind-specific fields
/// (`serviceType`, `items`, `type`, ...) are kept verbatim in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    #[serde(rename = "_id")]
    pub id: String,
    pub kind: RequestKind,
    #[serde(default)]
    pub ticket_number: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub site: String,
    pub status: String,
    pub priority: Priority,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_name: String,
    #[serde(default)]
    pub assignee_id: Option<String>,
    #[serde(default)]
    pub assignee_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[ts(type = "number")]
    pub version: i64,
    /// Declared before `extra`: serde hands the tracking keys to the first flattened field
    /// that names them, so they are not kept (and written back) twice.
    #[serde(flatten)]
    pub tracking: Tracking,
    #[serde(flatten)]
    #[ts(skip)]
    pub extra: Map<String, Value>,
}

/// Someone named on a request (`{_id, name}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Person {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
}

/// Who took an intervention and when, and its service-level timers: the server's
/// (`itv_core::request::Tracking`), `null` on other kinds and until it happens.
/// Acknowledgement is shared by every desk; this copy is what the server last said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Tracking {
    /// The first staff acknowledgement: explicit, or implied by an assignment or by going en route.
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<Person>,
    /// When the current technician was assigned.
    pub assigned_at: Option<String>,
    /// When the current technician acknowledged their assignment (or went en route).
    pub assignment_acknowledged_at: Option<String>,
    pub en_route_at: Option<String>,
    /// When it first reached a final status.
    pub finished_at: Option<String>,
    /// Interventions only: the timers, as of when the copy was read (see `Request::sla_at`).
    pub sla: Option<Sla>,
}

/// Where one service-level timer stands (`itv_core::sla::SlaState`).
pub use itv_core::sla::SlaState;

/// Both timers of an intervention: time to acknowledge and time to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Sla {
    pub ack_due_at: String,
    pub resolve_due_at: String,
    #[ts(type = "\"pending\" | \"at_risk\" | \"met\" | \"breached\"")]
    pub ack: SlaState,
    #[ts(type = "\"pending\" | \"at_risk\" | \"met\" | \"breached\"")]
    pub resolve: SlaState,
}

/// Statuses after which a request needs nobody's attention any more.
pub fn is_terminal_status(status: &str) -> bool {
    matches!(
        status,
        "rejected" | "completed" | "resolved" | "closed" | "cancelled" | "accepted" | "declined"
    )
}

impl Request {
    /// Whether its status needs nobody's attention any more.
    pub fn is_terminal(&self) -> bool {
        is_terminal_status(&self.status)
    }

    /// Whether a user may see this request (same scope as the server's).
    pub fn visible_to(&self, role: Role, user_id: &str) -> bool {
        match role {
            Role::Admin => true,
            Role::Client => self.client_id == user_id,
            Role::Technician => {
                self.kind == RequestKind::Intervention
                    && (self.status == "open" || self.assignee_id.as_deref() == Some(user_id))
            }
        }
    }

    /// An intervention of type `urgent` (its priority is then `urgent`).
    pub fn is_urgent_intervention(&self) -> bool {
        self.kind == RequestKind::Intervention
            && (self.priority == Priority::Urgent
                || self.extra.get("type").and_then(Value::as_str) == Some("urgent"))
    }
}

/// One entry of a request's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: String,
    #[serde(default)]
    pub actor_id: Option<String>,
    #[serde(default)]
    pub actor_name: Option<String>,
    pub action: String,
    #[serde(default)]
    pub from_status: Option<String>,
    #[serde(default)]
    pub to_status: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// One chat message on a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    #[serde(rename = "_id")]
    pub id: String,
    pub request_id: String,
    #[serde(default)]
    pub author_id: String,
    #[serde(default)]
    pub author_name: String,
    #[serde(default)]
    pub author_role: Option<Role>,
    pub body: String,
    pub created_at: String,
}

/// The seed's notification payload riding inside a feed event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SeedNotification {
    #[serde(rename = "type")]
    pub notification_type: String,
    pub title: String,
    pub message: String,
    #[serde(default)]
    #[ts(type = "Record<string, unknown>")]
    pub data: Value,
}

/// One event of the durable feed (`GET /api/feed`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedEvent {
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub kind: RequestKind,
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub ticket_number: Option<String>,
    pub at: String,
    pub request: Request,
    #[serde(default)]
    pub chat_message: Option<ChatMessage>,
    #[serde(default)]
    pub notification: Option<SeedNotification>,
    /// `request.escalated`: the level reached (1, 2, …) and why.
    #[serde(default)]
    pub escalation_level: Option<u32>,
    #[serde(default)]
    pub escalation_reason: Option<EscalationReason>,
    /// `request.sla_breached`: which timer was missed.
    #[serde(default)]
    pub sla_timer: Option<SlaTimer>,
}

/// Why the server escalated, and which service-level timer a breach names (the server's own).
pub use itv_core::alerts::{EscalationReason, SlaTimer};

/// What a feed text frame can be.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Event(Box<FeedEvent>),
    Ready {
        seq: i64,
        /// The log's identity (a server restored from a backup starts another).
        epoch: Option<String>,
    },
    /// An event frame (it has a seq and a request) this build cannot decode.
    Undecodable {
        seq: i64,
        raw: String,
        error: String,
    },
    ResyncRequired {
        oldest_seq: i64,
        head_seq: i64,
    },
    Error {
        code: String,
        message: String,
        /// `session_ended` only: why (`revoked`, `deactivated`...).
        reason: Option<String>,
    },
    Unknown(String),
}

impl Frame {
    /// Parses one text frame; never fails (unknown shapes become `Unknown`).
    pub fn parse(text: &str) -> Frame {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(_) => return Frame::Unknown(text.to_owned()),
        };
        let int = |k: &str| value.get(k).and_then(Value::as_i64).unwrap_or(0);
        let string = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        match value.get("type").and_then(Value::as_str) {
            Some("ready") => Frame::Ready {
                seq: int("seq"),
                epoch: value
                    .get("epoch")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            Some("resync_required") => Frame::ResyncRequired {
                oldest_seq: int("oldestSeq"),
                head_seq: int("headSeq"),
            },
            Some("error") => Frame::Error {
                code: string("code"),
                message: string("message"),
                reason: value
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            _ if value.get("seq").is_some() && value.get("request").is_some() => {
                let seq = int("seq");
                match serde_json::from_value::<FeedEvent>(value) {
                    Ok(ev) => Frame::Event(Box::new(ev)),
                    Err(e) => Frame::Undecodable {
                        seq,
                        raw: text.to_owned(),
                        error: e.to_string(),
                    },
                }
            }
            _ => Frame::Unknown(text.to_owned()),
        }
    }
}

/// One row of the inbox (a virtual list asks for pages of these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InboxItem {
    pub id: String,
    pub kind: RequestKind,
    pub ticket_number: Option<String>,
    pub title: String,
    pub site: String,
    pub client_name: String,
    pub status: String,
    pub priority: Priority,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    /// When the request was created (RFC 3339): the start of its timers, so a countdown
    /// turns amber on its own (`due − 0.2 × (due − createdAt)`, as `Deadline::after`).
    pub created_at: String,
    pub updated_at: String,
    pub unread: bool,
    /// "Pris par …": who acknowledged it, and when (interventions).
    pub acknowledged_by_name: Option<String>,
    pub acknowledged_at: Option<String>,
    /// The intervention's timers with their states as of this read (not as cached).
    pub sla: Option<Sla>,
    /// The deadline still to meet, for a countdown: acknowledgement while nobody has
    /// taken it, then resolution; `null` once final.
    pub due_at: Option<String>,
}

/// The order of the inbox after the active urgent requests, which always come first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum InboxSort {
    /// Most recent activity first.
    #[default]
    Updated,
    /// Most recently created first.
    Newest,
    /// Oldest created first: the triage queue.
    Oldest,
    /// Urgent, high, medium, low; most recent activity first within each.
    Priority,
    /// The deadline still to meet, soonest (overdue) first; those without one last.
    Due,
}

/// Filters, sort and window of an inbox query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct InboxQuery {
    pub kind: Option<RequestKind>,
    pub status: Option<String>,
    pub priority: Option<Priority>,
    pub assigned_to_me: bool,
    pub unread_only: bool,
    /// Leaves out requests in a final status (closed, rejected, declined...).
    pub active_only: bool,
    /// *En retard*: interventions not final whose acknowledgement or resolution target is
    /// missed (now, not as cached).
    pub overdue_only: bool,
    pub sort: InboxSort,
    /// Full-text filter (same matching as `search`).
    pub text: Option<String>,
    pub limit: Option<u32>,
    pub offset: u32,
}

/// A window of the inbox plus the total count matching the filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    #[ts(type = "number")]
    pub total: u64,
    pub offset: u32,
}

/// Everything the detail pane shows for one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RequestDetail {
    pub request: Request,
    pub history: Vec<HistoryEntry>,
    pub messages: Vec<ChatMessage>,
    /// The priced quote of a quote request, once prepared.
    pub quote: Option<QuoteDoc>,
    pub unread: bool,
    /// True when the detail came from the server just now, false when only cached.
    pub fresh: bool,
    /// Whether *Je prends* means something for this user: nobody has taken it yet, or it is
    /// assigned to them and they have not acknowledged the assignment.
    pub can_acknowledge: bool,
}

/// Live/offline indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum ConnectionState {
    SignedOut,
    Connecting,
    Syncing,
    Live,
    Offline {
        #[serde(rename = "lastSyncAt")]
        last_sync_at: Option<String>,
    },
}

/// What the status bar owns up to besides the connection: notices the notification server
/// has not accepted yet (they are retried), and feed events or rows this build could not
/// read (kept aside, retried after an update). Zero and zero when all is well.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub notices_failing: u32,
    pub quarantined: u32,
}

/// Where the session secret lives for this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum SecretStorage {
    /// The OS secret store (Secret Service, Keychain, Credential Manager).
    Keyring,
    /// No secret store reachable: kept in memory for this run only.
    Memory { reason: String },
}

/// The signed-in account (non-secret parts; stored in the cache).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub server_url: String,
    pub user: User,
    pub secret_storage: SecretStorage,
}

/// Everything the engine tells the UI shell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum EngineEvent {
    RequestsChanged {
        ids: Vec<String>,
    },
    Connection {
        state: ConnectionState,
    },
    SyncProgress {
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number | null")]
        total: Option<u64>,
    },
    /// The signed-in account's outbox counts; `abandoned`: other accounts' entries.
    Outbox {
        #[ts(type = "number")]
        pending: u64,
        #[ts(type = "number")]
        refused: u64,
        #[ts(type = "number")]
        held: u64,
        #[ts(type = "number")]
        abandoned: u64,
    },
    NotificationClicked {
        #[serde(rename = "requestId")]
        request_id: Option<String>,
    },
    SessionChanged {
        session: Option<Session>,
    },
    /// The server ended the session (or stopped accepting its token): syncing stopped, the
    /// secret is forgotten, the user must sign in again. Sent once per ending.
    SessionEnded {
        end: crate::accounts::SessionEnd,
    },
    Health {
        health: Health,
    },
}
