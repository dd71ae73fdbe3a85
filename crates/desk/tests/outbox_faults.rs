//! System tests of the outbox under faults (issue 11), against the real server and its
//! SQLite, through an HTTP proxy that answers chosen paths itself: an account switch keeps
//! the pending actions for their account, a 5xx on one request does not hold back another,
//! a refusal holds the actions queued after it on the same request, a `Retry-After` is
//! waited out, and a blocked WebSocket does not stop HTTPS.

mod support;

use std::time::{Duration, Instant};

use itv_desk::{Action, ConnectionState, Engine, OutboxState, PerformOutcome};
use serde_json::Value;
use support::http_faults::{Fault, HttpFaults};
use support::server::{PASSWORD, Stage, engine_config, id_of, wait_until};

fn status(code: u16, retry_after: Option<&str>) -> Fault {
    Fault::Status {
        status: code,
        retry_after: retry_after.map(str::to_owned),
    }
}

fn message(request: &str, body: &str) -> Action {
    Action::SendMessage {
        request_id: request.into(),
        body: body.into(),
    }
}

/// The bodies of a request's messages, as the server holds them.
async fn messages(stage: &Stage, request: &str) -> Vec<String> {
    let v = stage
        .http
        .get(&stage.admin, &format!("/api/requests/{request}/messages"))
        .await;
    v["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|x| x["body"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn engine(data: &tempfile::TempDir) -> Engine {
    Engine::open(data.path(), engine_config(None))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_actions_survive_an_account_switch_and_go_with_their_account() {
    support::init_logs();
    let stage = Stage::start().await;
    let p = id_of(
        &stage
            .http
            .project(&stage.client, "Projet Almadies")
            .await
            .unwrap(),
    );
    let faults = HttpFaults::start(&stage.srv.url).await;
    let path = format!("/api/requests/{p}/messages");
    faults.add(Some("POST"), &path, status(503, None), None);

    let data = tempfile::tempdir().unwrap();
    let engine = engine(&data).await;
    engine
        .sign_in(&faults.url, &stage.users.admin, PASSWORD)
        .await
        .unwrap();
    let out = engine.perform(message(&p, "Visite jeudi")).await.unwrap();
    assert!(matches!(out, PerformOutcome::Queued { .. }), "{out:?}");

    // Another account signs in on this desk: the cache is reset, the admin's action stays.
    engine
        .sign_in(&faults.url, &stage.users.tech, PASSWORD)
        .await
        .unwrap();
    let switched = Instant::now();
    faults.clear();
    let listed = engine.outbox().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].state, OutboxState::Abandoned);
    let reason = listed[0].reason.clone().unwrap_or_default();
    assert!(reason.starts_with("En attente de Awa Admin"), "{reason}");
    // Never sent with the technician's session, though the path is open again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after: Vec<_> = faults
        .seen(&path)
        .into_iter()
        .filter(|s| s.at > switched)
        .collect();
    assert!(after.is_empty(), "sent as the technician: {after:?}");
    assert!(messages(&stage, &p).await.is_empty());

    // The admin is back: the action goes, as the admin, once.
    engine
        .sign_in(&faults.url, &stage.users.admin, PASSWORD)
        .await
        .unwrap();
    wait_until(
        "the admin's message on the server",
        Duration::from_secs(10),
        || async { messages(&stage, &p).await == vec!["Visite jeudi".to_owned()] },
    )
    .await;
    let v = stage.http.get(&stage.admin, &path).await;
    assert_eq!(v["messages"][0]["authorName"], "Awa Admin", "{v}");
    wait_until("outbox empty", Duration::from_secs(2), || async {
        engine.outbox().await.unwrap().is_empty()
    })
    .await;
    stage.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_retried_with_backoff_without_holding_back_another_request() {
    support::init_logs();
    let stage = Stage::start().await;
    let p1 = id_of(
        &stage
            .http
            .project(&stage.client, "Projet Plateau")
            .await
            .unwrap(),
    );
    let p2 = id_of(
        &stage
            .http
            .project(&stage.client, "Projet Ouakam")
            .await
            .unwrap(),
    );
    let faults = HttpFaults::start(&stage.srv.url).await;
    let path1 = format!("/api/requests/{p1}/messages");
    faults.add(Some("POST"), &path1, status(503, None), Some(4));

    let data = tempfile::tempdir().unwrap();
    let engine = engine(&data).await;
    engine
        .sign_in(&faults.url, &stage.users.admin, PASSWORD)
        .await
        .unwrap();
    for (request, body) in [(&p1, "Premier"), (&p1, "Second"), (&p2, "Ailleurs")] {
        let out = engine.perform(message(request, body)).await.unwrap();
        assert!(!matches!(out, PerformOutcome::Refused { .. }), "{out:?}");
    }
    wait_until(
        "p1's messages, in order",
        Duration::from_secs(15),
        || async { messages(&stage, &p1).await == vec!["Premier".to_owned(), "Second".to_owned()] },
    )
    .await;
    let tries = faults.seen(&path1);
    assert_eq!(tries.iter().filter(|s| s.faulted).count(), 4, "{tries:?}");
    // p2's action went while p1's first was still answered 503.
    let p2_sent = faults.seen(&format!("/api/requests/{p2}/messages"));
    assert_eq!(p2_sent.len(), 1, "{p2_sent:?}");
    let p1_through = tries.iter().find(|s| !s.faulted).unwrap();
    assert!(p2_sent[0].at < p1_through.at, "p2 waited for p1");
    assert_eq!(messages(&stage, &p2).await, vec!["Ailleurs".to_owned()]);
    let gaps: Vec<u128> = tries
        .windows(2)
        .take(4)
        .map(|w| (w[1].at - w[0].at).as_millis())
        .collect();
    // Full jitter under a cap of 1 s (the tests' backoff): each wait is at most the cap.
    println!("p1 waits between attempts (ms): {gaps:?}");
    assert!(gaps.iter().all(|g| *g <= 1_500), "{gaps:?}");
    let outbox = engine.outbox().await.unwrap();
    assert!(outbox.is_empty(), "{outbox:?}");
    stage.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_refusal_the_later_action_on_the_same_request_is_held() {
    support::init_logs();
    let stage = Stage::start().await;
    let p = id_of(
        &stage
            .http
            .project(&stage.client, "Projet Yoff")
            .await
            .unwrap(),
    );
    let other = id_of(
        &stage
            .http
            .project(&stage.client, "Projet Ngor")
            .await
            .unwrap(),
    );
    let faults = HttpFaults::start(&stage.srv.url).await;
    // The desk is cut from the server's request paths: its actions wait.
    faults.add(Some("POST"), "/api/requests/", status(503, None), None);

    let data = tempfile::tempdir().unwrap();
    let engine = engine(&data).await;
    engine
        .sign_in(&faults.url, &stage.users.admin, PASSWORD)
        .await
        .unwrap();
    let validate = engine
        .perform(Action::ValidateProject {
            request_id: p.clone(),
        })
        .await
        .unwrap();
    let PerformOutcome::Queued {
        outbox_id: refused_id,
    } = validate
    else {
        panic!("{validate:?}");
    };
    let PerformOutcome::Queued { outbox_id: held_id } = engine
        .perform(message(&p, "Le chantier commence lundi"))
        .await
        .unwrap()
    else {
        panic!("not queued");
    };
    engine
        .perform(message(&other, "Sans rapport"))
        .await
        .unwrap();
    // Meanwhile another admin validated it: the desk's validation will be refused (409).
    stage
        .http
        .post(
            &stage.admin,
            &format!("/api/requests/{p}/status"),
            serde_json::json!({"status": "active"}),
        )
        .await
        .unwrap();
    faults.clear();

    wait_until(
        "the refusal and the hold",
        Duration::from_secs(10),
        || async {
            let o = engine.outbox().await.unwrap();
            o.iter()
                .any(|e| e.id == refused_id && e.state == OutboxState::Refused)
                && o.iter()
                    .any(|e| e.id == held_id && e.state == OutboxState::Held)
        },
    )
    .await;
    wait_until("the unrelated message", Duration::from_secs(5), || async {
        messages(&stage, &other).await.len() == 1
    })
    .await;
    let o = engine.outbox().await.unwrap();
    let refused = o.iter().find(|e| e.id == refused_id).unwrap();
    assert_eq!(refused.refusal.as_ref().map(|r| r.status), Some(409));
    let held = o.iter().find(|e| e.id == held_id).unwrap();
    assert!(
        held.reason.as_deref().unwrap_or("").starts_with("Retenue"),
        "{held:?}"
    );
    // Never sent: the server's history and chat of the request do not have it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let detail: Value = stage
        .http
        .get(&stage.admin, &format!("/api/requests/{p}"))
        .await;
    assert_eq!(
        detail["messages"].as_array().map(Vec::len),
        Some(0),
        "{detail}"
    );
    assert!(messages(&stage, &p).await.is_empty());
    assert!(
        faults
            .seen(&format!("/api/requests/{p}/messages"))
            .iter()
            .all(|s| s.faulted)
    );

    // The user retries it: now it goes; the refused one is discarded.
    assert!(engine.retry_outbox_entry(held_id).await.unwrap());
    wait_until("the retried message", Duration::from_secs(5), || async {
        messages(&stage, &p).await.len() == 1
    })
    .await;
    assert!(engine.discard_outbox_entry(refused_id).await.unwrap());
    assert!(engine.outbox().await.unwrap().is_empty());
    stage.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_is_waited_out_in_seconds_or_as_a_date() {
    support::init_logs();
    let stage = Stage::start().await;
    let p1 = id_of(
        &stage
            .http
            .project(&stage.client, "Projet Mermoz")
            .await
            .unwrap(),
    );
    let p2 = id_of(
        &stage
            .http
            .project(&stage.client, "Projet Fann")
            .await
            .unwrap(),
    );
    let faults = HttpFaults::start(&stage.srv.url).await;
    let (path1, path2) = (
        format!("/api/requests/{p1}/messages"),
        format!("/api/requests/{p2}/messages"),
    );
    faults.add(Some("POST"), &path1, status(429, Some("2")), Some(1));
    let (now, base) = (chrono::Utc::now(), Instant::now());
    let at = now + chrono::Duration::seconds(3);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    // The date has whole seconds: the retry is due at the second it names.
    let named = chrono::Timelike::with_nanosecond(&at, 0).unwrap();
    let due = base + (named - now).to_std().unwrap();
    faults.add(Some("POST"), &path2, status(503, Some(&date)), Some(1));

    let data = tempfile::tempdir().unwrap();
    let engine = engine(&data).await;
    engine
        .sign_in(&faults.url, &stage.users.admin, PASSWORD)
        .await
        .unwrap();
    engine
        .perform(message(&p1, "Après la pause"))
        .await
        .unwrap();
    engine
        .perform(message(&p2, "À la date dite"))
        .await
        .unwrap();
    wait_until("both messages", Duration::from_secs(10), || async {
        messages(&stage, &p1).await.len() == 1 && messages(&stage, &p2).await.len() == 1
    })
    .await;
    let gap = |path: &str| {
        let s = faults.seen(path);
        assert_eq!(s.len(), 2, "{s:?}");
        s[1].at - s[0].at
    };
    let (g1, g2) = (gap(&path1), gap(&path2));
    println!(
        "429 Retry-After: 2 → next attempt after {g1:?}; 503 Retry-After: date (+3 s, whole seconds) → {g2:?}"
    );
    assert!(g1 >= Duration::from_secs(2), "{g1:?}");
    assert!(g1 < Duration::from_secs(4), "{g1:?}");
    // Measured from the date, not from the first attempt: a slow sign-in (a loaded machine)
    // brings the first attempt nearer to the date.
    let second = faults.seen(&path2)[1].at;
    assert!(
        second + Duration::from_millis(50) >= due,
        "{:?} early",
        due - second
    );
    stage.srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_websocket_does_not_stop_https() {
    support::init_logs();
    let stage = Stage::start().await;
    let p = id_of(
        &stage
            .http
            .project(&stage.client, "Projet Point E")
            .await
            .unwrap(),
    );
    let faults = HttpFaults::start(&stage.srv.url).await;
    // A firewall that lets HTTPS through but swallows the feed.
    faults.add(None, "/api/feed", Fault::BlackHole, None);

    let data = tempfile::tempdir().unwrap();
    let engine = engine(&data).await;
    engine
        .sign_in(&faults.url, &stage.users.admin, PASSWORD)
        .await
        .unwrap();
    let out = engine
        .perform(message(&p, "Malgré le pare-feu"))
        .await
        .unwrap();
    // Queued, or already sent by the outbox's task when asked again.
    assert!(
        matches!(
            out,
            PerformOutcome::Queued { .. } | PerformOutcome::Applied { .. }
        ),
        "{out:?}"
    );
    wait_until(
        "the message on the server",
        Duration::from_secs(5),
        || async { messages(&stage, &p).await == vec!["Malgré le pare-feu".to_owned()] },
    )
    .await;
    assert_ne!(
        engine.connection(),
        ConnectionState::Live,
        "the feed stayed blocked"
    );
    assert!(
        !faults.seen("/api/feed").is_empty(),
        "the engine did try the feed"
    );
    wait_until("outbox empty", Duration::from_secs(2), || async {
        engine.outbox().await.unwrap().is_empty()
    })
    .await;
    stage.srv.stop().await;
}
