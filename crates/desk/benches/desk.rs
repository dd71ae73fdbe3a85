//! Benchmark of the desk engine (run: `cargo bench -p itv-desk --bench desk`; add
//! `-- --cache-only` for the cache's queries alone, `-- --cached N` for N cached requests).
//! Cache with 100,000 requests: open, filtered inbox window, full-text search;
//! a full sync of 100,000 requests from the real server; feed event → notifier call.
//! Prints p50/p99; docs/bench-desk.md records the figures.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use itv_desk::cache::Cache;
use itv_desk::notify::ClickSender;
use itv_desk::{
    ConnectionState, Engine, EngineConfig, InboxQuery, InboxSort, Notice, Notifier, Priority,
    Request, RequestKind,
};
use itv_server::testing::TestServer;
use serde_json::json;

const N: usize = 100_000;

fn pct(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.99))
}

fn report(name: &str, v: Vec<Duration>) -> String {
    let n = v.len();
    let (p50, p99) = pct(v);
    let line = format!("| {name} | {n} | {p50:.2?} | {p99:.2?} |");
    println!("{line}");
    line
}

const WORDS: &[&str] = &[
    "caméra",
    "réseau",
    "badge",
    "portail",
    "serveur",
    "alarme",
    "câblage",
    "NVR",
    "switch",
    "fibre",
    "onduleur",
    "interphone",
    "dôme",
    "wifi",
    "routeur",
    "contrôle",
];
const CLIENTS: &[&str] = &[
    "Hôtel Téranga",
    "Banque Atlantique",
    "Clinique du Cap",
    "Port Autonome",
    "Lycée Blaise Diagne",
    "Orange Sénégal",
    "Auchan Mermoz",
    "Université Cheikh Anta Diop",
];
const SITES: &[&str] = &[
    "Plateau",
    "Almadies",
    "Mermoz",
    "Ouakam",
    "Yoff",
    "Parcelles",
    "Rufisque",
];

fn synthetic(i: usize, rng: &mut fastrand::Rng) -> Request {
    let kind = match i % 3 {
        0 => RequestKind::Project,
        1 => RequestKind::Intervention,
        _ => RequestKind::Quote,
    };
    let priority = match rng.u8(0..20) {
        0 => Priority::Urgent,
        1..=4 => Priority::High,
        5..=15 => Priority::Medium,
        _ => Priority::Low,
    };
    let status = ["open", "assigned", "en_route", "resolved", "closed"][rng.usize(0..5)];
    let w = |rng: &mut fastrand::Rng| WORDS[rng.usize(0..WORDS.len())];
    let day = rng.u32(1..29);
    Request {
        id: format!("{i:08x}-bench"),
        kind,
        ticket_number: Some(format!("INT-2025{:02}-{:04}", (i % 12) + 1, i % 10000)),
        title: format!("{} {} {}", w(rng), w(rng), i),
        description: format!(
            "Problème de {} et de {} sur le site, {} à vérifier",
            w(rng),
            w(rng),
            w(rng)
        ),
        site: SITES[rng.usize(0..SITES.len())].into(),
        status: status.into(),
        priority,
        client_id: "c".into(),
        client_name: CLIENTS[rng.usize(0..CLIENTS.len())].into(),
        assignee_id: (rng.u8(0..4) == 0).then(|| format!("tech{}", rng.u8(0..10))),
        assignee_name: None,
        created_at: format!("2025-11-{day:02}T10:00:00Z"),
        updated_at: format!(
            "2025-11-{day:02}T{:02}:{:02}:00Z",
            rng.u8(0..24),
            rng.u8(0..60)
        ),
        version: 1,
        tracking: Default::default(),
        extra: Default::default(),
    }
}

/// The cache's figures with `n` requests cached.
fn cache_benches(out: &mut Vec<String>, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(42);
    {
        let mut cache = Cache::open(dir.path()).unwrap();
        let t = Instant::now();
        // As a first full sync does: begun on an empty cache, ended by finish_sync.
        let generation = cache.begin_sync(0, None).unwrap();
        // Every 7th request unread, the rest read; made a page at a time (a million would
        // take gigabytes at once).
        for start in (0..n).step_by(1000) {
            let (unread, read): (Vec<Request>, Vec<Request>) = (start..n.min(start + 1000))
                .map(|i| synthetic(i, &mut rng))
                .partition(|r| r.id.as_bytes()[7] % 7 == 0);
            cache.apply_sync_page(&read, generation, false).unwrap();
            cache.apply_sync_page(&unread, generation, true).unwrap();
        }
        let pages = t.elapsed();
        cache.finish_sync(generation).unwrap(); // sweep, indexes and search built, ANALYZE
        println!(
            "(seeded {n} requests into the cache in {:.2?}: pages {pages:.2?}, finish {:.2?})",
            t.elapsed(),
            t.elapsed() - pages
        );
    }

    let mut opens = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let c = Cache::open(dir.path()).unwrap();
        let first = c.inbox(&InboxQuery::default(), None).unwrap();
        opens.push(t.elapsed());
        assert_eq!(first.total as usize, n);
    }
    out.push(report("open cache + first inbox window (100 rows)", opens));

    let cache = Cache::open(dir.path()).unwrap();
    let queries = [
        InboxQuery::default(),
        InboxQuery {
            kind: Some(RequestKind::Intervention),
            status: Some("open".into()),
            ..Default::default()
        },
        InboxQuery {
            priority: Some(Priority::Urgent),
            ..Default::default()
        },
        InboxQuery {
            assigned_to_me: true,
            ..Default::default()
        },
        InboxQuery {
            unread_only: true,
            kind: Some(RequestKind::Quote),
            ..Default::default()
        },
        InboxQuery {
            text: Some("caméra plateau".into()),
            ..Default::default()
        },
        InboxQuery {
            sort: InboxSort::Priority,
            active_only: true,
            ..Default::default()
        },
        InboxQuery {
            sort: InboxSort::Oldest,
            kind: Some(RequestKind::Project),
            ..Default::default()
        },
    ];
    let names = [
        "inbox window, no filter",
        "inbox window, kind=intervention + status=open",
        "inbox window, priority=urgent",
        "inbox window, assigned to me",
        "inbox window, unread + kind=quote",
        "inbox window, text filter 'caméra plateau'",
        "inbox window, active only, by priority",
        "inbox window, kind=project, oldest first",
    ];
    let mut all = Vec::new();
    for (qi, base) in queries.iter().enumerate() {
        let mut times = Vec::new();
        for _ in 0..100 {
            let mut q = base.clone();
            q.limit = Some(100);
            q.offset = rng.u32(0..2000);
            let t = Instant::now();
            let page = cache.inbox(&q, Some("tech3")).unwrap();
            times.push(t.elapsed());
            std::hint::black_box(page);
        }
        all.extend(times.iter().copied());
        out.push(report(
            &format!("{} (limit 100, offset ≤ 2000, with total count)", names[qi]),
            times,
        ));
    }
    out.push(report("inbox window, all filters above together", all));

    let mut times = Vec::new();
    for i in 0..600 {
        let q = match i % 4 {
            0 => WORDS[rng.usize(0..WORDS.len())].to_string(),
            1 => CLIENTS[rng.usize(0..CLIENTS.len())].to_string(),
            2 => format!("INT-2025{:02}-{:04}", rng.usize(1..13), rng.usize(0..10000)),
            _ => format!(
                "{} {}",
                WORDS[rng.usize(0..WORDS.len())],
                &SITES[rng.usize(0..SITES.len())][..3]
            ),
        };
        let t = Instant::now();
        let hits = cache.search(&q, 50).unwrap();
        times.push(t.elapsed());
        std::hint::black_box(hits);
    }
    out.push(report("full-text search (top 50, ranked)", times));
}

/// Records when the engine asked for each notification.
#[derive(Default)]
struct Timing {
    shown: Mutex<Vec<(String, Instant)>>,
}

impl Notifier for Timing {
    fn show(&self, notice: &Notice, _clicks: ClickSender) -> Result<(), String> {
        self.shown.lock().unwrap().push((
            notice.request_id.clone().unwrap_or_default(),
            Instant::now(),
        ));
        Ok(())
    }
}

async fn server_benches(out: &mut Vec<String>) {
    let srv_dir = tempfile::tempdir().unwrap();
    let mut cfg = itv_server::Config::for_dir(srv_dir.path().to_path_buf());
    cfg.rate_create_per_account = 0;
    cfg.rate_create_per_address = 0;
    cfg.rate_login_per_account = 0;
    cfg.rate_login_per_address = 0;
    let srv = TestServer::start_with(cfg).await;
    let pw = "motdepasse-solide-42";
    srv.create_user(itv_core::Role::Admin, "admin@itv.sn", "Admin", pw);
    srv.create_user(itv_core::Role::Client, "client@itv.sn", "Hôtel Téranga", pw);
    let http = reqwest::Client::new();
    let login = |email: &'static str| {
        let http = http.clone();
        let url = srv.url.clone();
        async move {
            let v: serde_json::Value = http
                .post(format!("{url}/api/auth/login"))
                .json(&json!({"email": email, "password": pw}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["token"].as_str().unwrap().to_owned()
        }
    };
    let client = login("client@itv.sn").await;

    // Seed 100,000 requests through the client API (8 concurrent writers).
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let http = http.clone();
        let url = srv.url.clone();
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..N).step_by(8) {
                let (path, body) = match i % 3 {
                    0 => (
                        "project",
                        json!({"name": format!("Projet {i}"), "serviceType": "network",
                        "description": "Câblage réseau du bâtiment", "address": "Plateau, Dakar"}),
                    ),
                    1 => (
                        "intervention",
                        json!({"type": "planned", "title": format!("Maintenance {i}"),
                        "description": "Vérification caméras", "site": "Almadies"}),
                    ),
                    _ => (
                        "quote",
                        json!({"title": format!("Devis {i}"), "category": "equipment",
                        "description": "10 caméras IP"}),
                    ),
                };
                let r = http
                    .post(format!("{url}/api/client/requests/{path}"))
                    .bearer_auth(&client)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "{}", r.status());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    println!("(seeded {N} requests on the server in {:.2?})", t.elapsed());

    // Full sync of 100,000 requests: sign-in → live.
    let timing = Arc::new(Timing::default());
    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        data.path(),
        EngineConfig {
            notifier: Some(timing.clone()),
            use_keyring: false,
            ..EngineConfig::default()
        },
    )
    .await
    .unwrap();
    let t = Instant::now();
    engine.sign_in(&srv.url, "admin@itv.sn", pw).await.unwrap();
    while engine.connection() != ConnectionState::Live {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let full = t.elapsed();
    let cached = engine.cached_versions().await.unwrap().len();
    assert_eq!(cached, N);
    let line = format!(
        "| full sync of {N} requests (sign-in → live, pages of {}) | 1 | {full:.2?} | — |",
        itv_desk::sync::SYNC_PAGE
    );
    println!("{line}");
    out.push(line);

    // Feed event → notification call, live, urgent interventions one at a time.
    let mut after_answer = Vec::new();
    let mut after_send = Vec::new();
    for i in 0..200 {
        let sent = Instant::now();
        let r: serde_json::Value = http
            .post(format!("{}/api/client/requests/intervention", srv.url))
            .bearer_auth(&client)
            .json(&json!({"type": "urgent", "title": format!("Urgence {i}"),
                "description": "Panne totale du système de vidéosurveillance", "site": "Yoff"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let answered = Instant::now();
        let id = r["ticket"]["_id"].as_str().unwrap().to_owned();
        let shown_at = loop {
            let found = timing
                .shown
                .lock()
                .unwrap()
                .iter()
                .find(|(rid, _)| *rid == id)
                .map(|(_, at)| *at);
            if let Some(at) = found {
                break at;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "no notification for {id}"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        after_send.push(shown_at.saturating_duration_since(sent));
        after_answer.push(shown_at.saturating_duration_since(answered));
    }
    out.push(report(
        "urgent intervention POST sent → notifier called (upper bound of event → notification)",
        after_send,
    ));
    out.push(report(
        "POST answered → notifier called (event already in flight)",
        after_answer,
    ));
    drop(engine);
    srv.stop().await;
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes the harness
    }
    println!("| measure | samples | p50 | p99 |\n|---|---|---|---|");
    let mut out = Vec::new();
    // `-- --cached N`: the cache's figures with N requests (how the cost grows).
    let args: Vec<String> = std::env::args().collect();
    let cached = args
        .iter()
        .position(|a| a == "--cached")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(N);
    cache_benches(&mut out, cached);
    // `-- --cache-only`: the cache's queries alone, a minute instead of the full sync's many.
    if !args.iter().any(|a| a == "--cache-only") {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(server_benches(&mut out));
    }
    println!("\nsummary:\n{}", out.join("\n"));
}
