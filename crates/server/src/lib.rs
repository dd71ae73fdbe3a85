//! IT Vision Desk server: the seed's client API, the staff API, the live feed,
//! server-side sessions and SQLite storage, as a library the binary and tests share.

pub mod actions;
pub mod app;
pub mod auth;
pub mod body;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod deliveries;
pub mod demo;
pub mod error;
pub mod escalation;
pub mod feed;
pub mod feed_guard;
pub mod live;
pub mod log_identity;
pub mod openapi;
pub mod passwords;
pub mod portal;
pub mod quote_pdf;
pub mod ratelimit;
pub mod routes;
pub mod sessions;
pub mod state;
pub mod store;
pub mod testing;
pub mod tokens;

pub use app::{RunningServer, start};
pub use config::Config;
pub use state::AppState;
