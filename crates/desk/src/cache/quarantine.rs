//! Feed events and synced rows this build could not decode, kept with their seq and the
//! error until an update can read them.

/// Schema of migration 8.
pub(super) const SCHEMA: &str = "";
