//! `Idempotency-Key` is scoped to the user, the route and the request: the same key
//! elsewhere is a new call; on the same route and request it replays the first answer.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

use itv_server::testing::TestServer;

#[tokio::test]
async fn one_key_on_another_route_or_request_is_a_new_call() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let (_, a) = client
        .post("/api/client/requests/project", seed_project())
        .await;
    let (_, b) = client
        .post("/api/client/requests/project", seed_project())
        .await;
    let (a, b) = (id_of(&a), id_of(&b));
    let key = "cle-unique-1";

    // /status of A, /messages of A, /status of B: three real changes.
    let (status, body) = admin
        .post_idem(
            &format!("/api/requests/{a}/status"),
            json!({"status": "active"}),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["version"], 2);
    let (status, first) = admin
        .post_idem(
            &format!("/api/requests/{a}/messages"),
            json!({"body": "Projet validé, nous vous appelons demain."}),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        first["chatMessage"]["body"],
        "Projet validé, nous vous appelons demain."
    );
    let (status, body) = admin
        .post_idem(
            &format!("/api/requests/{b}/status"),
            json!({"status": "rejected", "reason": "Hors de notre zone"}),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["status"], "rejected");
    let (_, detail_b) = admin.get(&format!("/api/requests/{b}")).await;
    assert_eq!(detail_b["request"]["status"], "rejected");
    assert_eq!(detail_b["request"]["version"], 2);

    // The same key on the same route and request: the first answer, nothing changes.
    let (status, body) = admin
        .post_idem(
            &format!("/api/requests/{a}/status"),
            json!({"status": "completed"}),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["status"], "active");
    let (status, replayed) = admin
        .post_idem(
            &format!("/api/requests/{a}/messages"),
            json!({"body": "Un autre texte"}),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replayed["chatMessage"]["_id"], first["chatMessage"]["_id"]);
    assert_eq!(
        replayed["chatMessage"]["body"],
        first["chatMessage"]["body"]
    );
    let (_, detail_a) = admin.get(&format!("/api/requests/{a}")).await;
    assert_eq!(detail_a["request"]["status"], "active");
    assert_eq!(detail_a["request"]["version"], 2);
    assert_eq!(detail_a["messages"].as_array().unwrap().len(), 1);

    // Another user with the same key on the same route and request: their own call.
    let (status, body) = client
        .post_idem(
            &format!("/api/requests/{a}/messages"),
            json!({"body": "Merci !"}),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["chatMessage"]["body"], "Merci !");
    server.stop().await;
}
