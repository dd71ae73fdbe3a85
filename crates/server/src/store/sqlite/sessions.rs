//! The `sessions` table: one row per sign-in, ended by a timestamp and a reason.

use chrono::{DateTime, Utc};
use itv_core::account::EndReason;
use rusqlite::{Connection, OptionalExtension, params};

use super::{parse_ts, run, ts, users};
use crate::store::{Account, SessionRecord, SessionSet, StoreError};

const COLUMNS: &str = "s.id, s.user_id, s.device, s.created_at, s.last_used_at, s.expires_at, s.ended_at, s.end_reason";

fn row_session(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    let ended_at: Option<String> = r.get(6)?;
    let reason: Option<String> = r.get(7)?;
    let ended = match ended_at {
        Some(at) => Some((
            parse_ts(&at)?,
            reason
                .as_deref()
                .and_then(EndReason::parse)
                .unwrap_or(EndReason::Revoked),
        )),
        None => None,
    };
    Ok(SessionRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        device: r.get(2)?,
        created_at: parse_ts(&r.get::<_, String>(3)?)?,
        last_used_at: parse_ts(&r.get::<_, String>(4)?)?,
        expires_at: parse_ts(&r.get::<_, String>(5)?)?,
        ended,
    })
}

pub fn insert(conn: &Connection, s: &SessionRecord) -> Result<(), StoreError> {
    run(
        conn,
        "INSERT INTO sessions (id, user_id, device, created_at, last_used_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            s.id,
            s.user_id,
            s.device,
            ts(s.created_at),
            ts(s.last_used_at),
            ts(s.expires_at)
        ],
    )?;
    Ok(())
}

pub fn with_account(
    conn: &Connection,
    id: &str,
) -> Result<Option<(SessionRecord, Account)>, StoreError> {
    let Some(session) = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM sessions s WHERE s.id = ?1"),
            [id],
            row_session,
        )
        .optional()?
    else {
        return Ok(None);
    };
    let account = users::account(conn, &session.user_id)?;
    Ok(account.map(|a| (session, a)))
}

pub fn touch(
    conn: &Connection,
    id: &str,
    used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    run(
        conn,
        "UPDATE sessions SET last_used_at = ?2, expires_at = ?3 WHERE id = ?1 AND ended_at IS NULL",
        params![id, ts(used_at), ts(expires_at)],
    )?;
    Ok(())
}

pub fn end(
    conn: &Connection,
    set: &SessionSet,
    reason: EndReason,
    at: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let (filter, a, b) = match set {
        SessionSet::One { id, user_id } => ("id = ?3 AND user_id = ?4", id, user_id),
        SessionSet::AllOf(user_id) => ("user_id = ?4 AND ?3 = ?3", user_id, user_id),
        SessionSet::AllOfExcept { user_id, keep } => ("id <> ?3 AND user_id = ?4", keep, user_id),
    };
    let mut stmt = conn.prepare(&format!(
        "UPDATE sessions SET ended_at = ?1, end_reason = ?2 WHERE ended_at IS NULL AND {filter} RETURNING id"
    ))?;
    let ids = stmt.query_map(params![ts(at), reason.as_str(), a, b], |r| r.get(0))?;
    Ok(ids.collect::<Result<_, _>>()?)
}

pub fn live_of(
    conn: &Connection,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<SessionRecord>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM sessions s WHERE s.user_id = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2
         ORDER BY s.last_used_at DESC"
    ))?;
    let rows = stmt.query_map(params![user_id, ts(now)], row_session)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn ended_since(
    conn: &Connection,
    since: DateTime<Utc>,
) -> Result<Vec<(String, EndReason)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, end_reason FROM sessions WHERE ended_at IS NOT NULL AND ended_at >= ?1",
    )?;
    let rows = stmt.query_map([ts(since)], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, reason) = row?;
        let reason = reason
            .as_deref()
            .and_then(EndReason::parse)
            .unwrap_or(EndReason::Revoked);
        out.push((id, reason));
    }
    Ok(out)
}
