//! Logging attendance: who may log for whom, and what a record must look like. A logged record
//! re-evaluates the student's alerts in the same transaction.

use super::alerts::{AlertChanges, Reevaluation};
use super::{AppError, Ctx, Outcome, Result};
use crate::domain::records::check_hours;
use crate::domain::{AttendanceStatus, Role};
use crate::store::{activity, roster};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceEntry {
    pub student_id: String,
    pub program_id: String,
    pub date: NaiveDate,
    pub status: AttendanceStatus,
    pub hours: Option<f64>,
    pub note: Option<String>,
}

pub(super) fn log(ctx: &Ctx, entry: &AttendanceEntry) -> Result<Outcome> {
    let me = ctx.actor.user();
    if !matches!(me.role, Role::Admin | Role::Worksite) {
        return Err(AppError::Denied(format!(
            "{} is a {}; worksites log attendance, coordinators and program holders verify it",
            me.login, me.role
        )));
    }
    let student = roster::visible_student(ctx.tx, me, &entry.student_id)?;
    let program = roster::program_key(ctx.tx, &entry.program_id)?;
    let Some(start) = roster::enrollment_start(ctx.tx, student, program)? else {
        return Err(AppError::Invalid(format!(
            "student '{}' is not enrolled in program '{}'",
            entry.student_id, entry.program_id
        )));
    };
    if entry.date > ctx.today {
        return Err(AppError::Invalid(format!("{} is in the future", entry.date)));
    }
    if entry.date < start {
        return Err(AppError::Invalid(format!("{} is before the student's enrollment starts ({start})", entry.date)));
    }
    if let Some(hours) = entry.hours {
        check_hours(hours).map_err(AppError::Invalid)?;
    }
    let before = activity::attendance_on(ctx.tx, student, program, entry.date)?;
    let (date, logged_at) = (entry.date.to_string(), ctx.now_text());
    let changed = activity::upsert_attendance(
        ctx.tx,
        &activity::AttendanceRecord {
            student,
            program,
            date: &date,
            status: entry.status.as_str(),
            hours: entry.hours,
            note: entry.note.as_deref(),
            logged_by: &me.login,
            logged_at: &logged_at,
        },
    )?;
    if !changed {
        return Ok(Outcome::AttendanceLogged { changed: false, alerts: AlertChanges::default() });
    }
    let id = format!("{}/{}/{}", entry.student_id, entry.program_id, entry.date);
    let before = before.map_or(serde_json::Value::Null, |(status, hours, verification)| {
        serde_json::json!({ "status": status, "hours": hours, "verification": verification })
    });
    ctx.audit("attendance.log", "attendance", &id, before, serde_json::to_value(entry).unwrap_or_default())?;
    let mut reevaluation = Reevaluation::new(ctx)?;
    reevaluation.attendance(ctx, student, program)?;
    let alerts = reevaluation.finish(ctx, &id)?;
    Ok(Outcome::AttendanceLogged { changed: true, alerts })
}
