//! The engine's error type, and its `{code, message}` form for the UI.

use std::collections::BTreeMap;

use serde::Serialize;
use ts_rs::TS;

/// An error the server answered with (`{success:false, code, message, errors, reason}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerRefusal {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub current_status: Option<String>,
    /// `session_ended` only: why the session ended (`revoked`, `deactivated`...).
    #[serde(default)]
    pub reason: Option<String>,
    /// The server's French message per faulty field (`errors`), e.g. `newPassword`.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The `Retry-After` header of a 429 or 503, as sent (seconds or an HTTP date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(skip)]
    pub retry_after: Option<String>,
}

impl ServerRefusal {
    /// The server no longer accepts this session (ended, or a token it does not know).
    pub fn is_session_lost(&self) -> bool {
        self.status == 401 || self.code == "session_ended"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not signed in")]
    NotSignedIn,
    #[error("server unreachable: {0}")]
    Network(String),
    #[error("server refused ({}): {}", .0.code, .0.message)]
    Server(Box<ServerRefusal>),
    #[error("unexpected server answer: {0}")]
    Protocol(String),
    #[error("cache: {0}")]
    Cache(#[from] rusqlite::Error),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Protocol(e.to_string())
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(e.to_string())
    }
}

/// The shape errors take when crossing to the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UiError {
    pub code: String,
    pub message: String,
    /// A message per faulty field when the server named them (forms show each beside its field).
    pub fields: BTreeMap<String, String>,
}

impl Error {
    /// A stable machine code for the UI.
    pub fn code(&self) -> &str {
        match self {
            Error::NotSignedIn => "not_signed_in",
            Error::Network(_) => "network",
            Error::Server(r) => &r.code,
            Error::Protocol(_) => "protocol",
            Error::Cache(_) => "cache",
            Error::NotFound(_) => "not_found",
            Error::Invalid(_) => "invalid",
            Error::Io(_) => "io",
            Error::Internal(_) => "internal",
        }
    }

    /// True when retrying later may succeed (the server was not reached or overloaded).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network(_) => true,
            Error::Server(r) => r.status == 429 || r.status >= 500,
            _ => false,
        }
    }

    pub fn to_ui(&self) -> UiError {
        let (message, fields) = match self {
            Error::Server(r) => (r.message.clone(), r.fields.clone()),
            other => (other.to_string(), BTreeMap::new()),
        };
        UiError {
            code: self.code().to_owned(),
            message,
            fields,
        }
    }
}
