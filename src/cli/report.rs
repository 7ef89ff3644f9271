//! `report NAME`: the figures people are held to, scoped to the viewer, as a table, CSV, JSON or
//! PDF. Written to a file with `--out`, a report appears only whole and is audited as an export.

use super::output::{Format, emit};
use super::{Cli, open_session};
use crate::app::schedules::{Every, NewReportSchedule};
use crate::app::{AppError, Command, ReportName, ReportRequest};
use crate::interchange::export::PendingFile;
use crate::store::OpenMode;
use chrono::{Days, NaiveDate};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub schedule: Option<ReportCommand>,
    /// The report (`--help` says what each holds)
    #[arg(value_enum, required = true)]
    pub name: Option<ReportName>,
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
    /// outcomes, attendance, health: only this program
    #[arg(long, value_name = "PROGRAM_ID")]
    pub program: Option<String>,
    /// outcomes, attendance, health: only the students assigned to this partner
    #[arg(long, value_name = "LOGIN")]
    pub partner: Option<String>,
    /// Write the report to FILE (it appears only when whole); needed for --format pdf on a terminal
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Reports the daemon makes weekly or monthly and e-mails as PDF (admins)
    #[command(subcommand)]
    Schedule(ScheduleCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum ScheduleCommand {
    /// Every report schedule, its next run and how the last one went
    List,
    /// Schedules a report: the daemon makes it as you see the data and mails the PDF (or writes
    /// it to the reports folder beside the database when no [mail] is set up)
    Add {
        /// The report
        #[arg(value_enum)]
        name: ReportName,
        /// weekly: the 7 days before each run; monthly: the calendar month before
        #[arg(long, value_enum)]
        every: Every,
        /// Recipients' addresses, comma-separated
        #[arg(long, value_name = "ADDRESS,...", value_delimiter = ',', required = true)]
        to: Vec<String>,
        /// outcomes, attendance, health: only this program
        #[arg(long, value_name = "PROGRAM_ID")]
        program: Option<String>,
        /// outcomes, attendance, health: only the students assigned to this partner
        #[arg(long, value_name = "LOGIN")]
        partner: Option<String>,
        /// The first run [default: next Monday (weekly) or the first of next month (monthly)]
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::domain::parse_date)]
        first: Option<NaiveDate>,
    },
    /// Stops a schedule; it will not run again
    Remove {
        /// The schedule's number, as `report schedule list` shows it
        id: i64,
        /// Do not ask (needed without a terminal)
        #[arg(long)]
        yes: bool,
    },
}

fn schedule(cli: &Cli, command: &ScheduleCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    let out = &mut std::io::stdout().lock();
    match command {
        ScheduleCommand::List => {
            let columns = [
                "id",
                "report",
                "every",
                "program",
                "partner",
                "recipients",
                "owner",
                "next_due",
                "last_due",
                "last_status",
                "last_detail",
            ];
            emit(out, cli.format, &columns, &session.app.report_schedules(&session.actor)?)?;
        }
        ScheduleCommand::Add { name, every, to, program, partner, first } => {
            let new = NewReportSchedule {
                report: *name,
                every: *every,
                program: program.clone(),
                partner: partner.clone(),
                recipients: to.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect(),
                first: *first,
            };
            writeln!(out, "{}", session.app.execute(&session.actor, Command::ScheduleReport(new))?)?;
        }
        ScheduleCommand::Remove { id, yes } => {
            let found = session.app.report_schedules(&session.actor)?.into_iter().find(|s| s.id == *id);
            let found = found.ok_or_else(|| AppError::NotFound(format!("report schedule {id}")))?;
            let question = format!("Stop the {} {} report to {}?", found.every, found.report, found.recipients);
            if !*yes {
                super::confirm(&question)?;
            }
            writeln!(out, "{}", session.app.execute(&session.actor, Command::RemoveReportSchedule { id: *id })?)?;
        }
    }
    Ok(())
}

pub fn report(cli: &Cli, args: &ReportArgs) -> anyhow::Result<()> {
    let Some(name) = args.name else {
        return match &args.schedule {
            Some(ReportCommand::Schedule(command)) => schedule(cli, command),
            None => Err(AppError::Invalid("name a report: muster report --help lists them".into()).into()),
        };
    };
    if cli.format == Format::Pdf && args.out.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!(AppError::Invalid("a PDF is not for a terminal: add --out FILE (or send it to a pipe)".into()));
    }
    let mut session = open_session(cli, OpenMode::Existing)?;
    let today = session.app.today();
    let mut request = ReportRequest::new(name, today);
    request.to = args.to.unwrap_or(today);
    request.from = args.from.unwrap_or(request.to - Days::new(30));
    if let Some(month) = &args.month {
        crate::app::month_days(month)?;
        request.month = month.clone();
    }
    request.quiet_days = args.quiet_days;
    request.program = args.program.clone();
    request.partner = args.partner.clone();
    let sheet = session.app.report(&session.actor, &request)?;
    let mut bytes = Vec::new();
    match cli.format {
        Format::Pdf => bytes = session.app.report_pdf(&session.actor, &sheet),
        format => emit(&mut bytes, format, &sheet.columns, &sheet.rows)?,
    }
    let Some(path) = &args.out else {
        std::io::stdout().lock().write_all(&bytes)?;
        return Ok(());
    };
    let cannot = |e: std::io::Error| AppError::Invalid(format!("cannot write {}: {e}", path.display()));
    let mut file = crate::app::identity::as_caller(|| PendingFile::create(path)).map_err(cannot)?;
    file.write_all(&bytes).map_err(cannot)?;
    crate::app::identity::as_caller(|| file.commit()).map_err(cannot)?;
    let command = Command::RecordExport {
        kind: format!("report.{}", name.as_str()),
        filter: format!("{} ({:?})", sheet.covers, cli.format).to_lowercase(),
        rows: sheet.rows.len() as u64,
        to: path.display().to_string(),
    };
    eprintln!("{}", session.app.execute(&session.actor, command)?);
    Ok(())
}
