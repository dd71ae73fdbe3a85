//! What the server's benches share: a feed subscriber that reads as little as it can, the
//! urgent creation they time, and the percentiles they print.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (request id, arrival) of each event a subscriber received.
pub type Arrivals = mpsc::UnboundedReceiver<(String, Instant)>;

/// Connected subscribers: what they received, and their tasks (closed when dropped, so one
/// round's sockets do not go on reading during the next).
pub struct Subscribers {
    pub arrivals: Arrivals,
    pub tasks: JoinSet<()>,
}

/// tungstenite zeroes its whole read buffer (128 KiB by default) at every read: with a
/// thousand sockets that memset, not the server, was what a harness measured.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(8 * 1024)
}

/// `n` subscribers on our feed at `base` (`http://…`), signed in with `tokens` in turn; each
/// reports every event it receives. Returns once all are live (their `ready` frame).
pub async fn feed_subscribers(base: &str, tokens: &[String], n: usize) -> Subscribers {
    // The two fields a subscriber looks at; the rest of the frame is skipped, not built.
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        frame_type: Option<String>,
        #[serde(rename = "_id")]
        id: Option<String>,
    }
    let (tx, arrivals) = mpsc::unbounded_channel();
    let mut tasks = JoinSet::new();
    let mut ready = Vec::new();
    for i in 0..n {
        let mut req = format!("{}/api/feed", base.replacen("http", "ws", 1))
            .into_client_request()
            .unwrap();
        let auth = format!("Bearer {}", tokens[i % tokens.len()]);
        req.headers_mut()
            .insert("authorization", auth.parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), false)
            .await
            .expect("subscriber connects");
        let (write, mut read) = ws.split();
        let (tx, (ready_tx, ready_rx)) = (tx.clone(), tokio::sync::oneshot::channel());
        ready.push(ready_rx);
        tasks.spawn(async move {
            let _open = write; // dropped, it would close the socket
            let mut ready_tx = Some(ready_tx);
            while let Some(Ok(msg)) = read.next().await {
                if let Message::Text(t) = msg {
                    let at = Instant::now();
                    let head: Head = serde_json::from_str(&t).unwrap();
                    if head.frame_type.as_deref() == Some("ready") {
                        if let Some(r) = ready_tx.take() {
                            let _ = r.send(());
                        }
                    } else if let Some(id) = head.id {
                        let _ = tx.send((id, at));
                    }
                }
            }
        });
    }
    for r in ready {
        r.await.unwrap();
    }
    Subscribers { arrivals, tasks }
}

/// The seed's urgent intervention, posted to `base`; the new ticket's `_id`.
pub async fn post_urgent(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    i: usize,
) -> String {
    let mut rb = http
        .post(format!("{base}/api/client/requests/intervention"))
        .json(&json!({
            "type": "urgent",
            "title": format!("Panne critique n°{i}"),
            "description": "Plus aucune image sur les caméras du parking",
            "site": "Siège social - Plateau, Dakar"
        }));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    v["ticket"]["_id"].as_str().unwrap().to_string()
}

/// A session token through the real login endpoint.
pub async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let v: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().expect("signed in").to_string()
}
