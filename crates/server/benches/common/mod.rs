//! What the server's benches share: a feed subscriber that reads as little as it can and
//! times each event when it reached its socket, the urgent creation they time, and the
//! percentiles they print.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub mod fanout_floor;
pub mod stamped;
pub use stamped::{Incoming, StampedSocket};

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An event at one subscriber: its request id, when it reached the subscriber's socket, and
/// when the harness read it (later by however busy the harness was).
pub struct Arrival {
    pub id: String,
    pub at_socket: Instant,
    pub read_at: Instant,
    /// The frame's payload.
    pub bytes: usize,
}

impl Arrival {
    pub fn of(id: String, frame: &Incoming) -> Arrival {
        Arrival {
            id,
            // Timing at the read would hide the harness in the figures: no stamp, no figure.
            at_socket: frame.at_socket.expect("the kernel stamped the event"),
            read_at: frame.read_at,
            bytes: frame.text.len(),
        }
    }
}

pub type Arrivals = mpsc::UnboundedReceiver<Arrival>;

/// Connected subscribers: what they received, and their tasks (closed when dropped, so one
/// round's sockets do not go on reading during the next).
pub struct Subscribers {
    pub arrivals: Arrivals,
    pub tasks: JoinSet<()>,
    /// Shared with the tasks: while set, each event is parsed and timed into `arrivals`;
    /// cleared, it is only counted into `events`.
    pub timed: Arc<AtomicBool>,
    /// Events received while not timed, over all the subscribers.
    pub events: Arc<AtomicU64>,
}

impl Subscribers {
    pub fn new(arrivals: Arrivals, tasks: JoinSet<()>, flags: SubscriberFlags) -> Subscribers {
        Subscribers {
            arrivals,
            tasks,
            timed: flags.timed,
            events: flags.events,
        }
    }

    /// From now on the subscribers only count what they receive (a throughput run: a
    /// thousand sockets parsing and queueing every frame would be the harness measuring
    /// itself); returns the count so far.
    pub fn count_only(&self) -> u64 {
        self.timed.store(false, Ordering::Relaxed);
        self.events.load(Ordering::Relaxed)
    }

    /// Waits until `total` events were counted (up to 30 s); how long that took.
    pub async fn counted(&self, total: u64) -> Duration {
        let t0 = Instant::now();
        while self.events.load(Ordering::Relaxed) < total {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "subscribers counted {} of {total} events in 30 s",
                self.events.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        t0.elapsed()
    }
}

/// The flags each subscriber task holds a copy of.
#[derive(Clone, Default)]
pub struct SubscriberFlags {
    timed: Arc<AtomicBool>,
    events: Arc<AtomicU64>,
}

impl SubscriberFlags {
    pub fn new() -> SubscriberFlags {
        SubscriberFlags {
            timed: Arc::new(AtomicBool::new(true)),
            events: Arc::default(),
        }
    }

    /// Whether this event is to be timed; if not, it is counted.
    pub fn timing(&self) -> bool {
        let timed = self.timed.load(Ordering::Relaxed);
        if !timed {
            self.events.fetch_add(1, Ordering::Relaxed);
        }
        timed
    }
}

/// `n` subscribers on our feed at `base` (`http://…`), signed in with `tokens` in turn; each
/// reports every event it receives. Returns once all are live (their `ready` frame).
pub async fn feed_subscribers(base: &str, tokens: &[String], n: usize) -> Subscribers {
    // The two fields a subscriber looks at; the rest of the frame is skipped, not built.
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        frame_type: Option<String>,
        #[serde(rename = "_id")]
        id: Option<String>,
    }
    let (tx, arrivals) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    let mut ready = Vec::new();
    let flags = SubscriberFlags::new();
    for i in 0..n {
        let auth = format!("Bearer {}", tokens[i % tokens.len()]);
        let mut ws = StampedSocket::connect(base, "/api/feed", Some(&auth)).await;
        let (tx, (ready_tx, ready_rx)) = (tx.clone(), tokio::sync::oneshot::channel());
        ready.push(ready_rx);
        let flags = flags.clone();
        tasks.spawn(async move {
            let mut ready_tx = Some(ready_tx);
            while let Some(frame) = ws.next_text().await {
                // Ready came while timed: anything later is an event.
                if !flags.timing() {
                    continue;
                }
                let head: Head = serde_json::from_str(&frame.text).unwrap();
                if head.frame_type.as_deref() == Some("ready") {
                    if let Some(r) = ready_tx.take() {
                        let _ = r.send(());
                    }
                } else if let Some(id) = head.id {
                    let _ = tx.send(Arrival::of(id, &frame));
                }
            }
        });
    }
    for r in ready {
        r.await.unwrap();
    }
    Subscribers::new(arrivals, tasks, flags)
}

/// The seed's urgent intervention, posted to `base`; the new ticket's `_id`.
pub async fn post_urgent(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    i: usize,
) -> String {
    let mut rb = http
        .post(format!("{base}/api/client/requests/intervention"))
        .json(&json!({
            "type": "urgent",
            "title": format!("Panne critique n°{i}"),
            "description": "Plus aucune image sur les caméras du parking",
            "site": "Siège social - Plateau, Dakar"
        }));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    v["ticket"]["_id"].as_str().unwrap().to_string()
}

/// A session token through the real login endpoint.
pub async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let v: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().expect("signed in").to_string()
}

/// A server process and the address it printed ("listening on http://…").
pub struct Server {
    pub child: Child,
    pub url: String,
}

/// `serve --demo`'s accounts' password.
pub const DEMO_PASSWORD: &str = "demo1234";

impl Server {
    /// Our `itv-server serve` on `dir` (on PostgreSQL with `database`, the demo seeded with
    /// `demo`), creations and feed upgrades unbounded: latency, not admission, is measured.
    /// `ITV_BENCH_SERVER=path` runs that build instead (the commit before a change, say).
    pub fn ours(dir: &std::path::Path, database: Option<&str>, demo: bool) -> Server {
        let bin = std::env::var("ITV_BENCH_SERVER")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_itv-server").to_string());
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .env("ITV_LOG", "warn")
            .env("ITV_RATE_CREATE_PER_ACCOUNT", "0")
            .env("ITV_RATE_CREATE_PER_ADDRESS", "0")
            .env("ITV_FEED_ACCEPT_PER_SEC", "0");
        if demo {
            cmd.arg("--demo");
        }
        if let Some(url) = database {
            cmd.env("ITV_DATABASE_URL", url);
        }
        Server::start(cmd)
    }

    pub fn start(mut cmd: Command) -> Server {
        let mut child = cmd.stdout(Stdio::piped()).spawn().expect("server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no address printed: {line:?}"))
            .to_string();
        Server { child, url }
    }

    /// CPU seconds (user + system) the process has used so far.
    pub fn cpu(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn cpu_seconds(stat: &str) -> f64 {
    let s = std::fs::read_to_string(stat).unwrap();
    // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th.
    let after = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / clock_ticks()
}

/// The kernel's clock ticks per second, asked of `getconf` once.
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    })
}

/// Concurrent clients creating back to back, for the throughput rows.
pub const WRITERS: usize = 8;

/// Creations per second with `WRITERS` clients posting back to back for `secs` seconds,
/// writer `w` to `urls[w % urls.len()]` (the instances behind one load balancer).
pub async fn throughput(
    http: &reqwest::Client,
    urls: &[&str],
    token: Option<&str>,
    secs: f64,
) -> f64 {
    creations(http, urls, token, secs).await as f64 / secs
}

/// How many creations `WRITERS` clients made, posting back to back for `secs` seconds.
pub async fn creations(
    http: &reqwest::Client,
    urls: &[&str],
    token: Option<&str>,
    secs: f64,
) -> u64 {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut writers = JoinSet::new();
    for w in 0..WRITERS {
        let url = urls[w % urls.len()].to_string();
        let (http, token) = (http.clone(), token.map(str::to_string));
        writers.spawn(async move {
            let mut done = 0;
            while Instant::now() < end {
                post_urgent(&http, &url, token.as_deref(), (w << 20) + done).await;
                done += 1;
            }
            done
        });
    }
    let mut total = 0;
    while let Some(done) = writers.join_next().await {
        total += done.unwrap();
    }
    total as u64
}

/// How long an event took to reach all its subscribers: at their sockets, read by the
/// harness; and its frame's length.
#[derive(Clone, Copy)]
pub struct Delivery {
    pub at_socket: Duration,
    pub read: Duration,
    pub bytes: usize,
}

/// One POST and the time until all `n` subscribers have its event.
pub async fn one_post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    rx: &mut Arrivals,
    n: usize,
    i: usize,
) -> Delivery {
    let t0 = Instant::now();
    let id = post_urgent(http, url, token, i).await;
    all_arrived(rx, n, &id, t0).await
}

/// Waits for event `id`, sent at `t0`, at all `n` subscribers.
pub async fn all_arrived(rx: &mut Arrivals, n: usize, id: &str, t0: Instant) -> Delivery {
    let (mut at_socket, mut read, mut bytes) = (t0, t0, 0);
    for _ in 0..n {
        let a = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("event within 30 s")
            .unwrap();
        assert_eq!(a.id, id, "events arrive in order, once");
        // A stamp on another clock, or of an older packet, would land before the POST.
        assert!(
            a.at_socket >= t0,
            "an event reached its socket before its POST"
        );
        at_socket = at_socket.max(a.at_socket);
        read = read.max(a.read_at);
        bytes = a.bytes;
    }
    Delivery {
        at_socket: at_socket - t0,
        read: read - t0,
        bytes,
    }
}
