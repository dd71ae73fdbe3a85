//! A private D-Bus session bus for a test (its own config: nothing is
//! auto-started), an optional real gnome-keyring on it, and the re-exec helper
//! that runs a test body in a child process whose environment points at it.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child process that runs the body of a bus test.
pub const CHILD_ENV: &str = "ITV_DESK_TEST_CHILD";

pub struct PrivateBus {
    pub address: String,
    daemon: Child,
    keyring: Option<Child>,
    pub dir: tempfile::TempDir,
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        if let Some(k) = &mut self.keyring {
            let _ = k.kill();
            let _ = k.wait();
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn require(tool: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join(tool);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{tool}` is required for this test (Debian: dbus-daemon, gnome-keyring, libsecret-tools)"
    );
}

impl PrivateBus {
    /// Starts `dbus-daemon --session` with a config of our own. Panics (fails
    /// the test) when dbus-daemon is missing.
    pub fn start() -> PrivateBus {
        let daemon_bin = require("dbus-daemon");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new(daemon_bin)
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .arg("--print-address=1")
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon starts");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        PrivateBus {
            address,
            daemon,
            keyring: None,
            dir,
        }
    }

    /// Starts a real gnome-keyring-daemon (secrets component) on this bus,
    /// unlocked with a password on stdin, DISPLAY unset. Panics when missing.
    pub fn start_keyring(&mut self) {
        let bin = require("gnome-keyring-daemon");
        let home = self.dir.path().join("home");
        let runtime = self.dir.path().join("run");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&runtime).unwrap();
        let mut child = Command::new(bin)
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"test-password").unwrap();
        }
        self.keyring = Some(child);
        // Wait until it owns org.freedesktop.secrets on our bus.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new(require("dbus-send"))
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring did not appear on the bus"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `test_name` from this test binary in a child process whose session
    /// bus is this one; panics if the child fails.
    pub fn run_child(&self, test_name: &str) {
        let exe = std::env::current_exe().unwrap();
        let status = Command::new(exe)
            .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "1")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env_remove("DISPLAY")
            .status()
            .unwrap();
        assert!(status.success(), "child test {test_name} failed");
    }

    /// Runs a `secret-tool` command on this bus; returns (success, stdout).
    pub fn secret_tool(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(require("secret-tool"))
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env_remove("DISPLAY")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

/// Runs a test body on a multi-threaded runtime (tests that spawn their own child
/// processes or buses cannot use `#[tokio::test]` for the parent side).
pub fn block_on<F: std::future::Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Runs the test `name` again in a child process whose session bus is a fresh private
/// one; in that child, runs `body`.
pub fn run_on_private_bus(name: &str, body: impl std::future::Future<Output = ()>) {
    if is_child() {
        super::init_logs();
        block_on(body);
    } else {
        let bus = PrivateBus::start();
        bus.run_child(name);
    }
}

/// True inside the child process of a bus test.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}
