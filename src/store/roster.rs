//! Programs, closures, students, enrollments and who is assigned to whom.

use super::Cached;
use super::ids::{IdMap, TextMap};
use super::{Result, StoreError};
use crate::domain::User;
use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A student as listed: who, where enrolled, and who looks after them.
#[derive(Debug, Clone, Serialize)]
pub struct StudentSummary {
    pub student_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Program IDs of the student's enrollments, comma-separated.
    pub programs: String,
    /// The status of the most recent enrollment.
    pub status: Option<String>,
    /// Partners assigned to the student, comma-separated.
    pub assigned_to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnrollmentView {
    pub enrollment_id: String,
    pub program_id: String,
    pub program_name: String,
    pub schedule: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub status: String,
    /// Verified hours present within the enrollment's dates.
    pub contact_hours: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StudentDetail {
    #[serde(flatten)]
    pub summary: StudentSummary,
    pub enrollments: Vec<EnrollmentView>,
    pub last_login: Option<String>,
    pub last_present: Option<String>,
    pub days_present: i64,
    pub days_absent: i64,
    pub days_excused: i64,
    pub hours_logged: f64,
    /// The messages sent or to be sent to them, newest first.
    pub messages: Vec<super::messages::StudentMessage>,
}

const SUMMARY_SELECT: &str = "
    SELECT s.student_id, s.first_name, s.last_name, s.email, s.phone,
           ifnull((SELECT group_concat(p.program_id, ', ') FROM enrollments e
                   JOIN programs p ON p.id = e.program WHERE e.student = s.id), ''),
           (SELECT e.status FROM enrollments e WHERE e.student = s.id
             ORDER BY e.start_date DESC, e.id DESC LIMIT 1),
           ifnull((SELECT group_concat(login, ', ') FROM
                   (SELECT login FROM student_assignments WHERE student = s.id ORDER BY login)), '')";

fn summary_from_row(row: &rusqlite::Row) -> rusqlite::Result<StudentSummary> {
    Ok(StudentSummary {
        student_id: row.get(0)?,
        first_name: row.get(1)?,
        last_name: row.get(2)?,
        email: row.get(3)?,
        phone: row.get(4)?,
        programs: row.get(5)?,
        status: row.get(6)?,
        assigned_to: row.get(7)?,
    })
}

/// One page of the students `viewer` may see, in `student_id` order, after `after`.
pub fn list_students(conn: &Connection, viewer: &User, after: &str, limit: usize) -> Result<Vec<StudentSummary>> {
    // Partners start from their assignments, so a page costs the same however many students
    // the organisation has.
    let from = if viewer.role.is_partner() {
        "FROM student_assignments a JOIN students s ON s.id = a.student WHERE a.login = ?1 AND s.student_id > ?2"
    } else {
        "FROM students s WHERE ?1 IS NOT NULL AND s.student_id > ?2"
    };
    let sql = format!("{SUMMARY_SELECT} {from} ORDER BY s.student_id LIMIT ?3");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![viewer.login, after, limit as i64], summary_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The internal key of a student `viewer` may see: `NotFound` if there is no such student,
/// `Denied` if there is but it is not assigned to the viewer.
pub fn visible_student(conn: &Connection, viewer: &User, student_id: &str) -> Result<i64> {
    let key: Option<i64> = conn
        .query_row_cached("SELECT id FROM students WHERE student_id = ?1", [student_id], |r| r.get(0))
        .optional()?;
    let hidden = || super::hidden(viewer, &format!("student '{}'", crate::domain::text::shown(student_id)));
    let key = key.ok_or_else(hidden)?;
    if viewer.role.is_partner() {
        let assigned: bool = conn.query_row_cached(
            "SELECT EXISTS (SELECT 1 FROM student_assignments WHERE login = ?1 AND student = ?2)",
            params![viewer.login, key],
            |r| r.get(0),
        )?;
        if !assigned {
            return Err(hidden());
        }
    }
    Ok(key)
}

pub fn student_detail(conn: &Connection, viewer: &User, student_id: &str) -> Result<StudentDetail> {
    let key = visible_student(conn, viewer, student_id)?;
    let summary =
        conn.query_row_cached(&format!("{SUMMARY_SELECT} FROM students s WHERE s.id = ?1"), [key], summary_from_row)?;
    let mut stmt = conn.prepare_cached(
        "SELECT e.enrollment_id, p.program_id, p.name, p.schedule, e.start_date, e.end_date, e.status,
                (SELECT total(a.hours) FROM attendance a
                  WHERE a.student = e.student AND a.program = e.program AND a.date >= e.start_date
                    AND (e.end_date IS NULL OR a.date <= e.end_date)
                    AND a.status = 'present' AND a.verification = 'verified')
           FROM enrollments e JOIN programs p ON p.id = e.program
          WHERE e.student = ?1 ORDER BY e.start_date, e.enrollment_id",
    )?;
    let enrollments = stmt
        .query_map([key], |r| {
            Ok(EnrollmentView {
                enrollment_id: r.get(0)?,
                program_id: r.get(1)?,
                program_name: r.get(2)?,
                schedule: r.get(3)?,
                start_date: r.get(4)?,
                end_date: r.get(5)?,
                status: r.get(6)?,
                contact_hours: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let last_login =
        conn.query_row_cached("SELECT max(at) FROM login_events WHERE student = ?1", [key], |r| r.get(0))?;
    let (last_present, days_present, days_absent, days_excused, hours_logged) = conn.query_row_cached(
        // A rejected record counts as missed (SPEC "Missed-day streak"), and its hours for nothing.
        "SELECT max(date) FILTER (WHERE status = 'present' AND verification <> 'rejected'),
                count(*) FILTER (WHERE status = 'present' AND verification <> 'rejected'),
                count(*) FILTER (WHERE status = 'absent'), count(*) FILTER (WHERE status = 'excused'),
                ifnull(sum(hours) FILTER (WHERE verification <> 'rejected'), 0)
           FROM attendance WHERE student = ?1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let messages = super::messages::student_messages(conn, key)?;
    Ok(StudentDetail {
        messages,
        summary,
        enrollments,
        last_login,
        last_present,
        days_present,
        days_absent,
        days_excused,
        hours_logged,
    })
}

/// One attendance record as a student's history shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayRecord {
    pub date: NaiveDate,
    pub status: String,
    pub hours: Option<f64>,
    pub verification: String,
}

/// A student's attendance on or after `since`, oldest first.
pub fn recent_attendance(conn: &Connection, student: i64, since: NaiveDate) -> Result<Vec<DayRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT date, status, hours, verification FROM attendance WHERE student = ?1 AND date >= ?2 ORDER BY date",
    )?;
    let rows = stmt.query_map(params![student, since], |r| {
        Ok(DayRecord { date: r.get(0)?, status: r.get(1)?, hours: r.get(2)?, verification: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Program IDs of the students `viewer` may see.
pub fn visible_program_ids(conn: &Connection, viewer: &User) -> Result<Vec<String>> {
    let scope = viewer.role.is_partner().then_some(viewer.login.as_str());
    let mut stmt = conn.prepare_cached(
        "SELECT p.program_id FROM programs p WHERE ?1 IS NULL OR EXISTS (
             SELECT 1 FROM enrollments e JOIN student_assignments a ON a.student = e.student
              WHERE e.program = p.id AND a.login = ?1)
          ORDER BY p.program_id",
    )?;
    let ids = stmt.query_map([scope], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Source IDs to internal keys, for checking references in bulk.
pub fn keys(conn: &Connection, table: KeyedTable) -> Result<TextMap<i64>> {
    let sql = match table {
        KeyedTable::Programs => "SELECT program_id, id FROM programs",
        KeyedTable::Students => "SELECT student_id, id FROM students",
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let map = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(map)
}

#[derive(Debug, Clone, Copy)]
pub enum KeyedTable {
    Programs,
    Students,
}

/// Every (student, program) pair that has an enrollment, with the earliest start date.
pub fn enrolled_pairs(conn: &Connection) -> Result<IdMap<(i64, i64), NaiveDate>> {
    let mut stmt =
        conn.prepare_cached("SELECT student, program, min(start_date) FROM enrollments GROUP BY student, program")?;
    let map = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(map)
}

pub struct ProgramRecord<'a> {
    pub program_id: &'a str,
    pub name: &'a str,
    pub schedule: &'a str,
    pub start_date: &'a str,
    pub end_date: Option<&'a str>,
}

pub fn upsert_program(conn: &Connection, p: &ProgramRecord) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO programs (program_id, name, schedule, start_date, end_date) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (program_id) DO UPDATE SET name = excluded.name, schedule = excluded.schedule,
             start_date = excluded.start_date, end_date = excluded.end_date
         WHERE name IS NOT excluded.name OR schedule IS NOT excluded.schedule
            OR start_date IS NOT excluded.start_date OR end_date IS NOT excluded.end_date",
    )?;
    Ok(stmt.execute(params![p.program_id, p.name, p.schedule, p.start_date, p.end_date])? > 0)
}

pub fn upsert_closure(conn: &Connection, program: i64, date: &str, reason: Option<&str>) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO program_closures (program, date, reason) VALUES (?1, ?2, ?3)
         ON CONFLICT (program, date) DO UPDATE SET reason = excluded.reason
         WHERE reason IS NOT excluded.reason",
    )?;
    Ok(stmt.execute(params![program, date, reason])? > 0)
}

pub struct StudentRecord<'a> {
    pub student_id: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

pub fn upsert_student(conn: &Connection, s: &StudentRecord) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO students (student_id, first_name, last_name, email, phone) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (student_id) DO UPDATE SET first_name = excluded.first_name,
             last_name = excluded.last_name, email = excluded.email, phone = excluded.phone
         WHERE first_name IS NOT excluded.first_name OR last_name IS NOT excluded.last_name
            OR email IS NOT excluded.email OR phone IS NOT excluded.phone",
    )?;
    Ok(stmt.execute(params![s.student_id, s.first_name, s.last_name, s.email, s.phone])? > 0)
}

pub struct EnrollmentRecord<'a> {
    pub enrollment_id: &'a str,
    pub student: i64,
    pub program: i64,
    pub start_date: &'a str,
    pub end_date: Option<&'a str>,
    pub status: &'a str,
}

pub fn upsert_enrollment(conn: &Connection, e: &EnrollmentRecord) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO enrollments (enrollment_id, student, program, start_date, end_date, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (enrollment_id) DO UPDATE SET student = excluded.student, program = excluded.program,
             start_date = excluded.start_date, end_date = excluded.end_date, status = excluded.status
         WHERE student IS NOT excluded.student OR program IS NOT excluded.program
            OR start_date IS NOT excluded.start_date OR end_date IS NOT excluded.end_date
            OR status IS NOT excluded.status",
    )?;
    Ok(stmt.execute(params![e.enrollment_id, e.student, e.program, e.start_date, e.end_date, e.status])? > 0)
}

pub fn program_key(conn: &Connection, program_id: &str) -> Result<i64> {
    conn.query_row_cached("SELECT id FROM programs WHERE program_id = ?1", [program_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("program '{program_id}'")))
}

/// When the student's first enrollment in the program starts, if they have one.
pub fn enrollment_start(conn: &Connection, student: i64, program: i64) -> Result<Option<NaiveDate>> {
    // `+program`: without statistics SQLite would walk the program's index, every enrollment in
    // the program (a few thousand), where the student's are one or two.
    Ok(conn.query_row_cached(
        "SELECT min(start_date) FROM enrollments WHERE student = ?1 AND +program = ?2",
        params![student, program],
        |r| r.get(0),
    )?)
}

/// The enrollment an ID names, if any: (student key, program key).
pub fn enrollment_owner(conn: &Connection, enrollment_id: &str) -> Result<Option<(i64, i64)>> {
    Ok(conn
        .query_row_cached("SELECT student, program FROM enrollments WHERE enrollment_id = ?1", [enrollment_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

pub fn insert_assignment(conn: &Connection, login: &str, student: i64) -> Result<bool> {
    let mut stmt =
        conn.prepare_cached("INSERT INTO student_assignments (login, student) VALUES (?1, ?2) ON CONFLICT DO NOTHING")?;
    Ok(stmt.execute(params![login, student])? > 0)
}

pub fn delete_assignment(conn: &Connection, login: &str, student: i64) -> Result<bool> {
    let mut stmt = conn.prepare_cached("DELETE FROM student_assignments WHERE login = ?1 AND student = ?2")?;
    Ok(stmt.execute(params![login, student])? > 0)
}

/// A student as the Students tab lists them.
#[derive(Debug, Clone, Serialize)]
pub struct StudentOverview {
    pub student_id: String,
    pub name: String,
    pub programs: String,
    pub status: Option<String>,
    /// The live missing-attendance alert's count: consecutive missed session days.
    pub streak: u32,
    pub last_present: Option<String>,
    pub last_login: Option<String>,
    /// Verified hours present, all enrollments.
    pub contact_hours: f64,
    pub open_alerts: u32,
}

/// A page of the students `viewer` may see, by student_id, after (or, `before`, ending before)
/// `cursor`; with `text`, only those whose ID or name contains it (any case).
pub fn overview(
    conn: &Connection,
    viewer: &User,
    cursor: &str,
    before: bool,
    text: Option<&str>,
    limit: usize,
) -> Result<Vec<StudentOverview>> {
    let from = if viewer.role.is_partner() {
        "FROM student_assignments x JOIN students s ON s.id = x.student WHERE x.login = ?1"
    } else {
        "FROM students s WHERE ?1 IS NOT NULL"
    };
    let (beyond, order) = if before {
        ("(?2 = '' OR s.student_id < ?2)", "s.student_id DESC")
    } else {
        ("s.student_id > ?2", "s.student_id")
    };
    let sql = format!(
        "SELECT s.student_id, s.first_name || ' ' || s.last_name,
                ifnull((SELECT group_concat(p.program_id, ', ') FROM enrollments e JOIN programs p ON p.id = e.program
                         WHERE e.student = s.id), ''),
                (SELECT e.status FROM enrollments e WHERE e.student = s.id ORDER BY e.start_date DESC, e.id DESC LIMIT 1),
                ifnull((SELECT max(a.count) FROM alerts a INDEXED BY alerts_one_live
                         WHERE a.type = 1 /* missing_attendance */ AND a.student = s.id AND a.status <> 4 /* resolved */), 0),
                (SELECT max(date) FROM attendance WHERE student = s.id AND status = 'present' AND verification <> 'rejected'),
                (SELECT max(at) FROM login_events WHERE student = s.id),
                (SELECT total(hours) FROM attendance WHERE student = s.id AND status = 'present' AND verification = 'verified'),
                (SELECT count(*) FROM alerts a INDEXED BY alerts_one_live
                  WHERE a.type IN (1, 2) AND a.student = s.id AND a.status <> 4 /* resolved */)
         {from} AND {beyond}
           AND (?4 IS NULL OR s.student_id LIKE '%' || ?4 || '%'
                OR (s.first_name || ' ' || s.last_name) LIKE '%' || ?4 || '%')
         ORDER BY {order} LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let text = text.filter(|t| !t.is_empty());
    let rows = stmt.query_map(params![viewer.login, cursor, limit as i64, text], |r| {
        Ok(StudentOverview {
            student_id: r.get(0)?,
            name: r.get(1)?,
            programs: r.get(2)?,
            status: r.get(3)?,
            streak: r.get(4)?,
            last_present: r.get(5)?,
            last_login: r.get(6)?,
            contact_hours: r.get(7)?,
            open_alerts: r.get(8)?,
        })
    })?;
    let mut page: Vec<StudentOverview> = rows.collect::<rusqlite::Result<_>>()?;
    if before {
        page.reverse();
    }
    Ok(page)
}

/// The student's most recent logins, newest first.
pub fn recent_logins(conn: &Connection, student: i64, limit: usize) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT at FROM login_events WHERE student = ?1 ORDER BY at DESC LIMIT ?2")?;
    let rows = stmt.query_map(params![student, limit as i64], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
