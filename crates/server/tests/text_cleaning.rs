//! Titles and names lose bidirectional controls and zero-width characters on the way
//! in, through the client API as in the core's validation.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

use itv_server::testing::TestServer;

#[tokio::test]
async fn invisible_formatting_characters_never_reach_the_store() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let mut body = planned("\u{202E}Caméra\u{200B} entrée\u{2066}\u{FEFF}");
    body["site"] = json!("Agence\u{202E} Almadies");
    let (status, created) = client.post("/api/client/requests/intervention", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["ticket"]["title"], "Caméra entrée");
    let id = id_of(&created);
    let (_, detail) = client.get(&format!("/api/requests/{id}")).await;
    assert_eq!(detail["request"]["title"], "Caméra entrée");

    let mut quote = seed_quote();
    quote["items"][0]["name"] = json!("Caméra\u{200D} IP\u{200E}");
    let (status, created) = client.post("/api/client/requests/quote", quote).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["ticket"]["items"][0]["name"], "Caméra IP");

    // A title of invisible characters only is missing, with the usual French message.
    let (status, err) = client
        .post(
            "/api/client/requests/intervention",
            planned("\u{200B}\u{200C}\u{200D}\u{2060}"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["errors"]["title"], "Ce champ est obligatoire");
    server.stop().await;
}
