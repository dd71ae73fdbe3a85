//! The real server for system tests (in-process `TestServer`, or the
//! `itv-server` binary as a process a test can kill), a small client-side
//! HTTP helper, a counting notifier and wait helpers.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use itv_desk::{EngineConfig, Notice, Notifier, notify::ClickSender};
use itv_server::testing::TestServer;
use serde_json::{Value, json};

pub const PASSWORD: &str = "motdepasse-solide-42";

/// Test config: no rate limits (tests create many requests quickly).
pub fn config(dir: &Path) -> itv_server::Config {
    let mut c = itv_server::Config::for_dir(dir.to_path_buf());
    c.rate_create_per_account = 0;
    c.rate_create_per_address = 0;
    c.rate_login_per_account = 0;
    c.rate_login_per_address = 0;
    c.rate_login_global_per_account = 0;
    c
}

pub async fn start_server(dir: &Path) -> TestServer {
    TestServer::start_with(config(dir)).await
}

/// Users every scenario needs.
pub struct Users {
    pub admin: String,
    pub tech: String,
    pub tech_id: String,
    pub client: String,
}

pub fn create_users(s: &TestServer) -> Users {
    use itv_core::Role;
    s.create_user(Role::Admin, "admin@itvision.sn", "Awa Admin", PASSWORD);
    let tech = s.create_user(
        Role::Technician,
        "tech@itvision.sn",
        "Moussa Tech",
        PASSWORD,
    );
    s.create_user(Role::Client, "client@hotel.sn", "Hôtel Téranga", PASSWORD);
    Users {
        admin: "admin@itvision.sn".into(),
        tech: "tech@itvision.sn".into(),
        tech_id: tech.id.to_string(),
        client: "client@hotel.sn".into(),
    }
}

/// A running server with the cast, its data dir, a plain HTTP client and the client's and
/// admin's tokens: what most scenarios start from.
pub struct Stage {
    pub srv: TestServer,
    pub dir: tempfile::TempDir,
    pub users: Users,
    pub http: Http,
    pub client: String,
    pub admin: String,
}

impl Stage {
    pub async fn start() -> Stage {
        let dir = tempfile::tempdir().unwrap();
        let srv = TestServer::start_with(config(dir.path())).await;
        let users = create_users(&srv);
        let http = Http::new(&srv.url);
        let client = http.login(&users.client).await;
        let admin = http.login(&users.admin).await;
        Stage {
            srv,
            dir,
            users,
            http,
            client,
            admin,
        }
    }

    /// The server's database file (to lock it from another connection, for instance).
    pub fn database_path(&self) -> PathBuf {
        itv_server::Config::for_dir(self.dir.path().to_path_buf()).database_path()
    }
}

/// The `_id` of a created request, as a creation answer gives it.
pub fn id_of(created: &Value) -> String {
    created["_id"].as_str().expect("an _id").to_owned()
}

/// Engine settings for tests: quick reconnects.
pub fn engine_config(notifier: Option<Arc<dyn Notifier>>) -> EngineConfig {
    EngineConfig {
        notifier,
        use_keyring: false,
        keyring_service: "itv-desk-test".into(),
        backoff: itv_desk::sync::Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        },
        reminder_tick: Duration::from_millis(200),
        // A few hundred requests make several pages.
        sync_page: 100,
        ..EngineConfig::default()
    }
}

/// A free local port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn server_binary() -> PathBuf {
    // target/debug/deps/<test> → target/debug/itv-server
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("itv-server");
    assert!(
        bin.is_file(),
        "{} missing: run `cargo build -p itv-server` first",
        bin.display()
    );
    bin
}

/// The real `itv-server` binary as a child process.
pub struct ServerProcess {
    pub url: String,
    child: Child,
}

impl ServerProcess {
    pub fn spawn(port: u16, data_dir: &Path) -> ServerProcess {
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(server_binary())
            .args(["serve", "--addr", &addr, "--data-dir"])
            .arg(data_dir)
            .args([
                "--rate-create-per-account",
                "0",
                "--rate-create-per-address",
                "0",
                "--rate-login-per-account",
                "0",
                "--rate-login-per-address",
                "0",
                "--rate-login-global-per-account",
                "0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("itv-server starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "itv-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        ServerProcess {
            url: format!("http://{addr}"),
            child,
        }
    }

    /// SIGKILL: no graceful shutdown.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Client-side HTTP calls (as the portal or another staff member would make).
#[derive(Clone)]
pub struct Http {
    pub url: String,
    http: reqwest::Client,
}

impl Http {
    pub fn new(url: &str) -> Http {
        Http {
            url: url.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    pub async fn login(&self, email: &str) -> String {
        self.login_with(email, PASSWORD).await
    }

    pub async fn login_with(&self, email: &str, password: &str) -> String {
        let v: Value = self
            .http
            .post(format!("{}/api/auth/login", self.url))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["token"].as_str().expect("token").to_owned()
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Result<Value, String> {
        let resp = self
            .http
            .post(format!("{}{}", self.url, path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let v: Value = resp.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(v)
        } else {
            Err(format!("{status}: {v}"))
        }
    }

    /// Any method; resolves to (status, body) whatever the status.
    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.url, path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> Value {
        self.http
            .get(format!("{}{}", self.url, path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Creates an intervention; returns the ticket.
    pub async fn intervention(
        &self,
        token: &str,
        urgent: bool,
        title: &str,
    ) -> Result<Value, String> {
        let body = json!({
            "type": if urgent { "urgent" } else { "planned" },
            "title": title,
            "description": "La caméra ne fonctionne plus depuis ce matin",
            "site": "Siège social - 123 Rue de Dakar",
        });
        self.post(token, "/api/client/requests/intervention", body)
            .await
            .map(|v| v["ticket"].clone())
    }

    pub async fn project(&self, token: &str, name: &str) -> Result<Value, String> {
        let body = json!({
            "name": name,
            "serviceType": "surveillance",
            "description": "Installation de 16 caméras IP",
            "address": "123 Rue de Dakar, Sénégal",
            "urgency": "normal",
        });
        self.post(token, "/api/client/requests/project", body)
            .await
            .map(|v| v["project"].clone())
    }

    pub async fn quote(&self, token: &str, title: &str) -> Result<Value, String> {
        let body = json!({
            "title": title,
            "category": "equipment",
            "description": "Nous souhaitons installer 10 caméras",
        });
        self.post(token, "/api/client/requests/quote", body)
            .await
            .map(|v| v["ticket"].clone())
    }

    /// Every request the token may see, as sorted (id, version).
    pub async fn all_versions(&self, token: &str) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/requests?limit=100".to_string();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let v = self.get(token, &path).await;
            for r in v["requests"].as_array().expect("requests") {
                out.push((
                    r["_id"].as_str().unwrap().to_owned(),
                    r["version"].as_i64().unwrap(),
                ));
            }
            match v["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        out.sort();
        out
    }
}

/// A notifier that records what the engine asked to show (fault tests; the
/// D-Bus path is proven by the notification tests).
#[derive(Default)]
pub struct CountingNotifier {
    pub shown: Mutex<Vec<Notice>>,
}

impl Notifier for CountingNotifier {
    fn show(&self, notice: &Notice, _clicks: ClickSender) -> Result<(), String> {
        self.shown.lock().unwrap().push(notice.clone());
        Ok(())
    }
}

impl CountingNotifier {
    pub fn keys(&self) -> Vec<String> {
        self.shown
            .lock()
            .unwrap()
            .iter()
            .map(|n| n.key.clone())
            .collect()
    }
}

/// Polls `check` until it returns true.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the engine reports it is live.
pub async fn wait_live(engine: &itv_desk::Engine) {
    wait_until("engine live", Duration::from_secs(20), || async {
        engine.connection() == itv_desk::ConnectionState::Live
    })
    .await;
}
