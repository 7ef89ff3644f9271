//! What students did: attendance records and login events.

use super::Result;
use rusqlite::{Connection, params};

/// Page cache for bulk loads, in KiB (negative: SQLite's unit for a size rather than pages).
const BULK_CACHE_KIB: i64 = -65_536;
/// SQLite's default page cache.
const DEFAULT_CACHE_KIB: i64 = -2_000;

/// Runs `load`, which writes many attendance rows and logins, with the by-date indexes set aside
/// and rebuilt once afterwards (a sort is several times cheaper than millions of scattered index
/// inserts) and a larger page cache. Call inside the transaction that does the writing.
pub fn bulk_load<T, E: From<rusqlite::Error>>(conn: &Connection, load: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    conn.pragma_update(None, "cache_size", BULK_CACHE_KIB)?;
    conn.execute_batch("DROP INDEX attendance_date; DROP INDEX login_events_at;")?;
    let loaded = load()?;
    conn.execute_batch(
        "CREATE INDEX attendance_date ON attendance(date); CREATE INDEX login_events_at ON login_events(at);",
    )?;
    conn.pragma_update(None, "cache_size", DEFAULT_CACHE_KIB)?;
    Ok(loaded)
}

pub struct AttendanceRecord<'a> {
    pub student: i64,
    pub program: i64,
    pub date: &'a str,
    pub status: &'a str,
    pub hours: Option<f64>,
    pub note: Option<&'a str>,
    pub logged_by: &'a str,
    pub logged_at: &'a str,
}

/// Writes the record for (student, program, date). A changed status or hours sends the record
/// back to `pending`; an identical one changes nothing. Returns whether anything changed.
pub fn upsert_attendance(conn: &Connection, a: &AttendanceRecord) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO attendance (student, program, date, status, hours, logged_by, logged_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (student, program, date) DO UPDATE SET
             status = excluded.status, hours = excluded.hours,
             logged_by = excluded.logged_by, logged_at = excluded.logged_at,
             verification = 'pending', verified_by = NULL, verified_at = NULL, reason = NULL
         WHERE status IS NOT excluded.status OR hours IS NOT excluded.hours",
    )?;
    let changed = stmt.execute(params![a.student, a.program, a.date, a.status, a.hours, a.logged_by, a.logged_at])?;
    Ok(changed > 0)
}

/// The record for (student, program, date) as it stands: status, hours, verification.
pub fn attendance_on(
    conn: &Connection,
    student: i64,
    program: i64,
    date: chrono::NaiveDate,
) -> Result<Option<(String, Option<f64>, String)>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT status, hours, verification FROM attendance WHERE student = ?1 AND program = ?2 AND date = ?3",
            params![student, program, date],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}

/// Records a login; the same student and instant twice is one login.
pub fn insert_login(conn: &Connection, student: i64, at: &str) -> Result<bool> {
    let mut stmt =
        conn.prepare_cached("INSERT INTO login_events (student, at) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?;
    Ok(stmt.execute(params![student, at])? > 0)
}

/// A record carried over from earlier, with its verification already decided (demo history).
pub struct SettledAttendance<'a> {
    pub record: AttendanceRecord<'a>,
    pub verification: &'a str,
    pub verified_by: Option<&'a str>,
    pub verified_at: Option<&'a str>,
    pub reason: Option<&'a str>,
}

pub fn insert_settled_attendance(conn: &Connection, s: &SettledAttendance) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO attendance (student, program, date, status, hours, note, logged_by, logged_at,
                                 verification, verified_by, verified_at, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let a = &s.record;
    stmt.execute(params![
        a.student,
        a.program,
        a.date,
        a.status,
        a.hours,
        a.note,
        a.logged_by,
        a.logged_at,
        s.verification,
        s.verified_by,
        s.verified_at,
        s.reason
    ])?;
    Ok(())
}
