//! SQLite: opening a database file (mode, pragmas, migrations) and one module per table group.
//!
//! Every read takes the user it is for and returns only what that user may see: partners get
//! rows about their assigned students, admins get everything. No other module knows SQL.

/// The blocks of 131,072 alert ids that hold alerts, as a subquery for `IN`. Beside a student,
/// `(a.id >> 17) IN alert_blocks!()` lets a lookup of that student's alerts of any status walk
/// `alerts_student_block` (migration 17), one seek per block, rather than every alert. Each
/// block is found from the alerts' own ids, so gaps between them cost nothing. A macro so that
/// constant filters can `concat!` it.
macro_rules! alert_blocks {
    () => {
        "(WITH RECURSIVE block(n) AS (
              SELECT min(id) >> 17 FROM main.alerts
              UNION ALL
              SELECT (SELECT min(id) >> 17 FROM main.alerts WHERE id >= (n + 1) << 17) FROM block
               WHERE n IS NOT NULL)
          SELECT n FROM block WHERE n IS NOT NULL)"
    };
}

pub mod activity;
pub mod alerts;
pub mod audit;
pub mod busy;
pub mod checkpoint;
pub mod days;
pub mod engine;
pub mod exports;
pub mod figures;
pub mod ids;
pub mod messages;
pub mod partners;
pub mod pull;
pub mod replica;
pub mod roster;
pub mod schedules;
mod schema_edit;
pub mod settings;
pub mod staging;
pub mod stored;
pub mod users;
mod wire;
pub mod writeback;

use rusqlite::{Connection, OpenFlags, Params, Row};
use rusqlite_migration::{M, Migrations};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The schema, one file per version, applied in order, each in its own transaction.
const MIGRATION_FILES: &[&str] = &[
    include_str!("../../migrations/0001_init.sql"),
    include_str!("../../migrations/0002_alert_engine.sql"),
    include_str!("../../migrations/0003_trust.sql"),
    include_str!("../../migrations/0004_scale.sql"),
    include_str!("../../migrations/0005_daily_job.sql"),
    include_str!("../../migrations/0006_drawn_mark.sql"),
    include_str!("../../migrations/0007_devices.sql"),
    include_str!("../../migrations/0008_device_rejections.sql"),
    include_str!("../../migrations/0009_messaging.sql"),
    include_str!("../../migrations/0010_report_schedules.sql"),
    include_str!("../../migrations/0011_report_figures.sql"),
    include_str!("../../migrations/0012_digest_events.sql"),
    include_str!("../../migrations/0013_digest_kinds.sql"),
    include_str!("../../migrations/0014_message_checks.sql"),
    include_str!("../../migrations/0015_acknowledgements.sql"),
    include_str!("../../migrations/0016_alerts_as_numbers.sql"),
    include_str!("../../migrations/0017_alerts_by_block.sql"),
];

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(
        MIGRATION_FILES
            .iter()
            .enumerate()
            .map(|(i, sql)| match i + 1 {
                5 => M::up_with_hook(sql, schema_edit::alert_checks_as_comparisons),
                14 => M::up_with_hook(sql, schema_edit::message_checks_as_comparisons),
                16 => M::up_with_hook(sql, schema_edit::alerts_as_numbers),
                _ => M::up(sql),
            })
            .collect(),
    )
});

/// Running SQL through the connection's cache of prepared statements: a small change (one
/// attendance record from a device's push) runs a few dozen statements, and parsing them anew
/// each time was a third of its cost.
pub trait Cached {
    fn query_row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        read: F,
    ) -> rusqlite::Result<T>;
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn query_row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        read: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, read)
    }

    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// Above this size a schema update that rebuilds an index says it may take a while first.
const LARGE_FILE_BYTES: u64 = 256 << 20;

/// The versions whose update builds an index over a table that grows with the years: a minute
/// at 20 million attendance records. The others take milliseconds on any file.
const REBUILDING_VERSIONS: &[usize] = &[2, 4, 5, 11, 12, 13, 15, 16, 17];

/// The versions that copy a table into a new definition and put it in the old one's place.
const TABLE_REPLACING_VERSIONS: &[usize] = &[16];

/// Whether bringing a file from `found` up to date builds such an index.
fn update_rebuilds(found: usize) -> bool {
    (found + 1..=SCHEMA_VERSION).any(|version| REBUILDING_VERSIONS.contains(&version))
}

/// What the WAL file is cut back to once its pages are copied back into the database: more than
/// a day of the alert job at 100,000 students, so a daily run reuses it rather than growing it.
const WAL_KEPT_BYTES: i64 = 128 << 20;

/// The schema version this program writes.
pub const SCHEMA_VERSION: usize = MIGRATION_FILES.len();

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no database at {}: create one with `muster init` (or `muster demo` for demo data)", .0.display())]
    Missing(PathBuf),
    #[error(
        "{} was written by a newer muster (schema version {found}; this muster knows up to {known}): \
         install the newer muster; the file was left untouched", path.display()
    )]
    TooNew { path: PathBuf, found: usize, known: usize },
    #[error("{0} not found")]
    NotFound(String),
    #[error("permission denied: {0}")]
    Denied(String),
    /// Said once: rusqlite's own error repeats its text in its source chain.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("{0}")]
    Busy(String),
    #[error("could not bring the schema up to date: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("this database file is read-only for you: muster can show it but not change it")]
    ReadOnly,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
            return StoreError::Busy(busy::gave_up_message());
        }
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) {
            return StoreError::ReadOnly;
        }
        StoreError::Sqlite(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// The file must already exist.
    Existing,
    /// Create an empty database (mode 0600) if there is none.
    CreateIfMissing,
}

/// An open database. Holds one connection; several processes may share the file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    read_only: bool,
    audit_key: audit::KeyState,
}

impl Store {
    pub fn open(path: &Path, mode: OpenMode) -> Result<Store> {
        if !path.exists() {
            if mode == OpenMode::Existing {
                return Err(StoreError::Missing(path.to_path_buf()));
            }
            create_private_file(path)?;
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        // Installed first: while a large import writes through the rollback journal (see
        // `write_once`), even reading the version waits for it.
        busy::install(&conn, path)?;
        // Look at the schema version before anything can write to the file: a database from
        // a newer muster must stay byte-for-byte as it was.
        let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let found = usize::try_from(found).unwrap_or(usize::MAX);
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { path: path.to_path_buf(), found, known: SCHEMA_VERSION });
        }
        conn.set_prepared_statement_cache_capacity(128);
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // SQLite opens a file the OS will not let us write read-only: it can still be read.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            if found < SCHEMA_VERSION {
                return Err(StoreError::Denied(format!(
                    "{} needs its schema brought up to date, but this account may not write to it",
                    path.display()
                )));
            }
            let audit_key = audit::load_or_create_key(&conn, path, false)?;
            return Ok(Store { conn, path: path.to_path_buf(), read_only: true, audit_key });
        }
        // A file an import left on the rollback journal when it was killed waits for whoever
        // else is writing to it before it can go back to the WAL.
        busy::retried(|| conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // While any connection is open (the console, the daemon) the WAL file is reused, never
        // deleted: without a limit it kept the size of the largest write ever made, 190 MB
        // after a million-row import and gigabytes after a year's.
        conn.pragma_update(None, "journal_size_limit", WAL_KEPT_BYTES)?;
        if found > 0 && update_rebuilds(found) && std::fs::metadata(path).is_ok_and(|m| m.len() > LARGE_FILE_BYTES) {
            eprintln!(
                "muster: bringing {}'s schema up to date (version {found} to {SCHEMA_VERSION}); on a file this size it can take a minute",
                path.display()
            );
        }
        for version in found + 1..=SCHEMA_VERSION {
            // SQLite's procedure for replacing a table other tables refer to asks for foreign
            // keys off while it runs; the migration checks them before it commits.
            let replaces_a_table = TABLE_REPLACING_VERSIONS.contains(&version);
            if replaces_a_table {
                conn.pragma_update(None, "foreign_keys", "OFF")?;
            }
            let migrated = MIGRATIONS.to_version(&mut conn, version);
            if replaces_a_table {
                conn.pragma_update(None, "foreign_keys", "ON")?;
            }
            migrated?;
        }
        let audit_key = audit::load_or_create_key(&conn, path, true)?;
        Ok(Store { conn, path: path.to_path_buf(), read_only: false, audit_key })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn audit_key(&self) -> &audit::KeyState {
        &self.audit_key
    }

    /// Whether this process may only read the file.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// For one large write, takes the file from the WAL to SQLite's rollback journal, which
    /// writes each new page once where the WAL writes it twice (into the WAL, then back into
    /// the file): only when no other connection has the file open, since one that does (the
    /// console, the daemon) could not read until the write ends. Returns whether it did; put
    /// the WAL back with `wal_again`. A process killed meanwhile leaves a journal that the next
    /// connection to read the file rolls back, so the write is still all or nothing.
    pub fn write_once(&self) -> Result<bool> {
        // Another connection makes the switch fail with "database is locked"; waiting for it
        // to close would be waiting for the console to be quit.
        self.conn.busy_handler(None)?;
        let mode = self.conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0));
        busy::install(&self.conn, &self.path)?;
        match mode {
            Ok(mode) => Ok(mode.eq_ignore_ascii_case("delete")),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Back to the WAL after `write_once`. Every connection that opens the file asks for the WAL
    /// too, so one that opened during the write may already have put it back.
    pub fn wal_again(&self) -> Result<()> {
        busy::retried(|| self.conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())))?;
        Ok(())
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Sets the page cache (in KiB) and returns the setting it replaced, to put back afterwards.
pub fn set_cache_kib(conn: &Connection, kib: i64) -> Result<i64> {
    let before: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -kib)?;
    Ok(if before < 0 { -before } else { before * 4 })
}

/// SQLite's default: a commit copies the WAL back into the database once it holds 1,000 pages.
pub const CHECKPOINT_PAGES: i64 = 1000;

/// Commits copy the WAL back into the database once it holds `pages` (0: never). Set back to
/// `CHECKPOINT_PAGES`, what piled up is copied back now, as far as no reader needs it.
pub fn checkpoint_after(conn: &Connection, pages: i64) -> Result<()> {
    conn.pragma_update(None, "wal_autocheckpoint", pages)?;
    if pages == CHECKPOINT_PAGES {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    }
    Ok(())
}

/// The answer for something `viewer` may not see or that does not exist. A partner gets the same
/// answer for both, and it names only what they asked for, so scanning IDs tells them nothing.
pub(crate) fn hidden(viewer: &crate::domain::User, what: &str) -> StoreError {
    if viewer.role.is_partner() {
        StoreError::Denied(format!("{} has no {what}", viewer.login))
    } else {
        StoreError::NotFound(what.to_string())
    }
}

/// Reads a text column holding one word of a closed vocabulary (a role, a status …).
pub(crate) fn word<T: std::str::FromStr<Err = String>>(row: &rusqlite::Row, column: usize) -> rusqlite::Result<T> {
    let text = row.get_ref(column)?.as_str()?;
    text.parse()
        .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into()))
}

/// Creates a new file only its owner may read, never through a link (under setuid a caller must
/// not aim muster's rights at a file of their choosing).
/// Rows whose first column is a login (or other short text), grouped by it with what `value`
/// reads from each row (`None`: leave the row out). Reports read a million rows for a few hundred
/// people: each login is allocated once, not once a row.
pub(crate) fn grouped_by_first_column<T>(
    mut rows: rusqlite::Rows<'_>,
    mut value: impl FnMut(&Row) -> rusqlite::Result<Option<T>>,
) -> Result<std::collections::BTreeMap<String, Vec<T>>> {
    let mut groups: std::collections::BTreeMap<String, Vec<T>> = Default::default();
    while let Some(row) = rows.next()? {
        let Some(item) = value(row)? else { continue };
        let key = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        match groups.get_mut(key) {
            Some(list) => list.push(item),
            None => {
                groups.insert(key.to_string(), vec![item]);
            }
        }
    }
    Ok(groups)
}

pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)
}

/// Removes a database file that was being made and failed, with what SQLite and the audit key
/// keep beside it, so the next attempt starts from nothing rather than from half a file (or a
/// stale WAL laid over a new one).
pub fn remove_unfinished(path: &Path) {
    let beside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    for leftover in [path.to_path_buf(), audit::key_path(path), beside("-wal"), beside("-shm")] {
        let _ = std::fs::remove_file(leftover);
    }
}

fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let io_err = |source| StoreError::Io { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_err)?;
    }
    create_private(path).map_err(io_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "It can take a minute" is said for the updates that build an index over a table that
    /// grows with the years, and only for them.
    #[test]
    fn the_updates_said_to_be_slow_are_those_that_index_a_large_table() {
        let large = ["attendance", "login_events", "alerts", "alert_events"];
        for (index, sql) in MIGRATION_FILES.iter().enumerate().skip(1) {
            let version = index + 1;
            // A version that replaces a table builds that table's indexes afresh.
            let indexes_large = large.iter().any(|table| sql.contains(&format!(" ON {table}(")))
                || TABLE_REPLACING_VERSIONS.contains(&version);
            assert_eq!(indexes_large, REBUILDING_VERSIONS.contains(&version), "version {version}");
        }
        assert!(update_rebuilds(12) && update_rebuilds(1));
        assert!(!update_rebuilds(SCHEMA_VERSION), "nothing is pending on an up-to-date file");
    }

    /// The console or the daemon keeps the file open for days: a large write's WAL must not
    /// stay on disk at its size for as long.
    #[test]
    fn the_wal_goes_back_to_its_limit_after_a_larger_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let store = Store::open(&path, OpenMode::CreateIfMissing).unwrap();
        let pages = (WAL_KEPT_BYTES / 4096) * 5 / 4;
        store
            .conn()
            .execute_batch(&format!(
                "CREATE TABLE scratch (b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {pages})
                 INSERT INTO scratch SELECT zeroblob(4000) FROM n;"
            ))
            .unwrap();
        let wal = || std::fs::metadata(dir.path().join("w.db-wal")).unwrap().len();
        assert!(wal() > WAL_KEPT_BYTES as u64, "the write passed the limit: {}", wal());
        store.conn().execute_batch("DELETE FROM scratch WHERE rowid = 1").unwrap();
        assert!(wal() <= WAL_KEPT_BYTES as u64, "{} bytes left", wal());
    }

    #[test]
    fn every_migration_applies_to_an_empty_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/m.db");
        let store = Store::open(&path, OpenMode::CreateIfMissing).unwrap();
        let version: i64 = store.conn().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version as usize, SCHEMA_VERSION);
        MIGRATIONS.validate().unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_database_from_schema_4_keeps_its_alerts_through_every_later_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            MIGRATIONS.to_version(&mut conn, 4).unwrap();
            conn.execute_batch(
                "INSERT INTO students (student_id, first_name, last_name) VALUES ('S1', 'A', 'B');
                 INSERT INTO alerts (type, severity, status, student, count, opened_at, updated_at, resolved_severity)
                 VALUES ('no_login', 'critical', 'resolved', 1, 7, '2026-01-02T06:30:00Z', '2026-01-02T06:30:00Z',
                         'critical');",
            )
            .unwrap();
        }
        let store = Store::open(&path, OpenMode::Existing).unwrap();
        let conn = store.conn();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version as usize, SCHEMA_VERSION);
        let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
        let kept: (i64, i64, String) = conn
            .query_row("SELECT severity, count, datetime(opened_at, 'unixepoch') FROM alerts", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(kept, (3, 7, "2026-01-02 06:30:00".to_string()), "critical, as a number");
        // The person-resolved alert is in the new partial streak index, which the job reads.
        let resolved: i64 = conn
            .query_row(
                "SELECT count(*) FROM alerts INDEXED BY alerts_streak WHERE type = 2 AND resolved_severity IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(resolved, 1);
        assert!(conn.execute("UPDATE alerts SET status = 'gone'", []).is_err(), "the CHECK still holds");
        assert!(conn.execute("UPDATE alerts SET status = 5", []).is_err(), "the CHECK still holds");
    }

    #[test]
    fn a_missing_file_is_not_created_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.db");
        assert!(matches!(Store::open(&path, OpenMode::Existing), Err(StoreError::Missing(_))));
        assert!(!path.exists());
    }
}
