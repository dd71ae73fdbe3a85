//! Bench: our feed against a Socket.io peer shaped like the seed's stack (`benches/peer/`),
//! driven in one run by the same harness: time from the POST of an urgent intervention to
//! its event at *every* subscriber, with 1, 100 and 1,000 subscribers on each server; and the
//! floor one subscriber cannot beat (an fsync'd commit plus a loopback round trip). An event
//! is timed when it reached the subscriber's socket (the kernel's receive stamp,
//! `common::stamped`), not when the harness, sharing the two cores, got round to reading it.
//!
//! Both servers are their own processes (the real `itv-server` binary as shipped: FULL with
//! group commit; `node`), so the CPU each one uses is read apart from the harness's own, and
//! printed beside the figures: the harness must not be what it measures.
//!
//! Run: `bash scripts/bench-peer.sh` (installs the peer's npm packages, then this bench);
//! `-- --quick` for a short run, `-- --subscribers N --posts M` for one count (to profile);
//! `ITV_BENCH_SERVER=path` measures that `itv-server` binary instead of this build's.

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

mod common;
use common::fanout_floor::FanoutFloor;
use common::{
    Arrival, DEMO_PASSWORD, Delivery, Server, StampedSocket, SubscriberFlags, Subscribers, WRITERS,
    all_arrived, cpu_seconds, creations, feed_subscribers, login, ms, one_post, percentile,
};

const PEER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peer");

fn start_peer() -> Server {
    assert!(
        std::path::Path::new(PEER_DIR)
            .join("node_modules/socket.io")
            .exists(),
        "the peer's packages are not installed: run `bash scripts/bench-peer.sh`"
    );
    let mut cmd = Command::new("node");
    cmd.arg("socketio-peer.js").arg("0").current_dir(PEER_DIR);
    Server::start(cmd)
}

/// `n` Socket.io clients (Engine.IO 4 over a WebSocket, spoken here: `0` open, `40`
/// connect, `2`/`3` ping/pong, `42[...]` events); each reports the notification's ticket id.
async fn peer_subscribers(url: &str, n: usize) -> Subscribers {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    let mut ready = Vec::new();
    let flags = SubscriberFlags::new();
    for _ in 0..n {
        let mut ws =
            StampedSocket::connect(url, "/socket.io/?EIO=4&transport=websocket", None).await;
        let (tx, (ready_tx, ready_rx)) = (tx.clone(), tokio::sync::oneshot::channel());
        ready.push(ready_rx);
        let flags = flags.clone();
        tasks.spawn(async move {
            let mut ready_tx = Some(ready_tx);
            while let Some(frame) = ws.next_text().await {
                let t = frame.text.as_str();
                if t.starts_with('0') {
                    ws.send_text("40").await.unwrap();
                } else if t == "2" {
                    ws.send_text("3").await.unwrap();
                } else if let Some(event) = t.strip_prefix("42") {
                    // Ready came while timed: anything later is a notification.
                    if !flags.timing() {
                        continue;
                    }
                    let v: Value = serde_json::from_str(event).unwrap();
                    match v[0].as_str() {
                        Some("ready") => {
                            if let Some(r) = ready_tx.take() {
                                let _ = r.send(());
                            }
                        }
                        Some("notification") => {
                            let id = v[1]["data"]["ticketId"].as_str().unwrap().to_string();
                            let _ = tx.send(Arrival::of(id, &frame));
                        }
                        _ => {}
                    }
                }
            }
        });
    }
    for r in ready {
        r.await.unwrap();
    }
    Subscribers::new(rx, tasks, flags)
}

/// A throughput row for one server: creations per second, how long after the last one
/// its subscribers had every event, and the CPU seconds of the server and of the harness.
struct Rate {
    per_sec: f64,
    drained: Option<Duration>,
    cpu: (f64, f64),
}

/// As many creations as `server` takes for `secs`, while `subs` (counting only) receive them.
async fn rate(
    http: &reqwest::Client,
    server: &Server,
    token: Option<&str>,
    subs: Option<&Subscribers>,
    secs: f64,
) -> Rate {
    let harness = format!("/proc/{}/stat", std::process::id());
    let counted = subs.map(|s| s.count_only());
    let cpu0 = (server.cpu(), cpu_seconds(&harness));
    let made = creations(http, &[&server.url], token, secs).await;
    let drained = match (subs, counted) {
        (Some(s), Some(before)) => Some(s.counted(before + made * s.tasks.len() as u64).await),
        _ => None,
    };
    Rate {
        per_sec: made as f64 / secs,
        drained,
        cpu: (server.cpu() - cpu0.0, cpu_seconds(&harness) - cpu0.1),
    }
}

/// Each of (at the sockets, read by the harness), sorted.
fn sorted_pair(times: Vec<Delivery>) -> (Vec<Duration>, Vec<Duration>) {
    let (mut at_socket, mut read): (Vec<_>, Vec<_>) =
        times.into_iter().map(|d| (d.at_socket, d.read)).unzip();
    at_socket.sort();
    read.sort();
    (at_socket, read)
}

/// The floor of POST → event at one subscriber: one fsync'd 4 KiB write in a temp dir (the
/// commit) plus one loopback TCP round trip (the POST in, the event out). p50 of each.
fn floor(dir: &std::path::Path, samples: usize) -> (Duration, Duration) {
    let mut fsyncs = Vec::with_capacity(samples);
    let mut file = std::fs::File::create(dir.join("floor")).unwrap();
    for _ in 0..samples {
        let t = Instant::now();
        file.write_all(&[7u8; 4096]).unwrap();
        file.sync_data().unwrap();
        fsyncs.push(t.elapsed());
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).is_ok() {
            s.write_all(&b).unwrap();
        }
    });
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut trips = Vec::with_capacity(samples);
    let mut b = [0u8; 1];
    for _ in 0..samples {
        let t = Instant::now();
        s.write_all(&b).unwrap();
        s.read_exact(&mut b).unwrap();
        trips.push(t.elapsed());
    }
    drop(s);
    echo.join().unwrap();
    fsyncs.sort();
    trips.sort();
    (percentile(&fsyncs, 0.5), percentile(&trips, 0.5))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |flag: &str| -> Option<usize> {
        let i = args.iter().position(|a| a == flag)?;
        Some(args.get(i + 1)?.parse().expect("a number after the flag"))
    };
    let quick = args.iter().any(|a| a == "--quick");
    // `--posts N` and `--subscribers N` (one count) make a run to profile.
    let posts = value_of("--posts").unwrap_or(if quick { 20 } else { 200 });
    let counts = match value_of("--subscribers") {
        Some(n) => vec![n],
        None => vec![1, 100, 1000],
    };
    let dir = tempfile::tempdir().unwrap();
    let ours = Server::ours(dir.path(), None, true);
    let peer = start_peer();
    let http = reqwest::Client::new();
    let admin = login(&http, &ours.url, "admin@itvision.sn", DEMO_PASSWORD).await;
    let client = login(&http, &ours.url, "client@itvision.sn", DEMO_PASSWORD).await;
    let harness_stat = format!("/proc/{}/stat", std::process::id());

    println!(
        "POST urgent intervention → event at every subscriber, ours (itv-server, FULL + group commit) and the Socket.io peer (node, in memory), posts alternating, same harness"
    );
    println!(
        "(timed when the event reached each subscriber's socket, by the kernel's stamp; beside, when the harness read it, later by how busy the harness was)"
    );
    println!(
        "| subscribers | posts | ours p50 | ours p99 | peer p50 | peer p99 | peer/ours p50 | peer/ours p99 | read by the harness p50, ours / peer | CPU s: ours / peer / harness |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
    let secs = if quick { 1.0 } else { 3.0 };
    let mut rates = vec![(
        0,
        rate(&http, &ours, Some(&client), None, secs).await,
        rate(&http, &peer, None, None, secs).await,
    )];
    let mut one_sub_p50 = None;
    let mut floor_rows = Vec::new();
    for n in counts {
        let posts = if n == 1000 { posts / 2 } else { posts };
        let mut our_subs = feed_subscribers(&ours.url, std::slice::from_ref(&admin), n).await;
        let mut peer_subs = peer_subscribers(&peer.url, n).await;
        // The floor's, one writing thread (as node has) and two (this machine's cores).
        let floors = [FanoutFloor::start(n, 1), FanoutFloor::start(n, 2)];
        let mut floor_subs = Vec::new();
        for f in &floors {
            floor_subs.push(feed_subscribers(&f.url, &["floor".into()], n).await);
        }
        let cpu0 = (ours.cpu(), peer.cpu(), cpu_seconds(&harness_stat));
        let (mut a, mut b, mut c): (Vec<_>, Vec<_>, [Vec<_>; 2]) = Default::default();
        for i in 0..posts {
            let token = Some(client.as_str());
            a.push(one_post(&http, &ours.url, token, &mut our_subs.arrivals, n, i).await);
            b.push(one_post(&http, &peer.url, None, &mut peer_subs.arrivals, n, i).await);
            let bytes = a[i].bytes;
            for (k, (f, subs)) in floors.iter().zip(&mut floor_subs).enumerate() {
                let (id, t0) = (format!("floor-{i}"), Instant::now());
                f.send(&id, bytes);
                c[k].push(all_arrived(&mut subs.arrivals, n, &id, t0).await);
            }
        }
        let cpu = (
            ours.cpu() - cpu0.0,
            peer.cpu() - cpu0.1,
            cpu_seconds(&harness_stat) - cpu0.2,
        );
        let (a_sorted, a_read) = sorted_pair(a.clone());
        let (b, b_read) = sorted_pair(b);
        let (a50, a99, b50, b99) = (
            percentile(&a_sorted, 0.5),
            percentile(&a_sorted, 0.99),
            percentile(&b, 0.5),
            percentile(&b, 0.99),
        );
        if n == 1 {
            one_sub_p50 = Some(a50);
        }
        let [(c1, _), (c2, _)] = c.map(sorted_pair);
        floor_rows.push(format!(
            "| {n} | {} B | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.2}× | {:.2}× |",
            a[0].bytes,
            ms(percentile(&c1, 0.5)),
            ms(percentile(&c1, 0.99)),
            ms(percentile(&c2, 0.5)),
            ms(percentile(&c2, 0.99)),
            ms(a50) / ms(percentile(&c1, 0.5)),
            ms(b50) / ms(percentile(&c1, 0.5)),
        ));
        println!(
            "| {n} | {posts} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2}× | {:.2}× | {:.2} / {:.2} ms | {:.1} / {:.1} / {:.1} |",
            ms(a50),
            ms(a99),
            ms(b50),
            ms(b99),
            ms(b50) / ms(a50),
            ms(b99) / ms(a99),
            ms(percentile(&a_read, 0.5)),
            ms(percentile(&b_read, 0.5)),
            cpu.0,
            cpu.1,
            cpu.2
        );
        // Then as many creations as the servers take while these subscribers receive them all.
        rates.push((
            n,
            rate(&http, &ours, Some(&client), Some(&our_subs), secs).await,
            rate(&http, &peer, None, Some(&peer_subs), secs).await,
        ));
    }
    println!(
        "\nfan-out floor: a frame as long as ours written to each subscriber's socket by plain threads (no HTTP, database or runtime), read by the same harness, posts alternating with the servers'; p50 / p99"
    );
    println!(
        "| subscribers | frame | floor, 1 thread | floor, 2 threads | ours / floor (1 thread) p50 | peer / floor (1 thread) p50 |"
    );
    println!("|---:|---:|---|---|---:|---:|");
    floor_rows.iter().for_each(|r| println!("{r}"));
    println!(
        "\ncreation throughput, {WRITERS} writers posting back to back for {secs} s each, while the subscribers receive (and count) every event; then how long until the last of them had the last one; CPU seconds of each server and of the harness during its run"
    );
    println!(
        "| subscribers | ours | peer | ours/peer | all delivered, ours / peer | CPU s ours / harness | CPU s peer / harness |"
    );
    println!("|---:|---:|---:|---:|---|---|---|");
    let after = |r: &Rate| r.drained.map_or("–".into(), |d| format!("{:.0} ms", ms(d)));
    for (n, ours, peer) in rates {
        println!(
            "| {n} | {:.0} req/s | {:.0} req/s | {:.2}× | +{} / +{} | {:.1} / {:.1} | {:.1} / {:.1} |",
            ours.per_sec,
            peer.per_sec,
            ours.per_sec / peer.per_sec,
            after(&ours),
            after(&peer),
            ours.cpu.0,
            ours.cpu.1,
            peer.cpu.0,
            peer.cpu.1
        );
    }
    let (fsync, trip) = floor(dir.path(), posts);
    let Some(ours_one) = one_sub_p50 else { return };
    println!(
        "\nfloor of one subscriber: fsync of 4 KiB {:.2} ms + loopback round trip {:.3} ms = {:.2} ms p50; ours at 1 subscriber {:.2} ms p50 = {:.2}× the floor",
        ms(fsync),
        ms(trip),
        ms(fsync + trip),
        ms(ours_one),
        ms(ours_one) / ms(fsync + trip)
    );
}
