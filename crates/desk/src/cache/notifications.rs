//! The `notifications` and `urgent_watch` tables: every notice ever decided, by
//! key, so that one event never notifies twice (across restarts and resyncs),
//! the queue of those not shown yet, and the urgent interventions this desk alerted
//! about, watched until the server says someone took them.

use rusqlite::{Transaction, params};

use super::Cache;
use crate::error::{Error, Result};
use crate::notify::{Notice, UrgentWatch};
use crate::types::{Request, User};

/// Schema of migration 6.
pub(super) const DELIVERY_SCHEMA: &str = "";

/// A queued notice not shown yet.
pub type PendingNotice = Notice;

/// Queues `n` unless its key was ever seen. Returns whether it was new.
pub(crate) fn queue(tx: &Transaction<'_>, n: &Notice, now: i64) -> Result<bool> {
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO notifications(key, request_id, notice, state, created_at)
         VALUES (?1, ?2, ?3, 'pending', ?4)",
        params![n.key, n.request_id, serde_json::to_string(n)?, now],
    )?;
    Ok(inserted > 0)
}

/// Starts watching `request_id`, or (an assignment, an escalation) counts a new alert
/// now, so the next reminder comes one interval after it rather than at once.
pub(crate) fn watch(tx: &Transaction<'_>, request_id: &str, now: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO urgent_watch(request_id, last_alert_at, alerts) VALUES (?1, ?2, 1)
         ON CONFLICT(request_id) DO UPDATE SET last_alert_at = MAX(last_alert_at, excluded.last_alert_at)",
        params![request_id, now],
    )?;
    Ok(())
}

/// An escalation is an alert too: a watched request's next reminder waits an interval.
pub(crate) fn touch_watch(tx: &Transaction<'_>, request_id: &str, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE urgent_watch SET last_alert_at = MAX(last_alert_at, ?2) WHERE request_id = ?1",
        params![request_id, now],
    )?;
    Ok(())
}

impl Cache {
    /// Notices queued but not shown, oldest first.
    pub fn pending_notices(&self) -> Result<Vec<Notice>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT notice FROM notifications WHERE state = 'pending' ORDER BY rowid",
        )?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter()
            .map(|s| serde_json::from_str(s).map_err(Error::from))
            .collect()
    }

    /// Marks pending notices as handled before they are shown (at most once),
    /// and records `shown` ones that were never queued (summaries, reminders).
    /// Returns the notices of `shown` that were not already recorded.
    pub fn claim_notices(
        &mut self,
        handled: &[String],
        shown: &[Notice],
        now: i64,
    ) -> Result<Vec<Notice>> {
        let tx = self.conn_mut().transaction()?;
        let mut claimed = Vec::new();
        for key in handled {
            let n = tx.execute(
                "UPDATE notifications SET state = 'done', sent_at = ?2 WHERE key = ?1 AND state = 'pending'",
                params![key, now],
            )?;
            if n > 0 {
                claimed.push(key.as_str());
            }
        }
        let mut fresh = Vec::new();
        for n in shown {
            if claimed.contains(&n.key.as_str()) {
                fresh.push(n.clone());
                continue;
            }
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO notifications(key, request_id, notice, state, created_at, sent_at)
                 VALUES (?1, ?2, ?3, 'done', ?4, ?4)",
                params![n.key, n.request_id, serde_json::to_string(n)?, now],
            )?;
            if inserted > 0 {
                fresh.push(n.clone());
            }
        }
        tx.commit()?;
        Ok(fresh)
    }

    /// Whether a notice with this key was ever decided.
    pub fn notice_known(&self, key: &str) -> Result<bool> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM notifications WHERE key = ?1",
            [key],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Every notice key ever recorded, with its state (tests, diagnostics).
    pub fn notice_keys(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT key, state FROM notifications ORDER BY rowid")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Urgent interventions alerted at least once, with whose acknowledgement each still
    /// waits for (from the cached copy, for `me`).
    pub fn urgent_watches(&self, me: &User) -> Result<Vec<UrgentWatch>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT w.request_id, w.last_alert_at, w.alerts, r.raw
             FROM urgent_watch w LEFT JOIN requests r ON r.id = w.request_id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .map(|(request_id, last_alert_at, alerts, raw)| {
                let request = raw.and_then(|raw| serde_json::from_str::<Request>(&raw).ok());
                UrgentWatch {
                    request_id,
                    last_alert_at,
                    alerts,
                    awaiting: request.and_then(|r| r.awaiting(me)),
                }
            })
            .collect())
    }

    /// Records a reminder shown; returns its number (2 for the first reminder...).
    pub fn bump_watch(&mut self, request_id: &str, now: i64) -> Result<u32> {
        self.conn().execute(
            "UPDATE urgent_watch SET last_alert_at = ?2, alerts = alerts + 1 WHERE request_id = ?1",
            params![request_id, now],
        )?;
        Ok(self.conn().query_row(
            "SELECT alerts FROM urgent_watch WHERE request_id = ?1",
            [request_id],
            |r| r.get(0),
        )?)
    }

    /// Stops watching these requests (someone took them); returns those that were watched.
    pub fn drop_watches(&mut self, ids: &[String]) -> Result<Vec<String>> {
        let mut dropped = Vec::new();
        for id in ids {
            if self
                .conn()
                .execute("DELETE FROM urgent_watch WHERE request_id = ?1", [id])?
                > 0
            {
                dropped.push(id.clone());
            }
        }
        Ok(dropped)
    }
}
