//! `export KIND`: the rows a person may see, streamed as CSV or JSON to a file (which appears
//! only when whole) or to standard output, with a progress line on a terminal; audited.

use super::progress::Bar;
use super::{Cli, Format, open_session};
use crate::app::{AppError, Command, Progress};
use crate::interchange::export::{PendingFile, RowWriter, Shape};
use crate::interchange::funder::FunderMap;
use crate::store::OpenMode;
use crate::store::exports::{Filter, Table};
use chrono::NaiveDate;
use rusqlite::types::Value;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportKind {
    Attendance,
    Alerts,
    Audit,
    /// WIOA participants in the shape of PIRL (ETA-9172)
    Wioa,
    /// Workforce Ready Grant participants
    Wrg,
    /// Justice Reinvestment participants
    Jri,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// What to export: attendance records, alerts, the audit log (admins), or a funder's
    /// participant file (wioa, wrg, jri: one row per enrollment)
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
    /// A funder's file: another column map than the one muster ships (a state's own)
    #[arg(long, value_name = "MAP.toml")]
    pub map: Option<PathBuf>,
}

/// How often the progress line is brought up to date, in rows.
const PROGRESS_EVERY: u64 = 20_000;

/// What is written: rows of a table, or a funder's participant file by its map.
enum Rows {
    Table(Table),
    Funder(&'static str, Box<FunderMap>),
}

impl Rows {
    fn name(&self) -> &'static str {
        match self {
            Rows::Table(table) => table.name(),
            Rows::Funder(kind, _) => kind,
        }
    }
}

fn rows_of(args: &ExportArgs) -> anyhow::Result<Rows> {
    let funder = match args.kind {
        ExportKind::Attendance => return Ok(Rows::Table(Table::Attendance)),
        ExportKind::Alerts => return Ok(Rows::Table(Table::Alerts)),
        ExportKind::Audit => return Ok(Rows::Table(Table::Audit)),
        ExportKind::Wioa => "wioa",
        ExportKind::Wrg => "wrg",
        ExportKind::Jri => "jri",
    };
    let text = match &args.map {
        Some(path) => {
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut crate::app::identity::open_as_caller(path)
                    .map_err(|e| AppError::Invalid(format!("cannot read {}: {e}", path.display())))?,
                &mut text,
            )?;
            text
        }
        None => crate::interchange::funder::shipped(funder).unwrap_or_default().to_string(),
    };
    let map = FunderMap::parse(&text).map_err(|why| AppError::Invalid(format!("the {funder} map: {why}")))?;
    Ok(Rows::Funder(funder, Box::new(map)))
}

pub fn export(cli: &Cli, args: &ExportArgs) -> anyhow::Result<()> {
    if args.map.is_some() && !matches!(args.kind, ExportKind::Wioa | ExportKind::Wrg | ExportKind::Jri) {
        anyhow::bail!(AppError::Invalid("--map is for funders' files: wioa, wrg, jri".into()));
    }
    let rows_wanted = rows_of(args)?;
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        anyhow::bail!(AppError::Invalid(format!("--from {from} is after --to {to}")));
    }
    let shape = if cli.format == Format::Json { Shape::Json } else { Shape::Csv };
    let filter = Filter { from: args.from, to: args.to, program_id: args.program.clone() };
    let mut session = open_session(cli, OpenMode::Existing)?;
    let checked = match &rows_wanted {
        Rows::Table(table) => *table,
        Rows::Funder(..) => Table::Attendance,
    };
    session.app.may_export(&session.actor, checked, &filter)?;
    let name = rows_wanted.name();
    let bar = Bar::new();
    let started = Instant::now();
    let (rows, to) = match &args.out {
        Some(path) => {
            let file = crate::app::identity::as_caller(|| PendingFile::create(path))
                .map_err(|e| AppError::Invalid(format!("cannot write {}: {e}", path.display())))?;
            bar.start(&format!("exporting {name}"), 0);
            let (rows, file) = write_rows(&session, &rows_wanted, &filter, shape, file, &bar, started)?;
            crate::app::identity::as_caller(|| file.commit())
                .map_err(|e| AppError::Invalid(format!("cannot write {}: {e}", path.display())))?;
            bar.finish();
            (rows, path.display().to_string())
        }
        None => {
            let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let (rows, _) = write_rows(&session, &rows_wanted, &filter, shape, out, &crate::app::Quiet, started)?;
            (rows, "standard output".to_string())
        }
    };
    let described = describe(&filter);
    let command = Command::RecordExport { kind: name.into(), filter: described, rows, to: to.clone() };
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
    wanted: &Rows,
    filter: &Filter,
    shape: Shape,
    out: W,
    progress: &dyn Progress,
    started: Instant,
) -> anyhow::Result<(u64, W)> {
    let headers: Vec<&str> = match wanted {
        Rows::Table(table) => table.columns().to_vec(),
        Rows::Funder(_, map) => map.headers(),
    };
    let mut writer = RowWriter::start(out, shape, &headers)?;
    let mut failed: Option<std::io::Error> = None;
    let mut refused: Option<String> = None;
    let mut written = 0u64;
    let mut write = |cells: &[Value]| -> bool {
        if let Err(e) = writer.row(cells) {
            failed = Some(e);
            return false;
        }
        written += 1;
        if written.is_multiple_of(PROGRESS_EVERY) {
            let rate = written as f64 / started.elapsed().as_secs_f64().max(1e-3);
            progress.status(&format!("exporting {}: {written} rows, {rate:.0} rows/s", wanted.name()));
        }
        true
    };
    let rows = match wanted {
        Rows::Table(table) => session.app.export(&session.actor, *table, filter, &mut write)?,
        Rows::Funder(_, map) => session.app.export_participations(&session.actor, filter, &mut |p, session_days| {
            if let Err(why) = map.check_id(&p.student_id) {
                refused = Some(why);
                return false;
            }
            let cells: Vec<Value> = map.row(p, session_days).into_iter().map(Value::Text).collect();
            write(&cells)
        })?,
    };
    if let Some(why) = refused {
        anyhow::bail!(AppError::Invalid(format!("{why}: the export stopped, and with --out wrote no file")));
    }
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
