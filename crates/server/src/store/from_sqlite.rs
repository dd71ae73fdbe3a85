//! `itv-server migrate --from-sqlite DIR --database postgres://…`: moves an embedded
//! deployment to PostgreSQL, every table as it stands (ticket counters, the event log
//! with its seqs and epochs, sessions, idempotency keys), and the data dir's JWT secret,
//! so that desks and signed-in users carry on where they were.
//!
//! All of it is one PostgreSQL transaction, read from one SQLite read transaction: the
//! target ends up with everything or nothing, and it is refused unless it is empty. Each
//! table's row count is compared before the commit.

use std::path::Path;

use chrono::{DateTime, Utc};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use rusqlite::types::ValueRef;

use super::StoreError;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;

/// How a SQLite column becomes a PostgreSQL one.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    BigInt,
    /// 0 or 1.
    Bool,
    /// RFC 3339 text.
    Ts,
    /// JSON text.
    Json,
    /// Comma-separated ids.
    TextArray,
}

impl Kind {
    fn pg_type(self) -> Type {
        match self {
            Kind::Text => Type::TEXT,
            Kind::Int => Type::INT4,
            Kind::BigInt => Type::INT8,
            Kind::Bool => Type::BOOL,
            Kind::Ts => Type::TIMESTAMPTZ,
            Kind::Json => Type::JSONB,
            Kind::TextArray => Type::TEXT_ARRAY,
        }
    }
}

use Kind::*;

/// Every table of schema version 6, parents before children (foreign keys).
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "users",
        &[
            ("id", Text),
            ("email", Text),
            ("name", Text),
            ("role", Text),
            ("password_hash", Text),
            ("created_at", Ts),
            ("active", Bool),
        ],
    ),
    (
        "requests",
        &[
            ("id", Text),
            ("kind", Text),
            ("ticket_number", Text),
            ("title", Text),
            ("description", Text),
            ("site", Text),
            ("status", Text),
            ("priority", Text),
            ("client_id", Text),
            ("client_name", Text),
            ("assignee_id", Text),
            ("assignee_name", Text),
            ("created_at", Ts),
            ("updated_at", Ts),
            ("version", BigInt),
            ("details", Json),
            ("acknowledged_at", Ts),
            ("acknowledged_by", Text),
            ("acknowledged_by_name", Text),
            ("assigned_at", Ts),
            ("assignment_acknowledged_at", Ts),
            ("en_route_at", Ts),
            ("finished_at", Ts),
            ("ack_risk_at", Ts),
            ("ack_due_at", Ts),
            ("resolve_risk_at", Ts),
            ("resolve_due_at", Ts),
        ],
    ),
    (
        "ticket_counters",
        &[("prefix", Text), ("month", Text), ("last", Int)],
    ),
    (
        "history",
        &[
            ("id", BigInt),
            ("request_id", Text),
            ("at", Ts),
            ("actor_id", Text),
            ("actor_name", Text),
            ("action", Text),
            ("from_status", Text),
            ("to_status", Text),
            ("note", Text),
            ("staff_only", Bool),
        ],
    ),
    (
        "messages",
        &[
            ("id", Text),
            ("request_id", Text),
            ("author_id", Text),
            ("author_name", Text),
            ("author_role", Text),
            ("body", Text),
            ("created_at", Ts),
        ],
    ),
    (
        "events",
        &[
            ("seq", BigInt),
            ("request_id", Text),
            ("client_id", Text),
            ("all_technicians", Bool),
            ("technicians", TextArray),
            ("body", Json),
        ],
    ),
    (
        "idempotency",
        &[
            ("user_id", Text),
            ("scope", Text),
            ("key", Text),
            ("request_id", Text),
            ("message_id", Text),
            ("created_at", Ts),
        ],
    ),
    (
        "quotes",
        &[("request_id", Text), ("body", Json), ("updated_at", Ts)],
    ),
    ("meta", &[("key", Text), ("value", Text)]),
    (
        "sessions",
        &[
            ("id", Text),
            ("user_id", Text),
            ("device", Text),
            ("created_at", Ts),
            ("last_used_at", Ts),
            ("expires_at", Ts),
            ("ended_at", Ts),
            ("end_reason", Text),
        ],
    ),
    ("alerts", &[("request_id", Text), ("key", Text), ("at", Ts)]),
    (
        "deliveries",
        &[("seq", BigInt), ("request_id", Text), ("delivered_at", Ts)],
    ),
    (
        "log_epochs",
        &[
            ("id", BigInt),
            ("epoch", Text),
            ("started_at", Ts),
            ("head_seq", BigInt),
            ("reason", Text),
        ],
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("la base PostgreSQL n'est pas vide ({0} comptes, {1} demandes) : rien n'a été copié")]
    NotEmpty(i64, i64),
    #[error("{table}, ligne {row}, colonne {column} : {problem}")]
    BadValue {
        table: &'static str,
        row: u64,
        column: &'static str,
        problem: String,
    },
    #[error("{table} : {copied} lignes copiées pour {read} lues ; rien n'a été copié")]
    Count {
        table: &'static str,
        read: i64,
        copied: i64,
    },
}

/// One cell of `kind`, read from SQLite, ready for PostgreSQL.
fn convert(cell: ValueRef<'_>, kind: Kind) -> Result<Box<dyn ToSql + Sync>, String> {
    let text = || -> Result<Option<String>, String> {
        match cell {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => Ok(Some(String::from_utf8_lossy(t).into_owned())),
            other => Err(format!("text attendu, {:?} trouvé", other.data_type())),
        }
    };
    let int = || -> Result<Option<i64>, String> {
        match cell {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i)),
            other => Err(format!("entier attendu, {:?} trouvé", other.data_type())),
        }
    };
    Ok(match kind {
        Text => Box::new(text()?),
        Int => Box::new(
            int()?
                .map(i32::try_from)
                .transpose()
                .map_err(|e| e.to_string())?,
        ),
        BigInt => Box::new(int()?),
        Bool => Box::new(int()?.map(|i| i != 0)),
        Ts => Box::new(
            text()?
                .map(|s| DateTime::parse_from_rfc3339(&s).map(|d| d.with_timezone(&Utc)))
                .transpose()
                .map_err(|e| e.to_string())?,
        ),
        Json => Box::new(
            text()?
                .map(|s| serde_json::from_str::<serde_json::Value>(&s))
                .transpose()
                .map_err(|e| e.to_string())?,
        ),
        TextArray => Box::new(
            text()?
                .unwrap_or_default()
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect::<Vec<String>>(),
        ),
    })
}

/// Copies `dir`'s SQLite database (and JWT secret) into the empty PostgreSQL database
/// at `url`; `progress` hears each table's name and row count as it is done.
pub fn move_to_postgres(
    dir: &Path,
    url: &str,
    mut progress: impl FnMut(&str, i64),
) -> Result<(), MoveError> {
    let path = crate::config::database_file(dir);
    // Brings the file to the newest version, then lets go of it.
    drop(SqliteStore::open(&path, None, Default::default())?);
    drop(PgStore::open(url, None)?);
    let mut source =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let read = source.transaction()?;
    let mut target = postgres::Client::connect(url, postgres::NoTls)?;
    let mut tx = target.transaction()?;
    let row = tx.query_one(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM requests)",
        &[],
    )?;
    let (users, requests): (i64, i64) = (row.get(0), row.get(1));
    if users + requests > 0 {
        return Err(MoveError::NotEmpty(users, requests));
    }
    // What the new database made for itself gives way to what is moved in.
    tx.batch_execute("DELETE FROM log_epochs; DELETE FROM meta;")?;
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        let types: Vec<Type> = columns.iter().map(|(_, k)| k.pg_type()).collect();
        let sink = tx.copy_in(&format!(
            "COPY {table} ({}) FROM STDIN BINARY",
            names.join(", ")
        ))?;
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        let mut stmt = read.prepare(&format!("SELECT {} FROM {table}", names.join(", ")))?;
        let mut rows = stmt.query([])?;
        let mut n: u64 = 0;
        while let Some(r) = rows.next()? {
            n += 1;
            let mut cells: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
            for (i, (column, kind)) in columns.iter().enumerate() {
                cells.push(convert(r.get_ref(i)?, *kind).map_err(|problem| {
                    MoveError::BadValue {
                        table,
                        row: n,
                        column,
                        problem,
                    }
                })?);
            }
            let refs: Vec<&(dyn ToSql + Sync)> = cells.iter().map(|c| c.as_ref()).collect();
            writer.write(&refs)?;
        }
        writer.finish()?;
        let copied: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
            .get(0);
        let counted: i64 =
            read.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        if copied != counted {
            return Err(MoveError::Count {
                table,
                read: counted,
                copied,
            });
        }
        progress(table, copied);
    }
    // The counters SQLite kept in its own way: the last seq handed out (pruned or not),
    // and the next ids of the tables numbered by PostgreSQL.
    let last_seq: i64 = read
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    tx.execute("UPDATE event_counter SET last = $1", &[&last_seq])?;
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('history', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM history;
         SELECT setval(pg_get_serial_sequence('log_epochs', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM log_epochs;",
    )?;
    // Tokens signed with the data dir's secret stay valid on every instance.
    // (Byte for byte: the server signs with the file's bytes as they are.)
    if let Some(secret) = std::fs::read(dir.join(crate::tokens::SECRET_FILE))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('jwt_secret', $1) ON CONFLICT (key) DO NOTHING",
            &[&secret],
        )?;
    }
    tx.commit()?;
    Ok(())
}
