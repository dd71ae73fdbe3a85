//! The status a window needs when it opens (events then keep it current), and the export of
//! every IPC type to TypeScript with ts-rs, checked for drift by a test.

use serde::Serialize;
use ts_rs::TS;

use itv_desk::outbox::{OutboxEntry, OutboxState};
use itv_desk::types::ConnectionState;

/// Connection, outbox and unread counts, as the status bar and the tray show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatusSnapshot {
    pub connection: ConnectionState,
    pub last_sync_at: Option<String>,
    pub outbox_pending: u32,
    pub outbox_refused: u32,
    pub unread: u32,
    pub notifications_paused: bool,
}

impl StatusSnapshot {
    pub fn new(
        connection: ConnectionState,
        outbox: &[OutboxEntry],
        unread: u64,
        paused: bool,
    ) -> Self {
        let last_sync_at = match &connection {
            ConnectionState::Offline { last_sync_at } => last_sync_at.clone(),
            _ => None,
        };
        let count = |s: OutboxState| outbox.iter().filter(|e| e.state == s).count() as u32;
        StatusSnapshot {
            connection,
            last_sync_at,
            outbox_pending: count(OutboxState::Pending),
            outbox_refused: count(OutboxState::Refused),
            unread: u32::try_from(unread).unwrap_or(u32::MAX),
            notifications_paused: paused,
        }
    }
}

/// Writes the TypeScript of every type crossing the IPC boundary into `dir`.
pub fn export_bindings(dir: &std::path::Path) -> Result<(), ts_rs::ExportError> {
    use itv_desk::accounts::{Account, AccountPatch, NewAccount, SessionInfo, SignOutOutcome};
    use itv_desk::error::UiError;
    use itv_desk::outbox::{Action, PerformOutcome};
    use itv_desk::quote::QuotePreview;
    use itv_desk::settings::Settings;
    use itv_desk::types::{EngineEvent, InboxPage, InboxQuery, RequestDetail, Session, User};
    Account::export_all_to(dir)?;
    AccountPatch::export_all_to(dir)?;
    NewAccount::export_all_to(dir)?;
    SessionInfo::export_all_to(dir)?;
    SignOutOutcome::export_all_to(dir)?;
    Action::export_all_to(dir)?;
    EngineEvent::export_all_to(dir)?;
    InboxPage::export_all_to(dir)?;
    InboxQuery::export_all_to(dir)?;
    OutboxEntry::export_all_to(dir)?;
    PerformOutcome::export_all_to(dir)?;
    QuotePreview::export_all_to(dir)?;
    RequestDetail::export_all_to(dir)?;
    Session::export_all_to(dir)?;
    Settings::export_all_to(dir)?;
    StatusSnapshot::export_all_to(dir)?;
    UiError::export_all_to(dir)?;
    User::export_all_to(dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use super::*;

    fn ts_files(dir: &Path) -> BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "ts"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect()
    }

    /// Fails when ui/src/bindings differs from what the Rust types generate.
    /// `ITV_WRITE_BINDINGS=1 cargo test -p itv-desk-app bindings` rewrites them.
    #[test]
    fn bindings_match_the_rust_types() {
        let checked_in = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
        let fresh = tempfile::tempdir().unwrap();
        export_bindings(fresh.path()).unwrap();
        if std::env::var_os("ITV_WRITE_BINDINGS").is_some() {
            for old in ts_files(&checked_in).keys() {
                std::fs::remove_file(checked_in.join(old)).unwrap();
            }
            for (name, text) in ts_files(fresh.path()) {
                std::fs::write(checked_in.join(name), text).unwrap();
            }
        }
        let want = ts_files(fresh.path());
        let have = ts_files(&checked_in);
        let drift: Vec<_> = want
            .keys()
            .chain(have.keys())
            .filter(|k| want.get(*k) != have.get(*k))
            .collect();
        assert!(
            drift.is_empty(),
            "ui/src/bindings is out of date for {drift:?}; run ITV_WRITE_BINDINGS=1 cargo test -p itv-desk-app bindings"
        );
    }

    #[test]
    fn snapshot_counts_outbox_states_and_keeps_the_offline_sync_time() {
        let entry = |id, state| OutboxEntry {
            id,
            action: itv_desk::outbox::Action::ValidateProject {
                request_id: "p".into(),
            },
            idempotency_key: "k".into(),
            state,
            created_at: "2025-11-19T10:00:00Z".into(),
            attempts: 0,
            last_error: None,
            refusal: None,
        };
        let outbox = [
            entry(1, OutboxState::Pending),
            entry(2, OutboxState::Refused),
            entry(3, OutboxState::Pending),
        ];
        let at = Some("2025-11-19T10:00:00Z".to_owned());
        let s = StatusSnapshot::new(
            ConnectionState::Offline {
                last_sync_at: at.clone(),
            },
            &outbox,
            7,
            true,
        );
        assert_eq!((s.outbox_pending, s.outbox_refused, s.unread), (2, 1, 7));
        assert_eq!(s.last_sync_at, at);
        assert!(s.notifications_paused);
        assert_eq!(
            StatusSnapshot::new(ConnectionState::Live, &[], 0, false).last_sync_at,
            None
        );
    }
}
