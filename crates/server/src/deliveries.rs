//! When a staff desk first receives each new request, for the metrics' "submission →
//! first staff notification delivered". The feed reports each frame it writes; a
//! background task stores the first per event, in batches, off the feed's path.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use itv_core::{EventType, Role};
use tokio::sync::{mpsc, watch};

use crate::clock::Clock;
use crate::live::LiveEvent;
use crate::store::{LoggedEvent, Store};

/// How long reports gather before one write.
const BATCH: Duration = Duration::from_millis(500);

type Report = (i64, String, DateTime<Utc>);

#[derive(Debug, Clone)]
pub struct Deliveries {
    tx: mpsc::UnboundedSender<Report>,
    clock: Clock,
}

impl Deliveries {
    /// Starts the writer; it stops with the server.
    pub fn start(
        store: Arc<dyn Store>,
        clock: Clock,
        stopping: watch::Receiver<bool>,
    ) -> Deliveries {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(store, rx, stopping));
        Deliveries { tx, clock }
    }

    /// The feed wrote `e` to a socket of someone of `role` (a replay from the log).
    pub fn sent(&self, e: &LoggedEvent, role: Role) {
        if counts(e, role) {
            self.report(e);
        }
    }

    /// The feed wrote the live event `e` to a socket of someone of `role`: reported by the
    /// first staff socket only, so the fan-out to a thousand desks costs one report, not a
    /// thousand (the writer would drop all but the first anyway).
    pub fn sent_live(&self, e: &LiveEvent, role: Role) {
        if counts(&e.logged, role) && !e.staff_reported.swap(true, Ordering::Relaxed) {
            self.report(&e.logged);
        }
    }

    fn report(&self, e: &LoggedEvent) {
        let _ = self
            .tx
            .send((e.seq(), e.event.request_id.clone(), self.clock.now()));
    }
}

/// The deliveries the metric measures: a new request reaching a staff desk.
fn counts(e: &LoggedEvent, role: Role) -> bool {
    role != Role::Client && e.event.event_type == EventType::RequestCreated
}

async fn write_batches(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<Report>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut written: HashSet<i64> = HashSet::new();
    loop {
        let first = tokio::select! {
            got = rx.recv() => match got { Some(r) => r, None => return },
            _ = stopping.changed() => return,
        };
        tokio::time::sleep(BATCH).await;
        let mut batch = vec![first];
        while let Ok(r) = rx.try_recv() {
            batch.push(r);
        }
        // Later deliveries of an event already stored change nothing.
        batch.retain(|(seq, _, _)| written.insert(*seq));
        if batch.is_empty() {
            continue;
        }
        if written.len() > 100_000 {
            written.clear();
        }
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.record_deliveries(&batch)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "deliveries not recorded"),
            Err(e) => tracing::warn!(error = %e, "deliveries writer failed"),
        }
    }
}
