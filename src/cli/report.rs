//! `report NAME`: the figures people are held to, scoped to the viewer, as a table, CSV or JSON.

use super::output::emit;
use super::{Cli, open_session};
use crate::app::AppError;
use crate::store::OpenMode;
use chrono::{Days, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportName {
    /// Per partner: how soon alerts about their students were acknowledged and resolved
    AlertResponse,
    /// Per verifier: how long attendance waited for a decision
    Verification,
    /// Per program and week: attendance rate (excused days set aside), its change from the week
    /// before, and verified contact hours
    Attendance,
    /// Per week: enrolled students, their logins, and how many had none for --quiet-days
    Engagement,
    /// Students with open alerts, most severe first, and how long they have been open
    AtRisk,
    /// Per program, the month against the one before: enrolled, started, active, completed,
    /// withdrawn, attendance, verified contact hours, credentials (the program holder's report)
    Outcomes,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[arg(value_enum)]
    pub name: ReportName,
    /// The first day [default: 30 days before --to]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::domain::parse_date)]
    pub from: Option<NaiveDate>,
    /// The last day, included [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::domain::parse_date)]
    pub to: Option<NaiveDate>,
    /// outcomes: the month, YYYY-MM [default: this month]
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// engagement: the days without a login that count a student as quiet
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub quiet_days: u32,
    /// outcomes, attendance: only this program
    #[arg(long, value_name = "PROGRAM_ID")]
    pub program: Option<String>,
}

pub fn report(cli: &Cli, args: &ReportArgs) -> anyhow::Result<()> {
    let session = open_session(cli, OpenMode::Existing)?;
    let to = args.to.unwrap_or_else(|| session.app.today());
    let from = args.from.unwrap_or(to - Days::new(30));
    if from > to {
        anyhow::bail!(AppError::Invalid(format!("--from {from} is after --to {to}")));
    }
    let out = &mut std::io::stdout().lock();
    match args.name {
        ReportName::AlertResponse => {
            let columns = [
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
            ];
            emit(out, cli.format, &columns, &session.app.alert_response(&session.actor, from, to)?)?;
        }
        ReportName::Outcomes => {
            let month = args.month.clone().unwrap_or_else(|| session.app.today().format("%Y-%m").to_string());
            let rows = session.app.month_outcomes(&session.actor, &month, args.program.as_deref())?;
            let columns = [
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
            emit(out, cli.format, &columns, &rows)?;
        }
        ReportName::Attendance => {
            let rows = session.app.weekly_attendance(&session.actor, from, to, args.program.as_deref())?;
            let columns = [
                "program_id",
                "week",
                "students",
                "session_days",
                "present",
                "attendance_rate",
                "change",
                "contact_hours_verified",
            ];
            emit(out, cli.format, &columns, &rows)?;
        }
        ReportName::Engagement => {
            let rows = session.app.engagement(&session.actor, from, to, args.quiet_days)?;
            let columns = ["week", "students", "logins", "logins_per_student", "quiet_students", "quiet_days"];
            emit(out, cli.format, &columns, &rows)?;
        }
        ReportName::AtRisk => {
            let columns = ["student_id", "name", "severity", "open_alerts", "open_since", "days_open"];
            emit(out, cli.format, &columns, &session.app.at_risk(&session.actor)?)?;
        }
        ReportName::Verification => {
            let columns = ["verifier", "decisions", "median_hours", "p95_hours", "within_24h"];
            emit(out, cli.format, &columns, &session.app.turnaround(&session.actor, from, to)?)?;
        }
    }
    Ok(())
}
