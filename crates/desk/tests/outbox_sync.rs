//! System tests of the outbox (actions taken offline, sent once when the
//! server is back, conflicts kept with the server's reason) and of the sync
//! paths (first full sync with progress, resync when the log was pruned).

mod support;

use std::sync::Arc;
use std::time::Duration;

use itv_desk::api::Api;
use itv_desk::{Action, ConnectionState, Engine, EngineEvent, OutboxState, PerformOutcome};
use itv_server::testing::TestServer;
use support::proxy::Proxy;
use support::server::{
    CountingNotifier, Http, PASSWORD, Stage, config, create_users, engine_config, id_of, wait_live,
    wait_until,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_actions_apply_once_and_conflicts_surface() {
    support::init_logs();
    let srv_dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(config(srv_dir.path())).await;
    let users = create_users(&srv);
    let proxy = Proxy::start(&srv.url).await;
    let http = Http::new(&srv.url);
    let client = http.login(&users.client).await;
    let admin = http.login(&users.admin).await;
    let p1 = http.project(&client, "Projet A").await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p2 = http.project(&client, "Projet B").await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let int = http.intervention(&client, true, "Caméra HS").await.unwrap()["_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        data.path(),
        engine_config(Some(Arc::new(CountingNotifier::default()))),
    )
    .await
    .unwrap();
    engine
        .sign_in(&proxy.url, &users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;

    // Offline: the actions wait in the outbox, in order.
    proxy.down();
    wait_until("offline", Duration::from_secs(5), || async {
        matches!(engine.connection(), ConnectionState::Offline { .. })
    })
    .await;
    let actions = vec![
        Action::ValidateProject {
            request_id: p1.clone(),
        },
        // Conflicts with the previous one once applied: pending → rejected is no longer possible.
        Action::RejectProject {
            request_id: p1.clone(),
            reason: "Hors zone".into(),
        },
        Action::Assign {
            request_id: int.clone(),
            technician_id: users.tech_id.clone(),
        },
        Action::SendMessage {
            request_id: p2.clone(),
            body: "Nous passons mardi".into(),
        },
    ];
    for a in actions {
        let out = engine.perform(a).await.unwrap();
        assert!(matches!(out, PerformOutcome::Queued { .. }), "{out:?}");
    }
    assert_eq!(engine.outbox().await.unwrap().len(), 4);
    let detail = http.get(&admin, &format!("/api/requests/{p1}")).await;
    assert_eq!(
        detail["request"]["status"], "pending",
        "nothing sent while offline"
    );

    // Back online: sent in order, once.
    proxy.up();
    engine.reconnect_now();
    wait_live(&engine).await;
    wait_until("outbox drained", Duration::from_secs(10), || async {
        engine
            .outbox()
            .await
            .unwrap()
            .iter()
            .all(|e| e.state == OutboxState::Refused)
    })
    .await;
    let p1d = http.get(&admin, &format!("/api/requests/{p1}")).await;
    assert_eq!(p1d["request"]["status"], "active");
    let intd = http.get(&admin, &format!("/api/requests/{int}")).await;
    assert_eq!(intd["request"]["status"], "assigned");
    assert_eq!(intd["request"]["assigneeId"], users.tech_id.as_str());
    let msgs = http
        .get(&admin, &format!("/api/requests/{p2}/messages"))
        .await;
    assert_eq!(msgs["messages"].as_array().unwrap().len(), 1);

    // The conflicting one stays, with the server's reason.
    let outbox = engine.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let refusal = outbox[0].refusal.clone().expect("reason kept");
    assert_eq!(refusal.status, 409);
    assert_eq!(refusal.current_status.as_deref(), Some("active"));
    assert!(!refusal.message.is_empty());

    // Exactly once: the same idempotency key again changes nothing.
    let api = Api::new(&srv.url, Some(admin.clone())).unwrap();
    let again = Action::SendMessage {
        request_id: p2.clone(),
        body: "Nous passons mardi".into(),
    };
    api.perform(&again, "same-key").await.unwrap();
    api.perform(&again, "same-key").await.unwrap();
    let msgs = http
        .get(&admin, &format!("/api/requests/{p2}/messages"))
        .await;
    assert_eq!(msgs["messages"].as_array().unwrap().len(), 2);

    // Online, a refused action is reported at once.
    let out = engine
        .perform(Action::ValidateProject {
            request_id: p1.clone(),
        })
        .await
        .unwrap();
    assert!(matches!(out, PerformOutcome::Refused { .. }), "{out:?}");
    // The cache reflects the applied actions.
    let d = engine.request_detail(&int).await.unwrap();
    assert_eq!(d.request.status, "assigned");
    srv.stop().await;
}

/// An action the server answers without a verdict (503: its database was locked)
/// while the feed stays live is retried by the outbox itself, not left for a timer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_without_verdict_is_retried_while_live() {
    support::init_logs();
    let stage = Stage::start().await;
    let (users, http, admin) = (&stage.users, &stage.http, &stage.admin);
    let p = id_of(&http.project(&stage.client, "Projet C").await.unwrap());

    let data = tempfile::tempdir().unwrap();
    let mut cfg = engine_config(None);
    // No reminder pass may stand in for the outbox's own retries.
    cfg.reminder_tick = Duration::from_secs(3600);
    let engine = Engine::open(data.path(), cfg).await.unwrap();
    engine
        .sign_in(&stage.srv.url, &users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;

    let mut other = rusqlite::Connection::open(stage.database_path()).unwrap();
    let lock = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let out = engine
        .perform(Action::SendMessage {
            request_id: p.clone(),
            body: "Envoyé malgré le verrou".into(),
        })
        .await
        .unwrap();
    assert!(matches!(out, PerformOutcome::Queued { .. }), "{out:?}");
    let queued = engine.outbox().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert!(
        queued[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("503"),
        "{queued:?}"
    );
    lock.rollback().unwrap();

    wait_until(
        "the message on the server",
        Duration::from_secs(5),
        || async {
            let msgs = http
                .get(admin, &format!("/api/requests/{p}/messages"))
                .await;
            msgs["messages"].as_array().is_some_and(|m| m.len() == 1)
        },
    )
    .await;
    wait_until("outbox empty", Duration::from_secs(2), || async {
        engine.outbox().await.unwrap().is_empty()
    })
    .await;
    stage.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_reports_progress_and_resync_follows_a_pruned_log() {
    support::init_logs();
    let srv_dir = tempfile::tempdir().unwrap();
    let cfg = config(srv_dir.path());
    let srv = TestServer::start_with(cfg).await;
    let users = create_users(&srv);
    let http = Http::new(&srv.url);
    let client = http.login(&users.client).await;
    let admin = http.login(&users.admin).await;
    for i in 0..230 {
        http.quote(&client, &format!("Devis {i}")).await.unwrap();
    }

    let data = tempfile::tempdir().unwrap();
    let notifier = Arc::new(CountingNotifier::default());
    let engine = Engine::open(data.path(), engine_config(Some(notifier.clone())))
        .await
        .unwrap();
    let mut events = engine.subscribe();
    engine
        .sign_in(&srv.url, &users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;
    let mut progress = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let EngineEvent::SyncProgress { done, .. } = e {
            progress.push(done);
        }
    }
    assert_eq!(progress.last(), Some(&230), "{progress:?}");
    assert!(progress.len() >= 3, "paginated: {progress:?}");
    assert_eq!(engine.cached_versions().await.unwrap().len(), 230);
    let technicians = engine.technicians().await.unwrap();
    assert_eq!(technicians.len(), 1);
    assert_eq!(technicians[0].id, users.tech_id);
    assert!(notifier.keys().is_empty(), "a first sync notifies nothing");

    // Offline while more than the log keeps happens: resync on return.
    drop(engine);
    let mut created = Vec::new();
    for i in 0..12 {
        let t = http
            .quote(&client, &format!("Pendant l'absence {i}"))
            .await
            .unwrap();
        created.push(t["_id"].as_str().unwrap().to_owned());
    }
    let urgent = id_of(
        &http
            .intervention(&client, true, "Caméras hors service pendant l'absence")
            .await
            .unwrap(),
    );
    // The server's pruner (it runs once a minute) drops all but the last 5 events.
    let pruned = srv.state().store.prune_events(5).unwrap();
    assert!(pruned > 0);
    let engine = Engine::open(data.path(), engine_config(Some(notifier.clone())))
        .await
        .unwrap();
    let mut events = engine.subscribe();
    engine
        .sign_in(&srv.url, &users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;
    let mut resynced = false;
    while let Ok(e) = events.try_recv() {
        if let EngineEvent::Connection {
            state: ConnectionState::Syncing,
        } = e
        {
            resynced = true;
        }
    }
    assert!(resynced, "resync_required led to a full sync");
    let server = http.all_versions(&admin).await;
    wait_until("resynced", Duration::from_secs(10), || async {
        let mut c = engine.cached_versions().await.unwrap();
        c.sort();
        c == server
    })
    .await;
    let unread = engine
        .inbox(itv_desk::InboxQuery {
            unread_only: true,
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(unread.total, 13, "what arrived while away is unread");
    // The urgent intervention missed while away alerts once; the quotes wait in the inbox.
    wait_until(
        "the missed urgent alert",
        Duration::from_secs(5),
        || async { notifier.keys().contains(&format!("urgent:{urgent}")) },
    )
    .await;
    assert_eq!(notifier.keys(), vec![format!("urgent:{urgent}")]);
    srv.stop().await;
}
