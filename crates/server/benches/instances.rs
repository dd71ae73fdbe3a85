//! Bench: two instances on one PostgreSQL database against one instance on SQLite, in
//! one run, with one harness. Time from the POST of an urgent intervention on instance A
//! to its event at *every* subscriber of instance B, with 1, 100 and 1,000 subscribers,
//! beside the same on the single SQLite instance (POST and subscribers on it), and at
//! every subscriber of A itself; posts alternating; then creation throughput with 8
//! writers.
//!
//! Every server is the real `itv-server` binary in its own process; the CPU of each, of
//! the PostgreSQL processes together and of the harness is printed beside the figures.
//!
//! Run: `bash scripts/bench-postgres.sh` (a throwaway cluster, then this bench);
//! `--quick` for a short run; `ITV_BENCH_SERVER=path` measures that `itv-server` binary.

use std::time::Duration;

mod common;
use common::{
    DEMO_PASSWORD, Server, WRITERS, cpu_seconds, feed_subscribers, login, ms, one_post, percentile,
    throughput,
};

/// CPU seconds used so far by every process named `postgres` (the cluster's).
fn postgres_cpu() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|e| cpu_seconds(&e.path().join("stat").to_string_lossy()))
        .sum()
}

/// Takes the `n` arrivals of an event already timed at other subscribers.
async fn drain(arrivals: &mut common::Arrivals, n: usize) {
    for _ in 0..n {
        tokio::time::timeout(Duration::from_secs(30), arrivals.recv())
            .await
            .expect("event within 30 s")
            .unwrap();
    }
}

fn main() {
    let cluster = itv_server::testing::test_cluster().expect(
        "a PostgreSQL cluster in ITV_TEST_DATABASE_URL: run `bash scripts/bench-postgres.sh`",
    );
    let database = itv_server::testing::fresh_database(&cluster);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(run(database));
}

async fn run(database: String) {
    let quick = std::env::args().any(|a| a == "--quick");
    let posts = if quick { 20 } else { 200 };
    let secs = if quick { 1.0 } else { 3.0 };
    let dirs = [(); 3].map(|_| tempfile::tempdir().unwrap());
    let sqlite = Server::ours(dirs[0].path(), None, true);
    let a = Server::ours(dirs[1].path(), Some(&database), true);
    let b = Server::ours(dirs[2].path(), Some(&database), false);
    let http = reqwest::Client::new();
    let sqlite_admin = login(&http, &sqlite.url, "admin@itvision.sn", DEMO_PASSWORD).await;
    let sqlite_client = login(&http, &sqlite.url, "client@itvision.sn", DEMO_PASSWORD).await;
    // Signed in on one instance, valid on both: one secret, sessions in the database.
    let pg_admin = login(&http, &b.url, "admin@itvision.sn", DEMO_PASSWORD).await;
    let pg_client = login(&http, &a.url, "client@itvision.sn", DEMO_PASSWORD).await;
    let harness = format!("/proc/{}/stat", std::process::id());

    println!(
        "POST urgent intervention → event at every subscriber: SQLite, one instance (POST and subscribers on it) and PostgreSQL, two instances (POST on A, subscribers on B); posts alternating, same harness"
    );
    println!(
        "| subscribers | posts | SQLite p50 | SQLite p99 | PostgreSQL A → B p50 | PostgreSQL A → B p99 | PG/SQLite p50 | PG/SQLite p99 | PostgreSQL A → A p50 | A → A p99 | CPU s: SQLite / A / B / postgres / harness |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let cpu_now = || {
        [
            sqlite.cpu(),
            a.cpu(),
            b.cpu(),
            postgres_cpu(),
            cpu_seconds(&harness),
        ]
    };
    // CPU per creation on PostgreSQL, all on A: where the time of a write goes.
    let before = cpu_now();
    let on_a = throughput(&http, &[&a.url], Some(&pg_client), secs).await;
    let used: Vec<f64> = before.iter().zip(cpu_now()).map(|(b, a)| a - b).collect();
    let per = |cpu: f64| cpu / (on_a * secs) * 1e3;
    let pg_cpu = format!(
        "CPU per creation on PostgreSQL, 8 writers on A: A {:.2} ms, B {:.2} ms, postgres {:.2} ms, harness {:.2} ms",
        per(used[1]),
        per(used[2]),
        per(used[3]),
        per(used[4])
    );
    let mut rates = vec![(
        0,
        throughput(&http, &[&sqlite.url], Some(&sqlite_client), secs).await,
        on_a,
        throughput(&http, &[&a.url, &b.url], Some(&pg_client), secs).await,
    )];
    for n in [1, 100, 1000] {
        let posts = if n == 1000 { posts / 2 } else { posts };
        let mut on_sqlite =
            feed_subscribers(&sqlite.url, std::slice::from_ref(&sqlite_admin), n).await;
        let mut on_b = feed_subscribers(&b.url, std::slice::from_ref(&pg_admin), n).await;
        let mut on_a = feed_subscribers(&a.url, std::slice::from_ref(&pg_admin), n).await;
        let cpu0 = cpu_now();
        let (mut s, mut p, mut local): (Vec<Duration>, Vec<Duration>, Vec<Duration>) =
            Default::default();
        for i in 0..posts {
            s.push(
                one_post(
                    &http,
                    &sqlite.url,
                    Some(&sqlite_client),
                    &mut on_sqlite.arrivals,
                    n,
                    i,
                )
                .await
                .at_socket,
            );
            p.push(
                one_post(&http, &a.url, Some(&pg_client), &mut on_b.arrivals, n, i)
                    .await
                    .at_socket,
            );
            // B's subscribers got that one; A's own ones too, already counted out here.
            drain(&mut on_a.arrivals, n).await;
            local.push(
                one_post(&http, &a.url, Some(&pg_client), &mut on_a.arrivals, n, i)
                    .await
                    .at_socket,
            );
            drain(&mut on_b.arrivals, n).await;
        }
        let cpu1 = cpu_now();
        let cpu: Vec<String> = cpu0
            .iter()
            .zip(cpu1)
            .map(|(before, after)| format!("{:.1}", after - before))
            .collect();
        s.sort();
        p.sort();
        local.sort();
        let (s50, s99, p50, p99) = (
            percentile(&s, 0.5),
            percentile(&s, 0.99),
            percentile(&p, 0.5),
            percentile(&p, 0.99),
        );
        println!(
            "| {n} | {posts} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2}× | {:.2}× | {:.2} ms | {:.2} ms | {} |",
            ms(s50),
            ms(s99),
            ms(p50),
            ms(p99),
            ms(p50) / ms(s50),
            ms(p99) / ms(s99),
            ms(percentile(&local, 0.5)),
            ms(percentile(&local, 0.99)),
            cpu.join(" / ")
        );
        rates.push((
            n,
            throughput(&http, &[&sqlite.url], Some(&sqlite_client), secs).await,
            throughput(&http, &[&a.url], Some(&pg_client), secs).await,
            throughput(&http, &[&a.url, &b.url], Some(&pg_client), secs).await,
        ));
    }
    println!(
        "\ncreation throughput, {WRITERS} writers posting back to back for {secs} s each, while the subscribers (on the SQLite instance, on B) receive every event"
    );
    println!("| subscribers | SQLite | PostgreSQL, all on A | PostgreSQL, split over A and B |");
    println!("|---:|---:|---:|---:|");
    for (n, sqlite, on_a, split) in rates {
        println!("| {n} | {sqlite:.0} req/s | {on_a:.0} req/s | {split:.0} req/s |");
    }
    println!("\n{pg_cpu}");
}
