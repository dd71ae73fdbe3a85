//! The live feed over WebSocket: replay from the durable log after `since`, then
//! stream live events, in `seq` order, scoped to what the subscriber may see.
//!
//! The subscriber joins the live broadcast *before* reading the log, so an event
//! committed during the replay is seen twice at worst, never missed; `seq` drops the
//! second copy. A slow subscriber that falls behind the broadcast reads the log again.

use std::time::{Duration, Instant};

use crate::body::QueryParams;
use axum::Json;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::auth::{AuthUser, MSG_BAD_TOKEN, MSG_NO_TOKEN};
use crate::error::ApiError;
use crate::store::{LoggedEvent, User};

/// A browser that cannot set headers sends `{"type":"auth","token":...}` within this.
const AUTH_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
const REPLAY_PAGE: u32 = 500;

#[derive(Debug, Deserialize)]
pub struct FeedParams {
    since: Option<String>,
}

/// `GET /api/feed/head`: the log's last and oldest `seq`, to resynchronise.
#[utoipa::path(
    get,
    path = "/api/feed/head",
    tag = "feed",
    responses(
        (status = 200, description = "The log bounds", body = crate::openapi::FeedHead),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn head(State(state): State<AppState>, _user: AuthUser) -> Result<Json<Value>, ApiError> {
    let (oldest, head) = state.db(|s| s.event_bounds()).await?;
    Ok(Json(
        json!({ "success": true, "seq": head, "oldestSeq": oldest }),
    ))
}

/// `GET /api/feed?since=N`: the live feed, a WebSocket. Each text frame is a
/// `FeedEvent`, or a `ReadyFrame`, `ResyncRequiredFrame` or `FeedErrorFrame`; a browser
/// without the header sends an `AuthFrame` first.
#[utoipa::path(
    get,
    path = "/api/feed",
    tag = "feed",
    params(crate::openapi::FeedQuery),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket is open; frames are `FeedEvent`, `ReadyFrame`, `ResyncRequiredFrame`, `FeedErrorFrame`"),
        (status = 400, description = "`validation`: a query parameter is wrong (`errors` names it)", body = crate::openapi::ErrorBody),
        (status = 401, description = "`unauthorized`: no token, a bad or expired token", body = crate::openapi::ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn subscribe(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<FeedParams>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let since = match params.since.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(n)) if n >= 0 => Some(n),
        Some(_) => {
            return ApiError::field("since", "Doit être un entier positif ou nul").into_response();
        }
    };
    // A token in the header is checked before the upgrade: a bad one is a plain 401.
    let user = match headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
    {
        Some((_, token)) => match state.keys.verify(token.trim()) {
            Ok(u) => Some(u),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) => {
            return ApiError::field("upgrade", "Connexion WebSocket attendue").into_response();
        }
    };
    ws.on_upgrade(move |socket| async move {
        if let Err(reason) = run(socket, state, user, since).await {
            tracing::debug!(%reason, "feed connection ended");
        }
    })
}

fn frame(v: Value) -> Message {
    Message::Text(Utf8Bytes::from(v.to_string()))
}

async fn send_event(socket: &mut WebSocket, e: &LoggedEvent) -> Result<(), String> {
    let text = serde_json::to_string(&e.event).map_err(|e| e.to_string())?;
    socket
        .send(Message::Text(Utf8Bytes::from(text)))
        .await
        .map_err(|e| e.to_string())
}

async fn authenticate(socket: &mut WebSocket, state: &AppState) -> Result<User, String> {
    let first = tokio::time::timeout(AUTH_FRAME_TIMEOUT, socket.recv()).await;
    let token = match first {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(&t)
            .ok()
            .filter(|v| v["type"] == "auth")
            .and_then(|v| v["token"].as_str().map(str::to_string)),
        _ => None,
    };
    let verified = match token {
        Some(t) => state.keys.verify(&t).map_err(|_| MSG_BAD_TOKEN),
        None => Err(MSG_NO_TOKEN),
    };
    match verified {
        Ok(u) => Ok(u),
        Err(message) => {
            let _ = socket
                .send(frame(
                    json!({"type": "error", "code": "unauthorized", "message": message}),
                ))
                .await;
            let _ = socket.send(Message::Close(None)).await;
            Err("unauthenticated".into())
        }
    }
}

/// Sends the logged events after `last` that `user` may see; returns the new `last`.
async fn replay(
    socket: &mut WebSocket,
    state: &AppState,
    user: &User,
    mut last: i64,
) -> Result<i64, String> {
    loop {
        let after = last;
        let page = state
            .db(move |s| s.events_after(after, REPLAY_PAGE))
            .await
            .map_err(|e| e.to_string())?;
        for e in &page {
            if e.audience.admits(user.role, &user.id) {
                send_event(socket, e).await?;
            }
            last = e.seq();
        }
        if page.len() < REPLAY_PAGE as usize {
            return Ok(last);
        }
    }
}

async fn run(
    mut socket: WebSocket,
    state: AppState,
    user: Option<User>,
    since: Option<i64>,
) -> Result<(), String> {
    let user = match user {
        Some(u) => u,
        None => authenticate(&mut socket, &state).await?,
    };
    let mut live = state.events.subscribe();
    let (oldest, head) = state
        .db(|s| s.event_bounds())
        .await
        .map_err(|e| e.to_string())?;
    let mut last = match since {
        // The log no longer reaches back to `since`, or `since` is from another log.
        Some(s) if s < oldest - 1 || s > head => {
            let msg = json!({"type": "resync_required", "oldestSeq": oldest, "headSeq": head});
            let _ = socket.send(frame(msg)).await;
            let _ = socket.send(Message::Close(None)).await;
            return Ok(());
        }
        Some(s) => replay(&mut socket, &state, &user, s).await?,
        None => head,
    };
    socket
        .send(frame(json!({"type": "ready", "seq": last})))
        .await
        .map_err(|e| e.to_string())?;
    tracing::debug!(user = %user.id, last, "feed subscriber live");

    let ping_every = state.config.ping_interval();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut heard = Instant::now();
    let mut stopping = state.stopping.clone();
    loop {
        tokio::select! {
            got = live.recv() => match got {
                Ok(live_event) => {
                    let e = &live_event.logged;
                    if e.seq() <= last {
                        continue;
                    }
                    if e.audience.admits(user.role, &user.id) {
                        socket
                            .send(Message::Text(live_event.frame.clone()))
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    last = e.seq();
                }
                Err(RecvError::Lagged(_)) => last = replay(&mut socket, &state, &user, last).await?,
                Err(RecvError::Closed) => return Ok(()),
            },
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                Some(Ok(Message::Ping(p))) => {
                    heard = Instant::now();
                    socket.send(Message::Pong(p)).await.map_err(|e| e.to_string())?;
                }
                Some(Ok(_)) => heard = Instant::now(),
            },
            _ = ping.tick() => {
                if heard.elapsed() > ping_every * 3 {
                    return Err("peer silent, dropped".into());
                }
                socket.send(Message::Ping(Default::default())).await.map_err(|e| e.to_string())?;
            }
            _ = stopping.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return Ok(());
            }
        }
    }
}
