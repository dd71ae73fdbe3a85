//! The live feed over a real WebSocket: role-scoped delivery, the seed's payloads,
//! resume without gap or duplicate, resync when the log no longer reaches back,
//! browser-style authentication and pings.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use itv_server::testing::TestServer;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Events up to the `ready` frame; returns them and the ready seq.
async fn until_ready(ws: &mut Ws) -> (Vec<Value>, i64) {
    let mut events = Vec::new();
    loop {
        let v = next_json(ws).await;
        if v["type"] == "ready" {
            return (events, v["seq"].as_i64().unwrap());
        }
        events.push(v);
    }
}

/// Nothing else arrives for a short while.
async fn assert_quiet(ws: &mut Ws) {
    match tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
        Err(_) => {}
        Ok(Some(Ok(Message::Ping(_)))) => {}
        Ok(other) => panic!("unexpected frame: {other:?}"),
    }
}

#[tokio::test]
async fn events_reach_each_role_with_the_seed_payloads() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let mut admin = connect(&server, &cast.admin, None).await;
    let mut tech = connect(&server, &cast.tech, None).await;
    let mut client_ws = connect(&server, &cast.client, None).await;
    let mut other_ws = connect(&server, &cast.other_client, None).await;
    for ws in [&mut admin, &mut tech, &mut client_ws, &mut other_ws] {
        let (replayed, _) = until_ready(ws).await;
        assert!(replayed.is_empty());
    }
    let client = Api::login(&server, "client@test.sn").await;
    client
        .post("/api/client/requests/project", seed_project())
        .await;
    let (_, t) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;

    let project = next_json(&mut admin).await;
    assert_eq!(project["type"], "request.created");
    assert_eq!(project["kind"], "project");
    assert_eq!(project["notification"]["type"], "info");
    assert_eq!(
        project["notification"]["title"],
        "Nouvelle Demande de Projet"
    );
    assert_eq!(
        project["notification"]["message"],
        "Client XYZ a demandé un nouveau projet : Installation vidéosurveillance"
    );
    assert_eq!(project["notification"]["data"]["projectId"], project["_id"]);

    let urgent = next_json(&mut admin).await;
    assert_eq!(
        urgent["seq"].as_i64().unwrap(),
        project["seq"].as_i64().unwrap() + 1
    );
    assert_eq!(urgent["kind"], "intervention");
    assert_eq!(urgent["_id"], t["ticket"]["_id"]);
    assert_eq!(urgent["ticketNumber"], t["ticket"]["ticketNumber"]);
    assert_eq!(urgent["notification"]["type"], "warning");
    assert_eq!(urgent["notification"]["title"], "🚨 Intervention Urgente");
    assert_eq!(
        urgent["notification"]["message"],
        "Client XYZ - Caméra défectueuse entrée principale"
    );
    assert_eq!(urgent["notification"]["data"]["ticketId"], urgent["_id"]);
    assert_eq!(urgent["request"]["priority"], "urgent");

    // Technicians: the intervention only. The client: both of theirs. Another client: nothing.
    assert_eq!(next_json(&mut tech).await["_id"], urgent["_id"]);
    assert_quiet(&mut tech).await;
    assert_eq!(next_json(&mut client_ws).await["kind"], "project");
    assert_eq!(next_json(&mut client_ws).await["kind"], "intervention");
    assert_quiet(&mut other_ws).await;

    // An assignment reaches the technician; a status step reaches the client.
    let admin_api = Api::login(&server, "admin@test.sn").await;
    let id = id_of(&t);
    admin_api
        .post(
            &format!("/api/requests/{id}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    let assigned = next_json(&mut tech).await;
    assert_eq!(assigned["type"], "request.assigned");
    assert_eq!(assigned["request"]["assigneeId"], cast.tech.id.as_str());
    let tech_api = Api::login(&server, "tech@test.sn").await;
    tech_api
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "en_route"}),
        )
        .await;
    assert_eq!(next_json(&mut client_ws).await["type"], "request.assigned");
    let en_route = next_json(&mut client_ws).await;
    assert_eq!(en_route["type"], "request.updated");
    assert_eq!(en_route["request"]["status"], "en_route");
    assert_eq!(en_route["notification"]["title"], "Technicien en route");
    tech_api
        .post(
            &format!("/api/requests/{id}/messages"),
            json!({"body": "J'arrive dans 10 minutes"}),
        )
        .await;
    let _ = next_json(&mut admin).await; // assigned
    let _ = next_json(&mut admin).await; // en_route
    let chat = next_json(&mut admin).await;
    assert_eq!(chat["type"], "message.created");
    assert_eq!(chat["chatMessage"]["body"], "J'arrive dans 10 minutes");
}

#[tokio::test]
async fn a_subscriber_that_resumes_gets_exactly_what_it_missed() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = itv_server::Config::for_dir(temp.path().to_path_buf());
    config.rate_create_per_account = 0;
    config.rate_create_per_address = 0;
    let server = TestServer::start_with(config).await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    for i in 0..3 {
        client
            .post(
                "/api/client/requests/intervention",
                planned(&format!("Avant {i}")),
            )
            .await;
    }
    let mut ws = connect(&server, &cast.admin, Some(0)).await;
    let (first, ready) = until_ready(&mut ws).await;
    let seqs: Vec<i64> = first.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(ready, 3);
    let live = {
        client
            .post("/api/client/requests/intervention", planned("Pendant"))
            .await;
        next_json(&mut ws).await
    };
    assert_eq!(live["seq"], 4);
    ws.close(None).await.unwrap();

    // Disconnected: these are missed, then picked up on resume, with live ones after.
    for i in 0..5 {
        client
            .post(
                "/api/client/requests/intervention",
                planned(&format!("Manqué {i}")),
            )
            .await;
    }
    let mut ws = connect(&server, &cast.admin, Some(4)).await;
    let writer = {
        let base = server.url.clone();
        let token = client.token.clone().unwrap();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..5 {
                http.post(format!("{base}/api/client/requests/intervention"))
                    .bearer_auth(&token)
                    .json(&planned(&format!("Concurrent {i}")))
                    .send()
                    .await
                    .unwrap();
            }
        })
    };
    let mut got = Vec::new();
    while got.len() < 10 {
        let v = next_json(&mut ws).await;
        if v["type"] == "ready" {
            continue;
        }
        got.push(v["seq"].as_i64().unwrap());
    }
    writer.await.unwrap();
    assert_eq!(
        got,
        (5..=14).collect::<Vec<i64>>(),
        "no gap, no duplicate, in order"
    );
    assert_quiet(&mut ws).await;
}

#[tokio::test]
async fn resuming_from_before_the_log_asks_for_a_resync() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    for i in 0..6 {
        client
            .post(
                "/api/client/requests/intervention",
                planned(&format!("Visite {i}")),
            )
            .await;
    }
    let store = server.state().store.clone();
    let removed = itv_server::testing::off_runtime(move || store.prune_events(2)).unwrap();
    assert_eq!(removed, 4);
    let mut ws = connect(&server, &cast.admin, Some(1)).await;
    let v = next_json(&mut ws).await;
    let epoch = server.state().epoch.to_string();
    assert_eq!(
        v,
        json!({"type": "resync_required", "oldestSeq": 5, "headSeq": 6, "epoch": epoch})
    );

    // From the head the log still holds, resuming works.
    let mut ws = connect(&server, &cast.admin, Some(4)).await;
    let (events, ready) = until_ready(&mut ws).await;
    assert_eq!(events.len(), 2);
    assert_eq!(ready, 6);
    let admin = Api::login(&server, "admin@test.sn").await;
    let (_, head) = admin.get("/api/feed/head").await;
    assert_eq!(head["seq"], 6);
    assert_eq!(head["oldestSeq"], 5);
    assert_eq!(head["epoch"], epoch.as_str());
}

#[tokio::test]
async fn a_browser_authenticates_with_its_first_frame() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let url = format!("{}/api/feed?since=0", server.ws_url());
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    ws.send(Message::Text(
        json!({"type": "auth", "token": server.token_for(&cast.client)})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let (events, ready) = until_ready(&mut ws).await;
    assert!(events.is_empty());
    assert_eq!(ready, 0);

    let (mut bad, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    bad.send(Message::Text(
        json!({"type": "auth", "token": "nope"}).to_string().into(),
    ))
    .await
    .unwrap();
    let v = next_json(&mut bad).await;
    assert_eq!(v["type"], "error");
    assert_eq!(v["code"], "unauthorized");

    // A bad token in the header is refused before the upgrade.
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", "Bearer nope".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected a 401, got {other:?}"),
    }
}

#[tokio::test]
async fn the_server_pings_its_subscribers() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = itv_server::Config::for_dir(temp.path().to_path_buf());
    config.ping_secs = 1;
    let server = TestServer::start_with(config).await;
    let cast = cast(&server);
    let mut ws = connect(&server, &cast.tech, None).await;
    until_ready(&mut ws).await;
    let msg = tokio::time::timeout(Duration::from_secs(3), ws.next())
        .await
        .expect("a ping within 3 s");
    assert!(matches!(msg, Some(Ok(Message::Ping(_)))), "{msg:?}");
}

#[tokio::test]
async fn a_silent_subscriber_is_dropped() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = itv_server::Config::for_dir(temp.path().to_path_buf());
    config.ping_secs = 1;
    let server = TestServer::start_with(config).await;
    let cast = cast(&server);
    let mut ws = connect(&server, &cast.admin, None).await;
    until_ready(&mut ws).await;
    // Not reading means not answering pings: the server gives up after three intervals.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_))) => continue,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert_eq!(ended, Ok(true), "the server closed the silent connection");
}

#[tokio::test]
async fn the_log_survives_a_restart_and_resume_continues_from_it() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(temp.path()).await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    client
        .post(
            "/api/client/requests/intervention",
            planned("Avant l'arrêt"),
        )
        .await;
    client
        .post("/api/client/requests/intervention", planned("Juste avant"))
        .await;
    let token = client.token.clone();
    server.stop().await;

    let server = TestServer::start_in(temp.path()).await;
    let mut client = Api::anonymous(&server);
    client.token = token;
    client
        .post(
            "/api/client/requests/intervention",
            planned("Après le redémarrage"),
        )
        .await;
    let mut ws = connect(&server, &cast.admin, Some(1)).await;
    let (events, ready) = until_ready(&mut ws).await;
    let titles: Vec<&str> = events
        .iter()
        .map(|e| e["request"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Juste avant", "Après le redémarrage"]);
    assert_eq!(ready, 3);
}
