//! Fault tests with real parts: the `itv-server` binary killed (SIGKILL) and
//! restarted, connections cut and frozen by a proxy, and the engine's cache
//! writer killed mid-transaction. Needs `cargo build -p itv-server` first.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use itv_desk::cache::Cache;
use itv_desk::{ConnectionState, Engine, FeedEvent, Notice, Priority, Request, RequestKind};
use itv_server::testing::TestServer;
use support::proxy::Proxy;
use support::server::{
    CountingNotifier, Http, PASSWORD, ServerProcess, config, create_users, engine_config,
    free_port, wait_live, wait_until,
};

async fn converged(engine: &Engine, http: &Http, admin: &str) -> bool {
    let server = http.all_versions(admin).await;
    let mut cached = engine.cached_versions().await.unwrap();
    cached.sort();
    server == cached
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_and_connections_cut_while_creating_lose_nothing() {
    support::init_logs();
    let srv_dir = tempfile::tempdir().unwrap();
    let users = {
        let s = TestServer::start_with(config(srv_dir.path())).await;
        let u = create_users(&s);
        s.stop().await;
        u
    };
    let port = free_port();
    let first = ServerProcess::spawn(port, srv_dir.path());
    let direct = first.url.clone();
    let proxy = Proxy::start(&direct).await;
    let notifier = Arc::new(CountingNotifier::default());
    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(data.path(), engine_config(Some(notifier.clone())))
        .await
        .unwrap();
    engine
        .sign_in(&proxy.url, &users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;

    let http = Http::new(&direct);
    let client = http.login(&users.client).await;
    let admin = http.login(&users.admin).await;

    // Clients keep creating requests (retrying while the server is down).
    let creator = {
        let http = http.clone();
        let client = client.clone();
        tokio::spawn(async move {
            let mut urgent_titles = Vec::new();
            for i in 0..40 {
                let urgent = i % 4 == 0;
                let title = format!("Panne {i}");
                loop {
                    let r = match i % 3 {
                        0 | 1 => http.intervention(&client, urgent, &title).await,
                        _ => http.project(&client, &title).await,
                    };
                    if r.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                if urgent && i % 3 != 2 {
                    urgent_titles.push(title);
                }
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            urgent_titles
        })
    };

    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let _restarted = ServerProcess::spawn(port, srv_dir.path());
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.cut();
    let urgent_titles = creator.await.unwrap();

    wait_until("cache == server", Duration::from_secs(30), || {
        converged(&engine, &http, &admin)
    })
    .await;
    wait_live(&engine).await;
    let head = http.get(&admin, "/api/feed/head").await["seq"]
        .as_i64()
        .unwrap();
    assert_eq!(
        engine.feed_seq().await.unwrap(),
        Some(head),
        "no event lost"
    );

    // Every urgent intervention was decided exactly once; nothing shown twice.
    let log = engine.notification_log().await.unwrap();
    let urgent_keys = log.iter().filter(|(k, _)| k.starts_with("urgent:")).count();
    let urgent_on_server = engine
        .inbox(itv_desk::InboxQuery {
            priority: Some(Priority::Urgent),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .total as usize;
    assert!(urgent_on_server >= urgent_titles.len());
    assert_eq!(
        urgent_keys, urgent_on_server,
        "one urgent decision per urgent request"
    );
    assert!(log.iter().all(|(_, state)| state == "done"), "{log:?}");
    let shown = notifier.keys();
    let unique: HashSet<&String> = shown.iter().collect();
    assert_eq!(unique.len(), shown.len(), "a notice shown twice: {shown:?}");

    // Engine restart repeats nothing.
    let before = shown.len();
    drop(engine);
    let engine = Engine::open(data.path(), engine_config(Some(notifier.clone())))
        .await
        .unwrap();
    engine
        .sign_in(&proxy.url, &users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        notifier.keys().len(),
        before,
        "restart repeats no notification"
    );
    assert!(converged(&engine, &http, &admin).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connection_is_dropped_and_resumed() {
    support::init_logs();
    let srv_dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(config(srv_dir.path())).await;
    let users = create_users(&srv);
    let proxy = Proxy::start(&srv.url).await;
    let data = tempfile::tempdir().unwrap();
    let mut cfg = engine_config(Some(Arc::new(CountingNotifier::default())));
    cfg.liveness = itv_desk::sync::Liveness {
        dead_after: Duration::from_millis(1500),
        ping_every: Duration::from_millis(400),
    };
    let engine = Engine::open(data.path(), cfg).await.unwrap();
    engine
        .sign_in(&proxy.url, &users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;

    // The network goes silent without closing anything. The desk says offline once the
    // pings stop; with full jitter its first retry may follow within milliseconds, so the
    // event stream is read rather than the state polled.
    let mut events = engine.subscribe();
    proxy.freeze(true);
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(itv_desk::EngineEvent::Connection {
                state: ConnectionState::Offline { .. },
            }) = events.recv().await
            {
                return;
            }
        }
    })
    .await
    .expect("dead connection detected within 5 s");
    let http = Http::new(&srv.url);
    let client = http.login(&users.client).await;
    let t = http
        .intervention(&client, true, "Pendant la coupure")
        .await
        .unwrap();
    proxy.freeze(false);
    proxy.cut();
    engine.reconnect_now();
    wait_live(&engine).await;
    let id = t["_id"].as_str().unwrap().to_owned();
    wait_until("missed event replayed", Duration::from_secs(10), || async {
        engine
            .cached_versions()
            .await
            .unwrap()
            .iter()
            .any(|(i, _)| *i == id)
    })
    .await;
    srv.stop().await;
}

fn synthetic(seq: i64) -> FeedEvent {
    let request = Request {
        id: format!("r{seq:08}"),
        kind: RequestKind::Quote,
        ticket_number: Some(format!("DEV-202511-{seq:04}")),
        title: format!("Devis {seq}"),
        description: "x".repeat(2000),
        site: "Dakar".into(),
        status: "open".into(),
        priority: Priority::Medium,
        client_id: "c".into(),
        client_name: "Client".into(),
        assignee_id: None,
        assignee_name: None,
        created_at: "2025-11-19T10:00:00Z".into(),
        updated_at: "2025-11-19T10:00:00Z".into(),
        version: 1,
        tracking: Default::default(),
        extra: Default::default(),
    };
    FeedEvent {
        seq,
        event_type: "request.created".into(),
        kind: RequestKind::Quote,
        id: request.id.clone(),
        ticket_number: request.ticket_number.clone(),
        at: request.created_at.clone(),
        request,
        chat_message: None,
        notification: None,
        escalation_level: None,
        escalation_reason: None,
        sla_timer: None,
    }
}

const WRITER_ENV: &str = "ITV_DESK_KILL_WRITER_DIR";

/// Child side: applies batches of events forever (until killed).
fn writer_loop(dir: &std::path::Path) {
    let mut cache = Cache::open(dir).unwrap();
    let mut seq = cache.feed_seq().unwrap().unwrap_or(0);
    loop {
        let batch: Vec<FeedEvent> = (seq + 1..=seq + 200).map(synthetic).collect();
        let notice = |e: &FeedEvent| {
            vec![Notice {
                key: format!("created:{}", e.request.id),
                request_id: Some(e.request.id.clone()),
                critical: false,
                summary: "s".into(),
                body: "b".into(),
                acknowledge: false,
            }]
        };
        cache
            .apply_events(&batch, notice, |_| true, None, 0)
            .unwrap();
        seq += 200;
    }
}

#[test]
fn cache_write_killed_mid_transaction_stays_consistent() {
    if let Some(dir) = std::env::var_os(WRITER_ENV) {
        writer_loop(std::path::Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut last = 0;
    for round in 0..3 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "cache_write_killed_mid_transaction_stays_consistent",
                "--exact",
                "--nocapture",
            ])
            .env(WRITER_ENV, dir.path())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700 + 300 * round));
        child.kill().unwrap(); // SIGKILL, mid-write most likely
        child.wait().unwrap();

        let cache = Cache::open(dir.path()).unwrap();
        let ok: String = {
            let c = rusqlite::Connection::open(dir.path().join("cache.sqlite3")).unwrap();
            c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(ok, "ok");
        let seq = cache.feed_seq().unwrap().unwrap_or(0);
        assert!(
            seq > last,
            "round {round}: the writer made progress ({seq})"
        );
        assert_eq!(seq % 200, 0, "whole batches only");
        assert_eq!(
            cache.request_count().unwrap() as i64,
            seq,
            "requests == applied seq"
        );
        assert_eq!(
            cache.notice_keys().unwrap().len() as i64,
            seq,
            "notices == applied seq"
        );
        assert_eq!(
            cache.search("Devis", 5).unwrap().len(),
            5,
            "FTS index intact"
        );
        last = seq;
    }
}
