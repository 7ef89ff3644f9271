//! `attendance …`: logging a day's attendance.

use super::{Cli, open_session, vocabulary};
use crate::app::{AttendanceEntry, Command};
use crate::domain::{AttendanceStatus, parse_date};
use crate::store::OpenMode;
use chrono::NaiveDate;

#[derive(Debug, clap::Subcommand)]
pub enum AttendanceCommand {
    /// Log (or correct) one student's attendance for one day; a correction goes back to pending
    Log {
        #[arg(long, value_name = "STUDENT_ID")]
        student: String,
        #[arg(long, value_name = "PROGRAM_ID")]
        program: String,
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: NaiveDate,
        #[arg(long, value_parser = vocabulary::<AttendanceStatus>())]
        status: AttendanceStatus,
        /// Hours on site, in quarter hours (0 to 24)
        #[arg(long)]
        hours: Option<f64>,
        #[arg(long)]
        note: Option<String>,
    },
}

pub fn attendance(cli: &Cli, cmd: &AttendanceCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    match cmd {
        AttendanceCommand::Log { student, program, date, status, hours, note } => {
            let entry = AttendanceEntry {
                student_id: student.clone(),
                program_id: program.clone(),
                date: *date,
                status: *status,
                hours: *hours,
                note: note.clone(),
            };
            println!("{}", session.app.execute(&session.actor, Command::LogAttendance(entry))?);
        }
    }
    Ok(())
}
