//! A committed event on its way to the live feed's subscribers.

use std::sync::atomic::AtomicBool;

use axum::extract::ws::Utf8Bytes;

use crate::store::LoggedEvent;

/// A committed event with its feed frame, serialised once for every subscriber.
#[derive(Debug)]
pub struct LiveEvent {
    pub logged: LoggedEvent,
    pub frame: Utf8Bytes,
    /// Set by the first staff socket that writes it: the metrics want only the first
    /// delivery, and a thousand sockets need not each report theirs (`Deliveries::sent_live`).
    pub staff_reported: AtomicBool,
}

impl LiveEvent {
    pub fn new(logged: LoggedEvent, frame: Utf8Bytes) -> LiveEvent {
        LiveEvent {
            logged,
            frame,
            staff_reported: AtomicBool::new(false),
        }
    }
}
