//! The command line: clap definitions, opening the database as the right person, and one module
//! per subcommand group. Every change goes through `app`.

mod alerts;
mod attendance;
mod audit;
mod cells;
mod data;
mod export;
mod messages;
mod onboarding;
pub mod output;
mod people;
mod progress;
mod report;
mod settings;
mod sync;

use crate::app::identity::{self, OsAccount};
use crate::app::{Actor, App, AppError, SystemClock};
use crate::domain::Vocabulary;
use crate::store::OpenMode;
use anyhow::Context;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub use output::Format;

#[derive(Debug, Parser)]
#[command(
    name = "muster",
    version,
    about = "Alert inbox, attendance, onboarding and payroll for workforce-training programs",
    long_about = "muster keeps a training organisation's alert inbox, attendance verification queue, \
                  onboarding checklists, payroll approvals and audit log in one SQLite file.\n\n\
                  With no subcommand it opens the console.",
    after_help = "Exit status: 0 done, 2 wrong usage, 3 permission denied, 4 invalid input (nothing written), 1 anything else."
)]
pub struct Cli {
    /// Database file [default: the platform data directory, e.g. ~/.local/share/muster/muster.db]
    #[arg(long, global = true, env = "MUSTER_DB", value_name = "PATH", help_heading = GLOBAL)]
    pub db: Option<PathBuf>,

    /// Act as another user, with exactly that user's permissions (admins only)
    #[arg(long = "as", global = true, value_name = "LOGIN", help_heading = GLOBAL)]
    pub as_login: Option<String>,

    /// Use the demo database in the data directory, created and filled on first use
    #[arg(long, global = true, conflicts_with = "db", help_heading = GLOBAL)]
    pub demo: bool,

    /// Output format for lists
    #[arg(long, global = true, value_enum, default_value_t = Format::Table, help_heading = GLOBAL)]
    pub format: Format,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The heading of the options every command takes, so a command's own come first in its help.
const GLOBAL: &str = "Options for every command";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database; the first account to open it becomes its admin
    Init,
    /// Fill an empty database with realistic demo data
    Demo(data::DemoArgs),
    /// Add and list the people who use muster
    #[command(subcommand)]
    User(people::UserCommand),
    /// Import a CSV file from the source system (all or nothing)
    Import(data::ImportArgs),
    /// Export the rows you may see as CSV or JSON: attendance, alerts, audit; funders' files (wioa, wrg, jri)
    Export(export::ExportArgs),
    /// List and show students; assign them to partners (admins)
    #[command(subcommand)]
    Students(people::StudentsCommand),
    /// The alert inbox: run the daily job, list, show, triage, thresholds
    #[command(subcommand)]
    Alerts(alerts::AlertsCommand),
    /// Log attendance
    #[command(subcommand)]
    Attendance(attendance::AttendanceCommand),
    /// A partner's onboarding: roles, responsibilities, documents, consent, signatures
    #[command(subcommand)]
    Onboarding(onboarding::OnboardingCommand),
    /// Payout profiles and their approval
    #[command(subcommand)]
    Payroll(onboarding::PayrollCommand),
    /// Reports: monthly outcomes, attendance, engagement, cohort health, at-risk students, alert response, verification, onboarding, payouts
    Report(report::ReportArgs),
    /// Reach students: templates, one message, campaigns; send what is due
    #[command(subcommand)]
    Message(messages::MessageCommand),
    /// Run the background jobs (the daily alert run, sending messages) without the console
    Daemon,
    /// Read and verify the tamper-evident audit log (admins)
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Organisation-wide settings: the time zone days are counted in
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// A site laptop's link to the organisation's database (the hub): with no subcommand, send
    /// this replica's changes and bring the hub's back
    Sync(sync::SyncArgs),
    /// Serve one sync connection on stdin/stdout (run by ssh on the hub)
    SyncServe,
    /// The site laptops that keep a replica of this database (admins)
    #[command(subcommand)]
    Device(sync::DeviceCommand),
}

/// A clap parser offering exactly the words of a domain vocabulary.
pub(crate) fn vocabulary<T: Vocabulary>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::words()).try_map(|word| word.parse::<T>())
}

/// The data directory: the platform's for this account; under setuid, the service account's,
/// whatever the caller's `HOME` or `XDG_DATA_HOME` say.
pub fn data_dir() -> anyhow::Result<PathBuf> {
    if identity::running_setuid() {
        return identity::service_home()
            .map(|home| home.join(".local/share/muster"))
            .context("the service account muster runs as has no home directory");
    }
    directories::ProjectDirs::from("", "", "muster")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("cannot find a data directory for this account (is HOME set?); pass --db PATH")
}

/// Where the database is: `--db`, `MUSTER_DB`, the demo database, or the default.
pub fn database_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    match (&cli.db, cli.demo) {
        (Some(path), _) if identity::running_setuid() => inside_service_dir(path),
        (Some(path), _) => Ok(path.clone()),
        (None, true) => Ok(data_dir()?.join("demo.db")),
        (None, false) => Ok(data_dir()?.join("muster.db")),
    }
}

/// Under setuid, `--db` may only name a file in the service's data directory, and not through a
/// link: the caller must not make muster open or create files elsewhere with its rights.
fn inside_service_dir(path: &std::path::Path) -> anyhow::Result<PathBuf> {
    let denied = || {
        AppError::Denied(format!(
            "{}: muster runs as a service account here and opens only databases in its data directory",
            path.display()
        ))
    };
    let dir = data_dir()?.canonicalize().map_err(|_| denied())?;
    let name = path.file_name().ok_or_else(denied)?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.canonicalize().map_err(|_| denied())?,
        _ => std::env::current_dir()?.canonicalize().map_err(|_| denied())?,
    };
    let resolved = parent.join(name);
    let is_link = std::fs::symlink_metadata(&resolved).is_ok_and(|m| m.file_type().is_symlink());
    if parent != dir || is_link {
        return Err(denied().into());
    }
    Ok(resolved)
}

/// An open database and the person acting on it.
pub struct Session {
    pub app: App,
    pub actor: Actor,
}

/// Opens the database and works out who is acting; says so once when this account just became
/// the first admin.
pub fn open_session(cli: &Cli, mode: OpenMode) -> anyhow::Result<Session> {
    open_session_as(cli, mode, cli.as_login.as_deref())
}

/// As `open_session`, acting as `as_login` (or oneself) whatever `--as` said.
pub fn open_session_as(cli: &Cli, mode: OpenMode, as_login: Option<&str>) -> anyhow::Result<Session> {
    let path = database_path(cli)?;
    let os: OsAccount = identity::os_account()?;
    let mut app = App::open(&path, mode, Box::new(SystemClock), identity::this_origin(&os))?;
    let sign_in = app.sign_in(&os, as_login)?;
    if sign_in.bootstrapped {
        eprintln!(
            "muster: {} had no users; you ({}) are now its admin. Add others with: muster user add LOGIN --role ROLE --name \"Full Name\"",
            path.display(),
            os.login
        );
    }
    Ok(Session { app, actor: sign_in.actor })
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.command.is_some() {
        // A subcommand's output may go to `head`: end quietly when the reader stops, as other
        // command-line tools do. The console and the daemon keep the default.
        if !matches!(cli.command, Some(Command::Daemon)) {
            restore_default_sigpipe();
        }
    }
    // The console too, until it takes the screen: opening a file that a large import is
    // writing waits for the import.
    crate::store::busy::report_waits_on_stderr(true);
    if cli.format == Format::Pdf && !matches!(cli.command, Some(Command::Report(_))) {
        anyhow::bail!(AppError::Invalid(
            "--format pdf is for reports: muster report NAME --format pdf --out FILE".into()
        ));
    }
    if cli.demo {
        data::ensure_demo_database(&cli)?;
    }
    match &cli.command {
        None => console(&cli),
        Some(Command::Init) => data::init(&cli),
        Some(Command::Demo(args)) => data::demo(&cli, args),
        Some(Command::User(cmd)) => people::user(&cli, cmd),
        Some(Command::Message(cmd)) => messages::message(&cli, cmd),
        Some(Command::Export(args)) => export::export(&cli, args),
        Some(Command::Report(args)) => report::report(&cli, args),
        Some(Command::Import(args)) => data::import(&cli, args),
        Some(Command::Students(cmd)) => people::students(&cli, cmd),
        Some(Command::Alerts(cmd)) => alerts::alerts(&cli, cmd),
        Some(Command::Attendance(cmd)) => attendance::attendance(&cli, cmd),
        Some(Command::Onboarding(cmd)) => onboarding::onboarding(&cli, cmd),
        Some(Command::Payroll(cmd)) => onboarding::payroll(&cli, cmd),
        Some(Command::Daemon) => daemon(&cli),
        Some(Command::Audit(cmd)) => audit::audit(&cli, cmd),
        Some(Command::Settings(cmd)) => settings::settings(&cli, cmd),
        Some(Command::Sync(cmd)) => sync::sync(&cli, cmd),
        Some(Command::SyncServe) => sync::serve(&cli),
        Some(Command::Device(cmd)) => sync::device(&cli, cmd),
    }
}

fn restore_default_sigpipe() {
    // SAFETY: setting a signal's disposition to the default has no preconditions; it happens
    // before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Asks on the terminal; anything but "y" leaves things as they were. Without a terminal to ask
/// on, refuses: a script says `--yes`.
pub(crate) fn confirm(question: &str) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(AppError::Invalid(format!(
            "{question}\nnothing changed: add --yes to do this without being asked"
        )));
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        anyhow::bail!(AppError::Invalid("nothing changed".into()));
    }
    Ok(())
}

/// SPEC's exit status for an error: 3 permission denied, 4 invalid input, 1 anything else.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    use crate::store::StoreError;
    match error.downcast_ref::<AppError>() {
        Some(AppError::Denied(_) | AppError::Store(StoreError::ReadOnly)) => 3,
        Some(AppError::Invalid(_) | AppError::InvalidRows(_) | AppError::NotFound(_)) => 4,
        Some(AppError::Store(_)) | None => 1,
    }
}

/// The message for an error: one line, each cause said once, then any row problems beneath it.
/// Everything is escaped: messages repeat values that came from people and files.
pub fn error_report(error: &anyhow::Error) -> String {
    let mut line = String::from("muster: ");
    let mut said: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        // rusqlite and io errors repeat their text in their sources; say each thing once.
        if said.iter().any(|earlier| earlier.contains(&text) || text.ends_with(earlier.as_str())) {
            continue;
        }
        if !said.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
        said.push(text);
    }
    let mut report = crate::domain::text::escape_controls(&line).into_owned();
    if let Some(AppError::InvalidRows(problems)) = error.downcast_ref::<AppError>() {
        for problem in problems {
            report.push_str(&format!("\n  {}", crate::domain::text::escape_controls(&problem.to_string())));
        }
    }
    report
}

/// `muster daemon`: started by an admin's account; works as the `system` actor.
fn daemon(cli: &Cli) -> anyhow::Result<()> {
    let config = crate::config::load()?;
    let run_at = config.alerts.run_at()?;
    let session = open_session(cli, OpenMode::Existing)?;
    // On a site laptop the daemon keeps the replica in sync; alerts are the hub's to compute.
    if let Some((hub, device, _)) = session.app.replica_of()? {
        let path = session.app.path().to_path_buf();
        eprintln!("muster daemon: {} is {device} of {hub}; syncing every three minutes", path.display());
        drop(session);
        return crate::sync::background::run_until_stopped(path, identity::os_account()?);
    }
    if session.actor.user().role != crate::domain::Role::Admin {
        anyhow::bail!(AppError::Denied("the daemon changes alerts for everyone; run it as an admin's account".into()));
    }
    eprintln!(
        "muster daemon: watching {}; daily alert job at {} local time",
        session.app.path().display(),
        run_at.format("%H:%M")
    );
    crate::engine::run_until_stopped(session.app, run_at, config.mail)
}

/// `muster` with no subcommand: the console. An admin's console also runs the daily alert job.
fn console(cli: &Cli) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(AppError::Invalid("the console needs a terminal; use a subcommand (see `muster --help`)".into()));
    }
    let config = crate::config::load()?;
    let session = open_session(cli, OpenMode::Existing)?;
    let background = (session.actor.user().role == crate::domain::Role::Admin)
        .then(|| (session.app.path().to_path_buf(), Box::new(SystemClock) as Box<dyn crate::app::Clock>));
    crate::tui::run(session.app, session.actor, &config, background)
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every argument and option of every command says what it is for in `--help`.
    #[test]
    fn every_argument_has_a_help_line() {
        fn undescribed(command: &clap::Command, path: &str, found: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    found.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                undescribed(sub, &format!("{path} {}", sub.get_name()), found);
            }
        }
        let mut found = Vec::new();
        undescribed(&Cli::command(), "muster", &mut found);
        assert!(found.is_empty(), "arguments without a help line: {found:#?}");
    }
}
