//! The event log's epoch, against a real server, SQLite file and WebSocket: it rides
//! in `ready`, `resync_required` and the head; it survives a restart and a crash; a
//! database put back from an earlier copy gets a new one (a SQLite file, a PostgreSQL
//! dump), and so does `--new-epoch`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use itv_server::testing::TestServer;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The feed with `?since=` and `?epoch=`, as a desk that kept both would open it.
async fn connect_at(
    server: &TestServer,
    user: &itv_server::store::User,
    since: i64,
    epoch: &str,
) -> Ws {
    let url = format!("{}/api/feed?since={since}&epoch={epoch}", server.ws_url());
    let mut req = url.into_client_request().unwrap();
    let token = server.token_for(user);
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .expect("feed connects")
        .0
}

/// Frames up to and including the first that is not an event.
async fn until_control(ws: &mut Ws) -> (Vec<Value>, Value) {
    let mut events = Vec::new();
    loop {
        let v = next_json(ws).await;
        if v.get("request").is_none() {
            return (events, v);
        }
        events.push(v);
    }
}

async fn head(server: &TestServer) -> Value {
    let admin = Api::login(server, "admin@test.sn").await;
    let (status, body) = admin.get("/api/feed/head").await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn create(server: &TestServer, title: &str) {
    let client = Api::login(server, "client@test.sn").await;
    let (status, body) = client
        .post("/api/client/requests/intervention", planned(title))
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Stops and waits for the background tasks to let go of the database.
async fn stop(server: TestServer) {
    server.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn db_files(dir: &Path) -> Vec<String> {
    ["itv.db", "itv.db-wal", "itv.db-shm"]
        .into_iter()
        .filter(|f| dir.join(f).exists())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_epoch_rides_in_ready_resync_and_head() {
    let server = TestServer::start().await;
    let cast = cast(&server);
    create(&server, "Première").await;
    create(&server, "Deuxième").await;
    let epoch = server.state().epoch.to_string();
    assert_eq!(epoch.len(), 32, "{epoch}");
    assert!(epoch.chars().all(|c| c.is_ascii_hexdigit()), "{epoch}");

    let mut ws = connect(&server, &cast.admin, Some(0)).await;
    let (events, ready) = until_control(&mut ws).await;
    assert_eq!(events.len(), 2);
    assert_eq!(ready["type"], "ready");
    assert_eq!(ready["seq"], 2);
    assert_eq!(ready["epoch"], epoch.as_str());

    let head = head(&server).await;
    assert_eq!(head["seq"], 2);
    assert_eq!(head["epoch"], epoch.as_str());

    // The same epoch: replay as before.
    let mut ws = connect_at(&server, &cast.admin, 1, &epoch).await;
    let (events, ready) = until_control(&mut ws).await;
    assert_eq!(events.len(), 1);
    assert_eq!(ready["epoch"], epoch.as_str());

    // Another epoch, with a seq the log holds: told to resync before any replay.
    let mut ws = connect_at(&server, &cast.admin, 1, "0123456789abcdef0123456789abcdef").await;
    let (events, v) = until_control(&mut ws).await;
    assert!(events.is_empty(), "nothing replayed from another epoch");
    assert_eq!(v["type"], "resync_required");
    assert_eq!(v["headSeq"], 2);
    assert_eq!(v["epoch"], epoch.as_str());
}

#[tokio::test]
async fn the_epoch_survives_a_restart_and_a_crash() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(temp.path()).await;
    let _cast = cast(&server);
    create(&server, "Avant l'arrêt").await;
    let epoch = server.state().epoch.to_string();
    stop(server).await;

    let server = TestServer::start_in(temp.path()).await;
    assert_eq!(&*server.state().epoch, epoch, "a clean restart keeps it");
    assert_eq!(head(&server).await["epoch"], epoch.as_str());
    create(&server, "Avant la panne").await;
    server.crash();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The process died, the machine did not: every commit is in the file.
    let server = TestServer::start_in(temp.path()).await;
    assert_eq!(
        &*server.state().epoch,
        epoch,
        "a crash on the same boot keeps it"
    );
    assert_eq!(head(&server).await["seq"], 2);
    stop(server).await;
}

/// On SQLite whatever the run: it copies the database file. The epoch logic it checks
/// (`log_identity::settle`) reads only the store's trait, the same on PostgreSQL.
#[tokio::test]
async fn a_database_put_back_from_an_earlier_copy_gets_a_new_epoch() {
    let temp = tempfile::tempdir().unwrap();
    let backup = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let server = TestServer::start_sqlite_in(dir).await;
    let cast = cast(&server);
    create(&server, "Sauvegardée 1").await;
    create(&server, "Sauvegardée 2").await;
    stop(server).await;
    let copied = db_files(dir);
    for f in &copied {
        std::fs::copy(dir.join(f), backup.path().join(f)).unwrap();
    }

    // More is written after the copy, and desks read it.
    let server = TestServer::start_sqlite_in(dir).await;
    let before = server.state().epoch.to_string();
    for i in 0..3 {
        create(&server, &format!("Perdue {i}")).await;
    }
    let mut ws = connect(&server, &cast.admin, Some(0)).await;
    let (_, ready) = until_control(&mut ws).await;
    assert_eq!(ready["seq"], 5);
    assert_eq!(ready["epoch"], before.as_str());
    drop(ws);
    stop(server).await;

    // The old copy is put back.
    for f in db_files(dir) {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    for f in &copied {
        std::fs::copy(backup.path().join(f), dir.join(f)).unwrap();
    }
    let server = TestServer::start_sqlite_in(dir).await;
    let after = server.state().epoch.to_string();
    assert_ne!(after, before, "the restored log is another history");
    let h = head(&server).await;
    assert_eq!(h["seq"], 2);
    assert_eq!(h["epoch"], after.as_str());
    // The restored log hands seqs 3 to 5 out again, to other events.
    for i in 0..3 {
        create(&server, &format!("Après la restauration {i}")).await;
    }

    // A desk that had read up to 5 before the restore, and kept its epoch, is told to
    // resync, where `since=5` alone would resume at the head and skip the new 3 to 5.
    let mut ws = connect_at(&server, &cast.admin, 5, &before).await;
    let (events, v) = until_control(&mut ws).await;
    assert!(events.is_empty());
    assert_eq!(v["type"], "resync_required");
    assert_eq!(v["headSeq"], 5);
    assert_eq!(v["epoch"], after.as_str());
    // One that does not send it learns the new epoch at `ready`.
    let mut ws = connect(&server, &cast.admin, Some(5)).await;
    let (events, ready) = until_control(&mut ws).await;
    assert!(events.is_empty());
    assert_eq!(ready["seq"], 5);
    assert_eq!(ready["epoch"], after.as_str());
    stop(server).await;

    // The new epoch is the log's now: the next start keeps it.
    let server = TestServer::start_sqlite_in(dir).await;
    assert_eq!(&*server.state().epoch, after);
    stop(server).await;
}

#[tokio::test]
async fn new_epoch_starts_one_on_demand_once() {
    let temp = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(temp.path()).await;
    let first = server.state().epoch.to_string();
    stop(server).await;

    let mut config = itv_server::Config::for_dir(temp.path().to_path_buf());
    config.new_epoch = true;
    let server = TestServer::start_with(config).await;
    let second = server.state().epoch.to_string();
    assert_ne!(second, first);
    stop(server).await;

    let server = TestServer::start_in(temp.path()).await;
    assert_eq!(&*server.state().epoch, second);
    stop(server).await;
}

/// PostgreSQL's tools of the cluster's version (Debian keeps them out of `PATH`).
fn pg_tool(name: &str, args: &[&str]) {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's binaries")
        .flatten()
        .map(|v| v.path().join("bin").join(name))
        .filter(|p| p.exists())
        .max()
        .unwrap_or_else(|| name.into());
    let out = std::process::Command::new(&bin)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_restored_from_a_dump_gets_a_new_epoch() {
    if cluster_or_skip("a_postgres_database_restored_from_a_dump_gets_a_new_epoch").is_none() {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let dumps = tempfile::tempdir().unwrap();
    let dump = dumps.path().join("itv.dump");
    let dump = dump.to_str().unwrap();
    let dir = temp.path();
    let server = TestServer::start_in(dir).await;
    let cast = cast(&server);
    create(&server, "Sauvegardée 1").await;
    create(&server, "Sauvegardée 2").await;
    let url = server.database_url().expect("on PostgreSQL").to_string();
    // The nightly backup, taken while the server runs.
    pg_tool(
        "pg_dump",
        &["--format=custom", "--file", dump, "--dbname", &url],
    );
    for i in 0..3 {
        create(&server, &format!("Perdue {i}")).await;
    }
    let before = server.state().epoch.to_string();
    assert_eq!(head(&server).await["seq"], 5);
    stop(server).await;

    pg_tool(
        "pg_restore",
        &["--clean", "--if-exists", "--dbname", &url, dump],
    );
    let server = TestServer::start_in(dir).await;
    let after = server.state().epoch.to_string();
    assert_ne!(after, before, "the restored log is another history");
    assert_eq!(head(&server).await["seq"], 2);
    // A desk that had read up to 5 is told to resync, not resumed past the reused seqs.
    let mut ws = connect_at(&server, &cast.admin, 5, &before).await;
    let (events, v) = until_control(&mut ws).await;
    assert!(events.is_empty());
    assert_eq!(v["type"], "resync_required");
    assert_eq!(v["epoch"], after.as_str());
    stop(server).await;
}
