//! The VFS itself: the platform's VFS underneath, the model of each file beside it.
//!
//! Every call goes to the platform's VFS; writes, truncations and syncs of database and WAL
//! files are also recorded in their [`FileModel`], under one lock so that a cut falls between
//! two calls, never inside one. Other files (the WAL index, temporary files) pass straight
//! through: SQLite rebuilds the WAL index from the WAL after a crash.

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::{LazyLock, Mutex, MutexGuard, OnceLock, PoisonError};

use rusqlite::ffi;

use crate::model::{FileModel, Keep, Op};

#[derive(Default)]
struct Model {
    files: HashMap<PathBuf, FileModel>,
    /// Directories whose power is cut: every change under them fails.
    cut: Vec<PathBuf>,
    /// Cuts to come, each after so many more WAL writes under its directory.
    armed: Vec<Armed>,
    /// Cuts that came, by directory, until taken.
    done: HashMap<PathBuf, Disk>,
}

struct Armed {
    dir: PathBuf,
    writes_left: usize,
    keep: Keep,
}

impl Model {
    fn is_cut(&self, path: &Path) -> bool {
        self.cut.iter().any(|dir| path.starts_with(dir))
    }

    fn cut(&mut self, dir: PathBuf, keep: Keep) -> Disk {
        self.cut.push(dir.clone());
        let mut rng = match keep {
            Keep::Nothing => None,
            Keep::RandomSectors { seed } => Some(fastrand::Rng::with_seed(seed)),
        };
        let mut paths: Vec<&PathBuf> = self.files.keys().filter(|p| p.starts_with(&dir)).collect();
        paths.sort();
        Disk {
            unsynced: paths.iter().map(|p| self.files[*p].pending.len()).sum(),
            files: paths
                .into_iter()
                .map(|p| (p.clone(), self.files[p].after_cut(rng.as_mut())))
                .collect(),
        }
    }

    /// A write to the WAL at `path` was made: an armed cut whose count it ends happens now,
    /// in the middle of the commit that wrote it, before its fsync.
    fn count_wal_write(&mut self, path: &Path) {
        let Some(i) = self.armed.iter().position(|a| path.starts_with(&a.dir)) else {
            return;
        };
        self.armed[i].writes_left -= 1;
        if self.armed[i].writes_left == 0 {
            let Armed { dir, keep, .. } = self.armed.remove(i);
            let disk = self.cut(dir.clone(), keep);
            self.done.insert(dir, disk);
        }
    }
}

static MODEL: LazyLock<Mutex<Model>> = LazyLock::new(Mutex::default);

fn model() -> MutexGuard<'static, Model> {
    MODEL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The platform's VFS, found once.
struct Underlying(*mut ffi::sqlite3_vfs);
// SAFETY: SQLite's VFS objects are immutable once registered and safe to use from any thread.
unsafe impl Send for Underlying {}
unsafe impl Sync for Underlying {}

static UNDERLYING: OnceLock<Underlying> = OnceLock::new();

fn underlying() -> *mut ffi::sqlite3_vfs {
    UNDERLYING.get().expect("installed").0
}

/// Makes this VFS the process's default, so every connection opened afterwards is modelled.
/// Call it before opening any database; calling it again does nothing.
pub fn install() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find initialises SQLite and returns its static default VFS; the
        // VFS built here is leaked, so it outlives every connection as SQLite requires.
        unsafe {
            let real = ffi::sqlite3_vfs_find(ptr::null());
            assert!(!real.is_null(), "SQLite has a default VFS");
            let _ = UNDERLYING.set(Underlying(real));
            // The platform's methods only read their VFS's `pAppData` and `mxPathname`, both
            // copied; opening and deleting are wrapped and call it with its own pointer.
            let mut ours = *real;
            ours.zName = c"powercut".as_ptr();
            ours.szOsFile = std::mem::size_of::<CutFile>() as c_int;
            ours.pNext = ptr::null_mut();
            ours.xOpen = Some(x_open);
            ours.xDelete = Some(x_delete);
            let ours = Box::leak(Box::new(ours));
            let rc = ffi::sqlite3_vfs_register(ours, 1);
            assert_eq!(rc, ffi::SQLITE_OK, "the power-cut VFS is registered");
        }
    });
}

/// What the disk holds after a cut.
#[derive(Debug)]
pub struct Disk {
    /// Each modelled file (database and WAL), as the disk could hold it.
    pub files: Vec<(PathBuf, Vec<u8>)>,
    /// Writes and truncations not yet synced when the power went, which `Keep` chose from.
    pub unsynced: usize,
}

/// The power cut under `dir`: every later change there fails, and the result is each modelled
/// file under `dir` as the disk could hold it now, with what `keep` lets through of the writes
/// not yet synced.
pub fn cut(dir: &Path, keep: Keep) -> Disk {
    model().cut(canonical(dir), keep)
}

/// The same cut, made by the VFS itself right after the `writes`-th next write to a WAL under
/// `dir`: inside a commit, between its frames and its fsync (a checkpoint's writes to the
/// database do not count). [`take_cut`] gives its disk.
pub fn cut_after_wal_writes(dir: &Path, writes: usize, keep: Keep) {
    model().armed.push(Armed {
        dir: canonical(dir),
        writes_left: writes.max(1),
        keep,
    });
}

/// The disk left by a cut armed with [`cut_after_wal_writes`], once it has happened.
pub fn take_cut(dir: &Path) -> Option<Disk> {
    model().done.remove(&canonical(dir))
}

fn canonical(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

/// A file as SQLite sees it: ours first (SQLite allocates `szOsFile` bytes for it), the
/// platform's file allocated beside it.
#[repr(C)]
struct CutFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    /// Set for database and WAL files, the ones modelled.
    path: Option<PathBuf>,
    wal: bool,
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: `file` has room for a CutFile (our szOsFile); the platform's file gets its own
    // allocation of the platform's size, freed on close or on a failed open.
    unsafe {
        let real_vfs = underlying();
        let size = (*real_vfs).szOsFile;
        let real = ffi::sqlite3_malloc(size) as *mut ffi::sqlite3_file;
        if real.is_null() {
            (*file).pMethods = ptr::null();
            return ffi::SQLITE_NOMEM;
        }
        ptr::write_bytes(real as *mut u8, 0, size as usize);
        let rc = ((*real_vfs).xOpen.expect("xOpen"))(real_vfs, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK {
            ffi::sqlite3_free(real as *mut c_void);
            (*file).pMethods = ptr::null();
            return rc;
        }
        let modelled = flags & (ffi::SQLITE_OPEN_MAIN_DB | ffi::SQLITE_OPEN_WAL) != 0;
        let path = (modelled && !name.is_null())
            .then(|| PathBuf::from(CStr::from_ptr(name).to_string_lossy().into_owned()));
        if let Some(p) = &path {
            model()
                .files
                .entry(p.clone())
                .or_insert_with(|| FileModel::with_content(std::fs::read(p).unwrap_or_default()));
        }
        ptr::write(
            file as *mut CutFile,
            CutFile {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                real,
                path,
                wal: flags & ffi::SQLITE_OPEN_WAL != 0,
            },
        );
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn x_delete(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    // SAFETY: `name` is a NUL-terminated path from SQLite.
    unsafe {
        let path = PathBuf::from(CStr::from_ptr(name).to_string_lossy().into_owned());
        let mut m = model();
        if m.is_cut(&path) {
            return ffi::SQLITE_IOERR_DELETE;
        }
        let real_vfs = underlying();
        let rc = ((*real_vfs).xDelete.expect("xDelete"))(real_vfs, name, sync_dir);
        if rc == ffi::SQLITE_OK {
            // Treated as on the disk at once: SQLite deletes a WAL only once the database holds
            // all of it and is synced.
            m.files.remove(&path);
        }
        rc
    }
}

/// The CutFile behind `file` and the platform's file with its methods.
///
/// # Safety
/// `file` must be a file opened by [`x_open`] and not yet closed.
unsafe fn parts<'a>(
    file: *mut ffi::sqlite3_file,
) -> (
    &'a CutFile,
    *mut ffi::sqlite3_file,
    &'a ffi::sqlite3_io_methods,
) {
    // SAFETY: per the function's contract.
    unsafe {
        let ours = &*(file as *const CutFile);
        (ours, ours.real, &*(*ours.real).pMethods)
    }
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes each opened file once; nothing uses it afterwards.
    unsafe {
        let (_, real, methods) = parts(file);
        let rc = (methods.xClose.expect("xClose"))(real);
        ffi::sqlite3_free(real as *mut c_void);
        ptr::drop_in_place(file as *mut CutFile);
        rc
    }
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: `buf` holds `amount` bytes (SQLite's contract for xWrite).
    unsafe {
        let (ours, real, methods) = parts(file);
        let write = methods.xWrite.expect("xWrite");
        let Some(path) = &ours.path else {
            return write(real, buf, amount, offset);
        };
        let mut m = model();
        if m.is_cut(path) {
            return ffi::SQLITE_IOERR_WRITE;
        }
        let rc = write(real, buf, amount, offset);
        if rc == ffi::SQLITE_OK {
            let data = std::slice::from_raw_parts(buf as *const u8, amount as usize).to_vec();
            let op = Op::Write {
                offset: offset as usize,
                data,
            };
            m.files.entry(path.clone()).or_default().pending.push(op);
            if ours.wal {
                m.count_wal_write(path);
            }
        }
        rc
    }
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    // SAFETY: an open file (parts).
    unsafe {
        let (ours, real, methods) = parts(file);
        let truncate = methods.xTruncate.expect("xTruncate");
        let Some(path) = &ours.path else {
            return truncate(real, size);
        };
        let mut m = model();
        if m.is_cut(path) {
            return ffi::SQLITE_IOERR_TRUNCATE;
        }
        let rc = truncate(real, size);
        if rc == ffi::SQLITE_OK {
            let op = Op::Truncate(size as usize);
            m.files.entry(path.clone()).or_default().pending.push(op);
        }
        rc
    }
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: an open file (parts).
    unsafe {
        let (ours, real, methods) = parts(file);
        let sync = methods.xSync.expect("xSync");
        let Some(path) = &ours.path else {
            return sync(real, flags);
        };
        let mut m = model();
        if m.is_cut(path) {
            return ffi::SQLITE_IOERR_FSYNC;
        }
        let rc = sync(real, flags);
        if rc == ffi::SQLITE_OK {
            // An fsync covers the file, whichever connection wrote to it.
            m.files.entry(path.clone()).or_default().sync();
        }
        rc
    }
}

// Everything else goes straight to the platform's file.

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: an open file (parts); the arguments are SQLite's, passed on.
    unsafe {
        let (_, real, m) = parts(file);
        (m.xRead.expect("xRead"))(real, buf, amount, offset)
    }
}

unsafe extern "C" fn x_file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        (m.xFileSize.expect("xFileSize"))(real, size)
    }
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        (m.xLock.expect("xLock"))(real, level)
    }
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        (m.xUnlock.expect("xUnlock"))(real, level)
    }
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        (m.xCheckReservedLock.expect("xCheckReservedLock"))(real, out)
    }
}

unsafe extern "C" fn x_file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        (m.xFileControl.expect("xFileControl"))(real, op, arg)
    }
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        (m.xSectorSize.expect("xSectorSize"))(real)
    }
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        (m.xDeviceCharacteristics.expect("xDeviceCharacteristics"))(real)
    }
}

unsafe extern "C" fn x_shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        match m.xShmMap {
            Some(f) => f(real, page, page_size, extend, out),
            None => ffi::SQLITE_IOERR_SHMMAP,
        }
    }
}

unsafe extern "C" fn x_shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        match m.xShmLock {
            Some(f) => f(real, offset, n, flags),
            None => ffi::SQLITE_IOERR_SHMLOCK,
        }
    }
}

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        if let Some(f) = m.xShmBarrier {
            f(real)
        }
    }
}

unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        match m.xShmUnmap {
            Some(f) => f(real, delete),
            None => ffi::SQLITE_OK,
        }
    }
}

unsafe extern "C" fn x_fetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: as x_read. Reads through a memory map change nothing on the disk.
    unsafe {
        let (_, real, m) = parts(file);
        match m.xFetch {
            Some(f) => f(real, offset, amount, out),
            None => {
                *out = ptr::null_mut();
                ffi::SQLITE_OK
            }
        }
    }
}

unsafe extern "C" fn x_unfetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    page: *mut c_void,
) -> c_int {
    // SAFETY: as x_read.
    unsafe {
        let (_, real, m) = parts(file);
        match m.xUnfetch {
            Some(f) => f(real, offset, page),
            None => ffi::SQLITE_OK,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// The VFS end to end on a bare database: a commit under `synchronous=FULL` is in the
    /// image, one under `OFF` (never synced) is not.
    #[test]
    fn a_synced_commit_survives_the_cut_and_an_unsynced_one_does_not() {
        install();
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);
             PRAGMA synchronous=OFF; INSERT INTO t VALUES (2);",
        )
        .unwrap();
        let disk = cut(dir.path(), Keep::Nothing);
        assert!(disk.unsynced > 0, "the unsynced insert is pending");
        let images = disk.files;
        assert!(
            conn.execute("INSERT INTO t VALUES (3)", []).is_err(),
            "no write after the cut"
        );
        drop(conn);

        let after = tempfile::tempdir().unwrap();
        for (path, image) in &images {
            std::fs::write(after.path().join(path.file_name().unwrap()), image).unwrap();
        }
        let names: Vec<_> = images.iter().map(|(p, _)| p.file_name().unwrap()).collect();
        assert_eq!(names, ["t.db", "t.db-wal"]);
        let conn = Connection::open(after.path().join("t.db")).unwrap();
        let rows: Vec<i64> = conn
            .prepare("SELECT x FROM t")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [1]);
    }
}
