//! `export KIND`: the rows a person may see, streamed as CSV or JSON to a file (which appears
//! only when whole) or to standard output, with a progress line on a terminal; audited.

use super::progress::Bar;
use super::{Cli, Format, open_session};
use crate::app::{AppError, Command, Progress};
use crate::interchange::export::{PendingFile, RowWriter, Shape};
use crate::store::OpenMode;
use crate::store::exports::{Filter, Table};
use chrono::NaiveDate;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportKind {
    Attendance,
    Alerts,
    Audit,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// What to export: attendance records, alerts, or the audit log (admins)
    #[arg(value_enum)]
    pub kind: ExportKind,
    /// The first day (attendance: the record's day; alerts: opened; audit: written)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::domain::parse_date)]
    pub from: Option<NaiveDate>,
    /// The last day, included
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::domain::parse_date)]
    pub to: Option<NaiveDate>,
    /// Only this program's rows
    #[arg(long, value_name = "PROGRAM_ID")]
    pub program: Option<String>,
    /// Write to this file (it appears only once complete) instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// How often the progress line is brought up to date, in rows.
const PROGRESS_EVERY: u64 = 20_000;

pub fn export(cli: &Cli, args: &ExportArgs) -> anyhow::Result<()> {
    let table = match args.kind {
        ExportKind::Attendance => Table::Attendance,
        ExportKind::Alerts => Table::Alerts,
        ExportKind::Audit => Table::Audit,
    };
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        anyhow::bail!(AppError::Invalid(format!("--from {from} is after --to {to}")));
    }
    let shape = if cli.format == Format::Json { Shape::Json } else { Shape::Csv };
    let filter = Filter { from: args.from, to: args.to, program_id: args.program.clone() };
    let mut session = open_session(cli, OpenMode::Existing)?;
    session.app.may_export(&session.actor, table, &filter)?;
    let bar = Bar::new();
    let started = Instant::now();
    let (rows, to) = match &args.out {
        Some(path) => {
            let file = crate::app::identity::as_caller(|| PendingFile::create(path))
                .map_err(|e| AppError::Invalid(format!("cannot write {}: {e}", path.display())))?;
            bar.start(&format!("exporting {}", table.name()), 0);
            let (rows, file) = write_rows(&session, table, &filter, shape, file, &bar, started)?;
            crate::app::identity::as_caller(|| file.commit())
                .map_err(|e| AppError::Invalid(format!("cannot write {}: {e}", path.display())))?;
            bar.finish();
            (rows, path.display().to_string())
        }
        None => {
            let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let (rows, _) = write_rows(&session, table, &filter, shape, out, &crate::app::Quiet, started)?;
            (rows, "standard output".to_string())
        }
    };
    let described = describe(&filter);
    let command = Command::RecordExport { kind: table.name().into(), filter: described, rows, to: to.clone() };
    let said = session.app.execute(&session.actor, command)?;
    if args.out.is_some() {
        let seconds = started.elapsed().as_secs_f64().max(1e-3);
        eprintln!("{said} in {seconds:.1} s ({:.0} rows/s)", rows as f64 / seconds);
    }
    Ok(())
}

/// Streams the rows into `out`; a write that fails (a full disk, a closed pipe) stops the export
/// and says why.
fn write_rows<W: Write>(
    session: &super::Session,
    table: Table,
    filter: &Filter,
    shape: Shape,
    out: W,
    progress: &dyn Progress,
    started: Instant,
) -> anyhow::Result<(u64, W)> {
    let mut writer = RowWriter::start(out, shape, table.columns())?;
    let mut failed: Option<std::io::Error> = None;
    let mut written = 0u64;
    let rows = session.app.export(&session.actor, table, filter, &mut |cells| {
        if let Err(e) = writer.row(cells) {
            failed = Some(e);
            return false;
        }
        written += 1;
        if written.is_multiple_of(PROGRESS_EVERY) {
            let rate = written as f64 / started.elapsed().as_secs_f64().max(1e-3);
            progress.status(&format!("exporting {}: {written} rows, {rate:.0} rows/s", table.name()));
        }
        true
    })?;
    match failed {
        // `muster export … | head` ends quietly, as every list does.
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        Some(e) => anyhow::bail!(AppError::Invalid(format!("the export stopped after {written} of its rows: {e}"))),
        None => {}
    }
    Ok((rows, writer.finish()?))
}

/// The filter as the audit log records it.
fn describe(filter: &Filter) -> String {
    let mut parts = Vec::new();
    if let Some(from) = filter.from {
        parts.push(format!("from {from}"));
    }
    if let Some(to) = filter.to {
        parts.push(format!("to {to}"));
    }
    if let Some(program) = &filter.program_id {
        parts.push(format!("program {program}"));
    }
    if parts.is_empty() { "everything visible".into() } else { parts.join(", ") }
}
