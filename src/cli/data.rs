//! `init`, `demo` and `import`: getting data into a database.

use super::progress::Bar;
use super::{Cli, Session, database_path, open_session, open_session_as, vocabulary};
use crate::app::{AppError, Command, ImportKind};
use crate::domain::demo::{DemoProfile, DemoSpec};
use crate::interchange;
use crate::store::OpenMode;
use chrono::NaiveDate;
use std::path::PathBuf;

/// How many days of its history the demo runs the alert job over.
const DEMO_DAYS_PROCESSED: u64 = 14;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many students (1 to 1,000,000)
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub students: u32,
    /// How many days of attendance and logins, up to the day before --today (1 to 3,650)
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=3_650))]
    pub days: u32,
    /// The same seed gives the same data
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The last day of the demo [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::domain::parse_date)]
    pub today: Option<NaiveDate>,
    /// The shape of the data: `classic`, or `churn` (long enrollments starting all year, logins
    /// on 30–70 % of all days, few partners with many students: a large program as it runs)
    #[arg(long, default_value = "classic", value_parser = vocabulary::<DemoProfile>())]
    pub profile: DemoProfile,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What the file holds
    #[arg(value_parser = vocabulary::<ImportKind>())]
    pub kind: ImportKind,
    /// A UTF-8 CSV file with a header row (see the README for each kind's columns)
    pub file: PathBuf,
}

pub fn init(cli: &Cli) -> anyhow::Result<()> {
    let path = database_path(cli)?;
    let existed = path.exists();
    let session = open_session(cli, OpenMode::CreateIfMissing)?;
    if existed {
        println!(
            "{} is already set up; you are {} ({})",
            path.display(),
            session.actor.person.login,
            session.actor.person.role
        );
    } else {
        println!("created {}", path.display());
    }
    Ok(())
}

pub fn demo(cli: &Cli, args: &DemoArgs) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    // Refuse before a file or an admin is created for it.
    if let Some(today) = args.today
        && today > crate::app::zone::OrgZone::machine().date_of(now)
    {
        return Err(AppError::Invalid(format!("--today {today} is in the future")).into());
    }
    fill_demo(open_session(cli, OpenMode::CreateIfMissing)?, args, now, &|line| println!("{line}"))
}

/// Fills the session's empty database and plays its last days, saying what it made to `say`.
fn fill_demo(
    mut session: Session,
    args: &DemoArgs,
    now: chrono::DateTime<chrono::Utc>,
    say: &dyn Fn(String),
) -> anyhow::Result<()> {
    let today = args.today.unwrap_or_else(|| session.app.today());
    let spec = DemoSpec { students: args.students, days: args.days, seed: args.seed, today, profile: args.profile };
    let outcome = session.app.execute_with_progress(&session.actor, Command::Demo(spec), &Bar::new())?;
    say(outcome.to_string());
    // The inbox should show what the demo's data says on any day of the week, so the job
    // processes its last two weeks (a Monday alone would see only Sunday, when nobody meets),
    // each the morning after, with the partners acknowledging alerts in between.
    let through = today.pred_opt().unwrap_or(today);
    let first = through - chrono::Days::new(DEMO_DAYS_PROCESSED - 1);
    let played = session.app.play_demo_days(&session.actor, args.seed, (first, through), now, &Bar::new())?;
    say(format!(
        "alert job: processed {} days up to {through}, each the morning after; {} alerts opened, {} of them \
         acknowledged by partners",
        played.days, played.opened, played.acknowledged
    ));
    Ok(())
}

/// `--demo`: the demo database is made and filled the first time it is asked for.
pub fn ensure_demo_database(cli: &Cli) -> anyhow::Result<()> {
    let path = database_path(cli)?;
    if path.exists() {
        return Ok(());
    }
    eprintln!("muster: creating the demo database at {} (once)", path.display());
    let args = DemoArgs { students: 500, days: 120, seed: 1, today: None, profile: DemoProfile::Classic };
    // Made by the account at the keyboard, its first admin: a `--as ws_01` given with `--demo`
    // names a user the file does not have until the demo has made it.
    let made = open_session_as(cli, OpenMode::CreateIfMissing, None)
        // On stderr: stdout is the command's own, perhaps JSON read by a program.
        .and_then(|session| fill_demo(session, &args, chrono::Utc::now(), &|line| eprintln!("muster: {line}")));
    // A half-made demo database would be reused next time; start clean instead.
    made.inspect_err(|_| crate::store::remove_unfinished(&path))
}

pub fn import(cli: &Cli, args: &ImportArgs) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    session.app.may_import(&session.actor)?;
    // A file that is missing, unreadable or a directory is invalid input like a bad row.
    let unreadable = |why: String| AppError::Invalid(format!("cannot read {}: {why}", args.file.display()));
    let file = crate::app::identity::open_as_caller(&args.file).map_err(|e| unreadable(e.to_string()))?;
    let metadata = file.metadata().map_err(|e| unreadable(e.to_string()))?;
    if metadata.is_dir() {
        return Err(unreadable("it is a directory".into()).into());
    }
    let size = metadata.len();
    let bar = Bar::new();
    let name = args.file.display().to_string();
    let input = std::io::BufReader::with_capacity(1 << 16, file);
    let outcome =
        interchange::import::import_file(&mut session.app, &session.actor, args.kind, &name, input, size, &bar)
            .map_err(|e| name_file(e, &name))?;
    println!("{outcome}");
    Ok(())
}

/// Puts the file's name in front of a form error, so the line numbers make sense.
fn name_file(error: AppError, file: &str) -> anyhow::Error {
    match error {
        AppError::Invalid(message) => AppError::Invalid(format!("{file}: {message}")).into(),
        AppError::InvalidRows(problems) => {
            anyhow::Error::from(AppError::InvalidRows(problems)).context(file.to_string())
        }
        other => other.into(),
    }
}
