//! The `meta` key/value table: feed position, account, settings, last sync time.

use rusqlite::{Connection, OptionalExtension, params};

use super::Cache;
use crate::error::Result;
use crate::settings::Settings;
use crate::types::{Session, User};

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub(crate) fn feed_seq(conn: &Connection) -> Result<Option<i64>> {
    Ok(get(conn, "feed_seq")?.and_then(|s| s.parse().ok()))
}

pub(crate) fn unfinished_sync(conn: &Connection) -> Result<Option<i64>> {
    Ok(get(conn, "sync_running")?.and_then(|s| s.parse().ok()))
}

pub(crate) fn set_feed_seq(conn: &Connection, seq: i64) -> Result<()> {
    set(conn, "feed_seq", &seq.to_string())
}

/// The account stored between runs (no secret in it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredAccount {
    pub server_url: String,
    pub user: User,
}

impl Cache {
    /// Last feed seq applied (`None`: never synced, a full sync is needed).
    pub fn feed_seq(&self) -> Result<Option<i64>> {
        feed_seq(self.conn())
    }

    pub fn last_sync_at(&self) -> Result<Option<String>> {
        get(self.conn(), "last_sync_at")
    }

    pub fn touch_last_sync(&self) -> Result<()> {
        set(
            self.conn(),
            "last_sync_at",
            &chrono::Utc::now().to_rfc3339(),
        )
    }

    /// The server log our feed position counts in (`None` until a server named one).
    pub fn feed_epoch(&self) -> Result<Option<String>> {
        get(self.conn(), "feed_epoch")
    }

    pub fn set_feed_epoch(&self, epoch: &str) -> Result<()> {
        set(self.conn(), "feed_epoch", epoch)
    }

    /// The generation of a full sync that was started and not finished, if any.
    pub fn unfinished_sync(&self) -> Result<Option<i64>> {
        unfinished_sync(self.conn())
    }

    /// Starts a full sync at the server's `head` of log `epoch`: the feed resumes from
    /// there while the pages come in, and until `finish_sync` a restart starts over
    /// (the cache then holds only part of the server's state). Returns its generation.
    /// Into an empty cache, the rows are loaded in bulk (`bulk`): indexes built at the end.
    pub fn begin_sync(&self, head: i64, epoch: Option<&str>) -> Result<i64> {
        let tx = self.conn().unchecked_transaction()?;
        let generation = self.next_sync_generation()?;
        set(&tx, "sync_running", &generation.to_string())?;
        set_feed_seq(&tx, head)?;
        match epoch {
            Some(e) => set(&tx, "feed_epoch", e)?,
            None => {
                tx.execute("DELETE FROM meta WHERE key = 'feed_epoch'", [])?;
            }
        }
        if super::bulk::begin(&tx)? {
            tracing::info!(generation, "full sync into an empty cache: bulk load");
        }
        tx.commit()?;
        Ok(generation)
    }

    /// A new generation number for a full sync.
    pub fn next_sync_generation(&self) -> Result<i64> {
        let g = get(self.conn(), "sync_gen")?
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
            + 1;
        set(self.conn(), "sync_gen", &g.to_string())?;
        Ok(g)
    }

    pub fn account(&self) -> Result<Option<StoredAccount>> {
        Ok(get(self.conn(), "account")?.and_then(|s| serde_json::from_str(&s).ok()))
    }

    pub fn set_account(&self, account: Option<&StoredAccount>) -> Result<()> {
        match account {
            Some(a) => set(self.conn(), "account", &serde_json::to_string(a)?),
            None => {
                self.conn()
                    .execute("DELETE FROM meta WHERE key = 'account'", [])?;
                Ok(())
            }
        }
    }

    /// Settings of `user_id` (defaults when never saved).
    pub fn settings(&self, user_id: &str) -> Result<Settings> {
        Ok(get(self.conn(), &format!("settings:{user_id}"))?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    pub fn set_settings(&self, user_id: &str, s: &Settings) -> Result<()> {
        set(
            self.conn(),
            &format!("settings:{user_id}"),
            &serde_json::to_string(s)?,
        )
    }
}

impl StoredAccount {
    pub fn session(&self, storage: crate::types::SecretStorage) -> Session {
        Session {
            server_url: self.server_url.clone(),
            user: self.user.clone(),
            secret_storage: storage,
        }
    }
}
