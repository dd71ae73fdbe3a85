//! The feed in the field: a first sync that alerts what is already open, a full sync that
//! runs beside the feed (a stalled page does not hold back a live urgent alert), events this
//! build cannot read, and 200 desks coming back after a server restart. Real server, real
//! engines; the alerts go over a private D-Bus to the recording notification server.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use itv_desk::{ConnectionState, Engine, EngineEvent};
use itv_server::testing::TestServer;
use support::bus::{block_on, run_on_private_bus};
use support::notifd::NotificationServer;
use support::proxy::Proxy;
use support::server::{
    CountingNotifier, Http, PASSWORD, ServerProcess, Stage, config, create_users, engine_config,
    free_port, id_of, wait_live, wait_until,
};

fn critical(notifd: &NotificationServer) -> Vec<support::notifd::Recorded> {
    notifd
        .recorded()
        .into_iter()
        .filter(|r| r.urgency == Some(2))
        .collect()
}

#[test]
fn a_first_sync_alerts_the_urgent_interventions_already_open_once() {
    run_on_private_bus(
        "a_first_sync_alerts_the_urgent_interventions_already_open_once",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            let mut tickets = Vec::new();
            for title in ["Caméras hors ligne au parking", "Contrôle d'accès bloqué"] {
                let t = stage.http.intervention(&stage.client, true, title).await;
                tickets.push(t.unwrap()["ticketNumber"].as_str().unwrap().to_owned());
            }
            // Neither a planned one nor an urgent one someone already took alerts.
            stage
                .http
                .intervention(&stage.client, false, "Maintenance annuelle")
                .await
                .unwrap();
            let taken = stage
                .http
                .intervention(&stage.client, true, "Switch en panne")
                .await
                .unwrap();
            stage
                .http
                .post(
                    &stage.admin,
                    &format!("/api/requests/{}/ack", id_of(&taken)),
                    serde_json::json!({}),
                )
                .await
                .unwrap();

            let data = tempfile::tempdir().unwrap();
            // A new install, signing in with the server URL typed another way.
            let typed = stage.srv.url.replace("http://", "HTTP://") + "/";
            {
                let engine = Engine::open(data.path(), engine_config(None))
                    .await
                    .unwrap();
                engine
                    .sign_in(&typed, &stage.users.tech, PASSWORD)
                    .await
                    .unwrap();
                wait_live(&engine).await;
                wait_until("two urgent alerts", Duration::from_secs(10), || async {
                    critical(&notifd).len() >= 2
                })
                .await;
                tokio::time::sleep(Duration::from_millis(500)).await;
                let shown = critical(&notifd);
                assert_eq!(shown.len(), 2, "{shown:#?}");
                for t in &tickets {
                    assert!(
                        shown.iter().any(|n| n.body.contains(t.as_str())),
                        "{t}: {shown:#?}"
                    );
                }
                drop(engine);
            }
            // Restarted, and signed in again with the canonical URL: the same cache (not
            // cleared as another server) and no second alert.
            let engine = Engine::open(data.path(), engine_config(None))
                .await
                .unwrap();
            engine
                .sign_in(&stage.srv.url, &stage.users.tech, PASSWORD)
                .await
                .unwrap();
            wait_live(&engine).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            assert_eq!(critical(&notifd).len(), 2, "{:#?}", notifd.recorded());
            assert_eq!(notifd.recorded().len(), 2, "{:#?}", notifd.recorded());
        },
    );
}

#[test]
fn a_live_urgent_alert_does_not_wait_for_a_stalled_full_sync() {
    run_on_private_bus(
        "a_live_urgent_alert_does_not_wait_for_a_stalled_full_sync",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            for i in 0..30 {
                stage
                    .http
                    .project(&stage.client, &format!("Projet {i}"))
                    .await
                    .unwrap();
            }
            let proxy = Proxy::start(&stage.srv.url).await;
            // Every list page hangs, as on a phone link that gave up mid-sync.
            proxy.stall(Some("GET /api/requests?"));
            let data = tempfile::tempdir().unwrap();
            let engine = Engine::open(data.path(), engine_config(None))
                .await
                .unwrap();
            engine
                .sign_in(&proxy.url, &stage.users.admin, PASSWORD)
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(engine.connection(), ConnectionState::Syncing);

            let posted = Instant::now();
            let urgent = stage
                .http
                .intervention(&stage.client, true, "Incendie : caméras coupées")
                .await
                .unwrap();
            let shown = notifd.wait_for(1, Duration::from_secs(5)).await;
            let took = shown[0].at.duration_since(posted);
            assert!(shown[0].summary.contains('🚨'), "{shown:#?}");
            assert!(took < Duration::from_secs(3), "alerted after {took:?}");
            assert_eq!(
                engine.connection(),
                ConnectionState::Syncing,
                "the sync still waits"
            );
            let cached = engine.cached_versions().await.unwrap();
            assert_eq!(cached.len(), 1, "only the live event so far: {cached:?}");
            assert_eq!(cached[0].0, id_of(&urgent));

            // The link comes back: the sync finishes and the cache matches the server.
            proxy.stall(None);
            wait_live(&engine).await;
            let server = stage.http.all_versions(&stage.admin).await;
            wait_until(
                "cache matches the server",
                Duration::from_secs(10),
                || async { engine.cached_versions().await.unwrap() == server },
            )
            .await;
            assert_eq!(server.len(), 31);
            // Nothing alerted twice, and the projects found by the first sync are not news.
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(notifd.recorded().len(), 1, "{:#?}", notifd.recorded());
        },
    );
}

#[test]
fn an_event_this_build_cannot_read_is_quarantined_counted_and_still_alerts() {
    run_on_private_bus(
        "an_event_this_build_cannot_read_is_quarantined_counted_and_still_alerts",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            let proxy = Proxy::start(&stage.srv.url).await;
            let data = tempfile::tempdir().unwrap();
            let engine = Engine::open(data.path(), engine_config(None))
                .await
                .unwrap();
            engine
                .sign_in(&proxy.url, &stage.users.admin, PASSWORD)
                .await
                .unwrap();
            wait_live(&engine).await;

            // The server (upgraded before the desk) sends a priority this build does not
            // know; a quote follows.
            proxy.rewrite(Some(("\"priority\":\"urgent\"", "\"priority\":\"urgeNT\"")));
            let urgent = stage
                .http
                .intervention(&stage.client, true, "Serveur NVR en panne")
                .await
                .unwrap();
            let quote = stage
                .http
                .quote(&stage.client, "Devis badges")
                .await
                .unwrap();
            wait_until(
                "the quote after it is applied",
                Duration::from_secs(10),
                || async {
                    engine
                        .cached_versions()
                        .await
                        .unwrap()
                        .iter()
                        .any(|(id, _)| *id == id_of(&quote))
                },
            )
            .await;
            assert_eq!(engine.health().quarantined, 1, "counted for the status bar");
            let cached = engine.cached_versions().await.unwrap();
            assert!(
                !cached.iter().any(|(id, _)| *id == id_of(&urgent)),
                "{cached:?}"
            );
            wait_until(
                "the unreadable urgent one still alerts",
                Duration::from_secs(5),
                || async {
                    notifd.recorded().iter().any(|n| {
                        n.urgency == Some(2)
                            && n.summary.contains("Intervention urgente")
                            && n.body.contains("mettez l'application à jour")
                    })
                },
            )
            .await;
            drop(engine);

            // Kept across a restart: the next start retries it (still unreadable here).
            proxy.rewrite(None);
            let engine = Engine::open(data.path(), engine_config(None))
                .await
                .unwrap();
            engine
                .sign_in(&proxy.url, &stage.users.admin, PASSWORD)
                .await
                .unwrap();
            wait_live(&engine).await;
            wait_until(
                "quarantine counted after a restart",
                Duration::from_secs(5),
                || async { engine.health().quarantined == 1 },
            )
            .await;
        },
    );
}

/// 200 desks on one server, which is killed and started again: they come back spread over
/// the backoff window (full jitter), and none runs a full sync (their positions still hold).
#[test]
fn two_hundred_desks_come_back_spread_after_a_server_restart() {
    block_on(async {
        support::init_logs();
        const DESKS: usize = 200;
        let dir = tempfile::tempdir().unwrap();
        let users = {
            let s = TestServer::start_with(config(dir.path())).await;
            let u = create_users(&s);
            s.stop().await;
            u
        };
        let port = free_port();
        let srv = ServerProcess::spawn(port, dir.path());
        let http = Http::new(&srv.url);
        let mut engines = Vec::new();
        let data = tempfile::tempdir().unwrap();
        for i in 0..DESKS {
            let notifier: Arc<dyn itv_desk::Notifier> = Arc::new(CountingNotifier::default());
            let mut config = engine_config(Some(notifier));
            config.backoff = itv_desk::sync::Backoff::default();
            let engine = Engine::open(data.path().join(i.to_string()), config)
                .await
                .unwrap();
            engine
                .sign_in(&srv.url, &users.admin, PASSWORD)
                .await
                .unwrap();
            engines.push(engine);
        }
        for e in &engines {
            wait_live(e).await;
        }
        // From the kill on, each desk notes when it is live again and whether it synced.
        let mut watchers = Vec::new();
        for e in &engines {
            let mut rx = e.subscribe();
            watchers.push(tokio::spawn(async move {
                let mut went_offline = false;
                let mut synced = false;
                loop {
                    match rx.recv().await {
                        Ok(EngineEvent::Connection { state }) => match state {
                            ConnectionState::Live if went_offline => {
                                return (Instant::now(), synced);
                            }
                            ConnectionState::Offline { .. } => went_offline = true,
                            _ => {}
                        },
                        Ok(EngineEvent::SyncProgress { .. }) => synced = true,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(e) => panic!("event stream closed: {e}"),
                    }
                }
            }));
        }
        srv.kill();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let srv = ServerProcess::spawn(port, dir.path());
        let restarted = Instant::now();
        let mut back = Vec::new();
        let mut syncs = 0;
        for w in watchers {
            let (at, synced) = tokio::time::timeout(Duration::from_secs(60), w)
                .await
                .expect("every desk comes back within a minute")
                .unwrap();
            back.push(at.saturating_duration_since(restarted));
            syncs += usize::from(synced);
        }
        back.sort();
        let mut histogram = [0usize; 16];
        for b in &back {
            histogram[(b.as_secs() as usize).min(15)] += 1;
        }
        println!("desks back after the restart, per second: {histogram:?}");
        println!(
            "first {:?}, median {:?}, last {:?}",
            back[0],
            back[DESKS / 2],
            back[DESKS - 1]
        );
        assert_eq!(syncs, 0, "no desk ran a full sync after the restart");
        // Spread, not bunched: no second holds more than half of the desks.
        assert!(
            histogram.iter().all(|n| *n <= DESKS / 2),
            "bunched: {histogram:?}"
        );
        // And they all work: an urgent intervention reaches every one.
        let client = http.login(&users.client).await;
        let urgent = http
            .intervention(&client, true, "Après le redémarrage")
            .await
            .unwrap();
        for e in &engines {
            wait_until(
                "the urgent one everywhere",
                Duration::from_secs(20),
                || async {
                    e.cached_versions()
                        .await
                        .unwrap()
                        .iter()
                        .any(|(id, _)| *id == id_of(&urgent))
                },
            )
            .await;
        }
        drop(srv);
    });
}

/// The server's database is restored from a backup: its log gives the seqs after the backup
/// to other events. The desk, whose position is past the restored head, must not resume and
/// skip them: the server names another epoch, the desk resynchronises, and its cache ends
/// equal to the server's (what the backup lost gone, what came after it there).
#[test]
fn a_server_restored_from_a_backup_is_resynchronised_not_resumed() {
    block_on(async {
        support::init_logs();
        let dir = tempfile::tempdir().unwrap();
        let users = {
            let s = TestServer::start_with(config(dir.path())).await;
            let u = create_users(&s);
            s.stop().await;
            u
        };
        let db = itv_server::Config::for_dir(dir.path().to_path_buf()).database_path();
        let port = free_port();
        let srv = ServerProcess::spawn(port, dir.path());
        let http = Http::new(&srv.url);
        let client = http.login(&users.client).await;
        let admin = http.login(&users.admin).await;
        for i in 0..3 {
            http.project(&client, &format!("Avant la sauvegarde {i}"))
                .await
                .unwrap();
        }
        let notifier: Arc<dyn itv_desk::Notifier> = Arc::new(CountingNotifier::default());
        let data = tempfile::tempdir().unwrap();
        let engine = Engine::open(data.path(), engine_config(Some(notifier)))
            .await
            .unwrap();
        engine
            .sign_in(&srv.url, &users.admin, PASSWORD)
            .await
            .unwrap();
        wait_live(&engine).await;

        // The backup: taken with the server stopped (database and its WAL together).
        srv.kill();
        let backup = tempfile::tempdir().unwrap();
        let copy = |from: &std::path::Path, to: &std::path::Path| {
            for suffix in ["", "-wal", "-shm"] {
                let src = std::path::PathBuf::from(format!("{}{suffix}", from.display()));
                let dst = std::path::PathBuf::from(format!("{}{suffix}", to.display()));
                let _ = std::fs::remove_file(&dst);
                if src.exists() {
                    std::fs::copy(&src, &dst).unwrap();
                }
            }
        };
        copy(&db, &backup.path().join("itv.db"));
        let srv = ServerProcess::spawn(port, dir.path());
        for i in 0..2 {
            http.project(&client, &format!("Perdue avec la restauration {i}"))
                .await
                .unwrap();
        }
        wait_until("the desk has them", Duration::from_secs(10), || async {
            engine.cached_versions().await.unwrap().len() == 5
        })
        .await;
        // The server writes its head marker every 5 s while the head moves.
        tokio::time::sleep(Duration::from_secs(6)).await;
        srv.kill();
        copy(&backup.path().join("itv.db"), &db);
        let srv = ServerProcess::spawn(port, dir.path());
        // New events reuse the seqs the lost ones had.
        let client = http.login(&users.client).await;
        for i in 0..2 {
            http.project(&client, &format!("Après la restauration {i}"))
                .await
                .unwrap();
        }
        let server = http.all_versions(&http.login(&users.admin).await).await;
        assert_eq!(server.len(), 5);
        wait_until(
            "the cache equals the restored server",
            Duration::from_secs(20),
            || async { engine.cached_versions().await.unwrap() == server },
        )
        .await;
        let _ = admin;
        drop(srv);
    });
}
