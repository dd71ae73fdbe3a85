//! The `notifications` and `urgent_watch` tables: every notice ever decided, by
//! key, so that one event never notifies twice (across restarts and resyncs),
//! the delivery queue of those not shown yet (with their retries), and the urgent
//! interventions this desk alerted about, watched until the server says someone took them.
//!
//! A notice's life: `pending` (decided by the feed, not planned yet) → `showing` (planned:
//! to be shown, retried until the notification server takes it; a notice folded into a
//! summary is `showing` too, `via` the summary) → `done` once the server returned an id
//! (`shown_id`), or `moot` when nobody needs it any more (someone took the request).

use rusqlite::{OptionalExtension, Transaction, params};

use super::Cache;
use crate::error::{Error, Result};
use crate::notify::{Notice, UrgentWatch};
use crate::types::{Request, User};

/// Schema of migration 6: notices are done only once the notification server showed them.
/// Times of the queue are unix milliseconds (retries come sooner than a second).
pub(super) const DELIVERY_SCHEMA: &str = r#"
    ALTER TABLE notifications ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE notifications ADD COLUMN next_try_ms INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE notifications ADD COLUMN last_error TEXT;
    ALTER TABLE notifications ADD COLUMN shown_id INTEGER;
    ALTER TABLE notifications ADD COLUMN via TEXT;
    CREATE INDEX notifications_showing ON notifications(next_try_ms)
        WHERE state = 'showing' AND via IS NULL;
    CREATE INDEX notifications_via ON notifications(via) WHERE via IS NOT NULL;
    CREATE INDEX notifications_shown ON notifications(request_id, sent_at)
        WHERE shown_id IS NOT NULL;
"#;

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

/// Records `n` as planned for display unless its key was ever seen.
fn insert_showing(tx: &Transaction<'_>, n: &Notice, now: i64) -> Result<bool> {
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO notifications(key, request_id, notice, state, created_at)
         VALUES (?1, ?2, ?3, 'showing', ?4)",
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

    /// Plans pending notices: those `handled` that `plan` shows as they are wait in the
    /// delivery queue; the others ride with the plan's new notices (a summary), which are
    /// recorded unless their key was ever seen. Nothing is done until the notification server
    /// took it (`mark_shown`). Returns the new notices of `plan` to show.
    pub fn claim_notices(
        &mut self,
        handled: &[String],
        plan: &[Notice],
        now: i64,
    ) -> Result<Vec<Notice>> {
        let tx = self.conn_mut().transaction()?;
        let carrier = plan
            .iter()
            .find(|n| !handled.contains(&n.key))
            .map(|n| n.key.clone());
        let mut claimed = Vec::new();
        for key in handled {
            let via = if plan.iter().any(|n| &n.key == key) {
                None
            } else {
                carrier.as_deref()
            };
            let n = tx.execute(
                "UPDATE notifications SET state = 'showing', via = ?2 WHERE key = ?1 AND state = 'pending'",
                params![key, via],
            )?;
            if n > 0 {
                claimed.push(key.as_str());
            }
        }
        let mut fresh = Vec::new();
        for n in plan {
            if claimed.contains(&n.key.as_str()) || insert_showing(&tx, n, now)? {
                fresh.push(n.clone());
            }
        }
        tx.commit()?;
        Ok(fresh)
    }

    /// Settles unshown notices nobody needs any more (someone took the request).
    pub fn settle_moot(&mut self, keys: &[String]) -> Result<()> {
        let tx = self.conn_mut().transaction()?;
        for key in keys {
            tx.execute(
                "UPDATE notifications SET state = 'moot' WHERE key = ?1 AND state IN ('pending', 'showing')",
                [key],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Queues a notice to show as it is (a reminder, an alert of the engine's own) unless
    /// its key was ever seen. Returns whether it was new.
    pub fn enqueue_notice(&mut self, n: &Notice, now: i64) -> Result<bool> {
        let tx = self.conn_mut().transaction()?;
        let fresh = insert_showing(&tx, n, now)?;
        tx.commit()?;
        Ok(fresh)
    }

    /// The delivery queue in order, each notice with how often it failed and when it may be
    /// tried next (unix ms).
    pub fn queued_notices(&self) -> Result<Vec<(Notice, u32, i64)>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT notice, attempts, next_try_ms FROM notifications
             WHERE state = 'showing' AND via IS NULL ORDER BY rowid",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(s, attempts, next)| Ok((serde_json::from_str(&s)?, attempts, next)))
            .collect()
    }

    /// The notification server took `key` (and whatever rides with it): done.
    pub fn mark_shown(&mut self, key: &str, shown_id: Option<u32>, now: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE notifications SET state = 'done', shown_id = ?2, sent_at = ?3, last_error = NULL
             WHERE (key = ?1 OR via = ?1) AND state = 'showing'",
            params![key, shown_id, now],
        )?;
        Ok(())
    }

    /// An attempt at `key` failed: counts it and says when to try again.
    pub fn mark_failed(&mut self, key: &str, error: &str, next_try_ms: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE notifications SET attempts = attempts + 1, last_error = ?2, next_try_ms = ?3
             WHERE key = ?1 AND state = 'showing'",
            params![key, error, next_try_ms],
        )?;
        Ok(())
    }

    /// A notification server appeared: every waiting notice may be tried now.
    pub fn retry_notices_now(&mut self) -> Result<()> {
        self.conn().execute(
            "UPDATE notifications SET next_try_ms = 0 WHERE state = 'showing' AND via IS NULL",
            [],
        )?;
        Ok(())
    }

    /// Notices waiting while delivery fails: the whole queue once one of them failed (the
    /// status bar's figure), else 0.
    pub fn failing_notices(&self) -> Result<u32> {
        Ok(self.conn().query_row(
            "SELECT CASE WHEN MAX(attempts) > 0 THEN COUNT(*) ELSE 0 END FROM notifications
             WHERE state = 'showing' AND via IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// Whether a notice about `request_id` still waits for the notification server.
    pub fn notice_queued_for(&self, request_id: &str) -> Result<bool> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM notifications
             WHERE request_id = ?1 AND state = 'showing' AND via IS NULL",
            [request_id],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// The server's id of the last notification shown about `request_id`.
    pub fn last_shown_id(&self, request_id: &str) -> Result<Option<u32>> {
        let id = self
            .conn()
            .query_row(
                "SELECT shown_id FROM notifications WHERE request_id = ?1 AND shown_id IS NOT NULL
                 ORDER BY sent_at DESC, rowid DESC LIMIT 1",
                [request_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(key: &str, request: &str, critical: bool) -> Notice {
        Notice {
            key: key.into(),
            request_id: Some(request.into()),
            critical,
            summary: "s".into(),
            body: "b".into(),
            acknowledge: false,
        }
    }

    fn states(c: &Cache) -> Vec<(String, String)> {
        c.notice_keys().unwrap()
    }

    #[test]
    fn a_notice_is_done_only_once_shown_and_a_failure_is_retried_later() {
        let mut c = Cache::open_in_memory().unwrap();
        let n = notice("urgent:r1", "r1", true);
        assert!(c.enqueue_notice(&n, 1).unwrap());
        assert!(!c.enqueue_notice(&n, 2).unwrap(), "one key, once");
        assert_eq!(c.failing_notices().unwrap(), 0);
        c.mark_failed("urgent:r1", "ServiceUnknown", 5_000).unwrap();
        let q = c.queued_notices().unwrap();
        assert_eq!(q, vec![(n.clone(), 1, 5_000)]);
        assert_eq!(c.failing_notices().unwrap(), 1);
        assert!(c.notice_queued_for("r1").unwrap());
        assert_eq!(states(&c), vec![("urgent:r1".into(), "showing".into())]);
        c.mark_shown("urgent:r1", Some(42), 6).unwrap();
        assert!(c.queued_notices().unwrap().is_empty());
        assert_eq!(c.failing_notices().unwrap(), 0);
        assert_eq!(c.last_shown_id("r1").unwrap(), Some(42));
        assert_eq!(states(&c), vec![("urgent:r1".into(), "done".into())]);
    }

    #[test]
    fn notices_folded_into_a_summary_are_done_when_the_summary_is_shown() {
        let mut c = Cache::open_in_memory().unwrap();
        let queued: Vec<Notice> = (0..3)
            .map(|i| notice(&format!("k{i}"), &format!("r{i}"), false))
            .collect();
        {
            let tx = c.conn_mut().transaction().unwrap();
            for n in &queued {
                queue(&tx, n, 1).unwrap();
            }
            tx.commit().unwrap();
        }
        let keys: Vec<String> = queued.iter().map(|n| n.key.clone()).collect();
        let summary = notice("summary:x", "r0", false);
        let fresh = c
            .claim_notices(&keys, std::slice::from_ref(&summary), 2)
            .unwrap();
        assert_eq!(fresh, vec![summary.clone()]);
        assert!(c.pending_notices().unwrap().is_empty());
        let q = c.queued_notices().unwrap();
        assert_eq!(q.len(), 1, "only the summary is tried: {q:?}");
        assert_eq!(q[0].0.key, "summary:x");
        c.mark_shown("summary:x", Some(7), 3).unwrap();
        assert!(
            states(&c).iter().all(|(_, s)| s == "done"),
            "{:?}",
            states(&c)
        );
        // Someone took a request: its unshown notice is settled, not shown.
        c.enqueue_notice(&notice("remind:r9:1", "r9", true), 4)
            .unwrap();
        c.settle_moot(&["remind:r9:1".into()]).unwrap();
        assert!(c.queued_notices().unwrap().is_empty());
        assert_eq!(states(&c).last().unwrap().1, "moot");
    }
}
