//! Accounts and sessions as the server keeps them (issue 9): the user's own sessions, a
//! password change, the admins' account management, and how the engine names this device.
//! Wire shapes and the HTTP calls only; the engine decides what an ended session means.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;

use crate::api::Api;
use crate::error::{Error, Result, ServerRefusal};
use crate::types::Role;

/// The User-Agent of every call, e.g. `itv-desk/0.1.0 (Linux)`.
pub fn user_agent() -> String {
    format!("itv-desk/{} ({})", env!("CARGO_PKG_VERSION"), os_name())
}

fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "windows" => "Windows",
        "macos" => "macOS",
        other => other,
    }
}

/// The device label sent at sign-in: `IT Vision Desk · Linux · <hostname>`.
pub fn device_label() -> String {
    let mut label = format!("IT Vision Desk · {}", os_name());
    if let Some(host) = hostname() {
        label.push_str(" · ");
        label.push_str(&host);
    }
    label
}

fn hostname() -> Option<String> {
    #[cfg(target_os = "linux")]
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    #[cfg(not(target_os = "linux"))]
    let name = std::env::var("COMPUTERNAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok();
    name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())
}

/// One of the user's live sessions (`GET /api/auth/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    #[serde(rename = "_id")]
    pub id: String,
    pub device: String,
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    /// The session this engine signed in with ("cet appareil").
    #[serde(default)]
    pub current: bool,
}

/// A staff or client account as admins list it (`GET /api/staff/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// A creation answers with the plain user: a new account is active.
    #[serde(default = "active_by_default")]
    pub active: bool,
    #[serde(default)]
    pub last_seen_at: Option<String>,
}

fn active_by_default() -> bool {
    true
}

/// A new account (`POST /api/staff/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewAccount {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub password: String,
}

/// What an admin changes on an account (`PATCH /api/staff/users/{id}`); `None` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub active: Option<bool>,
}

/// Why the server stopped accepting the engine's session, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionEnd {
    /// `session_ended` (the server ended it) or `unauthorized` (a token it does not accept).
    pub code: String,
    /// `revoked`, `deactivated`, `role_changed`, `password_changed`, `password_reset`,
    /// `expired`, `signed_out`; none for a bad token.
    pub reason: Option<String>,
    /// The server's French sentence ("Votre compte a été désactivé par un administrateur").
    pub message: String,
}

/// Said when the server gave no sentence of its own.
const FALLBACK_MESSAGE: &str = "Votre session n'est plus valide";

impl SessionEnd {
    /// The ending an answer carries, if it is one (a 401, or `session_ended`).
    pub fn from_refusal(r: &ServerRefusal) -> Option<SessionEnd> {
        if !r.is_session_lost() {
            return None;
        }
        let message = if r.message.is_empty() || r.message.starts_with("feed upgrade refused") {
            FALLBACK_MESSAGE.to_owned()
        } else {
            r.message.clone()
        };
        Some(SessionEnd {
            code: if r.code == "session_ended" {
                r.code.clone()
            } else {
                "unauthorized".into()
            },
            reason: r.reason.clone(),
            message,
        })
    }

    /// The ending an error carries, if it is one.
    pub fn from_error(e: &Error) -> Option<SessionEnd> {
        match e {
            Error::Server(r) => SessionEnd::from_refusal(r),
            _ => None,
        }
    }

    /// The ending a feed error frame announces, if it is one.
    pub fn from_frame(code: &str, reason: Option<String>, message: &str) -> Option<SessionEnd> {
        if code != "session_ended" && code != "unauthorized" {
            return None;
        }
        Some(SessionEnd {
            code: code.to_owned(),
            reason,
            message: if message.is_empty() {
                FALLBACK_MESSAGE.to_owned()
            } else {
                message.to_owned()
            },
        })
    }

    /// The critical notification's title and body: alerts have stopped until the user signs in.
    pub fn notice_text(&self) -> (String, String) {
        let sentence = self.message.trim().trim_end_matches(['.', '!']);
        (
            "IT Vision Desk : alertes arrêtées".to_owned(),
            format!("{sentence}. Reconnectez-vous pour recevoir à nouveau les alertes."),
        )
    }
}

/// What signing out did: the server ended the session, or it could not be told (offline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignOutOutcome {
    /// True when `POST /api/auth/logout` succeeded (or the session was already ended there).
    pub ended_on_server: bool,
    /// Why the server was not told, when it was not (the local secret is forgotten anyway).
    pub detail: Option<String>,
}

fn field<T: for<'de> Deserialize<'de>>(v: &Value, key: &str) -> Result<T> {
    Ok(serde_json::from_value(
        v.get(key).cloned().unwrap_or(Value::Null),
    )?)
}

fn message_of(v: &Value) -> String {
    v.get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Api {
    /// `POST /api/auth/logout`: ends this token's session on the server.
    pub async fn logout(&self) -> Result<()> {
        self.call(Method::POST, "/api/auth/logout", Some(&json!({})), None)
            .await
            .map(|_| ())
    }

    /// `GET /api/auth/sessions`: the user's live sessions, this one marked `current`.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>> {
        let v = self
            .call(Method::GET, "/api/auth/sessions", None, None)
            .await?;
        field(&v, "sessions")
    }

    /// `DELETE /api/auth/sessions/{id}`.
    pub async fn end_session(&self, id: &str) -> Result<()> {
        let path = format!("/api/auth/sessions/{}", encode_segment(id));
        self.call(Method::DELETE, &path, None, None)
            .await
            .map(|_| ())
    }

    /// `POST /api/auth/password`; the server ends every other session of the user.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<String> {
        let body = json!({ "currentPassword": current, "newPassword": new });
        let v = self
            .call(Method::POST, "/api/auth/password", Some(&body), None)
            .await?;
        Ok(message_of(&v))
    }

    /// `GET /api/staff/users` (admins).
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let v = self
            .call(Method::GET, "/api/staff/users", None, None)
            .await?;
        field(&v, "users")
    }

    /// `POST /api/staff/users` (admins).
    pub async fn create_account(&self, new: &NewAccount) -> Result<Account> {
        let body = serde_json::to_value(new)?;
        let v = self
            .call(Method::POST, "/api/staff/users", Some(&body), None)
            .await?;
        field(&v, "user")
    }

    /// `PATCH /api/staff/users/{id}` (admins): name, role, active.
    pub async fn update_account(&self, id: &str, patch: &AccountPatch) -> Result<Account> {
        let body = serde_json::to_value(patch)?;
        let path = format!("/api/staff/users/{}", encode_segment(id));
        let v = self.call(Method::PATCH, &path, Some(&body), None).await?;
        field(&v, "user")
    }

    /// `POST /api/staff/users/{id}/password` (admins); ends all that user's sessions.
    pub async fn reset_password(&self, id: &str, password: &str) -> Result<String> {
        let path = format!("/api/staff/users/{}/password", encode_segment(id));
        let body = json!({ "password": password });
        let v = self.call(Method::POST, &path, Some(&body), None).await?;
        Ok(message_of(&v))
    }
}

fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, code: &str, reason: Option<&str>, message: &str) -> ServerRefusal {
        ServerRefusal {
            status,
            code: code.into(),
            message: message.into(),
            reason: reason.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn an_ended_session_is_told_apart_from_other_refusals() {
        let ended = refusal(
            401,
            "session_ended",
            Some("deactivated"),
            "Votre compte a été désactivé par un administrateur",
        );
        let end = SessionEnd::from_refusal(&ended).unwrap();
        assert_eq!(end.code, "session_ended");
        assert_eq!(end.reason.as_deref(), Some("deactivated"));
        let (title, body) = end.notice_text();
        assert_eq!(title, "IT Vision Desk : alertes arrêtées");
        assert_eq!(
            body,
            "Votre compte a été désactivé par un administrateur. Reconnectez-vous pour recevoir à nouveau les alertes."
        );
        let bad = SessionEnd::from_refusal(&refusal(401, "unauthorized", None, "")).unwrap();
        assert_eq!(bad.code, "unauthorized");
        assert_eq!(bad.message, FALLBACK_MESSAGE);
        assert!(SessionEnd::from_refusal(&refusal(403, "forbidden", None, "non")).is_none());
        assert!(SessionEnd::from_refusal(&refusal(409, "conflict", None, "non")).is_none());
        assert!(SessionEnd::from_frame("resync", None, "x").is_none());
        assert_eq!(
            SessionEnd::from_frame("session_ended", Some("revoked".into()), "Fermée")
                .unwrap()
                .reason
                .as_deref(),
            Some("revoked")
        );
    }

    #[test]
    fn device_and_agent_name_the_desk() {
        assert!(device_label().starts_with("IT Vision Desk · "));
        assert!(user_agent().starts_with("itv-desk/0.1.0 ("));
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn patches_send_only_what_changes() {
        let p = AccountPatch {
            active: Some(false),
            ..Default::default()
        };
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"active": false}));
        let p = AccountPatch {
            role: Some(Role::Technician),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"role": "TECHNICIAN"})
        );
    }
}
