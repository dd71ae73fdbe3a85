//! A full sync over `GET /api/requests`, run *beside* the feed, never instead of it: the
//! feed resumes from the server's head at once (live urgent events alert during the sync),
//! while the pages come in. A page that fails (network, phone link) is retried from its
//! cursor with backoff; the sync survives feed reconnects. Rows the feed took out of our
//! scope meanwhile are not brought back by an older page.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use crate::accounts::SessionEnd;
use crate::engine::{Inner, SessionCtx, unix_now};
use crate::error::Result;
use crate::notify::notices_for_missed;
use crate::types::{ConnectionState, EngineEvent, FeedEvent, Request};

/// Requests the feed took out of our scope during the sync, with the version that did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tombstones(Arc<Mutex<HashMap<String, i64>>>);

impl Tombstones {
    /// Notes the events whose request left our scope.
    pub fn record(&self, events: &[FeedEvent], visible: impl Fn(&Request) -> bool) {
        let mut gone = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for ev in events.iter().filter(|ev| !visible(&ev.request)) {
            let v = gone
                .entry(ev.request.id.clone())
                .or_insert(ev.request.version);
            *v = (*v).max(ev.request.version);
        }
    }

    /// Whether a page's copy is older than a removal the feed already applied.
    fn buries(&self, r: &Request) -> bool {
        let gone = self.0.lock().unwrap_or_else(|p| p.into_inner());
        gone.get(&r.id).is_some_and(|v| r.version <= *v)
    }
}

/// A full sync running beside the feed. Dropping it stops it (a resync starts another).
pub(crate) struct FullSync {
    pub tombstones: Tombstones,
    /// Set by the feed while it is live: the sync's end then turns the status to *En ligne*.
    pub feed_live: Arc<AtomicBool>,
    task: Option<JoinHandle<Result<()>>>,
}

impl Drop for FullSync {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

impl FullSync {
    /// Waits for the sync to end: `Ok` once finished, `Err` when it cannot go on (the
    /// session ended, the cache failed). Pending forever once it has ended.
    pub async fn done(&mut self) -> Result<()> {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let result = task.await;
        self.task = None;
        result?
    }

    pub fn running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }
}

/// Whether the cache needs a full sync: never synced, or one was cut short.
pub(crate) fn needed(inner: &Inner) -> Result<bool> {
    let cache = inner.cache();
    Ok(cache.feed_seq()?.is_none() || cache.unfinished_sync()?.is_some())
}

/// Starts a full sync: reads the server's head, moves the feed position there (the feed
/// resumes from it), then pages in the background.
pub(crate) async fn start(inner: &Arc<Inner>, ctx: &SessionCtx) -> Result<FullSync> {
    let head = ctx.api.feed_head().await?;
    let first = inner.cache().feed_seq()?.is_none();
    let generation = inner.cache().begin_sync(head.seq, head.epoch.as_deref())?;
    tracing::info!(head = head.seq, epoch = ?head.epoch, generation, "full sync started");
    let tombstones = Tombstones::default();
    let feed_live = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(pages(
        inner.clone(),
        ctx.clone(),
        generation,
        first,
        tombstones.clone(),
        feed_live.clone(),
    ));
    Ok(FullSync {
        tombstones,
        feed_live,
        task: Some(task),
    })
}

async fn pages(
    inner: Arc<Inner>,
    ctx: SessionCtx,
    generation: i64,
    first: bool,
    tombstones: Tombstones,
    feed_live: Arc<AtomicBool>,
) -> Result<()> {
    let mut cursor: Option<String> = None;
    let mut done: u64 = 0;
    let mut failures: u32 = 0;
    inner.emit(EngineEvent::SyncProgress {
        done: 0,
        total: None,
    });
    loop {
        let page = match ctx
            .api
            .list_requests(cursor.as_deref(), inner.config.sync_page)
            .await
        {
            Ok(p) => p,
            Err(e) if SessionEnd::from_error(&e).is_some() => return Err(e),
            Err(e) => {
                let delay = inner.config.backoff.delay(failures, fastrand::f64());
                failures = failures.saturating_add(1);
                tracing::info!(error = %e, ?delay, "full sync: page failed; retrying");
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        failures = 0;
        let read = page.requests.len() + page.undecoded.len();
        crate::drift::set_aside_rows(&inner, &page.undecoded);
        let rows: Vec<Request> = page
            .requests
            .into_iter()
            .filter(|r| !tombstones.buries(r))
            .collect();
        done += read as u64;
        // An urgent intervention still waiting for someone alerts as if the feed had
        // brought it, on a first sync too (a new install must not miss what is open);
        // the key is the feed's, so it never alerts twice, and many at once make a summary.
        let changed = inner.cache().apply_sync_page_alerting(
            &rows,
            generation,
            !first,
            |r| notices_for_missed(r, &ctx.user),
            unix_now(),
        )?;
        crate::drift::clear_rows_read(&inner, &rows);
        inner.emit_changed(changed);
        inner.emit(EngineEvent::SyncProgress {
            done,
            total: page.total,
        });
        match page.next_cursor {
            Some(c) if read > 0 => cursor = Some(c),
            _ => break,
        }
    }
    let gone = inner.cache().finish_sync(generation)?;
    inner.emit_changed(gone);
    crate::acknowledge::settle(&inner, &ctx, &[]);
    if feed_live.load(Ordering::SeqCst) {
        inner.set_connection(ConnectionState::Live);
    }
    crate::delivery::wake(&inner);
    tracing::info!(done, generation, "full sync done");
    Ok(())
}
