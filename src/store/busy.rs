//! Waiting for another writer. SQLite lets one process write at a time; the others wait. A
//! long writer (an import, demo data, a catch-up of the alert job) leaves a note beside the
//! database saying who is doing what, and a process that has waited a second says on stderr
//! what it is waiting for; one that gives up says the same instead of SQLite's "database is
//! locked".

use rusqlite::Connection;
use std::cell::Cell;
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

thread_local! {
    static WAIT_STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
    static SAID: Cell<bool> = const { Cell::new(false) };
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
    if let Ok(mut slot) = NOTE_PATH.lock() {
        *slot = Some(note_path(db));
    }
    conn.busy_handler(Some(wait))
}

/// What the current writer said it is doing, if it left a note.
fn writer_note() -> Option<String> {
    let path = NOTE_PATH.lock().ok()?.clone()?;
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| crate::domain::text::shown(line))
}

fn waiting_for() -> String {
    match writer_note() {
        Some(note) => format!("another muster process is writing to this database ({note})"),
        None => "another muster process is writing to this database".to_string(),
    }
}

/// The message of a command that waited its limit out.
pub fn gave_up_message() -> String {
    format!("{}; waited {} s and gave up: try again when it has finished", waiting_for(), WAIT_LIMIT.as_secs())
}

/// SQLite's busy handler: sleep a little, say once what we wait for, stop at the limit.
fn wait(attempt: i32) -> bool {
    let now = Instant::now();
    let started = WAIT_STARTED.with(|s| {
        if attempt == 0 || s.get().is_none() {
            s.set(Some(now));
            SAID.with(|said| said.set(false));
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
    std::thread::sleep(Duration::from_millis(if attempt < 10 { 5 } else { 50 }));
    true
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
        let _ = write_private(&path, what);
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
