//! Login limits and the caller's address: `X-Forwarded-For` counts only from a trusted
//! proxy, and a stranger failing an account's login does not lock its owner out.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use itv_server::Config;
use itv_server::testing::TestServer;

/// A server whose connections (all from 127.0.0.1) come through a trusted proxy or not.
async fn server(trusted: bool, tune: impl FnOnce(&mut Config)) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_dir(dir.path().to_path_buf());
    if trusted {
        config.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap(), "::1".parse().unwrap()];
    }
    tune(&mut config);
    (TestServer::start_with(config).await, dir)
}

async fn login_from(
    api: &Api,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> (StatusCode, Value) {
    api.send(
        api.http
            .post(format!("{}/api/auth/login", api.base))
            .header("X-Forwarded-For", forwarded_for)
            .json(&json!({"email": email, "password": password})),
    )
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let (server, _dir) = server(true, |c| c.rate_login_per_address = 3).await;
    let api = Api::anonymous(&server);
    for i in 0..3 {
        let (status, _) = login_from(&api, "198.51.100.1", &format!("x{i}@test.sn"), "faux").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login_from(&api, "198.51.100.1", "x9@test.sn", "faux").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited");
    // Another client behind the same proxy; a forged left-most hop changes nothing.
    let (status, _) = login_from(&api, "198.51.100.2", "x9@test.sn", "faux").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = login_from(&api, "198.51.100.2, 198.51.100.1", "x9@test.sn", "faux").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right-most hop counts"
    );
    server.stop().await;
}

#[tokio::test]
async fn from_an_untrusted_peer_x_forwarded_for_is_ignored() {
    let (server, _dir) = server(false, |c| c.rate_login_per_address = 3).await;
    let api = Api::anonymous(&server);
    for i in 0..3 {
        let (status, _) = login_from(
            &api,
            &format!("203.0.113.{i}"),
            &format!("x{i}@test.sn"),
            "faux",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = login_from(&api, "203.0.113.200", "x9@test.sn", "faux").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a new X-Forwarded-For from an untrusted peer is still the same address"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_stranger_failing_a_login_does_not_lock_the_owner_out() {
    let (server, _dir) = server(true, |_| {}).await;
    let _cast = cast(&server);
    let api = Api::anonymous(&server);
    // The default limit: 10 attempts a minute for one email from one address.
    for _ in 0..10 {
        let (status, _) = login_from(&api, "203.0.113.66", "client@test.sn", "devine").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = login_from(&api, "203.0.113.66", "client@test.sn", "devine").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the stranger is stopped"
    );
    let (status, body) = login_from(&api, "198.51.100.7", "client@test.sn", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the owner signs in elsewhere: {body}"
    );
    assert!(body["token"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn one_account_has_a_ceiling_across_all_addresses() {
    let (server, _dir) = server(true, |c| c.rate_login_global_per_account = 3).await;
    let _cast = cast(&server);
    let api = Api::anonymous(&server);
    for i in 0..3 {
        let (status, _) =
            login_from(&api, &format!("203.0.113.{i}"), "client@test.sn", "devine").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = login_from(&api, "203.0.113.50", "client@test.sn", "devine").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are not affected.
    let (status, _) = login_from(&api, "203.0.113.50", "admin@test.sn", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}
