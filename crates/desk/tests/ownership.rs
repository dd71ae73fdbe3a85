//! System tests of shared acknowledgement (issue 10): several real engines (an admin's and
//! technicians' desks) on one real server, their notifications over a private D-Bus to the
//! recording notification server, told apart by the notifier's app name.
//! Each test re-runs itself in a child process whose session bus is the private one.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use itv_desk::notify::{ACK_ACTION, OPEN_ACTION};
use itv_desk::{DesktopNotifier, Engine, Error, InboxQuery, Settings};
use serde_json::{Value, json};
use support::bus::run_on_private_bus;
use support::notifd::{NotificationServer, Recorded};
use support::server::{CountingNotifier, PASSWORD, Stage, engine_config, id_of, wait_live};

const ADMIN_DESK: &str = "desk-admin";
const TECH_DESK: &str = "desk-tech";

/// A signed-in, live engine whose notifications carry `app_name`; with `remind_secs`,
/// its urgent reminders come every that many seconds.
async fn desk(
    stage: &Stage,
    email: &str,
    app_name: &str,
    remind_secs: Option<u32>,
) -> (Engine, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut cfg = engine_config(Some(Arc::new(DesktopNotifier::new(app_name))));
    if remind_secs.is_some() {
        cfg.seconds_per_minute = 1; // 1 "minute" = 1 s
    }
    let engine = Engine::open(data.path(), cfg).await.unwrap();
    engine
        .sign_in(&stage.srv.url, email, PASSWORD)
        .await
        .unwrap();
    if let Some(secs) = remind_secs {
        engine
            .set_settings(Settings {
                urgent_reminder_minutes: secs,
                ..Settings::default()
            })
            .await
            .unwrap();
    }
    wait_live(&engine).await;
    (engine, data)
}

fn is_reminder(r: &Recorded) -> bool {
    r.summary.contains("Rappel")
}

fn count(notifd: &NotificationServer, app: &str, keep: fn(&Recorded) -> bool) -> usize {
    notifd.recorded_by(app).iter().filter(|r| keep(r)).count()
}

/// Both desks remind; arrow-key previews (reading the detail) change nothing; *Je prends*
/// on the technician's notification stops the admin's reminders and takes the admin's
/// alerts off the screen within one feed round trip, with no notification of its own.
#[test]
fn je_prends_on_one_desk_stops_the_reminders_of_every_desk() {
    run_on_private_bus(
        "je_prends_on_one_desk_stops_the_reminders_of_every_desk",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            let (admin, _a) = desk(&stage, &stage.users.admin, ADMIN_DESK, Some(1)).await;
            let (tech, _t) = desk(&stage, &stage.users.tech, TECH_DESK, Some(1)).await;
            let ticket = stage
                .http
                .intervention(&stage.client, true, "Alarme incendie entrepôt")
                .await
                .unwrap();
            let id = id_of(&ticket);

            for app in [ADMIN_DESK, TECH_DESK] {
                let first = notifd
                    .wait_for_by(app, 1, Duration::from_secs(10), |_| true)
                    .await;
                assert_eq!(first[0].urgency, Some(2), "{:?}", first[0]);
                assert_eq!(
                    first[0].actions,
                    ["open", "Ouvrir", "ack", "Je prends"],
                    "{:?}",
                    first[0]
                );
                notifd
                    .wait_for_by(app, 2, Duration::from_secs(10), is_reminder)
                    .await;
            }

            // Arrow keys / j-k preview every row: the engine reads the detail, nothing more.
            for _ in 0..3 {
                for engine in [&admin, &tech] {
                    let d = engine.request_detail(&id).await.unwrap();
                    assert!(d.can_acknowledge, "a preview takes nothing");
                    assert!(d.request.tracking.acknowledged_at.is_none());
                }
            }
            let (admin_before, tech_before) = (
                count(&notifd, ADMIN_DESK, is_reminder),
                count(&notifd, TECH_DESK, is_reminder),
            );
            for app in [ADMIN_DESK, TECH_DESK] {
                let n = if app == ADMIN_DESK {
                    admin_before
                } else {
                    tech_before
                };
                notifd
                    .wait_for_by(app, n + 1, Duration::from_secs(5), is_reminder)
                    .await;
            }

            // The admin's alerts still on screen (critical ones never expire).
            let on_admin_screen: Vec<u32> = notifd
                .recorded_by(ADMIN_DESK)
                .iter()
                .map(|r| r.id)
                .collect();
            // notify-rust listens for ActionInvoked a moment after Notify: click the
            // technician's latest alert once it had time to.
            let tech_alert = notifd.recorded_by(TECH_DESK).last().unwrap().clone();
            assert!(tech_alert.offers(ACK_ACTION) && tech_alert.offers(OPEN_ACTION));
            tokio::time::sleep(Duration::from_millis(500)).await;
            let clicked = Instant::now();
            notifd.click(tech_alert.id, ACK_ACTION).await;

            // Within one feed round trip, the admin's desk takes its alerts off the screen.
            let latest = *on_admin_screen.last().unwrap();
            let closed_at = notifd.wait_closed(latest, Duration::from_secs(3)).await;
            let took = closed_at.saturating_duration_since(clicked);
            println!("Je prends on the technician's desk → admin alert closed: {took:?}");
            assert!(took < Duration::from_secs(2), "{took:?}");
            for id in &on_admin_screen {
                notifd.wait_closed(*id, Duration::from_secs(3)).await;
            }

            // The server says who took it; both desks know it, and stop.
            let d = admin.request_detail(&id).await.unwrap();
            let by = d.request.tracking.acknowledged_by.clone().expect("taken");
            assert_eq!(by.name, "Moussa Tech");
            assert!(!d.can_acknowledge);
            let row = admin.inbox(InboxQuery::default()).await.unwrap().items;
            let row = row.iter().find(|i| i.id == id).unwrap();
            assert_eq!(row.acknowledged_by_name.as_deref(), Some("Moussa Tech"));
            let shown = (
                notifd.recorded_by(ADMIN_DESK).len(),
                notifd.recorded_by(TECH_DESK).len(),
            );
            tokio::time::sleep(Duration::from_millis(2500)).await;
            assert_eq!(
                (
                    notifd.recorded_by(ADMIN_DESK).len(),
                    notifd.recorded_by(TECH_DESK).len()
                ),
                shown,
                "no reminder and no pop-up after the acknowledgement: {:#?}",
                notifd.recorded()
            );
            stage.srv.stop().await;
        },
    );
}

/// An assignment takes the call for everyone but its technician: the admin's reminders stop
/// (and another technician's, who no longer sees it); the assignee is asked, and reminded,
/// until they take it with the explicit action.
#[test]
fn an_assignment_reminds_only_its_technician_until_acknowledged() {
    run_on_private_bus(
        "an_assignment_reminds_only_its_technician_until_acknowledged",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            stage.srv.create_user(
                itv_core::Role::Technician,
                "tech2@itvision.sn",
                "Fatou Tech",
                PASSWORD,
            );
            let (_admin, _a) = desk(&stage, &stage.users.admin, ADMIN_DESK, Some(1)).await;
            let (tech, _t) = desk(&stage, &stage.users.tech, TECH_DESK, Some(1)).await;
            let (_other, _o) = desk(&stage, "tech2@itvision.sn", "desk-tech2", Some(1)).await;
            let ticket = stage
                .http
                .intervention(&stage.client, true, "Caméras hors service")
                .await
                .unwrap();
            let id = id_of(&ticket);
            for app in [ADMIN_DESK, TECH_DESK, "desk-tech2"] {
                notifd
                    .wait_for_by(app, 1, Duration::from_secs(10), is_reminder)
                    .await;
            }

            let path = format!("/api/requests/{id}/assign");
            let body = json!({ "technicianId": stage.users.tech_id });
            stage.http.post(&stage.admin, &path, body).await.unwrap();
            let assigned = notifd
                .wait_for_by(TECH_DESK, 1, Duration::from_secs(10), |r| {
                    r.summary == "🚨 Intervention urgente assignée"
                })
                .await;
            assert!(assigned[0].offers(ACK_ACTION), "{:?}", assigned[0]);
            // The others' alerts are withdrawn, and they stop reminding.
            for app in [ADMIN_DESK, "desk-tech2"] {
                let last = notifd.recorded_by(app).last().unwrap().id;
                notifd.wait_closed(last, Duration::from_secs(3)).await;
            }
            let others = (
                notifd.recorded_by(ADMIN_DESK).len(),
                notifd.recorded_by("desk-tech2").len(),
            );
            let mine = notifd
                .wait_for_by(TECH_DESK, 2, Duration::from_secs(10), |r| {
                    r.summary == "🚨 Rappel : intervention urgente assignée"
                })
                .await;
            assert!(
                mine.iter()
                    .all(|r| r.urgency == Some(2) && r.offers(ACK_ACTION))
            );
            assert_eq!(
                (
                    notifd.recorded_by(ADMIN_DESK).len(),
                    notifd.recorded_by("desk-tech2").len()
                ),
                others,
                "only the assignee is reminded"
            );

            // Reading it is not taking it; the explicit action is.
            assert!(tech.request_detail(&id).await.unwrap().can_acknowledge);
            let taken = tech.acknowledge(&id).await.unwrap();
            assert!(taken.tracking.assignment_acknowledged_at.is_some());
            let last = notifd.recorded_by(TECH_DESK).last().unwrap().id;
            notifd.wait_closed(last, Duration::from_secs(3)).await;
            let shown = notifd.recorded().len();
            tokio::time::sleep(Duration::from_millis(2500)).await;
            assert_eq!(
                notifd.recorded().len(),
                shown,
                "nobody is reminded any more"
            );
            // A second acknowledgement changes nothing.
            let again = tech.acknowledge(&id).await.unwrap();
            assert_eq!(again.version, taken.version);
            stage.srv.stop().await;
        },
    );
}

/// The server escalates an urgent call nobody takes (its clock moved forward instead of
/// waiting): each level is a critical notification on the admin's and the technician's desks
/// naming the level and the minutes waited; the missed acknowledgement target warns the
/// admin only, with a normal notification.
#[test]
fn escalations_raise_critical_notifications_naming_level_and_minutes() {
    run_on_private_bus(
        "escalations_raise_critical_notifications_naming_level_and_minutes",
        async {
            let notifd = NotificationServer::start().await;
            let stage = Stage::start().await;
            // Default reminders (5 min): only the server's alerts show in this test.
            let (_admin, _a) = desk(&stage, &stage.users.admin, ADMIN_DESK, None).await;
            let (_tech, _t) = desk(&stage, &stage.users.tech, TECH_DESK, None).await;
            stage
                .http
                .intervention(&stage.client, true, "Coupure réseau du siège")
                .await
                .unwrap();
            for app in [ADMIN_DESK, TECH_DESK] {
                notifd
                    .wait_for_by(app, 1, Duration::from_secs(10), |_| true)
                    .await;
            }
            let clock = &stage.srv.state().clock;
            let escalation = |level: u32| {
                move |r: &Recorded| {
                    r.summary
                        .starts_with(&format!("🚨 Escalade niveau {level}"))
                }
            };
            clock.advance(chrono::Duration::minutes(5));
            for app in [ADMIN_DESK, TECH_DESK] {
                let n = notifd
                    .wait_for_by(app, 1, Duration::from_secs(10), escalation(1))
                    .await;
                assert_eq!(n[0].urgency, Some(2), "{:?}", n[0]);
                assert!(n[0].body.contains("depuis 5 min"), "{:?}", n[0]);
                assert!(n[0].offers(ACK_ACTION), "{:?}", n[0]);
            }
            clock.advance(chrono::Duration::minutes(5));
            for app in [ADMIN_DESK, TECH_DESK] {
                let n = notifd
                    .wait_for_by(app, 1, Duration::from_secs(10), escalation(2))
                    .await;
                assert!(n[0].body.contains("depuis 10 min"), "{:?}", n[0]);
            }
            // 16 min: past the 15 min acknowledgement target.
            clock.advance(chrono::Duration::minutes(6));
            let breach = notifd
                .wait_for_by(ADMIN_DESK, 1, Duration::from_secs(10), |r| {
                    r.summary.starts_with("Délai de prise en charge dépassé")
                })
                .await;
            assert_eq!(breach[0].urgency, Some(1), "{:?}", breach[0]);
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert!(
                !notifd
                    .recorded_by(TECH_DESK)
                    .iter()
                    .any(|r| r.summary.starts_with("Délai")),
                "breaches are for admins"
            );
            let levels: Vec<String> = notifd
                .recorded_by(TECH_DESK)
                .iter()
                .map(|r| r.summary.clone())
                .collect();
            assert_eq!(
                levels.iter().filter(|s| s.contains("Escalade")).count(),
                3,
                "one notification per level: {levels:#?}"
            );
            stage.srv.stop().await;
        },
    );
}

/// A signed-in, live engine whose notifications are only counted (no D-Bus needed).
async fn quiet_desk(stage: &Stage, email: &str) -> (Engine, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let notifier = Arc::new(CountingNotifier::default());
    let engine = Engine::open(data.path(), engine_config(Some(notifier)))
        .await
        .unwrap();
    engine
        .sign_in(&stage.srv.url, email, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;
    (engine, data)
}

fn refusal(e: Error) -> Box<itv_desk::ServerRefusal> {
    match e {
        Error::Server(r) => r,
        other => panic!("expected the server's refusal, got {other:?}"),
    }
}

/// The *Tableau de bord* reads `GET /api/staff/metrics` through the engine: an admin's engine
/// gets the server's JSON as is (the server's default period for empty dates, or the one
/// asked), a bad date is the server's 400 naming the field, and a technician's engine gets
/// the server's 403 as a `forbidden` refusal, staying signed in and live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_for_admins_and_a_clear_refusal_for_technicians() {
    use chrono::Datelike;
    support::init_logs();
    let stage = Stage::start().await;
    stage
        .http
        .intervention(&stage.client, true, "Caméras hors ligne")
        .await
        .unwrap();
    let (admin, _a) = quiet_desk(&stage, &stage.users.admin).await;
    let (tech, _t) = quiet_desk(&stage, &stage.users.tech).await;

    // Empty dates: the server's default, the 12 ISO weeks up to today.
    let m = admin.metrics("", "").await.unwrap();
    let today = stage.srv.state().clock.now().date_naive();
    assert_eq!(m["success"], json!(true), "{m:#}");
    assert_eq!(m["to"], json!(today.to_string()), "{m:#}");
    let weeks = m["weeks"].as_array().expect("weeks");
    assert_eq!(weeks.len(), 12, "{m:#}");
    let from = chrono::NaiveDate::parse_from_str(m["from"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(from.weekday(), chrono::Weekday::Mon, "{m:#}");
    let created: u64 = weeks.iter().map(|w| w["created"].as_u64().unwrap()).sum();
    assert_eq!(created, 1, "{m:#}");

    // A period asked for: exactly what the server answers over HTTP.
    let asked = admin.metrics("2025-01-06", "2025-01-19").await.unwrap();
    let direct: Value = stage
        .http
        .get(
            &stage.admin,
            "/api/staff/metrics?from=2025-01-06&to=2025-01-19",
        )
        .await;
    assert_eq!(asked, direct);
    assert_eq!(asked["from"], json!("2025-01-06"));
    assert_eq!(asked["weeks"].as_array().unwrap().len(), 2, "{asked:#}");

    // A bad date: the server's 400, the field named, the session kept.
    let bad = refusal(admin.metrics("hier", "").await.unwrap_err());
    assert_eq!(bad.status, 400, "{bad:?}");
    assert!(bad.fields.contains_key("from"), "{bad:?}");

    // A technician: the server's 403, said plainly, and nothing else happens.
    let err = tech.metrics("", "").await.unwrap_err();
    let ui = err.to_ui();
    assert_eq!(ui.code, "forbidden", "{ui:?}");
    assert_eq!(ui.message, "Action non autorisée pour votre rôle", "{ui:?}");
    assert_eq!(refusal(err).status, 403);
    assert!(tech.session().is_some(), "a refusal is not a lost session");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(tech.connection(), itv_desk::ConnectionState::Live);

    // Signed out, the engine does not ask.
    let data = tempfile::tempdir().unwrap();
    let quiet = Arc::new(CountingNotifier::default());
    let signed_out = Engine::open(data.path(), engine_config(Some(quiet)))
        .await
        .unwrap();
    assert!(matches!(
        signed_out.metrics("", "").await,
        Err(Error::NotSignedIn)
    ));
    stage.srv.stop().await;
}
