//! The rows of an export, read with a cursor so that a year of a large program streams through
//! without being held, and scoped like every other read: a partner's export holds only the
//! students assigned to them.

use super::Result;
use super::stored;
use crate::domain::User;
use crate::domain::alerts::{AlertStatus, AlertType, Severity};
use rusqlite::types::Value;
use rusqlite::{Connection, params};

/// What can be exported as rows of the database (funders' formats build on these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Attendance,
    Alerts,
    Audit,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Attendance => "attendance",
            Table::Alerts => "alerts",
            Table::Audit => "audit",
        }
    }

    /// The columns, in order, as the header names them.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Attendance => &[
                "student_id",
                "first_name",
                "last_name",
                "program_id",
                "date",
                "status",
                "hours",
                "verification",
                "logged_by",
                "logged_at",
                "verified_by",
                "verified_at",
                "reason",
            ],
            Table::Alerts => &[
                "id",
                "type",
                "severity",
                "status",
                "student_id",
                "first_name",
                "last_name",
                "program_id",
                "count",
                "first_missed",
                "escalated",
                "assigned_to",
                "opened_at",
                "resolved_at",
                "resolved_by",
            ],
            Table::Audit => &[
                "seq",
                "at",
                "actor",
                "acting_as",
                "action",
                "entity",
                "entity_id",
                "change",
                "host",
                "client",
                "version",
                "prev_hash",
                "hash",
            ],
        }
    }
}

/// Which rows: days (inclusive) and one program, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub program_id: Option<String>,
}

/// Calls `each` with every row in order; `each` answers false to stop early (a write failed, or
/// the pipe closed: the caller keeps why). Returns how many rows it was given.
pub fn stream(
    conn: &Connection,
    viewer: &User,
    table: Table,
    filter: &Filter,
    each: &mut dyn FnMut(&[Value]) -> bool,
) -> Result<u64> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let visible =
        "(?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = s.id AND x.login = ?1))";
    // Days are compared as text: dates are stored `YYYY-MM-DD`, instants RFC 3339.
    let sql = match table {
        Table::Attendance => return stream_attendance(conn, scope, filter, each),
        // The alerts keep words, days and times as numbers (`store::stored`); exported as text.
        Table::Alerts => format!(
            "SELECT a.id, {}, {}, {}, s.student_id, s.first_name, s.last_name, p.program_id,
                    a.count, {}, a.escalated, a.assigned_to, {}, {}, a.resolved_by
               FROM alerts a JOIN students s ON s.id = a.student LEFT JOIN programs p ON p.id = a.program
              WHERE {visible} AND (?2 IS NULL OR date(a.opened_at, 'unixepoch') >= ?2)
                AND (?3 IS NULL OR date(a.opened_at, 'unixepoch') <= ?3) AND (?4 IS NULL OR p.program_id = ?4)
              ORDER BY a.id",
            stored::sql_word::<AlertType>("a.type"),
            stored::sql_word::<Severity>("a.severity"),
            stored::sql_word::<AlertStatus>("a.status"),
            stored::sql_day("a.first_missed"),
            stored::sql_time("a.opened_at"),
            stored::sql_time("a.resolved_at"),
        ),
        Table::Audit => "SELECT seq, at, actor, acting_as, action, entity, entity_id, change, host, client, version,
                    prev_hash, hash
               FROM audit_log WHERE ?1 IS NULL AND (?2 IS NULL OR substr(at, 1, 10) >= ?2)
                AND (?3 IS NULL OR substr(at, 1, 10) <= ?3) AND ?4 IS NULL
              ORDER BY seq"
            .to_string(),
    };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query(params![scope, filter.from, filter.to, filter.program_id])?;
    hand_over(rows, each)
}

/// The attendance export. Only the conditions that apply are written, each as SQLite can use
/// it: a partner's records from their students, one program's through the key, days as a
/// range. Written as `?N IS NULL OR …` every export walked all of a churn year's 18.3 million
/// records: a worksite's week took 1.4 s, an admin's 3.8 s.
fn stream_attendance(
    conn: &Connection,
    scope: Option<&str>,
    filter: &Filter,
    each: &mut dyn FnMut(&[Value]) -> bool,
) -> Result<u64> {
    let mut conditions = Vec::new();
    let mut bound: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::new();
    if let Some(scope) = &scope {
        conditions.push("a.student IN (SELECT x.student FROM student_assignments x WHERE x.login = :scope)");
        bound.push((":scope", scope));
    }
    if let Some(program_id) = &filter.program_id {
        conditions.push("a.program IN (SELECT id FROM programs WHERE program_id = :program)");
        bound.push((":program", program_id));
    }
    // Days are compared as text: dates are stored `YYYY-MM-DD`.
    if let Some(from) = &filter.from {
        conditions.push("a.date >= :from");
        bound.push((":from", from));
    }
    if let Some(to) = &filter.to {
        conditions.push("a.date <= :to");
        bound.push((":to", to));
    }
    let filtered = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let sql = format!(
        "SELECT s.student_id, s.first_name, s.last_name, p.program_id, a.date, a.status, a.hours, a.verification,
                a.logged_by, a.logged_at, a.verified_by, a.verified_at, a.reason
           FROM attendance a JOIN students s ON s.id = a.student JOIN programs p ON p.id = a.program
          {filtered}
          ORDER BY a.student, a.program, a.date"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query(bound.as_slice())?;
    hand_over(rows, each)
}

/// Hands `each` every row's cells in turn, until it answers false; returns how many it was given.
fn hand_over(mut rows: rusqlite::Rows, each: &mut dyn FnMut(&[Value]) -> bool) -> Result<u64> {
    let width = rows.as_ref().map_or(0, |stmt| stmt.column_count());
    let mut cells: Vec<Value> = Vec::with_capacity(width);
    let mut count = 0;
    while let Some(row) = rows.next()? {
        cells.clear();
        for i in 0..width {
            cells.push(row.get::<_, Value>(i)?);
        }
        count += 1;
        if !each(&cells) {
            break;
        }
    }
    Ok(count)
}

/// What muster knows about one period of participation (an enrollment), for funders' files.
#[derive(Debug, Clone, PartialEq)]
pub struct Participation {
    pub student_id: String,
    pub enrollment_id: String,
    pub program: i64,
    pub program_id: String,
    pub program_name: String,
    pub start: chrono::NaiveDate,
    pub end: Option<chrono::NaiveDate>,
    /// `active`, `completed` or `withdrawn`.
    pub status: String,
    /// The first day present within the enrollment's dates.
    pub first_present: Option<chrono::NaiveDate>,
    /// Days present (a rejected record counts as missed, SPEC "Missed-day streak").
    pub days_present: u32,
    /// Days excused: they count neither for nor against (SPEC "Missed-day streak").
    pub days_excused: u32,
    /// Hours of present days a verifier verified.
    pub hours_verified: f64,
    /// Attendance is recorded on the last day counted (it counts as a session day if today).
    pub recorded_on_last_day: bool,
    /// The latest progress event of kind `milestone`, and of kind `credential` with its detail.
    pub milestone: Option<chrono::NaiveDate>,
    pub credential: Option<(chrono::NaiveDate, String)>,
}

/// Every enrollment of the students `viewer` may see whose dates meet `filter`'s days, by
/// student and start, with its attendance up to `through` (the period's end, or today).
pub fn participations(
    conn: &Connection,
    viewer: &User,
    filter: &Filter,
    through: chrono::NaiveDate,
    each: &mut dyn FnMut(Participation) -> bool,
) -> Result<u64> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    // One pass over each enrollment's attendance (the unique key's index, in its date range)
    // gathers every count at once.
    let present = "a.status = 'present' AND a.verification <> 'rejected'";
    let sql = format!(
        "SELECT s.student_id, e.enrollment_id, p.id, p.program_id, p.name, e.start_date, e.end_date, e.status,
                min(a.date) FILTER (WHERE {present}), count(a.date) FILTER (WHERE {present}),
                total(a.hours) FILTER (WHERE a.status = 'present' AND a.verification = 'verified'),
                count(a.date) FILTER (WHERE a.status = 'excused'), ifnull(max(a.date = ?5), 0),
                (SELECT max(substr(g.at, 1, 10)) FROM progress_events g WHERE g.enrollment = e.id AND g.kind = 'milestone'),
                (SELECT substr(g.at, 1, 10) || ' ' || ifnull(g.detail, '') FROM progress_events g
                  WHERE g.enrollment = e.id AND g.kind = 'credential' ORDER BY g.at DESC LIMIT 1)
           FROM enrollments e JOIN students s ON s.id = e.student JOIN programs p ON p.id = e.program
           LEFT JOIN attendance a ON a.student = e.student AND a.program = e.program AND a.date >= e.start_date
                AND (e.end_date IS NULL OR a.date <= e.end_date) AND a.date <= ?5
          WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = s.id AND x.login = ?1))
            AND (?2 IS NULL OR e.end_date IS NULL OR e.end_date >= ?2) AND (?3 IS NULL OR e.start_date <= ?3)
            AND (?4 IS NULL OR p.program_id = ?4)
          GROUP BY e.id
          ORDER BY s.student_id, e.start_date, e.enrollment_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![scope, filter.from, filter.to, filter.program_id, through.to_string()])?;
    let mut count = 0;
    while let Some(r) = rows.next()? {
        let credential: Option<String> = r.get(14)?;
        let credential = credential.and_then(|text| {
            let (day, detail) = text.split_once(' ')?;
            Some((day.parse().ok()?, detail.to_string()))
        });
        let participation = Participation {
            student_id: r.get(0)?,
            enrollment_id: r.get(1)?,
            program: r.get(2)?,
            program_id: r.get(3)?,
            program_name: r.get(4)?,
            start: r.get(5)?,
            end: r.get(6)?,
            status: r.get(7)?,
            first_present: r.get(8)?,
            days_present: r.get(9)?,
            hours_verified: r.get(10)?,
            days_excused: r.get(11)?,
            recorded_on_last_day: r.get(12)?,
            milestone: r.get::<_, Option<String>>(13)?.and_then(|d| d.parse().ok()),
            credential,
        };
        count += 1;
        if !each(participation) {
            break;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::store::{OpenMode, Store};

    /// An attendance export holds exactly what its filters let through, in student, program
    /// and date order: whoever exports, for any days and either program.
    #[test]
    fn an_attendance_export_holds_what_its_filters_let_through() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO programs (id, program_id, name, schedule, start_date) VALUES (1, 'P1', 'W', 'daily', '2026-01-01'),
                                                                               (2, 'P2', 'X', 'daily', '2026-01-01');
             INSERT INTO users (login, name, role, created_at) VALUES ('ws_01', 'W', 'worksite', '2026-01-01T00:00:00Z');
             INSERT INTO students (id, student_id, first_name, last_name) VALUES (1, 'S1', 'A', 'B'), (2, 'S2', 'C', 'D'),
                                                                                (3, 'S3', 'E', 'F');
             INSERT INTO student_assignments (login, student) VALUES ('ws_01', 1), ('ws_01', 3);",
        )
        .unwrap();
        let mut written = Vec::new();
        for n in 0..45_i64 {
            let (student, program) = (1 + n % 3, 1 + n % 2);
            let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new((n * 7 % 15) as u64);
            let inserted = conn
                .execute(
                    "INSERT OR IGNORE INTO attendance (student, program, date, status, logged_by, logged_at)
                     VALUES (?1, ?2, ?3, 'present', 'ws_01', '2026-01-01T00:00:00Z')",
                    params![student, program, date],
                )
                .unwrap();
            if inserted == 1 {
                written.push((student, program, date));
            }
        }
        let viewer = |login: &str, role: Role| User {
            login: login.into(),
            name: login.into(),
            role,
            email: None,
            onboarding_waived: true,
        };
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 1, d);
        for viewer in [viewer("root", Role::Admin), viewer("ws_01", Role::Worksite)] {
            for program in [None, Some(1), Some(2)] {
                for (from, to) in [(None, None), (day(4), day(9)), (day(9), None), (None, day(2))] {
                    let filter = Filter { from, to, program_id: program.map(|p| format!("P{p}")) };
                    let mut exported = Vec::new();
                    stream(conn, &viewer, Table::Attendance, &filter, &mut |cells| {
                        let text = |i: usize| match &cells[i] {
                            Value::Text(text) => text.clone(),
                            other => panic!("{other:?}"),
                        };
                        exported.push((text(0), text(3), text(4)));
                        true
                    })
                    .unwrap();
                    let mut expected: Vec<(i64, i64, chrono::NaiveDate)> = written
                        .iter()
                        .copied()
                        .filter(|(student, p, date)| {
                            (viewer.role == Role::Admin || *student != 2)
                                && program.is_none_or(|program| *p == program)
                                && from.is_none_or(|from| *date >= from)
                                && to.is_none_or(|to| *date <= to)
                        })
                        .collect();
                    expected.sort_unstable();
                    let expected: Vec<(String, String, String)> = expected
                        .into_iter()
                        .map(|(student, program, date)| {
                            (format!("S{student}"), format!("P{program}"), date.to_string())
                        })
                        .collect();
                    assert_eq!(exported, expected, "{} {filter:?}", viewer.login);
                }
            }
        }
    }
}
