//! Reports that gather figures across records: the program holder's monthly outcome report.

use super::{Actor, App, AppError, Result};
use crate::domain::calendar::EnrollmentDays;
use crate::domain::outcomes::MonthOutcome;
use crate::store;
use chrono::{Datelike, Days, NaiveDate};
use std::collections::BTreeMap;

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
    pub fn month_outcomes(&self, actor: &Actor, month: &str, program_id: Option<&str>) -> Result<Vec<MonthOutcome>> {
        self.require_onboarded(actor)?;
        let (first, _) = month_days(month)?;
        let previous = first.pred_opt().map(|d| format!("{:04}-{:02}", d.year(), d.month())).unwrap_or_default();
        let mut outcomes = self.one_month(actor, &previous, program_id)?;
        outcomes.extend(self.one_month(actor, &format!("{:04}-{:02}", first.year(), first.month()), program_id)?);
        outcomes.sort_by(|a, b| (&a.program_id, &a.month).cmp(&(&b.program_id, &b.month)));
        Ok(outcomes)
    }

    fn one_month(&self, actor: &Actor, month: &str, program_id: Option<&str>) -> Result<Vec<MonthOutcome>> {
        let (first, last) = month_days(month)?;
        // Session days count up to today in the month under way.
        let through = last.min(self.today());
        let conn = self.store.conn();
        let calendars = store::engine::program_calendars(conn)?;
        let mut by_program: BTreeMap<String, (MonthOutcome, u32, u32)> = BTreeMap::new();
        for e in store::exports::window_figures(conn, actor.user(), first, last, program_id)? {
            let (o, present, counted) = by_program.entry(e.program_id.clone()).or_insert_with(|| {
                let o = MonthOutcome {
                    program_id: e.program_id.clone(),
                    month: month.to_string(),
                    enrolled: 0,
                    started: 0,
                    active: 0,
                    completed: 0,
                    withdrawn: 0,
                    attendance_rate: None,
                    contact_hours_verified: 0.0,
                    credentials: 0,
                };
                (o, 0, 0)
            });
            o.enrolled += 1;
            let exited_in_month = e.end.is_some_and(|end| end >= first && end <= last);
            o.started += u32::from(e.start >= first);
            match e.status.as_str() {
                "completed" if exited_in_month => o.completed += 1,
                "withdrawn" if exited_in_month => o.withdrawn += 1,
                _ if e.end.is_none_or(|end| end > last) => o.active += 1,
                _ => {}
            }
            o.contact_hours_verified += e.hours_verified;
            o.credentials += e.credentials;
            if let Some(program) = calendars.get(&e.program)
                && through >= first
            {
                let days = EnrollmentDays { program, start: e.start.max(first), end: e.end };
                let sessions = days.session_days_through(through);
                *present += e.days_present;
                *counted += sessions.saturating_sub(e.days_excused);
            }
        }
        Ok(by_program
            .into_values()
            .map(|(mut o, present, counted)| {
                o.attendance_rate = (counted > 0)
                    .then(|| (f64::from(present.min(counted)) / f64::from(counted) * 100.0).round() / 100.0);
                o
            })
            .collect())
    }
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
