//! The `outbox` table: staff actions waiting to be sent, in insertion order,
//! each with its idempotency key; refused ones stay with the server's reason.

use rusqlite::{OptionalExtension, Row, params};

use super::Cache;
use crate::error::{Result, ServerRefusal};
use crate::outbox::{Action, OutboxEntry, OutboxState};

/// Schema of migration 7.
pub(super) const PER_ACCOUNT_SCHEMA: &str = "";

fn entry(row: &Row<'_>) -> rusqlite::Result<(OutboxEntry, String, Option<String>)> {
    let state: String = row.get(3)?;
    Ok((
        OutboxEntry {
            id: row.get(0)?,
            action: Action::ValidateProject {
                request_id: String::new(),
            },
            idempotency_key: row.get(1)?,
            state: if state == "refused" {
                OutboxState::Refused
            } else {
                OutboxState::Pending
            },
            created_at: row.get(4)?,
            attempts: row.get(5)?,
            last_error: row.get(6)?,
            refusal: None,
        },
        row.get(2)?,
        row.get(7)?,
    ))
}

const COLUMNS: &str =
    "id, idempotency_key, action, state, created_at, attempts, last_error, refusal";

fn finish(raw: (OutboxEntry, String, Option<String>)) -> Result<OutboxEntry> {
    let (mut e, action, refusal) = raw;
    e.action = serde_json::from_str(&action)?;
    e.refusal = match refusal {
        Some(r) => Some(serde_json::from_str::<ServerRefusal>(&r)?),
        None => None,
    };
    Ok(e)
}

impl Cache {
    /// Appends an action; returns its id.
    pub fn outbox_push(&mut self, action: &Action, idempotency_key: &str) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO outbox(idempotency_key, request_id, action, state, created_at)
             VALUES (?1, ?2, ?3, 'pending', ?4)",
            params![
                idempotency_key,
                action.request_id(),
                serde_json::to_string(action)?,
                chrono::Utc::now().to_rfc3339()
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// The oldest pending entry (the next to send).
    pub fn outbox_next(&self) -> Result<Option<OutboxEntry>> {
        let raw = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY id LIMIT 1"
                ),
                [],
                entry,
            )
            .optional()?;
        raw.map(finish).transpose()
    }

    pub fn outbox_get(&self, id: i64) -> Result<Option<OutboxEntry>> {
        let raw = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                [id],
                entry,
            )
            .optional()?;
        raw.map(finish).transpose()
    }

    /// Every entry still in the outbox (pending and refused), oldest first.
    pub fn outbox_list(&self) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM outbox ORDER BY id"))?;
        let raws = stmt
            .query_map([], entry)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(finish).collect()
    }

    /// (pending, refused) counts.
    pub fn outbox_counts(&self) -> Result<(u64, u64)> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'refused'), 0) FROM outbox",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    /// The server applied it: the entry leaves the outbox.
    pub fn outbox_done(&mut self, id: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn outbox_refused(&mut self, id: i64, refusal: &ServerRefusal) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET state = 'refused', attempts = attempts + 1, refusal = ?2,
                last_error = ?3 WHERE id = ?1",
            params![id, serde_json::to_string(refusal)?, refusal.message],
        )?;
        Ok(())
    }

    pub fn outbox_failed_attempt(&mut self, id: i64, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
        )?;
        Ok(())
    }

    /// The user dismissed an entry (typically a refused one).
    pub fn outbox_remove(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?
            > 0)
    }
}
