//! A SQLite VFS that models a power cut, for tests.
//!
//! Installed as the process's default VFS, it passes every call to the platform's own VFS and
//! keeps, for each database and WAL file, what is on the disk for sure (the content at its last
//! fsync) and the writes made since. [`cut`] is the power cut (or [`cut_after_writes`], for
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

mod model;
mod vfs;

pub use model::{Keep, SECTOR};
pub use vfs::{Disk, cut, cut_after_writes, install, take_cut};
