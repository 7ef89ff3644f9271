//! Staging for large imports (attendance and logins). The file is read and checked row by row
//! into a temporary table of this connection — on disk, private to the process, taking no lock
//! on the database — so memory stays flat however long the file is. Rows are appended in file
//! order (no b-tree to keep sorted while reading), then one index sorts them by key (SQLite's
//! external sort, in bounded memory), which also finds repeated keys. Only when every row is
//! good is the staged table copied into the real one, in key order, in the one short
//! transaction that holds the write lock.
//!
//! An attendance row's key packs (student, program, day) into one integer — student key in the
//! high 32 bits, program key in the next 16, days since 1970 in the low 16 — so the staged table
//! is a plain rowid b-tree and the copy reads it in the real table's key order.

use super::{Result, StoreError};
use chrono::NaiveDate;
use rusqlite::{Connection, params};

/// Staged rows are written in batches, each its own transaction on the temporary database.
const BATCH: usize = 50_000;
/// The temporary database's page cache, in KiB, which also bounds what the sort holds in memory.
const STAGE_CACHE_KIB: i64 = -8_192;

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");

/// The packed key of an attendance row, or why it cannot be packed.
pub fn attendance_key(student: i64, program: i64, date: NaiveDate) -> std::result::Result<i64, String> {
    let day = (date - EPOCH).num_days();
    if !(0..=0xFFFF).contains(&day) {
        return Err(format!("{date} is outside 1970 to 2149"));
    }
    if !(0..=0x7FFF_FFFF).contains(&student) || !(0..=0xFFFF).contains(&program) {
        return Err("too many students or programs for one import".into());
    }
    Ok((student << 32) | (program << 16) | day)
}

/// Which table a staging run fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staged {
    Attendance,
    Logins,
}

impl Staged {
    fn table(self) -> &'static str {
        match self {
            Staged::Attendance => "temp.stage_attendance",
            Staged::Logins => "temp.stage_logins",
        }
    }
}

/// Rows being staged; the temporary table is dropped when this is dropped without `keep`.
pub struct Stager<'c> {
    conn: &'c Connection,
    kind: Staged,
    in_batch: usize,
    pub rows: usize,
    /// Set by `finish`: the staged rows stay for the copy.
    kept: bool,
}

impl<'c> Stager<'c> {
    pub fn start(conn: &'c Connection, kind: Staged) -> Result<Stager<'c>> {
        conn.pragma_update(Some("temp"), "cache_size", STAGE_CACHE_KIB)?;
        conn.execute_batch(match kind {
            Staged::Attendance => {
                "DROP TABLE IF EXISTS temp.stage_attendance;
                 CREATE TEMP TABLE stage_attendance (k INTEGER NOT NULL, status TEXT NOT NULL, hours REAL, line INTEGER NOT NULL);"
            }
            Staged::Logins => {
                "DROP TABLE IF EXISTS temp.stage_logins;
                 CREATE TEMP TABLE stage_logins (student INTEGER NOT NULL, at INTEGER NOT NULL, line INTEGER NOT NULL);"
            }
        })?;
        Ok(Stager { conn, kind, in_batch: 0, rows: 0, kept: false })
    }

    fn before_row(&mut self) -> Result<()> {
        if self.in_batch == 0 {
            self.conn.execute_batch("BEGIN")?;
        }
        self.in_batch += 1;
        Ok(())
    }

    fn after_row(&mut self) -> Result<()> {
        if self.in_batch >= BATCH {
            self.conn.execute_batch("COMMIT")?;
            self.in_batch = 0;
        }
        Ok(())
    }

    /// Stages one attendance row.
    pub fn attendance(&mut self, key: i64, status: &str, hours: Option<f64>, line: u64) -> Result<()> {
        self.before_row()?;
        let mut insert = self
            .conn
            .prepare_cached("INSERT INTO temp.stage_attendance (k, status, hours, line) VALUES (?1, ?2, ?3, ?4)")?;
        insert.execute(params![key, status, hours, line as i64])?;
        self.rows += 1;
        self.after_row()
    }

    /// Stages one login (`at` in Unix seconds).
    pub fn login(&mut self, student: i64, at: i64, line: u64) -> Result<()> {
        self.before_row()?;
        let mut insert =
            self.conn.prepare_cached("INSERT INTO temp.stage_logins (student, at, line) VALUES (?1, ?2, ?3)")?;
        insert.execute(params![student, at, line as i64])?;
        self.rows += 1;
        self.after_row()
    }

    /// Sorts what was staged by key and returns the keys given more than once, as (line of the
    /// first, line of the last) — at most `limit` of them.
    pub fn repeats(&mut self, limit: usize) -> Result<Vec<(u64, u64)>> {
        if self.in_batch > 0 {
            self.conn.execute_batch("COMMIT")?;
            self.in_batch = 0;
        }
        // A covering index: the copy then reads rows in key order from the index alone.
        let (index, repeats) = match self.kind {
            Staged::Attendance => (
                "CREATE INDEX temp.stage_attendance_k ON stage_attendance (k, status, hours, line)",
                "SELECT min(line), max(line) FROM temp.stage_attendance GROUP BY k HAVING count(*) > 1 LIMIT ?1",
            ),
            Staged::Logins => (
                "CREATE INDEX temp.stage_logins_k ON stage_logins (student, at, line)",
                "SELECT min(line), max(line) FROM temp.stage_logins GROUP BY student, at HAVING count(*) > 1 LIMIT ?1",
            ),
        };
        self.conn.execute_batch(index)?;
        let mut stmt = self.conn.prepare(repeats)?;
        let found = stmt
            .query_map([limit as i64], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(found)
    }

    /// Ends staging; the rows stay for [`copy_attendance`] / [`copy_logins`] until [`discard`].
    pub fn finish(mut self) -> Result<usize> {
        if self.in_batch > 0 {
            self.conn.execute_batch("COMMIT")?;
            self.in_batch = 0;
        }
        self.kept = true;
        Ok(self.rows)
    }
}

impl Drop for Stager<'_> {
    fn drop(&mut self) {
        // Dropped before `finish` (a problem or an error): nothing staged is kept.
        if !self.kept {
            if self.in_batch > 0 {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            let _ = discard(self.conn, self.kind);
        }
    }
}

/// Drops a staged table.
pub fn discard(conn: &Connection, kind: Staged) -> Result<()> {
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", kind.table()))?;
    Ok(())
}

fn require_staged(conn: &Connection, kind: Staged) -> Result<()> {
    let name = kind.table().trim_start_matches("temp.");
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_temp_master WHERE type = 'table' AND name = ?1)",
        [name],
        |r| r.get(0),
    )?;
    if exists {
        Ok(())
    } else {
        Err(StoreError::NotFound("staged rows for this import (a staged import runs where it was read)".into()))
    }
}

/// Copies staged attendance into the real table in key order. A changed status or hours sends
/// a record back to `pending`; an identical one changes nothing. Returns the rows changed.
pub fn copy_attendance(
    conn: &Connection,
    logged_by: &str,
    logged_by_person: Option<&str>,
    logged_at: &str,
) -> Result<usize> {
    require_staged(conn, Staged::Attendance)?;
    let changed = conn.execute(
        "INSERT INTO attendance (student, program, date, status, hours, logged_by, logged_at, logged_by_person)
         SELECT k >> 32, (k >> 16) & 65535, date((k & 65535) * 86400, 'unixepoch'), status, hours, ?1, ?2, ?3
           FROM temp.stage_attendance INDEXED BY stage_attendance_k WHERE true ORDER BY k
         ON CONFLICT (student, program, date) DO UPDATE SET
             status = excluded.status, hours = excluded.hours,
             logged_by = excluded.logged_by, logged_at = excluded.logged_at,
             logged_by_person = excluded.logged_by_person,
             verification = 'pending', verified_by = NULL, verified_at = NULL, reason = NULL
         WHERE status IS NOT excluded.status OR hours IS NOT excluded.hours",
        params![logged_by, logged_at, logged_by_person],
    )?;
    Ok(changed)
}

/// The (student, program) pairs staged, each with whether all its staged days are `present`.
pub fn staged_attendance_pairs(conn: &Connection) -> Result<Vec<(i64, i64, bool)>> {
    // Read in key order from the covering index and grouped here: SQLite would sort every row
    // again to group by an expression of the key.
    let mut stmt = conn.prepare(
        "SELECT k >> 16, status = 'present' FROM temp.stage_attendance INDEXED BY stage_attendance_k
          WHERE true ORDER BY k",
    )?;
    let mut rows = stmt.query([])?;
    let mut pairs: Vec<(i64, i64, bool)> = Vec::new();
    let mut last = None;
    while let Some(row) = rows.next()? {
        let (pair, present): (i64, bool) = (row.get(0)?, row.get(1)?);
        match pairs.last_mut() {
            Some(current) if last == Some(pair) => current.2 &= present,
            _ => pairs.push((pair >> 16, pair & 0xFFFF, present)),
        }
        last = Some(pair);
    }
    Ok(pairs)
}

/// Copies staged logins into the real table in key order; a login already there is kept.
pub fn copy_logins(conn: &Connection) -> Result<usize> {
    require_staged(conn, Staged::Logins)?;
    let changed = conn.execute(
        "INSERT INTO login_events (student, at)
         SELECT student, strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch') FROM temp.stage_logins
          INDEXED BY stage_logins_k WHERE true ORDER BY student, at
         ON CONFLICT DO NOTHING",
        [],
    )?;
    Ok(changed)
}

pub fn staged_login_students(conn: &Connection) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT DISTINCT student FROM temp.stage_logins ORDER BY student")?;
    let students = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(students)
}
