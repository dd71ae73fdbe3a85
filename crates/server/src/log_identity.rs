//! The event log's identity across restarts and restores.
//!
//! A `seq` names an event only within one history of the log. A database restored
//! from a copy goes back to an older head and hands out the seqs after it again, to
//! other events: a desk that had read past that head would resume and silently skip
//! them. So the log has an *epoch*, a random id stored with it (`log_epochs`), sent in
//! the feed's `ready` and `resync_required` frames and by `GET /api/feed/head`; a desk
//! whose position came from another epoch resynchronises.
//!
//! A restored database file carries its old epoch, so the server keeps beside it, in
//! the data dir, a small marker (`log-head.json`): the epoch and head it last ran
//! with, whether it stopped cleanly, and the machine's boot id. At start a new epoch
//! begins, logged as a warning, when
//! - `--new-epoch` is given (after restoring the whole data dir, marker included);
//! - the marker names another epoch (this database is not the log that last ran here);
//! - the database's head is below the marker's (restored from an earlier copy);
//! - the last run did not stop cleanly and the machine has rebooted since (or its boot
//!   id is unknown): with `synchronous=NORMAL` a power loss may drop the last commits,
//!   which desks may already have received.
//!
//! The marker is written (temporary file, fsync, rename, fsync of the dir) at start,
//! every `MARKER_EVERY` while the head moves, and at a clean stop: no fsync per event.
//! What that misses: a copy taken less than `MARKER_EVERY` before a crash, restored
//! after it (its head may be above the marker's); after such a restore, start once with
//! `--new-epoch`. Without a marker (a first start, or an upgrade from before epochs)
//! the database's epoch stands.
//!
//! On PostgreSQL the log is shared by every instance and each marker is one instance's
//! view: only a head below the marker's in the same epoch, or `--new-epoch`, starts one
//! (`judge_shared`). A running instance keeps the epoch it started with, so a new one is
//! started with every instance stopped (docs/deploy.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::state::AppState;
use crate::store::{Store, StoreError};

pub const MARKER_FILE: &str = "log-head.json";
/// How often a moved head is written to the marker while the server runs.
pub const MARKER_EVERY: Duration = Duration::from_secs(5);

/// What the last run left in the data dir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Marker {
    pub epoch: String,
    /// The highest seq the log had handed out when written.
    pub head: i64,
    /// `false` only once the server stopped cleanly.
    pub running: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
}

/// The marker as found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Missing,
    Unreadable,
    Marker(Marker),
}

/// Why a new epoch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    Manual,
    OtherLog,
    Restored,
    UncleanReboot,
    UnreadableMarker,
}

impl Renewal {
    /// As recorded in `log_epochs.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Renewal::Manual => "manual",
            Renewal::OtherLog => "other_log",
            Renewal::Restored => "restored",
            Renewal::UncleanReboot => "unclean_reboot",
            Renewal::UnreadableMarker => "unreadable_marker",
        }
    }
}

/// Whether the log at `epoch`/`head` needs a new epoch, given what the last run left
/// and this machine's boot id (the rules of the module's comment).
pub fn judge(
    epoch: &str,
    head: i64,
    found: &Found,
    boot_id: Option<&str>,
    forced: bool,
) -> Option<Renewal> {
    if forced {
        return Some(Renewal::Manual);
    }
    let marker = match found {
        Found::Missing => return None,
        Found::Unreadable => return Some(Renewal::UnreadableMarker),
        Found::Marker(m) => m,
    };
    if marker.epoch != epoch {
        return Some(Renewal::OtherLog);
    }
    if head < marker.head {
        return Some(Renewal::Restored);
    }
    let same_boot = matches!((marker.boot_id.as_deref(), boot_id), (Some(a), Some(b)) if a == b);
    if marker.running && !same_boot {
        return Some(Renewal::UncleanReboot);
    }
    None
}

/// `judge` for a log several instances share (PostgreSQL), where each instance's marker
/// is only what that one last saw. Another instance may have started a new epoch since
/// (so another epoch is no restore, and the desks resync for it anyway); commits are
/// durable, so a crash across a reboot loses nothing answered. A head below the marker of
/// the same epoch is still a restore, and `--new-epoch` still starts one.
pub fn judge_shared(epoch: &str, head: i64, found: &Found, forced: bool) -> Option<Renewal> {
    if forced {
        return Some(Renewal::Manual);
    }
    match found {
        Found::Marker(m) if m.epoch == epoch && head < m.head => Some(Renewal::Restored),
        _ => None,
    }
}

pub fn read_marker(dir: &Path) -> Found {
    match std::fs::read(dir.join(MARKER_FILE)) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(m) => Found::Marker(m),
            Err(_) => Found::Unreadable,
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Found::Missing,
        Err(_) => Found::Unreadable,
    }
}

/// Replaces the marker durably: a crash leaves the old one or the new one, whole.
pub fn write_marker(dir: &Path, marker: &Marker) -> std::io::Result<()> {
    let tmp = dir.join(format!("{MARKER_FILE}.tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&serde_json::to_vec(marker).map_err(std::io::Error::other)?)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join(MARKER_FILE))?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Changes with every boot of the machine (Linux); `None` elsewhere.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Writes the marker while the server runs; the last write (a clean stop) closes it.
#[derive(Debug)]
pub struct MarkerWriter {
    dir: PathBuf,
    epoch: String,
    boot_id: Option<String>,
    /// The last (head, running) written; `running == false` means closed.
    last: Mutex<Option<(i64, bool)>>,
}

impl MarkerWriter {
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Writes `head` unless it is what the marker says already, or the marker is closed.
    pub fn record(&self, head: i64, running: bool) -> std::io::Result<()> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*last, Some((_, false))) || *last == Some((head, running)) {
            return Ok(());
        }
        write_marker(
            &self.dir,
            &Marker {
                epoch: self.epoch.clone(),
                head,
                running,
                boot_id: self.boot_id.clone(),
            },
        )?;
        *last = Some((head, running));
        Ok(())
    }
}

/// At start, before serving: decides the epoch, starts a new one if needed, and marks
/// the data dir as running with it. Blocking.
pub fn settle(
    store: &dyn Store,
    dir: &Path,
    forced: bool,
    shared: bool,
) -> Result<MarkerWriter, StoreError> {
    let (_, head) = store.event_bounds()?;
    let mut epoch = store.log_epoch()?;
    let found = read_marker(dir);
    let boot_id = boot_id();
    let renewal = match shared {
        true => judge_shared(&epoch, head, &found, forced),
        false => judge(&epoch, head, &found, boot_id.as_deref(), forced),
    };
    if let Some(renewal) = renewal {
        let previous = epoch;
        epoch = store.new_log_epoch(renewal.as_str())?;
        let marker_head = match &found {
            Found::Marker(m) => Some(m.head),
            _ => None,
        };
        tracing::warn!(
            reason = renewal.as_str(),
            head,
            marker_head,
            previous = %previous,
            epoch = %epoch,
            "event log: new epoch; desks resume from here only after a resync"
        );
    } else {
        tracing::info!(%epoch, head, "event log epoch");
    }
    let writer = MarkerWriter {
        dir: dir.to_path_buf(),
        epoch,
        boot_id,
        last: Mutex::new(None),
    };
    writer
        .record(head, true)
        .map_err(|e| StoreError::Io(format!("{}: {e}", dir.join(MARKER_FILE).display())))?;
    Ok(writer)
}

/// Writes the head to the marker every `MARKER_EVERY` while it moves, until the stop.
pub fn spawn_keeper(state: AppState, writer: Arc<MarkerWriter>) {
    let mut stopping = state.stopping.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(MARKER_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            if let Err(e) = record_head(&state, &writer, true).await {
                tracing::warn!(error = %e, "event log marker not written");
            }
        }
    });
}

/// Reads the head and writes it to the marker (`running == false`: the last write).
pub async fn record_head(
    state: &AppState,
    writer: &Arc<MarkerWriter>,
    running: bool,
) -> Result<(), String> {
    let (_, head) = state
        .db(|s| s.event_bounds())
        .await
        .map_err(|e| e.to_string())?;
    let writer = writer.clone();
    tokio::task::spawn_blocking(move || writer.record(head, running))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(epoch: &str, head: i64, running: bool, boot: Option<&str>) -> Found {
        Found::Marker(Marker {
            epoch: epoch.into(),
            head,
            running,
            boot_id: boot.map(str::to_string),
        })
    }

    #[test]
    fn a_clean_restart_keeps_the_epoch() {
        let found = marker("e1", 10, false, Some("b1"));
        assert_eq!(judge("e1", 10, &found, Some("b1"), false), None);
        assert_eq!(judge("e1", 12, &found, Some("b2"), false), None);
        assert_eq!(judge("e1", 0, &Found::Missing, None, false), None);
    }

    #[test]
    fn a_head_below_the_marker_is_a_restore() {
        let found = marker("e1", 10, false, Some("b1"));
        assert_eq!(
            judge("e1", 9, &found, Some("b1"), false),
            Some(Renewal::Restored)
        );
        assert_eq!(
            judge("e0", 20, &found, Some("b1"), false),
            Some(Renewal::OtherLog)
        );
        assert_eq!(
            judge("e1", 10, &Found::Unreadable, Some("b1"), false),
            Some(Renewal::UnreadableMarker)
        );
        assert_eq!(
            judge("e1", 10, &Found::Missing, None, true),
            Some(Renewal::Manual)
        );
    }

    #[test]
    fn a_shared_log_renews_only_when_restored_or_asked() {
        let crashed = marker("e1", 10, true, Some("b1"));
        // Another instance renewed it, or this one crashed and the machine rebooted.
        assert_eq!(judge_shared("e2", 12, &crashed, false), None);
        assert_eq!(judge_shared("e1", 10, &crashed, false), None);
        assert_eq!(judge_shared("e1", 10, &Found::Unreadable, false), None);
        assert_eq!(
            judge_shared("e1", 9, &crashed, false),
            Some(Renewal::Restored)
        );
        assert_eq!(
            judge_shared("e1", 10, &Found::Missing, true),
            Some(Renewal::Manual)
        );
    }

    #[test]
    fn a_crash_renews_only_across_a_reboot() {
        let crashed = marker("e1", 10, true, Some("b1"));
        assert_eq!(judge("e1", 10, &crashed, Some("b1"), false), None);
        assert_eq!(
            judge("e1", 10, &crashed, Some("b2"), false),
            Some(Renewal::UncleanReboot)
        );
        assert_eq!(
            judge("e1", 10, &crashed, None, false),
            Some(Renewal::UncleanReboot)
        );
    }

    #[test]
    fn the_marker_is_replaced_whole_and_closed_by_a_clean_stop() {
        let dir = tempfile::tempdir().unwrap();
        let writer = MarkerWriter {
            dir: dir.path().to_path_buf(),
            epoch: "e1".into(),
            boot_id: Some("b1".into()),
            last: Mutex::new(None),
        };
        writer.record(3, true).unwrap();
        assert_eq!(read_marker(dir.path()), marker("e1", 3, true, Some("b1")));
        writer.record(5, false).unwrap();
        writer.record(7, true).unwrap();
        assert_eq!(read_marker(dir.path()), marker("e1", 5, false, Some("b1")));
        std::fs::write(dir.path().join(MARKER_FILE), b"{").unwrap();
        assert_eq!(read_marker(dir.path()), Found::Unreadable);
    }
}
