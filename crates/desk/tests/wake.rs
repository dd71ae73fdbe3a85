//! Wake and network hooks with real parts: the `itv-server` binary (killed and restarted),
//! a TCP proxy that black-holes the feed (the socket looks alive, as after a suspend), the
//! private session bus with the recording notification server, and a private *system* bus
//! with a fake logind and a fake NetworkManager the test drives.
//! The engine's reconnect backoff is set long (20–30 s) and its ping timers are the real ones
//! (20 s / 60 s): only the OS's signals can make it reconnect within the 3 s asserted here.
//! Needs `cargo build -p itv-server` first.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use itv_desk::{ConnectionState, Engine, EngineConfig, EngineEvent};
use itv_server::testing::TestServer;
use support::bus::{PrivateBus, is_child};
use support::notifd::{NotificationServer, Recorded};
use support::proxy::Proxy;
use support::server::{
    Http, PASSWORD, ServerProcess, Users, config, create_users, engine_config, free_port,
    wait_live, wait_until,
};
use support::system_bus::{
    FakeServices, NM_CONNECTED_GLOBAL, NM_DISCONNECTED, SystemBus, run_child,
};

const APP: &str = "IT Vision Desk";
const WITHIN: Duration = Duration::from_secs(3);

fn block_on<F: std::future::Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Runs `body` in a child process on a private session bus and (with `system`) a private
/// system bus; without, the child's system bus address leads nowhere.
fn run_on_buses(name: &str, system: bool, body: impl std::future::Future<Output = ()>) {
    if is_child() {
        block_on(body);
    } else {
        let session = PrivateBus::start();
        let system = system.then(SystemBus::start);
        run_child(name, &session, system.as_ref());
    }
}

/// Notifications through D-Bus; reconnects that only a wake-up can hurry.
fn slow_config() -> EngineConfig {
    EngineConfig {
        backoff: itv_desk::sync::Backoff {
            base: Duration::from_secs(20),
            cap: Duration::from_secs(30),
        },
        ..engine_config(None)
    }
}

/// The itv-server binary on a fixed port (so it can restart there), its users, and a proxy.
struct Rig {
    port: u16,
    dir: tempfile::TempDir,
    server: Option<ServerProcess>,
    direct: String,
    proxy: Proxy,
    users: Users,
}

impl Rig {
    async fn start() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let users = {
            let s = TestServer::start_with(config(dir.path())).await;
            let u = create_users(&s);
            s.stop().await;
            u
        };
        let port = free_port();
        let server = ServerProcess::spawn(port, dir.path());
        let direct = server.url.clone();
        let proxy = Proxy::start(&direct).await;
        Rig {
            port,
            dir,
            server: Some(server),
            direct,
            proxy,
            users,
        }
    }

    /// SIGKILL, then the binary again on the same port and data.
    fn restart_server(&mut self) {
        if let Some(s) = self.server.take() {
            s.kill();
        }
        self.server = Some(ServerProcess::spawn(self.port, self.dir.path()));
    }
}

async fn signed_in_engine(rig: &Rig, data: &std::path::Path) -> Engine {
    let engine = Engine::open(data, slow_config()).await.unwrap();
    engine
        .sign_in(&rig.proxy.url, &rig.users.admin, PASSWORD)
        .await
        .unwrap();
    wait_live(&engine).await;
    engine
}

/// The first (non-reminder) alert whose body names `title`; its arrival.
async fn alert_for(notifd: &NotificationServer, title: &str, timeout: Duration) -> Recorded {
    notifd
        .wait_for_by(APP, 1, timeout, |r| {
            r.body.contains(title) && !r.summary.contains("Rappel")
        })
        .await
        .remove(0)
}

async fn wait_offline(engine: &Engine, what: &str) {
    wait_until(what, Duration::from_secs(2), || async {
        matches!(engine.connection(), ConnectionState::Offline { .. })
    })
    .await;
}

/// Waits for a reconnection that started after `rx` was subscribed: a `Connecting`
/// then `Live`. Returns when it went live.
async fn reconnected(rx: &mut tokio::sync::broadcast::Receiver<EngineEvent>) -> Instant {
    let mut connecting = false;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match rx.recv().await {
                Ok(EngineEvent::Connection { state }) => match state {
                    ConnectionState::Connecting | ConnectionState::Syncing => connecting = true,
                    ConnectionState::Live if connecting => return Instant::now(),
                    _ => {}
                },
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event stream: {e}"),
            }
        }
    })
    .await
    .expect("a reconnection (Connecting then Live) within 10 s")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{what}: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} rounds",
        percentile(&samples, 0.5).as_secs_f64() * 1000.0,
        percentile(&samples, 0.99).as_secs_f64() * 1000.0,
        samples.last().unwrap().as_secs_f64() * 1000.0,
        samples.len()
    );
}

#[test]
fn urgent_created_during_sleep_alerts_within_3s_of_waking() {
    run_on_buses(
        "urgent_created_during_sleep_alerts_within_3s_of_waking",
        true,
        async {
            support::init_logs();
            let notifd = NotificationServer::start().await;
            let system = FakeServices::start(Some(NM_CONNECTED_GLOBAL)).await;
            let mut rig = Rig::start().await;
            let data = tempfile::tempdir().unwrap();
            let engine = signed_in_engine(&rig, data.path()).await;
            system.wait_nm_read(1).await; // the engine's watcher is subscribed
            let http = Http::new(&rig.direct);
            let client = http.login(&rig.users.client).await;

            let mut latencies = Vec::new();
            for round in 0..20 {
                // Even rounds: the socket black-holed, alive to the kernel. Odd rounds: the
                // server restarted meanwhile as well.
                let restart = round % 2 == 1;
                system.prepare_for_sleep(true).await;
                wait_offline(&engine, "offline once going to sleep").await;
                rig.proxy.freeze(true);
                if restart {
                    rig.restart_server();
                }
                let title = format!("Panne pendant la veille {round}");
                http.intervention(&client, true, &title).await.unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
                rig.proxy.freeze(false);

                let woke = Instant::now();
                system.prepare_for_sleep(false).await;
                let alert = alert_for(&notifd, &title, Duration::from_secs(10)).await;
                let latency = alert.at.duration_since(woke);
                println!("round {round} (restart: {restart}): alerted {latency:?} after waking");
                assert!(
                    latency < WITHIN,
                    "round {round}: alerted {latency:?} after the wake signal"
                );
                assert_eq!(alert.urgency, Some(2), "{alert:?}");
                latencies.push(latency);
                wait_live(&engine).await;
            }
            report("wake signal → urgent alert", latencies);
        },
    );
}

#[test]
fn network_back_reconnects_within_3s_through_a_black_hole() {
    run_on_buses(
        "network_back_reconnects_within_3s_through_a_black_hole",
        true,
        async {
            support::init_logs();
            let notifd = NotificationServer::start().await;
            let mut system = FakeServices::start(Some(NM_CONNECTED_GLOBAL)).await;
            let rig = Rig::start().await;
            let data = tempfile::tempdir().unwrap();
            let engine = signed_in_engine(&rig, data.path()).await;
            system.wait_nm_read(1).await;
            let http = Http::new(&rig.direct);
            let client = http.login(&rig.users.client).await;

            let mut to_live = Vec::new();
            let mut to_alert = Vec::new();
            for round in 0..10 {
                let down = Instant::now();
                system.set_network(NM_DISCONNECTED).await;
                wait_offline(&engine, "offline once the network is down").await;
                let offline_after = down.elapsed();
                assert!(offline_after < Duration::from_secs(1), "{offline_after:?}");
                // The network is gone: packets vanish, nobody resets the socket.
                rig.proxy.freeze(true);
                tokio::time::sleep(Duration::from_millis(500)).await;
                rig.proxy.freeze(false);

                let mut events = engine.subscribe();
                let up = Instant::now();
                system.set_network(NM_CONNECTED_GLOBAL).await;
                let title = format!("Panne après le retour du réseau {round}");
                http.intervention(&client, true, &title).await.unwrap();
                let live = reconnected(&mut events).await.duration_since(up);
                let alert = alert_for(&notifd, &title, Duration::from_secs(10))
                    .await
                    .at
                    .duration_since(up);
                println!(
                    "round {round}: offline {offline_after:?} after down; live {live:?}, alerted {alert:?} after up"
                );
                assert!(live < WITHIN, "round {round}: live again {live:?} after up");
                assert!(alert < WITHIN, "round {round}: alerted {alert:?} after up");
                to_live.push(live);
                to_alert.push(alert);
                // Apart by more than the settle window: each change is its own.
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            report("network up → Live", to_live);
            report("network up → urgent alert", to_alert);

            // NetworkManager restarts and comes back disconnected, then connects: the engine
            // hears the new instance (its State read again, its signals followed).
            let reads = system.nm_reads();
            system.restart_nm(Some(NM_DISCONNECTED)).await;
            system.wait_nm_read(reads + 1).await;
            wait_offline(&engine, "offline: NetworkManager came back disconnected").await;
            rig.proxy.freeze(true);
            tokio::time::sleep(Duration::from_millis(500)).await;
            rig.proxy.freeze(false);
            let mut events = engine.subscribe();
            let up = Instant::now();
            system.set_network(NM_CONNECTED_GLOBAL).await;
            let live = reconnected(&mut events).await.duration_since(up);
            assert!(live < WITHIN, "after a NetworkManager restart: {live:?}");
        },
    );
}

/// Log lines written by the engine, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn without_a_system_bus_the_engine_runs_and_says_so_once() {
    run_on_buses(
        "without_a_system_bus_the_engine_runs_and_says_so_once",
        false,
        async {
            let logs = Captured::default();
            let writer = logs.clone();
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("itv_desk=info"))
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .init();
            let notifd = NotificationServer::start().await;
            let rig = Rig::start().await;
            let data = tempfile::tempdir().unwrap();
            let engine = signed_in_engine(&rig, data.path()).await;
            let http = Http::new(&rig.direct);
            let client = http.login(&rig.users.client).await;
            http.intervention(&client, true, "Panne sans bus système")
                .await
                .unwrap();
            alert_for(&notifd, "Panne sans bus système", Duration::from_secs(10)).await;

            // Reconnecting still works as before: a cut connection comes back.
            rig.proxy.cut();
            wait_offline(&engine, "offline once cut").await;
            engine.reconnect_now();
            wait_until("live again at once", WITHIN, || async {
                engine.connection() == ConnectionState::Live
            })
            .await;
            tokio::time::sleep(Duration::from_millis(300)).await;

            let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
            let said: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("no system bus"))
                .collect();
            assert_eq!(said.len(), 1, "one log line about the system bus: {text}");
        },
    );
}
