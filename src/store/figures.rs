//! What the reports count, read once for all the periods a report compares (weeks, or a month
//! and the one before) rather than once per period: the enrollments whose dates meet them, and
//! attendance, credentials and logins sorted into the periods by SQL.

use super::Result;
use chrono::NaiveDate;
use rusqlite::{Connection, params};
use std::collections::{HashMap, HashSet};

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
/// verified hours of present days, within each enrollment's own dates. `CROSS JOIN` keeps
/// SQLite's order — each enrollment, then its days — which it would otherwise turn around over a
/// long range of dates, pairing each day's attendance with every enrollment of its program.
pub fn attendance(
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

/// The students who logged in during each period, given as instants `[starts[i], starts[i+1])`
/// (RFC 3339, the organisation's midnights), the last ending at `end`.
pub fn logged_in(conn: &Connection, starts: &[String], end: &str) -> Result<HashSet<(i64, usize)>> {
    let sql =
        format!("SELECT DISTINCT student, {} FROM login_events WHERE at >= ?1 AND at < ?2", period_case("at", starts));
    let mut stmt = conn.prepare(&sql)?;
    let first = starts.first().map_or(end, String::as_str);
    let rows = stmt
        .query_map(params![first, end], |r| Ok((r.get(0)?, usize::try_from(r.get::<_, i64>(1)?).unwrap_or(0))))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Critical alerts open at some time in `[start, end)`: the student, when each opened and was
/// resolved (RFC 3339).
pub fn critical_alerts(conn: &Connection, start: &str, end: &str) -> Result<Vec<(i64, String, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT student, opened_at, resolved_at FROM alerts
          WHERE severity = 'critical' AND opened_at < ?2 AND (resolved_at IS NULL OR resolved_at >= ?1)",
    )?;
    let rows = stmt
        .query_map(params![start, end], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
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
}
