//! The `users` table.

use chrono::Utc;
use itv_core::Role;
use rusqlite::{Connection, OptionalExtension, params};

use super::{new_id, ts};
use crate::store::{NewUserRecord, StoreError, User};

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

pub fn insert(conn: &Connection, user: NewUserRecord) -> Result<User, StoreError> {
    let id = new_id();
    let done = conn.execute(
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

pub fn by_email(conn: &Connection, email: &str) -> Result<Option<(User, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, name, email, role, password_hash FROM users WHERE email = ?1",
            [email],
            |r| Ok((row_user(r)?, r.get(4)?)),
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
    let mut stmt =
        conn.prepare("SELECT id, name, email, role FROM users WHERE role = ?1 ORDER BY name")?;
    let rows = stmt.query_map([role.as_str()], row_user)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
