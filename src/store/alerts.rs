//! Alerts, their timeline, thresholds, and how far the daily job has got.

use super::Cached;
use super::Result;
use super::days::bound;
use super::ids::{IdMap, IdSet};
use super::stored::{self, day_number, day_number_opt};
use crate::domain::User;
use crate::domain::alerts::{AlertStatus, AlertType, Severity, StoredCode, Thresholds};
use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// An alert that is not resolved, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveAlert {
    pub id: i64,
    pub severity: Severity,
    pub status: AlertStatus,
    pub count: u32,
    pub first_missed: Option<NaiveDate>,
    pub as_of: Option<NaiveDate>,
    pub streak_start: Option<NaiveDate>,
    pub escalated: bool,
}

/// The status codes the statements here name (`StoredCode for AlertStatus`).
const OPEN: i64 = 1;
const SNOOZED: i64 = 3;
const RESOLVED: i64 = 4;

const LIVE_COLUMNS: &str = "id, severity, status, count, first_missed, as_of, streak_start, escalated";

fn live_from_row(r: &Row, at: usize) -> rusqlite::Result<LiveAlert> {
    Ok(LiveAlert {
        id: r.get(at)?,
        severity: stored::get_code(r, at + 1)?,
        status: stored::get_code(r, at + 2)?,
        count: r.get(at + 3)?,
        first_missed: stored::get_day_opt(r, at + 4)?,
        as_of: stored::get_day_opt(r, at + 5)?,
        streak_start: stored::get_day_opt(r, at + 6)?,
        escalated: r.get(at + 7)?,
    })
}

/// The column an alert type is kept per: one live alert per enrollment, or per student.
fn key_column(kind: AlertType) -> &'static str {
    if kind == AlertType::NoLogin { "student" } else { "enrollment" }
}

/// Live alerts of one type, keyed by enrollment (missing_attendance) or student (no_login).
pub fn live(conn: &Connection, kind: AlertType) -> Result<IdMap<i64, LiveAlert>> {
    let sql =
        format!("SELECT {}, {LIVE_COLUMNS} FROM alerts WHERE type = ?1 AND status <> {RESOLVED}", key_column(kind));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([kind.code()], |r| Ok((r.get(0)?, live_from_row(r, 1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The live alert of one student (no_login) or one of their enrollments (missing_attendance).
pub fn live_one(
    conn: &Connection,
    kind: AlertType,
    student: i64,
    enrollment: Option<i64>,
) -> Result<Option<LiveAlert>> {
    // The key of alerts_one_live, column for column, so this is one index lookup.
    let sql = format!(
        "SELECT {LIVE_COLUMNS} FROM alerts
          WHERE type = ?1 AND student = ?2 AND ifnull(enrollment, 0) = ifnull(?3, 0) AND status <> {RESOLVED}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt.query_row(params![kind.code(), student, enrollment], |r| live_from_row(r, 0)).optional()?)
}

/// The severity a person resolved an earlier alert of the same streak at, if they did.
/// The students with an alert of `kind` a person resolved: only they can have a streak that
/// must not be reopened, so the job looks up resolutions for them alone.
pub fn students_resolved_by_people(conn: &Connection, kind: AlertType) -> Result<IdSet<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT student FROM alerts INDEXED BY alerts_streak
          WHERE type = ?1 AND resolved_severity IS NOT NULL",
    )?;
    let students = stmt.query_map([kind.code()], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(students)
}

pub fn manual_resolution(
    conn: &Connection,
    kind: AlertType,
    student: i64,
    enrollment: Option<i64>,
    streak_start: Option<NaiveDate>,
) -> Result<Option<Severity>> {
    // Pinned to its index: an inbox index in severity order once tempted the planner into
    // walking every resolved alert for each call.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT max(resolved_severity) FROM alerts INDEXED BY alerts_streak
          WHERE type = ?1 AND student = ?2 AND ifnull(enrollment, 0) = ifnull(?3, 0)
            AND streak_start IS ?4 AND status = {RESOLVED} AND resolved_severity IS NOT NULL"
    ))?;
    Ok(stmt.query_row(params![kind.code(), student, enrollment, day_number_opt(streak_start)], |r| {
        stored::get_code_opt(r, 0)
    })?)
}

pub struct NewAlert {
    pub kind: AlertType,
    pub severity: Severity,
    pub student: i64,
    pub enrollment: Option<i64>,
    pub program: Option<i64>,
    pub count: u32,
    pub first_missed: Option<NaiveDate>,
    pub streak_start: Option<NaiveDate>,
    pub as_of: NaiveDate,
}

impl NewAlert {
    /// The live alert `insert` makes of this, once it has its id.
    pub fn as_opened(&self, id: i64) -> LiveAlert {
        LiveAlert {
            id,
            severity: self.severity,
            status: AlertStatus::Open,
            count: self.count,
            first_missed: self.first_missed,
            as_of: Some(self.as_of),
            streak_start: self.streak_start,
            escalated: self.severity == Severity::Critical,
        }
    }
}

pub fn insert(conn: &Connection, alert: &NewAlert, now: &str) -> Result<i64> {
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO alerts (type, severity, status, student, enrollment, program, count, first_missed,
                             escalated, opened_at, updated_at, as_of, streak_start)
         VALUES (?1, ?2, {OPEN}, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)"
    ))?;
    stmt.execute(params![
        alert.kind.code(),
        alert.severity.code(),
        alert.student,
        alert.enrollment,
        alert.program,
        alert.count,
        day_number_opt(alert.first_missed),
        alert.severity == Severity::Critical,
        stored::bound_seconds(now)?,
        day_number(alert.as_of),
        day_number_opt(alert.streak_start)
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Writes a live alert's computed fields after the rules looked at it again.
pub fn update_streak(conn: &Connection, before: &LiveAlert, after: &LiveAlert, now: &str) -> Result<()> {
    // SQLite rewrites every index on a column named in SET; the inbox indexes hold severity and
    // status, which change far less often than the count, so they get their own statement.
    let mut stmt = conn
        .prepare_cached("UPDATE alerts SET count = ?2, first_missed = ?3, as_of = ?4, updated_at = ?5 WHERE id = ?1")?;
    stmt.execute(params![
        after.id,
        after.count,
        day_number_opt(after.first_missed),
        day_number_opt(after.as_of),
        stored::bound_seconds(now)?
    ])?;
    // streak_start is in alerts_streak: named only when it changed.
    if before.streak_start != after.streak_start {
        let mut stmt = conn.prepare_cached("UPDATE alerts SET streak_start = ?2 WHERE id = ?1")?;
        stmt.execute(params![after.id, day_number_opt(after.streak_start)])?;
    }
    if (before.severity, before.escalated) != (after.severity, after.escalated) {
        let mut stmt = conn.prepare_cached("UPDATE alerts SET severity = ?2, escalated = ?3 WHERE id = ?1")?;
        stmt.execute(params![after.id, after.severity.code(), after.escalated])?;
    }
    // status decides alerts_one_live and alerts_live_inbox: named only when it changed.
    if before.status != after.status {
        let mut stmt = conn.prepare_cached(&format!(
            "UPDATE alerts SET status = ?2, snoozed_until = CASE WHEN ?2 = {SNOOZED} THEN snoozed_until END
              WHERE id = ?1"
        ))?;
        stmt.execute(params![after.id, after.status.code()])?;
    }
    Ok(())
}

/// Marks an alert resolved. `by_person` keeps the severity, so the same streak is not reopened.
pub fn resolve(conn: &Connection, id: i64, by: &str, by_person: bool, now: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE alerts SET status = {RESOLVED}, resolved_at = ?3, resolved_by = ?2, updated_at = ?3,
                snoozed_until = NULL, resolved_severity = CASE WHEN ?4 THEN severity END
          WHERE id = ?1"
    ))?;
    stmt.execute(params![id, by, stored::bound_seconds(now)?, by_person])?;
    Ok(())
}

/// Sets the triage fields a person changes.
pub fn set_triage(
    conn: &Connection,
    id: i64,
    status: AlertStatus,
    assigned_to: Option<&str>,
    snoozed_until: Option<&str>,
    now: &str,
) -> Result<()> {
    conn.execute_cached(
        "UPDATE alerts SET status = ?2, assigned_to = ?3, snoozed_until = ?4, updated_at = ?5 WHERE id = ?1",
        params![id, status.code(), assigned_to, stored::bound_seconds_opt(snoozed_until)?, stored::bound_seconds(now)?],
    )?;
    Ok(())
}

/// Snoozed alerts whose time has come.
pub fn snoozes_ending(conn: &Connection, now: &str) -> Result<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT id FROM alerts WHERE status = {SNOOZED} AND snoozed_until <= ?1"))?;
    let ids = stmt.query_map([stored::bound_seconds(now)?], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

pub fn add_event(
    conn: &Connection,
    alert: i64,
    at: &str,
    actor: &str,
    kind: &str,
    run_date: Option<NaiveDate>,
    note: Option<&str>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO alert_events (alert, at, actor, kind, run_date, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(params![alert, stored::bound_seconds(at)?, actor, kind, day_number_opt(run_date), note])?;
    Ok(())
}

/// Timeline entries the alert rules write, kept until `write` puts them in a hundred to a
/// statement, each alert's together (a statement per entry was a tenth of the daily job).
#[derive(Default)]
pub struct TimelineBatch {
    entries: Vec<(i64, &'static str, Option<NaiveDate>, String)>,
}

/// Entries per INSERT: 400 parameters, well under SQLite's limit.
const TIMELINE_CHUNK: usize = 100;

impl TimelineBatch {
    pub fn add(&mut self, alert: i64, kind: &'static str, run_date: Option<NaiveDate>, note: String) {
        self.entries.push((alert, kind, run_date, note));
    }

    /// Writes what was added, at `at` by `actor`, and empties the batch. An alert's entries keep
    /// the order they were added in.
    pub fn write(&mut self, conn: &Connection, at: &str, actor: &str) -> Result<()> {
        // The statement inserting n rows, for every n up to a chunk, written once per process.
        // OR FAIL: a failing entry fails the whole command anyway, so SQLite need not keep a
        // journal to undo the statement's earlier rows (with foreign keys checked it still does).
        static INSERTS: LazyLock<Vec<String>> = LazyLock::new(|| {
            let row = |i: usize| format!("(?{}, ?1, ?2, ?{}, ?{}, ?{})", 4 * i + 3, 4 * i + 4, 4 * i + 5, 4 * i + 6);
            (0..=TIMELINE_CHUNK)
                .map(|rows| {
                    let values: Vec<String> = (0..rows).map(row).collect();
                    format!(
                        "INSERT OR FAIL INTO alert_events (alert, at, actor, kind, run_date, note) VALUES {}",
                        values.join(", ")
                    )
                })
                .collect()
        });
        self.entries.sort_by_key(|entry| entry.0);
        let at = stored::bound_seconds(at)?;
        for chunk in self.entries.chunks(TIMELINE_CHUNK) {
            let mut insert = conn.prepare_cached(&INSERTS[chunk.len()])?;
            bind_timeline(&mut insert, at, actor, chunk)?;
            insert.raw_execute()?;
        }
        self.entries.clear();
        Ok(())
    }
}

fn bind_timeline(
    stmt: &mut rusqlite::Statement,
    at: i64,
    actor: &str,
    entries: &[(i64, &'static str, Option<NaiveDate>, String)],
) -> Result<()> {
    stmt.raw_bind_parameter(1, at)?;
    stmt.raw_bind_parameter(2, actor)?;
    for (i, (alert, kind, run_date, note)) in entries.iter().enumerate() {
        stmt.raw_bind_parameter(4 * i + 3, alert)?;
        stmt.raw_bind_parameter(4 * i + 4, kind)?;
        stmt.raw_bind_parameter(4 * i + 5, day_number_opt(*run_date))?;
        stmt.raw_bind_parameter(4 * i + 6, note)?;
    }
    Ok(())
}

pub fn thresholds(conn: &Connection, kind: AlertType) -> Result<Thresholds> {
    Ok(conn.query_row_cached(
        "SELECT warn, escalate, critical FROM alert_thresholds WHERE type = ?1",
        [kind.as_str()],
        |r| Ok(Thresholds { warn: r.get(0)?, escalate: r.get(1)?, critical: r.get(2)? }),
    )?)
}

pub fn set_thresholds(conn: &Connection, kind: AlertType, t: &Thresholds) -> Result<()> {
    conn.execute_cached(
        "UPDATE alert_thresholds SET warn = ?2, escalate = ?3, critical = ?4 WHERE type = ?1",
        params![kind.as_str(), t.warn, t.escalate, t.critical],
    )?;
    Ok(())
}

const PROCESSED_KEY: &str = "alerts_processed_through";

/// The day `job_state` holds under `key`, if any.
pub(super) fn day_in_job_state(conn: &Connection, key: &str) -> Result<Option<NaiveDate>> {
    let value: Option<String> =
        conn.query_row_cached("SELECT value FROM job_state WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(value.and_then(|v| v.parse().ok()))
}

/// The last day the daily job processed.
pub fn processed_through(conn: &Connection) -> Result<Option<NaiveDate>> {
    day_in_job_state(conn, PROCESSED_KEY)
}

/// Records `day` as processed; the first day ever processed is kept too, because the rules may
/// only speak for days the job actually processed.
pub fn set_processed_through(conn: &Connection, day: NaiveDate) -> Result<()> {
    conn.execute_cached(
        "INSERT INTO job_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![PROCESSED_KEY, day.to_string()],
    )?;
    conn.execute_cached(
        "INSERT INTO job_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        params![FIRST_PROCESSED_KEY, day.to_string()],
    )?;
    Ok(())
}

const FIRST_PROCESSED_KEY: &str = "alerts_first_processed";

/// The days the daily job has processed: from the first to the last, without gaps.
pub fn processed_days(conn: &Connection) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let Some(last) = processed_through(conn)? else { return Ok(None) };
    let first = day_in_job_state(conn, FIRST_PROCESSED_KEY)?.unwrap_or(last);
    Ok(Some((first, last)))
}

/// An alert as people see it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: AlertType,
    pub severity: Severity,
    pub status: AlertStatus,
    pub student_id: String,
    pub student_name: String,
    pub enrollment_id: Option<String>,
    pub program_id: Option<String>,
    pub count: u32,
    pub first_missed: Option<NaiveDate>,
    pub escalated: bool,
    pub assigned_to: Option<String>,
    pub snoozed_until: Option<String>,
    pub opened_at: String,
    pub updated_at: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    #[serde(skip)]
    pub student: i64,
    /// `opened_at` as stored, where the next page starts.
    #[serde(skip)]
    pub opened_seconds: i64,
}

const VIEW_COLUMNS: &str = "
    SELECT a.id, a.type, a.severity, a.status, s.student_id, s.first_name || ' ' || s.last_name,
           e.enrollment_id, p.program_id, a.count, a.first_missed, a.escalated, a.assigned_to,
           a.snoozed_until, a.opened_at, a.updated_at, a.resolved_at, a.resolved_by, a.student, a.opened_at";

const VIEW_JOINS: &str = "
      JOIN students s ON s.id = a.student
      LEFT JOIN enrollments e ON e.id = a.enrollment
      LEFT JOIN programs p ON p.id = a.program";

fn view_from_row(r: &Row) -> rusqlite::Result<AlertView> {
    Ok(AlertView {
        id: r.get(0)?,
        kind: stored::get_code(r, 1)?,
        severity: stored::get_code(r, 2)?,
        status: stored::get_code(r, 3)?,
        student_id: r.get(4)?,
        student_name: r.get(5)?,
        enrollment_id: r.get(6)?,
        program_id: r.get(7)?,
        count: r.get(8)?,
        first_missed: stored::get_day_opt(r, 9)?,
        escalated: r.get(10)?,
        assigned_to: r.get(11)?,
        snoozed_until: stored::get_time_opt(r, 12)?,
        opened_at: stored::get_time(r, 13)?,
        updated_at: stored::get_time(r, 14)?,
        resolved_at: stored::get_time_opt(r, 15)?,
        resolved_by: r.get(16)?,
        student: r.get(17)?,
        opened_seconds: r.get(18)?,
    })
}

/// Which alerts a list shows. `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// `None`: open and acknowledged (snoozed ones are hidden until their time).
    pub status: Option<AlertStatus>,
    pub all_statuses: bool,
    pub severity: Option<Severity>,
    pub kind: Option<AlertType>,
    pub program_id: Option<String>,
    pub assigned_to: Option<String>,
    /// Part of the student's ID or name, any case.
    pub text: Option<String>,
    /// Only this student's alerts.
    pub student_id: Option<String>,
}

/// Where a page ends, to start the next one after it (most severe first, then oldest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCursor {
    pub severity: Severity,
    pub opened_seconds: i64,
    pub id: i64,
}

impl AlertView {
    pub fn cursor(&self) -> AlertCursor {
        AlertCursor { severity: self.severity, opened_seconds: self.opened_seconds, id: self.id }
    }
}

/// Which way a page runs from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The alerts after the cursor in inbox order.
    After,
    /// The alerts before the cursor (returned in inbox order too).
    Before,
}

/// A page of the alerts `viewer` may see, most severe first, then oldest, next to `cursor`
/// (from the start, or from the end for `Before`, when there is none).
pub fn list(
    conn: &Connection,
    viewer: &User,
    filter: &AlertFilter,
    cursor: Option<&AlertCursor>,
    direction: Direction,
    limit: usize,
) -> Result<Vec<AlertView>> {
    let mut page = Vec::new();
    each(conn, viewer, filter, cursor, direction, limit, |view| {
        page.push(view);
        true
    })?;
    if direction == Direction::Before {
        page.reverse();
    }
    Ok(page)
}

/// `list`'s alerts handed to `take` one by one as they are read (`Before` hands them over
/// nearest the cursor first), until it says stop by returning false.
pub fn each(
    conn: &Connection,
    viewer: &User,
    filter: &AlertFilter,
    cursor: Option<&AlertCursor>,
    direction: Direction,
    limit: usize,
    mut take: impl FnMut(AlertView) -> bool,
) -> Result<()> {
    let status_clause = match (filter.all_statuses, filter.status) {
        (true, _) => "1",
        // Naming the live condition lets a live status walk alerts_live_inbox.
        (false, Some(AlertStatus::Resolved)) => "a.status = ?2",
        (false, Some(_)) => &format!("a.status <> {RESOLVED} AND a.status = ?2"),
        // Snoozed alerts are hidden until their time (SPEC "Triage"); ask for them by status.
        (false, None) => &format!("a.status <> {RESOLVED} AND a.status <> {SNOOZED}"),
    };
    let (beyond, order) = match direction {
        Direction::After => (
            "a.severity < ?7 OR (a.severity = ?7 AND (a.opened_at > ?8 OR (a.opened_at = ?8 AND a.id > ?9)))",
            "a.severity DESC, a.opened_at, a.id",
        ),
        Direction::Before => (
            "a.severity > ?7 OR (a.severity = ?7 AND (a.opened_at < ?8 OR (a.opened_at = ?8 AND a.id < ?9)))",
            "a.severity, a.opened_at DESC, a.id DESC",
        ),
    };
    // An admin's page walks an index in inbox order. A partner's starts from their assignments
    // (CROSS JOIN fixes that order) and sorts their few alerts, instead of walking everyone's:
    // live ones from the live alerts' index, the others through the blocks of alert ids.
    let live_only = !filter.all_statuses && filter.status != Some(AlertStatus::Resolved);
    let from = match (viewer.role.is_partner(), live_only) {
        (true, true) => "FROM student_assignments x CROSS JOIN alerts a INDEXED BY alerts_one_live
                           ON a.type IN (1, 2) AND a.student = x.student AND a.status <> 4 /* resolved */ AND x.login = ?1",
        (true, false) => concat!(
            "FROM student_assignments x CROSS JOIN alerts a INDEXED BY alerts_student_block
              ON (a.id >> 17) IN ",
            alert_blocks!(),
            " AND a.student = x.student AND x.login = ?1"
        ),
        (false, _) => "FROM alerts a",
    };
    let sql = format!(
        "{VIEW_COLUMNS} {from} {VIEW_JOINS}
         WHERE {status_clause}
           AND (?3 IS NULL OR a.severity = ?3) AND (?4 IS NULL OR a.type = ?4)
           AND (?5 IS NULL OR p.program_id = ?5) AND (?6 IS NULL OR a.assigned_to = ?6)
           AND (?11 IS NULL OR s.student_id LIKE '%' || ?11 || '%'
                OR (s.first_name || ' ' || s.last_name) LIKE '%' || ?11 || '%')
           AND (?12 IS NULL OR s.student_id = ?12)
           AND (?7 IS NULL OR {beyond})
         ORDER BY {order}
         LIMIT ?10"
    );
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![
        scope,
        filter.status.map(|s| s.code()),
        filter.severity.map(|s| s.code()),
        filter.kind.map(|k| k.code()),
        filter.program_id,
        filter.assigned_to,
        cursor.map(|c| c.severity.code()),
        cursor.map(|c| c.opened_seconds),
        cursor.map(|c| c.id),
        i64::try_from(limit).unwrap_or(i64::MAX),
        filter.text.as_deref().filter(|t| !t.is_empty()),
        filter.student_id,
    ])?;
    while let Some(row) = rows.next()? {
        if !take(view_from_row(row)?) {
            break;
        }
    }
    Ok(())
}

/// Live alerts `viewer` may see in the inbox (snoozed ones are hidden), by severity: (critical, escalate, warn).
pub fn live_counts(conn: &Connection, viewer: &User) -> Result<(u64, u64, u64)> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT severity, count(*) FROM alerts a WHERE status <> {RESOLVED} AND status <> {SNOOZED}
            AND (?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = a.student AND x.login = ?1))
          GROUP BY severity"
    ))?;
    let mut counts = (0, 0, 0);
    let mut rows = stmt.query([scope])?;
    while let Some(row) = rows.next()? {
        let n = u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
        match row.get::<_, i64>(0)? {
            3 => counts.0 = n,
            2 => counts.1 = n,
            _ => counts.2 = n,
        }
    }
    Ok(counts)
}

/// One alert, if `viewer` may see it.
pub fn get(conn: &Connection, viewer: &User, id: i64) -> Result<AlertView> {
    let view = conn
        .query_row_cached(&format!("{VIEW_COLUMNS} FROM alerts a {VIEW_JOINS} WHERE a.id = ?1"), [id], view_from_row)
        .optional()?
        .ok_or_else(|| super::hidden(viewer, &format!("alert {id}")))?;
    if viewer.role.is_partner() {
        let assigned: bool = conn.query_row_cached(
            "SELECT EXISTS (SELECT 1 FROM student_assignments WHERE login = ?1 AND student = ?2)",
            params![viewer.login, view.student],
            |r| r.get(0),
        )?;
        if !assigned {
            return Err(super::hidden(viewer, &format!("alert {id}")));
        }
    }
    Ok(view)
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertEvent {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub run_date: Option<NaiveDate>,
    pub note: Option<String>,
}

pub fn timeline(conn: &Connection, alert: i64) -> Result<Vec<AlertEvent>> {
    let mut stmt =
        conn.prepare_cached("SELECT at, actor, kind, run_date, note FROM alert_events WHERE alert = ?1 ORDER BY id")?;
    let events = stmt
        .query_map([alert], |r| {
            Ok(AlertEvent {
                at: stored::get_time(r, 0)?,
                actor: r.get(1)?,
                kind: r.get(2)?,
                run_date: stored::get_day_opt(r, 3)?,
                note: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(events)
}

/// Changes only the status (keeping the assignee), clearing any snooze.
pub fn set_triage_status(conn: &Connection, id: i64, status: AlertStatus, now: &str) -> Result<()> {
    conn.execute_cached(
        "UPDATE alerts SET status = ?2, snoozed_until = NULL, updated_at = ?3 WHERE id = ?1",
        params![id, status.code(), stored::bound_seconds(now)?],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OpenMode, Store};

    /// Alerts in blocks 0, 1 and 7 of `alerts_student_block` (blocks 2–6 hold none): every
    /// lookup of a student's alerts finds all of theirs and no one else's, and walks the index.
    #[test]
    fn a_students_alerts_are_found_in_every_block_that_holds_alerts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO students (id, student_id, first_name, last_name) VALUES (1, 'S1', 'Ann', 'Lee'), (2, 'S2', 'Bo', 'Ray');
             INSERT INTO users (login, name, role, created_at) VALUES ('ws', 'Worksite', 'worksite', '2026-01-01T00:00:00Z');
             INSERT INTO student_assignments (login, student) VALUES ('ws', 1);",
        )
        .unwrap();
        // (id, student, status): Ann's live alert sits in block 7, her resolved ones in 0 and 1.
        let alerts = [(5, 1, 4), (6, 2, 4), (200_000, 1, 4), (200_001, 2, 4), (7 << 17, 1, 1), ((7 << 17) + 1, 2, 1)];
        for (id, student, status) in alerts {
            conn.execute(
                "INSERT INTO alerts (id, type, severity, status, student, count, opened_at, updated_at, resolved_at)
                 VALUES (?1, 2, 3, ?3, ?2, 5, 1000, 1000, CASE WHEN ?3 = 4 THEN 2000 END)",
                params![id, student, status],
            )
            .unwrap();
        }
        let partner = User {
            login: "ws".into(),
            name: "Worksite".into(),
            role: crate::domain::Role::Worksite,
            email: None,
            onboarding_waived: false,
        };
        let ids = |filter: AlertFilter| -> Vec<i64> {
            let mut ids: Vec<i64> =
                list(conn, &partner, &filter, None, Direction::After, 100).unwrap().iter().map(|a| a.id).collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(ids(AlertFilter { all_statuses: true, ..Default::default() }), [5, 200_000, 7 << 17]);
        assert_eq!(ids(AlertFilter { status: Some(AlertStatus::Resolved), ..Default::default() }), [5, 200_000]);
        assert_eq!(ids(AlertFilter::default()), [7 << 17]);

        let critical =
            crate::store::figures::critical_alerts(conn, &[1].into(), "1970-01-01T00:00:00Z", "1970-01-02T00:00:00Z")
                .unwrap();
        assert_eq!(critical.len(), 3, "Ann's three critical alerts, one student of two asked for alone");

        crate::store::replica::set_scope(conn, &["ws".to_string()]).unwrap();
        let (_, filter) = crate::store::replica::TABLES.iter().find(|(t, _)| *t == "alerts").unwrap();
        let scoped: Vec<i64> = conn
            .prepare(&format!("SELECT id FROM alerts WHERE {filter} ORDER BY id"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(scoped, [5, 200_000, 7 << 17]);
        let plan: String = conn
            .prepare(&format!("EXPLAIN QUERY PLAN SELECT id FROM alerts WHERE {filter}"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
            .join("\n");
        assert!(plan.contains("USING COVERING INDEX alerts_student_block (<expr>=? AND student=?)"), "{plan}");
    }

    #[test]
    fn a_batched_timeline_keeps_each_alerts_entries_in_order_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        conn.execute("INSERT INTO students (student_id, first_name, last_name) VALUES ('S1', 'A', 'B')", []).unwrap();
        for _ in 0..3 {
            conn.execute(
                "INSERT INTO alerts (type, severity, status, student, count, opened_at, updated_at)
                 VALUES (2, 1, 4, 1, 3, 0, 0)",
                [],
            )
            .unwrap();
        }
        let day: NaiveDate = "2026-11-18".parse().unwrap();
        let mut batch = TimelineBatch::default();
        // 250 entries, alerts interleaved, so two full chunks and a remainder.
        for step in 0..250 {
            let alert = 3 - step % 3;
            batch.add(alert, "updated", (step % 2 == 0).then_some(day), format!("step {step}"));
        }
        batch.write(conn, "2026-11-19T06:00:00Z", "system").unwrap();
        for alert in 1..=3 {
            let notes: Vec<String> = timeline(conn, alert).unwrap().into_iter().filter_map(|e| e.note).collect();
            let expected: Vec<String> =
                (0..250).filter(|step| 3 - step % 3 == alert).map(|step| format!("step {step}")).collect();
            assert_eq!(notes, expected);
        }
        let events = timeline(conn, 3).unwrap();
        assert_eq!((events[0].run_date, events[1].run_date), (Some(day), None));
        assert_eq!((events[0].at.as_str(), events[0].actor.as_str()), ("2026-11-19T06:00:00Z", "system"));
        batch.write(conn, "2026-11-19T07:00:00Z", "system").unwrap();
        let total: i64 = conn.query_row("SELECT count(*) FROM alert_events", [], |r| r.get(0)).unwrap();
        assert_eq!(total, 250, "a written batch is empty");
    }

    #[test]
    fn the_status_codes_named_in_sql_are_the_stored_ones() {
        assert_eq!(
            (OPEN, SNOOZED, RESOLVED),
            (AlertStatus::Open.code(), AlertStatus::Snoozed.code(), AlertStatus::Resolved.code())
        );
    }

    #[test]
    fn the_alert_response_report_reads_acknowledgements_from_their_own_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), OpenMode::CreateIfMissing).unwrap();
        let plan: Vec<String> = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {RESPONSE_TIMES}"))
            .unwrap()
            .query_map(rusqlite::params![None::<String>, "2026-01-01", "2026-02-01"], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("COVERING INDEX alert_events_acknowledged"), "{plan}");
    }
}

/// An alert about one of the viewer's students that opened or rose, for the console to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event: i64,
    pub alert: i64,
    /// `opened` or `raised`.
    pub what: String,
    pub severity: String,
    pub kind: String,
    pub student_id: String,
    pub name: String,
    pub at: String,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.kind == "no_login" { "no-login" } else { "attendance" };
        let what = if self.what == "raised" { "rose to" } else { "opened at" };
        write!(f, "{kind} alert {} about {} ({}) {what} {}", self.alert, self.name, self.student_id, self.severity)
    }
}

/// The newest alert event there is, where notices start from.
pub fn last_event(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row_cached("SELECT ifnull(max(id), 0) FROM alert_events", [], |r| r.get(0))?)
}

/// Alerts about the viewer's students that opened or rose after event `after`, newest first, at
/// most `limit`; and how many there were in all.
pub fn notices_since(conn: &Connection, viewer: &User, after: i64, limit: usize) -> Result<(Vec<Notice>, usize)> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, a.id, e.kind, a.severity, a.type, s.student_id, s.first_name || ' ' || s.last_name, e.at
           FROM alert_events e JOIN alerts a ON a.id = e.alert JOIN students s ON s.id = a.student
          WHERE e.id > ?2 AND e.kind IN ('opened', 'raised')
            AND (?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = a.student AND x.login = ?1))
          ORDER BY e.id DESC",
    )?;
    let mut rows = stmt.query(params![scope, after])?;
    let (mut notices, mut count) = (Vec::new(), 0);
    while let Some(r) = rows.next()? {
        count += 1;
        if notices.len() < limit {
            notices.push(Notice {
                event: r.get(0)?,
                alert: r.get(1)?,
                what: r.get(2)?,
                severity: stored::get_code::<Severity>(r, 3)?.to_string(),
                kind: stored::get_code::<AlertType>(r, 4)?.to_string(),
                student_id: r.get(5)?,
                name: r.get(6)?,
                at: stored::get_time(r, 7)?,
            });
        }
    }
    Ok((notices, count))
}

/// Whole minutes from an alert's opening to its first acknowledgement and to its resolution
/// (`None`: not yet).
pub type ResponseMinutes = (Option<i64>, Option<i64>);

/// Each alert's first acknowledgement comes from the index of acknowledgements alone
/// (`alert_events_acknowledged`), not from every entry of its timeline; its minutes are worked
/// out once, not once for each of its student's partners.
const RESPONSE_TIMES: &str = "WITH a AS MATERIALIZED (
         SELECT a.student,
                max(((SELECT min(e.at) FROM alert_events e WHERE e.alert = a.id AND e.kind = 'acknowledged')
                     - a.opened_at) / 60, 0) AS to_ack,
                max((CASE WHEN a.status = 4 /* resolved */ THEN a.resolved_at END - a.opened_at) / 60, 0)
                    AS to_resolve
           FROM alerts a WHERE a.opened_at >= unixepoch(?2) AND a.opened_at < unixepoch(?3))
     SELECT x.login, a.to_ack, a.to_resolve
       FROM a JOIN student_assignments x ON x.student = a.student
      WHERE ?1 IS NULL OR x.login = ?1";

/// For each partner (`only`: that one), each alert about one of their students opened from
/// `from` to `to` (UTC dates), in no particular order. Each alert's times are read once, however
/// many partners its student has.
pub fn response_times(
    conn: &Connection,
    only: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, Vec<ResponseMinutes>>> {
    let mut stmt = conn.prepare_cached(RESPONSE_TIMES)?;
    let after_to = to.succ_opt().unwrap_or(to);
    super::grouped_by_first_column(stmt.query(params![only, bound(from), bound(after_to)])?, |r| {
        Ok(Some((r.get(1)?, r.get(2)?)))
    })
}

/// A student with open alerts: the worst severity, how many, and since when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AtRisk {
    pub student_id: String,
    pub name: String,
    pub severity: Severity,
    pub open_alerts: i64,
    /// The oldest open alert's opening, RFC 3339.
    pub open_since: String,
}

/// The students `viewer` may see with open (or snoozed) alerts, most severe first, then longest open.
pub fn at_risk(conn: &Connection, viewer: &User) -> Result<Vec<AtRisk>> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT s.student_id, s.first_name || ' ' || s.last_name, max(a.severity), count(*), min(a.opened_at)
           FROM alerts a JOIN students s ON s.id = a.student
          WHERE a.status <> {RESOLVED}
            AND (?1 IS NULL OR EXISTS (SELECT 1 FROM student_assignments x WHERE x.student = a.student AND x.login = ?1))
          GROUP BY a.student
          ORDER BY 3 DESC, 5, 1"
    ))?;
    let rows = stmt
        .query_map([scope], |r| {
            Ok(AtRisk {
                student_id: r.get(0)?,
                name: r.get(1)?,
                severity: stored::get_code(r, 2)?,
                open_alerts: r.get(3)?,
                open_since: stored::get_time(r, 4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
