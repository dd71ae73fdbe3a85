//! An answered write is a committed one: the real `itv-server` binary, killed with SIGKILL in
//! the middle of a storm of concurrent creations (so in the middle of group commits), comes
//! back with every request it answered 201, each with its `request.created` event, and no
//! ticket number twice. (A power cut, which also loses what the disk had not synced, is
//! power_cut.rs.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_itv-server");

fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("ITV_LOG", "warn")
        .env("ITV_RATE_CREATE_PER_ACCOUNT", "0")
        .env("ITV_RATE_CREATE_PER_ADDRESS", "0")
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

async fn client_token(http: &reqwest::Client, url: &str) -> String {
    let body: Value = http
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"email": "client@itvision.sn", "password": "demo1234"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().expect("a token").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answered_creation_survives_a_sigkill_in_the_middle_of_a_storm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, url) = serve(dir.path());
    let http = reqwest::Client::new();
    let token = client_token(&http, &url).await;

    let storm = common::Storm::start(&url, &token, 16);
    // Let the storm build, then pull the plug on the process.
    storm.until_answered(300).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let answered = storm.end().await;

    common::after_crash(&dir.path().join("itv.db"), &answered)
        .assert_nothing_answered_was_lost(answered.len());

    // And the server starts again on what the kill left.
    let (mut again, url) = serve(dir.path());
    assert!(!client_token(&http, &url).await.is_empty());
    again.kill().unwrap();
    again.wait().unwrap();
}
