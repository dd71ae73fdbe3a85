//! A private *system* bus for a test: a second dbus-daemon with a config of its own (type
//! system, nothing auto-started), and on it a fake logind and a fake NetworkManager the test
//! drives (PrepareForSleep, State and StateChanged), as the real ones would say them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use zbus::object_server::SignalEmitter;

use super::bus::{CHILD_ENV, PrivateBus};

pub const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
pub const NM: &str = "org.freedesktop.NetworkManager";
const NM_PATH: &str = "/org/freedesktop/NetworkManager";

pub const NM_CONNECTED_GLOBAL: u32 = 70;
pub const NM_DISCONNECTED: u32 = 20;

pub struct SystemBus {
    pub address: String,
    daemon: Child,
    _dir: tempfile::TempDir,
}

impl Drop for SystemBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

impl SystemBus {
    /// Starts `dbus-daemon` as a system bus on a socket of its own. Panics (fails the test)
    /// when dbus-daemon is missing.
    pub fn start() -> SystemBus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("system.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .arg("--print-address=1")
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon starts (Debian: dbus-daemon)");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        SystemBus {
            address,
            daemon,
            _dir: dir,
        }
    }
}

/// Runs `test_name` from this test binary in a child process whose session bus is `session`
/// and whose system bus is `system`, or, with `None`, an address where no bus listens.
pub fn run_child(test_name: &str, session: &PrivateBus, system: Option<&SystemBus>) {
    let nowhere = format!("unix:path={}/no-bus-here", session.dir.path().display());
    let system = system.map_or(nowhere, |s| s.address.clone());
    let status = Command::new(std::env::current_exe().unwrap())
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("DBUS_SESSION_BUS_ADDRESS", &session.address)
        .env("DBUS_SYSTEM_BUS_ADDRESS", system)
        .env_remove("DISPLAY")
        .status()
        .unwrap();
    assert!(status.success(), "child test {test_name} failed");
}

struct Logind;

// `crate`: the engine's own zbus 6 (renamed zbus6) would otherwise be the one the macro names.
#[zbus::interface(name = "org.freedesktop.login1.Manager", crate = "zbus")]
impl Logind {
    #[zbus(signal)]
    async fn prepare_for_sleep(emitter: &SignalEmitter<'_>, start: bool) -> zbus::Result<()>;
}

struct NetworkManager {
    state: u32,
    /// `Get(State)` calls (PropertiesChanged reads it too).
    reads: Arc<AtomicU32>,
}

#[zbus::interface(name = "org.freedesktop.NetworkManager", crate = "zbus")]
impl NetworkManager {
    #[zbus(property)]
    fn state(&self) -> u32 {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.state
    }

    /// NetworkManager's own signal (`state_changed` is the property's PropertiesChanged).
    #[zbus(signal, name = "StateChanged")]
    async fn state_signal(emitter: &SignalEmitter<'_>, state: u32) -> zbus::Result<()>;
}

fn system_address() -> String {
    std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
        .expect("DBUS_SYSTEM_BUS_ADDRESS points at the private system bus")
}

/// The fake services, connected to the system bus named by `DBUS_SYSTEM_BUS_ADDRESS`.
pub struct FakeServices {
    logind: zbus::Connection,
    nm: Option<zbus::Connection>,
    nm_reads: Arc<AtomicU32>,
}

async fn serve_nm(state: u32, reads: Arc<AtomicU32>) -> zbus::Connection {
    zbus::connection::Builder::address(system_address().as_str())
        .unwrap()
        .name(NM)
        .unwrap()
        .serve_at(NM_PATH, NetworkManager { state, reads })
        .unwrap()
        .build()
        .await
        .expect("own org.freedesktop.NetworkManager")
}

impl FakeServices {
    /// logind, and NetworkManager in state `nm_state` (`None`: no NetworkManager).
    pub async fn start(nm_state: Option<u32>) -> FakeServices {
        let logind = zbus::connection::Builder::address(system_address().as_str())
            .unwrap()
            .name(LOGIND)
            .unwrap()
            .serve_at(LOGIND_PATH, Logind)
            .unwrap()
            .build()
            .await
            .expect("own org.freedesktop.login1");
        let nm_reads = Arc::new(AtomicU32::new(0));
        let nm = match nm_state {
            Some(s) => Some(serve_nm(s, nm_reads.clone()).await),
            None => None,
        };
        FakeServices {
            logind,
            nm,
            nm_reads,
        }
    }

    /// Waits until someone read NetworkManager's `State` `n` times in all (the engine's
    /// watcher does once subscribed, and again when NetworkManager comes back).
    pub async fn wait_nm_read(&self, n: u32) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.nm_reads.load(Ordering::SeqCst) < n {
            assert!(
                Instant::now() < deadline,
                "nobody read NetworkManager's State"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn nm_reads(&self) -> u32 {
        self.nm_reads.load(Ordering::SeqCst)
    }

    /// `PrepareForSleep(start)`: `true` before a suspend, `false` on waking.
    pub async fn prepare_for_sleep(&self, start: bool) {
        let iface = self
            .logind
            .object_server()
            .interface::<_, Logind>(LOGIND_PATH)
            .await
            .unwrap();
        Logind::prepare_for_sleep(iface.signal_emitter(), start)
            .await
            .unwrap();
    }

    /// Changes `State` and says so as NetworkManager does: `StateChanged` and
    /// `PropertiesChanged`.
    pub async fn set_network(&self, state: u32) {
        let conn = self.nm.as_ref().expect("NetworkManager is running");
        let iface = conn
            .object_server()
            .interface::<_, NetworkManager>(NM_PATH)
            .await
            .unwrap();
        iface.get_mut().await.state = state;
        NetworkManager::state_signal(iface.signal_emitter(), state)
            .await
            .unwrap();
        iface
            .get()
            .await
            .state_changed(iface.signal_emitter())
            .await
            .unwrap();
    }

    /// NetworkManager leaves the bus (its name goes) and, when `then` is some, comes back with
    /// that state, as a restart does.
    pub async fn restart_nm(&mut self, then: Option<u32>) {
        if let Some(conn) = self.nm.take() {
            conn.release_name(NM).await.unwrap();
            drop(conn);
        }
        if let Some(s) = then {
            self.nm = Some(serve_nm(s, self.nm_reads.clone()).await);
        }
    }
}
