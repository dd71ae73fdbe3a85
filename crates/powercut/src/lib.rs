//! A SQLite VFS that models a power cut, for tests.
//!
//! Installed as the process's default VFS, it passes every call to the platform's own VFS and
//! keeps, for each database and WAL file, what is on the disk for sure (the content at its last
//! fsync) and the writes made since. [`cut`] is the power cut (or [`cut_after_wal_writes`], for
//! one that falls inside a commit): from then on every write, sync,
//! truncate and delete under the given directory fails (the process is as good as dead), and it
//! returns each file as the disk could hold it after the cut: the synced content plus whichever
//! unsynced writes [`Keep`] lets through, sector by sector and in order. A test writes those
//! images to a new directory and opens the database there: what it finds is what a machine
//! would find after the power came back.
//!
//! Assumptions, the same as SQLite's own (<https://sqlite.org/atomiccommit.html>): an fsync
//! that returned means its file's data is on the disk; a sector is written whole or not at all;
//! a file that was created and synced exists (directory entries are not modelled).
//!
//! Limits, none of which the server's test meets: WAL mode only (a rollback journal is not
//! modelled, so a database in another journal mode would look corrupt after a cut); a file's
//! content when first opened counts as synced (install before opening anything); a delete
//! counts as on the disk at once (SQLite deletes a WAL only once the database holds it all,
//! synced, unless `synchronous=OFF`); opening files is not refused after a cut.

mod model;
mod vfs;

pub use model::{Keep, SECTOR};
pub use vfs::{Disk, cut, cut_after_wal_writes, install, take_cut};
