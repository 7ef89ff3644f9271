//! Reports that gather figures across records: the program holder's monthly outcome report.

use super::{Actor, App, AppError, Result};
use crate::domain::calendar::EnrollmentDays;
use crate::domain::outcomes::MonthOutcome;
use crate::store;
use crate::store::exports::Slice;
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
        let (first, _) = month_days(month)?;
        let previous = first.pred_opt().map(|d| format!("{:04}-{:02}", d.year(), d.month())).unwrap_or_default();
        let calendars = store::engine::program_calendars(self.store.conn())?;
        let mut outcomes = self.one_month(actor, &calendars, &previous, slice)?;
        let this_month = format!("{:04}-{:02}", first.year(), first.month());
        outcomes.extend(self.one_month(actor, &calendars, &this_month, slice)?);
        outcomes.sort_by(|a, b| (&a.program_id, &a.month).cmp(&(&b.program_id, &b.month)));
        Ok(outcomes)
    }

    fn one_month(&self, actor: &Actor, calendars: &Calendars, month: &str, slice: Slice) -> Result<Vec<MonthOutcome>> {
        let (first, last) = month_days(month)?;
        Ok(self
            .window(actor, calendars, first, last, slice)?
            .into_iter()
            .map(|(program_id, w)| MonthOutcome {
                program_id,
                month: month.to_string(),
                enrolled: w.enrolled,
                started: w.started,
                active: w.active,
                completed: w.completed,
                withdrawn: w.withdrawn,
                attendance_rate: w.rate(),
                contact_hours_verified: w.hours_verified,
                credentials: w.credentials,
            })
            .collect())
    }

    /// Each program's totals over `[first, last]`, for the students the actor may see. Session
    /// days count up to today in a window under way.
    fn window(
        &self,
        actor: &Actor,
        calendars: &Calendars,
        first: NaiveDate,
        last: NaiveDate,
        slice: Slice,
    ) -> Result<BTreeMap<String, Window>> {
        let through = last.min(self.today());
        let conn = self.store.conn();
        let mut by_program: BTreeMap<String, Window> = BTreeMap::new();
        for e in store::exports::window_figures(conn, actor.user(), first, last, slice)? {
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
            w.hours_verified += e.hours_verified;
            w.credentials += e.credentials;
            if let Some(program) = calendars.get(&e.program)
                && through >= first
            {
                let sessions =
                    EnrollmentDays { program, start: e.start.max(first), end: e.end }.session_days_through(through);
                w.session_days += sessions;
                w.present += e.days_present;
                w.counted += sessions.saturating_sub(e.days_excused);
            }
        }
        Ok(by_program)
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
        // Read once for every week: the closures do not change between them.
        let calendars = store::engine::program_calendars(self.store.conn())?;
        let mut monday = from - Days::new(u64::from(from.weekday().num_days_from_monday()));
        let mut rows: Vec<WeekAttendance> = Vec::new();
        while monday <= to {
            let sunday = monday + Days::new(6);
            for (program_id, w) in self.window(actor, &calendars, monday, sunday, slice)? {
                let rate = w.rate();
                let before = rows.iter().rev().find(|r| r.program_id == program_id).and_then(|r| r.attendance_rate);
                rows.push(WeekAttendance {
                    week: format!("{}-W{:02}", monday.iso_week().year(), monday.iso_week().week()),
                    program_id,
                    students: w.enrolled,
                    session_days: w.session_days,
                    present: w.present,
                    attendance_rate: rate,
                    change: rate.zip(before).map(|(now, then)| ((now - then) * 100.0).round() / 100.0),
                    contact_hours_verified: w.hours_verified,
                });
            }
            monday = monday + Days::new(7);
        }
        rows.sort_by(|a, b| (&a.program_id, &a.week).cmp(&(&b.program_id, &b.week)));
        Ok(rows)
    }
}

/// A program's totals over some days.
#[derive(Debug, Default)]
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
        let instant = |day: NaiveDate| self.zone().day_start(day).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut monday = from - Days::new(u64::from(from.weekday().num_days_from_monday()));
        let mut rows: Vec<WeekHealth> = Vec::new();
        // Whole weeks only: a score from part of a week (today's logins and attendance not yet
        // in) would read as a fall against the whole weeks before it.
        while monday <= to && monday + Days::new(6) < self.today() {
            let sunday = monday + Days::new(6);
            let next = sunday + Days::new(1);
            let week = format!("{}-W{:02}", monday.iso_week().year(), monday.iso_week().week());
            let cohorts = store::exports::week_cohorts(
                self.store.conn(),
                actor.user(),
                (monday, sunday),
                (&instant(monday), &instant(next)),
                slice,
            )?;
            for (program_id, cohort) in cohorts {
                let rate = attendance
                    .iter()
                    .find(|w| w.program_id == program_id && w.week == week)
                    .and_then(|w| w.attendance_rate);
                let logged_in = share(cohort.logged_in, cohort.students);
                let critical = share(cohort.critical, cohort.students);
                let score = crate::domain::outcomes::health_score(rate, logged_in, critical);
                let before = rows.iter().rev().find(|r| r.program_id == program_id).and_then(|r| r.score);
                rows.push(WeekHealth {
                    change: score.zip(before).map(|(now, then)| ((now - then) * 10.0).round() / 10.0),
                    program_id,
                    week: week.clone(),
                    students: cohort.students,
                    attendance_rate: rate,
                    logged_in,
                    critical,
                    score,
                });
            }
            monday = next;
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
