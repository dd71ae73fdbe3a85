//! Group commit: concurrent writes share one transaction and so one fsync.
//!
//! Every write runs its own closure, on its own thread, inside a savepoint of the batch's open
//! transaction: a refused write rolls back to its savepoint and takes nothing of its neighbours
//! with it. The write that finds nobody queued behind it (or fills the batch) commits: one fsync
//! under `synchronous=FULL`, then the batch's events go to the sink in seq order, then the other
//! members wake. Nobody returns before the commit that holds their change, so an answered write
//! is a durable one. While a commit syncs, the writes that arrive queue on the lock and become the
//! next batch; a lone write commits at once and waits for nobody. A member waits for its batch's
//! outcome on the batch's own signal, not on the writer's lock: it returns as soon as its commit
//! is done, not after the next batch's writes and fsync, which hold that lock.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};

use rusqlite::Connection;

use super::EventSink;
use crate::store::{LoggedEvent, StoreError};

/// How a failed commit is told to every write of its batch (a `rusqlite::Error` cannot be
/// cloned; its SQLite code is what callers look at, e.g. "busy" → 503).
type Outcome = Result<(), (Option<rusqlite::ffi::Error>, String)>;

pub(super) struct GroupWriter {
    state: Mutex<Batching>,
    /// Writes waiting for the lock: while there are any, the batch stays open for them.
    queued: AtomicUsize,
    max_batch: usize,
    /// Statements run in each batch just before its commit (the full-text index's flush).
    before_commit: &'static [&'static str],
    commits: AtomicU64,
}

struct Batching {
    conn: Connection,
    open: Option<Batch>,
}

struct Batch {
    members: usize,
    events: Vec<LoggedEvent>,
    outcome: Arc<Closing>,
}

/// A batch's outcome, set once by whoever closes (or abandons) it, waited for by its members.
#[derive(Default)]
struct Closing {
    outcome: OnceLock<Outcome>,
    /// Guards nothing but the wait: a member checks the outcome and sleeps under it, the
    /// closer notifies under it, so no wake-up falls between the check and the sleep.
    lock: Mutex<()>,
    set: Condvar,
}

impl Closing {
    fn set(&self, outcome: Outcome) {
        let _ = self.outcome.set(outcome);
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.set.notify_all();
    }

    fn wait(&self) -> &Outcome {
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(outcome) = self.outcome.get() {
                return outcome;
            }
            guard = self.set.wait(guard).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl GroupWriter {
    /// `max_batch` 1 commits every write on its own (no grouping); `before_commit` runs in
    /// each batch before its commit, and its failure fails the batch.
    pub(super) fn new(
        conn: Connection,
        max_batch: usize,
        before_commit: &'static [&'static str],
    ) -> GroupWriter {
        GroupWriter {
            state: Mutex::new(Batching { conn, open: None }),
            queued: AtomicUsize::new(0),
            max_batch: max_batch.max(1),
            before_commit,
            commits: AtomicU64::new(0),
        }
    }

    /// Commits made so far: writes divided by this is the average batch.
    #[cfg(test)]
    fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs `f` in the current batch and returns once that batch is committed (or has failed).
    pub(super) fn write<T>(
        &self,
        sink: Option<&EventSink>,
        f: impl FnOnce(&Connection) -> Result<(T, Vec<LoggedEvent>), StoreError>,
    ) -> Result<T, StoreError> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if st.open.is_none() {
            st.conn.execute_batch("BEGIN IMMEDIATE")?;
            st.open = Some(Batch {
                members: 0,
                events: Vec::new(),
                outcome: Arc::default(),
            });
        }
        let outcome = st
            .open
            .as_ref()
            .map(|b| b.outcome.clone())
            .expect("opened above");
        let mine = run_in_savepoint(&mut st, f);
        // None: abandoned by a failed rollback, its outcome already set.
        if let Some(members) = st.open.as_ref().map(|b| b.members)
            && (members >= self.max_batch || self.queued.load(Ordering::SeqCst) == 0)
        {
            self.close(&mut st, sink);
        }
        drop(st);
        match mine {
            Ran::Kept(out) => match outcome.wait() {
                Ok(()) => Ok(out),
                Err((code, message)) => Err(rebuild(*code, message)),
            },
            Ran::Refused(e) => Err(e),
            Ran::Panicked(payload) => resume_unwind(payload),
        }
    }

    /// Commits the open batch, hands its events to the sink, wakes its members.
    fn close(&self, st: &mut Batching, sink: Option<&EventSink>) {
        let Some(batch) = st.open.take() else { return };
        let committed = self
            .before_commit
            .iter()
            .try_for_each(|sql| st.conn.prepare_cached(sql)?.execute([]).map(drop))
            .and_then(|()| st.conn.execute_batch("COMMIT"));
        let outcome = match committed {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                if let Some(sink) = sink {
                    crate::store::publish(sink, &batch.events);
                }
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, writes = batch.members, "group commit failed");
                let _ = st.conn.execute_batch("ROLLBACK");
                Err((e.sqlite_error().copied(), e.to_string()))
            }
        };
        batch.outcome.set(outcome);
    }
}

enum Ran<T> {
    /// Its changes are in the batch; the answer waits for the commit.
    Kept(T),
    /// Rolled back to its savepoint; the batch goes on without it.
    Refused(StoreError),
    Panicked(Box<dyn std::any::Any + Send>),
}

fn run_in_savepoint<T>(
    st: &mut Batching,
    f: impl FnOnce(&Connection) -> Result<(T, Vec<LoggedEvent>), StoreError>,
) -> Ran<T> {
    if let Err(e) = st.conn.execute_batch("SAVEPOINT write") {
        return Ran::Refused(e.into());
    }
    let ran = catch_unwind(AssertUnwindSafe(|| f(&st.conn)));
    if let Ok(Ok((out, events))) = ran {
        match st.conn.execute_batch("RELEASE write") {
            Ok(()) => {
                let batch = st.open.as_mut().expect("a write runs in an open batch");
                batch.members += 1;
                batch.events.extend(events);
                return Ran::Kept(out);
            }
            Err(e) => return undo(st, Ran::Refused(e.into())),
        }
    }
    match ran {
        Ok(Err(e)) => undo(st, Ran::Refused(e)),
        Err(payload) => undo(st, Ran::Panicked(payload)),
        Ok(Ok(_)) => unreachable!("kept above"),
    }
}

/// Takes one write's changes back out of the batch. Should even that fail, the whole batch
/// is abandoned rather than committed with half a write in it.
fn undo<T>(st: &mut Batching, ran: Ran<T>) -> Ran<T> {
    if let Err(e) = st.conn.execute_batch("ROLLBACK TO write; RELEASE write") {
        tracing::error!(error = %e, "savepoint rollback failed: the batch is abandoned");
        let _ = st.conn.execute_batch("ROLLBACK");
        if let Some(batch) = st.open.take() {
            batch
                .outcome
                .set(Err((e.sqlite_error().copied(), e.to_string())));
        }
    }
    ran
}

fn rebuild(code: Option<rusqlite::ffi::Error>, message: &str) -> StoreError {
    match code {
        Some(code) => StoreError::Database(rusqlite::Error::SqliteFailure(
            code,
            Some(message.to_string()),
        )),
        None => StoreError::Io(message.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    fn writer(dir: &std::path::Path, max_batch: usize) -> GroupWriter {
        let conn = Connection::open(dir.join("t.db")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (x INTEGER UNIQUE)",
        )
        .unwrap();
        GroupWriter::new(conn, max_batch, &[])
    }

    fn rows(dir: &std::path::Path) -> Vec<i64> {
        let conn = Connection::open(dir.join("t.db")).unwrap();
        let mut stmt = conn.prepare("SELECT x FROM t ORDER BY x").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// 8 threads × 25 writes; every 5th write of a thread repeats a value already taken and
    /// is refused by the UNIQUE constraint, every 7th panics. The writes hold the lock a
    /// moment, so the others queue and share commits.
    fn storm(w: &GroupWriter) -> (Vec<i64>, usize) {
        let start = Barrier::new(8);
        let refused = AtomicUsize::new(0);
        let kept = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for t in 0..8i64 {
                let (start, refused, kept) = (&start, &refused, &kept);
                s.spawn(move || {
                    start.wait();
                    for i in 0..25i64 {
                        let x = t * 100 + i;
                        let ran = catch_unwind(AssertUnwindSafe(|| {
                            w.write(None, |c| {
                                std::thread::sleep(std::time::Duration::from_millis(1));
                                let value = if i % 5 == 4 { t * 100 } else { x };
                                c.execute("INSERT INTO t (x) VALUES (?1)", [value])?;
                                if i % 7 == 6 {
                                    panic!("a bug in one write");
                                }
                                Ok((value, Vec::new()))
                            })
                        }));
                        match ran {
                            Ok(Ok(value)) => kept.lock().unwrap().push(value),
                            Ok(Err(_)) => {
                                refused.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(_) => {}
                        }
                    }
                });
            }
        });
        let mut kept = kept.into_inner().unwrap();
        kept.sort();
        (kept, refused.into_inner())
    }

    #[test]
    fn concurrent_writes_share_commits_and_a_refused_one_takes_nothing_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path(), 64);
        let (kept, refused) = storm(&w);
        // Per thread: 5 duplicates refused (i = 4, 9, …, 24), 3 panics (i = 6, 13, 20).
        assert_eq!(refused, 8 * 5);
        assert_eq!(kept.len(), 8 * (25 - 5 - 3));
        assert_eq!(
            rows(dir.path()),
            kept,
            "exactly the answered writes are stored"
        );
        // How many commits the storm shares depends on the scheduler (a loaded CI machine
        // may run the threads one after another): the grouping is proved by the next test.
    }

    /// The first write holds the batch open until the seven others are queued on the lock:
    /// all eight then run in one batch, one of them refused and one panicking, and exactly
    /// one commit stores the six others.
    #[test]
    fn writes_queued_behind_an_open_batch_share_its_one_commit() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path(), 64);
        let first = std::sync::atomic::AtomicBool::new(true);
        let answers = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for t in 0..8i64 {
                let (w, first, answers) = (&w, &first, &answers);
                s.spawn(move || {
                    let ran = catch_unwind(AssertUnwindSafe(|| {
                        w.write(None, |c| {
                            if first.swap(false, Ordering::SeqCst) {
                                let deadline =
                                    std::time::Instant::now() + std::time::Duration::from_secs(30);
                                while w.queued.load(Ordering::SeqCst) < 7 {
                                    assert!(std::time::Instant::now() < deadline, "never queued");
                                    std::thread::sleep(std::time::Duration::from_millis(1));
                                }
                            }
                            // Thread 1 repeats thread 0's value: the UNIQUE constraint refuses
                            // whichever of the two runs second.
                            let value = if t == 1 { 0 } else { t };
                            c.execute("INSERT INTO t (x) VALUES (?1)", [value])?;
                            if t == 7 {
                                panic!("a bug in one write");
                            }
                            Ok((value, Vec::new()))
                        })
                    }));
                    let answer = match ran {
                        Ok(Ok(v)) => format!("kept {v}"),
                        Ok(Err(_)) => "refused".to_string(),
                        Err(_) => "panicked".to_string(),
                    };
                    answers.lock().unwrap().push(answer);
                });
            }
        });
        let mut answers = answers.into_inner().unwrap();
        answers.sort();
        let kept: Vec<&String> = answers.iter().filter(|a| a.starts_with("kept")).collect();
        assert_eq!(kept.len(), 6, "{answers:?}");
        assert_eq!(answers.iter().filter(|a| *a == "refused").count(), 1);
        assert_eq!(answers.iter().filter(|a| *a == "panicked").count(), 1);
        assert_eq!(rows(dir.path()), vec![0, 2, 3, 4, 5, 6]);
        assert_eq!(w.commits(), 1, "the eight writes were not grouped");
    }

    #[test]
    fn a_batch_of_one_commits_every_write_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path(), 1);
        let (kept, _) = storm(&w);
        assert_eq!(rows(dir.path()), kept);
        // Refused and panicked writes commit an empty batch too when they close one.
        assert!(w.commits() as usize >= kept.len());
    }

    /// What runs before the commit is part of the batch: when it fails, no write of the batch
    /// is answered as done and none is stored.
    #[test]
    fn a_failing_step_before_the_commit_fails_the_whole_batch() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER UNIQUE);
             CREATE TABLE flushed (x INTEGER CHECK (x <= 3))",
        )
        .unwrap();
        let w = GroupWriter::new(conn, 64, &["INSERT INTO flushed SELECT count(*) FROM t"]);
        for x in 0..3 {
            let answer = w.write(None, |c| {
                Ok((c.execute("INSERT INTO t VALUES (?1)", [x])?, Vec::new()))
            });
            assert!(answer.is_ok(), "{x}: {answer:?}");
        }
        let refused = w.write(None, |c| {
            Ok((c.execute("INSERT INTO t VALUES (3)", [])?, Vec::new()))
        });
        assert!(refused.is_err(), "the step before the commit failed");
        assert_eq!(rows(dir.path()), vec![0, 1, 2]);
    }

    /// A bug in the live sink comes after the commit: the writes it carried are stored and
    /// answered as done, and the writer takes the next write.
    #[test]
    fn a_panicking_sink_leaves_nobody_waiting() {
        use crate::store::{Draft, NewUserRecord, Store};
        let dir = tempfile::tempdir().unwrap();
        // The sink panics on the fourth event it is handed, and only on that one.
        let calls = Arc::new(AtomicUsize::new(0));
        let delivered = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink: EventSink = {
            let (calls, delivered) = (calls.clone(), delivered.clone());
            Arc::new(move |event| {
                if calls.fetch_add(1, Ordering::SeqCst) == 3 {
                    panic!("a bug in the live sink");
                }
                delivered.lock().unwrap().push(event.seq());
            })
        };
        let store = Arc::new(
            super::super::SqliteStore::open(
                &dir.path().join("s.db"),
                Some(sink),
                Default::default(),
            )
            .unwrap(),
        );
        let client = store
            .create_user(NewUserRecord {
                name: "Awa Diop".into(),
                email: "awa@example.sn".into(),
                role: itv_core::Role::Client,
                password_hash: "x".into(),
            })
            .unwrap();
        let draft = |title: &str| Draft {
            client: client.clone(),
            title: title.into(),
            description: "Deux caméras".into(),
            site: String::new(),
            priority: itv_core::Priority::Medium,
            sla: None,
            details: itv_core::Details::Quote {
                category: itv_core::request::QuoteCategory::Equipment,
                estimated_budget: None,
                deadline: None,
                items: Vec::new(),
                ticket_type: "billing".into(),
            },
        };
        // Eight writes at once (so batches of several), each on a detached thread: a write left
        // waiting fails the test instead of hanging it.
        let start = Arc::new(Barrier::new(8));
        let waiting: Vec<_> = (0..8)
            .map(|i| {
                let (tx, rx) = std::sync::mpsc::channel();
                let (store, start, draft) =
                    (store.clone(), start.clone(), draft(&format!("Devis {i}")));
                std::thread::spawn(move || {
                    start.wait();
                    tx.send(store.create_request(draft).map(|e| e.seq()))
                });
                rx
            })
            .collect();
        let answers: Vec<_> = waiting
            .iter()
            .map(|rx| rx.recv_timeout(std::time::Duration::from_secs(10)))
            .collect();
        assert!(
            answers.iter().all(|a| matches!(a, Ok(Ok(_)))),
            "{answers:?}"
        );
        let db = Connection::open(dir.path().join("s.db")).unwrap();
        let stored: i64 = db
            .query_row("SELECT count(*) FROM requests", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 8);
        // Every logged event but the one it panicked on reached the sink, in seq order.
        let logged: Vec<i64> = db
            .prepare("SELECT seq FROM events ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let delivered = delivered.lock().unwrap().clone();
        assert_eq!(calls.load(Ordering::SeqCst), logged.len());
        assert_eq!(
            delivered.len(),
            logged.len() - 1,
            "{delivered:?} of {logged:?}"
        );
        assert!(delivered.is_sorted() && delivered.iter().all(|s| logged.contains(s)));
    }

    #[test]
    fn a_failed_begin_is_that_writes_error_and_the_next_write_works() {
        let dir = tempfile::tempdir().unwrap();
        let w = writer(dir.path(), 64);
        let other = Connection::open(dir.path().join("t.db")).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        {
            let st = w.state.lock().unwrap();
            st.conn.busy_timeout(std::time::Duration::ZERO).unwrap();
        }
        let busy = w.write(None, |c| {
            Ok((c.execute("INSERT INTO t VALUES (1)", [])?, Vec::new()))
        });
        assert!(busy.is_err(), "another process holds the write lock");
        other.execute_batch("ROLLBACK").unwrap();
        let ok = w.write(None, |c| {
            Ok((c.execute("INSERT INTO t VALUES (2)", [])?, Vec::new()))
        });
        assert_eq!(ok.unwrap(), 1);
        assert_eq!(rows(dir.path()), vec![2]);
    }
}
