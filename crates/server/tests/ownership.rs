//! Taking an intervention, over real HTTP and the real feed: who may, what a second
//! acknowledgement does, what an assignment and going en route imply, and what the
//! client is shown.

mod common;

use common::*;
use itv_server::testing::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn the_first_acknowledgement_is_everyones_and_a_second_changes_nothing() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let id = urgent_call(&client).await;

    let (_, fresh) = admin.get(&format!("/api/requests/{id}")).await;
    assert_eq!(fresh["request"]["acknowledgedAt"], Value::Null);
    assert_eq!(fresh["request"]["acknowledgedBy"], Value::Null);
    assert_eq!(fresh["request"]["sla"]["ack"], "pending");

    let mut admin_feed = connect(&server, &cast.admin, None).await;
    let mut client_feed = connect(&server, &cast.client, None).await;
    let ready = |v: &Value| v["type"] == "ready";
    while !ready(&next_json(&mut admin_feed).await) {}
    while !ready(&next_json(&mut client_feed).await) {}

    let (status, body) = tech
        .post(&format!("/api/requests/{id}/ack"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Intervention prise en charge");
    let r = &body["request"];
    assert_eq!(r["acknowledgedBy"]["_id"], cast.tech.id.as_str());
    assert_eq!(r["acknowledgedBy"]["name"], "Moussa Tech");
    assert!(r["acknowledgedAt"].is_string());
    assert_eq!(r["sla"]["ack"], "met");

    for feed in [&mut admin_feed, &mut client_feed] {
        let e = next_json(feed).await;
        assert_eq!(e["type"], "request.acknowledged");
        assert_eq!(e["request"]["acknowledgedBy"]["name"], "Moussa Tech");
        assert_eq!(e["notification"]["title"], "Intervention prise en charge");
    }

    // Again, by anyone: the same request, no new event, no new history line.
    let (status, again) = admin
        .post(&format!("/api/requests/{id}/ack"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        again["request"]["acknowledgedBy"]["_id"],
        cast.tech.id.as_str()
    );
    assert_eq!(again["request"]["version"], r["version"]);
    assert_eq!(logged(&server, "request.acknowledged").len(), 1);
    let (_, detail) = admin.get(&format!("/api/requests/{id}")).await;
    let acks = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "acknowledged")
        .count();
    assert_eq!(acks, 1);

    // The client sees who took it.
    let (_, mine) = client.get("/api/client/requests/intervention").await;
    let listed = &mine["tickets"][0];
    assert_eq!(listed["acknowledgedBy"]["name"], "Moussa Tech");
}

#[tokio::test]
async fn clients_are_refused_and_those_who_cannot_see_it_are_told_it_does_not_exist() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech2 = Api::login(&server, "tech2@test.sn").await;
    let id = urgent_call(&client).await;

    let (status, body) = client
        .post(&format!("/api/requests/{id}/ack"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    admin
        .post(
            &format!("/api/requests/{id}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    let (status, body) = tech2
        .post(&format!("/api/requests/{id}/ack"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (_, project) = client
        .post("/api/client/requests/project", seed_project())
        .await;
    let pid = id_of(&project);
    let (status, body) = admin
        .post(&format!("/api/requests/{pid}/ack"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["kind"].is_string(), "{body}");

    let cancelled = urgent_call(&client).await;
    client
        .post(
            &format!("/api/requests/{cancelled}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    let (status, body) = admin
        .post(&format!("/api/requests/{cancelled}/ack"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = admin.post("/api/requests/no-such-id/ack", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_assignment_takes_the_call_and_waits_for_its_technician() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let id = urgent_call(&client).await;

    let (_, assigned) = admin
        .post(
            &format!("/api/requests/{id}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    let r = &assigned["request"];
    assert_eq!(r["acknowledgedBy"]["name"], "Admin Test");
    assert!(r["assignedAt"].is_string());
    assert_eq!(r["assignmentAcknowledgedAt"], Value::Null);

    let (status, mine) = tech
        .post(&format!("/api/requests/{id}/ack"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(mine["request"]["assignmentAcknowledgedAt"].is_string());
    assert_eq!(mine["request"]["acknowledgedBy"]["name"], "Admin Test");
    assert_eq!(logged(&server, "request.acknowledged").len(), 1);

    // A second call, taken by going en route straight away.
    let other = urgent_call(&client).await;
    admin
        .post(
            &format!("/api/requests/{other}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    let (status, moved) = tech
        .post(
            &format!("/api/requests/{other}/status"),
            json!({"status": "en_route"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let r = &moved["request"];
    assert!(r["enRouteAt"].is_string());
    assert_eq!(r["assignmentAcknowledgedAt"], r["enRouteAt"]);
}

#[tokio::test]
async fn a_repeated_idempotency_key_acknowledges_once() {
    let server = TestServer::start().await;
    cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let id = urgent_call(&client).await;
    let path = format!("/api/requests/{id}/ack");
    let (a, first) = admin.post_idem(&path, json!({}), "prise-1").await;
    let (b, second) = admin.post_idem(&path, json!({}), "prise-1").await;
    assert_eq!((a, b), (StatusCode::OK, StatusCode::OK));
    assert_eq!(first["request"]["version"], second["request"]["version"]);
    assert_eq!(logged(&server, "request.acknowledged").len(), 1);
}
