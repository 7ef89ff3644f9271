//! Copying the WAL back into the database on a second thread while the alert job goes on.
//!
//! A commit that passes `wal_autocheckpoint` copies every page in the WAL back into the file
//! before it returns: 0.15–0.25 s of a churn day's run, with the machine's other core idle. The
//! alert job leaves what its last day wrote to a connection of its own on another thread, which
//! copies it back while the job makes the digests. SQLite runs one checkpoint at a time next to
//! any number of readers and one writer, so nothing waits for it but the end of the run.

use super::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// A thread copying committed pages back whenever it is asked to.
pub struct BackgroundCheckpoint {
    wake: Option<Sender<()>>,
    worker: Option<JoinHandle<Result<()>>>,
}

impl BackgroundCheckpoint {
    /// Opens a second connection to the database at `path` for the thread.
    pub fn start(path: &Path) -> Result<BackgroundCheckpoint> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        // The same durability as the job's own connection: the checkpoint syncs the WAL before
        // copying and the database after.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let (wake, woken) = channel();
        let worker = std::thread::Builder::new()
            .name("checkpoint".to_string())
            .spawn(move || copy_back_when_woken(&conn, &woken))
            .map_err(|source| StoreError::Io { path: path.to_path_buf(), source })?;
        Ok(BackgroundCheckpoint { wake: Some(wake), worker: Some(worker) })
    }

    /// Asks for what is committed so far to be copied back; returns at once.
    pub fn request(&self) {
        if let Some(wake) = &self.wake {
            // The thread ends only when told to or on an error, which `finish` reports.
            let _ = wake.send(());
        }
    }

    /// Waits for the copy under way (if any) and ends the thread.
    pub fn finish(mut self) -> Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> Result<()> {
        drop(self.wake.take());
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(copied)) => copied,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }
}

impl Drop for BackgroundCheckpoint {
    fn drop(&mut self) {
        // A run that failed still waits for the thread, so no copy outlives the command; its
        // error is the run's to report, not this one's.
        let _ = self.stop();
    }
}

fn copy_back_when_woken(conn: &Connection, woken: &Receiver<()>) -> Result<()> {
    while woken.recv().is_ok() {
        // Requests that piled up while copying are all served by the next copy.
        while woken.try_recv().is_ok() {}
        // PASSIVE never waits: with the job's commit or another checkpoint in the way it copies
        // what it can (or nothing) and the next request or the run's end copies the rest.
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many rows of `t` the database file holds by itself, read from a copy without its WAL.
    fn rows_in_the_file(path: &Path) -> i64 {
        let alone = path.with_extension("alone.db");
        std::fs::copy(path, &alone).unwrap();
        let conn = Connection::open(&alone).unwrap();
        conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 't'", [], |r| r.get::<_, i64>(0))
            .and_then(
                |tables| {
                    if tables == 0 { Ok(0) } else { conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)) }
                },
            )
            .unwrap()
    }

    /// A database in WAL mode whose own connection never copies the WAL back.
    fn never_copying_back(dir: &Path) -> (std::path::PathBuf, Connection) {
        let path = dir.join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        (path, conn)
    }

    #[test]
    fn what_is_committed_reaches_the_file_when_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let (path, conn) = never_copying_back(dir.path());
        conn.execute_batch(
            "CREATE TABLE t (x);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
             INSERT INTO t SELECT i FROM n;",
        )
        .unwrap();
        assert_eq!(rows_in_the_file(&path), 0, "the rows are in the WAL alone");
        let copier = BackgroundCheckpoint::start(&path).unwrap();
        copier.request();
        copier.finish().unwrap();
        assert_eq!(rows_in_the_file(&path), 20000);
    }

    #[test]
    fn nothing_is_copied_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let (path, conn) = never_copying_back(dir.path());
        let copier = BackgroundCheckpoint::start(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
        copier.finish().unwrap();
        assert_eq!(rows_in_the_file(&path), 0);
    }
}
