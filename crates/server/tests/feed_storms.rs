//! Reconnection storms against a real server and real WebSockets: upgrades beyond
//! the pace (`--feed-accept-per-sec`) or the number of open sockets
//! (`--feed-max-sockets`) get 503, a JSON body and a spread `Retry-After`; below
//! the bounds they are accepted; desks that honour `Retry-After` all get in, never
//! more in one second than the pace lets.

mod common;

use std::time::{Duration, Instant};

use common::*;
use itv_server::store::User;
use itv_server::testing::TestServer;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, http};

/// A refused upgrade: its `Retry-After` and JSON body.
#[derive(Debug)]
struct Refusal {
    retry_after: u64,
    body: Value,
}

/// Opens the feed with `token`: the socket, or the refusal (panics on anything else).
async fn upgrade(server: &TestServer, token: &str) -> Result<Ws, Refusal> {
    let mut req = format!("{}/api/feed", server.ws_url())
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(resp)) => {
            assert_eq!(resp.status(), http::StatusCode::SERVICE_UNAVAILABLE);
            let retry_after = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .expect("Retry-After in seconds");
            assert!(
                resp.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json")
            );
            let body = serde_json::from_slice(resp.body().as_deref().unwrap()).unwrap();
            Err(Refusal { retry_after, body })
        }
        Err(e) => panic!("unexpected upgrade failure: {e}"),
    }
}

fn tokens(server: &TestServer, user: &User, n: usize) -> Vec<String> {
    (0..n).map(|_| server.token_for(user)).collect()
}

fn check_body(r: &Refusal) {
    assert_eq!(r.body["success"], false);
    assert_eq!(r.body["code"], "overloaded");
    assert_eq!(
        r.body["message"],
        "Le serveur reçoit trop de connexions en ce moment, nouvel essai dans quelques secondes"
    );
    assert_eq!(r.body["retryAfter"], r.retry_after);
}

async fn server_with(per_sec: u32, max_sockets: usize) -> (TestServer, tempfile::TempDir) {
    let temp = tempfile::tempdir().unwrap();
    let mut config = itv_server::Config::for_dir(temp.path().to_path_buf());
    config.feed_accept_per_sec = per_sec;
    config.feed_max_sockets = max_sockets;
    (TestServer::start_with(config).await, temp)
}

#[tokio::test]
async fn upgrades_beyond_the_pace_get_503_and_a_spread_retry_after() {
    let (server, _temp) = server_with(3, 0).await;
    let cast = cast(&server);
    let tokens = tokens(&server, &cast.tech, 12);
    let started = Instant::now();
    let attempts = tokens.iter().map(|t| upgrade(&server, t));
    let results = futures_util::future::join_all(attempts).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (mut open, mut refused) = (Vec::new(), Vec::new());
    for r in results {
        match r {
            Ok(ws) => open.push(ws),
            Err(r) => refused.push(r),
        }
    }
    // Three at once, plus what the bucket refilled while the attempts ran.
    let allowed = 3 + (elapsed * 3.0).ceil() as usize;
    assert!(
        (3..=allowed).contains(&open.len()),
        "{} accepted in {elapsed:.2} s",
        open.len()
    );
    assert_eq!(open.len() + refused.len(), 12);
    for r in &refused {
        check_body(r);
        assert!((1..=5).contains(&r.retry_after), "{r:?}");
    }
    let mut retries: Vec<u64> = refused.iter().map(|r| r.retry_after).collect();
    retries.sort();
    eprintln!(
        "pace 3/s: {} accepted, {} refused in {elapsed:.2} s, Retry-After {retries:?}",
        open.len(),
        refused.len()
    );
    assert!(
        retries.first() < retries.last(),
        "refused desks are not all sent back to the same second: {retries:?}"
    );
    // Those accepted are live sockets.
    for ws in &mut open {
        assert_eq!(next_json(ws).await["type"], "ready");
    }
    // Below the pace again (a second later), an upgrade is accepted.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut ws = upgrade(&server, &server.token_for(&cast.tech))
        .await
        .expect("accepted once the pace allows");
    assert_eq!(next_json(&mut ws).await["type"], "ready");
}

#[tokio::test]
async fn sockets_beyond_the_bound_get_503_until_one_closes() {
    let (server, _temp) = server_with(0, 2).await;
    let cast = cast(&server);
    let mut first = upgrade(&server, &server.token_for(&cast.admin))
        .await
        .unwrap();
    let mut second = upgrade(&server, &server.token_for(&cast.tech))
        .await
        .unwrap();
    assert_eq!(next_json(&mut first).await["type"], "ready");
    assert_eq!(next_json(&mut second).await["type"], "ready");
    let refused = upgrade(&server, &server.token_for(&cast.tech2))
        .await
        .expect_err("a third socket is over the bound");
    check_body(&refused);
    assert!((10..=60).contains(&refused.retry_after), "{refused:?}");
    // A bad token is still a 401, not a place taken nor an overload.
    let mut req = format!("{}/api/feed", server.ws_url())
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", "Bearer nope".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected a 401, got {other:?}"),
    }

    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut third = loop {
        match upgrade(&server, &server.token_for(&cast.tech2)).await {
            Ok(ws) => break ws,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(r) => panic!("the closed socket's place never freed: {r:?}"),
        }
    };
    assert_eq!(next_json(&mut third).await["type"], "ready");
    assert_eq!(server.state().feed_admission.open_sockets(), 2);
}

/// 1,000 desks reconnect at the same instant (a restart) and honour `Retry-After`,
/// at the default pace: all get in, and no second admits many more than the pace.
#[tokio::test]
async fn a_storm_of_desks_honouring_retry_after_all_get_in_at_the_pace() {
    const DESKS: usize = 1000;
    let defaults = itv_server::Config::for_dir(std::path::PathBuf::new());
    let pace = defaults.feed_accept_per_sec;
    let (server, _temp) = server_with(pace, defaults.feed_max_sockets).await;
    let cast = cast(&server);
    let tokens = tokens(&server, &cast.tech, DESKS);
    let started = Instant::now();
    let desks = tokens.into_iter().map(|token| {
        let server = &server;
        async move {
            let mut refusals = 0;
            loop {
                match upgrade(server, &token).await {
                    Ok(ws) => return (ws, started.elapsed(), refusals),
                    Err(r) => {
                        refusals += 1;
                        tokio::time::sleep(Duration::from_secs(r.retry_after)).await;
                    }
                }
            }
        }
    });
    let done = futures_util::future::join_all(desks).await;
    let total = started.elapsed().as_secs_f64();
    let mut per_second = vec![0usize; total.ceil() as usize + 1];
    for (_, at, _) in &done {
        per_second[at.as_secs() as usize] += 1;
    }
    let refusals: usize = done.iter().map(|d| d.2).sum();
    eprintln!(
        "{DESKS} desks at {pace}/s: all in after {total:.2} s, {refusals} refusals, accepted per second {per_second:?}"
    );
    assert_eq!(done.len(), DESKS);
    let busiest = *per_second.iter().max().unwrap();
    // A second may take its refill plus what the bucket held at its start.
    assert!(
        busiest <= 2 * pace as usize,
        "{busiest} accepted in one second"
    );
    assert!(total >= f64::from(DESKS as u32 / pace - 1), "{total:.2} s");
}

/// A browser's socket (token in its first frame) takes a turn only once signed in:
/// sockets without a token cannot use up the pace; past it, an `overloaded` frame.
#[tokio::test]
async fn a_browser_is_admitted_after_its_auth_frame() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let (server, _temp) = server_with(1, 0).await;
    let cast = cast(&server);
    let url = format!("{}/api/feed", server.ws_url());
    // Anonymous upgrades, however many, take no turn.
    let mut anonymous = Vec::new();
    for _ in 0..5 {
        anonymous.push(
            tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap()
                .0,
        );
    }
    let auth = |token: String| {
        Message::Text(
            serde_json::json!({"type": "auth", "token": token})
                .to_string()
                .into(),
        )
    };
    let (mut first, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    first
        .send(auth(server.token_for(&cast.client)))
        .await
        .unwrap();
    assert_eq!(next_json(&mut first).await["type"], "ready");
    // The pace's one turn is used: the next signed-in browser is told to come back.
    let (mut second, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    second
        .send(auth(server.token_for(&cast.client)))
        .await
        .unwrap();
    let v = next_json(&mut second).await;
    assert_eq!(v["type"], "error");
    assert_eq!(v["code"], "overloaded");
    assert!((1..=3).contains(&v["retryAfter"].as_u64().unwrap()), "{v}");
    assert_eq!(
        v["message"],
        "Le serveur reçoit trop de connexions en ce moment, nouvel essai dans quelques secondes"
    );
}
