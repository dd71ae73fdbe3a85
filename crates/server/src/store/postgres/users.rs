//! The `users` table on PostgreSQL: accounts, their role, whether they may sign in.

use chrono::Utc;
use itv_core::Role;
use itv_core::account::{AccountPatch, AccountState, EndReason};
use postgres::{GenericClient, Row};

use super::new_id;
use crate::store::{Account, LoginRecord, NewUserRecord, StoreError, User};

fn role_of(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Io(format!("stored role {s} is unknown")))
}

fn row_user(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: r.get(0),
        name: r.get(1),
        email: r.get(2),
        role: role_of(r.get(3))?,
    })
}

/// Columns for `row_account`: the user, `active`, and the last use of a session.
const ACCOUNT_COLUMNS: &str = "u.id, u.name, u.email, u.role, u.active,
    (SELECT MAX(s.last_used_at) FROM sessions s WHERE s.user_id = u.id)";

fn row_account(r: &Row) -> Result<Account, StoreError> {
    let user = row_user(r)?;
    Ok(Account {
        id: user.id,
        name: user.name,
        email: user.email,
        role: user.role,
        active: r.get(4),
        last_seen_at: r.get(5),
    })
}

pub fn insert(c: &mut impl GenericClient, user: NewUserRecord) -> Result<User, StoreError> {
    let id = new_id();
    let done = c.execute(
        "INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (email) DO NOTHING",
        &[&id, &user.email, &user.name, &user.role.as_str(), &user.password_hash, &Utc::now()],
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

pub fn login_record(
    c: &mut impl GenericClient,
    email: &str,
) -> Result<Option<LoginRecord>, StoreError> {
    c.query_opt(
        "SELECT id, name, email, role, password_hash, active FROM users WHERE email = $1",
        &[&email],
    )?
    .map(|r| {
        Ok(LoginRecord {
            user: row_user(&r)?,
            password_hash: r.get(4),
            active: r.get(5),
        })
    })
    .transpose()
}

pub fn by_id(c: &mut impl GenericClient, id: &str) -> Result<Option<User>, StoreError> {
    c.query_opt(
        "SELECT id, name, email, role FROM users WHERE id = $1",
        &[&id],
    )?
    .map(|r| row_user(&r))
    .transpose()
}

pub fn with_role(c: &mut impl GenericClient, role: Role) -> Result<Vec<User>, StoreError> {
    c.query(
        "SELECT id, name, email, role FROM users WHERE role = $1 AND active ORDER BY name",
        &[&role.as_str()],
    )?
    .iter()
    .map(row_user)
    .collect()
}

pub fn accounts(c: &mut impl GenericClient) -> Result<Vec<Account>, StoreError> {
    c.query(
        &format!("SELECT {ACCOUNT_COLUMNS} FROM users u ORDER BY u.active DESC, u.role, u.name"),
        &[],
    )?
    .iter()
    .map(row_account)
    .collect()
}

pub fn account(c: &mut impl GenericClient, id: &str) -> Result<Option<Account>, StoreError> {
    c.query_opt(
        &format!("SELECT {ACCOUNT_COLUMNS} FROM users u WHERE u.id = $1"),
        &[&id],
    )?
    .map(|r| row_account(&r))
    .transpose()
}

/// Counts the active admins, locking their rows: two admins deactivating each other at
/// once on two instances take turns, so the check below never leaves none.
fn active_admins(c: &mut impl GenericClient) -> Result<u64, StoreError> {
    Ok(c.query(
        "SELECT id FROM users WHERE role = 'ADMIN' AND active FOR UPDATE",
        &[],
    )?
    .len() as u64)
}

/// Checks `patch` with the core's rule and applies it; returns why the account's
/// sessions must end, if they must (the caller ends them in the same transaction).
pub fn update(
    c: &mut impl GenericClient,
    current: &Account,
    patch: &AccountPatch,
) -> Result<Option<EndReason>, StoreError> {
    let state = AccountState {
        role: current.role,
        active: current.active,
    };
    patch
        .check(&state, active_admins(c)?)
        .map_err(StoreError::Account)?;
    let after = patch.apply(&state);
    c.execute(
        "UPDATE users SET name = $2, role = $3, active = $4 WHERE id = $1",
        &[
            &current.id,
            &patch.name.as_deref().unwrap_or(&current.name),
            &after.role.as_str(),
            &after.active,
        ],
    )?;
    Ok(patch.ends_sessions(&state))
}

pub fn password_hash(c: &mut impl GenericClient, id: &str) -> Result<Option<String>, StoreError> {
    Ok(
        c.query_opt("SELECT password_hash FROM users WHERE id = $1", &[&id])?
            .map(|r| r.get(0)),
    )
}

pub fn set_password_hash(
    c: &mut impl GenericClient,
    id: &str,
    hash: &str,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "UPDATE users SET password_hash = $2 WHERE id = $1",
        &[&id, &hash],
    )? == 1)
}
