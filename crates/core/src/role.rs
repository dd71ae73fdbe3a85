//! Who is acting: the three roles a token carries.

use serde::{Deserialize, Serialize};

/// Staff or client role, as tokens and the API spell it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    Admin,
    Technician,
    Client,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Technician => "TECHNICIAN",
            Role::Client => "CLIENT",
        }
    }

    /// Accepts `ADMIN`, `admin`, `Admin`… as typed on a command line or in a form.
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ADMIN" => Some(Role::Admin),
            "TECHNICIAN" => Some(Role::Technician),
            "CLIENT" => Some(Role::Client),
            _ => None,
        }
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Technician)
    }
}
