//! The `muster` binary: parse arguments, start logging, run, report errors with SPEC's exit codes.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = muster::cli::Cli::parse();
    start_logging();
    match muster::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early (`muster audit list | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
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
    let Some(dirs) = directories::ProjectDirs::from("", "", "muster") else {
        return;
    };
    let dir = dirs.data_dir();
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("muster.log")) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .try_init();
}
