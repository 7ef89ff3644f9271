//! Logging attendance: who may log for whom, and what a record must look like. A logged record
//! re-evaluates the student's alerts in the same transaction.

use super::alerts::Reevaluation;
use super::{AppError, Ctx, Outcome, Result};
use crate::domain::records::check_hours;
use crate::domain::{AttendanceStatus, Role, Verification};
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

/// Logs one or more days (a week from the grid), all or nothing.
pub(super) fn log(ctx: &Ctx, entries: &[AttendanceEntry]) -> Result<Outcome> {
    let me = ctx.actor.user();
    if !matches!(me.role, Role::Admin | Role::Worksite) {
        return Err(AppError::Denied(format!(
            "{} is a {}; worksites log attendance, coordinators and program holders verify it",
            me.login, me.role
        )));
    }
    if entries.is_empty() {
        return Err(AppError::Invalid("nothing to log".into()));
    }
    let mut reevaluation = Reevaluation::new(ctx)?;
    let mut logged = 0;
    // (student, program) → whether every changed day was `present`.
    let mut touched = std::collections::BTreeMap::new();
    for entry in entries {
        if let Some(pair) = log_one(ctx, entry)? {
            logged += 1;
            let only_present = touched.entry(pair).or_insert(true);
            *only_present &= entry.status == AttendanceStatus::Present;
        }
    }
    for ((student, program), only_present) in touched {
        reevaluation.attendance(ctx, student, program, only_present)?;
    }
    let alerts = reevaluation.finish(ctx, "attendance.log")?;
    Ok(Outcome::AttendanceLogged { logged, unchanged: entries.len() - logged, alerts })
}

/// Checks and writes one day; returns the (student, program) keys if anything changed.
fn log_one(ctx: &Ctx, entry: &AttendanceEntry) -> Result<Option<(i64, i64)>> {
    let me = ctx.actor.user();
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
        crate::domain::records::check_hours_for(entry.status).map_err(AppError::Invalid)?;
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
            logged_by_person: ctx.actor.acting_as.as_ref().map(|_| ctx.actor.person.login.as_str()),
            logged_at: &logged_at,
        },
        true,
    )?;
    if !changed {
        return Ok(None);
    }
    let id = format!("{}/{}/{}", entry.student_id, entry.program_id, entry.date);
    let before = before.map_or(serde_json::Value::Null, |(status, hours, verification)| {
        serde_json::json!({ "status": status, "hours": hours, "verification": verification })
    });
    ctx.audit("attendance.log", "attendance", &id, before, serde_json::to_value(entry).unwrap_or_default())?;
    Ok(Some((student, program)))
}

/// Takes back one's own decisions, all or nothing: the records wait for verification again (the
/// console's undo of a verification or a rejection). Only who decided, or an admin.
pub(super) fn reopen(ctx: &Ctx, ids: &[i64]) -> Result<Outcome> {
    let me = ctx.actor.user();
    if me.role == Role::Worksite {
        return Err(AppError::Denied(format!("{} is a worksite; only who decided takes a decision back", me.login)));
    }
    if ids.is_empty() {
        return Err(AppError::Invalid("name at least one attendance record ID".into()));
    }
    let mut reevaluation = Reevaluation::new(ctx)?;
    for &id in ids {
        let record = activity::attendance_record(ctx.tx, me, id)?;
        if record.verification == Verification::Pending.as_str() {
            return Err(AppError::Invalid(format!("record {id} is not decided yet")));
        }
        let decider = record.verified_by.as_deref().unwrap_or("someone");
        if me.role != Role::Admin && decider != me.login {
            return Err(AppError::Denied(format!(
                "record {id} was {} by {decider}, not {}",
                record.verification, me.login
            )));
        }
        activity::reopen(ctx.tx, id)?;
        let before = serde_json::json!({
            "verification": record.verification, "verified_by": record.verified_by, "reason": record.reason,
        });
        ctx.audit(
            "attendance.reopen",
            "attendance",
            &id.to_string(),
            before,
            serde_json::json!({ "verification": "pending" }),
        )?;
        // A rejected day stops counting as missed; a pending one counts as logged.
        let only_present = record.status == AttendanceStatus::Present.as_str();
        reevaluation.attendance(ctx, record.student, record.program, only_present)?;
    }
    let alerts = reevaluation.finish(ctx, "attendance.reopen")?;
    Ok(Outcome::AttendanceDecided { verification: Verification::Pending, ids: ids.to_vec(), alerts })
}

/// One logged day, named the way people name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceDay {
    pub student_id: String,
    pub program_id: String,
    pub date: NaiveDate,
}

/// Takes back logged days, all or nothing: only records still pending (a decided record stays
/// as decided), only by whoever logged them or an admin. The student's alerts are re-evaluated
/// (a day with nothing logged counts as missed, so taking back a present day may open one).
pub(super) fn retract(ctx: &Ctx, days: &[AttendanceDay]) -> Result<Outcome> {
    let me = ctx.actor.user();
    if !matches!(me.role, Role::Admin | Role::Worksite) {
        return Err(AppError::Denied(format!("{} is a {}; only who logs attendance takes it back", me.login, me.role)));
    }
    if days.is_empty() {
        return Err(AppError::Invalid("nothing to take back".into()));
    }
    let mut reevaluation = Reevaluation::new(ctx)?;
    let mut touched = std::collections::BTreeSet::new();
    for day in days {
        let named = format!("{}/{}/{}", day.student_id, day.program_id, day.date);
        let student = roster::visible_student(ctx.tx, me, &day.student_id)?;
        let program = roster::program_key(ctx.tx, &day.program_id)?;
        let record = activity::logged_record(ctx.tx, student, program, day.date)?
            .ok_or_else(|| AppError::NotFound(format!("attendance logged for {named}")))?;
        if record.verification != Verification::Pending.as_str() {
            return Err(AppError::Invalid(format!(
                "{named} was {} by {}; a decided record is not taken back",
                record.verification,
                record.verified_by.as_deref().unwrap_or("someone")
            )));
        }
        if me.role != Role::Admin && record.logged_by != me.login {
            return Err(AppError::Denied(format!("{named} was logged by {}, not {}", record.logged_by, me.login)));
        }
        activity::delete_attendance(ctx.tx, record.id)?;
        let before =
            serde_json::json!({ "status": record.status, "hours": record.hours, "logged_by": record.logged_by });
        ctx.audit("attendance.retract", "attendance", &named, before, serde_json::Value::Null)?;
        touched.insert((student, program));
    }
    for (student, program) in touched {
        reevaluation.attendance(ctx, student, program, false)?;
    }
    let alerts = reevaluation.finish(ctx, "attendance.retract")?;
    let what = if days.len() == 1 { "1 logged day".to_string() } else { format!("{} logged days", days.len()) };
    let alerts = if alerts.is_empty() { String::new() } else { format!("; alerts: {alerts}") };
    Ok(Outcome::Noted(format!("took back {what}{alerts}")))
}

/// A verifier's decision on pending records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Verify,
    Reject { reason: String },
}

/// Verifies or rejects pending records, all or nothing. Coordinators and program holders decide
/// for their assigned students, admins for everyone; nobody decides on a record they logged.
pub(super) fn decide(ctx: &Ctx, ids: &[i64], decision: &Decision) -> Result<Outcome> {
    let me = ctx.actor.user();
    if me.role == Role::Worksite {
        return Err(AppError::Denied(format!(
            "{} is a worksite; coordinators and program holders verify attendance",
            me.login
        )));
    }
    if ids.is_empty() {
        return Err(AppError::Invalid("name at least one attendance record ID".into()));
    }
    let (verification, reason, action) = match decision {
        Decision::Verify => (Verification::Verified, None, "attendance.verify"),
        Decision::Reject { reason } if reason.trim().is_empty() => {
            return Err(AppError::Invalid("a rejection needs a reason (--reason) the worksite can act on".into()));
        }
        Decision::Reject { reason } => (Verification::Rejected, Some(reason.trim()), "attendance.reject"),
    };
    let now = ctx.now_text();
    let mut reevaluation = Reevaluation::new(ctx)?;
    for &id in ids {
        let record = activity::attendance_record(ctx.tx, me, id)?;
        // Four eyes: neither the person at the keyboard nor the user they act as may decide on
        // a record that either of them logged, whoever it was logged as.
        let deciders = [Some(ctx.actor.person.login.as_str()), ctx.actor.acting_as.as_ref().map(|u| u.login.as_str())];
        let loggers = [Some(record.logged_by.as_str()), record.logged_by_person.as_deref()];
        if loggers.iter().flatten().any(|logger| deciders.contains(&Some(*logger))) {
            return Err(AppError::Denied(format!("record {id} was logged by you; someone else must verify it")));
        }
        if record.verification != Verification::Pending.as_str() {
            return Err(AppError::Invalid(format!("record {id} is already {}", record.verification)));
        }
        activity::decide(ctx.tx, id, verification.as_str(), &me.login, &now, reason)?;
        let before = serde_json::json!({ "verification": record.verification });
        let after = serde_json::json!({ "verification": verification, "reason": reason });
        ctx.audit(action, "attendance", &id.to_string(), before, after)?;
        // A rejected present day counts as missed again.
        if verification == Verification::Rejected {
            reevaluation.attendance(ctx, record.student, record.program, false)?;
        }
    }
    let alerts = reevaluation.finish(ctx, action)?;
    Ok(Outcome::AttendanceDecided { verification, ids: ids.to_vec(), alerts })
}
