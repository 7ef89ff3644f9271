//! What students did: attendance records and login events.

use super::Cached;
use super::Result;
use rusqlite::{Connection, params};

/// Page cache for bulk loads, in KiB (negative: SQLite's unit for a size rather than pages).
const BULK_CACHE_KIB: i64 = -65_536;
/// SQLite's default page cache.
const DEFAULT_CACHE_KIB: i64 = -2_000;

/// The by-date indexes a bulk load sets aside: which tables it writes many rows into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bulk {
    pub attendance: bool,
    pub logins: bool,
}

impl Bulk {
    pub const ATTENDANCE: Bulk = Bulk { attendance: true, logins: false };
    pub const LOGINS: Bulk = Bulk { attendance: false, logins: true };
    pub const BOTH: Bulk = Bulk { attendance: true, logins: true };

    /// Whether setting the index aside pays for `rows` more in a table of `existing`: the
    /// rebuild sorts every row of the table, the new rows' entries would be scattered inserts.
    /// Rebuilding for a quarter or more of the table's size errs on the side of inserting.
    pub fn pays(rows: usize, existing: i64) -> bool {
        (rows as i64).saturating_mul(4) >= existing
    }
}

/// Runs `load`, which writes many attendance rows or logins, with the by-date index of each
/// table in `bulk` set aside and rebuilt once afterwards (a sort is several times cheaper than
/// millions of scattered index inserts) and a larger page cache. Call inside the transaction
/// that does the writing. Each index is rebuilt from its own definition as the schema holds it.
pub fn bulk_load<T, E: From<rusqlite::Error>>(
    conn: &Connection,
    bulk: Bulk,
    load: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    conn.pragma_update(None, "cache_size", BULK_CACHE_KIB)?;
    let set_aside: Vec<&str> = [(bulk.attendance, "attendance_day"), (bulk.logins, "login_events_at")]
        .into_iter()
        .filter_map(|(chosen, index)| chosen.then_some(index))
        .collect();
    let mut definitions = Vec::new();
    for index in &set_aside {
        let sql: String =
            conn.query_row("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1", [index], |r| r.get(0))?;
        conn.execute_batch(&format!("DROP INDEX {index}"))?;
        definitions.push(sql);
    }
    let loaded = load()?;
    // The rebuild's sort may use the machine's other cores.
    let helpers = std::thread::available_parallelism().map_or(0, |n| n.get().min(4) - 1);
    conn.pragma_update(None, "threads", helpers as i64)?;
    for sql in &definitions {
        conn.execute_batch(sql)?;
    }
    conn.pragma_update(None, "threads", 0)?;
    conn.pragma_update(None, "cache_size", DEFAULT_CACHE_KIB)?;
    Ok(loaded)
}

/// How many rows a table holds, for deciding whether a load is a bulk one.
pub fn rows_in(conn: &Connection, bulk: Bulk) -> Result<i64> {
    let sql =
        if bulk.attendance { "SELECT ifnull(max(id), 0) FROM attendance" } else { "SELECT count(*) FROM login_events" };
    Ok(conn.query_row(sql, [], |r| r.get(0))?)
}

pub struct AttendanceRecord<'a> {
    pub student: i64,
    pub program: i64,
    pub date: &'a str,
    pub status: &'a str,
    pub hours: Option<f64>,
    pub note: Option<&'a str>,
    pub logged_by: &'a str,
    /// The person at the keyboard when that differs from `logged_by` (an admin's `--as`).
    pub logged_by_person: Option<&'a str>,
    pub logged_at: &'a str,
}

const ATTENDANCE_COLUMNS: &str = "(student, program, date, status, hours, logged_by, logged_at, logged_by_person)";
const ATTENDANCE_UPSERT: &str = "ON CONFLICT (student, program, date) DO UPDATE SET
         status = excluded.status, hours = excluded.hours,
         logged_by = excluded.logged_by, logged_at = excluded.logged_at,
         logged_by_person = excluded.logged_by_person,
         verification = 'pending', verified_by = NULL, verified_at = NULL, reason = NULL
     WHERE status IS NOT excluded.status OR hours IS NOT excluded.hours";

/// A bulk load's statement: one INSERT of many rows at a time, so the cost of running a
/// statement is paid once per hundred rows, not per row. Told the number of rows up front, it
/// sizes its last statement to what is left.
pub struct BatchedInsert<'c> {
    conn: &'c Connection,
    kind: BatchedKind,
    /// Values every row shares, bound once per statement.
    shared: Vec<rusqlite::types::Value>,
    statement: Option<rusqlite::CachedStatement<'c>>,
    /// Rows the current statement takes, and how many of them are bound.
    capacity: usize,
    bound: usize,
    left: usize,
    changed: usize,
}

/// What a [`BatchedInsert`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchedKind {
    /// Attendance as [`upsert_attendance`] writes it (without `resubmit`). Shared: logged_by,
    /// logged_at, logged_by_person; each row: student, program, date, status, hours.
    Attendance,
    /// Logins as [`insert_login`] writes them. Each row: student, at.
    Logins,
}

const ROWS_PER_INSERT: usize = 100;

impl BatchedKind {
    /// (values shared by every row, values of each row)
    fn arity(self) -> (usize, usize) {
        match self {
            BatchedKind::Attendance => (3, 5),
            BatchedKind::Logins => (0, 2),
        }
    }

    fn sql(self, rows: usize) -> String {
        let (shared, own) = self.arity();
        let values: Vec<String> = (0..rows)
            .map(|row| {
                let first = shared + row * own + 1;
                let mut placeholders: Vec<String> = (first..first + own).map(|n| format!("?{n}")).collect();
                placeholders.extend((1..=shared).map(|n| format!("?{n}")));
                format!("({})", placeholders.join(", "))
            })
            .collect();
        let values = values.join(", ");
        match self {
            BatchedKind::Attendance => {
                format!("INSERT INTO attendance {ATTENDANCE_COLUMNS} VALUES {values} {ATTENDANCE_UPSERT}")
            }
            BatchedKind::Logins => {
                format!("INSERT INTO login_events (student, at) VALUES {values} ON CONFLICT DO NOTHING")
            }
        }
    }
}

impl<'c> BatchedInsert<'c> {
    pub fn new(
        conn: &'c Connection,
        kind: BatchedKind,
        rows: usize,
        shared: Vec<rusqlite::types::Value>,
    ) -> BatchedInsert<'c> {
        debug_assert_eq!(shared.len(), kind.arity().0);
        BatchedInsert { conn, kind, shared, statement: None, capacity: 0, bound: 0, left: rows, changed: 0 }
    }

    /// Adds one row: as many values as the kind's rows have.
    pub fn row(&mut self, values: &[&dyn rusqlite::ToSql]) -> Result<()> {
        let (shared, own) = self.kind.arity();
        debug_assert_eq!(values.len(), own);
        if self.left == 0 {
            return Err(rusqlite::Error::InvalidParameterCount(self.bound + 1, self.bound).into());
        }
        let statement = match &mut self.statement {
            Some(statement) => statement,
            None => {
                self.capacity = self.left.min(ROWS_PER_INSERT);
                let statement = self.statement.insert(self.conn.prepare_cached(&self.kind.sql(self.capacity))?);
                for (i, value) in self.shared.iter().enumerate() {
                    statement.raw_bind_parameter(i + 1, value)?;
                }
                statement
            }
        };
        let first = shared + self.bound * own + 1;
        for (i, value) in values.iter().enumerate() {
            statement.raw_bind_parameter(first + i, value)?;
        }
        self.bound += 1;
        self.left -= 1;
        if self.bound == self.capacity {
            self.changed += statement.raw_execute()?;
            self.bound = 0;
            // The last rows need a statement of their own size.
            if self.left < self.capacity {
                self.statement = None;
            }
        }
        Ok(())
    }

    /// How many rows changed anything. Every row announced must have been given.
    pub fn finish(self) -> Result<usize> {
        if self.left > 0 {
            return Err(rusqlite::Error::InvalidParameterCount(0, self.left).into());
        }
        Ok(self.changed)
    }
}

/// Writes the record for (student, program, date). A changed status or hours sends the record
/// back to `pending`; an identical one changes nothing — except that with `resubmit` a person
/// logging a rejected day again, even unchanged, sends it back for another look. Returns
/// whether anything changed.
pub fn upsert_attendance(conn: &Connection, a: &AttendanceRecord, resubmit: bool) -> Result<bool> {
    // Built once: a whole-file import or a device's push writes row after row through here.
    static UPSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "INSERT INTO attendance {ATTENDANCE_COLUMNS} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             {ATTENDANCE_UPSERT} OR (?9 AND verification = 'rejected')"
        )
    });
    let mut stmt = conn.prepare_cached(&UPSERT)?;
    let changed = stmt.execute(params![
        a.student,
        a.program,
        a.date,
        a.status,
        a.hours,
        a.logged_by,
        a.logged_at,
        a.logged_by_person,
        resubmit
    ])?;
    Ok(changed > 0)
}

/// The record for (student, program, date) as it stands: status, hours, verification.
/// A logged day as taking it back needs it: who logged it and whether it was decided.
pub struct LoggedRecord {
    pub id: i64,
    pub status: String,
    pub hours: Option<f64>,
    pub logged_by: String,
    pub verification: String,
    pub verified_by: Option<String>,
}

pub fn logged_record(
    conn: &Connection,
    student: i64,
    program: i64,
    date: chrono::NaiveDate,
) -> Result<Option<LoggedRecord>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row_cached(
            "SELECT id, status, hours, logged_by, verification, verified_by FROM attendance
              WHERE student = ?1 AND program = ?2 AND date = ?3",
            params![student, program, date],
            |r| {
                Ok(LoggedRecord {
                    id: r.get(0)?,
                    status: r.get(1)?,
                    hours: r.get(2)?,
                    logged_by: r.get(3)?,
                    verification: r.get(4)?,
                    verified_by: r.get(5)?,
                })
            },
        )
        .optional()?)
}

pub fn delete_attendance(conn: &Connection, id: i64) -> Result<()> {
    conn.execute_cached("DELETE FROM attendance WHERE id = ?1", [id])?;
    Ok(())
}

pub fn attendance_on(
    conn: &Connection,
    student: i64,
    program: i64,
    date: chrono::NaiveDate,
) -> Result<Option<(String, Option<f64>, String)>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row_cached(
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

/// An attendance record as people see it (SPEC's attendance fields).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttendanceView {
    pub id: i64,
    pub student_id: String,
    pub student_name: String,
    pub program_id: String,
    pub date: chrono::NaiveDate,
    pub status: String,
    pub hours: Option<f64>,
    pub note: Option<String>,
    pub logged_by: String,
    pub logged_at: String,
    pub verification: String,
    pub verified_by: Option<String>,
    pub verified_at: Option<String>,
    pub reason: Option<String>,
    #[serde(skip)]
    pub logged_by_person: Option<String>,
    #[serde(skip)]
    pub student: i64,
    #[serde(skip)]
    pub program: i64,
}

const ATTENDANCE_VIEW: &str = "
    SELECT a.id, s.student_id, p.program_id, a.date, a.status, a.hours, a.note, a.logged_by, a.logged_at,
           a.verification, a.verified_by, a.verified_at, a.reason, a.student, a.program,
           s.first_name || ' ' || s.last_name, a.logged_by_person
      FROM attendance a JOIN students s ON s.id = a.student JOIN programs p ON p.id = a.program";

fn attendance_view(r: &rusqlite::Row) -> rusqlite::Result<AttendanceView> {
    Ok(AttendanceView {
        id: r.get(0)?,
        student_id: r.get(1)?,
        program_id: r.get(2)?,
        date: r.get(3)?,
        status: r.get(4)?,
        hours: r.get(5)?,
        note: r.get(6)?,
        logged_by: r.get(7)?,
        logged_at: r.get(8)?,
        verification: r.get(9)?,
        verified_by: r.get(10)?,
        verified_at: r.get(11)?,
        reason: r.get(12)?,
        student: r.get(13)?,
        program: r.get(14)?,
        student_name: r.get(15)?,
        logged_by_person: r.get(16)?,
    })
}

/// One record, if `viewer` may see its student.
pub fn attendance_record(conn: &Connection, viewer: &crate::domain::User, id: i64) -> Result<AttendanceView> {
    use rusqlite::OptionalExtension;
    let view = conn
        .query_row_cached(&format!("{ATTENDANCE_VIEW} WHERE a.id = ?1"), [id], attendance_view)
        .optional()?
        .ok_or_else(|| super::hidden(viewer, &format!("attendance record {id}")))?;
    match super::roster::visible_student(conn, viewer, &view.student_id) {
        Err(super::StoreError::Denied(_) | super::StoreError::NotFound(_)) => {
            return Err(super::hidden(viewer, &format!("attendance record {id}")));
        }
        other => other?,
    };
    Ok(view)
}

/// Which records a list shows.
#[derive(Debug, Clone, Default)]
pub struct AttendanceFilter {
    pub pending_only: bool,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub student_id: Option<String>,
}

/// The first `limit` records `viewer` may see, oldest first (the order a queue is worked in).
pub fn list_attendance(
    conn: &Connection,
    viewer: &crate::domain::User,
    filter: &AttendanceFilter,
    limit: usize,
) -> Result<Vec<AttendanceView>> {
    let mut page = Vec::new();
    each_attendance(conn, viewer, filter, limit, |view| {
        page.push(view);
        true
    })?;
    Ok(page)
}

/// Hands `take` the records `viewer` may see, oldest first, at most `limit` of them, one by one
/// as they are read, until it says to stop.
pub fn each_attendance(
    conn: &Connection,
    viewer: &crate::domain::User,
    filter: &AttendanceFilter,
    limit: usize,
    mut take: impl FnMut(AttendanceView) -> bool,
) -> Result<()> {
    // A named student must be one the viewer may see: an empty list would say "nothing logged"
    // where the truth is "not yours" (or "no such student").
    let student = match &filter.student_id {
        Some(student_id) => Some(super::roster::visible_student(conn, viewer, student_id)?),
        None => None,
    };
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    // Only the conditions that apply are written, each as SQLite can use it: a named student's
    // records through the key, a partner's from their students, the pending records through
    // their own index (593,000 of a churn year's 18.3 million) where that is quicker, a week as
    // a range of the by-date index. Written as `?N IS NULL OR …` for every list, each read
    // every record of the year: the churn year's pending records took 190 s (the command line
    // read them 5,000 at a time, each page from the first record), one student's 149 records
    // 4.6 s, a worksite's whole list 8.9 s.
    let mut conditions = Vec::new();
    let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::new();
    if let Some(student) = &student {
        conditions.push("a.student = :student");
        bound.push((":student", student));
    }
    if let Some(scope) = &scope {
        conditions.push("a.student IN (SELECT x.student FROM student_assignments x WHERE x.login = :scope)");
        bound.push((":scope", scope));
    }
    if filter.pending_only {
        conditions.push("a.verification = 'pending'");
    }
    if let Some(from) = &filter.from {
        conditions.push("a.date >= :from");
        bound.push((":from", from));
    }
    if let Some(to) = &filter.to {
        conditions.push("a.date <= :to");
        bound.push((":to", to));
    }
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    bound.push((":limit", &limit));
    let filtered = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let sql = format!("{ATTENDANCE_VIEW} {filtered} ORDER BY a.date, a.id LIMIT :limit");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(bound.as_slice())?;
    while let Some(row) = rows.next()? {
        if !take(attendance_view(row)?) {
            break;
        }
    }
    Ok(())
}

/// Takes a decision back: the record waits for verification again.
pub fn reopen(conn: &Connection, id: i64) -> Result<()> {
    conn.execute_cached(
        "UPDATE attendance SET verification = 'pending', verified_by = NULL, verified_at = NULL, reason = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Records a verifier's decision on a pending record.
pub fn decide(conn: &Connection, id: i64, verification: &str, by: &str, at: &str, reason: Option<&str>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE attendance SET verification = ?2, verified_by = ?3, verified_at = ?4, reason = ?5 WHERE id = ?1",
    )?;
    stmt.execute(params![id, verification, by, at, reason])?;
    Ok(())
}

/// For each verifier, the whole minutes from logging to decision (never below 0) of every
/// decision made on records dated in the range. The minutes are worked out by SQLite, to the
/// millisecond its dates keep, and each verifier's login is allocated once: a month of a large
/// program is over a million decisions. A record whose times do not read as dates is left out.
pub fn decision_waits(
    conn: &Connection,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<std::collections::BTreeMap<String, Vec<i64>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT verified_by,
                max(CAST((unixepoch(verified_at, 'subsec') - unixepoch(logged_at, 'subsec')) / 60 AS INTEGER), 0)
           FROM attendance
          WHERE date BETWEEN ?1 AND ?2 AND verification <> 'pending' AND verified_at IS NOT NULL",
    )?;
    super::grouped_by_first_column(stmt.query(params![from, to])?, |r| r.get(1))
}

/// A student enrolled during a week, as the weekly grid lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekStudent {
    pub student: i64,
    pub student_id: String,
    pub name: String,
    pub program: i64,
    pub program_id: String,
    pub start: chrono::NaiveDate,
    pub end: Option<chrono::NaiveDate>,
}

/// Students `viewer` may see with an active enrollment overlapping `monday..=sunday`, by name.
pub fn week_students(
    conn: &Connection,
    viewer: &crate::domain::User,
    monday: chrono::NaiveDate,
    sunday: chrono::NaiveDate,
    limit: usize,
) -> Result<Vec<WeekStudent>> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.student_id, s.first_name || ' ' || s.last_name, e.program, p.program_id, e.start_date, e.end_date
           FROM enrollments e JOIN students s ON s.id = e.student JOIN programs p ON p.id = e.program
          WHERE e.status = 'active' AND e.start_date <= ?2 AND (e.end_date IS NULL OR e.end_date >= ?1)
            AND (?3 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = s.id AND x.login = ?3))
          ORDER BY s.last_name, s.first_name, s.student_id LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![monday, sunday, scope, limit as i64], |r| {
        Ok(WeekStudent {
            student: r.get(0)?,
            student_id: r.get(1)?,
            name: r.get(2)?,
            program: r.get(3)?,
            program_id: r.get(4)?,
            start: r.get(5)?,
            end: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One logged day in the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct DayEntry {
    pub id: i64,
    pub date: chrono::NaiveDate,
    pub status: String,
    pub hours: Option<f64>,
    pub verification: String,
}

/// What is logged for a student in a program between two dates.
pub fn days_logged(
    conn: &Connection,
    student: i64,
    program: i64,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Vec<DayEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, date, status, hours, verification FROM attendance
          WHERE student = ?1 AND program = ?2 AND date BETWEEN ?3 AND ?4 ORDER BY date",
    )?;
    let rows = stmt.query_map(params![student, program, from, to], |r| {
        Ok(DayEntry { id: r.get(0)?, date: r.get(1)?, status: r.get(2)?, hours: r.get(3)?, verification: r.get(4)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The hours of the student's most recent present day in the program, if any.
pub fn usual_hours(conn: &Connection, student: i64, program: i64) -> Result<Option<f64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT hours FROM attendance WHERE student = ?1 AND program = ?2 AND status = 'present' AND hours IS NOT NULL
          ORDER BY date DESC LIMIT 1",
    )?;
    use rusqlite::OptionalExtension;
    Ok(stmt.query_row(params![student, program], |r| r.get(0)).optional()?)
}

/// When the oldest pending record `viewer` may verify was logged.
/// Counting stops past this many pending records: the screens say "more than" beyond it, and
/// a program with millions waiting is not made to count them on every refresh.
pub const PENDING_COUNT_LIMIT: u64 = 10_000;

/// How many records `viewer` may see wait for verification, up to `PENDING_COUNT_LIMIT` + 1.
pub fn pending_count(conn: &Connection, viewer: &crate::domain::User) -> Result<u64> {
    let limit = PENDING_COUNT_LIMIT as i64 + 1;
    let count: i64 = if viewer.role.is_partner() {
        // From the partner's students, each through the key. Walking the pending records' index
        // and asking of each whose it is took 0.8–2.8 s for a coordinator after a churn year
        // (593,000 pending records): 0.01–0.09 s this way.
        conn.query_row_cached(
            "SELECT count(*) FROM (SELECT 1 FROM attendance a WHERE a.verification = 'pending'
                AND a.student IN (SELECT x.student FROM student_assignments x WHERE x.login = ?1) LIMIT ?2)",
            params![viewer.login, limit],
            |r| r.get(0),
        )?
    } else {
        conn.query_row_cached(
            "SELECT count(*) FROM (SELECT 1 FROM attendance WHERE verification = 'pending' LIMIT ?1)",
            [limit],
            |r| r.get(0),
        )?
    };
    Ok(u64::try_from(count).unwrap_or(0))
}

/// `512`, or `more than 10000` when counting stopped.
pub fn pending_text(count: u64) -> String {
    if count > PENDING_COUNT_LIMIT { format!("more than {PENDING_COUNT_LIMIT}") } else { count.to_string() }
}

pub fn oldest_pending(conn: &Connection, viewer: &crate::domain::User) -> Result<Option<String>> {
    if !viewer.role.is_partner() {
        // Unscoped, min() is one step down the pending index instead of a walk along it.
        let mut stmt = conn.prepare_cached("SELECT min(logged_at) FROM attendance WHERE verification = 'pending'")?;
        return Ok(stmt.query_row([], |r| r.get(0))?);
    }
    // From the partner's students, as `pending_count`: walking the pending index until one of
    // theirs turned up could take seconds for a partner whose pending records are all recent.
    let mut stmt = conn.prepare_cached(
        "SELECT min(a.logged_at) FROM attendance a WHERE a.verification = 'pending'
            AND a.student IN (SELECT x.student FROM student_assignments x WHERE x.login = ?1)",
    )?;
    Ok(stmt.query_row([&viewer.login], |r| r.get(0))?)
}

/// Engagement over one span of instants `[start, end)`: students with an active enrollment
/// meeting `[first, last]` that `viewer` may see, their logins in the span, and how many had not
/// logged in since `quiet_since` by its end.
pub fn engagement(
    conn: &Connection,
    viewer: &crate::domain::User,
    (first, last): (chrono::NaiveDate, chrono::NaiveDate),
    (start, end): (&str, &str),
    quiet_since: &str,
) -> Result<(u32, u32, u32)> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    Ok(conn.query_row_cached(
        "WITH enrolled AS (
             SELECT DISTINCT e.student FROM enrollments e
              WHERE e.status <> 'withdrawn' AND e.start_date <= ?3 AND (e.end_date IS NULL OR e.end_date >= ?2)
                AND (?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = e.student AND x.login = ?1)))
         SELECT count(*),
                ifnull(sum((SELECT count(*) FROM login_events l WHERE l.student = n.student AND l.at >= ?4 AND l.at < ?5)), 0),
                count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM login_events l
                                                    WHERE l.student = n.student AND l.at >= ?6 AND l.at < ?5))
           FROM enrolled n",
        params![scope, first, last, start, end, quiet_since],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OpenMode, Store};

    /// Every list a person can ask for holds exactly the records the rules let through, oldest
    /// first: whoever asks, pending or not, over any days, for one student or all; and what
    /// waits for verification is counted and dated from the same records.
    #[test]
    fn a_list_holds_what_its_filters_let_through_in_date_order() {
        use crate::domain::{Role, User};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO programs (id, program_id, name, schedule, start_date) VALUES (1, 'P1', 'W', 'daily', '2026-01-01'),
                                                                               (2, 'P2', 'X', 'daily', '2026-01-01');
             INSERT INTO users (login, name, role, created_at) VALUES ('ws_01', 'W', 'worksite', '2026-01-01T00:00:00Z');",
        )
        .unwrap();
        for student in 1..=4 {
            conn.execute(
                "INSERT INTO students (id, student_id, first_name, last_name) VALUES (?1, 'S' || ?1, 'A', 'B')",
                [student],
            )
            .unwrap();
        }
        conn.execute_batch("INSERT INTO student_assignments (login, student) VALUES ('ws_01', 1), ('ws_01', 3);")
            .unwrap();
        // Written out of date order, so the order a list comes in is its own.
        let verifications = ["pending", "verified", "rejected", "pending", "pending"];
        let mut written = Vec::new();
        for n in 0..60_i64 {
            let (student, program) = (1 + n % 4, 1 + n % 2);
            let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new((n * 7 % 20) as u64);
            let verification = verifications[(n % 5) as usize];
            let logged_at = format!("2026-01-21T{:02}:{:02}:00Z", 23 - n % 24, n % 60);
            let inserted = conn.execute(
                "INSERT OR IGNORE INTO attendance (student, program, date, status, logged_by, logged_at, verification)
                 VALUES (?1, ?2, ?3, 'present', 'ws_01', ?4, ?5)",
                params![student, program, date, logged_at, verification],
            );
            if inserted.unwrap() == 1 {
                written.push((conn.last_insert_rowid(), student, date, verification, logged_at));
            }
        }
        let user = |login: &str, role: Role| User {
            login: login.into(),
            name: login.into(),
            role,
            email: None,
            onboarding_waived: true,
        };
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 1, d);
        for viewer in [user("root", Role::Admin), user("ws_01", Role::Worksite)] {
            let waiting: Vec<&String> = written
                .iter()
                .filter(|(_, s, _, verification, _)| {
                    *verification == "pending" && (viewer.role == Role::Admin || *s == 1 || *s == 3)
                })
                .map(|(.., logged_at)| logged_at)
                .collect();
            assert_eq!(pending_count(conn, &viewer).unwrap(), waiting.len() as u64, "{}", viewer.login);
            assert_eq!(oldest_pending(conn, &viewer).unwrap().as_ref(), waiting.into_iter().min(), "{}", viewer.login);
            for pending_only in [false, true] {
                for (from, to) in [(None, None), (day(5), day(12)), (day(12), None), (None, day(3))] {
                    for student in [None, Some(1), Some(3)] {
                        let filter =
                            AttendanceFilter { pending_only, from, to, student_id: student.map(|s| format!("S{s}")) };
                        let mut listed = Vec::new();
                        each_attendance(conn, &viewer, &filter, usize::MAX, |view| {
                            listed.push(view.id);
                            true
                        })
                        .unwrap();
                        let mut expected: Vec<_> = written
                            .iter()
                            .filter(|(_, s, date, verification, _)| {
                                (viewer.role == Role::Admin || *s == 1 || *s == 3)
                                    && (!pending_only || *verification == "pending")
                                    && from.is_none_or(|from| *date >= from)
                                    && to.is_none_or(|to| *date <= to)
                                    && student.is_none_or(|student| *s == student)
                            })
                            .map(|(id, _, date, ..)| (*date, *id))
                            .collect();
                        expected.sort_unstable();
                        let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();
                        assert_eq!(listed, expected, "{} {filter:?}", viewer.login);
                        let first_two = list_attendance(conn, &viewer, &filter, 2).unwrap();
                        assert_eq!(
                            first_two.iter().map(|v| v.id).collect::<Vec<_>>(),
                            &expected[..expected.len().min(2)]
                        );
                    }
                }
            }
        }
    }

    /// The minutes are chrono's `num_minutes` of the exact wait, as before SQLite worked them
    /// out: truncated, offsets honoured, never below 0, and a time that is no date left out.
    #[test]
    fn a_decisions_wait_is_whole_minutes_from_logging_to_deciding() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO students (id, student_id, first_name, last_name) VALUES (1, 'S1', 'A', 'B');
             INSERT INTO programs (id, program_id, name, schedule, start_date) VALUES (1, 'P1', 'W', 'daily', '2026-01-01');",
        )
        .unwrap();
        let decided = [
            ("2026-01-05", "2026-01-05T10:00:30.500Z", "2026-01-05T10:02:30.400Z", "sc_01", "verified"),
            ("2026-01-06", "2026-01-06T10:00:00+02:00", "2026-01-06T09:00:00Z", "sc_01", "rejected"),
            ("2026-01-07", "2026-01-07T10:00:00Z", "2026-01-07T09:00:00Z", "sc_02", "verified"),
            ("2026-01-08", "2026-01-08T10:00:00Z", "soon", "sc_02", "verified"),
            ("2026-02-01", "2026-02-01T10:00:00Z", "2026-02-01T11:00:00Z", "sc_02", "verified"),
        ];
        for (date, logged, verified, by, verification) in decided {
            conn.execute(
                "INSERT INTO attendance (student, program, date, status, logged_by, logged_at, verification,
                                         verified_by, verified_at)
                 VALUES (1, 1, ?1, 'present', 'ws_01', ?2, ?3, ?4, ?5)",
                params![date, logged, verification, by, verified],
            )
            .unwrap();
        }
        let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
        let waits = decision_waits(conn, day("2026-01-01"), day("2026-01-31")).unwrap();
        assert_eq!(waits.get("sc_01"), Some(&vec![1, 60]), "119.9 s is 1 minute; 10:00+02:00 is 08:00Z");
        assert_eq!(waits.get("sc_02"), Some(&vec![0]), "a decision before the logging counts 0; 'soon' is left out");
    }
}
