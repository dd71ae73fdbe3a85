//! An answered write is a committed one: the real `itv-server` binary, killed with SIGKILL in
//! the middle of a storm of concurrent creations (so in the middle of group commits), comes
//! back with every request it answered 201, each with its `request.created` event, and no
//! ticket number twice. (A power cut is argued in docs/durability.md: it is the fsync that
//! `synchronous=FULL` does before the answer.)

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

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

    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..16 {
        let (http, url, token, answered) =
            (http.clone(), url.clone(), token.clone(), answered.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let sent = http
                    .post(format!("{url}/api/client/requests/intervention"))
                    .bearer_auth(&token)
                    .json(&json!({
                        "type": "urgent",
                        "title": format!("Coupure {w}-{i}"),
                        "description": "Plus d'image sur l'enregistreur",
                        "site": "Plateau"
                    }))
                    .send()
                    .await;
                let Ok(resp) = sent else { return };
                if resp.status() != 201 {
                    return;
                }
                let Ok(body) = resp.json::<Value>().await else {
                    return;
                };
                let id = body["ticket"]["_id"].as_str().unwrap().to_string();
                answered.lock().unwrap().push(id);
            }
        }));
    }
    // Let the storm build, then pull the plug on the process.
    while answered.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();

    let db = rusqlite::Connection::open(dir.path().join("itv.db")).unwrap();
    let stored: HashSet<String> = db
        .prepare("SELECT id FROM requests")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let logged: HashSet<String> = db
        .prepare("SELECT request_id FROM events WHERE body LIKE '%\"request.created\"%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let lost: Vec<&String> = answered.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} answered 201 but not stored: {lost:?}",
        lost.len()
    );
    let unlogged: Vec<&String> = answered.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(
        unlogged.is_empty(),
        "stored without their event: {unlogged:?}"
    );
    let (tickets, distinct): (i64, i64) = db
        .query_row(
            "SELECT count(ticket_number), count(DISTINCT ticket_number) FROM requests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(tickets, distinct, "a ticket number given twice");
    drop(db);

    // And the server starts again on what the kill left.
    let (mut again, url) = serve(dir.path());
    assert!(!client_token(&http, &url).await.is_empty());
    again.kill().unwrap();
    again.wait().unwrap();
}
