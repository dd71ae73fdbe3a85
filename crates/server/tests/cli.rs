//! The `itv-server` binary itself: `user add` reading the password from stdin,
//! `serve --demo` creating its accounts and requests once, across restarts, and the
//! other `user` commands acting on a running server's sessions. With a PostgreSQL
//! cluster given (`ITV_TEST_DATABASE_URL`), the server and the commands work on a fresh
//! database there, named by `ITV_DATABASE_URL` (the environment form of `--database`).

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_itv-server");

/// The data dir, and the database the commands and the server share when not its SQLite.
struct Db {
    dir: tempfile::TempDir,
    url: Option<String>,
}

impl Db {
    fn new() -> Db {
        Db {
            dir: tempfile::tempdir().unwrap(),
            url: itv_server::testing::test_cluster()
                .map(|c| itv_server::testing::fresh_database(&c)),
        }
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.url
            .iter()
            .map(|u| ("ITV_DATABASE_URL", u.as_str()))
            .collect()
    }
}

fn add_user(db: &Db, role: &str, email: &str, password: &str) -> std::process::Output {
    user_command(
        db,
        &[
            "add",
            "--role",
            role,
            "--email",
            email,
            "--name",
            "Chef d'équipe",
        ],
        password,
    )
}

/// Runs `itv-server user <args> --data-dir <dir>` with `stdin` as its input.
fn user_command(db: &Db, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .arg("user")
        .args(args)
        .arg("--data-dir")
        .arg(db.dir.path())
        .envs(db.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn login(url: &str, email: &str, password: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A first start cut short after creating some demo accounts (Ctrl-C, a power cut) leaves
/// them without the mark that the demo is seeded: the next `serve --demo` takes them as
/// they are and seeds the rest, where it used to stop at « email already used ».
#[tokio::test]
async fn serve_demo_starts_over_a_seed_cut_short() {
    let db = tokio::task::spawn_blocking(Db::new).await.unwrap();
    ok(&add_user(
        &db,
        "client",
        "client@itvision.sn",
        "son-propre-secret\n",
    ));
    let (mut server, url) = common::serve_demo(db.dir.path(), &db.env());
    let (status, body) = login(&url, "admin@itvision.sn", "demo1234").await;
    assert_eq!(status, 200, "{body}");
    // The account found keeps its own password, and gets the demo's requests.
    let (status, body) = login(&url, "client@itvision.sn", "son-propre-secret").await;
    assert_eq!(status, 200, "{body}");
    let list: Value = reqwest::Client::new()
        .get(format!("{url}/api/client/requests/intervention"))
        .bearer_auth(body["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["pagination"]["total"], 2, "{list}");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn user_add_then_serve_demo_once() {
    let db = tokio::task::spawn_blocking(Db::new).await.unwrap();
    let out = add_user(&db, "admin", "Chef@ITVision.sn", "un-secret-solide\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = add_user(&db, "admin", "chef@itvision.sn", "un-secret-solide");
    assert!(!again.status.success(), "the same email twice is refused");
    let short = add_user(&db, "client", "c@itvision.sn", "court");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("8 caractères"));

    for round in 0..2 {
        let (mut server, url) = common::serve_demo(db.dir.path(), &db.env());
        let (status, body) = login(&url, "chef@itvision.sn", "un-secret-solide").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["role"], "ADMIN");
        let (status, body) = login(&url, "client@itvision.sn", "demo1234").await;
        assert_eq!(status, 200, "round {round}: {body}");
        let token = body["token"].as_str().unwrap();
        let list: Value = reqwest::Client::new()
            .get(format!("{url}/api/client/requests/intervention"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            list["pagination"]["total"], 2,
            "demo data is created once (round {round})"
        );
        server.kill().unwrap();
        server.wait().unwrap();
    }
}

#[tokio::test]
async fn user_commands_cut_off_a_running_servers_sessions() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let db = tokio::task::spawn_blocking(Db::new).await.unwrap();
    let (mut server, url) = common::serve_demo(db.dir.path(), &db.env());
    let (status, body) = login(&url, "technicien@itvision.sn", "demo1234").await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let mut req = format!("{}/api/feed", url.replacen("http://", "ws://", 1))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();

    let listed = ok(&user_command(&db, &["list"], ""));
    assert!(listed.contains("technicien@itvision.sn") && listed.contains("TECHNICIAN"));
    assert!(listed.contains("actif"));

    // Another process deactivates the account: the server closes the socket soon after.
    let t0 = std::time::Instant::now();
    let out = ok(&user_command(
        &db,
        &["deactivate", "--email", "technicien@itvision.sn"],
        "",
    ));
    assert!(
        out.contains("désactivé") && out.contains("1 session"),
        "{out}"
    );
    let mut told = None;
    while let Ok(Some(Ok(msg))) =
        tokio::time::timeout(std::time::Duration::from_secs(5), ws.next()).await
    {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "error" {
                told = Some(v);
                break;
            }
        }
    }
    let told = told.expect("a session_ended frame");
    assert_eq!(told["code"], "session_ended");
    assert_eq!(told["reason"], "deactivated");
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        t0.elapsed()
    );
    let (status, body) = login(&url, "technicien@itvision.sn", "demo1234").await;
    assert_eq!(status, 403, "{body}");

    ok(&user_command(
        &db,
        &["activate", "--email", "technicien@itvision.sn"],
        "",
    ));
    assert_eq!(
        login(&url, "technicien@itvision.sn", "demo1234").await.0,
        200
    );
    let weak = user_command(
        &db,
        &["reset-password", "--email", "technicien@itvision.sn"],
        "motdepasse",
    );
    assert!(!weak.status.success());
    ok(&user_command(
        &db,
        &["reset-password", "--email", "technicien@itvision.sn"],
        "nouveau-secret-7\n",
    ));
    assert_eq!(
        login(&url, "technicien@itvision.sn", "demo1234").await.0,
        401
    );
    assert_eq!(
        login(&url, "technicien@itvision.sn", "nouveau-secret-7")
            .await
            .0,
        200
    );
    ok(&user_command(
        &db,
        &[
            "set-role",
            "--email",
            "technicien@itvision.sn",
            "--role",
            "admin",
        ],
        "",
    ));
    // The last admin cannot be demoted from the command line either: there are two now,
    // so demote one, then the other is refused.
    ok(&user_command(
        &db,
        &[
            "set-role",
            "--email",
            "technicien@itvision.sn",
            "--role",
            "technician",
        ],
        "",
    ));
    let last = user_command(&db, &["deactivate", "--email", "admin@itvision.sn"], "");
    assert!(!last.status.success());
    assert!(String::from_utf8_lossy(&last.stderr).contains("dernier"));
    server.kill().unwrap();
    server.wait().unwrap();
}
