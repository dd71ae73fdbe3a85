//! Feed events and synced rows this build could not decode, kept with their seq and the
//! error until a build that can read them retries them (every start retries them all: after
//! an update they decode, before it they stay). The feed position moves past them, but never
//! silently: they are counted in the status bar and an urgent one still alerts.

use rusqlite::{OptionalExtension, params};

use super::Cache;
use crate::error::Result;

/// Schema of migration 8.
pub(super) const SCHEMA: &str = r#"
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL CHECK (source IN ('event', 'row')),
        seq INTEGER,
        request_id TEXT,
        raw TEXT NOT NULL,
        error TEXT NOT NULL,
        app_version TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX quarantine_event ON quarantine(seq) WHERE source = 'event';
    CREATE UNIQUE INDEX quarantine_row ON quarantine(request_id) WHERE source = 'row';
"#;

/// What could not be decoded: one feed event (by seq) or one row of a list page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undecoded {
    Event { seq: i64 },
    Row { request_id: String },
}

/// One quarantined item, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub id: i64,
    pub what: Undecoded,
    pub raw: String,
    pub error: String,
}

impl Cache {
    /// Sets aside what this build could not decode. Again for the same event or row: the
    /// newer copy and error replace the old.
    pub fn quarantine(
        &self,
        what: &Undecoded,
        raw: &str,
        error: &str,
        app_version: &str,
        now: i64,
    ) -> Result<()> {
        let (source, seq, request_id) = match what {
            Undecoded::Event { seq } => ("event", Some(*seq), None),
            Undecoded::Row { request_id } => ("row", None, Some(request_id.as_str())),
        };
        let conflict = if seq.is_some() {
            "(seq) WHERE source = 'event'"
        } else {
            "(request_id) WHERE source = 'row'"
        };
        self.conn().execute(
            &format!(
                "INSERT INTO quarantine(source, seq, request_id, raw, error, app_version, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT{conflict} DO UPDATE SET raw = excluded.raw,
                    error = excluded.error, app_version = excluded.app_version, at = excluded.at"
            ),
            params![source, seq, request_id, raw, error, app_version, now],
        )?;
        Ok(())
    }

    /// How many items wait in quarantine (the status bar's count).
    pub fn quarantined_count(&self) -> Result<u32> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM quarantine", [], |r| r.get(0))?)
    }

    /// Everything in quarantine, oldest first.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, source, seq, request_id, raw, error FROM quarantine ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            let source: String = r.get(1)?;
            let what = if source == "event" {
                Undecoded::Event { seq: r.get(2)? }
            } else {
                Undecoded::Row {
                    request_id: r.get(3)?,
                }
            };
            Ok(Quarantined {
                id: r.get(0)?,
                what,
                raw: r.get(4)?,
                error: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Takes an item out of quarantine (it decoded and was applied).
    pub fn release_quarantined(&self, id: i64) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM quarantine WHERE id = ?1", [id])?
            == 1)
    }

    /// The quarantined row of a request, if any (a later page that reads it clears it).
    pub fn quarantined_row(&self, request_id: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM quarantine WHERE source = 'row' AND request_id = ?1",
                [request_id],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_kept_once_counted_and_released() {
        let c = Cache::open_in_memory().unwrap();
        let ev = Undecoded::Event { seq: 7 };
        c.quarantine(&ev, "{}", "unknown variant `critical`", "0.1.0", 1)
            .unwrap();
        c.quarantine(&ev, "{ }", "still unknown", "0.1.0", 2)
            .unwrap();
        let row = Undecoded::Row {
            request_id: "r1".into(),
        };
        c.quarantine(&row, "{}", "missing field `title`", "0.1.0", 3)
            .unwrap();
        assert_eq!(c.quarantined_count().unwrap(), 2);
        let all = c.quarantined().unwrap();
        assert_eq!(all[0].what, ev);
        assert_eq!(all[0].error, "still unknown");
        assert_eq!(all[1].what, row);
        assert_eq!(c.quarantined_row("r1").unwrap(), Some(all[1].id));
        assert!(c.release_quarantined(all[0].id).unwrap());
        assert!(!c.release_quarantined(all[0].id).unwrap());
        assert_eq!(c.quarantined_count().unwrap(), 1);
    }
}
