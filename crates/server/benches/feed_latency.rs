//! Bench: time from the POST of an urgent intervention to its event arriving at every
//! connected staff subscriber, with 1, 100 and 1,000 subscribers, and request-creation
//! throughput, against a real server (ephemeral port, SQLite file in a temp dir), for each way
//! the store may commit (`synchronous` NORMAL or FULL, one write per commit or group commit).
//!
//! Run: `cargo bench -p itv-server --bench feed_latency` (add `-- --quick` for a short run,
//! `-- --mode 2` for one way of committing only).
//! Server, subscribers and writers share this process and the machine's cores.

use std::sync::Arc;
use std::time::{Duration, Instant};

use itv_core::Role;

mod common;
use common::{feed_subscribers, ms, percentile, post_urgent};
use itv_server::Config;
use itv_server::store::sqlite::Synchronous;
use itv_server::testing::TestServer;

fn ms_text(d: Duration) -> String {
    format!("{:.2} ms", ms(d))
}

/// How the store commits: the label printed, `synchronous`, and how many writes a commit may carry.
type Mode = (&'static str, Synchronous, u16);

const MODES: [Mode; 3] = [
    ("NORMAL, one write per commit", Synchronous::Normal, 1),
    ("FULL, one write per commit", Synchronous::Full, 1),
    ("FULL, group commit", Synchronous::Full, 64),
];

async fn run(n_subs: usize, posts: usize, throughput_total: usize, mode: Mode) {
    let temp = tempfile::tempdir().unwrap();
    let mut config = Config::for_dir(temp.path().to_path_buf());
    (config.sqlite_synchronous, config.write_batch_max) = (mode.1, mode.2);
    config.rate_create_per_account = 0;
    config.rate_create_per_address = 0;
    // Latency, not admission: the 1,000 subscribers connect as fast as they can.
    config.feed_accept_per_sec = 0;
    let server = TestServer::start_with(config).await;
    let client = server.create_user(
        Role::Client,
        "client@bench.sn",
        "Client Bench",
        "bench-password",
    );
    let admin = server.create_user(Role::Admin, "admin@bench.sn", "Admin", "bench-password");
    let tech = server.create_user(Role::Technician, "tech@bench.sn", "Tech", "bench-password");
    let tokens = [server.token_for(&admin), server.token_for(&tech)];
    let client_token = server.token_for(&client);
    let mut subs = feed_subscribers(&server.url, &tokens, n_subs).await;
    let http = reqwest::Client::new();

    let mut all_received = Vec::with_capacity(posts);
    let mut each = Vec::with_capacity(posts * n_subs);
    for i in 0..posts {
        let t0 = Instant::now();
        let id = post_urgent(&http, &server.url, Some(&client_token), i).await;
        let mut got = 0;
        let mut last = t0;
        while got < n_subs {
            let a = tokio::time::timeout(Duration::from_secs(30), subs.arrivals.recv())
                .await
                .expect("event within 30 s")
                .unwrap();
            assert_eq!(a.id, id, "events arrive in order");
            each.push(a.at_socket - t0);
            last = last.max(a.at_socket);
            got += 1;
        }
        all_received.push(last - t0);
    }
    all_received.sort();
    each.sort();
    let latency = |v: &[Duration], p: f64| {
        if v.is_empty() {
            "—".to_string()
        } else {
            ms_text(percentile(v, p))
        }
    };

    // Throughput: 8 concurrent writers, subscribers still connected and receiving.
    let per_writer = throughput_total / 8;
    let start = Instant::now();
    let http = Arc::new(http);
    let mut writers = Vec::new();
    for w in 0..8 {
        let (http, base, token) = (http.clone(), server.url.clone(), client_token.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..per_writer {
                post_urgent(&http, &base, Some(&token), w * 100_000 + i).await;
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let elapsed = start.elapsed();
    let created = per_writer * 8;
    println!(
        "| {} | {n_subs:>5} | {posts:>5} | {} | {} | {} | {} | {:>7.0} req/s |",
        mode.0,
        latency(&all_received, 0.5),
        latency(&all_received, 0.99),
        latency(&each, 0.5),
        latency(&each, 0.99),
        created as f64 / elapsed.as_secs_f64()
    );
    server.stop().await;
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (posts, total) = if quick { (20, 400) } else { (200, 4000) };
    println!(
        "POST urgent intervention → event at every subscriber (p50/p99 over {posts} posts), then creation throughput (8 writers, {total} requests)"
    );
    println!(
        "| commits | subs  | posts | all received p50 | all received p99 | one subscriber p50 | one subscriber p99 | creation throughput |"
    );
    println!("|---|------:|------:|---:|---:|---:|---:|---:|");
    // `-- --mode N`: only the Nth way of committing (0, 1, 2 of MODES), to profile one.
    let only: Option<usize> = std::env::args()
        .skip_while(|a| a != "--mode")
        .nth(1)
        .and_then(|n| n.parse().ok());
    // The ways of committing take turns at each subscriber count, each after a `sync`, so
    // the disk's writeback of one run (and its temp dir's removal) does not land on the next.
    // 0 subscribers: the creation throughput alone.
    for n in [0, 1, 100, 1000] {
        let posts = match n {
            0 => 0,
            1000 => posts / 2,
            _ => posts,
        };
        for (i, mode) in MODES.into_iter().enumerate() {
            if only.is_some_and(|o| o != i) {
                continue;
            }
            let _ = std::process::Command::new("sync").status();
            run(n, posts, total, mode).await;
        }
    }
}
