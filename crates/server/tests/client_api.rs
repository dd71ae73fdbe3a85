//! The seed's client API over real HTTP: bodies, responses, numbers, validation,
//! authorization, limits, and durability across a restart.

mod common;

use common::*;
use itv_core::Role;
use itv_server::Config;
use itv_server::testing::TestServer;
use reqwest::StatusCode;
use serde_json::json;

fn month_now() -> String {
    chrono::Utc::now().format("%Y%m").to_string()
}

#[tokio::test]
async fn the_seed_bodies_give_the_seed_responses() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;

    let (status, body) = client
        .post("/api/client/requests/project", seed_project())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Demande de projet envoyée avec succès");
    assert_eq!(body["project"]["name"], "Installation vidéosurveillance");
    assert_eq!(body["project"]["status"], "pending");
    assert_eq!(body["project"]["serviceType"], "surveillance");
    assert!(
        body["project"]["_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );

    let (status, body) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["message"],
        "Demande d'intervention envoyée avec succès"
    );
    let t = &body["ticket"];
    assert_eq!(t["ticketNumber"], format!("INT-{}-0001", month_now()));
    assert_eq!(t["title"], "Caméra défectueuse entrée principale");
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["status"], "open");

    let (status, body) = client
        .post("/api/client/requests/quote", seed_quote())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"], "Demande de devis envoyée avec succès");
    let t = &body["ticket"];
    assert_eq!(t["ticketNumber"], format!("DEV-{}-0001", month_now()));
    assert_eq!(t["title"], "Devis pour 10 caméras IP 4K");
    assert_eq!(t["status"], "open");
    assert_eq!(t["ticketType"], "billing");
    assert_eq!(t["items"][1]["name"], "NVR 16 canaux");

    let (_, body) = client
        .post(
            "/api/client/requests/intervention",
            planned("Maintenance annuelle"),
        )
        .await;
    assert_eq!(
        body["ticket"]["ticketNumber"],
        format!("INT-{}-0002", month_now())
    );
    assert_eq!(body["ticket"]["priority"], "medium");
}

#[tokio::test]
async fn lists_are_the_callers_own_newest_first_and_paginated() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let other = Api::login(&server, "autre@test.sn").await;
    for i in 0..5 {
        let (s, _) = client
            .post(
                "/api/client/requests/intervention",
                planned(&format!("Visite {i}")),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    other
        .post("/api/client/requests/intervention", planned("Chez l'autre"))
        .await;

    let (status, body) = client
        .get("/api/client/requests/intervention?page=1&limit=2")
        .await;
    assert_eq!(status, StatusCode::OK);
    let titles: Vec<&str> = body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Visite 4", "Visite 3"]);
    assert_eq!(
        body["pagination"],
        json!({"page": 1, "limit": 2, "total": 5, "pages": 3})
    );
    let (_, body) = client
        .get("/api/client/requests/intervention?page=3&limit=2")
        .await;
    assert_eq!(body["tickets"][0]["title"], "Visite 0");

    let (_, body) = client.get("/api/client/requests/project").await;
    assert_eq!(body["projects"], json!([]));
    let (status, body) = client.get("/api/client/requests/quote?limit=500").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["limit"].is_string());
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_created() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;

    let (status, body) = client
        .post(
            "/api/client/requests/project",
            json!({"name": "", "serviceType": "plomberie", "description": "court", "estimatedBudget": -1,
                   "preferredStartDate": "01/12/2025", "urgency": "demain", "extra": "ignored"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "validation");
    let errors = body["errors"].as_object().unwrap();
    for field in [
        "name",
        "serviceType",
        "description",
        "address",
        "estimatedBudget",
        "preferredStartDate",
        "urgency",
    ] {
        assert!(errors.contains_key(field), "{field} missing in {body}");
    }
    assert!(!errors.contains_key("extra"));
    assert_eq!(body["errors"]["name"], "Ce champ est obligatoire");

    let (status, body) = client
        .post(
            "/api/client/requests/quote",
            json!({"title": "Devis", "category": "equipment", "description": "Plusieurs articles",
                   "items": [{"name": "Caméra", "quantity": 0}, {"name": "NVR", "quantity": 2.5}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["items[0].quantity"].is_string());
    assert!(body["errors"]["items[1].quantity"].is_string());

    let (status, body) = client
        .post("/api/client/requests/intervention", json!({"type": "urgent", "title": "Panne", "description": "Plus rien ne marche", "site": "Siège", "projectId": "n-existe-pas"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["projectId"].is_string());

    // Malformed JSON and a JSON array are 400s in the API's shape, never 500.
    let raw = client
        .send(
            client
                .http
                .post(format!("{}/api/client/requests/project", server.url))
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    assert_eq!(raw.0, StatusCode::BAD_REQUEST);
    assert_eq!(raw.1["code"], "bad_json");
    let (status, _) = client
        .post("/api/client/requests/project", json!([1, 2]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for kind in ["project", "intervention", "quote"] {
        let (_, body) = client.get(&format!("/api/client/requests/{kind}")).await;
        assert_eq!(
            body["pagination"]["total"], 0,
            "{kind} created despite errors"
        );
    }
}

#[tokio::test]
async fn a_project_id_must_be_the_callers_own_project() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let other = Api::login(&server, "autre@test.sn").await;
    let (_, mine) = client
        .post("/api/client/requests/project", seed_project())
        .await;
    let (_, theirs) = other
        .post("/api/client/requests/project", seed_project())
        .await;

    let mut body = seed_intervention();
    body["projectId"] = json!(id_of(&theirs));
    let (status, answer) = client
        .post("/api/client/requests/intervention", body.clone())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["errors"]["projectId"].is_string());

    body["projectId"] = json!(id_of(&mine));
    let (status, answer) = client.post("/api/client/requests/intervention", body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["ticket"]["projectId"], id_of(&mine));
}

#[tokio::test]
async fn tokens_and_roles_are_checked_everywhere() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let anon = Api::anonymous(&server);
    let (status, body) = anon
        .post("/api/client/requests/project", seed_project())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["success"], false);
    let mut forged = Api::anonymous(&server);
    forged.token = Some("eyJhbGciOiJIUzI1NiJ9.e30.bad".into());
    assert_eq!(
        forged.get("/api/client/requests/project").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        forged.get("/api/requests").await.0,
        StatusCode::UNAUTHORIZED
    );

    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    assert_eq!(
        admin
            .post("/api/client/requests/project", seed_project())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tech.get("/api/client/requests/intervention").await.0,
        StatusCode::FORBIDDEN
    );
    let client = Api::login(&server, "client@test.sn").await;
    assert_eq!(
        client.get("/api/staff/technicians").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tech.get("/api/staff/technicians").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(admin.get("/api/staff/technicians").await.0, StatusCode::OK);
    let (status, body) = admin.get("/api/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn wrong_credentials_get_the_same_answer_whether_the_email_exists_or_not() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let anon = Api::anonymous(&server);
    let (s1, b1) = anon
        .post(
            "/api/auth/login",
            json!({"email": "client@test.sn", "password": "mauvais"}),
        )
        .await;
    let (s2, b2) = anon
        .post(
            "/api/auth/login",
            json!({"email": "personne@test.sn", "password": "mauvais"}),
        )
        .await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(b1, b2);
    assert_eq!(b1["message"], "Email ou mot de passe incorrect");

    let (status, body) = anon
        .post(
            "/api/auth/login",
            json!({"email": "Client@Test.sn", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    assert_eq!(body["user"]["role"], "CLIENT");
    assert_eq!(body["user"]["email"], "client@test.sn");
    assert!(body["user"]["_id"].is_string());
    assert!(body["user"].get("password_hash").is_none());
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let mut body = seed_project();
    body["description"] = json!("x".repeat(100 * 1024));
    let (status, answer) = client.post("/api/client/requests/project", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer["code"], "payload_too_large");
}

#[tokio::test]
async fn creation_and_login_are_rate_limited_with_retry_after() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = Config::for_dir(temp.path().to_path_buf());
    config.rate_create_per_account = 3;
    config.rate_login_per_account = 4;
    let server = TestServer::start_with(config).await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    for i in 0..3 {
        let (s, _) = client
            .post(
                "/api/client/requests/intervention",
                planned(&format!("Visite {i}")),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let resp = client
        .http
        .post(format!("{}/api/client/requests/intervention", server.url))
        .bearer_auth(client.token.as_ref().unwrap())
        .json(&planned("Une de trop"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let (_, body) = client.get("/api/client/requests/intervention").await;
    assert_eq!(body["pagination"]["total"], 3);

    let anon = Api::anonymous(&server);
    // One login already happened above; three wrong ones reach the limit of four.
    for _ in 0..3 {
        let (s, _) = anon
            .post(
                "/api/auth/login",
                json!({"email": "client@test.sn", "password": "faux"}),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, body) = anon
        .post(
            "/api/auth/login",
            json!({"email": "client@test.sn", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn concurrent_creations_get_unique_sequential_numbers() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = Config::for_dir(temp.path().to_path_buf());
    config.rate_create_per_account = 0;
    config.rate_create_per_address = 0;
    let server = TestServer::start_with(config).await;
    let _cast = cast(&server);
    let client = std::sync::Arc::new(Api::login(&server, "client@test.sn").await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let path = if i % 2 == 0 {
                "/api/client/requests/intervention"
            } else {
                "/api/client/requests/quote"
            };
            let body = if i % 2 == 0 {
                planned(&format!("Visite {i}"))
            } else {
                seed_quote()
            };
            let (s, b) = c.post(path, body).await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
            b["ticket"]["ticketNumber"].as_str().unwrap().to_string()
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    for prefix in ["INT", "DEV"] {
        let mut seqs: Vec<u32> = numbers
            .iter()
            .filter(|n| n.starts_with(prefix))
            .map(|n| n.rsplit('-').next().unwrap().parse().unwrap())
            .collect();
        seqs.sort();
        assert_eq!(
            seqs,
            (1..=20).collect::<Vec<u32>>(),
            "{prefix}: {numbers:?}"
        );
    }
}

#[tokio::test]
async fn a_restart_keeps_requests_numbers_and_sessions() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(temp.path()).await;
    server.create_user(Role::Client, "client@test.sn", "Client XYZ", PASSWORD);
    let client = Api::login(&server, "client@test.sn").await;
    let token = client.token.clone();
    client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    server.stop().await;

    let server = TestServer::start_in(temp.path()).await;
    let mut client = Api::anonymous(&server);
    client.token = token;
    let (status, body) = client.get("/api/client/requests/intervention").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the session survives: the secret is kept in the data dir"
    );
    assert_eq!(
        body["tickets"][0]["title"],
        "Caméra défectueuse entrée principale"
    );
    let (_, body) = client
        .post(
            "/api/client/requests/intervention",
            planned("Après redémarrage"),
        )
        .await;
    assert!(
        body["ticket"]["ticketNumber"]
            .as_str()
            .unwrap()
            .ends_with("-0002")
    );
}

#[tokio::test]
async fn text_is_stored_as_typed_without_control_characters() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let mut body = seed_intervention();
    body["title"] = json!("  <script>alert('x')</script>\u{0007} ");
    let (status, answer) = client.post("/api/client/requests/intervention", body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["ticket"]["title"], "<script>alert('x')</script>");
}
