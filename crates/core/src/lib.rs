//! IT Vision Desk domain: the rules every part of the system shares, with no I/O.
//!
//! Request kinds, statuses and who may move them, priorities, ticket numbers,
//! input validation with French messages, and the live feed's event types.

pub mod account;
pub mod alerts;
pub mod event;
pub mod fields;
#[cfg(test)]
mod fixtures;
pub mod kind;
pub mod metrics;
pub mod ownership;
pub mod quote;
pub mod request;
pub mod role;
pub mod sla;
pub mod status;
pub mod text;
pub mod ticket;
pub mod validation;

pub use event::{EventType, FeedEvent, Notification};
pub use fields::FieldErrors;
pub use kind::RequestKind;
pub use request::{Details, QuoteItem, Request};
pub use role::Role;
pub use status::{Priority, Status, TransitionError, Urgency};
pub use ticket::TicketNumber;
