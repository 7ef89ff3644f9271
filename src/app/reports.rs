//! Reports that gather figures across records: the program holder's monthly outcome report.

use super::{Actor, App, AppError, Result};
use crate::domain::calendar::EnrollmentDays;
use crate::domain::outcomes::MonthOutcome;
use crate::store;
use crate::store::figures::{self, Periods, Slice};
use chrono::{Datelike, Days, NaiveDate};
use std::collections::{BTreeMap, HashMap};

/// The programs' calendars by program key, read once per report.
type Calendars = HashMap<i64, crate::domain::calendar::ProgramCalendar>;

/// The first and last day of a month written `YYYY-MM`.
pub fn month_days(month: &str) -> Result<(NaiveDate, NaiveDate)> {
    let bad = || AppError::Invalid(format!("'{month}' is not a month: expected YYYY-MM, e.g. 2026-11"));
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    let next = first.checked_add_months(chrono::Months::new(1)).ok_or_else(bad)?;
    Ok((first, next - Days::new(1)))
}

impl App {
    /// Each program's figures for `month` and the month before, for the programs of the students
    /// the actor may see (a program holder: theirs).
    pub fn month_outcomes(&self, actor: &Actor, month: &str, slice: Slice) -> Result<Vec<MonthOutcome>> {
        self.require_onboarded(actor)?;
        let (first, last) = month_days(month)?;
        let previous = first.checked_sub_months(chrono::Months::new(1)).unwrap_or(first);
        let periods = Periods { starts: vec![previous, first], last };
        let calendars = store::engine::program_calendars(self.store.conn())?;
        let mut outcomes = Vec::new();
        for (i, by_program) in self.windows(actor, &calendars, &periods, slice)?.into_iter().enumerate() {
            let (start, _) = periods.range(i);
            let month = format!("{:04}-{:02}", start.year(), start.month());
            outcomes.extend(by_program.into_iter().map(|(program_id, w)| MonthOutcome {
                program_id,
                month: month.clone(),
                enrolled: w.enrolled,
                started: w.started,
                active: w.active,
                completed: w.completed,
                withdrawn: w.withdrawn,
                attendance_rate: w.rate(),
                contact_hours_verified: w.hours_verified,
                credentials: w.credentials,
            }));
        }
        outcomes.sort_by(|a, b| (&a.program_id, &a.month).cmp(&(&b.program_id, &b.month)));
        Ok(outcomes)
    }

    /// Each program's totals in each of `periods`, for the students the actor may see, read in
    /// one pass over the periods. In a period under way, the session days that have passed
    /// count, and today's once its record is in: a day not over is not yet a day missed (the
    /// week under way read as a fall to nothing on a Monday morning).
    fn windows(
        &self,
        actor: &Actor,
        calendars: &Calendars,
        periods: &Periods,
        slice: Slice,
    ) -> Result<Vec<BTreeMap<String, Window>>> {
        let conn = self.store.conn();
        let viewer = actor.user();
        let enrollments = figures::enrollments(conn, viewer, periods, slice)?;
        let attended = figures::attendance(conn, viewer, periods, slice, &enrollments)?;
        let credentials = figures::credentials(conn, viewer, periods, slice)?;
        let today = self.today();
        let recorded_today = figures::recorded_on(conn, today)?;
        let mut windows = vec![BTreeMap::<String, Window>::new(); periods.starts.len()];
        for (i, by_program) in windows.iter_mut().enumerate() {
            let (first, last) = periods.range(i);
            let through = last.min(today);
            for e in enrollments.iter().filter(|e| e.start <= last && e.end.is_none_or(|end| end >= first)) {
                let w = by_program.entry(e.program_id.clone()).or_default();
                w.enrolled += 1;
                let exited_in_window = e.end.is_some_and(|end| end >= first && end <= last);
                w.started += u32::from(e.start >= first);
                match e.status.as_str() {
                    "completed" if exited_in_window => w.completed += 1,
                    "withdrawn" if exited_in_window => w.withdrawn += 1,
                    _ if e.end.is_none_or(|end| end > last) => w.active += 1,
                    _ => {}
                }
                if let Some(program) = calendars.get(&e.program)
                    && through >= first
                {
                    let days = EnrollmentDays { program, start: e.start.max(first), end: e.end };
                    let today_unrecorded = through == today
                        && days.is_session_day(today)
                        && !recorded_today.contains(&(e.student, e.program));
                    w.session_days += days.session_days_through(through) - u32::from(today_unrecorded);
                }
            }
            for (program_id, w) in by_program.iter_mut() {
                let attended = attended.get(&(program_id.clone(), i)).copied().unwrap_or_default();
                w.present = attended.present;
                // Excused days are set aside: the rate is out of the session days left.
                w.counted = w.session_days.saturating_sub(attended.excused);
                w.hours_verified = attended.hours_verified;
            }
            let days = first.to_string()..=last.to_string();
            for (program_id, start, end, day) in &credentials {
                let meets = *start <= last && end.is_none_or(|end| end >= first);
                let within = days.contains(day);
                if let Some(w) = by_program.get_mut(program_id)
                    && meets
                    && within
                {
                    w.credentials += 1;
                }
            }
        }
        Ok(windows)
    }

    /// Attendance per program and ISO week from `from` to `to`, with the change from the week
    /// before.
    pub fn weekly_attendance(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        slice: Slice,
    ) -> Result<Vec<WeekAttendance>> {
        self.require_onboarded(actor)?;
        let calendars = store::engine::program_calendars(self.store.conn())?;
        let periods = weeks(from, to);
        let mut rows: Vec<WeekAttendance> = Vec::new();
        for (i, by_program) in self.windows(actor, &calendars, &periods, slice)?.into_iter().enumerate() {
            let (monday, _) = periods.range(i);
            for (program_id, w) in by_program {
                let rate = w.rate();
                let before = rows.iter().rev().find(|r| r.program_id == program_id).and_then(|r| r.attendance_rate);
                rows.push(WeekAttendance {
                    week: week_name(monday),
                    program_id,
                    students: w.enrolled,
                    session_days: w.session_days,
                    present: w.present,
                    attendance_rate: rate,
                    change: rate.zip(before).map(|(now, then)| ((now - then) * 100.0).round() / 100.0),
                    contact_hours_verified: w.hours_verified,
                });
            }
        }
        rows.sort_by(|a, b| (&a.program_id, &a.week).cmp(&(&b.program_id, &b.week)));
        Ok(rows)
    }
}

/// The ISO weeks from the one holding `from` to the one holding `to`.
fn weeks(from: NaiveDate, to: NaiveDate) -> Periods {
    let mut monday = from - Days::new(u64::from(from.weekday().num_days_from_monday()));
    let mut starts = Vec::new();
    while monday <= to {
        starts.push(monday);
        monday = monday + Days::new(7);
    }
    let last = starts.last().map_or(to, |m| *m + Days::new(6));
    Periods { starts, last }
}

/// `YYYY-Www` of the ISO week holding `day`.
pub fn week_name(day: NaiveDate) -> String {
    format!("{}-W{:02}", day.iso_week().year(), day.iso_week().week())
}

/// A program's totals over some days.
#[derive(Debug, Default, Clone)]
struct Window {
    enrolled: u32,
    started: u32,
    active: u32,
    completed: u32,
    withdrawn: u32,
    session_days: u32,
    present: u32,
    /// Session days less excused ones: what the rate is out of.
    counted: u32,
    hours_verified: f64,
    credentials: u32,
}

impl Window {
    fn rate(&self) -> Option<f64> {
        (self.counted > 0)
            .then(|| (f64::from(self.present.min(self.counted)) / f64::from(self.counted) * 100.0).round() / 100.0)
    }
}

/// One program's week.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WeekAttendance {
    pub program_id: String,
    /// `YYYY-Www`.
    pub week: String,
    pub students: u32,
    pub session_days: u32,
    pub present: u32,
    pub attendance_rate: Option<f64>,
    /// The rate's change from the program's week before.
    pub change: Option<f64>,
    pub contact_hours_verified: f64,
}

/// A student at risk, with how many whole days their oldest open alert has been open.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AtRiskRow {
    #[serde(flatten)]
    pub student: store::alerts::AtRisk,
    pub days_open: i64,
}

impl App {
    /// Students with open alerts by severity, and how long they have been open (as of today).
    pub fn at_risk(&self, actor: &Actor) -> Result<Vec<AtRiskRow>> {
        self.require_onboarded(actor)?;
        let today = self.today();
        Ok(store::alerts::at_risk(self.store.conn(), actor.user())?
            .into_iter()
            .map(|student| {
                let opened = chrono::DateTime::parse_from_rfc3339(&student.open_since)
                    .map(|at| self.zone().date_of(at.with_timezone(&chrono::Utc)))
                    .unwrap_or(today);
                AtRiskRow { days_open: (today - opened).num_days().max(0), student }
            })
            .collect())
    }
}

/// Logins in one ISO week.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WeekEngagement {
    pub week: String,
    pub students: u32,
    pub logins: u32,
    pub logins_per_student: Option<f64>,
    /// Students with no login in the `quiet_days` up to the week's end.
    pub quiet_students: u32,
    pub quiet_days: u32,
}

impl App {
    /// Per ISO week from `from` to `to`: enrolled students the actor may see, their logins, and
    /// how many had not logged in for `quiet_days` by the week's end.
    pub fn engagement(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        quiet_days: u32,
    ) -> Result<Vec<WeekEngagement>> {
        self.require_onboarded(actor)?;
        let instant = |day: NaiveDate| self.zone().day_start(day).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut monday = from - Days::new(u64::from(from.weekday().num_days_from_monday()));
        let mut rows = Vec::new();
        while monday <= to {
            let sunday = monday + Days::new(6);
            let next = sunday + Days::new(1);
            let quiet_since = next - Days::new(u64::from(quiet_days));
            let (students, logins, quiet) = store::activity::engagement(
                self.store.conn(),
                actor.user(),
                (monday, sunday),
                (&instant(monday), &instant(next)),
                &instant(quiet_since),
            )?;
            rows.push(WeekEngagement {
                week: format!("{}-W{:02}", monday.iso_week().year(), monday.iso_week().week()),
                students,
                logins,
                logins_per_student: (students > 0)
                    .then(|| (f64::from(logins) / f64::from(students) * 100.0).round() / 100.0),
                quiet_students: quiet,
                quiet_days,
            });
            monday = next;
        }
        Ok(rows)
    }
}

/// One program's cohort health in one week (see `domain::outcomes::health_score`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WeekHealth {
    pub program_id: String,
    pub week: String,
    pub students: u32,
    pub attendance_rate: Option<f64>,
    /// The share of the students who logged in that week.
    pub logged_in: Option<f64>,
    /// The share with a critical alert open at the week's end.
    pub critical: Option<f64>,
    pub score: Option<f64>,
    /// The score's change from the program's week before.
    pub change: Option<f64>,
}

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| (f64::from(part) / f64::from(whole) * 100.0).round() / 100.0)
}

impl App {
    /// Cohort health per program and whole ISO week from `from` to `to`.
    pub fn cohort_health(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        slice: Slice,
    ) -> Result<Vec<WeekHealth>> {
        let attendance = self.weekly_attendance(actor, from, to, slice)?;
        self.cohort_health_with(actor, from, to, slice, &attendance)
    }

    /// Cohort health from the weeks' attendance already read (the Reports tab has it).
    pub fn cohort_health_with(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        slice: Slice,
        attendance: &[WeekAttendance],
    ) -> Result<Vec<WeekHealth>> {
        self.require_onboarded(actor)?;
        // Whole weeks only: a score from part of a week (today's logins and attendance not yet
        // in) would read as a fall against the whole weeks before it.
        let mut periods = weeks(from, to);
        periods.starts.retain(|monday| *monday + Days::new(6) < self.today());
        let Some(last_monday) = periods.starts.last().copied() else { return Ok(Vec::new()) };
        periods.last = last_monday + Days::new(6);
        let conn = self.store.conn();
        let instant = |day: NaiveDate| self.zone().day_start(day).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let starts: Vec<String> = periods.starts.iter().map(|d| instant(*d)).collect();
        let end = instant(periods.last + Days::new(1));
        let enrollments = figures::enrollments(conn, actor.user(), &periods, slice)?;
        let students: std::collections::BTreeSet<i64> = enrollments.iter().map(|e| e.student).collect();
        let logged_in = figures::logged_in(conn, &students, &starts, &end)?;
        let critical = figures::critical_alerts(conn, &students, &starts[0], &end)?;
        let mut rows: Vec<WeekHealth> = Vec::new();
        for (i, monday) in periods.starts.iter().enumerate() {
            let (first, last) = periods.range(i);
            let week_end = starts.get(i + 1).unwrap_or(&end);
            let critical_now: std::collections::HashSet<i64> = critical
                .iter()
                .filter(|(_, opened, resolved)| opened < week_end && resolved.as_ref().is_none_or(|r| r >= week_end))
                .map(|(student, ..)| *student)
                .collect();
            // Each program's students enrolled (not withdrawn) in the week, once each.
            let mut cohorts: BTreeMap<&str, std::collections::BTreeSet<i64>> = BTreeMap::new();
            for e in &enrollments {
                if e.status != "withdrawn" && e.start <= last && e.end.is_none_or(|end| end >= first) {
                    cohorts.entry(&e.program_id).or_default().insert(e.student);
                }
            }
            let week = week_name(*monday);
            for (program_id, students) in cohorts {
                let total = u32::try_from(students.len()).unwrap_or(u32::MAX);
                let active = students.iter().filter(|s| logged_in.contains(&(**s, i))).count() as u32;
                let at_risk = students.iter().filter(|s| critical_now.contains(s)).count() as u32;
                let rate = attendance
                    .iter()
                    .find(|w| w.program_id == program_id && w.week == week)
                    .and_then(|w| w.attendance_rate);
                let (logged_in, critical) = (share(active, total), share(at_risk, total));
                let score = crate::domain::outcomes::health_score(rate, logged_in, critical);
                let before = rows.iter().rev().find(|r| r.program_id == program_id).and_then(|r| r.score);
                rows.push(WeekHealth {
                    change: score.zip(before).map(|(now, then)| ((now - then) * 10.0).round() / 10.0),
                    program_id: program_id.to_string(),
                    week: week.clone(),
                    students: total,
                    attendance_rate: rate,
                    logged_in,
                    critical,
                    score,
                });
            }
        }
        rows.sort_by(|a, b| (&a.program_id, &a.week).cmp(&(&b.program_id, &b.week)));
        Ok(rows)
    }
}

/// A partner's onboarding as the document tracker shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OnboardingRow {
    pub login: String,
    pub name: String,
    pub role: String,
    pub complete: bool,
    pub percent: u32,
    /// Documents signed or acknowledged, of those the role's packet holds.
    pub documents: String,
    pub missing: String,
}

/// A payout a program holder (or an admin) may read: an approved payroll profile and its rate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PayoutRow {
    pub login: String,
    pub name: String,
    pub role: String,
    pub rate: String,
    pub method: String,
    pub approved_at: Option<String>,
}

impl App {
    /// Which partners are missing what: every partner's for an admin, one's own for a partner.
    pub fn onboarding_report(&self, actor: &Actor) -> Result<Vec<OnboardingRow>> {
        let lists = if actor.user().role.is_partner() {
            vec![self.checklist(actor, None)?]
        } else {
            self.partner_checklists(actor)?
        };
        Ok(lists
            .into_iter()
            .map(|list| {
                let documents: Vec<_> =
                    list.items.iter().filter(|i| i.kind == "sign" || i.kind == "acknowledge").collect();
                let signed = documents.iter().filter(|i| i.done).count();
                let missing: Vec<String> = list.missing().iter().map(|i| i.title.clone()).collect();
                OnboardingRow {
                    documents: format!("{signed} of {}", documents.len()),
                    missing: if list.waived { "waived".into() } else { missing.join("; ") },
                    login: list.login,
                    name: list.name,
                    role: list.role.to_string(),
                    complete: list.complete,
                    percent: list.percent,
                }
            })
            .collect())
    }

    /// Approved payroll profiles the actor may read (a partner: their own) and their rates.
    pub fn payouts(&self, actor: &Actor) -> Result<Vec<PayoutRow>> {
        let conn = self.store.conn();
        Ok(store::partners::payroll_list(conn, actor.user(), Some("approved"))?
            .into_iter()
            .map(|p| {
                let percent = store::partners::pay_model(conn, &p.role).is_ok_and(|model| model == "percent");
                PayoutRow {
                    rate: if percent { format!("{} %", p.rate) } else { format!("{} USD a month", p.rate) },
                    login: p.login,
                    name: p.name,
                    role: p.role,
                    method: p.method,
                    approved_at: p.decided_at,
                }
            })
            .collect())
    }
}
