//! The role × endpoint × ownership matrix, generated from the served OpenAPI document.
//!
//! Every `(method, path)` operation of `GET /api/openapi.json` must have at least one
//! row in `MATRIX`, and every row must name an operation of the document, so a new
//! route cannot ship without its access rules written down here. Each row gives, once,
//! the status each of the seven personas must get (`PERSONAS`, in column order); every
//! expected status must be one of the operation's documented responses.
//!
//! Each cell runs against fresh fixtures created over HTTP (an intervention owned by
//! the owner client, assigned or not to the assigned technician; a quote request,
//! prepared and sent or not…) with a valid body, so an allowed call really succeeds
//! and one persona's change never decides another's cell. Error answers must also
//! carry the right `code` (`unauthorized`, `session_ended` with reason `deactivated`,
//! `forbidden`, `not_found`, …). The `/api/feed` upgrade is exercised for real with
//! tokio-tungstenite (101, or the HTTP status it is refused with).
//!
//! All mismatches are collected and printed as one matrix, then asserted once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Instant;

use common::*;
use itv_core::Role;
use itv_server::store::User;
use itv_server::testing::TestServer;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The columns of `MATRIX`, in order.
const PERSONAS: [&str; 7] = [
    "anonymous",
    "owner client",
    "other client",
    "assigned tech",
    "other tech",
    "admin",
    "deactivated",
];
const ANON: usize = 0;
const OWNER: usize = 1;
const OTHER_CLIENT: usize = 2;
const TECH: usize = 3;
const OTHER_TECH: usize = 4;
const ADMIN: usize = 5;
const DEACTIVATED: usize = 6;

/// What `{id}` names in a cell, created fresh for each cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fx {
    /// No path parameter.
    None,
    /// An intervention of the owner client, still `open` (visible to every technician).
    OpenIntervention,
    /// An intervention of the owner client, `assigned` to the assigned technician.
    AssignedIntervention,
    /// A project request of the owner client, `pending`.
    Project,
    /// A quote request of the owner client, `open`, no quote yet.
    OpenQuote,
    /// A quote request with a prepared quote, `in_progress` (not sent).
    PreparedQuote,
    /// A quote request whose quote was sent, `sent`.
    SentQuote,
    /// Another live session of the persona itself.
    OwnSession,
    /// A staff-managed account that is not the last admin (a client).
    Account,
}

/// `(method, path template, fixture, expected status per persona)`.
type Row = (&'static str, &'static str, Fx, [u16; 7]);

const SIGNED_IN: [u16; 7] = [401, 200, 200, 200, 200, 200, 401];
const CLIENT_ONLY: [u16; 7] = [401, 200, 200, 403, 403, 403, 401];
const CLIENT_CREATES: [u16; 7] = [401, 201, 201, 403, 403, 403, 401];
const ADMIN_ONLY: [u16; 7] = [401, 403, 403, 403, 403, 200, 401];

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //                                                                     anon own  oth  tech otec adm  deact
    ("GET",    "/api/health",                        Fx::None,              [200, 200, 200, 200, 200, 200, 200]),
    ("GET",    "/api/openapi.json",                  Fx::None,              [200, 200, 200, 200, 200, 200, 200]),
    // Each persona signs in with its own credentials (anonymous: the owner client's).
    ("POST",   "/api/auth/login",                    Fx::None,              [200, 200, 200, 200, 200, 200, 403]),
    ("GET",    "/api/auth/me",                       Fx::None,              SIGNED_IN),
    // With a second session of the persona, so its main one lives on.
    ("POST",   "/api/auth/logout",                   Fx::None,              SIGNED_IN),
    ("GET",    "/api/auth/sessions",                 Fx::None,              SIGNED_IN),
    ("DELETE", "/api/auth/sessions/{id}",            Fx::OwnSession,        SIGNED_IN),
    // Run last: it ends the persona's other sessions and changes its password.
    ("POST",   "/api/auth/password",                 Fx::None,              SIGNED_IN),

    ("POST",   "/api/client/requests/project",       Fx::None,              CLIENT_CREATES),
    ("GET",    "/api/client/requests/project",       Fx::None,              CLIENT_ONLY),
    ("POST",   "/api/client/requests/intervention",  Fx::None,              CLIENT_CREATES),
    ("GET",    "/api/client/requests/intervention",  Fx::None,              CLIENT_ONLY),
    ("POST",   "/api/client/requests/quote",         Fx::None,              CLIENT_CREATES),
    ("GET",    "/api/client/requests/quote",         Fx::None,              CLIENT_ONLY),

    ("GET",    "/api/requests",                      Fx::None,              SIGNED_IN),
    ("GET",    "/api/requests/{id}",                 Fx::AssignedIntervention, [401, 200, 404, 200, 404, 200, 401]),
    ("GET",    "/api/requests/{id}",                 Fx::OpenIntervention,  [401, 200, 404, 200, 200, 200, 401]),
    ("GET",    "/api/requests/{id}",                 Fx::Project,           [401, 200, 404, 404, 404, 200, 401]),
    ("GET",    "/api/requests/{id}",                 Fx::SentQuote,         [401, 200, 404, 404, 404, 200, 401]),
    // Clients ask `cancelled`, staff `en_route`.
    ("POST",   "/api/requests/{id}/status",          Fx::AssignedIntervention, [401, 200, 404, 200, 404, 200, 401]),
    // Everyone asks `cancelled`: the owner or an admin only.
    ("POST",   "/api/requests/{id}/status",          Fx::OpenIntervention,  [401, 200, 404, 403, 403, 200, 401]),
    // Everyone asks `active`: an admin only.
    ("POST",   "/api/requests/{id}/status",          Fx::Project,           [401, 403, 404, 404, 404, 200, 401]),
    // Everyone asks `accepted`: the owner only.
    ("POST",   "/api/requests/{id}/status",          Fx::SentQuote,         [401, 200, 404, 404, 404, 403, 401]),
    ("POST",   "/api/requests/{id}/assign",          Fx::OpenIntervention,  ADMIN_ONLY),
    // Staff who may see the intervention take it; clients never (403, before any lookup).
    ("POST",   "/api/requests/{id}/ack",             Fx::AssignedIntervention, [401, 403, 403, 200, 404, 200, 401]),
    ("POST",   "/api/requests/{id}/ack",             Fx::OpenIntervention,  [401, 403, 403, 200, 200, 200, 401]),
    ("POST",   "/api/requests/{id}/ack",             Fx::Project,           [401, 403, 403, 404, 404, 400, 401]),
    ("GET",    "/api/requests/{id}/messages",        Fx::AssignedIntervention, [401, 200, 404, 200, 404, 200, 401]),
    ("GET",    "/api/requests/{id}/messages",        Fx::Project,           [401, 200, 404, 404, 404, 200, 401]),
    ("POST",   "/api/requests/{id}/messages",        Fx::AssignedIntervention, [401, 201, 404, 201, 404, 201, 401]),
    ("POST",   "/api/requests/{id}/messages",        Fx::OpenIntervention,  [401, 201, 404, 201, 201, 201, 401]),
    ("POST",   "/api/requests/{id}/messages",        Fx::OpenQuote,         [401, 201, 404, 404, 404, 201, 401]),
    ("PUT",    "/api/requests/{id}/quote",           Fx::OpenQuote,         ADMIN_ONLY),
    ("PUT",    "/api/requests/{id}/quote",           Fx::SentQuote,         [401, 403, 403, 403, 403, 409, 401]),
    ("POST",   "/api/requests/{id}/quote/send",      Fx::PreparedQuote,     ADMIN_ONLY),
    // Staff preview a prepared quote; the owner sees it once sent.
    ("GET",    "/api/requests/{id}/quote.pdf",       Fx::PreparedQuote,     [401, 404, 404, 404, 404, 200, 401]),
    ("GET",    "/api/requests/{id}/quote.pdf",       Fx::SentQuote,         [401, 200, 404, 404, 404, 200, 401]),

    ("GET",    "/api/staff/technicians",             Fx::None,              ADMIN_ONLY),
    ("GET",    "/api/staff/metrics",                 Fx::None,              ADMIN_ONLY),
    ("GET",    "/api/staff/users",                   Fx::None,              ADMIN_ONLY),
    ("POST",   "/api/staff/users",                   Fx::None,              [401, 403, 403, 403, 403, 201, 401]),
    ("PATCH",  "/api/staff/users/{id}",              Fx::Account,           ADMIN_ONLY),
    ("POST",   "/api/staff/users/{id}/password",     Fx::Account,           ADMIN_ONLY),

    // The WebSocket upgrade, for real: without a header the socket opens and waits
    // for the browser's auth frame; a dead session is refused before the upgrade.
    ("GET",    "/api/feed",                          Fx::None,              [101, 101, 101, 101, 101, 101, 401]),
    ("GET",    "/api/feed/head",                     Fx::None,              SIGNED_IN),
];

/// Rows that change the persona itself run after every other row.
fn runs_last(row: &Row) -> bool {
    row.1 == "/api/auth/password"
}

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// One operation of the OpenAPI document.
struct Operation {
    responses: BTreeSet<u16>,
    /// `security` requires the bearer token (no `{}` alternative).
    protected: bool,
}

fn operations(doc: &Value) -> BTreeMap<(String, String), Operation> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in HTTP_METHODS {
            let Some(op) = item.get(method) else { continue };
            let responses = op["responses"]
                .as_object()
                .map(|r| r.keys().filter_map(|k| k.parse().ok()).collect())
                .unwrap_or_default();
            let protected = op["security"].as_array().is_some_and(|alts| {
                !alts.is_empty()
                    && alts
                        .iter()
                        .all(|a| a.as_object().is_some_and(|o| !o.is_empty()))
            });
            ops.insert(
                (method.to_uppercase(), path.clone()),
                Operation {
                    responses,
                    protected,
                },
            );
        }
    }
    ops
}

struct Persona {
    user: Option<User>,
    email: String,
    /// The main token, from a real sign-in (ended, for the deactivated persona).
    token: Option<String>,
}

struct World {
    server: TestServer,
    http: reqwest::Client,
    personas: Vec<Persona>,
    admin_token: String,
    owner_token: String,
    tech_id: String,
    target_id: String,
    /// A second session of the deactivated technician, ended with the account.
    deactivated_other_session: String,
    seq: std::cell::Cell<u32>,
    _dir: tempfile::TempDir,
}

/// What a call answered.
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn code(&self) -> Option<&str> {
        self.body.get("code").and_then(Value::as_str)
    }

    fn describe(&self) -> String {
        let text = match &self.body {
            Value::String(s) => s.chars().take(120).collect(),
            other => {
                let s = other.to_string();
                if s.chars().count() > 300 {
                    format!("{}…", s.chars().take(300).collect::<String>())
                } else {
                    s
                }
            }
        };
        format!("{} {}", self.status, text)
    }
}

impl World {
    fn unique(&self) -> u32 {
        let n = self.seq.get() + 1;
        self.seq.set(n);
        n
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.server.url));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let pdf = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/pdf"));
        let bytes = resp.bytes().await.unwrap_or_default();
        let body = if pdf {
            Value::String(format!("<pdf, {} bytes>", bytes.len()))
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Answer { status, body }
    }

    /// A call that sets up a fixture: it must succeed.
    async fn setup(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let a = self.call(method, path, Some(token), body.as_ref()).await;
        assert!(
            (200..300).contains(&a.status),
            "fixture {method} {path}: {}",
            a.describe()
        );
        a.body
    }

    async fn create(&self, kind: &str, body: Value) -> String {
        let created = self
            .setup(
                "POST",
                &format!("/api/client/requests/{kind}"),
                &self.owner_token,
                Some(body),
            )
            .await;
        id_of(&created)
    }

    async fn intervention(&self) -> String {
        let title = format!("Intervention matrice {}", self.unique());
        self.create("intervention", planned(&title)).await
    }

    async fn quote_request(&self) -> String {
        self.create("quote", seed_quote()).await
    }

    async fn prepare_quote(&self, id: &str) {
        self.setup(
            "PUT",
            &format!("/api/requests/{id}/quote"),
            &self.admin_token,
            Some(quote_lines()),
        )
        .await;
    }

    /// A fresh session of `persona`'s account: `(token, session id)`.
    async fn second_session(&self, persona: usize) -> (String, String) {
        let user = self.personas[persona].user.as_ref().expect("a user");
        let token = self.server.token_for(user);
        let me = self.setup("GET", "/api/auth/me", &token, None).await;
        let id = me["sessionId"].as_str().expect("sessionId").to_string();
        (token, id)
    }

    /// The `{id}` of a cell, created for it alone.
    async fn fixture(&self, fx: Fx, persona: usize) -> Option<String> {
        Some(match fx {
            Fx::None => return None,
            Fx::OpenIntervention => self.intervention().await,
            Fx::AssignedIntervention => {
                let id = self.intervention().await;
                self.setup(
                    "POST",
                    &format!("/api/requests/{id}/assign"),
                    &self.admin_token,
                    Some(json!({"technicianId": self.tech_id})),
                )
                .await;
                id
            }
            Fx::Project => self.create("project", seed_project()).await,
            Fx::OpenQuote => self.quote_request().await,
            Fx::PreparedQuote => {
                let id = self.quote_request().await;
                self.prepare_quote(&id).await;
                id
            }
            Fx::SentQuote => {
                let id = self.quote_request().await;
                self.prepare_quote(&id).await;
                self.setup(
                    "POST",
                    &format!("/api/requests/{id}/quote/send"),
                    &self.admin_token,
                    None,
                )
                .await;
                id
            }
            Fx::OwnSession => match persona {
                DEACTIVATED => self.deactivated_other_session.clone(),
                // Nobody's own: some live session (the owner client's).
                ANON => self.second_session(OWNER).await.1,
                p => self.second_session(p).await.1,
            },
            Fx::Account => self.target_id.clone(),
        })
    }

    /// A valid body for `persona` calling this row's operation.
    fn body(&self, row: &Row, persona: usize) -> Option<Value> {
        let staff = matches!(persona, TECH | OTHER_TECH | ADMIN);
        Some(match (row.0, row.1) {
            ("POST", "/api/auth/login") => {
                let who = if persona == ANON { OWNER } else { persona };
                json!({"email": self.personas[who].email, "password": PASSWORD})
            }
            ("POST", "/api/auth/password") => {
                json!({"currentPassword": PASSWORD, "newPassword": "nouveau-secret-7"})
            }
            ("POST", "/api/client/requests/project") => seed_project(),
            ("POST", "/api/client/requests/intervention") => {
                planned(&format!("Intervention matrice {}", self.unique()))
            }
            ("POST", "/api/client/requests/quote") => seed_quote(),
            ("POST", "/api/requests/{id}/status") => {
                let status = match row.2 {
                    Fx::AssignedIntervention if staff => "en_route",
                    Fx::AssignedIntervention => "cancelled",
                    Fx::OpenIntervention => "cancelled",
                    Fx::Project => "active",
                    Fx::SentQuote => "accepted",
                    other => panic!("no status body for {other:?}"),
                };
                json!({"status": status})
            }
            ("POST", "/api/requests/{id}/assign") => json!({"technicianId": self.tech_id}),
            ("POST", "/api/requests/{id}/messages") => {
                json!({"body": format!("Message {} de {}", self.unique(), PERSONAS[persona])})
            }
            ("PUT", "/api/requests/{id}/quote") => quote_lines(),
            ("POST", "/api/staff/users") => json!({
                "name": "Nouveau Technicien",
                "email": format!("nouveau{}@test.sn", self.unique()),
                "role": "TECHNICIAN",
                "password": "nouveau-secret-7",
            }),
            ("PATCH", "/api/staff/users/{id}") => {
                json!({"name": format!("Compte Cible {}", self.unique())})
            }
            ("POST", "/api/staff/users/{id}/password") => json!({"password": "remis-a-zero-9"}),
            _ => return None,
        })
    }

    /// Runs one cell.
    async fn cell(&self, row: &Row, persona: usize) -> Answer {
        let (method, template, fx, _) = *row;
        let id = self.fixture(fx, persona).await;
        let path = match &id {
            Some(id) => template.replace("{id}", id),
            None => template.to_string(),
        };
        let main = self.personas[persona].token.clone();
        let token = match template {
            // Sign out a second session of the persona, not its main one.
            "/api/auth/logout" if !matches!(persona, ANON | DEACTIVATED) => {
                Some(self.second_session(persona).await.0)
            }
            _ => main,
        };
        if template == "/api/feed" {
            return self.upgrade(token.as_deref()).await;
        }
        let body = self.body(row, persona);
        self.call(method, &path, token.as_deref(), body.as_ref())
            .await
    }

    /// Opens the feed socket: 101, or the status the upgrade was refused with.
    async fn upgrade(&self, token: Option<&str>) -> Answer {
        let mut req = format!("{}/api/feed", self.server.ws_url())
            .into_client_request()
            .unwrap();
        if let Some(t) = token {
            req.headers_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((mut ws, resp)) => {
                let _ = ws.close(None).await;
                Answer {
                    status: resp.status().as_u16(),
                    body: Value::Null,
                }
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let body = resp
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                Answer {
                    status: resp.status().as_u16(),
                    body,
                }
            }
            Err(e) => Answer {
                status: 0,
                body: Value::String(format!("websocket error: {e}")),
            },
        }
    }
}

fn quote_lines() -> Value {
    let valid_until = chrono::Utc::now().date_naive() + chrono::Days::new(30);
    json!({
        "lines": [
            {"designation": "Caméra IP 4K", "quantity": 10, "unitPrice": 125_000},
            {"designation": "NVR 16 canaux", "quantity": 1, "unitPrice": 350_000}
        ],
        "discount": 100_000,
        "validUntil": valid_until.to_string(),
        "notes": "Installation comprise."
    })
}

/// The `code` an error answer of this cell must carry (`None`: a success).
fn expected_code(row: &Row, persona: usize, status: u16) -> Option<&'static str> {
    Some(match status {
        401 if persona == DEACTIVATED => "session_ended",
        401 => "unauthorized",
        403 if row.1 == "/api/auth/login" => "account_disabled",
        403 => "forbidden",
        404 => "not_found",
        409 if row.1.ends_with("/quote") || row.1.ends_with("/status") => "invalid_transition",
        409 => "conflict",
        _ => return None,
    })
}

/// Signs in, deactivates one technician, and returns everything cells need.
async fn world() -> World {
    // Fixtures are created per cell by the owner client: lift the creation limits
    // (20 a minute per account by default), which are not what this test is about.
    let dir = tempfile::tempdir().unwrap();
    let mut config = itv_server::Config::for_dir(dir.path().to_path_buf());
    config.rate_create_per_account = 0;
    config.rate_create_per_address = 0;
    let server = TestServer::start_with(config).await;
    let cast = cast(&server);
    let gone = server.create_user(
        Role::Technician,
        "desactive@test.sn",
        "Ancien Tech",
        PASSWORD,
    );
    let target = server.create_user(Role::Client, "cible@test.sn", "Compte Cible", PASSWORD);
    let mut users: [Option<User>; 7] = Default::default();
    users[OWNER] = Some(cast.client);
    users[OTHER_CLIENT] = Some(cast.other_client);
    users[TECH] = Some(cast.tech);
    users[OTHER_TECH] = Some(cast.tech2);
    users[ADMIN] = Some(cast.admin);
    users[DEACTIVATED] = Some(gone);
    let mut personas = Vec::new();
    for user in users {
        let (email, token) = match &user {
            Some(u) => (u.email.clone(), Api::login(&server, &u.email).await.token),
            None => (String::new(), None),
        };
        personas.push(Persona { user, email, token });
    }
    let token = |p: usize| personas[p].token.clone().unwrap();
    let (admin_token, owner_token) = (token(ADMIN), token(OWNER));
    let tech_id = personas[TECH].user.as_ref().unwrap().id.clone();

    // The deactivated technician: signed in twice, then deactivated by an admin.
    let http = reqwest::Client::new();
    let mut w = World {
        server,
        http,
        personas,
        admin_token,
        owner_token,
        tech_id,
        target_id: target.id,
        deactivated_other_session: String::new(),
        seq: std::cell::Cell::new(0),
        _dir: dir,
    };
    let other = Api::login(&w.server, "desactive@test.sn").await;
    let me = w
        .setup("GET", "/api/auth/me", other.token.as_deref().unwrap(), None)
        .await;
    w.deactivated_other_session = me["sessionId"].as_str().unwrap().to_string();
    let gone_id = w.personas[DEACTIVATED].user.as_ref().unwrap().id.clone();
    w.setup(
        "PATCH",
        &format!("/api/staff/users/{gone_id}"),
        &w.admin_token.clone(),
        Some(json!({"active": false})),
    )
    .await;
    w
}

#[tokio::test]
async fn every_operation_answers_every_persona_as_the_matrix_says() {
    let started = Instant::now();
    let w = world().await;
    let mut problems: Vec<String> = Vec::new();

    // The document over HTTP, and the table against it.
    let doc = w.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(doc.status, 200, "{}", doc.describe());
    let ops = operations(&doc.body);
    let rows: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|r| (r.0.to_string(), r.1.to_string()))
        .collect();
    for key in ops.keys() {
        if !rows.contains(key) {
            problems.push(format!(
                "no matrix row for {} {} (add one to MATRIX)",
                key.0, key.1
            ));
        }
    }
    for row in MATRIX {
        let key = (row.0.to_string(), row.1.to_string());
        let Some(op) = ops.get(&key) else {
            problems.push(format!(
                "matrix row {} {} names no operation of the document",
                row.0, row.1
            ));
            continue;
        };
        let mut undocumented: Vec<String> = Vec::new();
        for (p, &status) in row.3.iter().enumerate() {
            if !op.responses.contains(&status) {
                undocumented.push(format!("{status} ({})", PERSONAS[p]));
            }
        }
        undocumented.dedup();
        if !undocumented.is_empty() {
            problems.push(format!(
                "{} {} [{:?}]: expected {} not among the documented responses {:?}",
                row.0,
                row.1,
                row.2,
                undocumented.join(", "),
                op.responses
            ));
        }
        if op.protected && (row.3[ANON] != 401 || row.3[DEACTIVATED] != 401) {
            problems.push(format!(
                "{} {}: protected by the document, but the row does not expect 401 for anonymous and deactivated",
                row.0, row.1
            ));
        }
    }

    // Every cell, for real.
    let mut order: Vec<&Row> = MATRIX.iter().filter(|r| !runs_last(r)).collect();
    order.extend(MATRIX.iter().filter(|r| runs_last(r)));
    let mut results: Vec<(&Row, Vec<Answer>)> = Vec::new();
    for row in order {
        let mut answers = Vec::new();
        for persona in 0..PERSONAS.len() {
            answers.push(w.cell(row, persona).await);
        }
        results.push((row, answers));
    }
    results.sort_by_key(|(row, _)| MATRIX.iter().position(|r| std::ptr::eq(r, *row)));

    let mut grid = String::new();
    let mut details = String::new();
    let mut mismatches = 0;
    let _ = writeln!(
        grid,
        "{:<7} {:<36} {:<20} {}",
        "",
        "",
        "fixture",
        PERSONAS
            .iter()
            .map(|p| format!("{:>14}", p))
            .collect::<String>()
    );
    for (row, answers) in &results {
        let mut cells = String::new();
        let mut bad_row = false;
        for (p, a) in answers.iter().enumerate() {
            let expected = row.3[p];
            let code = expected_code(row, p, expected);
            let code_ok = code.is_none_or(|c| a.code() == Some(c));
            let reason_ok = !(p == DEACTIVATED && expected == 401)
                || a.body.get("reason").and_then(Value::as_str) == Some("deactivated");
            if a.status == expected && code_ok && reason_ok {
                let _ = write!(cells, "{:>14}", expected);
            } else {
                bad_row = true;
                mismatches += 1;
                let got = match a.code() {
                    Some(c) if a.status >= 400 => format!("{} {c}", a.status),
                    _ => a.status.to_string(),
                };
                let _ = write!(cells, "{:>14}", format!("!{expected}→{}", a.status));
                let _ = writeln!(
                    details,
                    "  {} {} [{:?}] as {}: expected {expected}{}, got {got}: {}",
                    row.0,
                    row.1,
                    row.2,
                    PERSONAS[p],
                    code.map(|c| format!(" {c}")).unwrap_or_default(),
                    a.describe()
                );
            }
            if a.status >= 500 || a.status == 0 {
                problems.push(format!(
                    "{} {} [{:?}] as {}: {}",
                    row.0,
                    row.1,
                    row.2,
                    PERSONAS[p],
                    a.describe()
                ));
            }
        }
        let _ = writeln!(
            grid,
            "{}{:<6} {:<36} {:<20}{cells}",
            if bad_row { "!" } else { " " },
            row.0,
            row.1,
            format!("{:?}", row.2)
        );
    }
    let cells = results.len() * PERSONAS.len();
    eprintln!(
        "matrix: {} rows, {} operations, {cells} cells, {mismatches} mismatched, in {:.1?}",
        MATRIX.len(),
        ops.len(),
        started.elapsed()
    );
    if mismatches > 0 {
        problems.push(format!(
            "{mismatches} of {cells} cells differ from the matrix (!expected→actual):\n{grid}\n{details}"
        ));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
