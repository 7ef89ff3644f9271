//! A report by name, as people ask for it on the command line or on a schedule: its rows (for a
//! table, CSV or JSON) and, for a PDF, its heading, charts and extra tables.

use super::{Actor, App, AppError, Result};
use crate::interchange::pdf::{Document, Section, Unit};
use crate::store::figures::Slice;
use chrono::{Datelike, Days, NaiveDate};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportName {
    /// Per program, the month against the one before: enrolled, started, active, completed,
    /// withdrawn, attendance, verified contact hours, credentials (the program holder's report)
    Outcomes,
    /// Per program and week: attendance rate (excused days set aside), its change from the week
    /// before, and verified contact hours
    Attendance,
    /// Per week: enrolled students, their logins, and how many had none for --quiet-days
    Engagement,
    /// Per program and week: one score from attendance, logins and critical alerts, and its trend
    Health,
    /// Students with open alerts, most severe first, and how long they have been open
    AtRisk,
    /// Per partner: how soon alerts about their students were acknowledged and resolved
    AlertResponse,
    /// Per verifier: how long attendance waited for a decision
    Verification,
    /// Per partner: onboarding steps and documents done, and what is missing
    Onboarding,
    /// Approved payroll profiles and their rates (a partner: their own)
    Payouts,
}

impl ReportName {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportName::Outcomes => "outcomes",
            ReportName::Attendance => "attendance",
            ReportName::Engagement => "engagement",
            ReportName::Health => "health",
            ReportName::AtRisk => "at-risk",
            ReportName::AlertResponse => "alert-response",
            ReportName::Verification => "verification",
            ReportName::Onboarding => "onboarding",
            ReportName::Payouts => "payouts",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ReportName::Outcomes => "Monthly outcome report",
            ReportName::Attendance => "Attendance by program and week",
            ReportName::Engagement => "Engagement by week",
            ReportName::Health => "Cohort health by program and week",
            ReportName::AtRisk => "Students at risk",
            ReportName::AlertResponse => "Alert response by partner",
            ReportName::Verification => "Verification turnaround by verifier",
            ReportName::Onboarding => "Onboarding and documents by partner",
            ReportName::Payouts => "Payouts",
        }
    }
}

/// What to report on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportRequest {
    pub name: ReportName,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `outcomes`: the month, `YYYY-MM`.
    pub month: String,
    pub program: Option<String>,
    pub partner: Option<String>,
    /// `engagement`: the days without a login that make a student quiet.
    pub quiet_days: u32,
}

impl ReportRequest {
    /// The last 30 days and this month, for `today`.
    pub fn new(name: ReportName, today: NaiveDate) -> ReportRequest {
        ReportRequest {
            name,
            from: today - Days::new(30),
            to: today,
            month: format!("{:04}-{:02}", today.year(), today.month()),
            program: None,
            partner: None,
            quiet_days: 7,
        }
    }

    fn slice(&self) -> Slice<'_> {
        Slice { program_id: self.program.as_deref(), partner: self.partner.as_deref() }
    }

    /// What the figures cover, in words.
    fn covers(&self) -> String {
        let mut words = match self.name {
            ReportName::Outcomes => {
                let previous = super::reports::month_days(&self.month)
                    .ok()
                    .and_then(|(first, _)| first.pred_opt())
                    .map(|d| format!("{:04}-{:02}", d.year(), d.month()))
                    .unwrap_or_default();
                format!("{} against {previous}", self.month)
            }
            ReportName::AtRisk | ReportName::Onboarding | ReportName::Payouts => "as of today".to_string(),
            _ => format!("{} to {}", self.from, self.to),
        };
        if let Some(program) = &self.program {
            words.push_str(&format!(" - program {program}"));
        }
        if let Some(partner) = &self.partner {
            words.push_str(&format!(" - students of {partner}"));
        }
        words
    }
}

/// A report's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub title: String,
    pub covers: String,
    pub columns: Vec<&'static str>,
    /// One object per row; tables and CSV show `columns`, JSON every field.
    pub rows: Vec<Value>,
    /// Drawn above the table in a PDF.
    pub charts: Vec<Section>,
    /// Printed after the table in a PDF: the payouts in the outcome report, the health formula.
    pub more: Vec<Section>,
}

fn values<T: serde::Serialize>(rows: &[T]) -> Result<Vec<Value>> {
    rows.iter().map(|r| serde_json::to_value(r).map_err(|e| AppError::Invalid(e.to_string()))).collect()
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The rows of `sheet` as text cells in the order of `columns`.
pub fn cells(columns: &[&str], rows: &[Value]) -> Vec<Vec<String>> {
    rows.iter().map(|row| columns.iter().map(|c| cell(row.get(c))).collect()).collect()
}

/// One chart per program (at most six, the table has them all) of `value` by week.
fn weekly_charts(rows: &[Value], what: &str, unit: Unit, value: &str) -> Vec<Section> {
    let mut programs: Vec<String> = Vec::new();
    for row in rows {
        let program = cell(row.get("program_id"));
        if !programs.contains(&program) {
            programs.push(program);
        }
    }
    let mut charts: Vec<Section> = programs
        .iter()
        .take(6)
        .map(|program| Section::Bars {
            heading: format!("{what} by week - {program}"),
            unit,
            bars: rows
                .iter()
                .filter(|r| cell(r.get("program_id")) == *program)
                .map(|r| {
                    let week = cell(r.get("week"));
                    let label = week.split_once("-W").map_or(week.clone(), |(_, n)| format!("W{n}"));
                    (label, r.get(value).and_then(Value::as_f64))
                })
                .collect(),
        })
        .collect();
    if programs.len() > 6 {
        charts.push(Section::Text(format!(
            "Charts for the first 6 of {} programs; the table has them all.",
            programs.len()
        )));
    }
    charts
}

impl App {
    /// The figures of `request`, as the actor may see them.
    pub fn report(&self, actor: &Actor, request: &ReportRequest) -> Result<Sheet> {
        self.require_onboarded(actor)?;
        if let Some(partner) = &request.partner {
            let user = crate::store::users::get(self.store.conn(), partner)?
                .ok_or_else(|| AppError::NotFound(format!("partner '{partner}'")))?;
            if !user.role.is_partner() {
                return Err(AppError::Invalid(format!("{partner} is an {}, not a partner", user.role)));
            }
        }
        let (from, to) = (request.from, request.to);
        if from > to {
            return Err(AppError::Invalid(format!("--from {from} is after --to {to}")));
        }
        let mut charts = Vec::new();
        let mut more = Vec::new();
        let (columns, rows): (Vec<&'static str>, Vec<Value>) = match request.name {
            ReportName::Outcomes => {
                let rows = values(&self.month_outcomes(actor, &request.month, request.slice())?)?;
                let this_month: Vec<(String, Option<f64>)> = rows
                    .iter()
                    .filter(|r| cell(r.get("month")) == request.month)
                    .map(|r| (cell(r.get("program_id")), r.get("attendance_rate").and_then(Value::as_f64)))
                    .collect();
                charts.push(Section::Bars {
                    heading: format!("Attendance rate by program, {}", request.month),
                    unit: Unit::Share,
                    bars: this_month,
                });
                let payouts = self.payouts(actor)?;
                let columns = ["login", "name", "role", "rate", "method", "approved_at"];
                let payout_rows = cells(&columns, &values(&payouts)?);
                more.push(Section::Table {
                    heading: "Payouts: approved payroll profiles".into(),
                    columns: columns.iter().map(|c| c.to_string()).collect(),
                    rows: payout_rows,
                });
                let columns = vec![
                    "program_id",
                    "month",
                    "enrolled",
                    "started",
                    "active",
                    "completed",
                    "withdrawn",
                    "attendance_rate",
                    "contact_hours_verified",
                    "credentials",
                ];
                (columns, rows)
            }
            ReportName::Attendance => {
                let rows = values(&self.weekly_attendance(actor, from, to, request.slice())?)?;
                charts = weekly_charts(&rows, "Attendance rate", Unit::Share, "attendance_rate");
                let columns = vec![
                    "program_id",
                    "week",
                    "students",
                    "session_days",
                    "present",
                    "attendance_rate",
                    "change",
                    "contact_hours_verified",
                ];
                (columns, rows)
            }
            ReportName::Health => {
                let rows = values(&self.cohort_health(actor, from, to, request.slice())?)?;
                charts = weekly_charts(&rows, "Health score", Unit::Count, "score");
                more.push(Section::Text(format!(
                    "score = {}; attendance is the week's attendance rate, logged in the share of students \
                     with a login that week,\ncritical the share with a critical alert open at the week's end.",
                    crate::domain::outcomes::HEALTH_FORMULA
                )));
                let columns = vec![
                    "program_id",
                    "week",
                    "students",
                    "attendance_rate",
                    "logged_in",
                    "critical",
                    "score",
                    "change",
                ];
                (columns, rows)
            }
            ReportName::Engagement => {
                let rows = values(&self.engagement(actor, from, to, request.quiet_days)?)?;
                let bars = rows
                    .iter()
                    .map(|r| (cell(r.get("week")), r.get("logins_per_student").and_then(Value::as_f64)))
                    .collect();
                charts.push(Section::Bars { heading: "Logins per student by week".into(), unit: Unit::Count, bars });
                (vec!["week", "students", "logins", "logins_per_student", "quiet_students", "quiet_days"], rows)
            }
            ReportName::AtRisk => (
                vec!["student_id", "name", "severity", "open_alerts", "open_since", "days_open"],
                values(&self.at_risk(actor)?)?,
            ),
            ReportName::AlertResponse => (
                vec![
                    "partner",
                    "name",
                    "alerts",
                    "acknowledged",
                    "median_hours_to_ack",
                    "p95_hours_to_ack",
                    "acked_within_24h",
                    "resolved",
                    "median_hours_to_resolve",
                    "p95_hours_to_resolve",
                ],
                values(&self.alert_response(actor, from, to)?)?,
            ),
            ReportName::Verification => (
                vec!["verifier", "decisions", "median_hours", "p95_hours", "within_24h"],
                values(&self.turnaround(actor, from, to)?)?,
            ),
            ReportName::Onboarding => (
                vec!["login", "name", "role", "complete", "percent", "documents", "missing"],
                values(&self.onboarding_report(actor)?)?,
            ),
            ReportName::Payouts => {
                (vec!["login", "name", "role", "rate", "method", "approved_at"], values(&self.payouts(actor)?)?)
            }
        };
        Ok(Sheet { title: request.name.title().to_string(), covers: request.covers(), columns, rows, charts, more })
    }

    /// `sheet` as a PDF, signed off with who produced it and when (in the organisation's zone).
    pub fn report_pdf(&self, actor: &Actor, sheet: &Sheet) -> Vec<u8> {
        let now = self.now();
        let local = self.zone().wall_clock(now);
        let user = actor.user();
        let mut sections = sheet.charts.clone();
        sections.push(Section::Table {
            heading: "Figures".into(),
            columns: sheet.columns.iter().map(|c| c.to_string()).collect(),
            rows: cells(&sheet.columns, &sheet.rows),
        });
        sections.extend(sheet.more.iter().cloned());
        let document = Document {
            title: sheet.title.clone(),
            subtitle: sheet.covers.clone(),
            produced: format!("Produced by {} ({}, {}) on {}", user.name, user.login, user.role, local),
            sections,
        };
        crate::interchange::pdf::render(&document, now)
    }
}
