//! `itv-server migrate --from-sqlite`: an embedded deployment moved to PostgreSQL keeps
//! its requests, history, chat, ticket counters, accounts, sessions and event log; the
//! tokens it signed stay valid; a second run, on a database no longer empty, changes
//! nothing. Needs a cluster (see multi_instance.rs).

use itv_server::testing::{TestServer, fresh_database};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;
use common::{Api, cast, cluster_or_skip, id_of, seed_project, seed_quote};

fn migrate(dir: &std::path::Path, url: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_itv-server"))
        .args(["migrate", "--from-sqlite"])
        .arg(dir)
        .args(["--database", url])
        .env("ITV_LOG", "warn")
        .output()
        .unwrap()
}

/// A request as both backends must show it; its service levels are computed at the
/// instant of the call, so they are left out.
fn settled(mut detail: Value) -> Value {
    detail["request"]["sla"] = Value::Null;
    detail
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_deployment_moves_to_postgres_whole() {
    let Some(cluster) = cluster_or_skip("an_embedded_deployment_moves_to_postgres_whole") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let embedded = TestServer::start_sqlite_in(dir.path()).await;
    let cast = cast(&embedded);
    let client = Api::login(&embedded, "client@test.sn").await;
    let admin = Api::login(&embedded, "admin@test.sn").await;
    let (_, urgent) = client
        .post(
            "/api/client/requests/intervention",
            json!({"type": "urgent", "title": "Caméras hors ligne", "description": "Tout l'entrepôt", "site": "Plateau"}),
        )
        .await;
    let id = id_of(&urgent);
    client
        .post("/api/client/requests/project", seed_project())
        .await;
    client
        .post("/api/client/requests/quote", seed_quote())
        .await;
    let (status, _) = admin
        .post(
            &format!("/api/requests/{id}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin
        .post_idem(
            &format!("/api/requests/{id}/messages"),
            json!({"body": "Moussa arrive"}),
            "k-1",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, detail) = admin.get(&format!("/api/requests/{id}")).await;
    let (_, head) = admin.get("/api/feed/head").await;
    embedded.stop().await;

    let url = tokio::task::spawn_blocking(move || fresh_database(&cluster))
        .await
        .unwrap();
    let moved = migrate(dir.path(), &url);
    let out = String::from_utf8_lossy(&moved.stdout);
    assert!(
        moved.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    for line in ["users\t5", "requests\t3", "messages\t1", "idempotency\t1"] {
        assert!(out.lines().any(|l| l == line), "{line} in:\n{out}");
    }

    // An instance on PostgreSQL, on a data dir of its own, answers as the embedded one.
    let pg_dir = tempfile::tempdir().unwrap();
    let mut config = itv_server::Config::for_dir(pg_dir.path().to_path_buf());
    config.database_url = Some(url.clone());
    let server = TestServer::start_with(config).await;
    let same_admin = Api {
        http: admin.http.clone(),
        base: server.url.clone(),
        token: admin.token.clone(),
    };
    // The token the embedded server signed, on a session it opened.
    let (status, after) = same_admin.get(&format!("/api/requests/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(settled(after), settled(detail));
    let (_, moved_head) = same_admin.get("/api/feed/head").await;
    assert_eq!(
        moved_head, head,
        "same head, same epoch: desks need no resync"
    );
    // The key answered before is still an answered key.
    let (status, again) = same_admin
        .post_idem(
            &format!("/api/requests/{id}/messages"),
            json!({"body": "Moussa arrive"}),
            "k-1",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, messages) = same_admin
        .get(&format!("/api/requests/{id}/messages"))
        .await;
    assert_eq!(messages["messages"].as_array().unwrap().len(), 1, "{again}");
    // Passwords and ticket counters came along.
    let client = Api::login(&server, "client@test.sn").await;
    let (_, next) = client
        .post(
            "/api/client/requests/intervention",
            json!({"type": "urgent", "title": "Badge refusé", "description": "Porte principale", "site": "Almadies"}),
        )
        .await;
    let first = urgent["ticket"]["ticketNumber"].as_str().unwrap();
    let second = next["ticket"]["ticketNumber"].as_str().unwrap();
    assert_eq!(second, first.replace("-0001", "-0002"));
    let (_, new_head) = same_admin.get("/api/feed/head").await;
    assert_eq!(new_head["seq"], head["seq"].as_i64().unwrap() + 1);
    server.stop().await;

    // The target is no longer empty: a second run copies nothing.
    let refused = migrate(dir.path(), &url);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("n'est pas vide"), "{err}");
}
