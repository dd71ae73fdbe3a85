//! Two server instances on one PostgreSQL database, as behind a load balancer: what a
//! client does on one is seen, in order and once, by subscribers of the other; ticket
//! numbers, rate limits and idempotency keys hold across both; and a kill -9 of one
//! under load loses no answered write and leaves no gap in the other's feed.
//!
//! They need a cluster (`ITV_TEST_DATABASE_URL`, which scripts/test-postgres.sh gives);
//! without one each says so loudly and does nothing, and with `ITV_REQUIRE_POSTGRES=1`
//! (CI) it fails instead.

use std::collections::HashSet;

use itv_server::testing::{TestServer, fresh_database, off_runtime};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;
use common::{Api, cast, cluster_or_skip, connect, id_of, next_json};

/// Instances A and B on one fresh database, each with its own data dir.
struct Pair {
    a: TestServer,
    b: TestServer,
    url: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn two_instances(cluster: String, tune: impl Fn(&mut itv_server::Config)) -> Pair {
    let url = tokio::task::spawn_blocking(move || fresh_database(&cluster))
        .await
        .unwrap();
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = |dir: &tempfile::TempDir| {
        let mut c = itv_server::Config::for_dir(dir.path().to_path_buf());
        c.database_url = Some(url.clone());
        tune(&mut c);
        c
    };
    let a = TestServer::start_with(config(&dirs.0)).await;
    let b = TestServer::start_with(config(&dirs.1)).await;
    Pair {
        a,
        b,
        url,
        _dirs: dirs,
    }
}

/// The same signed-in user, talking to `server`.
fn on(server: &TestServer, api: &Api) -> Api {
    Api {
        http: api.http.clone(),
        base: server.url.clone(),
        token: api.token.clone(),
    }
}

fn urgent(title: &str) -> Value {
    json!({"type": "urgent", "title": title, "description": "Plus d'image", "site": "Plateau"})
}

/// Feed frames until `n` of them carry a request, skipping control frames.
async fn events(ws: &mut common::Ws, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let v = next_json(ws).await;
        if v.get("request").is_some() {
            out.push(v);
        }
    }
    out
}

/// Seqs one after the other, and no request twice.
fn assert_in_order_once(events: &[Value]) {
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    for w in seqs.windows(2) {
        assert_eq!(w[1], w[0] + 1, "a gap or a repeat in {seqs:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_b_gets_what_clients_post_on_a_in_order_and_once() {
    let Some(cluster) = cluster_or_skip("a_subscriber_on_b_gets_what_clients_post_on_a") else {
        return;
    };
    let pair = two_instances(cluster, |c| c.rate_create_per_account = 0).await;
    let cast = cast(&pair.a);
    let mut on_b = connect(&pair.b, &cast.admin, None).await;
    let mut on_a = connect(&pair.a, &cast.admin, None).await;
    assert_eq!(next_json(&mut on_b).await["type"], "ready");
    assert_eq!(next_json(&mut on_a).await["type"], "ready");

    // Three clients at once, ten creations each, all on A.
    let client = Api::login(&pair.a, "client@test.sn").await;
    let mut writers = Vec::new();
    for w in 0..3 {
        let client = on(&pair.a, &client);
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..10 {
                let (status, body) = client
                    .post(
                        "/api/client/requests/intervention",
                        urgent(&format!("A {w}-{i}")),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                ids.push(id_of(&body));
            }
            ids
        }));
    }
    let mut posted = HashSet::new();
    for w in writers {
        posted.extend(w.await.unwrap());
    }

    let seen_on_b = events(&mut on_b, 30).await;
    assert_in_order_once(&seen_on_b);
    let ids: HashSet<String> = seen_on_b
        .iter()
        .map(|e| e["request"]["_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids, posted,
        "B's subscriber got exactly what was posted on A"
    );
    // A's own subscriber got the same sequence.
    let seen_on_a = events(&mut on_a, 30).await;
    assert_eq!(seen_on_a, seen_on_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creations_split_over_a_and_b_get_unique_sequential_ticket_numbers() {
    let Some(cluster) = cluster_or_skip("creations_split_over_a_and_b") else {
        return;
    };
    let pair = two_instances(cluster, |c| c.rate_create_per_account = 0).await;
    let _cast = cast(&pair.a);
    let client = Api::login(&pair.a, "client@test.sn").await;
    let calls = (0..40).map(|i| {
        let client = on(if i % 2 == 0 { &pair.a } else { &pair.b }, &client);
        tokio::spawn(async move {
            let (status, body) = client
                .post(
                    "/api/client/requests/intervention",
                    urgent(&format!("N° {i}")),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["ticket"]["ticketNumber"].as_str().unwrap().to_string()
        })
    });
    let mut numbers = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        let ticket = call.await.unwrap();
        let n: u32 = ticket.rsplit('-').next().unwrap().parse().unwrap();
        numbers.push(n);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=40).collect::<Vec<u32>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_idempotency_keys_hold_across_instances() {
    let Some(cluster) = cluster_or_skip("rate_limits_and_idempotency_keys_hold") else {
        return;
    };
    let pair = two_instances(cluster, |c| c.rate_create_per_account = 4).await;
    let cast = cast(&pair.a);
    let client = Api::login(&pair.a, "client@test.sn").await;
    for (i, server) in [&pair.a, &pair.b, &pair.a, &pair.b].into_iter().enumerate() {
        let (status, body) = on(server, &client)
            .post(
                "/api/client/requests/intervention",
                urgent(&format!("L {i}")),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // The fifth in the minute, on either instance: the window is the database's.
    for server in [&pair.b, &pair.a] {
        let (status, body) = on(server, &client)
            .post("/api/client/requests/intervention", urgent("L 5"))
            .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    }

    // One key sent to both instances at once: one assignment, one message.
    let (_, created) = Api::login(&pair.b, "autre@test.sn")
        .await
        .post("/api/client/requests/intervention", urgent("Idem"))
        .await;
    let id = id_of(&created);
    let admin = Api::login(&pair.a, "admin@test.sn").await;
    let assign = format!("/api/requests/{id}/assign");
    let body = json!({"technicianId": cast.tech.id});
    let (admin_a, admin_b) = (on(&pair.a, &admin), on(&pair.b, &admin));
    let (first, second) = tokio::join!(
        admin_a.post_idem(&assign, body.clone(), "k-assign"),
        admin_b.post_idem(&assign, body.clone(), "k-assign"),
    );
    assert_eq!((first.0, second.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(first.1["request"]["version"], 2);
    assert_eq!(
        second.1["request"]["version"], 2,
        "the retry changed nothing"
    );
    let messages = format!("/api/requests/{id}/messages");
    let note = json!({"body": "Technicien en route"});
    let (m1, m2) = tokio::join!(
        admin_a.post_idem(&messages, note.clone(), "k-msg"),
        admin_b.post_idem(&messages, note.clone(), "k-msg"),
    );
    assert_eq!((m1.0, m2.0), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(m1.1["chatMessage"]["_id"], m2.1["chatMessage"]["_id"]);
    let (_, all) = admin.get(&messages).await;
    assert_eq!(all["messages"].as_array().unwrap().len(), 1);
    let url = pair.url.clone();
    let history: i64 = off_runtime(move || {
        postgres::Client::connect(&url, postgres::NoTls)
            .unwrap()
            .query_one(
                "SELECT count(*) FROM history WHERE request_id = $1 AND action = 'assigned'",
                &[&id],
            )
            .unwrap()
            .get(0)
    });
    assert_eq!(history, 1, "assigned once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_9_of_a_under_load_loses_no_answered_write_and_b_sees_no_gap() {
    let Some(cluster) = cluster_or_skip("a_kill_9_of_a_under_load") else {
        return;
    };
    let url = tokio::task::spawn_blocking(move || fresh_database(&cluster))
        .await
        .unwrap();
    let no_limits = [
        ("ITV_RATE_CREATE_PER_ACCOUNT", "0"),
        ("ITV_RATE_CREATE_PER_ADDRESS", "0"),
        ("ITV_DATABASE_URL", url.as_str()),
    ];
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, a_url) = common::serve(dirs.0.path(), &["--demo"], &no_limits);
    let (mut b, b_url) = common::serve(dirs.1.path(), &[], &no_limits);
    let http = reqwest::Client::new();
    let admin = common::demo_token(&http, &b_url, "admin@itvision.sn").await;
    let mut feed = common::connect_url(&b_url, &admin, None).await;
    let ready = next_json(&mut feed).await;
    assert_eq!(ready["type"], "ready");
    let from = ready["seq"].as_i64().unwrap();

    let storm = common::Storm::start(
        &a_url,
        &common::demo_token(&http, &a_url, "client@itvision.sn").await,
        16,
    );
    storm.until_answered(300).await;
    a.kill().unwrap();
    a.wait().unwrap();
    let answered = storm.end().await;

    let db = url.clone();
    let kept = answered.clone();
    let (found, head) = off_runtime(move || common::after_crash_pg(&db, &kept));
    found.assert_nothing_answered_was_lost(answered.len());

    // B's subscriber gets every event committed up to the head, in order, once.
    let seen = events(&mut feed, (head - from) as usize).await;
    assert_eq!(seen[0]["seq"].as_i64().unwrap(), from + 1);
    assert_in_order_once(&seen);
    let ids: HashSet<&str> = seen
        .iter()
        .map(|e| e["request"]["_id"].as_str().unwrap())
        .collect();
    assert!(answered.iter().all(|id| ids.contains(id.as_str())));

    // And B serves on: its next creation reaches the same socket, next in line.
    let client = common::demo_token(&http, &b_url, "client@itvision.sn").await;
    let resp = http
        .post(format!("{b_url}/api/client/requests/intervention"))
        .bearer_auth(client)
        .json(&urgent("Après la panne de A"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let next = events(&mut feed, 1).await;
    assert_eq!(next[0]["seq"].as_i64().unwrap(), head + 1);
    b.kill().unwrap();
    b.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_the_database_ends_cost_nothing_but_time() {
    let Some(cluster) = cluster_or_skip("connections_the_database_ends") else {
        return;
    };
    let pair = two_instances(cluster, |c| c.rate_create_per_account = 0).await;
    let cast = cast(&pair.a);
    let mut on_b = connect(&pair.b, &cast.admin, None).await;
    assert_eq!(next_json(&mut on_b).await["type"], "ready");
    let client = Api::login(&pair.a, "client@test.sn").await;
    let post = |title: String| {
        let client = on(&pair.a, &client);
        async move {
            let (status, body) = client
                .post("/api/client/requests/intervention", urgent(&title))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{title}: {body}");
        }
    };
    for i in 0..3 {
        post(format!("Avant {i}")).await;
    }
    let before = events(&mut on_b, 3).await;

    // Every connection of both instances ends at once (a failover, a restart): pooled
    // ones, the listeners, the tailers' reads.
    let url = pair.url.clone();
    let ended: i64 = off_runtime(move || {
        postgres::Client::connect(&url, postgres::NoTls)
            .unwrap()
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0)
    });
    assert!(ended >= 4, "both listeners and tailers at least: {ended}");

    // Creations still answer 201, and B's subscriber gets them next in line.
    for i in 0..5 {
        post(format!("Après {i}")).await;
    }
    let after = events(&mut on_b, 5).await;
    let all: Vec<Value> = before.into_iter().chain(after).collect();
    assert_in_order_once(&all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_both_instances_reach_both_subscribers_in_one_order() {
    let Some(cluster) = cluster_or_skip("writes_on_both_instances_reach_both_subscribers") else {
        return;
    };
    let pair = two_instances(cluster, |c| c.rate_create_per_account = 0).await;
    let cast = cast(&pair.a);
    let mut on_a = connect(&pair.a, &cast.admin, None).await;
    let mut on_b = connect(&pair.b, &cast.admin, None).await;
    assert_eq!(next_json(&mut on_a).await["type"], "ready");
    assert_eq!(next_json(&mut on_b).await["type"], "ready");

    // Four clients at once, two on each instance: each instance's own events come
    // between the other's, which it must read from the log to keep one order.
    let client = Api::login(&pair.a, "client@test.sn").await;
    let mut writers = Vec::new();
    for w in 0..4 {
        let client = on(if w % 2 == 0 { &pair.a } else { &pair.b }, &client);
        writers.push(tokio::spawn(async move {
            for i in 0..15 {
                let (status, body) = client
                    .post(
                        "/api/client/requests/intervention",
                        urgent(&format!("{w}-{i}")),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let seen_on_a = events(&mut on_a, 60).await;
    let seen_on_b = events(&mut on_b, 60).await;
    assert_in_order_once(&seen_on_a);
    assert_eq!(seen_on_a, seen_on_b, "one order on both instances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_raise_each_escalation_once() {
    let Some(cluster) = cluster_or_skip("two_schedulers_raise_each_escalation_once") else {
        return;
    };
    let pair = two_instances(cluster, |_| {}).await;
    let _cast = cast(&pair.a);
    let client = Api::login(&pair.a, "client@test.sn").await;
    let id = common::urgent_call(&client).await;

    // Both instances' schedulers see the call unacknowledged past the delay, every
    // second, each on its own clock.
    for server in [&pair.a, &pair.b] {
        server.state().clock.advance(chrono::Duration::minutes(5));
    }
    let escalations = || {
        common::logged(&pair.a, "request.escalated")
            .into_iter()
            .filter(|e| e["_id"] == id.as_str())
            .count()
    };
    for _ in 0..50 {
        if escalations() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A few more passes of both.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(escalations(), 1, "level 1 raised once, by one of the two");
}
