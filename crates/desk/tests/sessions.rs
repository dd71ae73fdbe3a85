//! System tests of sessions ended by the server (issue 9): real server, real engine, real
//! D-Bus (a private dbus-daemon with the recording notification server), real gnome-keyring.
//! When an admin deactivates the engine's user, or the user closes the engine's session from
//! another one, the engine stops syncing, forgets the secret, tells the UI why, and raises
//! exactly one critical notification. Plus the engine's own session and account calls.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use itv_desk::{
    AccountPatch, ConnectionState, Engine, EngineEvent, Error, NewAccount, Role, SessionEnd,
};
use reqwest::Method;
use serde_json::json;
use support::bus::{PrivateBus, block_on, is_child};
use support::notifd::NotificationServer;
use support::server::{
    CountingNotifier, PASSWORD, Stage, engine_config, id_of, wait_live, wait_until,
};
use tokio::sync::broadcast::Receiver;

/// Runs the body in a child process on a private bus with gnome-keyring unlocked on it.
fn run_with_keyring(name: &str, body: impl std::future::Future<Output = ()>) {
    if is_child() {
        support::init_logs();
        block_on(body);
    } else {
        let mut bus = PrivateBus::start();
        bus.start_keyring();
        bus.run_child(name);
    }
}

/// `secret-tool lookup` of the engine's keyring entry on the test's bus.
fn keyring_has(account: &str) -> bool {
    std::process::Command::new("secret-tool")
        .args(["lookup", "service", "itv-desk-test", "username", account])
        .output()
        .expect("secret-tool (libsecret-tools) is required")
        .status
        .success()
}

/// The next `SessionEnded` on the event stream.
async fn session_ended(events: &mut Receiver<EngineEvent>) -> SessionEnd {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(EngineEvent::SessionEnded { end }) = events.recv().await {
                return end;
            }
        }
    })
    .await
    .expect("SessionEnded within 5 s")
}

/// One alert, critical, saying alerts stopped and why; nothing more a moment later.
async fn exactly_one_stop_alert(notifd: &NotificationServer, because: &str) {
    let recs = notifd.wait_for(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let recs2 = notifd.recorded();
    assert_eq!(recs2.len(), 1, "exactly one notification: {recs2:#?}");
    let n = &recs[0];
    assert_eq!(n.summary, "IT Vision Desk : alertes arrêtées", "{n:?}");
    assert!(n.body.contains(because), "the reason in the body: {n:?}");
    assert!(
        n.body
            .ends_with("Reconnectez-vous pour recevoir à nouveau les alertes."),
        "{n:?}"
    );
    assert_eq!(n.urgency, Some(2), "critical: {n:?}");
    assert_eq!(n.expire_timeout, 0, "stays until seen: {n:?}");
}

#[test]
fn a_deactivated_user_stops_syncing_forgets_the_secret_and_is_alerted_once() {
    run_with_keyring(
        "a_deactivated_user_stops_syncing_forgets_the_secret_and_is_alerted_once",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            let data = tempfile::tempdir().unwrap();
            let mut cfg = engine_config(None); // notify-rust over the private bus
            cfg.use_keyring = true;
            let engine = Engine::open(data.path(), cfg.clone()).await.unwrap();
            let mut events = engine.subscribe();
            engine
                .sign_in(&stage.srv.url, &stage.users.tech, PASSWORD)
                .await
                .unwrap();
            let account = format!("{}@{}", stage.users.tech, stage.srv.url);
            assert!(
                keyring_has(&account),
                "signed in: the token is in the keyring"
            );
            wait_live(&engine).await;

            // The admin deactivates the technician through the real API.
            let t0 = Instant::now();
            let path = format!("/api/staff/users/{}", stage.users.tech_id);
            let (status, body) = stage
                .http
                .send(
                    Method::PATCH,
                    &stage.admin,
                    &path,
                    Some(json!({"active": false})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            let end = session_ended(&mut events).await;
            let took = t0.elapsed();
            assert_eq!(end.code, "session_ended");
            assert_eq!(end.reason.as_deref(), Some("deactivated"), "{end:?}");
            assert!(end.message.contains("désactivé"), "French reason: {end:?}");
            eprintln!("deactivation → SessionEnded in {} ms", took.as_millis());

            assert_eq!(engine.connection(), ConnectionState::SignedOut);
            assert!(engine.session().is_none());
            assert!(!keyring_has(&account), "the secret is forgotten");
            exactly_one_stop_alert(&notifd, "Votre compte a été désactivé").await;

            // Syncing stopped: an urgent intervention now reaches neither cache nor desktop.
            let ticket = stage
                .http
                .intervention(&stage.client, true, "Caméras hors service")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(1000)).await;
            let id = id_of(&ticket);
            assert!(
                !engine
                    .cached_versions()
                    .await
                    .unwrap()
                    .iter()
                    .any(|(i, _)| *i == id),
                "nothing synced after the end"
            );
            assert_eq!(notifd.recorded().len(), 1, "no alert after the end");

            // A restart has nothing to restore; signing in again is refused in French.
            drop(engine);
            let engine = Engine::open(data.path(), cfg).await.unwrap();
            assert!(engine.session().is_none(), "nothing restored");
            match engine
                .sign_in(&stage.srv.url, &stage.users.tech, PASSWORD)
                .await
            {
                Err(Error::Server(r)) => {
                    assert_eq!((r.status, r.code.as_str()), (403, "account_disabled"))
                }
                other => panic!("a deactivated account signs in: {other:?}"),
            }
            stage.srv.stop().await;
        },
    );
}

#[test]
fn a_session_closed_from_another_session_stops_the_engine() {
    run_with_keyring(
        "a_session_closed_from_another_session_stops_the_engine",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            let data = tempfile::tempdir().unwrap();
            let mut cfg = engine_config(None);
            cfg.use_keyring = true;
            let engine = Engine::open(data.path(), cfg).await.unwrap();
            let mut events = engine.subscribe();
            engine
                .sign_in(&stage.srv.url, &stage.users.admin, PASSWORD)
                .await
                .unwrap();
            wait_live(&engine).await;

            // The engine sees its own session marked, named after this device.
            let mine = engine.sessions().await.unwrap();
            let current: Vec<_> = mine.iter().filter(|s| s.current).collect();
            assert_eq!(current.len(), 1, "{mine:#?}");
            assert!(
                current[0].device.starts_with("IT Vision Desk"),
                "device label sent at sign-in: {:?}",
                current[0].device
            );
            assert!(
                mine.len() >= 2,
                "the stage's admin token is another session"
            );

            // From another session (the stage's admin token), the user closes the engine's.
            let (status, body) = stage
                .http
                .send(Method::GET, &stage.admin, "/api/auth/sessions", None)
                .await;
            assert_eq!(status, 200, "{body}");
            let theirs = body["sessions"].as_array().unwrap();
            let engine_session = theirs
                .iter()
                .find(|s| s["_id"] == current[0].id.as_str())
                .expect("the engine's session in the other session's list");
            assert_eq!(engine_session["current"], false);
            let path = format!("/api/auth/sessions/{}", current[0].id);
            let (status, body) = stage
                .http
                .send(Method::DELETE, &stage.admin, &path, None)
                .await;
            assert_eq!(status, 200, "{body}");

            let end = session_ended(&mut events).await;
            assert_eq!(end.reason.as_deref(), Some("revoked"), "{end:?}");
            assert_eq!(engine.connection(), ConnectionState::SignedOut);
            exactly_one_stop_alert(&notifd, "fermée depuis un autre appareil").await;
            let account = format!("{}@{}", stage.users.admin, stage.srv.url);
            assert!(!keyring_has(&account), "the secret is forgotten");

            // The other session still works: only the engine's ended.
            let (status, _) = stage
                .http
                .send(Method::GET, &stage.admin, "/api/auth/me", None)
                .await;
            assert_eq!(status, 200);
            stage.srv.stop().await;
        },
    );
}

/// An action queued in the outbox meets a 401 (the session ended while the feed was away):
/// the engine ends the session once and keeps the action for the next sign-in.
#[test]
fn an_outbox_refused_for_an_ended_session_ends_it_once() {
    block_on(async {
        support::init_logs();
        let stage = Stage::start().await;
        let data = tempfile::tempdir().unwrap();
        let notifier = Arc::new(CountingNotifier::default());
        let engine = Engine::open(data.path(), engine_config(Some(notifier.clone())))
            .await
            .unwrap();
        let mut events = engine.subscribe();
        engine
            .sign_in(&stage.srv.url, &stage.users.admin, PASSWORD)
            .await
            .unwrap();
        wait_live(&engine).await;
        let project = stage
            .http
            .project(&stage.client, "Vidéosurveillance entrepôt")
            .await
            .unwrap();
        let id = id_of(&project);
        wait_until("project cached", Duration::from_secs(10), || async {
            engine
                .cached_versions()
                .await
                .unwrap()
                .iter()
                .any(|(i, _)| *i == id)
        })
        .await;
        // The admin's password is reset by another admin: every session of theirs ends.
        let other =
            stage
                .srv
                .create_user(Role::Admin, "chef@itvision.sn", "Chef d'équipe", PASSWORD);
        let other_token = stage.srv.token_for(&other);
        let me = engine.session().unwrap().user.id;
        let (status, body) = stage
            .http
            .send(
                Method::POST,
                &other_token,
                &format!("/api/staff/users/{me}/password"),
                Some(json!({"password": "Nouveau-Mot-2-Passe"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        // Whichever path learns it first (feed or outbox), one ending, one alert.
        let _ = engine
            .perform(itv_desk::Action::ValidateProject {
                request_id: id.clone(),
            })
            .await;
        let end = session_ended(&mut events).await;
        assert_eq!(end.reason.as_deref(), Some("password_reset"), "{end:?}");
        tokio::time::sleep(Duration::from_millis(800)).await;
        let alerts: Vec<_> = notifier
            .shown
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n.key.starts_with("session-ended:"))
            .cloned()
            .collect();
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert!(alerts[0].critical);
        assert!(alerts[0].body.contains("réinitialisé"), "{:?}", alerts[0]);
        let outbox = engine.outbox().await.unwrap();
        assert!(
            outbox.iter().all(|e| e.refusal.is_none()),
            "an ended session is no refusal of the action: {outbox:#?}"
        );
        stage.srv.stop().await;
    });
}

/// Own sessions, password change (French errors per field), the admins' accounts, and a
/// sign-out that ends the session on the server, or forgets it locally when offline.
#[test]
fn sessions_password_accounts_and_sign_out() {
    block_on(async {
        support::init_logs();
        let stage = Stage::start().await;
        let data = tempfile::tempdir().unwrap();
        let notifier = Arc::new(CountingNotifier::default());
        let engine = Engine::open(data.path(), engine_config(Some(notifier.clone())))
            .await
            .unwrap();
        engine
            .sign_in(&stage.srv.url, &stage.users.admin, PASSWORD)
            .await
            .unwrap();
        wait_live(&engine).await;

        // Password change: each wrong field named, in French.
        let fields = |e: Error| match e {
            Error::Server(r) => r.fields.clone(),
            other => panic!("{other:?}"),
        };
        let wrong = engine
            .change_password("pas-le-bon-1", "Un-Nouveau-Secret-9")
            .await
            .unwrap_err();
        let f = fields(wrong);
        assert!(f["currentPassword"].contains("incorrect"), "{f:?}");
        let weak = engine.change_password(PASSWORD, "court").await.unwrap_err();
        let f = fields(weak);
        assert!(f["newPassword"].contains("8 caractères"), "{f:?}");

        // Admin accounts: list, create, change role, deactivate, reset a password.
        let accounts = engine.accounts().await.unwrap();
        assert!(
            accounts
                .iter()
                .any(|a| a.email == stage.users.tech && a.active)
        );
        let created = engine
            .create_account(NewAccount {
                name: "Ibrahima Fall".into(),
                email: " ibrahima@itvision.sn ".into(),
                role: Role::Technician,
                password: "Camera-Ip-2025".into(),
            })
            .await
            .unwrap();
        assert_eq!(created.email, "ibrahima@itvision.sn");
        assert!(created.active);
        let promoted = engine
            .update_account(
                &created.id,
                AccountPatch {
                    role: Some(Role::Admin),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(promoted.role, Role::Admin);
        let off = engine
            .update_account(
                &created.id,
                AccountPatch {
                    active: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(!off.active);
        engine
            .reset_password(&stage.users.tech_id, "Reinitialise-2025")
            .await
            .unwrap();
        let techs = engine.technicians().await.unwrap();
        assert!(techs.iter().all(|t| t.id != created.id));
        // The last active admin cannot deactivate themself.
        let me = engine.session().unwrap().user.id;
        match engine
            .update_account(
                &me,
                AccountPatch {
                    active: Some(false),
                    ..Default::default()
                },
            )
            .await
        {
            Err(Error::Server(r)) => assert_eq!((r.status, r.code.as_str()), (409, "conflict")),
            other => panic!("deactivated the last admin: {other:?}"),
        }

        // A good change works; this session goes on.
        engine
            .change_password(PASSWORD, "Un-Nouveau-Secret-9")
            .await
            .unwrap();
        assert!(engine.sessions().await.unwrap().iter().any(|s| s.current));

        // Sign-out while the server is reachable: ended there.
        let mine = engine.sessions().await.unwrap();
        let current = mine.iter().find(|s| s.current).unwrap().id.clone();
        let out = engine.sign_out().await.unwrap();
        assert!(out.ended_on_server, "{out:?}");
        assert!(engine.session().is_none());
        let other = stage
            .http
            .login_with(&stage.users.admin, "Un-Nouveau-Secret-9")
            .await;
        let (_, body) = stage
            .http
            .send(Method::GET, &other, "/api/auth/sessions", None)
            .await;
        assert!(
            body["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["_id"] != current.as_str()),
            "the signed-out session is gone: {body}"
        );

        // Offline sign-out: forgotten here, and said so.
        engine
            .sign_in(&stage.srv.url, &stage.users.admin, "Un-Nouveau-Secret-9")
            .await
            .unwrap();
        wait_live(&engine).await;
        stage.srv.stop().await;
        let out = engine.sign_out().await.unwrap();
        assert!(!out.ended_on_server, "{out:?}");
        assert!(out.detail.is_some());
        assert!(engine.session().is_none());
        assert_eq!(engine.connection(), ConnectionState::SignedOut);
        assert!(
            !notifier
                .keys()
                .iter()
                .any(|k| k.starts_with("session-ended:")),
            "signing out oneself raises no alert"
        );
    });
}
