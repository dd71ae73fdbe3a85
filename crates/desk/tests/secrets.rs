//! System tests of the session secret: a round trip through a real
//! gnome-keyring (Secret Service on a private bus), and the in-memory fallback
//! when no secret store runs. Never in a plain file.

mod support;

use std::path::Path;
use std::process::Command;

use itv_desk::{Engine, SecretStorage};
use support::bus::{PrivateBus, block_on, is_child};
use support::server::{PASSWORD, create_users, engine_config, start_server, wait_live};

/// `secret-tool lookup service itv-desk-test username <account>` on the test's bus.
fn lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "itv-desk-test", "username", account])
        .output()
        .expect("secret-tool (libsecret-tools) is required");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True when some file under `dir` contains `needle`.
fn any_file_contains(dir: &Path, needle: &[u8]) -> bool {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            if any_file_contains(&p, needle) {
                return true;
            }
        } else if let Ok(bytes) = std::fs::read(&p)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            return true;
        }
    }
    false
}

#[test]
fn token_round_trip_through_gnome_keyring() {
    if !is_child() {
        let mut bus = PrivateBus::start();
        bus.start_keyring();
        bus.run_child("token_round_trip_through_gnome_keyring");
        return;
    }
    support::init_logs();
    block_on(async {
        let srv_dir = tempfile::tempdir().unwrap();
        let srv = start_server(srv_dir.path()).await;
        let users = create_users(&srv);
        let data = tempfile::tempdir().unwrap();
        let mut cfg = engine_config(None);
        cfg.use_keyring = true;
        let account = format!("{}@{}", users.admin, srv.url);

        let engine = Engine::open(data.path(), cfg.clone()).await.unwrap();
        let session = engine
            .sign_in(&srv.url, &users.admin, PASSWORD)
            .await
            .unwrap();
        assert_eq!(session.secret_storage, SecretStorage::Keyring);
        let token = lookup(&account).expect("secret-tool finds the token");
        assert!(token.len() > 20, "a JWT: {token}");
        wait_live(&engine).await;
        drop(engine);
        assert!(
            !any_file_contains(data.path(), token.as_bytes()),
            "token never written to the data dir"
        );

        // A restart finds the session in the keyring and goes live without sign-in.
        let engine = Engine::open(data.path(), cfg.clone()).await.unwrap();
        let restored = engine.session().expect("session restored from the keyring");
        assert_eq!(restored.secret_storage, SecretStorage::Keyring);
        assert_eq!(restored.user.email, users.admin);
        wait_live(&engine).await;

        // Sign-out removes it from the keyring; the next start is signed out.
        engine.sign_out().await.unwrap();
        assert!(lookup(&account).is_none(), "secret removed on sign-out");
        drop(engine);
        let engine = Engine::open(data.path(), cfg).await.unwrap();
        assert!(engine.session().is_none());
        srv.stop().await;
    });
}

#[test]
fn memory_fallback_when_no_secret_store_runs() {
    if !is_child() {
        // A bus without any Secret Service on it (and nothing auto-started).
        let bus = PrivateBus::start();
        bus.run_child("memory_fallback_when_no_secret_store_runs");
        return;
    }
    support::init_logs();
    block_on(async {
        let srv_dir = tempfile::tempdir().unwrap();
        let srv = start_server(srv_dir.path()).await;
        let users = create_users(&srv);
        let data = tempfile::tempdir().unwrap();
        let mut cfg = engine_config(None);
        cfg.use_keyring = true;

        let engine = Engine::open(data.path(), cfg.clone()).await.unwrap();
        let session = engine
            .sign_in(&srv.url, &users.admin, PASSWORD)
            .await
            .unwrap();
        match &session.secret_storage {
            SecretStorage::Memory { reason } => assert!(!reason.is_empty()),
            other => panic!("expected the in-memory fallback, got {other:?}"),
        }
        assert_eq!(
            engine.session().unwrap().secret_storage,
            session.secret_storage
        );
        // It works for this run.
        wait_live(&engine).await;
        drop(engine);
        // Nothing on disk holds a token: the next run must sign in again.
        let http = support::server::Http::new(&srv.url);
        let token = http.login(&users.admin).await;
        let claims = token.split('.').nth(1).unwrap().to_owned();
        assert!(
            !any_file_contains(data.path(), claims.as_bytes()),
            "no token on disk"
        );
        let engine = Engine::open(data.path(), cfg).await.unwrap();
        assert!(
            engine.session().is_none(),
            "memory secret does not survive a restart"
        );
        srv.stop().await;
    });
}
