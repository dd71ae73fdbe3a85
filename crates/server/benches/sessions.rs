//! Bench: what server-side sessions cost and how fast they cut someone off.
//!
//! 1. Time from an admin's `PATCH /api/staff/users/{id} {active:false}` (sent) to the
//!    technician's open feed socket receiving `session_ended` and its close, 100 tries.
//! 2. The session check per request: HTTP requests/s of `GET /api/auth/me` with the
//!    check answered from its ≤ 1 s cache (the default) and with the database read on
//!    every request, against `GET /api/health` (no auth at all); and the check alone,
//!    in process: signature only, cached, database.
//!
//! Run: `cargo bench -p itv-server --bench sessions` (`-- --quick` for a short run).
//! Server and clients share this process and the machine's two cores.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use itv_core::Role;

mod common;
use common::login;
use itv_server::Config;
use itv_server::testing::TestServer;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PASSWORD: &str = "un-long-secret";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn deactivation_to_close(tries: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_dir(dir.path().to_path_buf());
    config.rate_login_per_account = 0;
    config.rate_login_per_address = 0;
    let server = TestServer::start_with(config).await;
    server.create_user(Role::Admin, "admin@bench.sn", "Admin", PASSWORD);
    let tech = server.create_user(Role::Technician, "tech@bench.sn", "Tech", PASSWORD);
    let http = reqwest::Client::new();
    let admin = login(&http, &server.url, "admin@bench.sn", PASSWORD).await;
    let url = format!("{}/api/staff/users/{}", server.url, tech.id);
    let mut times = Vec::with_capacity(tries);
    for _ in 0..tries {
        let token = login(&http, &server.url, "tech@bench.sn", PASSWORD).await;
        let mut req = format!("{}/api/feed", server.ws_url())
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        // Wait for `ready`.
        while let Some(Ok(m)) = ws.next().await {
            if matches!(m, Message::Text(ref t) if t.contains("\"ready\"")) {
                break;
            }
        }
        let t0 = Instant::now();
        let patch = http
            .patch(&url)
            .bearer_auth(&admin)
            .json(&json!({"active": false}))
            .send();
        let closed = async {
            let mut told = false;
            while let Some(Ok(m)) = ws.next().await {
                match m {
                    Message::Text(t) if t.contains("session_ended") => told = true,
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            assert!(told, "session_ended frame before the close");
            t0.elapsed()
        };
        let (resp, elapsed) = tokio::join!(patch, closed);
        assert!(resp.unwrap().status().is_success());
        times.push(elapsed);
        http.patch(&url)
            .bearer_auth(&admin)
            .json(&json!({"active": true}))
            .send()
            .await
            .unwrap();
    }
    times.sort();
    println!(
        "PATCH active=false sent → socket got session_ended and closed ({tries} tries): p50 {}, p99 {}, max {}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap())
    );
    server.stop().await;
}

/// Requests per second of `path` from `clients` concurrent keep-alive clients.
async fn throughput(
    server: &TestServer,
    path: &str,
    token: &str,
    clients: usize,
    span: Duration,
) -> f64 {
    let url = format!("{}{}", server.url, path);
    let end = Instant::now() + span;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, token) = (url.clone(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut n = 0u64;
            while Instant::now() < end {
                let resp = http.get(&url).bearer_auth(&token).send().await.unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                resp.bytes().await.unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / span.as_secs_f64()
}

async fn check_cost(span: Duration) {
    for (label, cache_ms) in [
        ("cached (≤ 1 s, default)", 1000),
        ("database every request", 0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_dir(dir.path().to_path_buf());
        config.session_cache_ms = cache_ms;
        let server = TestServer::start_with(config).await;
        let admin = server.create_user(Role::Admin, "admin@bench.sn", "Admin", PASSWORD);
        let token = server.token_for(&admin);
        // Warm up, then measure.
        throughput(
            &server,
            "/api/auth/me",
            &token,
            8,
            Duration::from_millis(300),
        )
        .await;
        let me = throughput(&server, "/api/auth/me", &token, 8, span).await;
        let health = throughput(&server, "/api/health", &token, 8, span).await;
        println!(
            "GET /api/auth/me, session check {label}: {me:.0} req/s; GET /api/health (no auth) {health:.0} req/s; ratio {:.2}",
            me / health
        );

        // The check alone, in process.
        let state = server.state();
        let claims = state.keys.verify(&token).unwrap();
        let n = 20_000;
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(state.keys.verify(&token).unwrap());
        }
        let verify = t0.elapsed() / n;
        let t0 = Instant::now();
        for _ in 0..n {
            std::hint::black_box(
                state
                    .sessions
                    .check(&claims.session_id, chrono::Utc::now())
                    .unwrap(),
            );
        }
        let check = t0.elapsed() / n;
        println!(
            "  in process, per call: signature only {:.1} µs; signature + session check {label} {:.1} µs",
            verify.as_secs_f64() * 1e6,
            (verify + check).as_secs_f64() * 1e6
        );
        server.stop().await;
    }
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    deactivation_to_close(if quick { 10 } else { 100 }).await;
    check_cost(Duration::from_secs(if quick { 1 } else { 5 })).await;
}
