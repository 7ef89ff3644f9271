//! What the reports count, read once for all the periods a report compares (weeks, or a month
//! and the one before) rather than once per period: the enrollments whose dates meet them, and
//! attendance, credentials and logins sorted into the periods (attendance of a whole
//! organisation here rather than by SQL, see [`attendance`]).

use super::Result;
use super::ids::{IdMap, IdSet};
use super::stored;
use chrono::{Datelike, NaiveDate};
use rusqlite::{Connection, params};
use std::collections::BTreeSet;
use std::collections::HashMap;

use crate::domain::User;

/// Which of the students a viewer may see a report is about: one program's, one partner's.
#[derive(Debug, Default, Clone, Copy)]
pub struct Slice<'a> {
    pub program_id: Option<&'a str>,
    /// Students assigned to this partner (within the viewer's own scope).
    pub partner: Option<&'a str>,
}

/// Consecutive periods: each starts on its day and runs to the day before the next; the last
/// runs to `last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periods {
    pub starts: Vec<NaiveDate>,
    pub last: NaiveDate,
}

impl Periods {
    /// The first and last day of period `i`.
    pub fn range(&self, i: usize) -> (NaiveDate, NaiveDate) {
        let end = self.starts.get(i + 1).and_then(|next| next.pred_opt()).unwrap_or(self.last);
        (self.starts[i], end)
    }

    /// SQL for the period a `YYYY-MM-DD` (or RFC 3339) `column` falls in. The bounds are dates
    /// muster formats itself, never text from people.
    fn case(&self, column: &str) -> String {
        let bounds: Vec<String> = self.starts.iter().map(NaiveDate::to_string).collect();
        period_case(column, &bounds)
    }
}

/// SQL numbering the period a value of `column` falls in, given the periods' starts in order.
fn period_case(column: &str, starts: &[String]) -> String {
    if starts.len() < 2 {
        return "0".into();
    }
    let mut sql = String::from("CASE");
    for (i, start) in starts.iter().enumerate().skip(1) {
        sql.push_str(&format!(" WHEN {column} < '{start}' THEN {}", i - 1));
    }
    sql.push_str(&format!(" ELSE {} END", starts.len() - 1));
    sql
}

/// A credential recorded in an enrollment: its program, the enrollment's dates, the day.
pub type Credential = (String, NaiveDate, Option<NaiveDate>, String);

/// An enrollment whose dates meet the periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrollment {
    pub student: i64,
    pub program: i64,
    pub program_id: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub status: String,
}

/// A program's attendance in one period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Attended {
    pub present: u32,
    pub excused: u32,
    pub hours_verified: f64,
}

/// `WHERE` for the enrollments of the students the viewer (?1) may see whose dates meet
/// `[?2, ?3]`, in the program ?4 and assigned to the partner ?5 when those are given.
const MEETING: &str =
    "(?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = e.student AND x.login = ?1))
    AND e.start_date <= ?3 AND (e.end_date IS NULL OR e.end_date >= ?2) AND (?4 IS NULL OR p.program_id = ?4)
    AND (?5 IS NULL OR EXISTS (SELECT 1 FROM student_assignments y WHERE y.student = e.student AND y.login = ?5))";

fn scope(viewer: &User) -> Option<&str> {
    viewer.role.is_partner().then_some(viewer.login.as_str())
}

pub fn enrollments(conn: &Connection, viewer: &User, periods: &Periods, slice: Slice) -> Result<Vec<Enrollment>> {
    let sql = format!(
        "SELECT e.student, p.id, p.program_id, e.start_date, e.end_date, e.status
           FROM enrollments e JOIN programs p ON p.id = e.program WHERE {MEETING} ORDER BY p.program_id"
    );
    let first = periods.starts.first().copied().unwrap_or(periods.last);
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params![scope(viewer), first, periods.last, slice.program_id, slice.partner], |r| {
            Ok(Enrollment {
                student: r.get(0)?,
                program: r.get(1)?,
                program_id: r.get(2)?,
                start: r.get(3)?,
                end: r.get(4)?,
                status: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Per program and period: days present (a rejected record does not count), days excused and
/// verified hours of present days, within the dates of each of `chosen` — the enrollments
/// [`enrollments`] found for the same viewer, periods and slice.
///
/// Two ways to the same figures: when the chosen enrollments are a small part of those meeting
/// the periods (one program, one partner's students), each one's days are read by its key;
/// otherwise every record of the periods' days is read from the by-date index, which holds all
/// a report needs, and sorted to the enrollments here — a fifth of the time for a whole
/// organisation, where reading by key visits a table row for every record.
pub fn attendance(
    conn: &Connection,
    viewer: &User,
    periods: &Periods,
    slice: Slice,
    chosen: &[Enrollment],
) -> Result<HashMap<(String, usize), Attended>> {
    let first = periods.starts.first().copied().unwrap_or(periods.last);
    let meeting: i64 = conn.query_row(
        "SELECT count(*) FROM enrollments WHERE start_date <= ?2 AND (end_date IS NULL OR end_date >= ?1)",
        params![first, periods.last],
        |r| r.get(0),
    )?;
    if (chosen.len() as i64).saturating_mul(READ_BY_KEY_BELOW) < meeting {
        attendance_by_enrollment(conn, viewer, periods, slice)
    } else {
        attendance_by_day(conn, periods, chosen)
    }
}

/// Reading by key pays below one enrollment in this many of those meeting the periods.
const READ_BY_KEY_BELOW: i64 = 5;

/// `CROSS JOIN` keeps SQLite's order — each enrollment, then its days — which it would otherwise
/// turn around over a long range of dates, pairing each day's attendance with every enrollment
/// of its program.
fn attendance_by_enrollment(
    conn: &Connection,
    viewer: &User,
    periods: &Periods,
    slice: Slice,
) -> Result<HashMap<(String, usize), Attended>> {
    let sql = format!(
        "SELECT p.program_id, {} AS period,
                count(*) FILTER (WHERE a.status = 'present' AND a.verification <> 'rejected'),
                count(*) FILTER (WHERE a.status = 'excused'),
                total(a.hours) FILTER (WHERE a.status = 'present' AND a.verification = 'verified')
           FROM enrollments e CROSS JOIN attendance a JOIN programs p ON p.id = e.program
          WHERE a.student = e.student AND a.program = e.program
            AND a.date >= max(e.start_date, ?2) AND a.date <= ?3 AND (e.end_date IS NULL OR a.date <= e.end_date)
            AND {MEETING}
          GROUP BY p.program_id, period",
        periods.case("a.date")
    );
    let first = periods.starts.first().copied().unwrap_or(periods.last);
    let mut stmt = conn.prepare(&sql)?;
    let mut figures = HashMap::new();
    let mut rows = stmt.query(params![scope(viewer), first, periods.last, slice.program_id, slice.partner])?;
    while let Some(r) = rows.next()? {
        let period: i64 = r.get(1)?;
        let attended = Attended { present: r.get(2)?, excused: r.get(3)?, hours_verified: r.get(4)? };
        figures.insert((r.get(0)?, usize::try_from(period).unwrap_or(0)), attended);
    }
    Ok(figures)
}

fn attendance_by_day(
    conn: &Connection,
    periods: &Periods,
    chosen: &[Enrollment],
) -> Result<HashMap<(String, usize), Attended>> {
    let spans = Spans::new(chosen);
    let program_ids: HashMap<i64, &str> = chosen.iter().map(|e| (e.program, e.program_id.as_str())).collect();
    let starts: Vec<u32> = periods.starts.iter().copied().map(day_number).collect();
    let first = periods.starts.first().copied().unwrap_or(periods.last);
    let mut totals: IdMap<(i64, usize), Attended> = IdMap::default();
    let mut stmt = conn.prepare(
        "SELECT student, program, date, status, verification, hours FROM attendance WHERE date >= ?1 AND date <= ?2",
    )?;
    let mut rows = stmt.query(params![first, periods.last])?;
    while let Some(r) = rows.next()? {
        let dates = spans.of(r.get(0)?);
        if dates.is_empty() {
            continue;
        }
        let program: i64 = r.get(1)?;
        let day = text_day_number(r.get_ref(2)?.as_bytes().map_err(rusqlite::Error::from)?);
        let times =
            dates.iter().filter(|span| span.program == program && span.start <= day && day <= span.end).count() as u32;
        if times == 0 {
            continue;
        }
        let period = starts.partition_point(|start| *start <= day).saturating_sub(1);
        let attended = totals.entry((program, period)).or_default();
        let status = r.get_ref(3)?.as_bytes().map_err(rusqlite::Error::from)?;
        let verification = r.get_ref(4)?.as_bytes().map_err(rusqlite::Error::from)?;
        match (status, verification) {
            (b"present", b"verified") => {
                attended.present += times;
                attended.hours_verified += r.get::<_, Option<f64>>(5)?.unwrap_or(0.0) * f64::from(times);
            }
            (b"present", b"rejected") => {}
            (b"present", _) => attended.present += times,
            (b"excused", _) => attended.excused += times,
            _ => {}
        }
    }
    Ok(totals
        .into_iter()
        .filter_map(|((program, period), attended)| Some(((program_ids.get(&program)?.to_string(), period), attended)))
        .collect())
}

/// An enrollment's program and dates, as day numbers (`end`: `u32::MAX` while it runs on).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    program: i64,
    start: u32,
    end: u32,
}

/// The chosen enrollments' spans, found by student. A whole organisation's report looks one up
/// for each of millions of records in date order, when the students come round in no order: in
/// a hash map of (student, program) to a list, the two cache misses of each lookup were most of
/// the report's own time. Here a student's spans sit side by side, found by the student's rowid
/// in an array of offsets (muster's rowids are dense), or through a map when they are not.
struct Spans {
    spans: Vec<Span>,
    by_student: ByStudent,
}

enum ByStudent {
    /// `first[s]..first[s + 1]` are student `s`'s spans.
    Dense(Vec<u32>),
    Sparse(IdMap<i64, (u32, u32)>),
}

impl Spans {
    fn new(chosen: &[Enrollment]) -> Self {
        let mut sorted: Vec<(i64, Span)> = chosen
            .iter()
            .map(|e| {
                (
                    e.student,
                    Span { program: e.program, start: day_number(e.start), end: e.end.map_or(u32::MAX, day_number) },
                )
            })
            .collect();
        sorted.sort_by_key(|(student, _)| *student);
        let (lowest, highest) = (sorted.first().map_or(0, |s| s.0), sorted.last().map_or(0, |s| s.0));
        // An array of offsets while it stays under eight entries a span (400 KB for 100,000
        // students); past that the rowids are far apart and a map costs less memory.
        let dense = lowest >= 0 && highest <= 8 * sorted.len() as i64 + 65_536;
        let by_student = if dense {
            let mut first = vec![0u32; highest as usize + 2];
            for (student, _) in &sorted {
                first[*student as usize + 1] += 1;
            }
            for s in 1..first.len() {
                first[s] += first[s - 1];
            }
            ByStudent::Dense(first)
        } else {
            let mut ranges: IdMap<i64, (u32, u32)> = IdMap::default();
            for (i, (student, _)) in sorted.iter().enumerate() {
                ranges.entry(*student).or_insert((i as u32, i as u32)).1 = i as u32 + 1;
            }
            ByStudent::Sparse(ranges)
        };
        Spans { spans: sorted.into_iter().map(|(_, span)| span).collect(), by_student }
    }

    /// The spans of `student`'s chosen enrollments, in any program.
    fn of(&self, student: i64) -> &[Span] {
        let (from, to) = match &self.by_student {
            ByStudent::Dense(first) => match usize::try_from(student).ok().filter(|s| s + 1 < first.len()) {
                Some(s) => (first[s], first[s + 1]),
                None => return &[],
            },
            ByStudent::Sparse(ranges) => match ranges.get(&student) {
                Some(range) => *range,
                None => return &[],
            },
        };
        &self.spans[from as usize..to as usize]
    }
}

/// A day as the number YYYYMMDD, which orders as the days do.
fn day_number(day: NaiveDate) -> u32 {
    u32::try_from(day.year()).unwrap_or(0) * 10_000 + day.month() * 100 + day.day()
}

/// `YYYY-MM-DD` text as [`day_number`]: the digits in order.
fn text_day_number(text: &[u8]) -> u32 {
    text.iter().filter(|c| c.is_ascii_digit()).fold(0, |n, c| n.wrapping_mul(10).wrapping_add(u32::from(c - b'0')))
}

/// Credentials recorded in the periods: the program, the enrollment's dates and the day.
pub fn credentials(conn: &Connection, viewer: &User, periods: &Periods, slice: Slice) -> Result<Vec<Credential>> {
    let sql = format!(
        "SELECT p.program_id, e.start_date, e.end_date, substr(g.at, 1, 10)
           FROM progress_events g JOIN enrollments e ON e.id = g.enrollment JOIN programs p ON p.id = e.program
          WHERE g.kind = 'credential' AND substr(g.at, 1, 10) >= ?2 AND substr(g.at, 1, 10) <= ?3 AND {MEETING}"
    );
    let first = periods.starts.first().copied().unwrap_or(periods.last);
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params![scope(viewer), first, periods.last, slice.program_id, slice.partner], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The (student, program) pairs with attendance recorded on `day`, whatever its status.
pub fn recorded_on(conn: &Connection, day: NaiveDate) -> Result<IdSet<(i64, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT student, program FROM attendance WHERE date = ?1")?;
    let pairs = stmt.query_map([day.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(pairs)
}

/// Whether reading `students` one by one along an index beats one pass over everyone's rows:
/// when they are less than a quarter of the organisation (a program's, a partner's).
fn one_by_one(conn: &Connection, students: &BTreeSet<i64>) -> Result<bool> {
    let everyone: i64 = conn.query_row("SELECT count(*) FROM students", [], |r| r.get(0))?;
    Ok((students.len() as i64).saturating_mul(4) < everyone)
}

/// Which of `students` logged in during each period, given as instants `[starts[i],
/// starts[i+1])` (RFC 3339, the organisation's midnights), the last ending at `end`. Set apart
/// here rather than by `DISTINCT` over all of them, which sorted every login of the weeks in a
/// temporary b-tree first.
pub fn logged_in(
    conn: &Connection,
    students: &BTreeSet<i64>,
    starts: &[String],
    end: &str,
) -> Result<IdSet<(i64, usize)>> {
    let case = period_case("at", starts);
    let first = starts.first().map_or(end, String::as_str);
    let mut seen = IdSet::default();
    if one_by_one(conn, students)? {
        let sql = format!("SELECT DISTINCT {case} FROM login_events WHERE student = ?1 AND at >= ?2 AND at < ?3");
        let mut stmt = conn.prepare(&sql)?;
        for &student in students {
            let mut rows = stmt.query(params![student, first, end])?;
            while let Some(row) = rows.next()? {
                seen.insert((student, usize::try_from(row.get::<_, i64>(0)?).unwrap_or(0)));
            }
        }
    } else {
        let mut stmt = conn.prepare(&format!("SELECT student, {case} FROM login_events WHERE at >= ?1 AND at < ?2"))?;
        let mut rows = stmt.query(params![first, end])?;
        // Asked of every login of the weeks: a hash, not the ordered set's walk.
        let wanted: IdSet<i64> = students.iter().copied().collect();
        while let Some(row) = rows.next()? {
            let student: i64 = row.get(0)?;
            if wanted.contains(&student) {
                seen.insert((student, usize::try_from(row.get::<_, i64>(1)?).unwrap_or(0)));
            }
        }
    }
    Ok(seen)
}

/// Critical alerts about `students` open at some time in `[start, end)`: the student, when each
/// opened and was resolved (RFC 3339).
pub fn critical_alerts(
    conn: &Connection,
    students: &BTreeSet<i64>,
    start: &str,
    end: &str,
) -> Result<Vec<(i64, String, Option<String>)>> {
    // Severity 3 is critical (`StoredCode`); the times are stored as seconds.
    const OPEN_IN_SPAN: &str = "severity = 3 AND opened_at < ?2 AND (resolved_at IS NULL OR resolved_at >= ?1)";
    let (start, end) = (stored::bound_seconds(start)?, stored::bound_seconds(end)?);
    let mut alerts = Vec::new();
    if one_by_one(conn, students)? {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT opened_at, resolved_at FROM alerts INDEXED BY alerts_student_block
              WHERE (id >> 17) IN {} AND student = ?3 AND {OPEN_IN_SPAN}",
            alert_blocks!()
        ))?;
        for &student in students {
            let mut rows = stmt.query(params![start, end, student])?;
            while let Some(row) = rows.next()? {
                alerts.push((student, stored::get_time(row, 0)?, stored::get_time_opt(row, 1)?));
            }
        }
    } else {
        let mut stmt =
            conn.prepare_cached(&format!("SELECT student, opened_at, resolved_at FROM alerts WHERE {OPEN_IN_SPAN}"))?;
        let mut rows = stmt.query(params![start, end])?;
        while let Some(row) = rows.next()? {
            let student: i64 = row.get(0)?;
            if students.contains(&student) {
                alerts.push((student, stored::get_time(row, 1)?, stored::get_time_opt(row, 2)?));
            }
        }
    }
    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_run_to_the_day_before_the_next() {
        let d = |t: &str| crate::domain::parse_date(t).unwrap();
        let weeks = Periods { starts: vec![d("2026-01-05"), d("2026-01-12")], last: d("2026-01-18") };
        assert_eq!(weeks.range(0), (d("2026-01-05"), d("2026-01-11")));
        assert_eq!(weeks.range(1), (d("2026-01-12"), d("2026-01-18")));
        assert_eq!(weeks.case("a.date"), "CASE WHEN a.date < '2026-01-12' THEN 0 ELSE 1 END");
        let one = Periods { starts: vec![d("2026-01-05")], last: d("2026-01-11") };
        assert_eq!(one.case("a.date"), "0");
    }

    /// A few students are read one by one, many in one pass: both give each student the same.
    #[test]
    fn logins_and_critical_alerts_read_one_by_one_or_in_one_pass_agree() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::store::Store::open(&dir.path().join("m.db"), crate::store::OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        for id in 1..=12 {
            conn.execute(
                "INSERT INTO students (id, student_id, first_name, last_name) VALUES (?1, 'S' || ?1, 'A', 'B')",
                [id],
            )
            .unwrap();
            // Each logs in on the 6th; odd ones on the 13th too, the 3rd twice that week.
            conn.execute("INSERT INTO login_events (student, at) VALUES (?1, '2026-01-06T15:00:00Z')", [id]).unwrap();
            if id % 2 == 1 {
                conn.execute("INSERT INTO login_events (student, at) VALUES (?1, '2026-01-13T15:00:00Z')", [id])
                    .unwrap();
            }
        }
        conn.execute_batch(
            "INSERT INTO login_events (student, at) VALUES (3, '2026-01-14T09:00:00Z'), (3, '2026-01-20T09:00:00Z');
             INSERT INTO alerts (type, severity, status, student, count, opened_at, updated_at, resolved_at)
             VALUES (2, 3, 1, 3, 9, unixepoch('2026-01-07T06:00:00Z'), 0, NULL),
                    (2, 3, 4, 4, 9, unixepoch('2026-01-02T06:00:00Z'), 0, unixepoch('2026-01-03T06:00:00Z')),
                    (1, 1, 1, 3, 3, unixepoch('2026-01-07T06:00:00Z'), 0, NULL);",
        )
        .unwrap();
        let starts = ["2026-01-05T00:00:00Z".to_string(), "2026-01-12T00:00:00Z".to_string()];
        let end = "2026-01-19T00:00:00Z";
        let few = BTreeSet::from([3, 4]);
        let everyone: BTreeSet<i64> = (1..=12).collect();
        assert!(one_by_one(conn, &few).unwrap() && !one_by_one(conn, &everyone).unwrap());
        let expected: IdSet<(i64, usize)> = [(3, 0), (3, 1), (4, 0)].into_iter().collect();
        assert_eq!(logged_in(conn, &few, &starts, end).unwrap(), expected);
        let all = logged_in(conn, &everyone, &starts, end).unwrap();
        assert_eq!(all.iter().filter(|(s, _)| few.contains(s)).copied().collect::<IdSet<_>>(), expected);
        assert_eq!(all.len(), 12 + 6);
        let open = vec![(3, "2026-01-07T06:00:00Z".to_string(), None)];
        assert_eq!(critical_alerts(conn, &few, &starts[0], end).unwrap(), open);
        assert_eq!(critical_alerts(conn, &everyone, &starts[0], end).unwrap(), open);
    }

    /// A student's spans are found the same whether rowids are dense or far apart, and a student
    /// with none (or a rowid muster never makes) has none.
    #[test]
    fn spans_are_found_by_student_whether_rowids_are_dense_or_not() {
        let d = |t: &str| crate::domain::parse_date(t).unwrap();
        let enrollment = |student: i64, program: i64, start: &str, end: Option<&str>| Enrollment {
            student,
            program,
            program_id: format!("P{program}"),
            start: d(start),
            end: end.map(d),
            status: "active".into(),
        };
        for far in [7, 90_000_000] {
            let chosen = [
                enrollment(far, 1, "2026-01-14", None),
                enrollment(3, 2, "2026-01-06", None),
                enrollment(far, 1, "2026-01-01", Some("2026-01-07")),
            ];
            let spans = Spans::new(&chosen);
            assert_eq!(matches!(spans.by_student, ByStudent::Dense(_)), far == 7);
            let mut theirs = spans.of(far).to_vec();
            theirs.sort_by_key(|span| span.start);
            assert_eq!(
                theirs,
                vec![
                    Span { program: 1, start: 20260101, end: 20260107 },
                    Span { program: 1, start: 20260114, end: u32::MAX }
                ],
                "{far}"
            );
            assert_eq!(spans.of(3), &[Span { program: 2, start: 20260106, end: u32::MAX }]);
            for nobody in [0, 4, -1, 100_000_000] {
                assert!(spans.of(nobody).is_empty(), "{nobody}");
            }
        }
    }

    /// Both ways of reading attendance count the same records: within each enrollment's dates,
    /// once per enrollment holding the day, rejected days not present, hours only when verified.
    #[test]
    fn attendance_read_by_day_matches_attendance_read_by_enrollment() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::store::Store::open(&dir.path().join("m.db"), crate::store::OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO programs (id, program_id, name, schedule, start_date) VALUES
                 (1, 'P1', 'One', 'daily', '2026-01-01'), (2, 'P2', 'Two', 'daily', '2026-01-01');
             INSERT INTO students (id, student_id, first_name, last_name) VALUES (1, 'S1', 'A', 'A'), (2, 'S2', 'B', 'B');
             -- S1 left P1 on the 7th and came back on the 14th; S2 is in P2 from the 6th.
             INSERT INTO enrollments (id, enrollment_id, student, program, start_date, end_date, status)
             VALUES (1, 'E1', 1, 1, '2026-01-01', '2026-01-07', 'withdrawn'),
                 (2, 'E2', 1, 1, '2026-01-14', NULL, 'active'), (3, 'E3', 2, 2, '2026-01-06', NULL, 'active');
             INSERT INTO attendance (student, program, date, status, hours, logged_by, logged_at, verification) VALUES
                 (1, 1, '2026-01-05', 'present', 4, 'x', 't', 'verified'),
                 (1, 1, '2026-01-06', 'present', 3, 'x', 't', 'rejected'),
                 (1, 1, '2026-01-07', 'excused', NULL, 'x', 't', 'pending'),
                 (1, 1, '2026-01-09', 'present', 5, 'x', 't', 'verified'),
                 (1, 1, '2026-01-14', 'present', 2, 'x', 't', 'pending'),
                 (1, 1, '2026-01-15', 'present', 6, 'x', 't', 'verified'),
                 (2, 2, '2026-01-05', 'present', 8, 'x', 't', 'verified'),
                 (2, 2, '2026-01-06', 'absent', NULL, 'x', 't', 'verified'),
                 (2, 2, '2026-01-12', 'present', NULL, 'x', 't', 'verified'),
                 (2, 2, '2026-01-19', 'present', 1, 'x', 't', 'verified');",
        )
        .unwrap();
        let d = |t: &str| crate::domain::parse_date(t).unwrap();
        let periods = Periods { starts: vec![d("2026-01-05"), d("2026-01-12")], last: d("2026-01-18") };
        let admin = User {
            login: "root".into(),
            name: "Root".into(),
            role: crate::domain::Role::Admin,
            email: None,
            onboarding_waived: false,
        };
        let chosen = enrollments(conn, &admin, &periods, Slice::default()).unwrap();
        let by_day = attendance_by_day(conn, &periods, &chosen).unwrap();
        let by_enrollment = attendance_by_enrollment(conn, &admin, &periods, Slice::default()).unwrap();
        assert_eq!(by_day, by_enrollment);
        let figure = |program: &str, period| by_day[&(program.to_string(), period)];
        // The 9th falls between S1's enrollments; the 5th is before S2's.
        assert_eq!(figure("P1", 0), Attended { present: 1, excused: 1, hours_verified: 4.0 });
        assert_eq!(figure("P1", 1), Attended { present: 2, excused: 0, hours_verified: 6.0 });
        assert_eq!(figure("P2", 1), Attended { present: 1, excused: 0, hours_verified: 0.0 });
        // Only the absent 6th is S2's in the first week.
        assert_eq!(figure("P2", 0), Attended::default());
    }
}
