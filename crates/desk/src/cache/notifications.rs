//! The `notifications` and `urgent_watch` tables: every notice ever decided, by
//! key, so that one event never notifies twice (across restarts and resyncs),
//! the queue of those not shown yet, and urgent interventions awaiting acknowledgement.

use rusqlite::{Transaction, params};

use super::Cache;
use crate::error::{Error, Result};
use crate::notify::{Notice, UrgentWatch};

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

pub(crate) fn watch(tx: &Transaction<'_>, request_id: &str, now: i64) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO urgent_watch(request_id, last_alert_at, alerts) VALUES (?1, ?2, 1)",
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

    /// Urgent interventions alerted at least once, with whether someone acknowledged them.
    pub fn urgent_watches(&self) -> Result<Vec<UrgentWatch>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT w.request_id, w.last_alert_at, w.alerts,
                    COALESCE(r.acked = 1 OR r.status <> 'open', 1)
             FROM urgent_watch w LEFT JOIN requests r ON r.id = w.request_id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(UrgentWatch {
                    request_id: r.get(0)?,
                    last_alert_at: r.get(1)?,
                    alerts: r.get(2)?,
                    acknowledged: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
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

    /// Stops watching acknowledged interventions.
    pub fn drop_acknowledged_watches(&mut self) -> Result<usize> {
        Ok(self.conn().execute(
            "DELETE FROM urgent_watch WHERE request_id NOT IN
                (SELECT id FROM requests WHERE status = 'open' AND acked = 0)",
            [],
        )?)
    }
}
