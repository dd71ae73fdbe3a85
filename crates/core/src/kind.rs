//! The three kinds of request a client can create.

use serde::{Deserialize, Serialize};

/// The three kinds of client requests.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    Project,
    Intervention,
    Quote,
}

impl RequestKind {
    pub const ALL: [RequestKind; 3] = [
        RequestKind::Project,
        RequestKind::Intervention,
        RequestKind::Quote,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Project => "project",
            RequestKind::Intervention => "intervention",
            RequestKind::Quote => "quote",
        }
    }

    pub fn parse(s: &str) -> Option<RequestKind> {
        RequestKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Ticket prefix; projects carry no ticket number.
    pub fn ticket_prefix(self) -> Option<&'static str> {
        match self {
            RequestKind::Project => None,
            RequestKind::Intervention => Some("INT"),
            RequestKind::Quote => Some("DEV"),
        }
    }

    /// French label, for notifications and messages.
    pub fn label_fr(self) -> &'static str {
        match self {
            RequestKind::Project => "projet",
            RequestKind::Intervention => "intervention",
            RequestKind::Quote => "devis",
        }
    }
}
