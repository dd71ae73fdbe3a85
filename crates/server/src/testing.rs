//! A real server for tests: ephemeral port, temporary data dir, real SQLite, or with
//! `ITV_TEST_DATABASE_URL` a fresh database of its own on that PostgreSQL cluster
//! (`scripts/pg-cluster.sh`): the same tests run against both backends.
//!
//! Used by this crate's tests and by the desktop engine's system tests.

use std::path::{Path, PathBuf};

use itv_core::Role;

use crate::app::{RunningServer, start};
use crate::config::Config;
use crate::passwords::hash_password;
use crate::store::{NewUserRecord, User};

#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub data_dir: PathBuf,
    server: RunningServer,
    /// Kept alive while the server runs; `None` when the caller owns the dir.
    _temp: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A fresh server on a new temporary data dir.
    pub async fn start() -> TestServer {
        let temp = tempfile::tempdir().expect("temporary data dir");
        let mut server = TestServer::start_with(Config::for_dir(temp.path().to_path_buf())).await;
        server._temp = Some(temp);
        server
    }

    /// A server on `dir`, keeping whatever data is there (a restart).
    pub async fn start_in(dir: &Path) -> TestServer {
        TestServer::start_with(Config::for_dir(dir.to_path_buf())).await
    }

    /// A server on `dir` on SQLite whatever the cluster given, for tests of what only
    /// the SQLite file has (copying it back from a backup, say).
    pub async fn start_sqlite_in(dir: &Path) -> TestServer {
        TestServer::start_sqlite_with(Config::for_dir(dir.to_path_buf())).await
    }

    /// `start_with` on SQLite whatever the cluster given.
    pub async fn start_sqlite_with(config: Config) -> TestServer {
        TestServer::start_on(config).await
    }

    /// The PostgreSQL database the server runs on; `None` on SQLite.
    pub fn database_url(&self) -> Option<&str> {
        self.server.state.config.database_url.as_deref()
    }

    pub async fn start_with(mut config: Config) -> TestServer {
        if config.database_url.is_none()
            && let Some(cluster) = test_cluster()
        {
            let dir = config.data_dir.clone();
            config.database_url = Some(
                tokio::task::spawn_blocking(move || database_for(&cluster, &dir))
                    .await
                    .expect("test database"),
            );
        }
        TestServer::start_on(config).await
    }

    async fn start_on(config: Config) -> TestServer {
        let data_dir = config.data_dir.clone();
        let server = start(config).await.expect("server starts");
        TestServer {
            url: format!("http://{}", server.addr),
            data_dir,
            server,
            _temp: None,
        }
    }

    pub fn ws_url(&self) -> String {
        self.url.replacen("http://", "ws://", 1)
    }

    pub fn state(&self) -> &crate::state::AppState {
        &self.server.state
    }

    /// Creates an account directly in the store.
    pub fn create_user(&self, role: Role, email: &str, name: &str, password: &str) -> User {
        let record = NewUserRecord {
            name: name.into(),
            email: email.to_lowercase(),
            role,
            password_hash: hash_password(password).expect("hash"),
        };
        let store = self.server.state.store.clone();
        off_runtime(move || store.create_user(record)).expect("user created")
    }

    /// A session token for `user`, as login would give: a new session.
    pub fn token_for(&self, user: &User) -> String {
        let state = &self.server.state;
        let session = off_runtime(|| state.sessions.open(user, "test".into(), chrono::Utc::now()))
            .expect("session opened");
        state
            .keys
            .issue(&session, state.sessions.policy.hard_end(session.created_at))
            .expect("token")
    }

    /// Drops every connection at once, as a crash of the process would: the server
    /// records no clean stop.
    pub fn crash(self) -> Option<tempfile::TempDir> {
        self.server.abort();
        self._temp
    }

    /// Stops the server, keeping the data dir if the caller owns it.
    pub async fn stop(self) -> Option<tempfile::TempDir> {
        self.server.stop().await;
        self._temp
    }
}

/// The PostgreSQL cluster the tests run on, if one is given.
pub fn test_cluster() -> Option<String> {
    std::env::var("ITV_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The database of the server on `dir`: created on the first start, found again on a
/// restart (its URL is kept in the dir).
fn database_for(cluster: &str, dir: &Path) -> String {
    let kept = dir.join("test-database-url");
    if let Ok(url) = std::fs::read_to_string(&kept) {
        return url;
    }
    let url = fresh_database(cluster);
    std::fs::create_dir_all(dir).expect("data dir");
    std::fs::write(&kept, &url).expect("test database url kept");
    url
}

/// Creates an empty database on `cluster` (`postgres://user@host:port/db`) and returns
/// its URL.
pub fn fresh_database(cluster: &str) -> String {
    let name = format!("itv_test_{}", uuid::Uuid::new_v4().simple());
    let mut client =
        postgres::Client::connect(cluster, postgres::NoTls).expect("test cluster reachable");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("test database created");
    // `postgres://…/db?sslmode=…`: the database name is replaced, the options kept.
    let (path, options) = match cluster.split_once('?') {
        Some((path, options)) => (path, format!("?{options}")),
        None => (cluster, String::new()),
    };
    let (base, _) = path
        .rsplit_once('/')
        .expect("a cluster URL ends in /database");
    format!("{base}/{name}{options}")
}

/// Runs a store call from a test's async code on a thread of its own. The server makes
/// every store call off its executor; PostgreSQL's blocking client must be, as it runs
/// a runtime of its own, which cannot start inside the test's.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("store call"))
}
