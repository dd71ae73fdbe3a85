//! Escalation and service levels run by the server, with its workflow clock moved
//! forward instead of waiting: levels one per interval with nobody acknowledging,
//! none after an acknowledgement, a restart between two levels (one event each),
//! the assignee's own acknowledgement, breaches once per timer, due times per
//! priority, and the list filtered and sorted by them.

mod common;

use std::time::Duration;

use chrono::DateTime;
use common::*;
use itv_server::config::Config;
use itv_server::escalation::raise_due;
use itv_server::testing::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

/// Waits for the scheduler (one pass a second) to have logged `n` events of `type`.
async fn until_logged(server: &TestServer, event_type: &str, n: usize) -> Vec<Value> {
    for _ in 0..50 {
        let found = logged(server, event_type);
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{n} {event_type} expected, {} logged",
        logged(server, event_type).len()
    );
}

/// A few scheduler passes with nothing new: none of `type` beyond `n`.
async fn stays_at(server: &TestServer, event_type: &str, n: usize) {
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(logged(server, event_type).len(), n, "{event_type}");
}

fn at(v: &Value) -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(v.as_str().expect("a timestamp"))
        .unwrap()
        .to_utc()
}

#[tokio::test]
async fn an_untaken_urgent_call_escalates_to_all_staff_one_level_per_interval() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let id = urgent_call(&client).await;
    let mut tech_feed = connect(&server, &cast.tech2, None).await;
    let mut client_feed = connect(&server, &cast.client, None).await;
    while next_json(&mut tech_feed).await["type"] != "ready" {}
    while next_json(&mut client_feed).await["type"] != "ready" {}

    stays_at(&server, "request.escalated", 0).await;
    server.state().clock.advance(minutes(5));
    let first = until_logged(&server, "request.escalated", 1).await;
    assert_eq!(first[0]["escalationLevel"], 1);
    assert_eq!(first[0]["escalationReason"], "unacknowledged");
    assert_eq!(first[0]["_id"], id.as_str());

    // Every technician hears it, the client does not.
    let heard = next_json(&mut tech_feed).await;
    assert_eq!(heard["type"], "request.escalated");
    assert_eq!(
        heard["notification"]["title"],
        "🚨 Escalade niveau 1 — ".to_string() + heard["ticketNumber"].as_str().unwrap()
    );
    assert!(
        heard["notification"]["message"]
            .as_str()
            .unwrap()
            .contains("depuis 5 min"),
        "{heard}"
    );
    assert_eq!(heard["notification"]["data"]["escalationLevel"], 1);

    server.state().clock.advance(minutes(5));
    let both = until_logged(&server, "request.escalated", 2).await;
    assert_eq!(both[1]["escalationLevel"], 2);
    stays_at(&server, "request.escalated", 2).await;
    assert_eq!(next_json(&mut tech_feed).await["escalationLevel"], 2);
    // The client's feed carries nothing of it.
    match tokio::time::timeout(Duration::from_millis(300), next_json(&mut client_feed)).await {
        Err(_) => {}
        Ok(v) => panic!("the client heard {v}"),
    }
}

#[tokio::test]
async fn an_acknowledged_call_never_escalates_and_the_last_level_is_the_last() {
    let server = TestServer::start().await;
    cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let taken = urgent_call(&client).await;
    let left = urgent_call(&client).await;
    admin
        .post(&format!("/api/requests/{taken}/ack"), json!({}))
        .await;
    server.state().clock.advance(minutes(60));
    let events = until_logged(&server, "request.escalated", 6).await;
    stays_at(&server, "request.escalated", 6).await;
    assert!(events.iter().all(|e| e["_id"] == left.as_str()));
    let levels: Vec<i64> = events
        .iter()
        .map(|e| e["escalationLevel"].as_i64().unwrap())
        .collect();
    assert_eq!(levels, [1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn a_restart_between_two_levels_raises_each_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path()).await;
    cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    urgent_call(&client).await;
    server.state().clock.advance(minutes(5));
    until_logged(&server, "request.escalated", 1).await;
    server.stop().await;

    // Back up after a pause that crosses levels 2 and 3: each comes out once; level 1
    // is not raised again.
    let server = TestServer::start_in(dir.path()).await;
    server.state().clock.advance(minutes(16));
    let events = until_logged(&server, "request.escalated", 3).await;
    stays_at(&server, "request.escalated", 3).await;
    let levels: Vec<i64> = events
        .iter()
        .map(|e| e["escalationLevel"].as_i64().unwrap())
        .collect();
    assert_eq!(levels, [1, 2, 3]);

    // Two passes at once (two processes, say): the second decides from what it read
    // before the first wrote, and the store still raises level 4 once.
    server.state().clock.advance(minutes(5));
    let store = server.state().store.clone();
    let clock = server.state().clock.clone();
    let escalation = server.state().config.policy().escalation;
    let raised = tokio::task::spawn_blocking(move || {
        let inner = std::cell::Cell::new(None);
        let outer = raise_due(store.as_ref(), &escalation, || {
            if inner.get().is_none() {
                let n = raise_due(store.as_ref(), &escalation, || clock.now()).unwrap();
                inner.set(Some(n));
            }
            clock.now()
        })
        .unwrap();
        outer + inner.get().unwrap_or(0)
    })
    .await
    .unwrap();
    assert!(raised <= 1, "{raised}");
    let events = until_logged(&server, "request.escalated", 4).await;
    stays_at(&server, "request.escalated", 4).await;
    assert_eq!(events[3]["escalationLevel"], 4);
    server.stop().await;
}

#[tokio::test]
async fn an_unacknowledged_assignment_escalates_to_the_admins_only() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let id = urgent_call(&client).await;
    admin
        .post(
            &format!("/api/requests/{id}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    let mut tech_feed = connect(&server, &cast.tech, None).await;
    while next_json(&mut tech_feed).await["type"] != "ready" {}

    server.state().clock.advance(minutes(5));
    let events = until_logged(&server, "request.escalated", 1).await;
    assert_eq!(events[0]["escalationReason"], "assignment");
    assert!(
        events[0]["notification"]["message"]
            .as_str()
            .unwrap()
            .contains("Moussa Tech n'a pas accusé réception"),
        "{}",
        events[0]
    );
    match tokio::time::timeout(Duration::from_millis(300), next_json(&mut tech_feed)).await {
        Err(_) => {}
        Ok(v) => panic!("the technician heard {v}"),
    }
    // Their acknowledgement stops it.
    tech.post(&format!("/api/requests/{id}/ack"), json!({}))
        .await;
    server.state().clock.advance(minutes(30));
    stays_at(&server, "request.escalated", 1).await;
}

#[tokio::test]
async fn due_times_follow_the_priority_and_breaches_are_raised_once_per_timer() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_dir(dir.path().to_path_buf());
    config.sla = itv_core::sla::SlaTargets::parse("urgent=10m/1h,medium=2h/48h").unwrap();
    let server = TestServer::start_with(config).await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let mut admin_feed = connect(&server, &cast.admin, None).await;
    while next_json(&mut admin_feed).await["type"] != "ready" {}

    let (_, urgent) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    let (_, planned_body) = client
        .post("/api/client/requests/intervention", planned("Maintenance"))
        .await;
    let (u, p) = (&urgent["ticket"], &planned_body["ticket"]);
    assert_eq!(at(&u["sla"]["ackDueAt"]) - at(&u["createdAt"]), minutes(10));
    assert_eq!(
        at(&u["sla"]["resolveDueAt"]) - at(&u["createdAt"]),
        minutes(60)
    );
    assert_eq!(
        at(&p["sla"]["ackDueAt"]) - at(&p["createdAt"]),
        minutes(120)
    );
    assert_eq!(
        at(&p["sla"]["resolveDueAt"]) - at(&p["createdAt"]),
        minutes(48 * 60)
    );
    let (_, project) = client
        .post("/api/client/requests/project", seed_project())
        .await;
    assert_eq!(project["project"]["sla"], Value::Null);

    // 9 minutes in: the urgent one is at risk (< 20 % of 10 min left).
    server.state().clock.advance(minutes(9));
    let (_, risky) = admin.get("/api/requests?sla=at_risk").await;
    let ids: Vec<&str> = risky["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [u["_id"].as_str().unwrap()]);
    assert_eq!(risky["requests"][0]["sla"]["ack"], "at_risk");

    // 11 minutes in: its acknowledgement is late; one event for the admins.
    server.state().clock.advance(minutes(2));
    let breaches = until_logged(&server, "request.sla_breached", 1).await;
    assert_eq!(breaches[0]["slaTimer"], "ack");
    assert_eq!(breaches[0]["_id"], u["_id"]);
    let (_, late) = admin.get("/api/requests?sla=breached").await;
    assert_eq!(late["requests"].as_array().unwrap().len(), 1);
    assert_eq!(late["requests"][0]["sla"]["ack"], "breached");

    // Taken late: still breached for the record, and no second event; then its
    // resolution runs late too, once.
    let uid = u["_id"].as_str().unwrap();
    admin
        .post(&format!("/api/requests/{uid}/ack"), json!({}))
        .await;
    server.state().clock.advance(minutes(60));
    let breaches = until_logged(&server, "request.sla_breached", 2).await;
    stays_at(&server, "request.sla_breached", 2).await;
    assert_eq!(breaches[1]["slaTimer"], "resolve");
    let (_, late) = admin.get("/api/requests?sla=breached").await;
    assert_eq!(late["requests"][0]["sla"]["ack"], "breached");
    assert_eq!(late["requests"][0]["sla"]["resolve"], "breached");

    let (status, body) = admin.get("/api/requests?sla=late").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["sla"].is_string(), "{body}");
}

#[tokio::test]
async fn the_list_sorted_by_due_time_puts_the_most_pressing_first_and_pages_through() {
    let server = TestServer::start().await;
    cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let first_urgent = urgent_call(&client).await;
    server.state().clock.advance(minutes(1));
    let second_urgent = urgent_call(&client).await;
    let (_, p) = client
        .post("/api/client/requests/intervention", planned("Plus tard"))
        .await;
    let planned_id = id_of(&p);
    let (_, q) = client
        .post("/api/client/requests/quote", seed_quote())
        .await;
    let quote_id = id_of(&q);
    // Taken: only its resolution (4 h) is left, after the other urgent call's 15 min.
    admin
        .post(&format!("/api/requests/{first_urgent}/ack"), json!({}))
        .await;

    let mut order = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/requests?sort=due&limit=1&cursor={c}"),
            None => "/api/requests?sort=due&limit=1".to_string(),
        };
        let (status, page) = admin.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        order.extend(
            page["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["_id"].as_str().unwrap().to_string()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(order, [second_urgent, first_urgent, planned_id, quote_id]);
}
