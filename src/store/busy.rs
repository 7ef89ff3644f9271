//! Waiting for another writer. SQLite lets one process write at a time; the others wait. A
//! long writer (an import, demo data, a catch-up of the alert job) leaves a note beside the
//! database saying who is doing what, and a process that has waited a second says on stderr
//! what it is waiting for; one that gives up says the same instead of SQLite's "database is
//! locked". The console, whose screen cannot redraw while its thread waits inside SQLite, shows
//! the wait through a hook of its own and may stop it.

use rusqlite::Connection;
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a command waits for another writer before giving up.
pub const WAIT_LIMIT: Duration = Duration::from_secs(120);
/// How long it waits before saying so.
const SAY_AFTER: Duration = Duration::from_secs(1);

/// Whether waits are reported on stderr (the command line; never the console, which owns the
/// screen).
static REPORT_WAITS: AtomicBool = AtomicBool::new(false);
/// The note of the database this process opened last.
static NOTE_PATH: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Shown a wait (the writer's note, if it left one, and how long so far), says whether to go on
/// waiting.
pub type ShowWait = Box<dyn FnMut(Option<&str>, Duration) -> bool>;

thread_local! {
    static WAIT_STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
    static SAID: Cell<bool> = const { Cell::new(false) };
    static SHOW_WAIT: RefCell<Option<ShowWait>> = const { RefCell::new(None) };
    /// The note of the database this thread opened last: a process may hold several (tests
    /// do), and SQLite's busy handler is told nothing about the connection it waits on.
    static THREAD_NOTE_PATH: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
    /// The person stopped the last wait on this thread (the hook said not to go on).
    static STOPPED: Cell<bool> = const { Cell::new(false) };
}

/// Waits on this thread are shown through `show` once they pass a second, every time SQLite
/// tries again (every 50 ms); when it returns false the wait ends and the change fails, having
/// written nothing. `None` stops showing them.
pub fn show_waits_on_this_thread(show: Option<ShowWait>) {
    SHOW_WAIT.with(|slot| *slot.borrow_mut() = show);
}

pub fn report_waits_on_stderr(on: bool) {
    REPORT_WAITS.store(on, Ordering::Relaxed);
}

/// Where a long writer leaves its note: `FILE.db-writer`.
pub fn note_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-writer");
    PathBuf::from(name)
}

pub(super) fn install(conn: &Connection, db: &Path) -> rusqlite::Result<()> {
    THREAD_NOTE_PATH.with(|slot| *slot.borrow_mut() = Some(note_path(db)));
    if let Ok(mut slot) = NOTE_PATH.lock() {
        *slot = Some(note_path(db));
    }
    conn.busy_handler(Some(wait))
}

/// What the current writer said it is doing, if it left a note and is still running: a writer
/// killed mid-write (kill -9, a power cut) leaves its note behind, and whoever waits next is
/// waiting for someone else.
fn writer_note() -> Option<String> {
    // A connection opened on another thread and moved here (the console's background job)
    // finds the process's last one.
    let path = THREAD_NOTE_PATH.with(|slot| slot.borrow().clone()).or_else(|| NOTE_PATH.lock().ok()?.clone())?;
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let line = lines.next()?.trim();
    let writer = lines.next().and_then(|l| l.strip_prefix("pid ")).and_then(|pid| pid.trim().parse().ok());
    if writer.is_some_and(|pid| !running(pid)) {
        return None;
    }
    (!line.is_empty()).then(|| crate::domain::text::shown(line))
}

/// Whether process `pid` exists (on this machine, whoever runs it).
fn running(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn waiting_for() -> String {
    match writer_note() {
        Some(note) => format!("another muster process is writing to this database ({note})"),
        None => "another muster process is writing to this database".to_string(),
    }
}

/// The message of a command that waited its limit out.
pub fn gave_up_message() -> String {
    if STOPPED.with(|stopped| stopped.replace(false)) {
        return match writer_note() {
            Some(note) => format!("nothing changed: you stopped waiting for {note}"),
            None => "nothing changed: you stopped waiting for another muster process's write".to_string(),
        };
    }
    format!("{}; waited {} s and gave up: try again when it has finished", waiting_for(), WAIT_LIMIT.as_secs())
}

/// SQLite's busy handler: sleep a little, say once what we wait for, stop at the limit.
fn wait(attempt: i32) -> bool {
    let now = Instant::now();
    let started = WAIT_STARTED.with(|s| {
        if attempt == 0 || s.get().is_none() {
            s.set(Some(now));
            SAID.with(|said| said.set(false));
            STOPPED.with(|stopped| stopped.set(false));
        }
        s.get().unwrap_or(now)
    });
    let waited = now.duration_since(started);
    if waited >= WAIT_LIMIT {
        return false;
    }
    if waited >= SAY_AFTER && REPORT_WAITS.load(Ordering::Relaxed) && !SAID.with(Cell::get) {
        SAID.with(|said| said.set(true));
        eprintln!("muster: waiting: {} …", waiting_for());
    }
    if waited >= SAY_AFTER {
        // This thread is inside SQLite: the hook may draw and read the keyboard, not use the database.
        let go_on =
            SHOW_WAIT.with(|slot| slot.borrow_mut().as_mut().is_none_or(|show| show(writer_note().as_deref(), waited)));
        if !go_on {
            STOPPED.with(|stopped| stopped.set(true));
            return false;
        }
    }
    std::thread::sleep(Duration::from_millis(if attempt < 10 { 5 } else { 50 }));
    true
}

/// Runs `step` again, as the busy handler would, for as long as it finds the file busy: SQLite
/// does not call the handler for a change of journal mode, which needs the file to itself.
pub(super) fn retried<T>(mut step: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut attempt = 0;
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && wait(attempt) =>
            {
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// A note left for the length of a long write; removed when dropped.
pub struct WriterNote {
    path: PathBuf,
}

impl WriterNote {
    /// Leaves `what` (e.g. `alice: import attendance from year.csv, since 10:04:05`) beside `db`.
    /// A note that cannot be written only means others wait without being told why.
    pub fn leave(db: &Path, what: &str) -> WriterNote {
        let path = note_path(db);
        let _ = write_private(&path, &format!("{what}\npid {}", std::process::id()));
        WriterNote { path }
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    writeln!(super::create_private(path)?, "{text}")
}

impl Drop for WriterNote {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppError;
    use crate::store::{OpenMode, Store, StoreError};
    use std::rc::Rc;

    #[test]
    fn a_wait_is_shown_with_the_writers_note_and_stopping_it_says_nothing_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let store = Store::open(&path, OpenMode::CreateIfMissing).unwrap();
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let _note = WriterNote::leave(&path, "alice: import attendance from year.csv, since 10:04:05");
        /// Each time the wait was shown: the note, and how long it had waited.
        type Shown = Vec<(Option<String>, Duration)>;
        let shown: Rc<RefCell<Shown>> = Rc::default();
        let seen = shown.clone();
        show_waits_on_this_thread(Some(Box::new(move |note, waited| {
            seen.borrow_mut().push((note.map(str::to_string), waited));
            false
        })));

        let refused = store.conn().execute_batch("BEGIN IMMEDIATE").unwrap_err();
        show_waits_on_this_thread(None);
        let said = AppError::from(refused);
        let AppError::Store(StoreError::Busy(message)) = &said else { panic!("not a wait: {said:?}") };
        assert_eq!(
            message,
            "nothing changed: you stopped waiting for alice: import attendance from year.csv, since 10:04:05"
        );
        let shown = shown.borrow();
        assert_eq!(shown.len(), 1, "shown once, then stopped");
        assert_eq!(shown[0].0.as_deref(), Some("alice: import attendance from year.csv, since 10:04:05"));
        assert!(shown[0].1 >= SAY_AFTER, "not before a second: a short wait goes unremarked");

        // Without anyone stopping it, a wait that ends goes on as if nothing happened.
        other.execute_batch("ROLLBACK").unwrap();
        store.conn().execute_batch("BEGIN IMMEDIATE; ROLLBACK").unwrap();
    }
}
