//! How every instance hears of every committed event, whichever instance wrote it.
//!
//! The event is never sent through PostgreSQL's `NOTIFY` (its payload stops at 8000
//! bytes, and a `NOTIFY` inside a write transaction takes a global lock at commit):
//! after its commit, a writer only tells this instance's tailer the new head. The
//! tailer announces that head with `pg_notify` outside any write, and reads the rows
//! after the last seq it handed on, in order, from the log. Another instance's listener
//! hears the head and wakes its own tailer, which reads the same rows. A missed
//! notification (a listener reconnecting, a notify that failed) costs nothing but time:
//! the tailer also reads every second, and always from its last seq.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use super::events;
use super::pool::Pool;
use crate::store::{EventSink, LoggedEvent, StoreError};

/// The channel every instance listens on; its payload is a head seq.
const CHANNEL: &str = "itv_events";
/// The tailer reads at least this often, notified or not.
const POLL: Duration = Duration::from_secs(1);
/// Rows read per round trip while catching up.
const PAGE: u32 = 1000;

/// What the writers and the listener tell the tailer.
#[derive(Default)]
pub struct Signal {
    state: Mutex<Pending>,
    wake: Condvar,
    stop: AtomicBool,
}

#[derive(Default)]
struct Pending {
    /// The newest seq this instance committed and has not announced yet.
    to_announce: Option<i64>,
    /// Something may be new in the log.
    woken: bool,
}

impl Signal {
    /// This instance committed `seq`.
    pub fn committed(&self, seq: i64) {
        let mut p = self.state.lock().unwrap_or_else(|e| e.into_inner());
        p.to_announce = Some(p.to_announce.map_or(seq, |s| s.max(seq)));
        p.woken = true;
        self.wake.notify_one();
    }

    fn woken(&self) {
        let mut p = self.state.lock().unwrap_or_else(|e| e.into_inner());
        p.woken = true;
        self.wake.notify_one();
    }

    /// Waits for news, at most `POLL`; returns the head to announce, if any.
    fn wait(&self) -> Option<i64> {
        let mut p = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !p.woken {
            p = self
                .wake
                .wait_timeout(p, POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        p.woken = false;
        p.to_announce.take()
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.woken();
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Starts the tailer, handing `sink` every event after `head`, and the listener.
pub fn start(pool: Arc<Pool>, signal: Arc<Signal>, sink: EventSink, head: i64) {
    let (p, s) = (pool.clone(), signal.clone());
    std::thread::Builder::new()
        .name("itv-pg-tail".into())
        .spawn(move || tail(&p, &s, &sink, head))
        .expect("tailer thread");
    std::thread::Builder::new()
        .name("itv-pg-listen".into())
        .spawn(move || listen(&pool, &signal))
        .expect("listener thread");
}

fn tail(pool: &Pool, signal: &Signal, sink: &EventSink, mut last: i64) {
    while !signal.stopped() {
        let announce = signal.wait();
        let Ok(mut client) = pool.get() else {
            continue;
        };
        if let Some(head) = announce
            && let Err(e) =
                client.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &head.to_string()])
        {
            tracing::warn!(error = %e, head, "head not announced; other instances read it within a second");
        }
        loop {
            match events::after(&mut *client, last, PAGE, None) {
                Ok(page) => {
                    crate::store::publish(sink, &page);
                    last = page.last().map_or(last, LoggedEvent::seq);
                    if page.len() < PAGE as usize {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, last, "event log not read; trying again");
                    if matches!(&e, StoreError::Postgres(db) if super::found_dead(db)) {
                        pool.lost(client);
                    }
                    break;
                }
            }
        }
    }
}

/// Listens for heads announced by any instance (this one too), reconnecting after a
/// failure; each (re)connection wakes the tailer, which reads whatever was missed.
fn listen(pool: &Pool, signal: &Signal) {
    let mut backoff = Duration::from_millis(100);
    while !signal.stopped() {
        let mut client = match pool.connect().and_then(|mut c| {
            c.batch_execute(&format!("LISTEN {CHANNEL}"))?;
            Ok(c)
        }) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for new events; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        signal.woken();
        loop {
            let heard = client.notifications().timeout_iter(POLL).next();
            match heard {
                Ok(Some(_)) => signal.woken(),
                Ok(None) if signal.stopped() => return,
                Ok(None) if client.is_closed() => break,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "event listener lost its connection");
                    break;
                }
            }
        }
    }
}
