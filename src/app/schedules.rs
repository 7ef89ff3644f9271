//! Scheduled reports: an admin asks for a report weekly or monthly; the daemon makes it as that
//! admin sees the data on the day it is due and e-mails it as a PDF to its recipients (or writes
//! it to the `reports` folder beside the database where no mail is set up).
//!
//! A weekly report due on a day covers the seven days before it; a monthly one, the calendar month
//! before. A daemon that was off for several periods makes the latest one only. Sending follows
//! the messaging rule: `sending` is committed before the SMTP transaction, and a run found
//! `sending` when a sender starts again becomes `unknown` — never mailed twice.

use super::reporting::{ReportName, ReportRequest};
use super::{Actor, App, AppError, Ctx, Outcome, Result};
use crate::domain::message::{MAX_ATTEMPTS, retry_delay};
use crate::store::schedules::{self as store, NewSchedule, Schedule};
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    Weekly,
    Monthly,
}

impl Every {
    fn as_str(self) -> &'static str {
        match self {
            Every::Weekly => "weekly",
            Every::Monthly => "monthly",
        }
    }

    fn after(self, due: NaiveDate) -> NaiveDate {
        match self {
            Every::Weekly => due + Days::new(7),
            Every::Monthly => due.checked_add_months(Months::new(1)).unwrap_or(NaiveDate::MAX),
        }
    }

    /// The first due date after `today`: next Monday, or the first of next month.
    fn first_after(self, today: NaiveDate) -> NaiveDate {
        match self {
            Every::Weekly => today + Days::new(7 - u64::from(today.weekday().num_days_from_monday())),
            Every::Monthly => {
                let first = today.with_day(1).unwrap_or(today);
                first.checked_add_months(Months::new(1)).unwrap_or(NaiveDate::MAX)
            }
        }
    }
}

/// The last day of the month a monthly report may be due on: every month has it.
const LAST_MONTHLY_DAY: u32 = 28;

/// `29th`, `30th`, `31st`.
fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

/// The detail of a run whose PDF is being written to the folder rather than mailed.
const WRITING: &str = "writing";

fn every_of(text: &str) -> Every {
    if text == "monthly" { Every::Monthly } else { Every::Weekly }
}

/// What an admin schedules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReportSchedule {
    pub report: ReportName,
    pub every: Every,
    pub program: Option<String>,
    pub partner: Option<String>,
    pub recipients: Vec<String>,
    /// The first run [default: next Monday, or the first of next month].
    pub first: Option<NaiveDate>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RunResult {
    Sent {
        to: String,
    },
    Written {
        path: String,
    },
    /// The server may take it later (4xx, down): tried again after a while, five times in all.
    Transient {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

/// A report the daemon is to make now.
#[derive(Debug, Clone, PartialEq)]
pub struct DueRun {
    pub schedule: Schedule,
    pub due: NaiveDate,
    pub request: ReportRequest,
}

fn valid_address(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok()
}

/// The request a run due on `due` makes: the seven days or the calendar month before it.
fn request_for(schedule: &Schedule, due: NaiveDate) -> Result<ReportRequest> {
    let name = <ReportName as clap::ValueEnum>::from_str(&schedule.report, true)
        .map_err(|_| AppError::Invalid(format!("schedule {}: '{}' is not a report", schedule.id, schedule.report)))?;
    let mut request = ReportRequest::new(name, due - Days::new(1));
    match every_of(&schedule.every) {
        Every::Weekly => (request.from, request.to) = (due - Days::new(7), due - Days::new(1)),
        Every::Monthly => {
            let this_month = due.with_day(1).unwrap_or(due);
            let last_month = this_month.checked_sub_months(Months::new(1)).unwrap_or(this_month);
            request.from = last_month;
            request.to = this_month - Days::new(1);
            request.month = format!("{:04}-{:02}", last_month.year(), last_month.month());
        }
    }
    request.program = schedule.program.clone();
    request.partner = schedule.partner.clone();
    Ok(request)
}

pub(super) fn add(ctx: &Ctx, new: &NewReportSchedule) -> Result<Outcome> {
    ctx.require_admin("schedule reports")?;
    if crate::store::settings::get(ctx.tx, "replica_device")?.is_some() {
        return Err(AppError::Invalid("reports are scheduled on the hub, whose daemon makes them".into()));
    }
    if new.recipients.is_empty() {
        return Err(AppError::Invalid("name at least one recipient: --to ADDRESS[,ADDRESS...]".into()));
    }
    if let Some(bad) = new.recipients.iter().find(|a| !valid_address(a)) {
        return Err(AppError::Invalid(format!("'{}' is not an e-mail address", crate::domain::text::shown(bad))));
    }
    if let Some(partner) = &new.partner {
        let user = crate::store::users::get(ctx.tx, partner)?
            .ok_or_else(|| AppError::NotFound(format!("partner '{partner}'")))?;
        if !user.role.is_partner() {
            return Err(AppError::Invalid(format!("{partner} is an {}, not a partner", user.role)));
        }
    }
    let next_due = new.first.unwrap_or_else(|| new.every.first_after(ctx.today));
    // A month has no 29th, 30th or 31st now and then; a schedule moved to the 28th would stay
    // there. The report covers the calendar month before whatever the day, so the day only
    // says when it goes out.
    if new.every == Every::Monthly && next_due.day() > LAST_MONTHLY_DAY {
        return Err(AppError::Invalid(format!(
            "a monthly report goes out on the same day every month, and not every month has a {}: \
             choose --first on a day from 1 to {LAST_MONTHLY_DAY} (it covers the calendar month before either way)",
            ordinal(next_due.day())
        )));
    }
    let recipients = new.recipients.join(",");
    let at = ctx.now_text();
    let id = store::add(
        ctx.tx,
        &NewSchedule {
            report: new.report.as_str(),
            every: new.every.as_str(),
            program: new.program.as_deref(),
            partner: new.partner.as_deref(),
            recipients: &recipients,
            owner: &ctx.actor.user().login,
            next_due,
            at: &at,
        },
    )?;
    ctx.audit("report.schedule", "report_schedule", &id.to_string(), serde_json::Value::Null, json!(new))?;
    Ok(Outcome::Noted(format!(
        "report schedule {id}: {} {}, first on {next_due}, to {recipients}",
        new.every.as_str(),
        new.report.as_str()
    )))
}

pub(super) fn remove(ctx: &Ctx, id: i64) -> Result<Outcome> {
    ctx.require_admin("remove report schedules")?;
    let before = store::get(ctx.tx, id)?.ok_or_else(|| AppError::NotFound(format!("report schedule {id}")))?;
    store::remove(ctx.tx, id, &ctx.now_text())?;
    ctx.audit("report.unschedule", "report_schedule", &id.to_string(), json!(before), serde_json::Value::Null)?;
    Ok(Outcome::Noted(format!("report schedule {id} removed; it will not run again")))
}

/// Marks the run `sending` when it is still to be made (not started, or waiting for a retry
/// that is due); says whether it did.
///
/// A file being written (`writing`, no mail set up) that has been `sending` for ten minutes was
/// cut off and is written again: a file, unlike a message, can be replaced.
pub(super) fn start(ctx: &Ctx, schedule: i64, due: NaiveDate, writing: bool) -> Result<Outcome> {
    ctx.require_admin("make scheduled reports")?;
    let due_text = due.to_string();
    let stale = (ctx.now - chrono::Duration::minutes(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let ready = match store::run_of(ctx.tx, schedule, &due_text)? {
        None => true,
        Some(run) if run.status == "retry" => run.next_attempt_at.is_none_or(|n| n <= ctx.now_text()),
        Some(run) => run.status == "sending" && run.detail.as_deref() == Some(WRITING) && run.at < stale,
    };
    if ready {
        store::start_run(ctx.tx, schedule, &due_text, writing.then_some(WRITING), &ctx.now_text())?;
    }
    Ok(Outcome::RunStarted(ready))
}

pub(super) fn finish(ctx: &Ctx, schedule: i64, due: NaiveDate, result: &RunResult) -> Result<Outcome> {
    ctx.require_admin("make scheduled reports")?;
    let found =
        store::get(ctx.tx, schedule)?.ok_or_else(|| AppError::NotFound(format!("report schedule {schedule}")))?;
    let due_text = due.to_string();
    let attempts = store::run_of(ctx.tx, schedule, &due_text)?.map_or(1, |run| run.attempts);
    let now = ctx.now_text();
    let (status, detail, retry_at) = match result {
        RunResult::Sent { to } => ("sent", format!("sent to {to}"), None),
        RunResult::Written { path } => ("written", format!("written to {path} (no [mail] settings)"), None),
        RunResult::Transient { reason } if attempts < MAX_ATTEMPTS => {
            let wait = retry_delay(30, attempts);
            let at = ctx.now + chrono::Duration::seconds(i64::try_from(wait).unwrap_or(3_600));
            ("retry", reason.clone(), Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        }
        RunResult::Transient { reason } | RunResult::Failed { reason } => ("failed", reason.clone(), None),
    };
    store::finish_run(ctx.tx, schedule, &due_text, status, Some(&detail), retry_at.as_deref(), &now)?;
    if status != "retry" {
        advance(ctx, &found, due)?;
    }
    let after = json!({ "due": due_text, "status": status, "detail": detail, "attempts": attempts });
    ctx.audit(&format!("report.{status}"), "report_schedule", &schedule.to_string(), serde_json::Value::Null, after)?;
    Ok(Outcome::Noted(format!("report schedule {schedule} ({}, due {due}): {detail}", found.report)))
}

/// Moves the schedule on to its next period after today: a daemon that was off makes the latest
/// report only.
fn advance(ctx: &Ctx, schedule: &Schedule, due: NaiveDate) -> Result<()> {
    let every = every_of(&schedule.every);
    let mut next = every.after(due);
    while next <= ctx.today {
        next = every.after(next);
    }
    store::set_next_due(ctx.tx, schedule.id, next)?;
    Ok(())
}

pub(super) fn settle_interrupted(ctx: &Ctx) -> Result<usize> {
    let runs = store::interrupted_to_unknown(ctx.tx, &ctx.now_text())?;
    for (id, due) in &runs {
        if let (Some(schedule), Ok(due)) = (store::get(ctx.tx, *id)?, crate::domain::parse_date(due)) {
            advance(ctx, &schedule, due)?;
        }
    }
    if !runs.is_empty() {
        ctx.audit("report.interrupted", "report_run", "*", serde_json::Value::Null, json!({ "unknown": runs }))?;
    }
    Ok(runs.len())
}

impl App {
    /// Every report schedule (admins).
    pub fn report_schedules(&self, actor: &Actor) -> Result<Vec<Schedule>> {
        self.require_admin(actor, "see report schedules")?;
        Ok(store::list(self.store.conn())?)
    }

    /// The runs due now: a schedule's latest due date on or before today, or a run waiting to
    /// be tried again.
    pub fn due_report_runs(&self, actor: &Actor) -> Result<Vec<DueRun>> {
        self.require_admin(actor, "make scheduled reports")?;
        let conn = self.store.conn();
        let today = self.today();
        let now = self.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut runs = Vec::new();
        for id in store::due(conn, today, &now)? {
            let Some(schedule) = store::get(conn, id)? else { continue };
            let due = match store::retrying(conn, id)? {
                Some(due) => crate::domain::parse_date(&due).map_err(AppError::Invalid)?,
                None => {
                    let every = every_of(&schedule.every);
                    let mut due = crate::domain::parse_date(&schedule.next_due).map_err(AppError::Invalid)?;
                    while every.after(due) <= today {
                        due = every.after(due);
                    }
                    due
                }
            };
            let request = request_for(&schedule, due)?;
            runs.push(DueRun { schedule, due, request });
        }
        Ok(runs)
    }

    /// The schedule owner as an actor: the report shows what they may see.
    pub fn owner_of(&self, run: &DueRun) -> Result<Actor> {
        let owner = crate::store::users::get(self.store.conn(), &run.schedule.owner)?
            .ok_or_else(|| AppError::NotFound(format!("user '{}'", run.schedule.owner)))?;
        let mut actor = Actor::system();
        actor.acting_as = Some(owner);
        Ok(actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        crate::domain::parse_date(text).unwrap()
    }

    fn schedule(every: &str) -> Schedule {
        Schedule {
            id: 1,
            report: "outcomes".into(),
            every: every.into(),
            program: None,
            partner: None,
            recipients: "a@example.org".into(),
            owner: "admin".into(),
            next_due: "2026-03-01".into(),
            created_at: String::new(),
            last_due: None,
            last_status: None,
            last_detail: None,
        }
    }

    #[test]
    fn a_run_covers_the_period_before_its_due_date() {
        let monthly = request_for(&schedule("monthly"), date("2026-03-01")).unwrap();
        assert_eq!(
            (monthly.from, monthly.to, monthly.month.as_str()),
            (date("2026-02-01"), date("2026-02-28"), "2026-02")
        );
        let weekly = request_for(&schedule("weekly"), date("2026-03-02")).unwrap();
        assert_eq!((weekly.from, weekly.to), (date("2026-02-23"), date("2026-03-01")));
    }

    #[test]
    fn the_first_run_is_next_monday_or_the_first_of_next_month() {
        assert_eq!(Every::Weekly.first_after(date("2026-11-23")), date("2026-11-30"));
        assert_eq!(Every::Weekly.first_after(date("2026-11-29")), date("2026-11-30"));
        assert_eq!(Every::Monthly.first_after(date("2026-01-31")), date("2026-02-01"));
        assert_eq!(Every::Monthly.after(date("2026-01-31")), date("2026-02-28"));
    }

    #[test]
    fn days_are_named_as_people_say_them() {
        let said: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 29, 30, 31].map(ordinal).into();
        assert_eq!(
            said,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "29th", "30th", "31st"]
        );
    }
}
