//! The live feed over WebSocket: replay from the durable log after `since`, then
//! stream live events, in `seq` order, scoped to what the subscriber may see.
//!
//! The subscriber joins the live broadcast *before* reading the log, so an event
//! committed during the replay is seen twice at worst, never missed; `seq` drops the
//! second copy. A slow subscriber that falls behind the broadcast reads the log again.
//!
//! Every `ready` and `resync_required` frame carries the log's epoch
//! (`log_identity.rs`): a position means something only with the epoch it was read
//! in. A subscriber that sends the epoch of its position (`?epoch=`) and finds another
//! is told to resynchronise before any replay. Event frames do not carry it: the epoch
//! changes only when the server starts, and a start begins every socket anew.
//!
//! Upgrades are admitted at a bounded pace and up to a bounded number of open sockets
//! (`feed_guard::FeedAdmission`); beyond, 503 with a spread `Retry-After`.
//!
//! A socket lives only as long as its session: when the session ends (sign-out, an
//! admin's change, a password change, expiry) the socket gets a `session_ended` error
//! frame and is closed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::body::QueryParams;
use axum::Json;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::SinkExt;
use itv_core::account::EndReason;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{AuthUser, MSG_BAD_TOKEN, MSG_NO_TOKEN, authenticate, bearer};
use crate::client_ip::ClientIp;
use crate::error::{ApiError, BadQuery400, Busy503, ErrorBody, ErrorCode, Unauthorized401};
use crate::feed_guard::{FeedPermit, PendingSlot, random_u64};
use crate::live::LiveEvent;
use crate::sessions::{Ended, LiveSession};
use crate::state::AppState;
use crate::store::{LoggedEvent, Reader, User};

/// A browser that cannot set headers sends `{"type":"auth","token":...}` within this.
const AUTH_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
const REPLAY_PAGE: u32 = 500;
/// A subscriber only ever sends its auth frame, pongs and close frames: anything
/// bigger is refused by the WebSocket layer before it is buffered or parsed.
pub const MAX_INCOMING_FRAME: usize = 4 * 1024;
/// tungstenite zeroes up to this much of its read buffer before every read attempt, and a
/// socket is polled for reading at every wake-up, an event's included: at the default
/// 128 KiB, a thousand sockets memset 128 MB per event (the profile's top entry); at 8 KiB,
/// still 5% of the server's CPU with 1,000 subscribers. What a subscriber sends is a pong
/// or an auth frame, a few hundred bytes; a bigger one (up to `MAX_INCOMING_FRAME`) is
/// read in several reads.
const READ_BUFFER: usize = 512;
/// Said to a desk refused for the feed's bounds (the 503's body, or an error frame).
pub const MSG_OVERLOADED: &str =
    "Le serveur reçoit trop de connexions en ce moment, nouvel essai dans quelques secondes";

#[derive(Debug, Deserialize)]
pub struct FeedParams {
    since: Option<String>,
    epoch: Option<String>,
}

/// `GET /api/feed/head`: the log's last and oldest `seq` and its epoch, to
/// resynchronise: a full sync that starts here resumes the feed with `since=seq` and
/// `epoch`.
#[utoipa::path(
    get,
    path = "/api/feed/head",
    tag = "feed",
    responses(
        (status = 200, description = "The log bounds", body = FeedHead),
        Unauthorized401,
        Busy503,
    ),
    security(("bearer" = []))
)]
pub async fn head(State(state): State<AppState>, _user: AuthUser) -> Result<Json<Value>, ApiError> {
    let (oldest, head) = state.db(|s| s.event_bounds()).await?;
    Ok(Json(
        json!({ "success": true, "seq": head, "oldestSeq": oldest, "epoch": &*state.epoch }),
    ))
}

/// `GET /api/feed?since=N`: the live feed, a WebSocket. Each text frame is a
/// `FeedEvent`, or a `ReadyFrame`, `ResyncRequiredFrame` or `FeedErrorFrame`; a browser
/// without the header sends an `AuthFrame` first.
#[utoipa::path(
    get,
    path = "/api/feed",
    tag = "feed",
    params(FeedQuery),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket is open; frames are `FeedEvent`, `ReadyFrame`, `ResyncRequiredFrame`, `FeedErrorFrame`"),
        BadQuery400,
        (status = 401, description = "`unauthorized`: a bad token in the header; `session_ended`: its session was ended (`reason`)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: this address already holds its share of sockets waiting for their auth frame", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`overloaded`: the feed takes no more sockets for now (`--feed-max-sockets` open, or `--feed-accept-per-sec` upgrades this second); come back after `Retry-After` seconds (also `retryAfter` in the body), spread so that refused desks do not return together. `busy`: the database stayed locked; `Retry-After: 1`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn subscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
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
    let session = match bearer(&headers) {
        Some(token) => match authenticate(&state, token).await {
            Ok(live) => Some(live),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    // Bounded sockets and pace, past authentication so that no token takes a place
    // or a turn: here for the header's token, after the auth frame for the others.
    let permit = match session {
        Some(_) => match admit(&state) {
            Ok(permit) => Some(permit),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    // Without it, the socket waits for its auth frame holding one of a few places
    // per address, so nobody can pile up unauthenticated sockets.
    let pending = match session {
        Some(_) => None,
        None => match state
            .pending_sockets
            .take(ip, state.config.feed_pending_per_address)
        {
            Some(slot) => Some(slot),
            None => return ApiError::RateLimited { retry_after: 10 }.into_response(),
        },
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) => {
            return ApiError::field("upgrade", "Connexion WebSocket attendue").into_response();
        }
    };
    ws.max_message_size(MAX_INCOMING_FRAME)
        .max_frame_size(MAX_INCOMING_FRAME)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| async move {
            let start = Start {
                session,
                pending,
                since,
                epoch: params.epoch,
                permit,
            };
            if let Err(reason) = run(socket, state, start).await {
                tracing::debug!(%reason, "feed connection ended");
            }
        })
}

/// A place among the feed's sockets, or `overloaded` with when to come back.
fn admit(state: &AppState) -> Result<FeedPermit, ApiError> {
    state
        .feed_admission
        .admit(std::time::Instant::now(), random_u64())
        .map_err(|refused| {
            tracing::debug!(?refused, "feed upgrade refused");
            ApiError::Overloaded {
                retry_after: refused.retry_after(),
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

/// Reads the first frame, `{"type":"auth","token":...}`, and checks its session.
async fn authenticate_frame(
    socket: &mut WebSocket,
    state: &AppState,
) -> Result<LiveSession, String> {
    let first = tokio::time::timeout(AUTH_FRAME_TIMEOUT, socket.recv()).await;
    let token = match first {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(&t)
            .ok()
            .filter(|v| v["type"] == "auth")
            .and_then(|v| v["token"].as_str().map(str::to_string)),
        _ => None,
    };
    let verified = match token {
        Some(t) => authenticate(state, &t).await,
        None => Err(ApiError::Unauthorized(MSG_NO_TOKEN)),
    };
    match verified {
        Ok(live) => Ok(live),
        Err(e) => {
            let _ = socket.send(frame(error_frame(&e))).await;
            let _ = socket.send(Message::Close(None)).await;
            Err("unauthenticated".into())
        }
    }
}

/// The error frame for a refused auth frame: `unauthorized`, or `session_ended`.
fn error_frame(e: &ApiError) -> Value {
    match e {
        ApiError::SessionEnded(reason) => ended_frame(*reason),
        ApiError::Overloaded { retry_after } => json!({
            "type": "error",
            "code": "overloaded",
            "retryAfter": retry_after,
            "message": MSG_OVERLOADED,
        }),
        ApiError::Unauthorized(m) => json!({"type": "error", "code": "unauthorized", "message": m}),
        _ => json!({"type": "error", "code": "unauthorized", "message": MSG_BAD_TOKEN}),
    }
}

fn ended_frame(reason: EndReason) -> Value {
    json!({"type": "error", "code": "session_ended", "reason": reason, "message": reason.message()})
}

/// Whether the session is still alive now (a use: it slides the expiry).
async fn recheck(state: &AppState, session: &LiveSession) -> Result<LiveSession, EndReason> {
    let sessions = state.sessions.clone();
    let id = session.session_id.clone();
    match tokio::task::spawn_blocking(move || sessions.check(&id, Utc::now())).await {
        Ok(Ok(live)) => Ok(live),
        Ok(Err(crate::sessions::SessionError::Ended(reason))) => Err(reason),
        Ok(Err(crate::sessions::SessionError::Unknown)) => Err(EndReason::Revoked),
        // The store could not answer: keep the socket; the next check will tell.
        Ok(Err(crate::sessions::SessionError::Store(e))) => {
            tracing::warn!(error = %e, "session check failed");
            Ok(retry_soon(session))
        }
        Err(_) => Ok(retry_soon(session)),
    }
}

/// The session as it was, to be checked again in a second.
fn retry_soon(session: &LiveSession) -> LiveSession {
    let mut s = session.clone();
    s.expires_at = s.expires_at.max(Utc::now() + chrono::Duration::seconds(1));
    s
}

async fn close_ended(socket: &mut WebSocket, reason: EndReason) {
    let _ = socket.send(frame(ended_frame(reason))).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// Sends the logged events after `last` that `user` may see; returns the new `last`.
async fn replay(
    socket: &mut WebSocket,
    state: &AppState,
    reader: &Reader,
    mut last: i64,
) -> Result<i64, String> {
    loop {
        let (after, who) = (last, reader.clone());
        let page = state
            .db(move |s| s.events_after(after, REPLAY_PAGE, Some(&who)))
            .await
            .map_err(|e| e.to_string())?;
        for e in &page {
            send_event(socket, e).await?;
            state.deliveries.sent(e, reader.role);
            last = e.seq();
        }
        if page.len() < REPLAY_PAGE as usize {
            return Ok(last);
        }
    }
}

/// What an accepted upgrade starts its socket with.
struct Start {
    /// Checked before the upgrade (the header's token); `None`: an auth frame comes.
    session: Option<LiveSession>,
    pending: Option<PendingSlot>,
    since: Option<i64>,
    /// The epoch the subscriber's `since` was read in, if it says.
    epoch: Option<String>,
    /// Held for the socket's life; `None` until an auth frame is accepted.
    permit: Option<FeedPermit>,
}

async fn run(mut socket: WebSocket, state: AppState, start: Start) -> Result<(), String> {
    let Start {
        session,
        pending,
        since,
        epoch,
        mut permit,
    } = start;
    // Listen for session ends before checking the session, so none is missed.
    let mut ended = state.sessions.subscribe();
    let mut session = match session {
        // Checked before the upgrade, before listening: check again, so an end in
        // between is not missed (an end evicts the cache before it is announced).
        Some(s) => match recheck(&state, &s).await {
            Ok(s) => s,
            Err(reason) => {
                close_ended(&mut socket, reason).await;
                return Ok(());
            }
        },
        None => authenticate_frame(&mut socket, &state).await?,
    };
    drop(pending);
    if permit.is_none() {
        match admit(&state) {
            Ok(p) => permit = Some(p),
            Err(e) => {
                let _ = socket.send(frame(error_frame(&e))).await;
                let _ = socket.send(Message::Close(None)).await;
                return Ok(());
            }
        }
    }
    let _permit = permit;
    let user = session.user.clone();
    let reader = Reader {
        role: user.role,
        user_id: user.id.clone(),
    };
    let mut live = state.events.subscribe();
    let (oldest, head) = state
        .db(|s| s.event_bounds())
        .await
        .map_err(|e| e.to_string())?;
    let other_epoch = epoch.is_some_and(|e| *e != *state.epoch);
    let mut last = match since {
        // The log no longer reaches back to `since`, or `since` is from another log.
        Some(s) if s < oldest - 1 || s > head || other_epoch => {
            let msg = json!({
                "type": "resync_required",
                "oldestSeq": oldest,
                "headSeq": head,
                "epoch": &*state.epoch,
            });
            let _ = socket.send(frame(msg)).await;
            let _ = socket.send(Message::Close(None)).await;
            return Ok(());
        }
        Some(s) => replay(&mut socket, &state, &reader, s).await?,
        None => head,
    };
    socket
        .send(frame(
            json!({"type": "ready", "seq": last, "epoch": &*state.epoch}),
        ))
        .await
        .map_err(|e| e.to_string())?;
    tracing::debug!(user = %user.id, last, "feed subscriber live");

    let ping_every = state.config.ping_interval();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut heard = Instant::now();
    let mut stopping = state.stopping.clone();
    // One timer for the socket's life, moved when the session slides: a new one at every
    // wake-up was a timer-wheel insert and removal per event per socket.
    let expiry = tokio::time::sleep(until(session.expires_at));
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            got = live.recv() => match got {
                Ok(live_event) => {
                    let lagged = write_live(&mut socket, &state, &user, &mut live, live_event, &mut last).await?;
                    if lagged {
                        last = replay(&mut socket, &state, &reader, last).await?;
                    }
                }
                Err(RecvError::Lagged(_)) => last = replay(&mut socket, &state, &reader, last).await?,
                Err(RecvError::Closed) => return Ok(()),
            },
            got = ended.recv() => {
                let reason = match got {
                    Ok(Ended { session_id, reason }) if *session_id == *session.session_id => Some(reason),
                    Ok(_) => None,
                    // Missed some ends: ask the store about this one.
                    Err(RecvError::Lagged(_)) => recheck(&state, &session).await.err(),
                    Err(RecvError::Closed) => return Ok(()),
                };
                if let Some(reason) = reason {
                    close_ended(&mut socket, reason).await;
                    return Ok(());
                }
            },
            () = &mut expiry => match recheck(&state, &session).await {
                Ok(s) => {
                    session = s;
                    expiry.as_mut().reset(deadline(session.expires_at));
                }
                Err(reason) => {
                    close_ended(&mut socket, reason).await;
                    return Ok(());
                }
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
                // An open feed is a use of its session: this keeps it alive while the
                // desk runs, and notices an end a missed broadcast did not tell.
                match recheck(&state, &session).await {
                    Ok(s) => {
                        session = s;
                        expiry.as_mut().reset(deadline(session.expires_at));
                    }
                    Err(reason) => {
                        close_ended(&mut socket, reason).await;
                        return Ok(());
                    }
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

/// Most live events written before one flush.
const LIVE_BATCH: usize = 64;

/// Writes `first` and whatever live events are already waiting behind it (up to
/// `LIVE_BATCH`), those `user` may see, then flushes once: under load a socket gets one write
/// for several frames instead of one each. Moves `last` past every event looked at. `true`
/// when the broadcast dropped events this socket had not read (a replay must follow).
async fn write_live(
    socket: &mut WebSocket,
    state: &AppState,
    user: &User,
    live: &mut tokio::sync::broadcast::Receiver<Arc<LiveEvent>>,
    first: Arc<LiveEvent>,
    last: &mut i64,
) -> Result<bool, String> {
    let mut written = Vec::new();
    let mut next = Some(first);
    let mut lagged = false;
    while let Some(live_event) = next.take() {
        let e = &live_event.logged;
        if e.seq() > *last {
            if e.audience.admits(user.role, &user.id) {
                socket
                    .feed(Message::Text(live_event.frame.clone()))
                    .await
                    .map_err(|e| e.to_string())?;
                written.push(live_event.clone());
            }
            *last = e.seq();
        }
        if written.len() < LIVE_BATCH {
            match live.try_recv() {
                Ok(more) => next = Some(more),
                Err(TryRecvError::Lagged(_)) => lagged = true,
                Err(TryRecvError::Empty | TryRecvError::Closed) => {}
            }
        }
    }
    if !written.is_empty() {
        socket.flush().await.map_err(|e| e.to_string())?;
        for w in &written {
            state.deliveries.sent_live(w, user.role);
        }
    }
    Ok(lagged)
}

/// How long until `at`, from now (zero if past).
fn until(at: chrono::DateTime<Utc>) -> Duration {
    (at - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

/// `at` on tokio's clock.
fn deadline(at: chrono::DateTime<Utc>) -> tokio::time::Instant {
    tokio::time::Instant::now() + until(at)
}

// ---------------------------------------------------------------------------
// Shapes of the feed's query, head and frames, for the OpenAPI document
// (`openapi.rs`); the events themselves are `itv_core::FeedEvent`.

/// `?since=&epoch=` of the feed.
#[derive(Debug, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Replay the events with `seq > since` first; without it, only live events.
    #[param(minimum = 0)]
    pub since: Option<i64>,
    /// The epoch `since` was read in (from a `ready` frame or the head). Another
    /// epoch than the log's answers `resync_required` at once, before any replay;
    /// without it, the epoch is known only at `ready`, after the replay.
    pub epoch: Option<String>,
}

/// `GET /api/feed/head`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedHead {
    pub success: bool,
    /// The last `seq` in the log (0 when empty).
    pub seq: i64,
    /// The oldest `seq` the log still holds.
    pub oldest_seq: i64,
    /// The log's epoch: `seq` means something only with it.
    pub epoch: String,
}

/// Browser → server, first frame when the upgrade carried no token.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthFrame {
    /// `"auth"`.
    #[serde(rename = "type")]
    pub frame_type: String,
    pub token: String,
}

/// Server → subscriber once the replay is done.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyFrame {
    /// `"ready"`.
    #[serde(rename = "type")]
    pub frame_type: String,
    /// The last seq sent or known.
    pub seq: i64,
    /// The log's epoch: a position kept from another epoch is worthless (the log was
    /// restored and reuses seqs); resynchronise.
    pub epoch: String,
}

/// Server → subscriber when `since` is older than the log holds, ahead of its head,
/// or from another epoch (`?epoch=`); then closes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResyncRequiredFrame {
    /// `"resync_required"`.
    #[serde(rename = "type")]
    pub frame_type: String,
    pub oldest_seq: i64,
    pub head_seq: i64,
    /// The log's epoch now.
    pub epoch: String,
}

/// Server → subscriber before a close: `unauthorized` (a bad token in the auth
/// frame), `session_ended` (with `reason`), or `overloaded` (an auth frame accepted
/// past the feed's bounds, with `retryAfter`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedErrorFrame {
    /// `"error"`.
    #[serde(rename = "type")]
    pub frame_type: String,
    pub code: ErrorCode,
    /// `session_ended` only: why the session ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<EndReason>,
    /// `overloaded` only: seconds to wait before opening the feed again.
    #[serde(rename = "retryAfter", skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    pub message: String,
}
