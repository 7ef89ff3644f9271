//! Scheduled reports in the daemon: each due report is made as its owner sees the data and its
//! PDF mailed to the recipients through the sender, or written to the `reports` folder beside the
//! database where no `[mail]` is set up.

use crate::app::messages::Delivery;
use crate::app::schedules::{DueRun, RunResult};
use crate::app::{Actor, App, AppError, Command, Outcome};
use crate::interchange::export::PendingFile;
use std::io::Write;
use std::path::PathBuf;

/// Where made reports go.
pub enum Sink<'a> {
    Mail(&'a mut crate::mail::Mailer),
    /// The folder the PDF files are written into.
    Folder(PathBuf),
}

/// The folder beside the database that reports go to without mail.
pub fn folder_beside(db: &std::path::Path) -> PathBuf {
    db.parent().map_or_else(|| PathBuf::from("reports"), |dir| dir.join("reports"))
}

/// Makes and delivers every report due now. Returns a line for the log per report.
pub fn make_due(app: &mut App, actor: &Actor, mut sink: Sink) -> Result<Vec<String>, AppError> {
    let mut said = Vec::new();
    for run in app.due_report_runs(actor)? {
        let writing = matches!(sink, Sink::Folder(_));
        let start = Command::StartReportRun { schedule: run.schedule.id, due: run.due, writing };
        if app.execute(actor, start)? != Outcome::RunStarted(true) {
            continue;
        }
        let result = match made(app, &run) {
            Ok((title, pdf)) => deliver(&run, &title, pdf, &mut sink),
            Err(e) => RunResult::Failed { reason: format!("the report could not be made: {e}") },
        };
        let finish = Command::FinishReportRun { schedule: run.schedule.id, due: run.due, result };
        said.push(app.execute(actor, finish)?.to_string());
    }
    if let Sink::Mail(mailer) = sink {
        mailer.close();
    }
    Ok(said)
}

/// The report as its owner sees it: its title and the PDF.
fn made(app: &App, run: &DueRun) -> Result<(String, Vec<u8>), AppError> {
    let owner = app.owner_of(run)?;
    let sheet = app.report(&owner, &run.request)?;
    let pdf = app.report_pdf(&owner, &sheet);
    Ok((format!("{} ({})", sheet.title, sheet.covers), pdf))
}

fn deliver(run: &DueRun, title: &str, pdf: Vec<u8>, sink: &mut Sink) -> RunResult {
    let schedule = &run.schedule;
    let file_name = format!("{}-{}-{}.pdf", schedule.report, run.due, schedule.id);
    match sink {
        Sink::Mail(mailer) => {
            let to: Vec<String> = schedule.recipients.split(',').map(str::to_string).collect();
            let body = format!(
                "The {} {} report is attached: {title}, as {} sees the data.\n\n\
                 Sent by muster's daemon. An admin stops it with: muster report schedule remove {}\n",
                schedule.every, schedule.report, schedule.owner, schedule.id
            );
            match mailer.send_report(&to, &format!("muster: {title}"), &body, &file_name, pdf) {
                Delivery::Sent => RunResult::Sent { to: schedule.recipients.clone() },
                Delivery::Transient { reason, .. } => RunResult::Transient { reason },
                Delivery::Permanent { reason } => RunResult::Failed { reason },
            }
        }
        Sink::Folder(folder) => {
            let path = folder.join(&file_name);
            // Reports hold people's records: the folder is its owner's alone, like the files.
            let made = std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
                .create(&*folder);
            let written = made.and_then(|()| {
                let mut file = PendingFile::create(&path)?;
                file.write_all(&pdf)?;
                file.commit()
            });
            match written {
                Ok(()) => RunResult::Written { path: path.display().to_string() },
                Err(e) => RunResult::Failed { reason: format!("cannot write {}: {e}", path.display()) },
            }
        }
    }
}
