//! Scheduled reports and their runs (SPEC "Reports": scheduled reports).

use super::{Cached, Result};
use rusqlite::{Connection, OptionalExtension, params};

/// A report an admin asked the daemon to make on a schedule.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Schedule {
    pub id: i64,
    pub report: String,
    pub every: String,
    pub program: Option<String>,
    pub partner: Option<String>,
    pub recipients: String,
    pub owner: String,
    pub next_due: String,
    pub created_at: String,
    /// The latest run: its due date, status and what happened.
    pub last_due: Option<String>,
    pub last_status: Option<String>,
    pub last_detail: Option<String>,
}

pub struct NewSchedule<'a> {
    pub report: &'a str,
    pub every: &'a str,
    pub program: Option<&'a str>,
    pub partner: Option<&'a str>,
    pub recipients: &'a str,
    pub owner: &'a str,
    pub next_due: chrono::NaiveDate,
    pub at: &'a str,
}

pub fn add(conn: &Connection, s: &NewSchedule) -> Result<i64> {
    conn.execute(
        "INSERT INTO report_schedules (report, every, program, partner, recipients, owner, next_due, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![s.report, s.every, s.program, s.partner, s.recipients, s.owner, s.next_due, s.at],
    )?;
    Ok(conn.last_insert_rowid())
}

const SCHEDULE: &str = "
    SELECT s.id, s.report, s.every, s.program, s.partner, s.recipients, s.owner, s.next_due, s.created_at,
           r.due, r.status, r.detail
      FROM report_schedules s
      LEFT JOIN report_runs r ON r.id = (SELECT max(id) FROM report_runs WHERE schedule = s.id)
     WHERE s.removed_at IS NULL";

fn schedule(r: &rusqlite::Row) -> rusqlite::Result<Schedule> {
    Ok(Schedule {
        id: r.get(0)?,
        report: r.get(1)?,
        every: r.get(2)?,
        program: r.get(3)?,
        partner: r.get(4)?,
        recipients: r.get(5)?,
        owner: r.get(6)?,
        next_due: r.get(7)?,
        created_at: r.get(8)?,
        last_due: r.get(9)?,
        last_status: r.get(10)?,
        last_detail: r.get(11)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<Schedule>> {
    let mut stmt = conn.prepare_cached(&format!("{SCHEDULE} ORDER BY s.id"))?;
    Ok(stmt.query_map([], schedule)?.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Schedule>> {
    Ok(conn.query_row_cached(&format!("{SCHEDULE} AND s.id = ?1"), [id], schedule).optional()?)
}

pub fn remove(conn: &Connection, id: i64, at: &str) -> Result<bool> {
    Ok(conn
        .execute("UPDATE report_schedules SET removed_at = ?2 WHERE id = ?1 AND removed_at IS NULL", params![id, at])?
        == 1)
}

/// Schedules due on or before `today`, and runs waiting to be tried again by `now`.
pub fn due(conn: &Connection, today: chrono::NaiveDate, now: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM report_schedules WHERE removed_at IS NULL AND next_due <= ?1
         UNION
         SELECT r.schedule FROM report_runs r JOIN report_schedules s ON s.id = r.schedule
          WHERE s.removed_at IS NULL AND r.status = 'retry' AND r.next_attempt_at <= ?2
         ORDER BY 1",
    )?;
    Ok(stmt.query_map(params![today, now], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// Where one run stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<String>,
    pub detail: Option<String>,
    /// When it last changed.
    pub at: String,
}

pub fn run_of(conn: &Connection, schedule: i64, due: &str) -> Result<Option<Run>> {
    Ok(conn
        .query_row_cached(
            "SELECT status, attempts, next_attempt_at, detail, at FROM report_runs WHERE schedule = ?1 AND due = ?2",
            params![schedule, due],
            |r| {
                Ok(Run {
                    status: r.get(0)?,
                    attempts: r.get(1)?,
                    next_attempt_at: r.get(2)?,
                    detail: r.get(3)?,
                    at: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// The run waiting for a retry, if any: its due date.
pub fn retrying(conn: &Connection, schedule: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row_cached(
            "SELECT due FROM report_runs WHERE schedule = ?1 AND status = 'retry' ORDER BY id DESC LIMIT 1",
            [schedule],
            |r| r.get(0),
        )
        .optional()?)
}

/// Marks the run `sending` (creating it, or taking it up again for a retry), one attempt more.
pub fn start_run(conn: &Connection, schedule: i64, due: &str, detail: Option<&str>, at: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO report_runs (schedule, due, status, attempts, detail, at) VALUES (?1, ?2, 'sending', 1, ?3, ?4)
         ON CONFLICT (schedule, due) DO UPDATE SET status = 'sending', attempts = attempts + 1, detail = ?3, at = ?4",
        params![schedule, due, detail, at],
    )?;
    Ok(())
}

pub fn finish_run(
    conn: &Connection,
    schedule: i64,
    due: &str,
    status: &str,
    detail: Option<&str>,
    next_attempt_at: Option<&str>,
    at: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE report_runs SET status = ?3, detail = ?4, next_attempt_at = ?5, at = ?6 WHERE schedule = ?1 AND due = ?2",
        params![schedule, due, status, detail, next_attempt_at, at],
    )?;
    Ok(())
}

pub fn set_next_due(conn: &Connection, schedule: i64, next_due: chrono::NaiveDate) -> Result<()> {
    conn.execute("UPDATE report_schedules SET next_due = ?2 WHERE id = ?1", params![schedule, next_due])?;
    Ok(())
}

/// Runs a stopped sender left `sending`: now `unknown`, never sent again.
pub fn interrupted_to_unknown(conn: &Connection, at: &str) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE report_runs SET status = 'unknown', detail = 'the sender stopped while sending; it may or may not have arrived', at = ?1
          WHERE status = 'sending' AND detail IS NOT 'writing' RETURNING schedule, due",
    )?;
    Ok(stmt.query_map([at], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}
