//! The `outbox` table: staff actions waiting to be sent, each with its idempotency key and
//! the account (server + user) that queued it. Only that account sends them; a cache reset
//! (another account signs in) keeps them, so they go when their account is back. Refused
//! ones stay with the server's reason; the ones queued after them on the same request are
//! held until the user retries or discards them.

use rusqlite::{OptionalExtension, Row, params};

use super::Cache;
use crate::error::{Result, ServerRefusal};
use crate::outbox::{
    Action, OutboxCounts, OutboxEntry, OutboxState, Waiting, abandoned_reason, held_reason,
    owner_key,
};

/// Schema of migration 7: who queued each entry, when it is tried next (`next_attempt_ms`;
/// `retry_after_ms` is the part the server asked for, which going live does not shorten),
/// and why it is held. Entries queued before it belong to the account signed in then.
pub(super) const PER_ACCOUNT_SCHEMA: &str = r#"
    ALTER TABLE outbox ADD COLUMN account TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbox ADD COLUMN account_label TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbox ADD COLUMN next_attempt_ms INTEGER;
    ALTER TABLE outbox ADD COLUMN retry_after_ms INTEGER;
    ALTER TABLE outbox ADD COLUMN reason TEXT;
    UPDATE outbox SET
        account = COALESCE((SELECT json_extract(value, '$.serverUrl') || ' ' ||
            json_extract(value, '$.user._id') FROM meta WHERE key = 'account'), ''),
        account_label = COALESCE((SELECT json_extract(value, '$.user.name') || ' (' ||
            json_extract(value, '$.serverUrl') || ')' FROM meta WHERE key = 'account'), '');
    CREATE INDEX outbox_account ON outbox(account, state, id);
"#;

const COLUMNS: &str = "id, idempotency_key, action, state, created_at, attempts, last_error, \
     refusal, reason, next_attempt_ms, account, account_label";

/// A row, with the action and refusal still as text (decoded by `finish`).
struct Raw {
    entry: OutboxEntry,
    action: String,
    refusal: Option<String>,
    account: String,
    account_label: String,
}

fn raw(row: &Row<'_>) -> rusqlite::Result<Raw> {
    let state: String = row.get(3)?;
    let next: Option<i64> = row.get(9)?;
    Ok(Raw {
        entry: OutboxEntry {
            id: row.get(0)?,
            action: Action::ValidateProject {
                request_id: String::new(),
            },
            idempotency_key: row.get(1)?,
            state: match state.as_str() {
                "refused" => OutboxState::Refused,
                "held" => OutboxState::Held,
                _ => OutboxState::Pending,
            },
            created_at: row.get(4)?,
            attempts: row.get(5)?,
            last_error: row.get(6)?,
            refusal: None,
            reason: row.get(8)?,
            next_attempt_at: next
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339()),
        },
        action: row.get(2)?,
        refusal: row.get(7)?,
        account: row.get(10)?,
        account_label: row.get(11)?,
    })
}

/// Decodes the row; another account's entry reads as abandoned, with whose it is.
fn finish(raw: Raw, me: &str) -> Result<OutboxEntry> {
    let mut e = raw.entry;
    e.action = serde_json::from_str(&raw.action)?;
    e.refusal = match raw.refusal {
        Some(r) => Some(serde_json::from_str::<ServerRefusal>(&r)?),
        None => None,
    };
    if raw.account != me {
        e.state = OutboxState::Abandoned;
        e.reason = Some(abandoned_reason(&raw.account_label));
        e.next_attempt_at = None;
    }
    Ok(e)
}

fn state_name(state: OutboxState) -> &'static str {
    match state {
        OutboxState::Refused => "refused",
        OutboxState::Held => "held",
        OutboxState::Pending | OutboxState::Abandoned => "pending",
    }
}

impl Cache {
    /// The signed-in account's key and how the UI names it ("" when none is stored).
    fn outbox_account(&self) -> Result<(String, String)> {
        Ok(self
            .account()?
            .map(|a| {
                (
                    owner_key(&a.server_url, &a.user.id),
                    format!("{} ({})", a.user.name, a.server_url),
                )
            })
            .unwrap_or_default())
    }

    /// Appends an action for the signed-in account; returns its id.
    pub fn outbox_push(&mut self, action: &Action, idempotency_key: &str) -> Result<i64> {
        let (account, label) = self.outbox_account()?;
        self.conn().execute(
            "INSERT INTO outbox(idempotency_key, request_id, action, state, created_at,
                account, account_label)
             VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6)",
            params![
                idempotency_key,
                action.request_id(),
                serde_json::to_string(action)?,
                chrono::Utc::now().to_rfc3339(),
                account,
                label
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// `account`'s pending entries in queue order, as the sending rules read them.
    pub fn outbox_waiting(&self, account: &str) -> Result<Vec<Waiting>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, request_id, next_attempt_ms FROM outbox
             WHERE account = ?1 AND state = 'pending' ORDER BY id",
        )?;
        let rows = stmt.query_map([account], |r| {
            Ok(Waiting {
                id: r.get(0)?,
                request_id: r.get(1)?,
                next_attempt_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// One entry, as the signed-in account sees it.
    pub fn outbox_get(&self, id: i64) -> Result<Option<OutboxEntry>> {
        let (me, _) = self.outbox_account()?;
        let found = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
                [id],
                raw,
            )
            .optional()?;
        found.map(|r| finish(r, &me)).transpose()
    }

    /// Every entry still in the outbox, oldest first; other accounts' ones as abandoned.
    pub fn outbox_list(&self) -> Result<Vec<OutboxEntry>> {
        let (me, _) = self.outbox_account()?;
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM outbox ORDER BY id"))?;
        let raws = stmt
            .query_map([], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(|r| finish(r, &me)).collect()
    }

    /// The status bar's counts, for the signed-in account (the rest is abandoned).
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let (me, _) = self.outbox_account()?;
        Ok(self.conn().query_row(
            "SELECT COALESCE(SUM(account = ?1 AND state = 'pending'), 0),
                    COALESCE(SUM(account = ?1 AND state = 'refused'), 0),
                    COALESCE(SUM(account = ?1 AND state = 'held'), 0),
                    COALESCE(SUM(account <> ?1), 0)
             FROM outbox",
            [me],
            |r| {
                Ok(OutboxCounts {
                    pending: r.get::<_, i64>(0)? as u64,
                    refused: r.get::<_, i64>(1)? as u64,
                    held: r.get::<_, i64>(2)? as u64,
                    abandoned: r.get::<_, i64>(3)? as u64,
                })
            },
        )?)
    }

    /// The server applied it: the entry leaves the outbox.
    pub fn outbox_done(&mut self, id: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The server refused it: kept with the reason, and the entries queued after it on the
    /// same request (they depend on it) are held, in the same transaction. Returns how many.
    pub fn outbox_refused(&mut self, id: i64, refusal: &ServerRefusal) -> Result<usize> {
        let tx = self.conn_mut().transaction()?;
        tx.execute(
            "UPDATE outbox SET state = 'refused', attempts = attempts + 1, refusal = ?2,
                last_error = ?3, next_attempt_ms = NULL, retry_after_ms = NULL WHERE id = ?1",
            params![id, serde_json::to_string(refusal)?, refusal.message],
        )?;
        let held = tx.execute(
            "UPDATE outbox SET state = 'held', reason = ?2
             WHERE state = 'pending' AND id > ?1 AND (account, request_id) =
                (SELECT account, request_id FROM outbox WHERE id = ?1)",
            params![id, held_reason(refusal)],
        )?;
        tx.commit()?;
        Ok(held)
    }

    /// An attempt without a verdict: tried again at `next_attempt_ms`, of which the server
    /// asked for `retry_after_ms` (its `Retry-After`), if anything.
    pub fn outbox_failed_attempt(
        &mut self,
        id: i64,
        error: &str,
        next_attempt_ms: i64,
        retry_after_ms: Option<i64>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3,
                retry_after_ms = ?4 WHERE id = ?1",
            params![id, error, next_attempt_ms, retry_after_ms],
        )?;
        Ok(())
    }

    /// The network is back (the feed went live): waits on our side end now; a wait the
    /// server asked for does not.
    pub fn outbox_wake(&mut self, account: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET next_attempt_ms = retry_after_ms
             WHERE account = ?1 AND state = 'pending'",
            [account],
        )?;
        Ok(())
    }

    /// The user asks for a held or refused entry of theirs to be sent again; a refused one
    /// gets `new_key` (its old key would replay the refusal). False when nothing changed.
    pub fn outbox_retry(&mut self, id: i64, new_key: &str) -> Result<bool> {
        let Some(e) = self.outbox_get(id)? else {
            return Ok(false);
        };
        let key = match e.state {
            OutboxState::Held => e.idempotency_key,
            OutboxState::Refused => new_key.to_owned(),
            OutboxState::Pending | OutboxState::Abandoned => return Ok(false),
        };
        self.conn().execute(
            "UPDATE outbox SET state = ?2, idempotency_key = ?3, refusal = NULL, reason = NULL,
                next_attempt_ms = NULL, retry_after_ms = NULL WHERE id = ?1",
            params![id, state_name(OutboxState::Pending), key],
        )?;
        Ok(true)
    }

    /// The user discarded an entry (refused, held or abandoned).
    pub fn outbox_remove(&mut self, id: i64) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::StoredAccount;
    use crate::types::{Role, User};

    fn account(c: &Cache, id: &str) {
        c.set_account(Some(&StoredAccount {
            server_url: "https://itv.sn".into(),
            user: User {
                id: id.into(),
                name: format!("Agent {id}"),
                email: format!("{id}@itv.sn"),
                role: Role::Admin,
            },
        }))
        .unwrap();
    }

    fn message(request: &str) -> Action {
        Action::SendMessage {
            request_id: request.into(),
            body: "Bonjour".into(),
        }
    }

    fn refusal() -> ServerRefusal {
        ServerRefusal {
            status: 409,
            code: "invalid_transition".into(),
            message: "Déjà validé".into(),
            current_status: Some("active".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_refusal_holds_what_follows_on_the_same_request_only() {
        let mut c = Cache::open_in_memory().unwrap();
        account(&c, "u1");
        let me = owner_key("https://itv.sn", "u1");
        let a = c
            .outbox_push(
                &Action::ValidateProject {
                    request_id: "p1".into(),
                },
                "k1",
            )
            .unwrap();
        let b = c.outbox_push(&message("p1"), "k2").unwrap();
        let other = c.outbox_push(&message("p2"), "k3").unwrap();
        let ids: Vec<i64> = c
            .outbox_waiting(&me)
            .unwrap()
            .iter()
            .map(|w| w.id)
            .collect();
        assert_eq!(ids, vec![a, b, other]);

        assert_eq!(c.outbox_refused(a, &refusal()).unwrap(), 1);
        let ids: Vec<i64> = c
            .outbox_waiting(&me)
            .unwrap()
            .iter()
            .map(|w| w.id)
            .collect();
        assert_eq!(ids, vec![other]);
        let held = c.outbox_get(b).unwrap().unwrap();
        assert_eq!(held.state, OutboxState::Held);
        assert!(held.reason.unwrap().contains("Déjà validé"));
        assert_eq!(c.outbox_get(a).unwrap().unwrap().refusal, Some(refusal()));
        let counts = c.outbox_counts().unwrap();
        assert_eq!((counts.pending, counts.refused, counts.held), (1, 1, 1));

        // Retried: the held one goes as it was, the refused one under a new key.
        assert!(c.outbox_retry(b, "unused").unwrap());
        assert_eq!(c.outbox_get(b).unwrap().unwrap().idempotency_key, "k2");
        assert!(c.outbox_retry(a, "k1-bis").unwrap());
        let again = c.outbox_get(a).unwrap().unwrap();
        assert_eq!(
            (again.state, again.idempotency_key.as_str()),
            (OutboxState::Pending, "k1-bis")
        );
        assert_eq!(again.refusal, None);
        assert!(!c.outbox_retry(a, "x").unwrap(), "already pending");
    }

    #[test]
    fn entries_belong_to_their_account_and_survive_a_reset() {
        let mut c = Cache::open_in_memory().unwrap();
        account(&c, "u1");
        let id = c.outbox_push(&message("p1"), "k1").unwrap();
        c.outbox_failed_attempt(id, "503 occupé", 9_000, Some(5_000))
            .unwrap();
        c.clear().unwrap();
        account(&c, "u2");
        let u1 = owner_key("https://itv.sn", "u1");
        let u2 = owner_key("https://itv.sn", "u2");
        assert!(
            c.outbox_waiting(&u2).unwrap().is_empty(),
            "never sent by u2"
        );
        let listed = c.outbox_list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].state, OutboxState::Abandoned);
        assert_eq!(
            listed[0].reason.as_deref(),
            Some(
                "En attente de Agent u1 (https://itv.sn) : envoyée quand ce compte se reconnectera"
            )
        );
        assert_eq!(c.outbox_counts().unwrap().abandoned, 1);
        assert!(!c.outbox_retry(id, "x").unwrap(), "not u2's to send");

        account(&c, "u1");
        assert_eq!(c.outbox_list().unwrap()[0].state, OutboxState::Pending);
        // Going live ends our own wait, not the server's.
        c.outbox_wake(&u1).unwrap();
        assert_eq!(
            c.outbox_waiting(&u1).unwrap()[0].next_attempt_ms,
            Some(5_000)
        );
        assert!(c.outbox_remove(id).unwrap());
        assert!(c.outbox_list().unwrap().is_empty());
    }

    #[test]
    fn migration_7_gives_older_entries_to_the_account_signed_in_then() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in &super::super::MIGRATIONS[..6] {
            conn.execute_batch(m.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('account', ?1)",
            [r#"{"serverUrl":"https://itv.sn","user":{"_id":"u1","name":"Awa","email":"a@itv.sn","role":"ADMIN"}}"#],
        )
        .unwrap();
        conn.execute(
            r#"INSERT INTO outbox(idempotency_key, request_id, action, state, created_at)
             VALUES ('k1', 'p1', '{"type":"validateProject","requestId":"p1"}', 'pending', 'x')"#,
            [],
        )
        .unwrap();
        let c = Cache::init(conn).unwrap();
        let waiting = c
            .outbox_waiting(&owner_key("https://itv.sn", "u1"))
            .unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(c.outbox_list().unwrap()[0].state, OutboxState::Pending);
    }
}
