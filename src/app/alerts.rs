//! The alert rules applied to the data: the daily job for one day, and re-evaluation of a student
//! as soon as attendance or a login for them arrives (SPEC "Alert rules", "Auto-resolve").
//!
//! Both compute what the rules say and then `reconcile` the live alert with it, so an alert is
//! opened, raised, lowered, escalated or resolved by the same code whichever way it was reached.

use super::job_memory::{JobMemory, instant};
use super::{AppError, Ctx, Outcome, Result};
use crate::domain::alerts::{
    AlertStatus, AlertType, DayMark, Severity, Streak, Thresholds, no_login_days, no_login_since, streak_at,
};
use crate::domain::calendar::{EnrollmentDays, ProgramCalendar};
use crate::store::alerts::{self as store_alerts, LiveAlert, NewAlert, TimelineBatch};
use crate::store::engine::{self, ActiveEnrollment};
use crate::store::ids::{IdMap, IdSet};
use chrono::{Days, NaiveDate};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// The actor the rules write timeline entries as.
pub const SYSTEM: &str = "system";

/// What one run or re-evaluation changed, by alert id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlertChanges {
    pub opened: Vec<i64>,
    pub raised: Vec<i64>,
    pub lowered: Vec<i64>,
    pub escalated: Vec<i64>,
    pub resolved: Vec<i64>,
}

impl AlertChanges {
    pub fn is_empty(&self) -> bool {
        self.opened.is_empty() && self.raised.is_empty() && self.lowered.is_empty() && self.resolved.is_empty()
    }
}

impl std::fmt::Display for AlertChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only what happened: a day of a 100,000-student catch-up still fits on 80 columns.
        let counts = [
            (self.opened.len(), "opened"),
            (self.raised.len(), "raised"),
            (self.lowered.len(), "lowered"),
            (self.escalated.len(), "escalated"),
            (self.resolved.len(), "resolved"),
        ];
        let said: Vec<String> = counts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
        if said.is_empty() { f.write_str("no alert changed") } else { f.write_str(&said.join(", ")) }
    }
}

/// What a run or re-evaluation changed, and the timeline entries saying so, written at the end.
#[derive(Default)]
struct Changes {
    ids: AlertChanges,
    timeline: TimelineBatch,
}

impl Changes {
    /// Writes the timeline and hands back what changed.
    fn finish(mut self, ctx: &Ctx) -> Result<AlertChanges> {
        self.timeline.write(ctx.tx, &ctx.now_text(), SYSTEM)?;
        Ok(self.ids)
    }
}

/// The organisation's date of the student's last login on or before `day`.
fn last_login_on_or_before(ctx: &Ctx, student: i64, day: NaiveDate) -> Result<Option<NaiveDate>> {
    let at = engine::last_login_before(ctx.tx, student, &instant(ctx.zone.day_end(day)))?;
    Ok(at
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
        .map(|at| ctx.zone.date_of(at.with_timezone(&chrono::Utc))))
}

/// Whom an alert is about.
struct Subject {
    kind: AlertType,
    student: i64,
    enrollment: Option<i64>,
    program: Option<i64>,
    /// False when only a `present` day or a login changed: those may shorten or end a streak,
    /// never open an alert (not even one split off a streak a person already resolved).
    may_open: bool,
    /// False when no person ever resolved an alert of this kind about the student, so there is
    /// no resolution to look up.
    resolved_before: bool,
}

/// What the rules say about a subject on a day.
struct Computed {
    count: u32,
    first_missed: Option<NaiveDate>,
    streak_start: Option<NaiveDate>,
    as_of: NaiveDate,
}

/// `1 missed session day`, `3 days without a login`.
fn counted(kind: AlertType, count: u32) -> String {
    let (one, many) = match kind {
        AlertType::MissingAttendance => ("missed session day", "missed session days"),
        AlertType::NoLogin => ("day without a login", "days without a login"),
    };
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Brings the subject's live alert (if any) to what `computed` says; returns it as it is now
/// (none when there is none or it was resolved).
fn reconcile(
    ctx: &Ctx,
    subject: &Subject,
    computed: &Computed,
    thresholds: &Thresholds,
    existing: Option<LiveAlert>,
    resolved_because: &str,
    changes: &mut Changes,
) -> Result<Option<LiveAlert>> {
    // Formatted only when something is written: most subjects need no change.
    let now = || ctx.now_text();
    let run_date = Some(computed.as_of);
    let Changes { ids: changes, timeline } = changes;
    let mut event = |id: i64, kind: &'static str, note: &str| timeline.add(id, kind, run_date, note.to_string());
    let severity = thresholds.severity(computed.count);
    Ok(match (existing, severity) {
        (None, None) => None,
        (None, Some(_)) if !subject.may_open => None,
        (None, Some(severity)) => {
            let resolved_at = if subject.resolved_before {
                store_alerts::manual_resolution(
                    ctx.tx,
                    subject.kind,
                    subject.student,
                    subject.enrollment,
                    computed.streak_start,
                )?
            } else {
                None
            };
            // A person resolved this streak already; only a higher level brings it back.
            if resolved_at.is_some_and(|level| severity <= level) {
                return Ok(None);
            }
            let new = NewAlert {
                kind: subject.kind,
                severity,
                student: subject.student,
                enrollment: subject.enrollment,
                program: subject.program,
                count: computed.count,
                first_missed: computed.first_missed,
                streak_start: computed.streak_start,
                as_of: computed.as_of,
            };
            let id = store_alerts::insert(ctx.tx, &new, &now())?;
            event(id, "opened", &format!("{severity}: {}", counted(subject.kind, computed.count)));
            changes.opened.push(id);
            if severity == Severity::Critical {
                event(id, "escalated", "critical: escalated to admins");
                changes.escalated.push(id);
            }
            Some(new.as_opened(id))
        }
        (Some(alert), None) => {
            store_alerts::resolve(ctx.tx, alert.id, SYSTEM, false, &now())?;
            let why = if computed.count == 0 { resolved_because } else { "auto: below the warn threshold" };
            event(alert.id, "resolved", why);
            changes.resolved.push(alert.id);
            None
        }
        (Some(alert), Some(severity)) => {
            let mut next = LiveAlert {
                severity,
                count: computed.count,
                first_missed: computed.first_missed,
                as_of: Some(computed.as_of),
                streak_start: computed.streak_start,
                ..alert.clone()
            };
            let counted = counted(subject.kind, computed.count);
            if severity > alert.severity {
                event(alert.id, "raised", &format!("{} → {severity}: {counted}", alert.severity));
                changes.raised.push(alert.id);
                if alert.status == AlertStatus::Snoozed {
                    next.status = AlertStatus::Open;
                    event(alert.id, "snooze ended", "severity rose");
                }
            } else if severity < alert.severity {
                event(alert.id, "lowered", &format!("{} → {severity}: {counted}", alert.severity));
                changes.lowered.push(alert.id);
            } else if computed.count != alert.count {
                event(alert.id, "updated", &counted);
            }
            if severity == Severity::Critical && !alert.escalated {
                next.escalated = true;
                event(alert.id, "escalated", "critical: escalated to admins");
                changes.escalated.push(alert.id);
            }
            if next != alert {
                store_alerts::update_streak(ctx.tx, &alert, &next, &now())?;
            }
            Some(next)
        }
    })
}

/// Processes one day: every active enrollment meeting that day, and every enrolled student.
pub(super) fn run_day(ctx: &Ctx, day: NaiveDate) -> Result<Outcome> {
    ctx.require_admin("run the alert job")?;
    if day > ctx.today {
        return Err(AppError::Invalid(format!("{day} is in the future; the job runs for days that have passed")));
    }
    let processed = store_alerts::processed_through(ctx.tx)?;
    if processed.is_some_and(|p| day <= p) {
        return Ok(Outcome::AlertsRun { date: day, changes: None });
    }
    if let Some(p) = processed
        && p.succ_opt() != Some(day)
    {
        return Err(AppError::Invalid(format!(
            "the job has processed up to {p}; days run in order, next is {}",
            p + Days::new(1)
        )));
    }
    let mut memory = JobMemory::recall(ctx, day)?;
    let mut changes = Changes::default();
    missing_attendance(ctx, day, &mut memory, &mut changes)?;
    no_login(ctx, day, &mut memory, &mut changes)?;
    let changes = changes.finish(ctx)?;
    store_alerts::set_processed_through(ctx.tx, day)?;
    let after = serde_json::json!({ "date": day, "changes": changes });
    ctx.audit("alerts.run", "alert_run", &day.to_string(), serde_json::Value::Null, after)?;
    memory.keep(ctx);
    Ok(Outcome::AlertsRun { date: day, changes: Some(changes) })
}

fn missing_attendance(ctx: &Ctx, day: NaiveDate, memory: &mut JobMemory, changes: &mut Changes) -> Result<()> {
    let kind = AlertType::MissingAttendance;
    let thresholds = store_alerts::thresholds(ctx.tx, kind)?;
    let marks = engine::marks_on(ctx.tx, day)?;
    let resolved_by_people = store_alerts::students_resolved_by_people(ctx.tx, kind)?;
    let mut live = memory.live.take(ctx, kind)?;
    memory.settle_prefetch()?;
    let JobMemory { calendars, enrollments, present: present_on, live: live_after, kept, .. } = memory;
    let mut after = IdMap::default();
    for e in enrollments.iter().filter(|e| e.covers(day)) {
        let Some(calendar) = calendars.get(&e.program) else { continue };
        let days = EnrollmentDays { program: calendar, start: e.start, end: e.end };
        if !days.is_session_day(day) {
            continue;
        }
        let mark = marks.get(&(e.student, e.program)).copied().unwrap_or(DayMark::Missed);
        let existing = live.remove(&e.id);
        let streak = match &existing {
            _ if mark == DayMark::Present => Streak::default(),
            // Yesterday's alert already holds the streak up to the previous session day.
            Some(a) if a.as_of.is_some() && a.as_of == days.session_day_before(day) => {
                Streak { count: a.count, first_missed: a.first_missed }.after(day, mark)
            }
            // Present on the session day before: the streak is today alone, known without
            // reading back (most of a churn day's missed days, each a lookup otherwise).
            _ => match days.session_day_before(day) {
                None => Streak::default().after(day, mark),
                Some(before) if present_on.get(ctx, before)?.contains(&(e.student, e.program)) => {
                    Streak::default().after(day, mark)
                }
                Some(_) => engine::walk_back(ctx.tx, e.student, e.program, day, |marks| streak_at(&days, day, marks))?,
            },
        };
        let subject = Subject {
            kind,
            student: e.student,
            enrollment: Some(e.id),
            program: Some(e.program),
            may_open: true,
            resolved_before: resolved_by_people.contains(&e.student),
        };
        let computed = Computed {
            count: streak.count,
            first_missed: streak.first_missed,
            streak_start: streak.first_missed,
            as_of: day,
        };
        if let Some(now) =
            reconcile(ctx, &subject, &computed, &thresholds, existing, "auto: attendance logged", changes)?
            && *kept
        {
            after.insert(e.id, now);
        }
    }
    let active: IdSet<i64> = enrollments.iter().map(|e| e.id).collect();
    let untouched = resolve_unwatched(ctx, live, &active, "auto: the enrollment is no longer active", day, changes)?;
    if *kept {
        present_on.remember(day, &marks);
        after.extend(untouched);
        live_after.keep(kind, after);
    }
    Ok(())
}

/// Resolves the live alerts (keyed by enrollment or student) whose key is no longer watched:
/// an enrollment that ended or was withdrawn leaves nothing for the rules to follow. Returns
/// the others, left as they were.
fn resolve_unwatched(
    ctx: &Ctx,
    live: IdMap<i64, LiveAlert>,
    watched: &IdSet<i64>,
    why: &str,
    day: NaiveDate,
    changes: &mut Changes,
) -> Result<IdMap<i64, LiveAlert>> {
    let now = ctx.now_text();
    let (untouched, unwatched): (IdMap<i64, LiveAlert>, IdMap<i64, LiveAlert>) =
        live.into_iter().partition(|(key, _)| watched.contains(key));
    // In id order, whichever way the map was filled.
    let mut unwatched: Vec<LiveAlert> = unwatched.into_values().collect();
    unwatched.sort_by_key(|alert| alert.id);
    for alert in unwatched {
        store_alerts::resolve(ctx.tx, alert.id, SYSTEM, false, &now)?;
        changes.timeline.add(alert.id, "resolved", Some(day), why.to_string());
        changes.ids.resolved.push(alert.id);
    }
    Ok(untouched)
}

/// A student the no-login rule watches on a day.
struct EnrolledStudent {
    student: i64,
    /// The earliest start of their active enrollments.
    earliest_start: NaiveDate,
    /// The program of their first enrollment (by start) whose dates include the day.
    program: i64,
}

/// The students with an active enrollment whose dates include `day`, in student order.
/// `enrollments` are in student order, each student's by start.
fn enrolled_students(enrollments: &[ActiveEnrollment], day: NaiveDate) -> Vec<EnrolledStudent> {
    enrollments
        .chunk_by(|a, b| a.student == b.student)
        .filter_map(|own| {
            Some(EnrolledStudent {
                student: own[0].student,
                earliest_start: own.iter().map(|e| e.start).min()?,
                program: own.iter().find(|e| e.covers(day))?.program,
            })
        })
        .collect()
}

fn no_login(ctx: &Ctx, day: NaiveDate, memory: &mut JobMemory, changes: &mut Changes) -> Result<()> {
    let kind = AlertType::NoLogin;
    let thresholds = store_alerts::thresholds(ctx.tx, kind)?;
    // Whoever logged in within the last warn-1 days is below the threshold: no lookup needed.
    // Whoever last logged in the day before that window is one day past it: nor for them.
    let window_start = day - Days::new(u64::from(thresholds.warn.saturating_sub(1)));
    let before_window = window_start - Days::new(1);
    let JobMemory { enrollments, logins, live: live_after, kept, .. } = memory;
    let latest = logins.days(ctx, before_window, day)?;
    // How recent each student's latest login is: on `before_window`, in the window, on `day`.
    let (just_before, in_window, on_the_day) = (1, 2, 3);
    let reached_by = |student: i64| match latest.get(&student) {
        Some(last) if *last >= day => on_the_day,
        Some(last) if *last >= window_start => in_window,
        Some(last) if *last >= before_window => just_before,
        _ => 0,
    };
    let mut live = live_after.take(ctx, kind)?;
    let mut after = IdMap::default();
    let resolved_by_people = store_alerts::students_resolved_by_people(ctx.tx, kind)?;
    for EnrolledStudent { student, earliest_start, program } in enrolled_students(enrollments, day) {
        let existing = live.remove(&student);
        let reached = reached_by(student);
        if reached >= in_window && existing.is_none() {
            continue;
        }
        let subject = Subject {
            kind,
            student,
            enrollment: None,
            program: Some(program),
            may_open: true,
            resolved_before: resolved_by_people.contains(&student),
        };
        let computed = match &existing {
            // Yesterday's alert already holds the count up to yesterday: one more day without a
            // login, or none at all since today's. (Back-dated logins re-evaluate the alert at
            // once, so what it holds is what the data says.)
            Some(alert) if alert.as_of == day.pred_opt() && alert.streak_start.is_some() => {
                let logged_in_today = reached == on_the_day;
                Computed {
                    count: if logged_in_today { 0 } else { alert.count + 1 },
                    first_missed: None,
                    streak_start: if logged_in_today { Some(day) } else { alert.streak_start },
                    as_of: day,
                }
            }
            _ => {
                let last_login = if reached == just_before {
                    Some(before_window)
                } else {
                    last_login_on_or_before(ctx, student, day)?
                };
                Computed {
                    count: no_login_days(last_login, earliest_start, day),
                    first_missed: None,
                    streak_start: Some(no_login_since(last_login, earliest_start)),
                    as_of: day,
                }
            }
        };
        if let Some(now) =
            reconcile(ctx, &subject, &computed, &thresholds, existing, "auto: student logged in", changes)?
            && *kept
        {
            after.insert(student, now);
        }
    }
    let still_enrolled: IdSet<i64> = enrollments.iter().map(|e| e.student).collect();
    let why = "auto: the student has no active enrollment";
    let untouched = resolve_unwatched(ctx, live, &still_enrolled, why, day, changes)?;
    if *kept {
        after.extend(untouched);
        live_after.keep(kind, after);
    }
    Ok(())
}

/// What re-evaluation reads besides the student's own rows: the days the job processed, the
/// thresholds and the programs' calendars. No change a device sends alters them, so a device's
/// push shares one for all the changes applied in one transaction.
pub(super) struct RuleBasis {
    /// The first and last day the job processed.
    processed: Option<(NaiveDate, NaiveDate)>,
    attendance: Thresholds,
    logins: Thresholds,
    /// The calendars of the programs looked at so far (a change touches one or two of them).
    calendars: RefCell<HashMap<i64, Option<Arc<ProgramCalendar>>>>,
}

impl RuleBasis {
    fn read(ctx: &Ctx) -> Result<RuleBasis> {
        Ok(RuleBasis {
            processed: store_alerts::processed_days(ctx.tx)?,
            attendance: store_alerts::thresholds(ctx.tx, AlertType::MissingAttendance)?,
            logins: store_alerts::thresholds(ctx.tx, AlertType::NoLogin)?,
            calendars: RefCell::default(),
        })
    }

    fn calendar(&self, ctx: &Ctx, program: i64) -> Result<Option<Arc<ProgramCalendar>>> {
        if let Some(known) = self.calendars.borrow().get(&program) {
            return Ok(known.clone());
        }
        let read = engine::program_calendar(ctx.tx, program)?.map(Arc::new);
        self.calendars.borrow_mut().insert(program, read.clone());
        Ok(read)
    }
}

/// The basis a re-evaluation reads: its batch's, or its own.
enum Basis<'a> {
    Shared(&'a RuleBasis),
    Own(RuleBasis),
}

impl std::ops::Deref for Basis<'_> {
    type Target = RuleBasis;

    fn deref(&self) -> &RuleBasis {
        match self {
            Basis::Shared(shared) => shared,
            Basis::Own(own) => own,
        }
    }
}

/// Re-evaluates a student's alerts right after their attendance or logins changed: as of the last
/// day the job processed, and — for a `present` day or a login after it — resolving at once.
pub(super) struct Reevaluation<'a> {
    basis: Basis<'a>,
    changes: Changes,
}

impl<'a> Reevaluation<'a> {
    pub fn new(ctx: &Ctx<'a>) -> Result<Reevaluation<'a>> {
        let basis = match ctx.rule_basis {
            Some(cell) => {
                if cell.get().is_none() {
                    let _ = cell.set(RuleBasis::read(ctx)?);
                }
                Basis::Shared(cell.get().expect("set just above"))
            }
            None => Basis::Own(RuleBasis::read(ctx)?),
        };
        Ok(Reevaluation { basis, changes: Changes::default() })
    }

    /// `only_present`: every record that changed is a `present` day, which can only shorten a
    /// streak.
    pub fn attendance(&mut self, ctx: &Ctx, student: i64, program: i64, only_present: bool) -> Result<()> {
        let Some((first_processed, processed)) = self.basis.processed else { return Ok(()) };
        let kind = AlertType::MissingAttendance;
        let Some(calendar) = self.basis.calendar(ctx, program)? else { return Ok(()) };
        for e in engine::active_enrollments_of(ctx.tx, student)?.into_iter().filter(|e| e.program == program) {
            let days = EnrollmentDays { program: &calendar, start: e.start, end: e.end };
            let existing = store_alerts::live_one(ctx.tx, kind, student, Some(e.id))?;
            let subject = Subject {
                kind,
                student,
                enrollment: Some(e.id),
                program: Some(program),
                may_open: !only_present,
                resolved_before: true,
            };
            // The rules speak only for a session day the job processed: a record dated on a day
            // the job never reached (before its first run, or not a session day) cannot open an
            // alert for it.
            if let Some(as_of) = days.session_day_on_or_before(processed).filter(|d| *d >= first_processed) {
                let streak = engine::walk_back(ctx.tx, student, program, as_of, |m| streak_at(&days, as_of, m))?;
                let computed = Computed {
                    count: streak.count,
                    first_missed: streak.first_missed,
                    streak_start: streak.first_missed,
                    as_of,
                };
                reconcile(
                    ctx,
                    &subject,
                    &computed,
                    &self.basis.attendance,
                    existing,
                    "auto: attendance logged",
                    &mut self.changes,
                )?;
            }
            // A present day the job has not reached yet shows the student is back.
            let latest_after = engine::walk_back(ctx.tx, student, program, ctx.today, |marks| {
                marks.take_while(|(date, _)| *date > processed).find(|(date, _)| days.is_session_day(*date))
            })?;
            if let Some((date, DayMark::Present)) = latest_after
                && let Some(alert) = store_alerts::live_one(ctx.tx, kind, student, Some(e.id))?
            {
                let computed = Computed { count: 0, first_missed: None, streak_start: None, as_of: date };
                reconcile(
                    ctx,
                    &subject,
                    &computed,
                    &self.basis.attendance,
                    Some(alert),
                    "auto: attendance logged",
                    &mut self.changes,
                )?;
            }
        }
        Ok(())
    }

    pub fn login(&mut self, ctx: &Ctx, student: i64) -> Result<()> {
        let Some((first_processed, processed)) = self.basis.processed else { return Ok(()) };
        let kind = AlertType::NoLogin;
        let enrollments = engine::active_enrollments_of(ctx.tx, student)?;
        // The last processed day the student was enrolled on: the last day the job spoke for
        // them (an enrollment that ended before the last run still has its alert as of then).
        let as_of = enrollments
            .iter()
            .filter_map(|e| {
                let last = e.end.map_or(processed, |end| end.min(processed));
                (last >= e.start.max(first_processed)).then_some(last)
            })
            .max();
        let Some(as_of) = as_of else { return Ok(()) };
        let Some(EnrolledStudent { earliest_start, program, .. }) = enrolled_students(&enrollments, as_of).pop() else {
            return Ok(());
        };
        let existing = store_alerts::live_one(ctx.tx, kind, student, None)?;
        let subject =
            Subject { kind, student, enrollment: None, program: Some(program), may_open: false, resolved_before: true };
        let last_login = last_login_on_or_before(ctx, student, as_of)?;
        let computed = Computed {
            count: no_login_days(last_login, earliest_start, as_of),
            first_missed: None,
            streak_start: Some(no_login_since(last_login, earliest_start)),
            as_of,
        };
        reconcile(
            ctx,
            &subject,
            &computed,
            &self.basis.logins,
            existing,
            "auto: student logged in",
            &mut self.changes,
        )?;
        let latest = last_login_on_or_before(ctx, student, ctx.today)?;
        if let Some(date) = latest.filter(|d| *d > processed)
            && let Some(alert) = store_alerts::live_one(ctx.tx, kind, student, None)?
        {
            let computed = Computed { count: 0, first_missed: None, streak_start: Some(date), as_of: date };
            reconcile(
                ctx,
                &subject,
                &computed,
                &self.basis.logins,
                Some(alert),
                "auto: student logged in",
                &mut self.changes,
            )?;
        }
        Ok(())
    }

    /// Writes one audit entry for what the re-evaluation changed, if anything.
    pub fn finish(self, ctx: &Ctx, cause: &str) -> Result<AlertChanges> {
        let changes = self.changes.finish(ctx)?;
        if !changes.is_empty() {
            let after = serde_json::json!({ "cause": cause, "changes": changes });
            ctx.audit("alerts.reevaluate", "alert", cause, serde_json::Value::Null, after)?;
        }
        Ok(changes)
    }
}
