//! The staff API over real HTTP: scopes, the workflow (and its 409s), assignment,
//! chat, idempotent retries, filters and cursor pagination, user administration.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

use itv_server::testing::TestServer;

#[tokio::test]
async fn admin_validates_or_rejects_projects_and_invalid_moves_are_409() {
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

    let (status, body) = admin
        .post(
            &format!("/api/requests/{a}/status"),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["status"], "active");
    assert_eq!(body["request"]["version"], 2);

    let (status, body) = admin
        .post(
            &format!("/api/requests/{b}/status"),
            json!({"status": "rejected"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["reason"].is_string());
    let (status, body) = admin
        .post(
            &format!("/api/requests/{b}/status"),
            json!({"status": "rejected", "reason": "Hors de notre zone"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["request"]["rejectionReason"], "Hors de notre zone");

    // rejected → active is not a step of the workflow: 409 with the current state, nothing changes.
    let (status, body) = admin
        .post(
            &format!("/api/requests/{b}/status"),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "invalid_transition");
    assert_eq!(body["currentStatus"], "rejected");
    let (_, detail) = admin.get(&format!("/api/requests/{b}")).await;
    assert_eq!(detail["request"]["status"], "rejected");
    assert_eq!(detail["request"]["version"], 2);

    // The client cannot validate their own project; a status of another kind is a 400.
    let (status, _) = client
        .post(
            &format!("/api/requests/{a}/status"),
            json!({"status": "completed"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = admin
        .post(
            &format!("/api/requests/{a}/status"),
            json!({"status": "en_route"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, detail) = client.get(&format!("/api/requests/{a}")).await;
    let history = detail["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["actorName"], "Admin Test");
    assert_eq!(history[1]["fromStatus"], "pending");
    assert_eq!(history[1]["toStatus"], "active");
}

#[tokio::test]
async fn an_intervention_goes_from_open_to_closed_with_the_right_hands() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let tech2 = Api::login(&server, "tech2@test.sn").await;
    let (_, t) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    let id = id_of(&t);

    // Open interventions are visible to every technician.
    assert_eq!(
        tech2.get(&format!("/api/requests/{id}")).await.0,
        StatusCode::OK
    );
    // Only an admin assigns, and only to a technician.
    assert_eq!(
        tech.post(
            &format!("/api/requests/{id}/assign"),
            json!({"technicianId": cast.tech.id})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = admin
        .post(
            &format!("/api/requests/{id}/assign"),
            json!({"technicianId": cast.client.id}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["technicianId"].is_string());
    let (status, body) = admin
        .post(
            &format!("/api/requests/{id}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["status"], "assigned");
    assert_eq!(body["request"]["assigneeName"], "Moussa Tech");

    // Now it is tech's: tech2 no longer sees it at all.
    assert_eq!(
        tech2.get(&format!("/api/requests/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = tech
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "on_site"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    for step in ["en_route", "on_site", "resolved"] {
        let (status, body) = tech
            .post(
                &format!("/api/requests/{id}/status"),
                json!({"status": step}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
        assert_eq!(body["request"]["status"], step);
    }
    let (status, _) = tech
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = client
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = admin
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["request"]["version"], 6);
}

#[tokio::test]
async fn another_clients_request_is_404_and_the_client_may_cancel_their_own() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let other = Api::login(&server, "autre@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let (_, t) = client
        .post("/api/client/requests/intervention", planned("Visite"))
        .await;
    let (_, p) = client
        .post("/api/client/requests/project", seed_project())
        .await;
    let id = id_of(&t);
    assert_eq!(
        other.get(&format!("/api/requests/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .post(
                &format!("/api/requests/{id}/status"),
                json!({"status": "cancelled"})
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get(&format!("/api/requests/{id}/messages")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .post(
                &format!("/api/requests/{id}/messages"),
                json!({"body": "coucou"})
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Technicians never see projects.
    assert_eq!(
        tech.get(&format!("/api/requests/{}", id_of(&p))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.get("/api/requests/n-existe-pas").await.0,
        StatusCode::NOT_FOUND
    );

    let (status, body) = client
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["request"]["status"], "cancelled");
}

#[tokio::test]
async fn chat_messages_are_shared_between_client_and_staff() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let (_, q) = client
        .post("/api/client/requests/quote", seed_quote())
        .await;
    let id = id_of(&q);
    let (status, body) = client
        .post(
            &format!("/api/requests/{id}/messages"),
            json!({"body": "Bonjour, <b>urgent</b> ?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["message"], "Message envoyé");
    assert_eq!(body["chatMessage"]["body"], "Bonjour, <b>urgent</b> ?");
    let (status, body) = admin
        .post(
            &format!("/api/requests/{id}/messages"),
            json!({"body": "   "}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["body"].is_string());
    admin
        .post(
            &format!("/api/requests/{id}/messages"),
            json!({"body": "Nous préparons le devis."}),
        )
        .await;
    let (_, body) = client.get(&format!("/api/requests/{id}/messages")).await;
    let msgs = body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["authorRole"], "CLIENT");
    assert_eq!(msgs[1]["authorName"], "Admin Test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_is_503_with_retry_after_and_writes_nothing() {
    // SQLite's write lock, taken by another process: on SQLite whatever the run.
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_sqlite_in(temp.path()).await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let (_, q) = client
        .post("/api/client/requests/quote", seed_quote())
        .await;
    let msg = format!("/api/requests/{}/messages", id_of(&q));

    // Another process holds the write lock past the server's busy timeout.
    let db = itv_server::Config::for_dir(temp.path().to_path_buf()).database_path();
    let mut other = rusqlite::Connection::open(db).unwrap();
    let lock = other
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let res = admin
        .http
        .post(format!("{}{msg}", admin.base))
        .bearer_auth(admin.token.as_deref().unwrap())
        .json(&json!({"body": "Pendant le verrou"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "busy");
    assert_eq!(
        body["message"],
        "Le service est momentanément occupé, veuillez réessayer"
    );
    lock.rollback().unwrap();
    nothing_was_written_and_the_next_posts(&admin, &msg).await;
}

/// After a write refused for a held lock: no message, and the same write now passes.
async fn nothing_was_written_and_the_next_posts(admin: &Api, msg: &str) {
    let (_, all) = admin.get(msg).await;
    assert!(
        all["messages"].as_array().unwrap().is_empty(),
        "nothing half-written"
    );
    let (status, _) = admin.post(msg, json!({"body": "Après le verrou"})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_another_session_holds_is_503_on_postgres_and_writes_nothing() {
    if cluster_or_skip("a_row_another_session_holds_is_503_on_postgres").is_none() {
        return;
    }
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let (_, q) = client
        .post("/api/client/requests/quote", seed_quote())
        .await;
    let id = id_of(&q);
    let msg = format!("/api/requests/{id}/messages");

    // Another session (an operator in psql, say) holds the request's row.
    let url = server.database_url().expect("on PostgreSQL").to_string();
    let (held_tx, held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = other.transaction().unwrap();
        tx.execute("SELECT id FROM requests WHERE id = $1 FOR UPDATE", &[&id])
            .unwrap();
        held_tx.send(()).unwrap();
        released.recv().unwrap();
        tx.rollback().unwrap();
    });
    held.recv().unwrap();
    let t0 = std::time::Instant::now();
    let (status, body) = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        admin.post(&msg, json!({"body": "Pendant le verrou"})),
    )
    .await
    .expect("answered while the row is held, not after");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "busy");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        t0.elapsed()
    );
    release.send(()).unwrap();
    holder.join().unwrap();
    nothing_was_written_and_the_next_posts(&admin, &msg).await;
}

#[tokio::test]
async fn a_retried_idempotency_key_applies_once() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let (_, t) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    let id = id_of(&t);
    let path = format!("/api/requests/{id}/assign");
    let (s1, b1) = admin
        .post_idem(&path, json!({"technicianId": cast.tech.id}), "k-assign-1")
        .await;
    let (s2, b2) = admin
        .post_idem(&path, json!({"technicianId": cast.tech.id}), "k-assign-1")
        .await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(b1["request"]["version"], 2);
    assert_eq!(b2["request"]["version"], 2, "the retry changed nothing");

    let msg = format!("/api/requests/{id}/messages");
    let (_, m1) = admin
        .post_idem(&msg, json!({"body": "En route"}), "k-msg-1")
        .await;
    let (s, m2) = admin
        .post_idem(&msg, json!({"body": "En route"}), "k-msg-1")
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(m1["chatMessage"]["_id"], m2["chatMessage"]["_id"]);
    let (_, all) = admin.get(&msg).await;
    assert_eq!(all["messages"].as_array().unwrap().len(), 1);

    // The same key from another user is theirs, not a replay.
    let (s, _) = client
        .post_idem(&msg, json!({"body": "Merci"}), "k-msg-1")
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, all) = admin.get(&msg).await;
    assert_eq!(all["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn staff_list_filters_searches_and_pages_with_a_cursor() {
    let temp = tempfile::tempdir().unwrap();
    let mut config = itv_server::Config::for_dir(temp.path().to_path_buf());
    config.rate_create_per_account = 0;
    config.rate_create_per_address = 0;
    let server = TestServer::start_with(config).await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    for i in 0..7 {
        client
            .post(
                "/api/client/requests/intervention",
                planned(&format!("Maintenance caméra {i}")),
            )
            .await;
    }
    let (_, urgent) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    client
        .post("/api/client/requests/project", seed_project())
        .await;
    client
        .post("/api/client/requests/quote", seed_quote())
        .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/requests?limit=3&cursor={c}"),
            None => "/api/requests?limit=3".to_string(),
        };
        let (status, body) = admin.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for r in body["requests"].as_array().unwrap() {
            seen.push(r["_id"].as_str().unwrap().to_string());
        }
        match body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (10, 10));

    let (_, body) = admin
        .get("/api/requests?kind=intervention&priority=urgent")
        .await;
    assert_eq!(body["requests"].as_array().unwrap().len(), 1);
    let number = urgent["ticket"]["ticketNumber"].as_str().unwrap();
    let (_, body) = admin.get(&format!("/api/requests?q={number}")).await;
    assert_eq!(body["requests"][0]["ticketNumber"], number);
    let (_, body) = admin.get("/api/requests?q=camera%20defectueuse").await;
    assert_eq!(
        body["requests"].as_array().unwrap().len(),
        1,
        "search ignores accents: {body}"
    );
    let (_, body) = admin.get("/api/requests?q=Client%20XYZ&kind=quote").await;
    assert_eq!(body["requests"].as_array().unwrap().len(), 1);
    // Words the index's tokenizer splits in two (vowel signs, harakat) are searched as
    // phrases: an answer, not an error.
    for word in [
        "%E0%A4%B9%E0%A4%BF%E0%A4%82%E0%A4%A6%E0%A5%80", // हिंदी
        "%D9%85%D9%8F%D8%AD%D9%8E%D9%85%D9%8E%D9%91%D8%AF", // مُحَمَّد
    ] {
        let (status, body) = admin.get(&format!("/api/requests?q={word}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = admin.get("/api/requests?limit=1&limit=2").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a repeated parameter is a JSON 400"
    );
    assert!(body["errors"]["query"].is_string());
    let (status, body) = admin.get("/api/requests?kind=ticket&status=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["kind"].is_string() && body["errors"]["status"].is_string());

    // A technician's list holds interventions only; "assignee=me" narrows to theirs.
    let (_, body) = tech.get("/api/requests?limit=100").await;
    assert_eq!(body["requests"].as_array().unwrap().len(), 8);
    admin
        .post(
            &format!("/api/requests/{}/assign", id_of(&urgent)),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    let (_, body) = tech.get("/api/requests?assignee=me").await;
    assert_eq!(body["requests"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn admins_create_users_and_list_technicians() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let admin = Api::login(&server, "admin@test.sn").await;
    let (status, body) = admin
        .post("/api/staff/users", json!({"name": "Ibrahima Fall", "email": "ibou@test.sn", "role": "TECHNICIAN", "password": "un-long-secret"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = admin
        .post("/api/staff/users", json!({"name": "Doublon", "email": "IBOU@test.sn", "role": "CLIENT", "password": "un-long-secret"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "conflict");
    let (status, body) = admin
        .post(
            "/api/staff/users",
            json!({"name": "X", "email": "x", "role": "boss", "password": "1"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"].as_object().unwrap().len(), 4);
    let (_, body) = admin.get("/api/staff/technicians").await;
    let names: Vec<&str> = body["technicians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Fatou Tech", "Ibrahima Fall", "Moussa Tech"]);
    let (status, body) = Api::anonymous(&server)
        .post(
            "/api/auth/login",
            json!({"email": "ibou@test.sn", "password": "un-long-secret"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["role"], "TECHNICIAN");
}
