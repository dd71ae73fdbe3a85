//! Accounts and their sessions: how long a session lives, what a password must be,
//! which account changes an admin may make, and why a session ends.
//!
//! Plain data and pure functions; the server stores the rows and passes the clock in.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::FieldErrors;
use crate::role::Role;
use crate::text::clean_line;

/// How long a session lives: it slides by `idle` on each use, never past `max`
/// after it began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub max: Duration,
}

impl SessionPolicy {
    pub fn days(idle_days: u32, max_days: u32) -> SessionPolicy {
        let max = Duration::days(i64::from(max_days.max(1)));
        SessionPolicy {
            idle: Duration::days(i64::from(idle_days.max(1))).min(max),
            max,
        }
    }

    /// When a session created at `created` and last used at `last_used` expires.
    pub fn expires_at(&self, created: DateTime<Utc>, last_used: DateTime<Utc>) -> DateTime<Utc> {
        (last_used + self.idle).min(created + self.max)
    }

    /// The latest a session may live, whatever its use: what its token's `exp` says.
    pub fn hard_end(&self, created: DateTime<Utc>) -> DateTime<Utc> {
        created + self.max
    }
}

/// Why a session ended; the feed tells the socket, the desk tells the user.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The user signed out on that device.
    SignedOut,
    /// The user ended it from another of their sessions.
    Revoked,
    /// An admin deactivated the account.
    Deactivated,
    /// An admin changed the account's role.
    RoleChanged,
    /// The user changed their password (every other session ends).
    PasswordChanged,
    /// An admin reset the password.
    PasswordReset,
    /// Unused for too long, or past its longest life.
    Expired,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::SignedOut => "signed_out",
            EndReason::Revoked => "revoked",
            EndReason::Deactivated => "deactivated",
            EndReason::RoleChanged => "role_changed",
            EndReason::PasswordChanged => "password_changed",
            EndReason::PasswordReset => "password_reset",
            EndReason::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<EndReason> {
        [
            EndReason::SignedOut,
            EndReason::Revoked,
            EndReason::Deactivated,
            EndReason::RoleChanged,
            EndReason::PasswordChanged,
            EndReason::PasswordReset,
            EndReason::Expired,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// What the user is told, in French.
    pub fn message(self) -> &'static str {
        match self {
            EndReason::SignedOut => "Vous vous êtes déconnecté",
            EndReason::Revoked => "Cette session a été fermée depuis un autre appareil",
            EndReason::Deactivated => "Votre compte a été désactivé par un administrateur",
            EndReason::RoleChanged => "Votre rôle a changé : reconnectez-vous",
            EndReason::PasswordChanged => "Votre mot de passe a changé : reconnectez-vous",
            EndReason::PasswordReset => {
                "Votre mot de passe a été réinitialisé par un administrateur"
            }
            EndReason::Expired => "Votre session a expiré : reconnectez-vous",
        }
    }
}

const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "motdepasse",
    "motdepasse1",
    "azerty123",
    "azertyuiop",
    "qwerty123",
    "12345678a",
    "abcd1234",
    "itvision1",
    "senegal221",
    "dakar2024",
    "dakar2025",
    "dakar2026",
];

/// What is wrong with a new password, in French; `None` when it is acceptable.
/// `email` is the account's, so the password cannot be built from it.
pub fn password_problem(password: &str, email: Option<&str>) -> Option<&'static str> {
    let n = password.chars().count();
    if n < 8 {
        return Some("Le mot de passe doit contenir au moins 8 caractères");
    }
    if n > 128 {
        return Some("Le mot de passe doit contenir au plus 128 caractères");
    }
    let letters = password.chars().any(char::is_alphabetic);
    let others = password.chars().any(|c| !c.is_alphabetic());
    if !letters || !others {
        return Some("Le mot de passe doit mêler des lettres et au moins un chiffre ou un symbole");
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Some("Ce mot de passe est trop courant, choisissez-en un autre");
    }
    if let Some(local) = email.and_then(|e| e.split('@').next())
        && local.chars().count() >= 4
        && lower.contains(&local.to_lowercase())
    {
        return Some("Le mot de passe ne doit pas contenir votre adresse email");
    }
    None
}

/// A short, readable label for the device a session was opened from.
pub fn device_label(given: Option<&str>, user_agent: Option<&str>) -> String {
    let given = given.map(clean_line).filter(|s| !s.is_empty());
    let label = given.unwrap_or_else(|| user_agent.map(label_of_agent).unwrap_or_default());
    let label = crate::text::excerpt(&label, 80);
    if label.is_empty() {
        "Appareil inconnu".to_string()
    } else {
        label
    }
}

fn label_of_agent(ua: &str) -> String {
    let ua = clean_line(ua);
    let app = if ua.contains("itv-desk") {
        Some("IT Vision Desk")
    } else if ua.contains("Edg/") {
        Some("Edge")
    } else if ua.contains("Firefox/") {
        Some("Firefox")
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        Some("Chrome")
    } else if ua.contains("Safari/") {
        Some("Safari")
    } else {
        None
    };
    let lower = ua.to_lowercase();
    let os = if lower.contains("windows") {
        Some("Windows")
    } else if lower.contains("android") {
        Some("Android")
    } else if lower.contains("iphone") || lower.contains("ipad") {
        Some("iOS")
    } else if lower.contains("mac os") || lower.contains("macintosh") || lower.contains("macos") {
        Some("macOS")
    } else if lower.contains("linux") {
        Some("Linux")
    } else {
        None
    };
    match (app, os) {
        (Some(a), Some(o)) => format!("{a} · {o}"),
        (Some(a), None) => a.to_string(),
        (None, Some(o)) => o.to_string(),
        (None, None) => ua,
    }
}

/// An account as an admin's change sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub role: Role,
    pub active: bool,
}

/// What an admin asks to change (`PATCH /api/staff/users/{id}`); `None` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Why an account change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    #[error("Impossible : c'est le dernier compte administrateur actif")]
    LastAdmin,
}

impl AccountRefusal {
    pub fn message(&self) -> &'static str {
        match self {
            AccountRefusal::LastAdmin => {
                "Impossible : c'est le dernier compte administrateur actif"
            }
        }
    }
}

impl AccountPatch {
    /// Checks the change against the rule that one active admin always remains;
    /// `active_admins` counts the active admins before the change.
    pub fn check(&self, current: &AccountState, active_admins: u64) -> Result<(), AccountRefusal> {
        let after = self.apply(current);
        let loses_an_admin = current.role == Role::Admin
            && current.active
            && !(after.role == Role::Admin && after.active);
        if loses_an_admin && active_admins <= 1 {
            return Err(AccountRefusal::LastAdmin);
        }
        Ok(())
    }

    pub fn apply(&self, current: &AccountState) -> AccountState {
        AccountState {
            role: self.role.unwrap_or(current.role),
            active: self.active.unwrap_or(current.active),
        }
    }

    /// Why the account's sessions end with this change, if they do.
    pub fn ends_sessions(&self, current: &AccountState) -> Option<EndReason> {
        let after = self.apply(current);
        if current.active && !after.active {
            Some(EndReason::Deactivated)
        } else if after.role != current.role {
            Some(EndReason::RoleChanged)
        } else {
            None
        }
    }
}

/// Reads a `PATCH /api/staff/users/{id}` body: any of `name`, `role`, `active`.
pub fn parse_account_patch(body: &Value) -> Result<AccountPatch, FieldErrors> {
    let mut errors = FieldErrors::default();
    let Some(obj) = body.as_object() else {
        return Err(FieldErrors::single("body", "Un objet JSON est attendu"));
    };
    let mut patch = AccountPatch::default();
    match obj.get("name") {
        None => {}
        Some(Value::String(s)) => {
            let name = clean_line(s);
            let n = name.chars().count();
            if !(2..=120).contains(&n) {
                errors.add("name", "Le nom doit contenir entre 2 et 120 caractères");
            } else {
                patch.name = Some(name);
            }
        }
        Some(_) => errors.add("name", "Le nom doit être du texte"),
    }
    match obj.get("role") {
        None => {}
        Some(Value::String(s)) => match Role::parse(s) {
            Some(r) => patch.role = Some(r),
            None => errors.add("role", "Rôle inconnu : ADMIN, TECHNICIAN ou CLIENT"),
        },
        Some(_) => errors.add("role", "Rôle inconnu : ADMIN, TECHNICIAN ou CLIENT"),
    }
    match obj.get("active") {
        None => {}
        Some(Value::Bool(b)) => patch.active = Some(*b),
        Some(_) => errors.add("active", "Doit valoir true ou false"),
    }
    if errors.is_empty() && patch == AccountPatch::default() {
        errors.add("body", "Indiquez au moins un champ : name, role ou active");
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(errors)
    }
}

/// `POST /api/auth/password`: the current password and the new one.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

fn string_field(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_string)
}

/// Reads `{currentPassword, newPassword}`; the new one must follow the rules and
/// differ from the current one.
pub fn parse_password_change(body: &Value, email: &str) -> Result<PasswordChange, FieldErrors> {
    let mut errors = FieldErrors::default();
    let current = string_field(body, "currentPassword").unwrap_or_default();
    if current.is_empty() {
        errors.add("currentPassword", "Le mot de passe actuel est requis");
    }
    let new = string_field(body, "newPassword").unwrap_or_default();
    if let Some(problem) = password_problem(&new, Some(email)) {
        errors.add("newPassword", problem);
    } else if new == current {
        errors.add(
            "newPassword",
            "Le nouveau mot de passe doit être différent de l'actuel",
        );
    }
    if errors.is_empty() {
        Ok(PasswordChange { current, new })
    } else {
        Err(errors)
    }
}

/// Reads an admin's reset `{password}`.
pub fn parse_password_reset(body: &Value, email: &str) -> Result<String, FieldErrors> {
    let password = string_field(body, "password").unwrap_or_default();
    match password_problem(&password, Some(email)) {
        Some(problem) => Err(FieldErrors::single("password", problem)),
        None => Ok(password),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn a_session_slides_with_use_but_never_past_its_longest_life() {
        let p = SessionPolicy::days(30, 90);
        assert_eq!(p.expires_at(at(0), at(0)), at(30 * 24));
        assert_eq!(p.expires_at(at(0), at(24 * 50)), at(24 * 80));
        assert_eq!(p.expires_at(at(0), at(24 * 70)), at(24 * 90));
        assert_eq!(p.hard_end(at(0)), at(24 * 90));
        // An idle time longer than the longest life is cut to it.
        assert_eq!(SessionPolicy::days(100, 10).idle, Duration::days(10));
    }

    #[test]
    fn passwords_need_length_a_mix_and_no_common_word() {
        assert!(password_problem("court1", None).is_some());
        assert!(password_problem("seulementdeslettres", None).is_some());
        assert!(password_problem("1234567890", None).is_some());
        assert!(password_problem("Azerty123", None).is_some());
        assert!(password_problem("moussa-2026", Some("moussa@itvision.sn")).is_some());
        assert_eq!(password_problem("un-long-secret", None), None);
        assert_eq!(
            password_problem("demo1234", Some("admin@itvision.sn")),
            None
        );
        assert!(password_problem(&"a1".repeat(65), None).is_some());
    }

    #[test]
    fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
        let admin = AccountState {
            role: Role::Admin,
            active: true,
        };
        let demote = AccountPatch {
            role: Some(Role::Technician),
            ..Default::default()
        };
        let deactivate = AccountPatch {
            active: Some(false),
            ..Default::default()
        };
        assert_eq!(demote.check(&admin, 1), Err(AccountRefusal::LastAdmin));
        assert_eq!(deactivate.check(&admin, 1), Err(AccountRefusal::LastAdmin));
        assert_eq!(demote.check(&admin, 2), Ok(()));
        let rename = AccountPatch {
            name: Some("Awa".into()),
            ..Default::default()
        };
        assert_eq!(rename.check(&admin, 1), Ok(()));
        let inactive = AccountState {
            role: Role::Admin,
            active: false,
        };
        assert_eq!(deactivate.check(&inactive, 0), Ok(()));
    }

    #[test]
    fn deactivation_and_role_changes_end_sessions_a_rename_does_not() {
        let tech = AccountState {
            role: Role::Technician,
            active: true,
        };
        let off = AccountPatch {
            active: Some(false),
            ..Default::default()
        };
        assert_eq!(off.ends_sessions(&tech), Some(EndReason::Deactivated));
        let promote = AccountPatch {
            role: Some(Role::Admin),
            ..Default::default()
        };
        assert_eq!(promote.ends_sessions(&tech), Some(EndReason::RoleChanged));
        let same = AccountPatch {
            role: Some(Role::Technician),
            active: Some(true),
            name: Some("Ibou".into()),
        };
        assert_eq!(same.ends_sessions(&tech), None);
    }

    #[test]
    fn patch_bodies_name_each_field_at_fault() {
        let e = parse_account_patch(&json!({"role": "boss", "active": "oui", "name": "x"}))
            .unwrap_err();
        for f in ["role", "active", "name"] {
            assert!(e.get(f).is_some(), "{f}: {e:?}");
        }
        assert!(parse_account_patch(&json!({})).is_err());
        let p = parse_account_patch(&json!({"role": "technician", "active": false})).unwrap();
        assert_eq!(p.role, Some(Role::Technician));
        assert_eq!(p.active, Some(false));
    }

    #[test]
    fn a_new_password_must_differ_from_the_current_one() {
        let same = json!({"currentPassword": "un-long-secret", "newPassword": "un-long-secret"});
        assert!(
            parse_password_change(&same, "a@b.sn")
                .unwrap_err()
                .get("newPassword")
                .is_some()
        );
        let ok = json!({"currentPassword": "un-long-secret", "newPassword": "autre-secret-9"});
        assert!(parse_password_change(&ok, "a@b.sn").is_ok());
    }

    #[test]
    fn device_labels_are_short_and_readable() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
        assert_eq!(device_label(None, Some(chrome)), "Chrome · Linux");
        assert_eq!(
            device_label(Some(" Portable d'Awa "), Some(chrome)),
            "Portable d'Awa"
        );
        assert_eq!(
            device_label(None, Some("itv-desk/0.1.0 (windows)")),
            "IT Vision Desk · Windows"
        );
        assert_eq!(device_label(None, None), "Appareil inconnu");
    }
}
