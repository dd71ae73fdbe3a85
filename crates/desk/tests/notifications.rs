//! System tests of native notifications: real server, real engine, real D-Bus
//! (a private dbus-daemon) and a recording notification server on it.
//! Each test re-runs itself in a child process whose session bus is the private one.

mod support;

use std::time::Duration;

use itv_desk::{Engine, EngineEvent, Settings};
use serde_json::json;
use support::bus::run_on_private_bus;
use support::notifd::NotificationServer;
use support::server::{
    Http, PASSWORD, Stage, create_users, engine_config, id_of, start_server, wait_live, wait_until,
};

#[test]
fn urgent_intervention_notifies_once_over_real_dbus() {
    run_on_private_bus("urgent_intervention_notifies_once_over_real_dbus", async {
        let notifd = NotificationServer::start().await;
        let srv_dir = tempfile::tempdir().unwrap();
        let srv = start_server(srv_dir.path()).await;
        let users = create_users(&srv);
        let data = tempfile::tempdir().unwrap();
        // No notifier given: the engine uses notify-rust over the session bus.
        let engine = Engine::open(data.path(), engine_config(None))
            .await
            .unwrap();
        let mut events = engine.subscribe();
        engine
            .sign_in(&srv.url, &users.admin, PASSWORD)
            .await
            .unwrap();
        wait_live(&engine).await;

        let http = Http::new(&srv.url);
        let client = http.login(&users.client).await;
        let ticket = http
            .intervention(&client, true, "Caméra défectueuse entrée principale")
            .await
            .unwrap();
        let id = ticket["_id"].as_str().unwrap().to_owned();

        wait_until("urgent request cached", Duration::from_secs(10), || async {
            engine
                .cached_versions()
                .await
                .unwrap()
                .iter()
                .any(|(i, _)| *i == id)
        })
        .await;
        let recs = notifd.wait_for(1, Duration::from_secs(10)).await;
        let n = &recs[0];
        assert_eq!(n.urgency, Some(2), "critical urgency hint: {n:?}");
        assert!(n.summary.contains('🚨'), "{n:?}");
        assert!(n.body.contains("Hôtel Téranga"), "client in body: {n:?}");
        assert!(n.body.contains("Siège social"), "site in body: {n:?}");
        assert!(n.body.contains("INT-"), "ticket number in body: {n:?}");
        assert_eq!(n.actions, ["open", "Ouvrir", "ack", "Je prends"]);
        assert_eq!(n.expire_timeout, 0, "critical never expires");

        // The notifier listens for actions before it shows anything: a click at once is
        // not lost (notify-rust's own wait subscribed only after `Notify`).
        notifd.click(n.id, "open").await;
        let clicked = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if let Ok(EngineEvent::NotificationClicked { request_id }) = events.recv().await {
                    return request_id;
                }
            }
        })
        .await
        .expect("click reaches the event stream");
        assert_eq!(clicked.as_deref(), Some(id.as_str()));

        // Non-urgent kinds: normal notifications for an admin.
        http.project(&client, "Installation vidéosurveillance")
            .await
            .unwrap();
        http.quote(&client, "Devis pour 10 caméras IP 4K")
            .await
            .unwrap();
        let recs = notifd.wait_for(3, Duration::from_secs(10)).await;
        assert!(recs[1..].iter().all(|r| r.urgency == Some(1)), "{recs:#?}");

        // A silenced kind stays silent; urgent ones cannot be silenced.
        engine
            .set_settings(Settings {
                notify_quotes: false,
                notify_projects: false,
                notify_planned_interventions: false,
                ..Settings::default()
            })
            .await
            .unwrap();
        http.quote(&client, "Second devis").await.unwrap();
        let urgent2 = http
            .intervention(&client, true, "Coupure réseau")
            .await
            .unwrap();
        let recs = notifd.wait_for(4, Duration::from_secs(10)).await;
        assert_eq!(recs[3].urgency, Some(2));
        assert!(
            recs[3]
                .body
                .contains(urgent2["ticketNumber"].as_str().unwrap())
        );
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(
            notifd.recorded().len(),
            4,
            "nothing twice, silenced quote not shown"
        );

        // Engine restart: resumes the feed, repeats nothing.
        drop(engine);
        let engine = Engine::open(data.path(), engine_config(None))
            .await
            .unwrap();
        engine
            .sign_in(&srv.url, &users.admin, PASSWORD)
            .await
            .unwrap();
        wait_live(&engine).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            notifd.recorded().len(),
            4,
            "restart repeats no notification"
        );
        srv.stop().await;
    });
}

#[test]
fn offline_catch_up_ends_in_one_summary() {
    run_on_private_bus("offline_catch_up_ends_in_one_summary", async {
        let notifd = NotificationServer::start().await;
        let srv_dir = tempfile::tempdir().unwrap();
        let srv = start_server(srv_dir.path()).await;
        let users = create_users(&srv);
        let data = tempfile::tempdir().unwrap();
        let engine = Engine::open(data.path(), engine_config(None))
            .await
            .unwrap();
        engine
            .sign_in(&srv.url, &users.tech, PASSWORD)
            .await
            .unwrap();
        wait_live(&engine).await;
        drop(engine); // offline

        let http = Http::new(&srv.url);
        let client = http.login(&users.client).await;
        for i in 0..8 {
            http.intervention(&client, i % 3 == 0, &format!("Panne {i}"))
                .await
                .unwrap();
        }
        let engine = Engine::open(data.path(), engine_config(None))
            .await
            .unwrap();
        engine
            .sign_in(&srv.url, &users.tech, PASSWORD)
            .await
            .unwrap();
        wait_live(&engine).await;
        let recs = notifd.wait_for(1, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let recs2 = notifd.recorded();
        assert_eq!(recs2.len(), 1, "one summary, not a storm: {recs2:#?}");
        assert!(recs[0].summary.contains("8 nouvelles"), "{:?}", recs[0]);
        assert_eq!(recs[0].urgency, Some(2), "3 urgent ones inside");
        assert_eq!(engine.cached_versions().await.unwrap().len(), 8);
        srv.stop().await;
    });
}

#[test]
fn urgent_reminder_repeats_until_acknowledged() {
    run_on_private_bus("urgent_reminder_repeats_until_acknowledged", async {
        let notifd = NotificationServer::start().await;
        let srv_dir = tempfile::tempdir().unwrap();
        let srv = start_server(srv_dir.path()).await;
        let users = create_users(&srv);
        let data = tempfile::tempdir().unwrap();
        let mut cfg = engine_config(None);
        cfg.seconds_per_minute = 1; // 1 "minute" = 1 s in this test
        let engine = Engine::open(data.path(), cfg).await.unwrap();
        engine
            .sign_in(&srv.url, &users.admin, PASSWORD)
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
        let http = Http::new(&srv.url);
        let client = http.login(&users.client).await;
        let ticket = http
            .intervention(&client, true, "Alarme incendie")
            .await
            .unwrap();
        let id = ticket["_id"].as_str().unwrap().to_owned();
        let recs = notifd.wait_for(3, Duration::from_secs(10)).await;
        assert!(recs[1].summary.contains("Rappel"), "{recs:#?}");
        assert!(recs.iter().all(|r| r.urgency == Some(2)));
        // Opening it takes nothing: the reminders go on.
        engine.request_detail(&id).await.unwrap();
        let opened = notifd.recorded().len();
        notifd.wait_for(opened + 1, Duration::from_secs(5)).await;
        // The explicit action, on the server, stops them.
        engine.acknowledge(&id).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after_ack = notifd.recorded().len();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            notifd.recorded().len(),
            after_ack,
            "no reminder after acknowledgement"
        );
        srv.stop().await;
    });
}

/// A technician is told of new open interventions and of the ones assigned to them; an urgent
/// one is critical both when it arrives and when it is assigned.
#[test]
fn a_technician_is_told_of_assignments_over_real_dbus() {
    run_on_private_bus(
        "a_technician_is_told_of_assignments_over_real_dbus",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            let (http, client, admin) = (&stage.http, &stage.client, &stage.admin);
            let data = tempfile::tempdir().unwrap();
            let engine = Engine::open(data.path(), engine_config(None))
                .await
                .unwrap();
            engine
                .sign_in(&stage.srv.url, &stage.users.tech, PASSWORD)
                .await
                .unwrap();
            wait_live(&engine).await;
            let tech_id = stage.users.tech_id.as_str();
            let assign = |id: String| {
                let body = json!({ "technicianId": tech_id });
                async move {
                    let path = format!("/api/requests/{id}/assign");
                    http.post(admin, &path, body).await.unwrap();
                }
            };

            let planned = http
                .intervention(client, false, "Maintenance contrôle d'accès")
                .await
                .unwrap();
            let recs = notifd.wait_for(1, Duration::from_secs(10)).await;
            assert_eq!(recs[0].summary, "Nouvelle demande d'intervention");
            assert_eq!(recs[0].urgency, Some(1));
            assign(id_of(&planned)).await;
            let recs = notifd.wait_for(2, Duration::from_secs(10)).await;
            assert_eq!(recs[1].summary, "Intervention assignée");
            assert_eq!(recs[1].urgency, Some(1));
            let ticket = planned["ticketNumber"].as_str().unwrap();
            assert!(recs[1].body.contains(ticket), "{:?}", recs[1]);

            let urgent = http
                .intervention(client, true, "Caméras hors service")
                .await
                .unwrap();
            let recs = notifd.wait_for(3, Duration::from_secs(10)).await;
            assert_eq!(recs[2].urgency, Some(2), "{:?}", recs[2]);
            assign(id_of(&urgent)).await;
            let recs = notifd.wait_for(4, Duration::from_secs(10)).await;
            assert_eq!(recs[3].summary, "🚨 Intervention urgente assignée");
            assert_eq!(recs[3].urgency, Some(2));

            tokio::time::sleep(Duration::from_millis(800)).await;
            assert_eq!(notifd.recorded().len(), 4, "nothing twice");
            stage.srv.stop().await;
        },
    );
}
