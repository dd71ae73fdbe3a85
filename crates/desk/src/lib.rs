//! IT Vision Desk desktop engine: a plain library (no Tauri) holding the local
//! SQLite cache, the feed sync, native notifications, the session secret and
//! the outbox of staff actions. A UI shell drives it through [`Engine`].

pub mod accounts;
mod acknowledge;
pub mod api;
pub mod cache;
mod delivery;
mod drift;
pub mod engine;
pub mod error;
pub mod feed;
mod full_sync;
pub mod notify;
pub mod outbox;
mod outbox_send;
pub mod ownership;
mod power;
pub mod quote;
mod runner;
pub mod secrets;
mod sessions;
pub mod settings;
pub mod sync;
pub mod types;

pub use accounts::{Account, AccountPatch, NewAccount, SessionEnd, SessionInfo, SignOutOutcome};
pub use engine::{Engine, EngineConfig};
pub use error::{Error, Result, ServerRefusal, UiError};
pub use notify::{DesktopNotifier, Notice, NoticeAction, Notifier};
pub use outbox::{Action, OutboxEntry, OutboxState, PerformOutcome};
pub use settings::Settings;
pub use types::*;
