//! *Copier le diagnostic*: what support needs to know about this desk, as plain text to paste
//! into a support request. Nothing secret: no token, no password.

use std::fmt::Write as _;
use std::path::PathBuf;

use itv_desk::outbox::OutboxState;
use itv_desk::types::{ConnectionState, Health, SecretStorage, Session};

/// Everything the report says, gathered by the `diagnostic` command.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub version: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
    pub generated_at: String,
    pub session: Option<Session>,
    pub connection: ConnectionState,
    /// The last feed event the cache holds.
    pub feed_seq: Option<i64>,
    pub outbox: Vec<OutboxState>,
    pub health: Health,
    pub data_dir: PathBuf,
    pub log_dir: Option<PathBuf>,
    pub autostart: Option<bool>,
    pub recent_problems: Vec<String>,
}

impl Diagnostic {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut line = |label: &str, value: &dyn std::fmt::Display| {
            let _ = writeln!(out, "{label:<22}{value}");
        };
        line("IT Vision Desk", &self.version);
        line("Generated", &self.generated_at);
        line("OS", &format_args!("{} {}", self.os, self.arch));
        match &self.session {
            Some(s) => {
                line("Server", &s.server_url);
                line(
                    "Account",
                    &format_args!("{} ({:?})", s.user.email, s.user.role),
                );
                let secret = match &s.secret_storage {
                    SecretStorage::Keyring => "OS secret store".to_owned(),
                    SecretStorage::Memory { reason } => format!("memory only ({reason})"),
                };
                line("Session secret", &secret);
            }
            None => line("Account", &"signed out"),
        }
        line("Connection", &connection(&self.connection));
        line(
            "Last event seq",
            &self.feed_seq.map_or("none".to_owned(), |s| s.to_string()),
        );
        let count = |state| self.outbox.iter().filter(|s| **s == state).count();
        line(
            "Outbox",
            &format_args!(
                "{} pending, {} refused, {} held, {} abandoned",
                count(OutboxState::Pending),
                count(OutboxState::Refused),
                count(OutboxState::Held),
                count(OutboxState::Abandoned)
            ),
        );
        line("Notices not shown yet", &self.health.notices_failing);
        line("Unreadable events", &self.health.quarantined);
        line(
            "Start with the system",
            &self
                .autostart
                .map_or("unknown", |on| if on { "on" } else { "off" }),
        );
        line("Data", &self.data_dir.display());
        match &self.log_dir {
            Some(d) => line("Logs", &d.display()),
            None => line("Logs", &"stderr only (no log directory)"),
        }
        let _ = writeln!(
            out,
            "\nRecent warnings and errors ({}):",
            self.recent_problems.len()
        );
        if self.recent_problems.is_empty() {
            out.push_str("  none\n");
        }
        for p in &self.recent_problems {
            let _ = writeln!(out, "  {p}");
        }
        out
    }
}

fn connection(state: &ConnectionState) -> String {
    match state {
        ConnectionState::SignedOut => "signed out".into(),
        ConnectionState::Connecting => "connecting".into(),
        ConnectionState::Syncing => "syncing".into(),
        ConnectionState::Live => "live".into(),
        ConnectionState::Offline { last_sync_at } => format!(
            "offline (last sync {})",
            last_sync_at.as_deref().unwrap_or("never")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use itv_desk::types::{Role, User};

    fn sample() -> Diagnostic {
        Diagnostic {
            version: "0.1.0",
            os: "windows",
            arch: "x86_64",
            generated_at: "2026-12-02T13:00:00Z".into(),
            session: Some(Session {
                server_url: "https://desk.itvision.sn".into(),
                user: User {
                    id: "u1".into(),
                    name: "Awa".into(),
                    email: "awa@itvision.sn".into(),
                    role: Role::Technician,
                },
                secret_storage: SecretStorage::Memory {
                    reason: "the secret store keeps secrets only inside one entry (EntryOnly)"
                        .into(),
                },
            }),
            connection: ConnectionState::Offline {
                last_sync_at: Some("2026-12-02T12:58:00Z".into()),
            },
            feed_seq: Some(4812),
            outbox: vec![
                OutboxState::Pending,
                OutboxState::Pending,
                OutboxState::Refused,
            ],
            health: Health {
                notices_failing: 1,
                quarantined: 0,
            },
            data_dir: PathBuf::from(r"C:\Users\awa\AppData\Local\sn.itvision.desk"),
            log_dir: Some(PathBuf::from(
                r"C:\Users\awa\AppData\Local\sn.itvision.desk\logs",
            )),
            autostart: Some(true),
            recent_problems: vec!["2026-12-02T12:59:00Z WARN itv_desk::runner: feed lost".into()],
        }
    }

    #[test]
    fn the_report_says_what_support_asks_first() {
        let text = sample().render();
        for expected in [
            "IT Vision Desk        0.1.0",
            "OS                    windows x86_64",
            "Server                https://desk.itvision.sn",
            "Account               awa@itvision.sn (Technician)",
            "memory only (the secret store keeps secrets only inside one entry (EntryOnly))",
            "Connection            offline (last sync 2026-12-02T12:58:00Z)",
            "Last event seq        4812",
            "Outbox                2 pending, 1 refused, 0 held, 0 abandoned",
            "Notices not shown yet 1",
            r"Logs                  C:\Users\awa\AppData\Local\sn.itvision.desk\logs",
            "Recent warnings and errors (1):\n  2026-12-02T12:59:00Z WARN itv_desk::runner: feed lost",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn signed_out_and_quiet() {
        let mut d = sample();
        d.session = None;
        d.connection = ConnectionState::SignedOut;
        d.recent_problems.clear();
        d.log_dir = None;
        let text = d.render();
        assert!(text.contains("Account               signed out"), "{text}");
        assert!(
            text.contains("Recent warnings and errors (0):\n  none"),
            "{text}"
        );
        assert!(text.contains("stderr only"), "{text}");
        assert!(!text.contains("Server"), "{text}");
    }
}
