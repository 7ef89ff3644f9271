//! `attendance …`: logging days, the verification queue, and turnaround.

use super::output::{ListWriter, emit};
use super::{Cli, open_session, vocabulary};
use crate::app::{AttendanceDay, AttendanceEntry, Command, Decision};
use crate::domain::turnaround::parse_week;
use crate::domain::{AttendanceStatus, parse_date};
use crate::store::OpenMode;
use crate::store::activity::AttendanceFilter;
use chrono::NaiveDate;

/// Which student's day, in which program.
#[derive(Debug, clap::Args)]
pub struct DayArgs {
    /// The student, by the source system's ID
    #[arg(long, value_name = "STUDENT_ID")]
    student: String,
    /// The program they attend, by its ID
    #[arg(long, value_name = "PROGRAM_ID")]
    program: String,
    /// The day, in the organisation's time zone
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    date: NaiveDate,
}

impl DayArgs {
    fn day(&self) -> AttendanceDay {
        AttendanceDay { student_id: self.student.clone(), program_id: self.program.clone(), date: self.date }
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum AttendanceCommand {
    /// Log (or correct) one student's attendance for one day; a correction goes back to pending
    Log {
        #[command(flatten)]
        day: DayArgs,
        /// What the day was; absent counts as missed, excused is skipped over
        #[arg(long, value_parser = vocabulary::<AttendanceStatus>())]
        status: AttendanceStatus,
        /// Hours on site, in quarter hours (0 to 24)
        #[arg(long)]
        hours: Option<f64>,
        /// Kept with the record, for the verifier to read
        #[arg(long)]
        note: Option<String>,
    },
    /// Take back a day you logged that nobody has verified or rejected yet
    Retract {
        #[command(flatten)]
        day: DayArgs,
    },
    /// Take back your own verification or rejection: the records wait for verification again
    Reopen {
        /// The records' numbers, as `attendance list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Records you may see, oldest first
    List {
        /// Only records waiting for verification
        #[arg(long)]
        pending: bool,
        /// Only one ISO week, e.g. 2026-W47
        #[arg(long, value_name = "YYYY-Www", value_parser = parse_week)]
        week: Option<(NaiveDate, NaiveDate)>,
        /// Only this student's records
        #[arg(long, value_name = "STUDENT_ID")]
        student: Option<String>,
    },
    /// Verify pending records (coordinators, program holders, admins; not your own)
    Verify {
        /// The records' numbers, as `attendance list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Reject pending records with a reason the worksite can act on
    Reject {
        /// The records' numbers, as `attendance list` shows them
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
        /// What is wrong, for the worksite to put right (kept with each record)
        #[arg(long)]
        reason: String,
    },
    /// How long records waited for a decision, per verifier: median, 95th percentile, share in 24 h
    Turnaround {
        /// First record date [default: 30 days ago]
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        from: Option<NaiveDate>,
        /// Last record date [default: today]
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        to: Option<NaiveDate>,
    },
}

pub fn attendance(cli: &Cli, cmd: &AttendanceCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    match cmd {
        AttendanceCommand::Log { day, status, hours, note } => {
            let AttendanceDay { student_id, program_id, date } = day.day();
            let entry =
                AttendanceEntry { student_id, program_id, date, status: *status, hours: *hours, note: note.clone() };
            println!("{}", session.app.execute(&session.actor, Command::LogAttendance { entries: vec![entry] })?);
        }
        AttendanceCommand::Reopen { ids } => {
            let command = Command::ReopenAttendance { ids: ids.clone() };
            println!("{}", session.app.execute(&session.actor, command)?);
        }
        AttendanceCommand::Retract { day } => {
            let days = vec![day.day()];
            println!("{}", session.app.execute(&session.actor, Command::RetractAttendance { days })?);
        }
        AttendanceCommand::List { pending, week, student } => {
            let filter = AttendanceFilter {
                pending_only: *pending,
                from: week.map(|w| w.0),
                to: week.map(|w| w.1),
                student_id: student.clone(),
            };
            let columns = [
                "id",
                "student_id",
                "program_id",
                "date",
                "status",
                "hours",
                "logged_by",
                "logged_at",
                "verification",
                "verified_by",
                "verified_at",
                "reason",
            ];
            // Each record is printed as it is read: a churn year's pending records are 593,000.
            let out = &mut std::io::stdout().lock();
            let mut list = ListWriter::new(out, cli.format, &columns);
            session.app.each_attendance(&session.actor, &filter, |view| list.row(&view))?;
            list.finish()?;
        }
        AttendanceCommand::Verify { ids } => {
            let command = Command::DecideAttendance { ids: ids.clone(), decision: Decision::Verify };
            println!("{}", session.app.execute(&session.actor, command)?);
        }
        AttendanceCommand::Reject { ids, reason } => {
            let command =
                Command::DecideAttendance { ids: ids.clone(), decision: Decision::Reject { reason: reason.clone() } };
            println!("{}", session.app.execute(&session.actor, command)?);
        }
        AttendanceCommand::Turnaround { from, to } => {
            let to = to.unwrap_or_else(|| session.app.today());
            let from = from.unwrap_or(to - chrono::Days::new(30));
            let rows = session.app.turnaround(&session.actor, from, to)?;
            emit(
                &mut std::io::stdout().lock(),
                cli.format,
                &["verifier", "decisions", "median_hours", "p95_hours", "within_24h"],
                &rows,
            )?;
        }
    }
    Ok(())
}
