//! Background work: the daily alert job at the configured time, catching up on days missed
//! while the machine was off, ending snoozes when their time comes, sending the messages that
//! are due and making the scheduled reports. Changes data only through `app`, as the `system` actor.

pub mod reports;

use crate::app::{Actor, App, AppError, Command, Quiet};
use chrono::{DateTime, Days, Local, NaiveDate, NaiveTime, TimeZone};
use std::time::Duration;

/// How often snoozes are checked between daily runs.
const TICK: Duration = Duration::from_secs(60);

/// The last day the job should have processed at `now`: yesterday once today's run time has
/// passed, else the day before.
pub fn due_through(now: DateTime<Local>, run_at: NaiveTime) -> NaiveDate {
    let today = now.date_naive();
    let back = if now.time() >= run_at { 1 } else { 2 };
    today - Days::new(back)
}

/// When the next daily run is due after `now`.
pub fn next_run(now: DateTime<Local>, run_at: NaiveTime) -> DateTime<Local> {
    let today = now.date_naive();
    let day = if now.time() < run_at { today } else { today + Days::new(1) };
    Local.from_local_datetime(&day.and_time(run_at)).earliest().unwrap_or(now + chrono::Duration::days(1))
}

/// Brings the job up to date and ends due snoozes. Returns what was processed, for the log.
pub fn catch_up(app: &mut App, actor: &Actor, run_at: NaiveTime) -> Result<Vec<String>, AppError> {
    let due = due_through(Local::now(), run_at);
    let mut done = Vec::new();
    let processed = app.alerts_processed_through()?;
    if processed.is_none_or(|p| p < due) || (processed == Some(due) && app.digests_pending()?) {
        for outcome in app.run_alerts(actor, due, &Quiet)? {
            done.push(outcome.to_string());
        }
    }
    if app.snoozes_due()? {
        app.execute(actor, Command::EndSnoozes)?;
    }
    Ok(done)
}

/// How often the sender looks for due messages while some wait (a retry, a scheduled campaign).
pub const MAIL_TICK: Duration = Duration::from_secs(2);

/// One pass of the sender: whether to come back soon (messages are due or waiting), and what
/// it did, for the log (`None`: nothing).
pub fn send_mail(
    app: &mut App,
    actor: &Actor,
    sender: &mut Option<crate::mail::Sender>,
    stop: &dyn Fn() -> bool,
) -> (bool, Option<String>) {
    let Some(sender) = sender else { return (false, None) };
    match sender.pass(app, actor, stop) {
        Ok(Some((report, more))) => {
            let busy = more || app.messages_waiting().is_ok_and(|(n, _)| n > 0);
            (busy, (report != crate::mail::Report::default()).then(|| format!("mail: {report}")))
        }
        Ok(None) => (false, None),
        Err(e) => (true, Some(format!("mail: {e:#}"))),
    }
}

/// Makes the scheduled reports that are due: mailed through `sender`, or written to the
/// `reports` folder beside the database without one (a replica leaves them to its hub). What
/// it did, for the log.
pub fn make_reports(app: &mut App, actor: &Actor, sender: &mut Option<crate::mail::Sender>) -> Vec<String> {
    let made = match sender {
        Some(sender) => sender.reports(app, actor),
        None if app.is_replica() => Ok(Vec::new()),
        None => {
            let folder = reports::folder_beside(app.path());
            reports::make_due(app, actor, reports::Sink::Folder(folder)).map_err(anyhow::Error::from)
        }
    };
    made.unwrap_or_else(|e| vec![format!("scheduled reports: {e:#}")])
}

/// Runs until SIGTERM or Ctrl-C: catches up at once, then wakes every minute for snoozes and at
/// `run_at` for the daily job, and sends due messages through `mail` (every few seconds while
/// some wait).
pub fn run_until_stopped(mut app: App, run_at: NaiveTime, mail: Option<crate::mail::MailConfig>) -> anyhow::Result<()> {
    let actor = Actor::system();
    let mut sender = mail.as_ref().map(crate::mail::Sender::new).transpose()?;
    if sender.is_none() && app.messages_waiting()?.0 > 0 {
        eprintln!("muster daemon: messages wait as queued: no [mail] settings");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            for line in catch_up(&mut app, &actor, run_at)? {
                tracing::info!("alert job: {line}");
                eprintln!("muster daemon: {line}");
            }
            let (busy, said) = send_mail(&mut app, &actor, &mut sender, &|| false);
            let made = make_reports(&mut app, &actor, &mut sender);
            for line in said.into_iter().chain(made) {
                tracing::info!("{line}");
                eprintln!("muster daemon: {line}");
            }
            // With a sender, every couple of seconds: a message queued by anyone goes promptly.
            let tick = if busy || sender.is_some() { MAIL_TICK } else { TICK };
            let until_run = (next_run(Local::now(), run_at) - Local::now()).to_std().unwrap_or(tick);
            tokio::select! {
                _ = tokio::time::sleep(until_run.min(tick)) => {}
                _ = terminate.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        tracing::info!("daemon stopped");
        eprintln!("muster daemon: stopped");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Local> {
        Local.from_local_datetime(&chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()).unwrap()
    }

    #[test]
    fn yesterday_is_due_once_the_run_time_has_passed() {
        let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
        assert_eq!(due_through(at("2026-03-04 05:59"), six).to_string(), "2026-03-02");
        assert_eq!(due_through(at("2026-03-04 06:00"), six).to_string(), "2026-03-03");
        assert_eq!(next_run(at("2026-03-04 05:00"), six), at("2026-03-04 06:00"));
        assert_eq!(next_run(at("2026-03-04 07:00"), six), at("2026-03-05 06:00"));
    }
}
