//! Bench: what a feed subscription costs as the event log grows, the question every desk asks
//! when it connects, and a thousand of them at once after a server restart.
//!
//! For each log size (1,000 events, and 100,000, the most it keeps by default,
//! `--event-log-keep`): the log is filled on disk while the server is stopped (copies of one
//! real event), the server started again, then, for a new subscription and for one resuming
//! 10 events back (`?since=`, as a desk does after a restart; the 10 come before `ready`):
//! 1. one subscriber after another: time from the connection to the `ready` frame, p50/p99;
//! 2. a storm: 1,000 subscribers connecting at once, until the last is live, and the
//!    server's CPU seconds for it.
//!
//! Run: `cargo bench -p itv-server --bench resubscribe` (`-- --quick` for a short run);
//! `ITV_BENCH_SERVER=path` measures that `itv-server` binary instead of this build's.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;

mod common;
use common::{DEMO_PASSWORD, Server, StampedSocket, login, ms, percentile, post_urgent};

/// Events a resuming desk missed.
const MISSED: i64 = 10;

fn main() {
    tokio::runtime::Runtime::new().unwrap().block_on(run());
}

async fn run() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (one_by_one, storm) = if quick { (50, 200) } else { (300, 1_000) };
    println!(
        "feed subscription (connection → ready) by event-log size, new and resuming {MISSED} events back: {one_by_one} one after another, then {storm} at once"
    );
    println!(
        "| events in the log | subscription | one by one p50 | one by one p99 | {storm} at once, until the last is live | server CPU s for them |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for size in [1_000, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let (token, head) = fill(dir.path(), size).await;
        let auth = format!("Bearer {token}");
        let server = Server::ours(dir.path(), None, false);
        let resume = format!("/api/feed?since={}", head - MISSED);
        for (what, path, replayed) in [("new", "/api/feed", 0), ("resuming", &resume, MISSED)] {
            let mut times = Vec::with_capacity(one_by_one);
            for _ in 0..one_by_one {
                let t0 = Instant::now();
                subscribe(&server.url, path, &auth, replayed).await;
                times.push(t0.elapsed());
            }
            times.sort();

            let cpu0 = server.cpu();
            let t0 = Instant::now();
            let mut all = JoinSet::new();
            for _ in 0..storm {
                let (url, path, auth) = (server.url.clone(), path.to_string(), auth.clone());
                all.spawn(async move { subscribe(&url, &path, &auth, replayed).await });
            }
            // Kept open until the last is live, as a restart's desks would be.
            let sockets = all.join_all().await;
            let storm_time = t0.elapsed();
            let cpu = server.cpu() - cpu0;
            drop(sockets);
            println!(
                "| {size} | {what} | {:.2} ms | {:.2} ms | {:.0} ms | {cpu:.2} |",
                ms(percentile(&times, 0.50)),
                ms(percentile(&times, 0.99)),
                ms(storm_time),
            );
        }
    }
}

/// A live subscriber on `base`'s `path`: connected, its `replayed` events and then its
/// `ready` frame read.
async fn subscribe(base: &str, path: &str, auth: &str, replayed: i64) -> StampedSocket {
    let mut ws = StampedSocket::connect(base, path, Some(auth)).await;
    let mut events = 0;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), ws.next_text())
            .await
            .expect("ready within a minute")
            .expect("the server closed the feed");
        if frame.text.contains(r#""type":"ready""#) {
            assert_eq!(events, replayed, "events replayed before ready");
            return ws;
        }
        events += 1;
    }
}

/// The demo on `dir`, one urgent intervention posted, then, the server stopped, its event
/// copied until the log holds `size` events. The admin's session token, still valid, and
/// the log's last seq.
async fn fill(dir: &std::path::Path, size: usize) -> (String, i64) {
    let server = Server::ours(dir, None, true);
    let http = reqwest::Client::new();
    let client = login(&http, &server.url, "client@itvision.sn", DEMO_PASSWORD).await;
    let admin = login(&http, &server.url, "admin@itvision.sn", DEMO_PASSWORD).await;
    post_urgent(&http, &server.url, Some(&client), 0).await;
    drop(server);
    let db = rusqlite::Connection::open(dir.join("itv.db")).unwrap();
    let have: usize = db
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO events (request_id, client_id, all_technicians, technicians, body)
         SELECT request_id, client_id, all_technicians, technicians, body
         FROM n, (SELECT * FROM events ORDER BY seq DESC LIMIT 1)",
        [size.saturating_sub(have)],
    )
    .unwrap();
    let head = db
        .query_row("SELECT MAX(seq) FROM events", [], |r| r.get(0))
        .unwrap();
    (admin, head)
}
