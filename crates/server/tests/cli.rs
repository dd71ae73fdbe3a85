//! The `itv-server` binary itself: `user add` reading the password from stdin, and
//! `serve --demo` creating its accounts and requests once, across restarts.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_itv-server");

fn add_user(
    dir: &std::path::Path,
    role: &str,
    email: &str,
    password: &str,
) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(["user", "add", "--data-dir"])
        .arg(dir)
        .args(["--role", role, "--email", email, "--name", "Chef d'équipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Starts `serve` on a free port; returns the process and its base URL.
fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("ITV_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the address is printed")
        .to_string();
    (child, url)
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

#[tokio::test]
async fn user_add_then_serve_demo_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = add_user(
        dir.path(),
        "admin",
        "Chef@ITVision.sn",
        "un-secret-solide\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = add_user(dir.path(), "admin", "chef@itvision.sn", "un-secret-solide");
    assert!(!again.status.success(), "the same email twice is refused");
    let short = add_user(dir.path(), "client", "c@itvision.sn", "court");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("8 caractères"));

    for round in 0..2 {
        let (mut server, url) = serve(dir.path());
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
