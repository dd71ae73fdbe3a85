//! Benchmark of shared acknowledgement (run: `cargo bench -p itv-desk --bench ack`): two
//! live engines on the real server, an admin's and a technician's desk. For each of 50
//! urgent interventions, once both desks alerted, the admin's desk takes it
//! (`Engine::acknowledge`, `POST /api/requests/{id}/ack`) and we time until the technician's
//! desk withdraws its alert (the notifier's `withdraw`: its reminders have stopped and what
//! was on screen is being closed). A timing notifier, no D-Bus: the system test
//! `je_prends_on_one_desk_stops_the_reminders_of_every_desk` covers that path.
//! Prints p50/p99; docs/bench-desk.md records the figures.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use itv_desk::notify::ClickSender;
use itv_desk::{ConnectionState, Engine, EngineConfig, Notice, Notifier};
use itv_server::testing::TestServer;
use serde_json::json;

const TRIES: usize = 50;
const PASSWORD: &str = "motdepasse-solide-42";

fn pct(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.99))
}

fn report(name: &str, v: Vec<Duration>) {
    let n = v.len();
    let (p50, p99) = pct(v);
    println!("| {name} | {n} | {p50:.2?} | {p99:.2?} |");
}

/// Records when the engine showed an alert and withdrew one, by request.
#[derive(Default)]
struct Timing {
    shown: Mutex<Vec<(String, Instant)>>,
    withdrawn: Mutex<Vec<(String, Instant)>>,
}

impl Timing {
    fn first(list: &Mutex<Vec<(String, Instant)>>, id: &str) -> Option<Instant> {
        let list = list.lock().unwrap();
        list.iter().find(|(r, _)| r == id).map(|(_, at)| *at)
    }
}

impl Notifier for Timing {
    fn show(&self, notice: &Notice, _clicks: ClickSender) -> Result<(), String> {
        let id = notice.request_id.clone().unwrap_or_default();
        self.shown.lock().unwrap().push((id, Instant::now()));
        Ok(())
    }

    fn withdraw(&self, request_id: &str) {
        let at = Instant::now();
        self.withdrawn
            .lock()
            .unwrap()
            .push((request_id.to_owned(), at));
    }
}

async fn live_desk(url: &str, email: &str, timing: Arc<Timing>) -> (Engine, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        data.path(),
        EngineConfig {
            notifier: Some(timing),
            use_keyring: false,
            keyring_service: "itv-desk-bench".into(),
            ..EngineConfig::default()
        },
    )
    .await
    .unwrap();
    engine.sign_in(url, email, PASSWORD).await.unwrap();
    while engine.connection() != ConnectionState::Live {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (engine, data)
}

async fn until(what: &str, list: &Mutex<Vec<(String, Instant)>>, id: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(at) = Timing::first(list, id) {
            return at;
        }
        assert!(Instant::now() < deadline, "no {what} for {id}");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

async fn run() {
    let srv_dir = tempfile::tempdir().unwrap();
    let mut cfg = itv_server::Config::for_dir(srv_dir.path().to_path_buf());
    cfg.rate_create_per_account = 0;
    cfg.rate_create_per_address = 0;
    let srv = TestServer::start_with(cfg).await;
    srv.create_user(itv_core::Role::Admin, "admin@itv.sn", "Awa Admin", PASSWORD);
    srv.create_user(
        itv_core::Role::Technician,
        "tech@itv.sn",
        "Moussa Tech",
        PASSWORD,
    );
    srv.create_user(
        itv_core::Role::Client,
        "client@itv.sn",
        "Hôtel Téranga",
        PASSWORD,
    );
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{}/api/auth/login", srv.url))
        .json(&json!({"email": "client@itv.sn", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = login["token"].as_str().unwrap().to_owned();

    let admin_timing = Arc::new(Timing::default());
    let tech_timing = Arc::new(Timing::default());
    let (admin, _a) = live_desk(&srv.url, "admin@itv.sn", admin_timing.clone()).await;
    let (_tech, _t) = live_desk(&srv.url, "tech@itv.sn", tech_timing.clone()).await;

    let mut after_send = Vec::new();
    let mut after_answer = Vec::new();
    for i in 0..TRIES {
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
        let id = r["ticket"]["_id"].as_str().unwrap().to_owned();
        until("admin alert", &admin_timing.shown, &id).await;
        until("technician alert", &tech_timing.shown, &id).await;
        let sent = Instant::now();
        admin.acknowledge(&id).await.unwrap();
        let answered = Instant::now();
        let withdrawn = until("withdrawal", &tech_timing.withdrawn, &id).await;
        after_send.push(withdrawn.saturating_duration_since(sent));
        after_answer.push(withdrawn.saturating_duration_since(answered));
    }
    println!("| measure | samples | p50 | p99 |\n|---|---|---|---|");
    report(
        "POST …/ack sent on the admin's desk → technician's desk withdraws its alert",
        after_send,
    );
    report(
        "POST …/ack answered → technician's desk withdraws (event already in flight)",
        after_answer,
    );
    srv.stop().await;
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes the harness
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}
