//! An answered write survives a power cut: the server, on a VFS that models one
//! (crates/powercut), takes a storm of concurrent creations; the power goes in the middle of
//! it; the disk keeps what was fsynced and, at random, some sectors of what was not. Every
//! creation answered 201 is on that disk, with its event, in a sound file that the server
//! opens again and goes on numbering from. Under `synchronous=NORMAL` the same cut loses
//! answered creations: the test can tell the two apart.

use itv_core::Role;
use itv_powercut::Keep;
use itv_server::config::Config;
use itv_server::store::sqlite::Synchronous;
use itv_server::testing::TestServer;
use reqwest::StatusCode;
use tempfile::TempDir;

mod common;
use common::{Api, PASSWORD, after_crash, id_of, seed_intervention};

/// After a storm cut short by the power.
struct Cut {
    /// The disk as the cut left it, copied to a new directory (as a machine finds it when
    /// the power is back).
    after: TempDir,
    /// The ids answered 201.
    answered: Vec<String>,
    /// Writes not yet synced when the power went.
    unsynced: usize,
}

/// A storm of 8 writers on a new server; once 200 creations are answered, the power goes
/// during a commit, after the `writes`-th next write to the WAL.
async fn storm_then_power_cut(sync: Synchronous, keep: Keep, writes: usize) -> Cut {
    itv_powercut::install();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_dir(dir.path().to_path_buf());
    config.sqlite_synchronous = sync;
    config.rate_create_per_account = 0;
    config.rate_create_per_address = 0;
    let server = TestServer::start_sqlite_with(config).await;
    let client = server.create_user(Role::Client, "client@coupure.sn", "Client", PASSWORD);
    let storm = common::Storm::start(&server.url, &server.token_for(&client), 8);
    storm.until_answered(200).await;

    itv_powercut::cut_after_wal_writes(dir.path(), writes, keep);
    let answered = storm.end().await;
    let disk = itv_powercut::take_cut(dir.path()).expect("the storm wrote until the cut");
    server.crash();

    let after = tempfile::tempdir().unwrap();
    for (path, image) in &disk.files {
        std::fs::write(after.path().join(path.file_name().unwrap()), image).unwrap();
    }
    eprintln!(
        "{sync:?}, {keep:?}: {} answered, {} writes not synced at the cut",
        answered.len(),
        disk.unsynced
    );
    Cut {
        after,
        answered,
        unsynced: disk.unsynced,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_answered_creation_survives_a_power_cut_under_full() {
    // The cut falls after the first WAL write from then on (a commit's first frame header),
    // after a few, and after many (several commits' frames, some perhaps synced).
    let rounds = [
        (Keep::Nothing, 1),
        (Keep::RandomSectors { seed: 1 }, 2),
        (Keep::RandomSectors { seed: 2 }, 7),
        (Keep::RandomSectors { seed: 3 }, 40),
    ];
    for (keep, writes) in rounds {
        let Cut {
            after,
            answered,
            unsynced,
        } = storm_then_power_cut(Synchronous::Full, keep, writes).await;
        assert!(unsynced > 0, "the cut fell inside a commit");
        let found = after_crash(&after.path().join("itv.db"), &answered);
        assert_eq!(found.integrity, "ok");
        found.assert_nothing_answered_was_lost(answered.len());
        assert!(found.stored >= answered.len());

        // The server opens what the cut left and numbers the next creation after the last.
        let server = TestServer::start_sqlite_in(after.path()).await;
        let user = server.create_user(Role::Client, "apres@coupure.sn", "Client", PASSWORD);
        let api = Api::login(&server, &user.email).await;
        let (status, body) = api
            .post("/api/client/requests/intervention", seed_intervention())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{keep:?}: {body}");
        let again = after_crash(&after.path().join("itv.db"), &[id_of(&body)]);
        assert_eq!(again.stored, found.stored + 1);
        assert_eq!(
            again.tickets.0, again.tickets.1,
            "{keep:?}: a ticket number reused"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_normal_the_same_power_cut_loses_answered_creations() {
    // Up to three rounds: a checkpoint syncs the WAL even under NORMAL, and one that ran in
    // the last commit before the cut leaves nothing unsynced to lose.
    let mut lost = Vec::new();
    for round in 1..=3 {
        let Cut {
            after, answered, ..
        } = storm_then_power_cut(Synchronous::Normal, Keep::Nothing, 1).await;
        let found = after_crash(&after.path().join("itv.db"), &answered);
        // The file is sound (WAL is never corrupted by a cut), but what it had not synced is gone.
        assert_eq!(found.integrity, "ok");
        eprintln!(
            "NORMAL, round {round}: {} of {} answered creations lost",
            found.lost.len(),
            answered.len()
        );
        lost = found.lost;
        if !lost.is_empty() {
            break;
        }
    }
    assert!(
        !lost.is_empty(),
        "NORMAL kept every answered creation in three cuts"
    );
}
