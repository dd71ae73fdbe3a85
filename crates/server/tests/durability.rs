//! An answered write is a committed one: the real `itv-server` binary, killed with SIGKILL in
//! the middle of a storm of concurrent creations (so in the middle of group commits), comes
//! back with every request it answered 201, each with its `request.created` event, and no
//! ticket number twice. (A power cut, which also loses what the disk had not synced, is
//! power_cut.rs.)

mod common;

/// Creations as fast as the clients send them.
const NO_CREATE_LIMITS: [(&str, &str); 2] = [
    ("ITV_RATE_CREATE_PER_ACCOUNT", "0"),
    ("ITV_RATE_CREATE_PER_ADDRESS", "0"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answered_creation_survives_a_sigkill_in_the_middle_of_a_storm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, url) = common::serve_demo(dir.path(), &NO_CREATE_LIMITS);
    let http = reqwest::Client::new();
    let token = common::demo_token(&http, &url, "client@itvision.sn").await;

    let storm = common::Storm::start(&url, &token, 16);
    // Let the storm build, then pull the plug on the process.
    storm.until_answered(300).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let answered = storm.end().await;

    let found = common::after_crash(&dir.path().join("itv.db"), &answered);
    // The file and its search index (each batch indexes its rows before it commits).
    assert_eq!(found.integrity, "ok");
    found.assert_nothing_answered_was_lost(answered.len());

    // And the server starts again on what the kill left.
    let (mut again, url) = common::serve_demo(dir.path(), &NO_CREATE_LIMITS);
    assert!(
        !common::demo_token(&http, &url, "client@itvision.sn")
            .await
            .is_empty()
    );
    again.kill().unwrap();
    again.wait().unwrap();
}
