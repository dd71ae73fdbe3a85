//! The `sessions` table on PostgreSQL: one row per sign-in.

use chrono::{DateTime, Utc};
use itv_core::account::EndReason;
use postgres::{GenericClient, Row};

use super::users;
use crate::store::{Account, SessionRecord, SessionSet, StoreError};

const COLUMNS: &str = "s.id, s.user_id, s.device, s.created_at, s.last_used_at, s.expires_at, s.ended_at, s.end_reason";

fn reason(stored: Option<&str>) -> EndReason {
    stored
        .and_then(EndReason::parse)
        .unwrap_or(EndReason::Revoked)
}

fn row_session(r: &Row) -> SessionRecord {
    let ended_at: Option<DateTime<Utc>> = r.get(6);
    SessionRecord {
        id: r.get(0),
        user_id: r.get(1),
        device: r.get(2),
        created_at: r.get(3),
        last_used_at: r.get(4),
        expires_at: r.get(5),
        ended: ended_at.map(|at| (at, reason(r.get(7)))),
    }
}

pub fn insert(c: &mut impl GenericClient, s: &SessionRecord) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO sessions (id, user_id, device, created_at, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&s.id, &s.user_id, &s.device, &s.created_at, &s.last_used_at, &s.expires_at],
    )?;
    Ok(())
}

pub fn with_account(
    c: &mut impl GenericClient,
    id: &str,
) -> Result<Option<(SessionRecord, Account)>, StoreError> {
    let Some(row) = c.query_opt(
        &format!("SELECT {COLUMNS} FROM sessions s WHERE s.id = $1"),
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let session = row_session(&row);
    let account = users::account(c, &session.user_id)?;
    Ok(account.map(|a| (session, a)))
}

pub fn touch(
    c: &mut impl GenericClient,
    id: &str,
    used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE sessions SET last_used_at = $2, expires_at = $3 WHERE id = $1 AND ended_at IS NULL",
        &[&id, &used_at, &expires_at],
    )?;
    Ok(())
}

pub fn end(
    c: &mut impl GenericClient,
    set: &SessionSet,
    why: EndReason,
    at: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let (filter, a, b) = match set {
        SessionSet::One { id, user_id } => ("id = $3 AND user_id = $4", id, user_id),
        SessionSet::AllOf(user_id) => ("user_id = $4 AND $3::text IS NOT NULL", user_id, user_id),
        SessionSet::AllOfExcept { user_id, keep } => ("id <> $3 AND user_id = $4", keep, user_id),
    };
    let rows = c.query(
        &format!(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE ended_at IS NULL AND {filter} RETURNING id"
        ),
        &[&at, &why.as_str(), a, b],
    )?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub fn live_of(
    c: &mut impl GenericClient,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<SessionRecord>, StoreError> {
    let rows = c.query(
        &format!(
            "SELECT {COLUMNS} FROM sessions s WHERE s.user_id = $1 AND s.ended_at IS NULL AND s.expires_at > $2
             ORDER BY s.last_used_at DESC"
        ),
        &[&user_id, &now],
    )?;
    Ok(rows.iter().map(row_session).collect())
}

pub fn ended_since(
    c: &mut impl GenericClient,
    since: DateTime<Utc>,
) -> Result<Vec<(String, EndReason)>, StoreError> {
    let rows = c.query(
        "SELECT id, end_reason FROM sessions WHERE ended_at IS NOT NULL AND ended_at >= $1",
        &[&since],
    )?;
    Ok(rows.iter().map(|r| (r.get(0), reason(r.get(1)))).collect())
}
