//! The `users` table: accounts, their role, whether they may sign in, their password.

use chrono::Utc;
use itv_core::Role;
use itv_core::account::{AccountPatch, AccountState, EndReason};
use rusqlite::{Connection, OptionalExtension, params};

use super::{new_id, parse_ts, row, run, ts};
use crate::store::{Account, LoginRecord, NewUserRecord, StoreError, User};

fn role_of(s: String) -> rusqlite::Result<Role> {
    Role::parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("role {s}").into(),
        )
    })
}

fn row_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        role: role_of(r.get(3)?)?,
    })
}

/// Columns for `row_account`: the user, `active`, and the last use of a session.
const ACCOUNT_COLUMNS: &str = "u.id, u.name, u.email, u.role, u.active,
    (SELECT MAX(s.last_used_at) FROM sessions s WHERE s.user_id = u.id)";

fn row_account(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    let user = row_user(r)?;
    let last_seen: Option<String> = r.get(5)?;
    Ok(Account {
        id: user.id,
        name: user.name,
        email: user.email,
        role: user.role,
        active: r.get(4)?,
        last_seen_at: last_seen.as_deref().map(parse_ts).transpose()?,
    })
}

pub fn insert(conn: &Connection, user: NewUserRecord) -> Result<User, StoreError> {
    let id = new_id();
    let done = run(conn,
        "INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(email) DO NOTHING",
        params![id, user.email, user.name, user.role.as_str(), user.password_hash, ts(Utc::now())],
    )?;
    if done == 0 {
        return Err(StoreError::EmailTaken);
    }
    Ok(User {
        id,
        name: user.name,
        email: user.email,
        role: user.role,
    })
}

pub fn login_record(conn: &Connection, email: &str) -> Result<Option<LoginRecord>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, name, email, role, password_hash, active FROM users WHERE email = ?1",
            [email],
            |r| {
                Ok(LoginRecord {
                    user: row_user(r)?,
                    password_hash: r.get(4)?,
                    active: r.get(5)?,
                })
            },
        )
        .optional()?)
}

pub fn by_id(conn: &Connection, id: &str) -> Result<Option<User>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, name, email, role FROM users WHERE id = ?1",
            [id],
            row_user,
        )
        .optional()?)
}

pub fn with_role(conn: &Connection, role: Role) -> Result<Vec<User>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, name, email, role FROM users WHERE role = ?1 AND active = 1 ORDER BY name",
    )?;
    let rows = stmt.query_map([role.as_str()], row_user)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn accounts(conn: &Connection) -> Result<Vec<Account>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM users u ORDER BY u.active DESC, u.role, u.name"
    ))?;
    let rows = stmt.query_map([], row_account)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn account(conn: &Connection, id: &str) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM users u WHERE u.id = ?1"),
            [id],
            row_account,
        )
        .optional()?)
}

fn active_admins(conn: &Connection) -> Result<u64, StoreError> {
    Ok(row(
        conn,
        "SELECT COUNT(*) FROM users WHERE role = 'ADMIN' AND active = 1",
        [],
        |r| r.get(0),
    )?)
}

/// Checks `patch` with the core's rule and applies it; returns why the account's
/// sessions must end, if they must (the caller ends them in the same transaction).
pub fn update(
    conn: &Connection,
    current: &Account,
    patch: &AccountPatch,
) -> Result<Option<EndReason>, StoreError> {
    let state = AccountState {
        role: current.role,
        active: current.active,
    };
    patch
        .check(&state, active_admins(conn)?)
        .map_err(StoreError::Account)?;
    let after = patch.apply(&state);
    run(
        conn,
        "UPDATE users SET name = ?2, role = ?3, active = ?4 WHERE id = ?1",
        params![
            current.id,
            patch.name.as_deref().unwrap_or(&current.name),
            after.role.as_str(),
            after.active
        ],
    )?;
    Ok(patch.ends_sessions(&state))
}

pub fn password_hash(conn: &Connection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT password_hash FROM users WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn set_password_hash(conn: &Connection, id: &str, hash: &str) -> Result<bool, StoreError> {
    Ok(run(
        conn,
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![id, hash],
    )? == 1)
}
