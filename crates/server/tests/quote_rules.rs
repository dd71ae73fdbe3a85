//! Quote rules over real HTTP: a draft quote's price stays with staff until it is
//! sent, and a sent quote cannot be accepted after its `validUntil`.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use itv_server::testing::TestServer;

fn in_days(days: u64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(days)).to_string()
}

fn priced() -> Value {
    json!({
        "lines": [
            {"designation": "Caméra IP 4K", "quantity": 10, "unitPrice": 125_000},
            {"designation": "NVR 16 canaux", "quantity": 1, "unitPrice": 350_000}
        ],
        "discount": 100_000,
        "validUntil": in_days(30),
    })
}

async fn put(api: &Api, path: &str, body: Value) -> (StatusCode, Value) {
    api.send(api.http.put(format!("{}{path}", api.base)).json(&body))
        .await
}

/// A quote request, prepared by the admin (1 770 000 FCFA TTC): its `_id`.
async fn prepared_quote(client: &Api, admin: &Api) -> String {
    let (status, created) = client
        .post("/api/client/requests/quote", seed_quote())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = id_of(&created);
    let (status, saved) = put(admin, &format!("/api/requests/{id}/quote"), priced()).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["quote"]["total"], 1_770_000);
    id
}

#[tokio::test]
async fn a_draft_quote_price_is_never_shown_to_the_client() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let id = prepared_quote(&client, &admin).await;
    let price = "1 770 000";

    // The admin reads the price in the history, marked staff-only.
    let (_, detail) = admin.get(&format!("/api/requests/{id}")).await;
    let prepared: Vec<&Value> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "quote:prepared")
        .collect();
    assert_eq!(prepared.len(), 1, "{detail}");
    assert_eq!(prepared[0]["note"], format!("Total TTC {price} FCFA"));
    assert_eq!(prepared[0]["staffOnly"], true);

    // The client sees the move to in_progress, without its note, and no price anywhere.
    let (status, seen) = client.get(&format!("/api/requests/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!seen.to_string().contains(price), "price leaked: {seen}");
    assert!(seen["quote"].is_null());
    let moved = seen["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["toStatus"] == "in_progress")
        .expect("the status move stays visible");
    assert!(moved["note"].is_null(), "{moved}");
    for path in [
        format!("/api/requests/{id}/messages"),
        "/api/client/requests/quote".to_string(),
        "/api/requests".to_string(),
    ] {
        let (_, body) = client.get(&path).await;
        assert!(!body.to_string().contains(price), "{path}: {body}");
    }
    // The feed carries no history: no event of this request mentions the price.
    let store = server.state().store.clone();
    let events =
        itv_server::testing::off_runtime(move || store.events_after(0, 1000, None)).unwrap();
    for e in events {
        let frame = serde_json::to_string(&e.event).unwrap();
        assert!(!frame.contains(price), "feed event leaked: {frame}");
    }

    // Re-preparing (no status move) is a staff-only line the client does not get at all.
    let (status, _) = put(&admin, &format!("/api/requests/{id}/quote"), priced()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, admin_view) = admin.get(&format!("/api/requests/{id}")).await;
    let (_, client_view) = client.get(&format!("/api/requests/{id}")).await;
    let count = |v: &Value| v["history"].as_array().unwrap().len();
    assert_eq!(count(&admin_view), count(&client_view) + 1);

    // Once sent, the client reads the quote itself (with its total).
    let (status, _) = admin
        .post(&format!("/api/requests/{id}/quote/send"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, seen) = client.get(&format!("/api/requests/{id}")).await;
    assert_eq!(seen["quote"]["total"], 1_770_000);
    server.stop().await;
}

#[tokio::test]
async fn an_expired_quote_cannot_be_accepted_and_nothing_changes() {
    let server = TestServer::start().await;
    let _cast = cast(&server);
    let client = Api::login(&server, "client@test.sn").await;
    let admin = Api::login(&server, "admin@test.sn").await;
    let id = prepared_quote(&client, &admin).await;
    let (status, _) = admin
        .post(&format!("/api/requests/{id}/quote/send"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Preparing refuses a past date, so the stored quote is aged directly in the database.
    let aged = match server.database_url() {
        Some(url) => {
            let (url, id) = (url.to_string(), id.clone());
            itv_server::testing::off_runtime(move || {
                postgres::Client::connect(&url, postgres::NoTls)
                    .unwrap()
                    .execute(
                        "UPDATE quotes SET body = jsonb_set(body, '{validUntil}', '\"2020-01-31\"') WHERE request_id = $1",
                        &[&id],
                    )
                    .unwrap()
            })
        }
        None => rusqlite::Connection::open(server.data_dir.join("itv.db"))
            .unwrap()
            .execute(
                "UPDATE quotes SET body = json_set(body, '$.validUntil', '2020-01-31') WHERE request_id = ?1",
                [&id],
            )
            .unwrap() as u64,
    };
    assert_eq!(aged, 1);
    let (_, before) = client.get(&format!("/api/requests/{id}")).await;

    let (status, body) = client
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "accepted"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "quote_expired");
    assert_eq!(
        body["message"],
        "Ce devis a expiré le 31/01/2020 ; demandez un nouveau devis"
    );
    assert_eq!(body["validUntil"], "2020-01-31");
    let (_, after) = client.get(&format!("/api/requests/{id}")).await;
    assert_eq!(after, before, "a refused acceptance changes nothing");
    assert_eq!(after["request"]["status"], "sent");

    // Declining an expired quote is still the client's answer to give.
    let (status, body) = client
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "declined"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["request"]["status"], "declined");

    // A quote valid until today is still acceptable today.
    let id = prepared_quote(&client, &admin).await;
    let today = in_days(0);
    let (status, _) = put(
        &admin,
        &format!("/api/requests/{id}/quote"),
        json!({"lines": [{"designation": "Visite", "quantity": 1, "unitPrice": 50_000}], "validUntil": today}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    admin
        .post(&format!("/api/requests/{id}/quote/send"), json!({}))
        .await;
    let (status, body) = client
        .post(
            &format!("/api/requests/{id}/status"),
            json!({"status": "accepted"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.stop().await;
}
