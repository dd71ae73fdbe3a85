//! System test of quotes through the engine against the real server: an admin
//! prepares a priced quote, sees its totals (the server's and the preview's agree),
//! sends it; bad drafts and late edits come back refused with the server's reason;
//! the quote stays readable offline from the cache.

mod support;

use std::time::Duration;

use itv_desk::quote::{QuoteDraft, QuoteLineDraft, preview};
use itv_desk::{Action, ConnectionState, Engine, PerformOutcome};
use support::proxy::Proxy;
use support::server::{PASSWORD, Stage, engine_config, id_of, wait_live, wait_until};

fn draft(discount: u64) -> QuoteDraft {
    QuoteDraft {
        lines: vec![
            QuoteLineDraft {
                designation: "Caméra IP 4K".into(),
                quantity: 4,
                unit_price: 85_000,
            },
            QuoteLineDraft {
                designation: "Installation et câblage".into(),
                quantity: 1,
                unit_price: 150_001,
            },
        ],
        discount,
        valid_until: (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string(),
        notes: "Garantie 12 mois".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_prepares_and_sends_a_quote_from_the_desk() {
    support::init_logs();
    let stage = Stage::start().await;
    let (users, http, client) = (&stage.users, &stage.http, &stage.client);
    let proxy = Proxy::start(&stage.srv.url).await;
    let q = id_of(&http.quote(client, "Devis 4 caméras").await.unwrap());

    let data = tempfile::tempdir().unwrap();
    let engine = Engine::open(data.path(), engine_config(None))
        .await
        .unwrap();
    engine
        .sign_in(&proxy.url, &users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;
    assert_eq!(engine.request_detail(&q).await.unwrap().quote, None);

    // A discount above the subtotal: refused with the field at fault, nothing stored.
    let out = engine
        .perform(Action::PrepareQuote {
            request_id: q.clone(),
            quote: draft(1_000_000),
        })
        .await
        .unwrap();
    let PerformOutcome::Refused { refusal, outbox_id } = out else {
        panic!("expected a refusal, got {out:?}");
    };
    assert_eq!(refusal.status, 400);
    assert!(refusal.message.contains("discount"), "{}", refusal.message);
    engine.discard_outbox_entry(outbox_id).await.unwrap();

    let out = engine
        .perform(Action::PrepareQuote {
            request_id: q.clone(),
            quote: draft(10_000),
        })
        .await
        .unwrap();
    assert!(matches!(out, PerformOutcome::Applied { .. }), "{out:?}");
    let d = engine.request_detail(&q).await.unwrap();
    assert_eq!(d.request.status, "in_progress", "preparing starts the work");
    let stored = d.quote.expect("the quote is in the detail");
    let p = preview(&draft(10_000).lines, 10_000);
    assert_eq!(stored.subtotal, 490_001);
    assert_eq!(
        (stored.subtotal, stored.vat_amount, stored.total),
        (p.subtotal, p.vat_amount, p.total),
        "the desk's preview and the server agree to the franc"
    );
    assert_eq!(stored.lines[1].line_total, 150_001);
    assert_eq!(stored.notes, "Garantie 12 mois");

    let out = engine
        .perform(Action::SendQuote {
            request_id: q.clone(),
        })
        .await
        .unwrap();
    assert!(matches!(out, PerformOutcome::Applied { .. }), "{out:?}");
    let sent = engine.request_detail(&q).await.unwrap();
    assert_eq!(sent.request.status, "sent");
    let for_client = http.get(client, &format!("/api/requests/{q}")).await;
    assert_eq!(for_client["quote"]["total"], stored.total);

    // Once sent, the quote cannot be prepared again: refused with the current status.
    let out = engine
        .perform(Action::PrepareQuote {
            request_id: q.clone(),
            quote: draft(0),
        })
        .await
        .unwrap();
    let PerformOutcome::Refused { refusal, .. } = out else {
        panic!("expected a refusal, got {out:?}");
    };
    assert_eq!(refusal.status, 409);
    assert_eq!(refusal.current_status.as_deref(), Some("sent"));

    // Offline, the quote is still there, from the cache.
    proxy.down();
    wait_until("offline", Duration::from_secs(5), || async {
        matches!(engine.connection(), ConnectionState::Offline { .. })
    })
    .await;
    let offline = engine.request_detail(&q).await.unwrap();
    assert!(!offline.fresh);
    assert_eq!(offline.quote.map(|q| q.total), Some(stored.total));
    stage.srv.stop().await;
}
