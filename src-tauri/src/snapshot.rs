//! The status a window needs when it opens (events then keep it current), and the export of
//! every IPC type to TypeScript with ts-rs, checked for drift by a test.

use std::sync::Mutex;

use serde::Serialize;
use ts_rs::TS;

use itv_desk::outbox::{OutboxEntry, OutboxState};
use itv_desk::types::{ConnectionState, EngineEvent, Health};

/// Connection, outbox, unread and health counts, as the status bar and the tray show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatusSnapshot {
    pub connection: ConnectionState,
    /// When the cache was last in step with the server (RFC 3339); `None` only if never.
    pub last_sync_at: Option<String>,
    pub outbox_pending: u32,
    pub outbox_refused: u32,
    pub unread: u32,
    pub notifications_paused: bool,
    /// Notices not shown yet (retried) and events this build could not read.
    pub health: Health,
}

/// What goes into a snapshot besides the connection and the outbox.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub unread: u64,
    pub paused: bool,
    pub health: Health,
    /// The last sync the shell saw (see `SyncClock`), for the states that do not carry one.
    pub seen_sync_at: Option<String>,
    /// Now, RFC 3339: a live connection is in step with the server at this moment.
    pub now: String,
}

impl StatusSnapshot {
    /// `outbox`: the state of each outbox entry.
    pub fn new(
        connection: ConnectionState,
        outbox: impl IntoIterator<Item = OutboxState>,
        f: Figures,
    ) -> Self {
        // Live means the first sync is done and the feed is streaming: in step now. Offline
        // carries the cache's own time; connecting or syncing again, the last one seen.
        let last_sync_at = match &connection {
            ConnectionState::Live => Some(f.now),
            ConnectionState::Offline { last_sync_at } => last_sync_at.clone().or(f.seen_sync_at),
            _ => f.seen_sync_at,
        };
        let (mut pending, mut refused) = (0, 0);
        // Not a match: the other states are the outbox list's to show.
        for state in outbox {
            pending += u32::from(state == OutboxState::Pending);
            refused += u32::from(state == OutboxState::Refused);
        }
        StatusSnapshot {
            connection,
            last_sync_at,
            outbox_pending: pending,
            outbox_refused: refused,
            unread: u32::try_from(f.unread).unwrap_or(u32::MAX),
            notifications_paused: f.paused,
            health: f.health,
        }
    }
}

/// The last time the shell saw the cache in step with the server: the engine's connection
/// state says it only while offline, so the shell keeps it for the snapshot's other states.
#[derive(Debug, Default)]
pub struct SyncClock(Mutex<Option<String>>);

impl SyncClock {
    pub fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Follows one engine event; `live` is the connection at that moment.
    pub fn observe(&self, event: &EngineEvent, live: bool, now: &str) {
        let at = match event {
            EngineEvent::Connection {
                state: ConnectionState::Live,
            } => Some(now.to_owned()),
            EngineEvent::Connection {
                state:
                    ConnectionState::Offline {
                        last_sync_at: Some(t),
                    },
            } => Some(t.clone()),
            EngineEvent::RequestsChanged { .. } if live => Some(now.to_owned()),
            _ => None,
        };
        if let Some(at) = at {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
        }
    }
}

/// Now, as the snapshot and the clock write times.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339()
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

    fn figures(seen: Option<&str>) -> Figures {
        Figures {
            seen_sync_at: seen.map(str::to_owned),
            now: "2025-11-19T12:00:00Z".into(),
            ..Figures::default()
        }
    }

    #[test]
    fn snapshot_counts_outbox_states_and_carries_the_health() {
        let outbox = [
            OutboxState::Pending,
            OutboxState::Refused,
            OutboxState::Pending,
        ];
        let health = Health {
            notices_failing: 2,
            quarantined: 1,
        };
        let s = StatusSnapshot::new(
            ConnectionState::Live,
            outbox,
            Figures {
                unread: 7,
                paused: true,
                health,
                ..figures(None)
            },
        );
        assert_eq!((s.outbox_pending, s.outbox_refused, s.unread), (2, 1, 7));
        assert!(s.notifications_paused);
        assert_eq!(s.health, health);
    }

    /// The status bar said "jamais synchronisé" right after the first sync: live carried no time.
    #[test]
    fn live_is_synced_now_and_other_states_keep_the_last_sync_seen() {
        let at = |c, seen| StatusSnapshot::new(c, [], figures(seen)).last_sync_at;
        assert_eq!(
            at(ConnectionState::Live, None).as_deref(),
            Some("2025-11-19T12:00:00Z")
        );
        let offline = |t: Option<&str>| ConnectionState::Offline {
            last_sync_at: t.map(str::to_owned),
        };
        assert_eq!(
            at(
                offline(Some("2025-11-19T10:00:00Z")),
                Some("2025-11-19T11:00:00Z")
            )
            .as_deref(),
            Some("2025-11-19T10:00:00Z")
        );
        assert_eq!(
            at(offline(None), Some("2025-11-19T11:00:00Z")).as_deref(),
            Some("2025-11-19T11:00:00Z")
        );
        assert_eq!(
            at(ConnectionState::Syncing, Some("2025-11-19T11:00:00Z")).as_deref(),
            Some("2025-11-19T11:00:00Z")
        );
        assert_eq!(at(ConnectionState::Connecting, None), None);
    }

    #[test]
    fn the_clock_follows_live_offline_and_live_changes() {
        let clock = SyncClock::default();
        let changed = EngineEvent::RequestsChanged {
            ids: vec!["r".into()],
        };
        clock.observe(&changed, false, "t0");
        assert_eq!(clock.get(), None, "a change while not live is no sync");
        clock.observe(
            &EngineEvent::Connection {
                state: ConnectionState::Live,
            },
            true,
            "t1",
        );
        assert_eq!(clock.get().as_deref(), Some("t1"));
        clock.observe(&changed, true, "t2");
        assert_eq!(clock.get().as_deref(), Some("t2"));
        clock.observe(
            &EngineEvent::Connection {
                state: ConnectionState::Connecting,
            },
            false,
            "t3",
        );
        assert_eq!(clock.get().as_deref(), Some("t2"));
    }
}
