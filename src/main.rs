//! The `muster` binary: parse arguments, start logging, run, report errors with SPEC's exit codes.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    if muster::app::identity::running_setuid() {
        // The caller's environment must not choose the database (see README, "Several people
        // on one server"). Nothing else runs yet, so changing the environment is sound.
        unsafe { std::env::remove_var("MUSTER_DB") };
    }
    let cli = match muster::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // clap repeats the offending value in its message: escape it before it reaches a terminal.
        Err(error) if error.use_stderr() => {
            let text = error.render().to_string();
            let escaped: Vec<String> =
                text.lines().map(|line| muster::domain::text::escape_controls(line).into_owned()).collect();
            eprintln!("{}", escaped.join("\n"));
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
        Err(help_or_version) => help_or_version.exit(),
    };
    start_logging();
    match muster::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early (`muster audit list | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // One line per entry: user text in an error cannot forge a log line.
            tracing::error!("{}", muster::domain::text::escape_controls(&format!("{error:#}")));
            eprintln!("{}", muster::cli::error_report(&error));
            ExitCode::from(muster::cli::exit_code(&error))
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

/// Logs go to `muster.log` in the data directory, never to the terminal muster draws on.
fn start_logging() {
    let Ok(dir) = muster::cli::data_dir() else {
        return;
    };
    let dir = dir.as_path();
    // The data directory and the log are the account's own: others may not list or read them.
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).is_err() {
        return;
    }
    // One made by an older muster may still be 0755.
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    let log = dir.join("muster.log");
    let Ok(file) =
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(&log)
    else {
        return;
    };
    // A log written by an older muster may still be 0644.
    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .try_init();
}
