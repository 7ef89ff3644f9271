//! Getting the disk started on what a long write leaves in the kernel's cache, rather than when
//! a checkpoint asks for it.
//!
//! With `synchronous = NORMAL` a commit leaves its pages in the kernel's cache. The checkpoint
//! that copies them back syncs the WAL first and the database after: at the end of a churn day
//! of the alert job the two syncs waited 80–130 ms each, for disk writes that could have been
//! under way while the job computed and copied. A thread asks the kernel every few milliseconds
//! to start writing whatever of the two files is dirty (`sync_file_range` without waiting), so
//! the syncs find most of it written. Durability does not change: the same syncs happen at the
//! same points; the disk only starts sooner.
//!
//! The thread's descriptor of the database file is never closed: closing any descriptor of a
//! file drops every POSIX lock the process holds on it, and SQLite's connections hold some. One
//! descriptor per database is kept for the life of the process. The WAL file carries no locks.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the thread asks: a churn day's commit writes its 37 MB in 50–100 ms.
const EVERY: Duration = Duration::from_millis(10);

/// The thread asking for the files to be written; it stops when this is dropped.
pub struct EarlyWriteback {
    stop: Option<Sender<()>>,
    worker: Option<JoinHandle<()>>,
}

impl EarlyWriteback {
    /// Starts asking for the database at `db` and its WAL. None when no thread could be started:
    /// the write goes on as it would have.
    pub fn start(db: &Path) -> Option<EarlyWriteback> {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let database = kept_open(db);
        let (stop, stopped) = channel::<()>();
        let worker = std::thread::Builder::new()
            .name("early-writeback".to_string())
            .spawn(move || {
                let mut file: Option<File> = None;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    // The WAL appears with the first write of a file that had none.
                    if file.is_none() {
                        file = File::open(&wal).ok();
                    }
                    if let Some(file) = &file {
                        start_writing(file);
                    }
                    if let Some(database) = database {
                        start_writing(database);
                    }
                }
            })
            .ok()?;
        Some(EarlyWriteback { stop: Some(stop), worker: Some(worker) })
    }
}

impl Drop for EarlyWriteback {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(worker) = self.worker.take() {
            // The thread only sleeps and asks; it has nothing to report.
            let _ = worker.join();
        }
    }
}

/// This process's descriptor of the database at `path`, opened the first time the file is asked
/// for and never closed (see the module's doc). Kept by the file's identity, not its name: a
/// file put in the name's place is another file. None when it cannot be opened.
fn kept_open(path: &Path) -> Option<&'static File> {
    use std::os::unix::fs::MetadataExt;
    static KEPT: Mutex<Option<HashMap<(u64, u64), &'static File>>> = Mutex::new(None);
    let identity = |m: std::fs::Metadata| (m.dev(), m.ino());
    let mut kept = KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let kept = kept.get_or_insert_with(HashMap::new);
    if let Some(known) = std::fs::metadata(path).ok().and_then(|m| kept.get(&identity(m))) {
        return Some(known);
    }
    let file: &'static File = Box::leak(Box::new(File::open(path).ok()?));
    kept.insert(identity(file.metadata().ok()?), file);
    Some(file)
}

/// Asks the kernel to start writing the file's dirty pages, and returns at once.
#[cfg(target_os = "linux")]
fn start_writing(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for as long as `file` is; the call only reads its arguments.
    // A failure (a file system without it) leaves the pages to the checkpoint's sync, as before.
    unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
}

#[cfg(not(target_os = "linux"))]
fn start_writing(_file: &File) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::time::Instant;

    /// `cachestat(2)` (Linux 6.5): how many of a file's pages in the kernel's cache are dirty.
    fn dirty_pages(file: &File) -> Option<u64> {
        #[repr(C)]
        struct Range {
            off: u64,
            len: u64,
        }
        #[repr(C)]
        #[derive(Default)]
        struct Stat {
            cache: u64,
            dirty: u64,
            writeback: u64,
            evicted: u64,
            recently_evicted: u64,
        }
        const SYS_CACHESTAT: libc::c_long = 451;
        let range = Range { off: 0, len: 0 };
        let mut stat = Stat::default();
        // SAFETY: both structs are laid out as the kernel's and outlive the call.
        let rc = unsafe { libc::syscall(SYS_CACHESTAT, file.as_raw_fd(), &range, &mut stat, 0) };
        (rc == 0).then_some(stat.dirty)
    }

    #[test]
    fn the_database_and_its_wal_are_written_out_without_anyone_syncing_them() {
        // A directory on the checkout's disk: a tmpfs has no disk to write to.
        let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let db = dir.path().join("m.db");
        std::fs::write(&db, vec![1u8; 1 << 20]).unwrap();
        let writeback = EarlyWriteback::start(&db).expect("a thread");
        // The WAL appears after the thread started, as it does when the job's first write makes it.
        std::thread::sleep(EVERY * 3);
        let wal_path = dir.path().join("m.db-wal");
        std::fs::write(&wal_path, vec![7u8; 4 << 20]).unwrap();
        // A checkpoint's writes into the database, after the thread last looked at it.
        std::fs::OpenOptions::new().write(true).open(&db).unwrap().write_all(&[2u8; 1 << 20]).unwrap();
        // Written with them, a file nobody asks for shows that this disk keeps written pages in
        // the kernel's cache at all (the thread may already have had the two written out).
        let unwatched = dir.path().join("unwatched");
        std::fs::write(&unwatched, vec![3u8; 1 << 20]).unwrap();
        let files = [File::open(&db).unwrap(), File::open(&wal_path).unwrap()];
        let Some(unwatched_dirty) = dirty_pages(&File::open(&unwatched).unwrap()) else {
            eprintln!("this kernel has no cachestat(2); nothing to measure");
            return;
        };
        assert!(unwatched_dirty > 0, "just written, the pages wait in the kernel's cache");
        // The kernel itself writes a dirty page back after 30 s; the thread asks within 10 ms.
        let started = Instant::now();
        while files.iter().any(|f| dirty_pages(f) != Some(0)) {
            assert!(started.elapsed() < Duration::from_secs(5), "some pages are still dirty");
            std::thread::sleep(EVERY);
        }
        let asked_to_stop = Instant::now();
        drop(writeback);
        assert!(asked_to_stop.elapsed() < Duration::from_secs(1), "dropping it ends the thread at once");
    }
}
