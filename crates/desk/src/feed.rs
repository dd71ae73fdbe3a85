//! The feed's WebSocket client: connects with `Authorization: Bearer`, answers
//! and sends pings, and reports a connection silent for too long as dead.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::{Error, Result};
use crate::sync::Liveness;
use crate::types::Frame;

/// Why a feed connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEnd {
    /// Closed by the server or the network.
    Closed(String),
    /// Nothing heard for `Liveness::dead_after`.
    Dead,
}

/// One open feed connection.
pub struct FeedConn {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    live: Liveness,
    last_heard: Instant,
    last_ping: Instant,
}

impl std::fmt::Debug for FeedConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedConn").finish_non_exhaustive()
    }
}

/// Opens `GET /api/feed?since=N` as a WebSocket.
pub async fn connect(url: &str, token: &str, live: Liveness) -> Result<FeedConn> {
    let mut req = url
        .into_client_request()
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let auth = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|e| Error::Invalid(e.to_string()))?;
    req.headers_mut().insert("Authorization", auth);
    let connecting = tokio_tungstenite::connect_async(req);
    let (ws, _resp) = tokio::time::timeout(Duration::from_secs(10), connecting)
        .await
        .map_err(|_| Error::Network("feed connect timed out".into()))?
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(resp) => {
                // The server refuses the upgrade with its usual JSON body
                // (`session_ended` with its reason, `unauthorized`...).
                let status = resp.status();
                let body = resp
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(serde_json::Value::Null);
                let mut err = crate::api::refusal(status, &body);
                if let Error::Server(r) = &mut err {
                    // An overloaded server spreads the reconnects itself (503 + Retry-After).
                    r.retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    if r.code.starts_with("http_") {
                        if status.as_u16() == 401 {
                            r.code = "unauthorized".into();
                        }
                        r.message = format!("feed upgrade refused ({})", status.as_u16());
                    }
                }
                err
            }
            other => Error::Network(other.to_string()),
        })?;
    let now = Instant::now();
    Ok(FeedConn {
        ws,
        live,
        last_heard: now,
        last_ping: now,
    })
}

impl FeedConn {
    /// The next text frame; pings are answered and sent in between.
    pub async fn next_frame(&mut self) -> std::result::Result<Frame, FeedEnd> {
        loop {
            let dead_at = self.last_heard + self.live.dead_after;
            let ping_at = self.last_ping + self.live.ping_every;
            tokio::select! {
                msg = self.ws.next() => {
                    self.last_heard = Instant::now();
                    match msg {
                        Some(Ok(Message::Text(t))) => return Ok(Frame::parse(t.as_str())),
                        Some(Ok(Message::Ping(p))) => {
                            // tungstenite queues the pong; flush it now.
                            let _ = self.ws.send(Message::Pong(p)).await;
                        }
                        Some(Ok(Message::Close(c))) => {
                            return Err(FeedEnd::Closed(
                                c.map(|c| c.reason.to_string()).unwrap_or_default(),
                            ));
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(FeedEnd::Closed(e.to_string())),
                        None => return Err(FeedEnd::Closed("end of stream".into())),
                    }
                }
                _ = tokio::time::sleep_until(ping_at) => {
                    self.last_ping = Instant::now();
                    if let Err(e) = self.ws.send(Message::Ping(Vec::new().into())).await {
                        return Err(FeedEnd::Closed(e.to_string()));
                    }
                }
                _ = tokio::time::sleep_until(dead_at) => {
                    if self.live.is_dead(self.last_heard.elapsed()) {
                        return Err(FeedEnd::Dead);
                    }
                }
            }
        }
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.ws.close(None)).await;
    }
}
