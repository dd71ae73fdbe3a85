//! System tests of notification delivery when the notification server misbehaves: real
//! server, real engine, a private dbus-daemon and the recording notification server on it,
//! made to refuse, hang or start late. Each test re-runs itself in a child process whose
//! session bus is the private one.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use itv_desk::notify::Notifier;
use itv_desk::{ConnectionState, DesktopNotifier, Engine, Notice, Settings};
use support::bus::run_on_private_bus;
use support::notifd::{Faults, NotificationServer};
use support::server::{PASSWORD, Stage, engine_config, id_of, wait_live, wait_until};

/// An admin's engine, live, whose notifier gives up on a D-Bus call after `timeout`.
async fn admin_engine(
    stage: &Stage,
    data: &std::path::Path,
    app: &str,
    timeout: Duration,
) -> Engine {
    let notifier = Arc::new(DesktopNotifier::with_timeout(app, timeout));
    let engine = Engine::open(data, engine_config(Some(notifier)))
        .await
        .unwrap();
    engine
        .sign_in(&stage.srv.url, &stage.users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;
    engine
}

async fn state_of(engine: &Engine, key: &str) -> Option<String> {
    engine
        .notification_log()
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, s)| s)
}

#[test]
fn a_refused_notify_is_retried_and_the_alert_shows_once() {
    run_on_private_bus(
        "a_refused_notify_is_retried_and_the_alert_shows_once",
        async {
            let faults = Faults::default();
            faults.refuse.lock().unwrap().insert(1);
            let notifd = NotificationServer::start_with(faults).await;
            let stage = Stage::start().await;
            let data = tempfile::tempdir().unwrap();
            let engine = admin_engine(&stage, data.path(), "refused", Duration::from_secs(2)).await;
            let ticket = stage
                .http
                .intervention(&stage.client, true, "Caméra parking hors service")
                .await
                .unwrap();
            let id = id_of(&ticket);
            let recs = notifd.wait_for(1, Duration::from_secs(10)).await;
            let times = notifd.faults.call_times.lock().unwrap().clone();
            println!(
                "refused then accepted: retry {} ms after the refusal",
                (times[1] - times[0]).as_millis()
            );
            assert_eq!(recs[0].urgency, Some(2));
            assert!(recs[0].summary.contains('🚨'), "{:?}", recs[0]);
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!(notifd.calls(), 2, "one refusal, one success");
            assert_eq!(notifd.recorded().len(), 1, "shown once");
            assert_eq!(
                state_of(&engine, &format!("urgent:{id}")).await.as_deref(),
                Some("done")
            );
            assert_eq!(engine.health().notices_failing, 0);
            stage.srv.stop().await;
        },
    );
}

#[test]
fn an_alert_waits_for_a_notification_server_that_starts_late() {
    run_on_private_bus(
        "an_alert_waits_for_a_notification_server_that_starts_late",
        async {
            let stage = Stage::start().await;
            let data = tempfile::tempdir().unwrap();
            let engine = admin_engine(&stage, data.path(), "late", Duration::from_secs(2)).await;
            let ticket = stage
                .http
                .intervention(&stage.client, true, "Contrôle d'accès bloqué")
                .await
                .unwrap();
            let created = Instant::now();
            let key = format!("urgent:{}", id_of(&ticket));
            wait_until(
                "the failure shows in the status bar",
                Duration::from_secs(10),
                || async { engine.health().notices_failing == 1 },
            )
            .await;
            assert_eq!(state_of(&engine, &key).await.as_deref(), Some("showing"));
            // The daemon comes up 10 s later, as at a slow login.
            tokio::time::sleep(Duration::from_secs(10).saturating_sub(created.elapsed())).await;
            let notifd = NotificationServer::start().await;
            let up = Instant::now();
            let recs = notifd.wait_for(1, Duration::from_secs(15)).await;
            println!(
                "late server: alert shown {} ms after it appeared",
                (recs[0].at - up).as_millis()
            );
            assert_eq!(recs[0].urgency, Some(2));
            assert!(
                recs[0].at - up < Duration::from_secs(1),
                "tried as soon as the server appeared, not at the next retry"
            );
            wait_until("the status bar clears", Duration::from_secs(5), || async {
                engine.health().notices_failing == 0
            })
            .await;
            assert_eq!(state_of(&engine, &key).await.as_deref(), Some("done"));
            tokio::time::sleep(Duration::from_millis(1000)).await;
            assert_eq!(notifd.recorded().len(), 1);
            stage.srv.stop().await;
        },
    );
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn fifteen_hundred_open_notifications_keep_threads_and_fds_bounded() {
    run_on_private_bus(
        "fifteen_hundred_open_notifications_keep_threads_and_fds_bounded",
        async {
            let notifd = NotificationServer::start().await;
            let notifier = DesktopNotifier::with_timeout("many", Duration::from_secs(2));
            let (clicks, _rx) = tokio::sync::mpsc::unbounded_channel();
            let conns_before = notifd.bus_connections().await;
            let (threads_before, fds_before) = (threads(), fds());
            let figures = tokio::task::spawn_blocking(move || {
                let (mut max_threads, mut max_fds) = (0, 0);
                for i in 0..1500 {
                    let notice = Notice {
                        key: format!("urgent:r{i}"),
                        request_id: Some(format!("r{i}")),
                        critical: true,
                        summary: "🚨 Intervention urgente".into(),
                        body: format!("Client {i}"),
                        acknowledge: true,
                    };
                    let id = notifier.display(&notice, None, clicks.clone()).unwrap();
                    assert!(id.is_some());
                    max_threads = max_threads.max(threads());
                    max_fds = max_fds.max(fds());
                }
                (max_threads, max_fds, notifier)
            })
            .await
            .unwrap();
            let (max_threads, max_fds, _notifier) = figures;
            let conns_after = notifd.bus_connections().await;
            assert_eq!(notifd.recorded().len(), 1500);
            println!(
                "1500 open notifications: threads {threads_before} → {} (max {max_threads}), \
                 fds {fds_before} → {} (max {max_fds}), bus connections {conns_before} → {conns_after}",
                threads(),
                fds()
            );
            assert!(max_threads <= threads_before + 8, "threads: {max_threads}");
            assert!(max_fds <= fds_before + 8, "fds: {max_fds}");
            assert!(conns_after <= conns_before + 1, "one connection for all");
        },
    );
}

#[test]
fn a_hung_notification_server_holds_back_neither_the_feed_nor_pings() {
    run_on_private_bus(
        "a_hung_notification_server_holds_back_neither_the_feed_nor_pings",
        async {
            let faults = Faults::default();
            faults.hang.store(true, Ordering::SeqCst);
            let notifd = NotificationServer::start_with(faults).await;
            let dir = tempfile::tempdir().unwrap();
            let mut cfg = support::server::config(dir.path());
            cfg.ping_secs = 1; // the server drops a desk silent for 3 s
            let srv = itv_server::testing::TestServer::start_with(cfg).await;
            let users = support::server::create_users(&srv);
            let http = support::server::Http::new(&srv.url);
            let client = http.login(&users.client).await;
            let data = tempfile::tempdir().unwrap();
            let notifier = Arc::new(DesktopNotifier::with_timeout(
                "hung",
                Duration::from_secs(1),
            ));
            let engine = Engine::open(data.path(), engine_config(Some(notifier)))
                .await
                .unwrap();
            engine
                .sign_in(&srv.url, &users.admin, PASSWORD)
                .await
                .unwrap();
            engine
                .set_settings(Settings {
                    summary_threshold: 100,
                    ..Settings::default()
                })
                .await
                .unwrap();
            wait_live(&engine).await;
            let urgent = http
                .intervention(&client, true, "Alarme intrusion")
                .await
                .unwrap();
            let key = format!("urgent:{}", id_of(&urgent));
            wait_until("Notify sent", Duration::from_secs(10), || async {
                notifd.calls() >= 1
            })
            .await;

            // While Notify hangs, the feed goes on: new requests reach the cache, the
            // connection answers pings (the server would drop it after 3 s of silence).
            let watch_from = Instant::now();
            let mut created = Vec::new();
            for i in 0..3 {
                let r = http.quote(&client, &format!("Devis {i}")).await.unwrap();
                created.push(id_of(&r));
                tokio::time::sleep(Duration::from_millis(1500)).await;
                assert_eq!(
                    engine.connection(),
                    ConnectionState::Live,
                    "live during the hang"
                );
            }
            wait_until(
                "new requests cached during the hang",
                Duration::from_secs(5),
                || async {
                    let cached = engine.cached_versions().await.unwrap();
                    created.iter().all(|id| cached.iter().any(|(c, _)| c == id))
                },
            )
            .await;
            while watch_from.elapsed() < Duration::from_secs(6) {
                assert_eq!(engine.connection(), ConnectionState::Live);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // The alert was tried again after each timeout, and still waits.
            let times = notifd.faults.call_times.lock().unwrap().clone();
            assert!(times.len() >= 2, "retried: {times:?}");
            let gaps: Vec<u128> = times
                .windows(2)
                .map(|w| (w[1] - w[0]).as_millis())
                .collect();
            println!(
                "hung server: Notify calls {} apart (ms): {gaps:?}",
                times.len()
            );
            assert!(
                gaps[0] >= 1000,
                "retried only after the 1 s timeout: {gaps:?}"
            );
            assert_eq!(state_of(&engine, &key).await.as_deref(), Some("showing"));
            // The quotes' notices wait behind it, untried: the status bar counts all four.
            assert_eq!(notifd.calls(), times.len());
            assert_eq!(engine.health().notices_failing, 4);

            notifd.faults.hang.store(false, Ordering::SeqCst);
            let recs = notifd
                .wait_for_by("hung", 4, Duration::from_secs(20), |_| true)
                .await;
            assert_eq!(
                recs.iter().filter(|r| r.urgency == Some(2)).count(),
                1,
                "{recs:#?}"
            );
            assert_eq!(
                recs[0].urgency,
                Some(2),
                "the alert first, in order: {recs:#?}"
            );
            assert_eq!(state_of(&engine, &key).await.as_deref(), Some("done"));
            srv.stop().await;
        },
    );
}

#[test]
fn a_reminder_replaces_the_alert_instead_of_stacking() {
    run_on_private_bus("a_reminder_replaces_the_alert_instead_of_stacking", async {
        let notifd = NotificationServer::start().await;
        let stage = Stage::start().await;
        let data = tempfile::tempdir().unwrap();
        let mut cfg = engine_config(Some(Arc::new(DesktopNotifier::new("remind"))));
        cfg.seconds_per_minute = 1;
        let engine = Engine::open(data.path(), cfg).await.unwrap();
        engine
            .sign_in(&stage.srv.url, &stage.users.admin, PASSWORD)
            .await
            .unwrap();
        engine
            .set_settings(Settings {
                urgent_reminder_minutes: 1,
                ..Settings::default()
            })
            .await
            .unwrap();
        wait_live(&engine).await;
        stage
            .http
            .intervention(&stage.client, true, "Incendie local serveurs")
            .await
            .unwrap();
        let recs = notifd.wait_for(3, Duration::from_secs(10)).await;
        let first = recs[0].id;
        assert_eq!(recs[0].replaces_id, 0);
        for r in &recs[1..3] {
            assert!(r.summary.contains("Rappel"), "{r:?}");
            assert_eq!(
                r.replaces_id, first,
                "replaces the alert on screen: {recs:#?}"
            );
            assert_eq!(r.id, first);
        }
        // Once the user closed it, the next reminder is a new notification.
        notifd.click(first, "dismissed").await;
        let n = notifd.recorded().len();
        let recs = notifd.wait_for(n + 1, Duration::from_secs(5)).await;
        assert_eq!(
            recs[n].replaces_id, 0,
            "nothing stale replaced: {:?}",
            recs[n]
        );
        assert_ne!(recs[n].id, first);
        let next = notifd.wait_for(n + 2, Duration::from_secs(5)).await;
        assert_eq!(next[n + 1].replaces_id, recs[n].id);
        stage.srv.stop().await;
    });
}
