//! The seed's *Métriques* measured over real traffic: a staff desk on the feed when
//! requests arrive, a project validated two hours later, an urgent call with a
//! technician en route after 40 minutes, with the workflow clock moved forward.

mod common;

use std::time::Duration;

use common::*;
use itv_server::testing::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

#[tokio::test]
async fn the_seed_promises_are_measured_from_history_and_deliveries() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let tech = Api::login(&server, "tech@test.sn").await;
    let mut desk = connect(&server, &cast.admin, None).await;
    while next_json(&mut desk).await["type"] != "ready" {}

    let (_, p) = client
        .post("/api/client/requests/project", seed_project())
        .await;
    let project = id_of(&p);
    let (_, u) = client
        .post("/api/client/requests/intervention", seed_intervention())
        .await;
    let urgent = id_of(&u);
    for _ in 0..2 {
        assert_eq!(next_json(&mut desk).await["type"], "request.created");
    }

    server.state().clock.advance(minutes(40));
    admin
        .post(
            &format!("/api/requests/{urgent}/assign"),
            json!({"technicianId": cast.tech.id}),
        )
        .await;
    let (status, _) = tech
        .post(
            &format!("/api/requests/{urgent}/status"),
            json!({"status": "en_route"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server.state().clock.advance(minutes(80));
    let (status, _) = admin
        .post(
            &format!("/api/requests/{project}/status"),
            json!({"status": "active"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The deliveries are written in batches, off the feed's path.
    let mut m = Value::Null;
    for _ in 0..30 {
        let (status, body) = admin.get("/api/staff/metrics").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        m = body;
        if m["notificationDelivery"]["count"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(m["notificationDelivery"]["count"], 2, "{m}");
    let p50 = m["notificationDelivery"]["p50Seconds"].as_f64().unwrap();
    assert!((0.0..5.0).contains(&p50), "{m}");
    assert_eq!(m["projectValidation"]["count"], 1);
    let hours = m["projectValidation"]["medianHours"].as_f64().unwrap();
    assert!((hours - 2.0).abs() < 0.01, "{hours}");
    let en_route = &m["urgentEnRoute"];
    assert_eq!(en_route["count"], 1);
    let median = en_route["medianMinutes"].as_f64().unwrap();
    assert!((median - 40.0).abs() < 0.1, "{median}");
    assert_eq!(en_route["under2hShare"], 1.0);
    assert_eq!(m["sla"][0]["priority"], "urgent");
    // Acknowledged by the assignment at 40 min: late against 15 min.
    assert_eq!(m["sla"][0]["ackBreached"], 1);
    assert_eq!(m["openByTechnician"][0]["name"], "Moussa Tech");
    assert_eq!(m["openByTechnician"][0]["urgent"], 1);
    let weeks = m["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    // By week of creation (the moved clock may have crossed into the next one).
    let created: i64 = weeks.iter().map(|w| w["created"].as_i64().unwrap()).sum();
    assert_eq!(created, 2);
    assert!(
        weeks
            .iter()
            .any(|w| w["created"] == 2
                && w["urgentEnRouteMedianMinutes"] == en_route["medianMinutes"]),
        "{weeks:?}"
    );

    for bad in [
        "from=hier",
        "from=2026-12-01&to=2026-11-01",
        "from=2020-01-01&to=2026-01-01",
    ] {
        let (status, body) = admin.get(&format!("/api/staff/metrics?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["errors"]["from"].is_string(), "{body}");
    }
    let (status, _) = tech.get("/api/staff/metrics").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
