//! `user` and `students`: the people muster knows about.

use super::output::{ListWriter, emit, emit_one};
use super::{Cli, open_session, vocabulary};
use crate::app::Command;
use crate::domain::Role;
use crate::store::OpenMode;
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a person (admins)
    Add {
        /// Their operating-system account name
        login: String,
        /// What they do, which decides what they may see and do
        #[arg(long, value_parser = vocabulary::<Role>())]
        role: Role,
        /// Full name, as they will type it to sign documents
        #[arg(long)]
        name: String,
        /// Where their digests and scheduled reports go
        #[arg(long)]
        email: Option<String>,
    },
    /// List the people you may see
    List,
    /// Switch your daily digest e-mail of alerts on or off
    Digest {
        /// on or off
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum StudentsCommand {
    /// The students you may see
    List,
    /// One student: enrollments, attendance, last login
    Show {
        /// The source system's student ID
        id: String,
    },
    /// Assign a student to a partner, who then sees them (admins)
    Assign {
        /// The source system's student ID
        id: String,
        /// The partner's login
        login: String,
    },
    /// Take a student off a partner, who no longer sees them (admins)
    Unassign {
        /// The source system's student ID
        id: String,
        /// The partner's login
        login: String,
    },
    /// The student asked not to be messaged: their messages are skipped from now on
    OptOut {
        /// The source system's student ID
        id: String,
        /// They may be messaged again
        #[arg(long)]
        undo: bool,
    },
}

pub fn user(cli: &Cli, cmd: &UserCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    match cmd {
        UserCommand::Add { login, role, name, email } => {
            let command =
                Command::AddUser { login: login.clone(), name: name.clone(), role: *role, email: email.clone() };
            println!("{}", session.app.execute(&session.actor, command)?);
        }
        UserCommand::Digest { state } => {
            let command = Command::SetDigest { on: state == "on" };
            println!("{}", session.app.execute(&session.actor, command)?);
        }
        UserCommand::List => {
            let users = session.app.users(&session.actor)?;
            emit(
                &mut std::io::stdout().lock(),
                cli.format,
                &["login", "name", "role", "email", "onboarding_waived"],
                &users,
            )?;
        }
    }
    Ok(())
}

/// Students are read a page at a time, so even a very large list starts printing at once.
const PAGE: usize = 1_000;

pub fn students(cli: &Cli, cmd: &StudentsCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    let out = &mut std::io::stdout().lock();
    match cmd {
        StudentsCommand::Assign { id, login } | StudentsCommand::Unassign { id, login } => {
            let assigned = matches!(cmd, StudentsCommand::Assign { .. });
            let command = Command::SetAssignment { student_id: id.clone(), login: login.clone(), assigned };
            writeln!(out, "{}", session.app.execute(&session.actor, command)?)?;
        }
        StudentsCommand::OptOut { id, undo } => {
            let command = Command::SetOptOut { student_id: id.clone(), opted_out: !*undo };
            writeln!(out, "{}", session.app.execute(&session.actor, command)?)?;
        }
        StudentsCommand::List => {
            let columns = ["student_id", "first_name", "last_name", "programs", "status", "assigned_to"];
            let mut list = ListWriter::new(out, cli.format, &columns);
            let mut after = String::new();
            loop {
                let page = session.app.students(&session.actor, &after, PAGE)?;
                let Some(last) = page.last() else { break };
                after = last.student_id.clone();
                for student in &page {
                    list.row(student)?;
                }
                if page.len() < PAGE {
                    break;
                }
            }
            list.finish()?;
        }
        StudentsCommand::Show { id } => {
            let detail = session.app.student(&session.actor, id)?;
            emit_one(out, cli.format, &detail)?;
            if cli.format != super::Format::Json && !detail.enrollments.is_empty() {
                println!();
                let columns = [
                    "enrollment_id",
                    "program_id",
                    "program_name",
                    "schedule",
                    "start_date",
                    "end_date",
                    "status",
                    "contact_hours",
                ];
                emit(out, cli.format, &columns, &detail.enrollments)?;
            }
            if cli.format != super::Format::Json && !detail.messages.is_empty() {
                println!();
                let columns = ["campaign", "kind", "subject", "from", "status", "updated_at"];
                emit(out, cli.format, &columns, &detail.messages)?;
            }
        }
    }
    Ok(())
}
