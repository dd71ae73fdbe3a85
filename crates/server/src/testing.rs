//! A real server for tests: ephemeral port, temporary data dir, real SQLite.
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

    pub async fn start_with(config: Config) -> TestServer {
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
        self.server
            .state
            .store
            .create_user(record)
            .expect("user created")
    }

    /// A session token for `user`, as login would give: a new session.
    pub fn token_for(&self, user: &User) -> String {
        let state = &self.server.state;
        let session = state
            .sessions
            .open(user, "test".into(), chrono::Utc::now())
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
