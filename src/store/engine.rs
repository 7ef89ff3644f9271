//! What the alert rules read: program calendars, active enrollments, a day's attendance marks,
//! an enrollment's records walking back from a day, and logins.

use super::Result;
use super::days::{self, bound};
use super::ids::{IdMap, IdSet};
use crate::domain::alerts::DayMark;
use crate::domain::calendar::ProgramCalendar;
use crate::domain::{AttendanceStatus, Verification};
use chrono::NaiveDate;
use rusqlite::types::Type;
use rusqlite::{Connection, Row, params};
use std::collections::{HashMap, HashSet};

/// The mark of a row holding `status, verification` from column `first`.
fn mark_from(row: &Row, first: usize) -> rusqlite::Result<DayMark> {
    let status: AttendanceStatus = super::word(row, first)?;
    let verification: Verification = super::word(row, first + 1)?;
    Ok(DayMark::of(status, verification))
}

/// One program's calendar, if the program exists.
pub fn program_calendar(conn: &Connection, program: i64) -> Result<Option<ProgramCalendar>> {
    let mut stmt = conn.prepare_cached("SELECT date FROM program_closures WHERE program = ?1")?;
    let closures = stmt.query_map([program], |r| r.get(0))?.collect::<rusqlite::Result<HashSet<NaiveDate>>>()?;
    let mut stmt = conn.prepare_cached("SELECT schedule, start_date, end_date FROM programs WHERE id = ?1")?;
    let mut rows = stmt.query([program])?;
    let Some(r) = rows.next()? else { return Ok(None) };
    Ok(Some(ProgramCalendar { schedule: super::word(r, 0)?, start: r.get(1)?, end: r.get(2)?, closures }))
}

pub fn program_calendars(conn: &Connection) -> Result<HashMap<i64, ProgramCalendar>> {
    let mut closures: HashMap<i64, HashSet<NaiveDate>> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT program, date FROM program_closures")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        closures.entry(row.get(0)?).or_default().insert(row.get(1)?);
    }
    let mut stmt = conn.prepare_cached("SELECT id, schedule, start_date, end_date FROM programs")?;
    let calendars = stmt
        .query_map([], |r| {
            let id: i64 = r.get(0)?;
            Ok((
                id,
                ProgramCalendar {
                    schedule: super::word(r, 1)?,
                    start: r.get(2)?,
                    end: r.get(3)?,
                    closures: closures.get(&id).cloned().unwrap_or_default(),
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(calendars)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveEnrollment {
    pub id: i64,
    pub student: i64,
    pub program: i64,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl ActiveEnrollment {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.start <= day && self.end.is_none_or(|end| day <= end)
    }
}

const ENROLLMENT_SELECT: &str =
    "SELECT id, student, program, start_date, end_date FROM enrollments WHERE status = 'active'";

fn enrollment_from(r: &Row) -> rusqlite::Result<ActiveEnrollment> {
    Ok(ActiveEnrollment {
        id: r.get(0)?,
        student: r.get(1)?,
        program: r.get(2)?,
        start: days::get(r, 3)?,
        end: days::get_opt(r, 4)?,
    })
}

/// Every active enrollment, in student order.
pub fn active_enrollments(conn: &Connection) -> Result<Vec<ActiveEnrollment>> {
    let mut stmt = conn.prepare_cached(&format!("{ENROLLMENT_SELECT} ORDER BY student, start_date"))?;
    Ok(stmt.query_map([], enrollment_from)?.collect::<rusqlite::Result<_>>()?)
}

pub fn active_enrollments_of(conn: &Connection, student: i64) -> Result<Vec<ActiveEnrollment>> {
    let mut stmt = conn.prepare_cached(&format!("{ENROLLMENT_SELECT} AND student = ?1 ORDER BY start_date"))?;
    Ok(stmt.query_map([student], enrollment_from)?.collect::<rusqlite::Result<_>>()?)
}

/// How every (student, program) with a record on `day` counts that day.
pub fn marks_on(conn: &Connection, day: NaiveDate) -> Result<IdMap<(i64, i64), DayMark>> {
    let mut stmt =
        conn.prepare_cached("SELECT student, program, status, verification FROM attendance WHERE date = ?1")?;
    let marks = stmt
        .query_map([bound(day)], |r| Ok(((r.get(0)?, r.get(1)?), mark_from(r, 2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(marks)
}

/// The (student, program) pairs whose record on `day` counts as present (`DayMark::Present`):
/// one pass over the day's part of the date index, instead of a lookup per enrollment.
pub fn present_on(conn: &Connection, day: NaiveDate) -> Result<IdSet<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT student, program FROM attendance
          WHERE date = ?1 AND status = 'present' AND verification <> 'rejected'",
    )?;
    let present = stmt.query_map([bound(day)], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(present)
}

/// Hands `walk` the marks of one student in one program on or before `day`, newest first, read
/// lazily so a walk that stops at yesterday reads one or two rows.
pub fn walk_back<T>(
    conn: &Connection,
    student: i64,
    program: i64,
    day: NaiveDate,
    walk: impl FnOnce(&mut dyn Iterator<Item = (NaiveDate, DayMark)>) -> T,
) -> Result<T> {
    let mut stmt = conn.prepare_cached(
        "SELECT date, status, verification FROM attendance
          WHERE student = ?1 AND program = ?2 AND date <= ?3 ORDER BY date DESC",
    )?;
    let mut rows = stmt.query(params![student, program, bound(day)])?;
    let mut failure = None;
    let mut marks = std::iter::from_fn(|| {
        let row = match rows.next() {
            Ok(row) => row?,
            Err(e) => {
                failure = Some(e);
                return None;
            }
        };
        match days::get(row, 0).and_then(|date| Ok((date, mark_from(row, 1)?))) {
            Ok(mark) => Some(mark),
            Err(e) => {
                failure = Some(e);
                None
            }
        }
    });
    let result = walk(&mut marks);
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(result),
    }
}

/// For each student with a login at or after the first of `starts` and before `until` (RFC 3339
/// UTC instants, the form logins are stored in, which sorts by time; `starts` in ascending
/// order, a day's start each): the index in `starts` of the day of their latest such login.
pub fn latest_login_day(conn: &Connection, starts: &[String], until: &str) -> Result<IdMap<i64, usize>> {
    let Some(first) = starts.first() else { return Ok(IdMap::default()) };
    let mut stmt = conn.prepare_cached("SELECT student, at FROM login_events WHERE at >= ?1 AND at < ?2")?;
    let mut rows = stmt.query([first.as_str(), until])?;
    let mut latest = IdMap::default();
    while let Some(row) = rows.next()? {
        let at =
            row.get_ref(1)?.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, Type::Text, e.into()))?;
        let day = starts.partition_point(|start| start.as_str() <= at) - 1;
        let known = latest.entry(row.get(0)?).or_insert(day);
        *known = day.max(*known);
    }
    Ok(latest)
}

/// The students with a login at or after `since` and before `until`.
pub fn logged_in_between(conn: &Connection, since: &str, until: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT student FROM login_events WHERE at >= ?1 AND at < ?2")?;
    Ok(stmt.query_map([since, until], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// The student's last login before `until` (an RFC 3339 UTC instant), as stored.
pub fn last_login_before(conn: &Connection, student: i64, until: &str) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT max(at) FROM login_events WHERE student = ?1 AND at < ?2")?;
    Ok(stmt.query_row(params![student, until], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OpenMode, Store};

    /// Each student's latest login day among the days asked about, whatever order the logins
    /// were written in; a login before the first day or at `until` is not counted.
    #[test]
    fn a_students_latest_login_day_is_their_last_login_in_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        conn.execute_batch("INSERT INTO students (id, student_id, first_name, last_name) VALUES (1, 'S1', 'A', 'B'), (2, 'S2', 'C', 'D'), (3, 'S3', 'E', 'F'), (4, 'S4', 'G', 'H');").unwrap();
        for (student, at) in [
            (1, "2026-01-07T09:00:00Z"),
            (2, "2026-01-05T23:59:59Z"),
            (1, "2026-01-05T08:00:00Z"),
            (2, "2026-01-04T12:00:00Z"),
            (1, "2026-01-06T08:00:00Z"),
            (3, "2026-01-04T23:59:59Z"),
            (3, "2026-01-08T00:00:00Z"),
            (4, "2026-01-06T00:00:00Z"),
        ] {
            conn.execute("INSERT INTO login_events (student, at) VALUES (?1, ?2)", params![student, at]).unwrap();
        }
        let starts: Vec<String> =
            ["2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z"].map(String::from).to_vec();
        let latest = latest_login_day(conn, &starts, "2026-01-08T00:00:00Z").unwrap();
        let mut got: Vec<(i64, usize)> = latest.into_iter().collect();
        got.sort_unstable();
        assert_eq!(got, [(1, 2), (2, 0), (4, 1)]);
    }
}
