//! Support code shared by the system tests: real server, private D-Bus,
//! recording notification server, TCP fault proxy, HTTP fault proxy.
#![allow(dead_code)]

pub mod bus;
pub mod http_faults;
pub mod notifd;
pub mod proxy;
pub mod server;
pub mod system_bus;

/// Logs for a test run (RUST_LOG=itv_desk=debug to see them).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
