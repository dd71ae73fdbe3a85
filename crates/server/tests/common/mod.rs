//! Shared by the server's integration tests: a real server and a small HTTP client.
#![allow(dead_code)]

use itv_core::Role;
use itv_server::store::User;
use itv_server::testing::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const PASSWORD: &str = "motdepasse-solide";

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Api {
    pub fn anonymous(server: &TestServer) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: server.url.clone(),
            token: None,
        }
    }

    /// Signs in through the real login endpoint.
    pub async fn login(server: &TestServer, email: &str) -> Api {
        let mut api = Api::anonymous(server);
        let (status, body) = api
            .post(
                "/api/auth/login",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {email}: {body}");
        api.token = Some(body["token"].as_str().unwrap().to_string());
        api
    }

    fn with_auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = self.with_auth(rb).send().await.expect("request sent");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(format!("{}{}", self.base, path)))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(format!("{}{}", self.base, path)).json(&body))
            .await
    }

    pub async fn post_idem(&self, path: &str, body: Value, key: &str) -> (StatusCode, Value) {
        self.send(
            self.http
                .post(format!("{}{}", self.base, path))
                .header("Idempotency-Key", key)
                .json(&body),
        )
        .await
    }
}

/// One account of each role plus a second client.
pub struct Cast {
    pub admin: User,
    pub tech: User,
    pub tech2: User,
    pub client: User,
    pub other_client: User,
}

pub fn cast(server: &TestServer) -> Cast {
    Cast {
        admin: server.create_user(Role::Admin, "admin@test.sn", "Admin Test", PASSWORD),
        tech: server.create_user(Role::Technician, "tech@test.sn", "Moussa Tech", PASSWORD),
        tech2: server.create_user(Role::Technician, "tech2@test.sn", "Fatou Tech", PASSWORD),
        client: server.create_user(Role::Client, "client@test.sn", "Client XYZ", PASSWORD),
        other_client: server.create_user(Role::Client, "autre@test.sn", "Autre Client", PASSWORD),
    }
}

pub fn seed_project() -> Value {
    json!({
        "name": "Installation vidéosurveillance",
        "serviceType": "surveillance",
        "description": "Installation de 16 caméras IP...",
        "address": "123 Rue de Dakar, Sénégal",
        "estimatedBudget": 2500000,
        "preferredStartDate": "2025-12-01",
        "urgency": "normal"
    })
}

pub fn seed_intervention() -> Value {
    json!({
        "type": "urgent",
        "title": "Caméra défectueuse entrée principale",
        "description": "La caméra ne fonctionne plus depuis ce matin...",
        "site": "Siège social - 123 Rue de Dakar",
        "preferredDate": "2025-11-20"
    })
}

pub fn seed_quote() -> Value {
    json!({
        "title": "Devis pour 10 caméras IP 4K",
        "category": "equipment",
        "description": "Nous souhaitons installer 10 caméras...",
        "estimatedBudget": 1500000,
        "deadline": "Dans 2 semaines",
        "items": [
            {"name": "Caméra IP 4K", "quantity": 10, "specifications": "Vision nocturne 30m"},
            {"name": "NVR 16 canaux", "quantity": 1, "specifications": "4TB HDD"}
        ]
    })
}

/// A planned intervention with a distinct title.
pub fn planned(title: &str) -> Value {
    json!({
        "type": "planned",
        "title": title,
        "description": "Maintenance préventive des équipements",
        "site": "Agence Almadies"
    })
}

/// The `_id` of a created request, from a client API answer.
pub fn id_of(body: &Value) -> String {
    let r = if body.get("project").is_some() {
        &body["project"]
    } else {
        &body["ticket"]
    };
    r["_id"].as_str().expect("an _id").to_string()
}

/// An urgent intervention created by `client` (the seed's example); its `_id`.
pub async fn urgent_call(client: &Api) -> String {
    let (status, body) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id_of(&body)
}

/// Events of `type` in the server's log, oldest first.
pub fn logged(server: &TestServer, event_type: &str) -> Vec<Value> {
    let store = server.state().store.clone();
    itv_server::testing::off_runtime(move || store.events_after(0, 10_000, None))
        .unwrap()
        .into_iter()
        .map(|e| serde_json::to_value(&e.event).unwrap())
        .filter(|e| e["type"] == event_type)
        .collect()
}

/// The PostgreSQL cluster of a test that needs one, or `None` after a loud message (a
/// failure when CI requires it, `ITV_REQUIRE_POSTGRES=1`).
pub fn cluster_or_skip(test: &str) -> Option<String> {
    if let Some(url) = itv_server::testing::test_cluster() {
        return Some(url);
    }
    let hint = "set ITV_TEST_DATABASE_URL (bash scripts/test-postgres.sh starts a cluster)";
    if std::env::var_os("ITV_REQUIRE_POSTGRES").is_some() {
        panic!("{test} needs PostgreSQL: {hint}");
    }
    // Straight to the terminal: the test harness captures `eprintln!` of a passing test.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED {test}: it needs PostgreSQL; {hint} ***"
    );
    None
}

// ---------------------------------------------------------------------------
// The live feed, over a real WebSocket.

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(server: &TestServer, user: &User, since: Option<i64>) -> Ws {
    connect_url(&server.url, &server.token_for(user), since).await
}

/// The feed of the server at `base` (`http://…`), signed in with `token`.
pub async fn connect_url(base: &str, token: &str, since: Option<i64>) -> Ws {
    let ws = base.replacen("http://", "ws://", 1);
    let url = match since {
        Some(s) => format!("{ws}/api/feed?since={s}"),
        None => format!("{ws}/api/feed"),
    };
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("feed connects");
    ws
}

/// The next JSON text frame, skipping pings.
pub async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("stream open")
            .expect("frame ok");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------
// What a database holds after a crash or a power cut.

/// Found in a database after a crash, against the creations answered 201 before it.
#[derive(Debug)]
pub struct AfterCrash {
    /// `PRAGMA integrity_check`: "ok" for a sound file.
    pub integrity: String,
    /// Answered 201 but not stored.
    pub lost: Vec<String>,
    /// Stored without their `request.created` event.
    pub unlogged: Vec<String>,
    /// Requests stored in all, and how many distinct ticket numbers they carry.
    pub stored: usize,
    pub tickets: (i64, i64),
}

impl AfterCrash {
    /// Against the `answered` ids: the requests `stored`, those `logged` with their
    /// `request.created` event, the ticket numbers given and distinct.
    fn found(
        answered: &[String],
        integrity: String,
        (stored, logged): (&HashSet<String>, &HashSet<String>),
        tickets: (i64, i64),
    ) -> AfterCrash {
        let missing = |found: &HashSet<String>| -> Vec<String> {
            answered
                .iter()
                .filter(|id| !found.contains(*id))
                .cloned()
                .collect()
        };
        AfterCrash {
            integrity,
            lost: missing(stored),
            unlogged: missing(logged),
            stored: stored.len(),
            tickets,
        }
    }

    /// Every answered creation is there, with its event, and no ticket number twice.
    pub fn assert_nothing_answered_was_lost(&self, answered: usize) {
        assert!(
            self.lost.is_empty(),
            "{} of {answered} answered 201 but not stored: {:?}",
            self.lost.len(),
            self.lost
        );
        assert!(
            self.unlogged.is_empty(),
            "stored without their event: {:?}",
            self.unlogged
        );
        assert_eq!(
            self.tickets.0, self.tickets.1,
            "a ticket number given twice"
        );
    }
}

pub fn after_crash(db: &std::path::Path, answered: &[String]) -> AfterCrash {
    let db = rusqlite::Connection::open(db).unwrap();
    let mut integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    // The search index holds exactly the stored requests, with their text (rank 1: checked
    // against the content table), and nothing waits to be indexed after a commit.
    let fts = db.execute(
        "INSERT INTO requests_fts (requests_fts, rank) VALUES ('integrity-check', 1)",
        [],
    );
    let pending: i64 = db
        .query_row("SELECT count(*) FROM requests_fts_pending", [], |r| {
            r.get(0)
        })
        .unwrap();
    if let Err(e) = fts {
        integrity = format!("search index: {e}");
    } else if pending != 0 {
        integrity = format!("search index: {pending} rows committed unindexed");
    }
    let ids = |sql: &str| -> HashSet<String> {
        db.prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let stored = ids("SELECT id FROM requests");
    let logged = ids("SELECT request_id FROM events WHERE body LIKE '%\"request.created\"%'");
    let tickets = db
        .query_row(
            "SELECT count(ticket_number), count(DISTINCT ticket_number) FROM requests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    AfterCrash::found(answered, integrity, (&stored, &logged), tickets)
}

/// `after_crash` on a PostgreSQL database, and the log's head. The database checks its
/// own pages (checksums, WAL replay), so `integrity` only says that.
pub fn after_crash_pg(url: &str, answered: &[String]) -> (AfterCrash, i64) {
    let mut db = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let mut ids = |sql: &str| -> HashSet<String> {
        db.query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let stored = ids("SELECT id FROM requests");
    let logged = ids("SELECT request_id FROM events WHERE body->>'type' = 'request.created'");
    let row = db
        .query_one(
            "SELECT count(ticket_number), count(DISTINCT ticket_number), (SELECT last FROM event_counter) FROM requests",
            &[],
        )
        .unwrap();
    let found = AfterCrash::found(
        answered,
        "checked by PostgreSQL".into(),
        (&stored, &logged),
        (row.get(0), row.get(1)),
    );
    (found, row.get(2))
}

/// Concurrent clients creating urgent interventions as fast as the server answers, each
/// stopping at its first answer that is not 201 (or no answer at all).
pub struct Storm {
    answered: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    writers: Vec<tokio::task::JoinHandle<()>>,
}

impl Storm {
    pub fn start(url: &str, token: &str, writers: usize) -> Storm {
        let http = reqwest::Client::new();
        let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writers = (0..writers)
            .map(|w| {
                let (http, url, token) = (http.clone(), url.to_string(), token.to_string());
                let answered = answered.clone();
                tokio::spawn(async move {
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
                        if resp.status() != StatusCode::CREATED {
                            return;
                        }
                        let Ok(body) = resp.json::<Value>().await else {
                            return;
                        };
                        answered.lock().unwrap().push(id_of(&body));
                    }
                })
            })
            .collect();
        Storm { answered, writers }
    }

    /// Waits until `n` creations have been answered 201; fails if every client stopped first
    /// or a minute passes.
    pub async fn until_answered(&self, n: usize) {
        let wait = async {
            while self.answered.lock().unwrap().len() < n {
                let stopped = self.writers.iter().all(|w| w.is_finished());
                assert!(
                    !stopped,
                    "every client stopped before {n} creations were answered"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("{n} creations not answered within a minute"));
    }

    /// Waits (a minute at most) for every client to stop; the `_id`s answered 201.
    pub async fn end(self) -> Vec<String> {
        let all = async {
            for w in self.writers {
                w.await.unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(60), all)
            .await
            .expect("the clients stop (the server answers them no more)");
        self.answered.lock().unwrap().clone()
    }
}

/// The real `itv-server serve --demo` binary on a free port over `dir`, with `env` added; the
/// process and its base URL (from the "listening on" line it prints first).
pub fn serve_demo(dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    serve(dir, &["--demo"], env)
}

/// A session token of a `serve --demo` account (password `demo1234`) from the server at
/// `base`, through the real login endpoint.
pub async fn demo_token(http: &reqwest::Client, base: &str, email: &str) -> String {
    let body: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": email, "password": "demo1234"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().expect("a token").to_string()
}

/// `itv-server serve` with `args`, as `serve_demo`.
pub fn serve(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_itv-server"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(args)
        .env("ITV_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the address is printed")
        .to_string();
    (child, url)
}
