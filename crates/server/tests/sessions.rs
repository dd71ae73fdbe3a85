//! Server-side sessions over real HTTP and WebSocket: sign-out, the caller's own
//! sessions, password changes, an admin's account changes, and open feed sockets
//! closed the moment their session ends.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use itv_core::Role;
use itv_server::testing::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn feed(server: &TestServer, token: &str) -> Ws {
    let mut req = format!("{}/api/feed", server.ws_url())
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("feed connects");
    let ready = next_text(&mut ws, Duration::from_secs(5)).await.unwrap();
    assert_eq!(ready["type"], "ready");
    ws
}

/// The next text frame as JSON, or `None` when the socket closes first.
async fn next_text(ws: &mut Ws, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a frame in time");
        match msg {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Waits for the `session_ended` frame and the close after it; returns the reason.
async fn ended(ws: &mut Ws, within: Duration) -> String {
    let frame = next_text(ws, within).await.expect("an error frame");
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["code"], "session_ended", "{frame}");
    assert!(frame["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        next_text(ws, within).await.is_none(),
        "the socket closes after"
    );
    frame["reason"].as_str().unwrap().to_string()
}

async fn login_as(server: &TestServer, email: &str, password: &str) -> (StatusCode, Value) {
    Api::anonymous(server)
        .post(
            "/api/auth/login",
            json!({"email": email, "password": password}),
        )
        .await
}

fn ended_with(body: &Value, reason: &str) {
    assert_eq!(body["code"], "session_ended", "{body}");
    assert_eq!(body["reason"], reason, "{body}");
}

impl Api {
    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(format!("{}{}", self.base, path)))
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            self.http
                .patch(format!("{}{}", self.base, path))
                .json(&body),
        )
        .await
    }
}

#[tokio::test]
async fn sign_in_opens_a_session_that_sign_out_ends() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let mut desk = Api::anonymous(&server);
    let resp = desk
        .send(
            desk.http
                .post(format!("{}/api/auth/login", desk.base))
                .header("user-agent", "itv-desk/0.1.0 (Windows)")
                .json(&json!({"email": "tech@test.sn", "password": PASSWORD})),
        )
        .await;
    assert_eq!(resp.0, StatusCode::OK, "{}", resp.1);
    assert_eq!(resp.1["session"]["device"], "IT Vision Desk · Windows");
    desk.token = Some(resp.1["token"].as_str().unwrap().to_string());
    let laptop = Api::login(&server, "tech@test.sn").await;

    let (status, body) = desk.get("/api/auth/sessions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["_id"], resp.1["session"]["_id"]);
    for field in ["createdAt", "lastUsedAt", "expiresAt", "device"] {
        assert!(sessions[0].get(field).is_some(), "{field}");
    }
    let (status, me) = desk.get("/api/auth/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["_id"], cast.tech.id.as_str());

    let (status, body) = desk.post("/api/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = desk.get("/api/requests").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    ended_with(&body, "signed_out");
    // The other session is untouched.
    assert_eq!(laptop.get("/api/requests").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_user_ends_their_other_sessions_but_nobody_elses() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let desk = Api::login(&server, "tech@test.sn").await;
    let phone = Api::login(&server, "tech@test.sn").await;
    let other = Api::login(&server, "tech2@test.sn").await;
    let phone_id = phone.get("/api/auth/me").await.1["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let other_id = other.get("/api/auth/me").await.1["sessionId"]
        .as_str()
        .unwrap()
        .to_string();

    // Someone else's session id is unknown to this caller.
    let (status, body) = desk.delete(&format!("/api/auth/sessions/{other_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(other.get("/api/requests").await.0, StatusCode::OK);

    let (status, _) = desk.delete(&format!("/api/auth/sessions/{phone_id}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = phone.get("/api/requests").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    ended_with(&body, "revoked");
    // Twice: it is no longer alive.
    let (status, _) = desk.delete(&format!("/api/auth/sessions/{phone_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        desk.get("/api/auth/sessions").await.1["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn changing_a_password_checks_the_old_one_and_ends_the_other_sessions() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let desk = Api::login(&server, "tech@test.sn").await;
    let phone = Api::login(&server, "tech@test.sn").await;

    let (status, body) = desk
        .post(
            "/api/auth/password",
            json!({"currentPassword": "pas-le-bon-1", "newPassword": "nouveau-secret-7"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["errors"]["currentPassword"].as_str().is_some());
    let (status, body) = desk
        .post(
            "/api/auth/password",
            json!({"currentPassword": PASSWORD, "newPassword": "court"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]["newPassword"]
            .as_str()
            .unwrap()
            .contains("8 caractères")
    );
    let (status, body) = desk.post("/api/auth/password", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]["currentPassword"].is_string() && body["errors"]["newPassword"].is_string()
    );
    // Nothing changed so far.
    assert_eq!(phone.get("/api/requests").await.0, StatusCode::OK);

    let (status, body) = desk
        .post(
            "/api/auth/password",
            json!({"currentPassword": PASSWORD, "newPassword": "nouveau-secret-7"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(desk.get("/api/requests").await.0, StatusCode::OK);
    let (status, body) = phone.get("/api/requests").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    ended_with(&body, "password_changed");
    assert_eq!(
        login_as(&server, "tech@test.sn", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_as(&server, "tech@test.sn", "nouveau-secret-7")
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn admins_list_accounts_and_nobody_else_may() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let admin = Api::login(&server, "admin@test.sn").await;
    let _tech = Api::login(&server, "tech@test.sn").await;
    let (status, body) = admin.get("/api/staff/users").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let users = body["users"].as_array().unwrap();
    assert_eq!(users.len(), 5);
    let tech = users
        .iter()
        .find(|u| u["_id"] == cast.tech.id.as_str())
        .unwrap();
    assert_eq!(tech["active"], true);
    assert_eq!(tech["role"], "TECHNICIAN");
    assert!(tech["lastSeenAt"].is_string(), "{tech}");
    let never = users
        .iter()
        .find(|u| u["_id"] == cast.tech2.id.as_str())
        .unwrap();
    assert!(never["lastSeenAt"].is_null());
    assert!(
        users
            .iter()
            .all(|u| u.get("passwordHash").is_none() && u.get("password_hash").is_none())
    );
    for email in ["tech@test.sn", "client@test.sn"] {
        let api = Api::login(&server, email).await;
        assert_eq!(api.get("/api/staff/users").await.0, StatusCode::FORBIDDEN);
        let (status, _) = api
            .patch(
                &format!("/api/staff/users/{}", cast.tech2.id),
                json!({"active": false}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = api
            .post(
                &format!("/api/staff/users/{}/password", cast.tech2.id),
                json!({"password": "nouveau-secret-7"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        Api::anonymous(&server).get("/api/staff/users").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_deactivated_technician_is_cut_off_everywhere() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let client = Api::login(&server, "client@test.sn").await;
    let (_, created) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    let rid = id_of(&created);

    let path = format!("/api/staff/users/{}", cast.tech.id);
    let (status, body) = admin.patch(&path, json!({"active": "non"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["active"].is_string());
    let (status, body) = admin.patch(&path, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = admin
        .patch("/api/staff/users/inconnu", json!({"active": false}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, body) = admin.patch(&path, json!({"active": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["active"], false);
    let (status, body) = tech.get(&format!("/api/requests/{rid}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    ended_with(&body, "deactivated");
    let (status, body) = login_as(&server, "tech@test.sn", PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "account_disabled");
    // A wrong password still says only "wrong credentials".
    assert_eq!(
        login_as(&server, "tech@test.sn", "mauvais-1").await.0,
        StatusCode::UNAUTHORIZED
    );

    let (_, techs) = admin.get("/api/staff/technicians").await;
    let ids: Vec<&str> = techs["technicians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![cast.tech2.id.as_str()]);
    let (status, body) = admin
        .post(
            &format!("/api/requests/{rid}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["errors"]["technicianId"]
            .as_str()
            .unwrap()
            .contains("désactivé")
    );

    let (status, _) = admin.patch(&path, json!({"active": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        login_as(&server, "tech@test.sn", PASSWORD).await.0,
        StatusCode::OK
    );
    let (status, _) = admin
        .post(
            &format!("/api/requests/{rid}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_role_change_ends_sessions_and_the_next_sign_in_carries_the_new_role() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    assert_eq!(tech.get("/api/staff/users").await.0, StatusCode::FORBIDDEN);
    let (status, body) = admin
        .patch(
            &format!("/api/staff/users/{}", cast.tech.id),
            json!({"role": "ADMIN", "name": "Moussa Chef"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "ADMIN");
    assert_eq!(body["user"]["name"], "Moussa Chef");
    ended_with(&tech.get("/api/staff/users").await.1, "role_changed");
    let promoted = Api::login(&server, "tech@test.sn").await;
    assert_eq!(promoted.get("/api/staff/users").await.0, StatusCode::OK);
    // A rename alone ends nothing.
    let (status, _) = admin
        .patch(
            &format!("/api/staff/users/{}", cast.tech.id),
            json!({"name": "Moussa N."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(promoted.get("/api/staff/users").await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_last_active_admin_stays() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let admin = Api::login(&server, "admin@test.sn").await;
    let me = format!("/api/staff/users/{}", cast.admin.id);
    for change in [json!({"active": false}), json!({"role": "TECHNICIAN"})] {
        let (status, body) = admin.patch(&me, change).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["message"].as_str().unwrap().contains("dernier"));
    }
    assert_eq!(
        admin.get("/api/staff/users").await.0,
        StatusCode::OK,
        "still signed in"
    );
    let second = server.create_user(Role::Admin, "admin2@test.sn", "Second Admin", PASSWORD);
    let (status, _) = admin.patch(&me, json!({"role": "TECHNICIAN"})).await;
    assert_eq!(status, StatusCode::OK);
    let other = Api::login(&server, "admin2@test.sn").await;
    let (status, _) = other
        .patch(
            &format!("/api/staff/users/{}", second.id),
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_admin_reset_ends_every_session_of_the_account() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let path = format!("/api/staff/users/{}/password", cast.tech.id);
    let (status, body) = admin.post(&path, json!({"password": "abc"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["password"].is_string());
    assert_eq!(tech.get("/api/requests").await.0, StatusCode::OK);
    let (status, body) = admin
        .post(&path, json!({"password": "remis-a-zero-9"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ended_with(&tech.get("/api/requests").await.1, "password_reset");
    assert_eq!(
        login_as(&server, "tech@test.sn", "remis-a-zero-9").await.0,
        StatusCode::OK
    );
    let (status, _) = admin
        .post(
            "/api/staff/users/inconnu/password",
            json!({"password": "remis-a-zero-9"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn open_feed_sockets_close_when_their_session_ends() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let tech2 = Api::login(&server, "tech2@test.sn").await;
    let mut tech_ws = feed(&server, tech.token.as_deref().unwrap()).await;
    let mut tech2_ws = feed(&server, tech2.token.as_deref().unwrap()).await;
    let mut admin_ws = feed(&server, admin.token.as_deref().unwrap()).await;

    let t0 = Instant::now();
    admin
        .patch(
            &format!("/api/staff/users/{}", cast.tech.id),
            json!({"active": false}),
        )
        .await;
    assert_eq!(
        ended(&mut tech_ws, Duration::from_secs(1)).await,
        "deactivated"
    );
    assert!(t0.elapsed() < Duration::from_secs(1));

    // Sign-out closes that session's socket, and only that one.
    tech2.post("/api/auth/logout", json!({})).await;
    assert_eq!(
        ended(&mut tech2_ws, Duration::from_secs(1)).await,
        "signed_out"
    );
    let client = Api::login(&server, "client@test.sn").await;
    client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    let event = next_text(&mut admin_ws, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(event["type"], "request.created");

    // A token of an ended session cannot open a socket: 401 before the upgrade...
    let mut req = format!("{}/api/feed", server.ws_url())
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", tech2.token.as_deref().unwrap())
            .parse()
            .unwrap(),
    );
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    // ...or, with the browser's first frame, an error frame naming why.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/api/feed", server.ws_url()))
        .await
        .unwrap();
    ws.send(Message::text(
        json!({"type": "auth", "token": tech2.token}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(ended(&mut ws, Duration::from_secs(2)).await, "signed_out");
}

#[tokio::test]
async fn a_socket_past_its_session_expiry_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = itv_server::Config::for_dir(dir.path().to_path_buf());
    config.ping_secs = 1;
    let server = TestServer::start_with(config).await;
    let _cast = cast(&server);
    let tech = Api::login(&server, "tech@test.sn").await;
    let sid = tech.get("/api/auth/me").await.1["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ws = feed(&server, tech.token.as_deref().unwrap()).await;
    // The session was last used 30 days ago and ends in a second.
    let now = chrono::Utc::now();
    let store = server.state().store.clone();
    itv_server::testing::off_runtime(|| {
        store.touch_session(
            &sid,
            now - chrono::Duration::days(30),
            now + chrono::Duration::seconds(1),
        )
    })
    .unwrap();
    // The socket learns the new expiry at its next check (each ping), then closes
    // when it passes.
    assert_eq!(ended(&mut ws, Duration::from_secs(5)).await, "expired");
    ended_with(&tech.get("/api/requests").await.1, "expired");
}

#[tokio::test]
async fn each_use_pushes_the_expiry_back() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let tech = Api::login(&server, "tech@test.sn").await;
    let sid = tech.get("/api/auth/me").await.1["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let now = chrono::Utc::now();
    let long_ago = now - chrono::Duration::days(20);
    let store = server.state().store.clone();
    itv_server::testing::off_runtime(|| {
        store.touch_session(&sid, long_ago, long_ago + chrono::Duration::days(30))
    })
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the cache
    assert_eq!(tech.get("/api/requests").await.0, StatusCode::OK);
    let (_, body) = tech.get("/api/auth/sessions").await;
    let s = &body["sessions"][0];
    let used: chrono::DateTime<chrono::Utc> = s["lastUsedAt"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> = s["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!(used > now - chrono::Duration::seconds(5), "{s}");
    assert!(expires > now + chrono::Duration::days(29), "{s}");
}

#[tokio::test]
async fn big_frames_and_piles_of_unauthenticated_sockets_are_refused() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    // A frame over the limit is refused by the WebSocket layer, never parsed: the
    // socket is told it is not signed in and closed.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{}/api/feed", server.ws_url()))
        .await
        .unwrap();
    let token = server.token_for(&cast.admin);
    let padded = json!({"type": "auth", "token": token, "pad": "x".repeat(8 * 1024)});
    ws.send(Message::text(padded.to_string())).await.unwrap();
    let refused = next_text(&mut ws, Duration::from_secs(2)).await.unwrap();
    assert_eq!(refused["code"], "unauthorized", "{refused}");
    assert!(next_text(&mut ws, Duration::from_secs(2)).await.is_none());

    // 20 sockets waiting for their auth frame from one address, then 429.
    let mut waiting = Vec::new();
    for _ in 0..20 {
        let (ws, _) = tokio_tungstenite::connect_async(format!("{}/api/feed", server.ws_url()))
            .await
            .expect("within the limit");
        waiting.push(ws);
    }
    match tokio_tungstenite::connect_async(format!("{}/api/feed", server.ws_url())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 429)
        }
        other => panic!("expected 429, got {other:?}"),
    }
    // A socket with a token in its header does not wait, so it is not counted.
    feed(&server, &token).await;
    // Once one signs in, its place is free again.
    let mut first = waiting.remove(0);
    first
        .send(Message::text(
            json!({"type": "auth", "token": token}).to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(
        next_text(&mut first, Duration::from_secs(2)).await.unwrap()["type"],
        "ready"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio_tungstenite::connect_async(format!("{}/api/feed", server.ws_url()))
        .await
        .expect("a place is free");
}

#[tokio::test]
async fn a_short_jwt_secret_is_refused_and_the_data_dir_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = itv_server::Config::for_dir(data.clone());
    config.jwt_secret = Some("trop-court".into());
    let err = itv_server::start(config).await.unwrap_err();
    assert!(err.to_string().contains("32"), "{err}");

    // The files of the data dir: on SQLite whatever the run.
    let server = TestServer::start_sqlite_in(&data).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("itv.db")), 0o600);
        assert_eq!(mode(&data.join("jwt-secret")), 0o600);
    }
    server.stop().await;
}
