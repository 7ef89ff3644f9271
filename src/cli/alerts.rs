//! `alerts …`: the daily job, the inbox, one alert's timeline, thresholds, and triage.

use super::output::{ListWriter, emit, emit_one};
use super::progress::Bar;
use super::{Cli, Session, open_session, vocabulary};
use crate::app::zone::OrgZone;
use crate::app::{Command, Triage};
use crate::domain::alerts::{AlertStatus, AlertType, Severity, Thresholds};
use crate::domain::parse_date;
use crate::store::OpenMode;
use crate::store::alerts::AlertFilter;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser};

#[derive(Debug, clap::Subcommand)]
pub enum AlertsCommand {
    /// The daily job: bring alerts up to what the rules say (catches up on skipped days)
    Run {
        /// The day to process up to [default: yesterday, local time]
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        date: Option<NaiveDate>,
    },
    /// The alerts you may see, most severe first, then oldest
    List {
        /// open, acknowledged, snoozed, resolved, or all [default: all but resolved]
        #[arg(long, value_parser = status_filter())]
        status: Option<String>,
        /// Only alerts of this severity
        #[arg(long, value_parser = vocabulary::<Severity>())]
        severity: Option<Severity>,
        /// Only alerts of this type
        #[arg(long = "type", value_parser = vocabulary::<AlertType>())]
        kind: Option<AlertType>,
        /// Only alerts about this program
        #[arg(long, value_name = "PROGRAM_ID")]
        program: Option<String>,
        /// Only alerts assigned to this login
        #[arg(long, value_name = "LOGIN", conflicts_with = "mine")]
        assignee: Option<String>,
        /// Only alerts assigned to you
        #[arg(long)]
        mine: bool,
    },
    /// One alert with its timeline
    Show {
        /// The alert's number, as `alerts list` shows it
        id: i64,
    },
    /// Show the thresholds, or change one type's (admins)
    Thresholds {
        /// The type to change; give all three levels with it
        #[arg(long = "type", value_parser = vocabulary::<AlertType>(), requires_all = ["warn", "escalate", "critical"])]
        kind: Option<AlertType>,
        /// The count that opens a warning: missed session days in a row, or days without a login
        #[arg(long, requires = "kind")]
        warn: Option<u32>,
        /// The count at which an alert rises to escalate
        #[arg(long, requires = "kind")]
        escalate: Option<u32>,
        /// The count at which an alert becomes critical and goes to the admins
        #[arg(long, requires = "kind")]
        critical: Option<u32>,
    },
    /// Acknowledge alerts: you take them on
    Ack(TriageArgs),
    /// Hide acknowledged alerts until a time (sooner if their severity rises)
    Snooze {
        #[command(flatten)]
        args: TriageArgs,
        /// 30m, 4h, 2d, 1w, a date (YYYY-MM-DD, local midnight) or an RFC 3339 time
        #[arg(long)]
        until: String,
    },
    /// Give alerts to someone who may see the student
    Assign {
        #[command(flatten)]
        args: TriageArgs,
        /// Who takes them: a login who may see the students
        #[arg(long, value_name = "LOGIN")]
        to: String,
    },
    /// Resolve alerts; the same streak will not open again
    Resolve(TriageArgs),
    /// Take back your acknowledgement: the alert is open again (given to --to, or to nobody)
    Reopen {
        #[command(flatten)]
        args: TriageArgs,
        /// Give them to this login (who may see the students) as they reopen
        #[arg(long, value_name = "LOGIN")]
        to: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct TriageArgs {
    /// The alerts' numbers, as `alerts list` shows them
    #[arg(required = true, value_name = "ID")]
    ids: Vec<i64>,
    /// Added to each alert's timeline
    #[arg(long)]
    note: Option<String>,
}

fn status_filter() -> impl TypedValueParser<Value = String> {
    let mut words: Vec<&'static str> = <AlertStatus as crate::domain::Vocabulary>::words().to_vec();
    words.push("all");
    PossibleValuesParser::new(words)
}

/// Reads `--until`: a duration from now, a local date, or an RFC 3339 time, no further than
/// [`SNOOZE_LIMIT_DAYS`] ahead.
use crate::app::triage::SNOOZE_LIMIT_DAYS;

pub fn parse_until(text: &str, now: DateTime<Utc>, zone: &OrgZone) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    let shown = crate::domain::text::shown(text);
    let until = if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        at.with_timezone(&Utc)
    } else if let Ok(date) = crate::domain::parse_date(text) {
        zone.day_start(date)
    } else {
        let usage = || format!("'{shown}' is not a time: use 30m, 4h, 2d, 1w, YYYY-MM-DD or RFC 3339");
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: i64 = number.parse().map_err(|_| usage())?;
        let length = match unit {
            "m" | "min" => Duration::try_minutes(n),
            "h" => Duration::try_hours(n),
            "d" => Duration::try_days(n),
            "w" => Duration::try_weeks(n),
            _ => return Err(usage()),
        };
        length.and_then(|l| now.checked_add_signed(l)).unwrap_or(DateTime::<Utc>::MAX_UTC)
    };
    if until - now > Duration::days(SNOOZE_LIMIT_DAYS) {
        return Err(format!("'{shown}' is more than a year ahead; snooze for at most {SNOOZE_LIMIT_DAYS} days"));
    }
    Ok(until)
}

pub fn alerts(cli: &Cli, cmd: &AlertsCommand) -> anyhow::Result<()> {
    let mut session = open_session(cli, OpenMode::Existing)?;
    if !matches!(cmd, AlertsCommand::Run { .. }) {
        end_snoozes(&mut session)?;
    }
    let Session { app, actor } = &mut session;
    let out = &mut std::io::stdout().lock();
    match cmd {
        AlertsCommand::Run { date } => {
            let through = date.unwrap_or_else(|| app.today().pred_opt().unwrap_or(app.today()));
            for outcome in app.run_alerts(actor, through, &Bar::new())? {
                println!("{outcome}");
            }
        }
        AlertsCommand::List { status, severity, kind, program, assignee, mine } => {
            let filter = AlertFilter {
                status: status.as_deref().and_then(|s| s.parse().ok()),
                all_statuses: status.as_deref() == Some("all"),
                severity: *severity,
                kind: *kind,
                program_id: program.clone(),
                assigned_to: if *mine { Some(actor.user().login.clone()) } else { assignee.clone() },
                text: None,
                student_id: None,
            };
            let columns = [
                "id",
                "severity",
                "type",
                "status",
                "student_id",
                "student_name",
                "program_id",
                "count",
                "first_missed",
                "assigned_to",
                "opened_at",
            ];
            // One statement for the whole list, printed as it is read. (A partner's page reads
            // all their students' alerts before it sorts them, so pages of 2,000 read them once
            // a page: 111 times for a program holder's 221,000 alerts after a churn year.)
            let mut list = ListWriter::new(out, cli.format, &columns);
            app.each_alert(actor, &filter, |view| list.row(&view))?;
            list.finish()?;
        }
        AlertsCommand::Show { id } => {
            let (view, timeline) = app.alert(actor, *id)?;
            if cli.format == super::Format::Json {
                let mut value = serde_json::to_value(&view)?;
                value["timeline"] = serde_json::to_value(&timeline)?;
                emit_one(out, cli.format, &value)?;
            } else {
                emit_one(out, cli.format, &view)?;
                println!();
                emit(out, cli.format, &["at", "actor", "kind", "run_date", "note"], &timeline)?;
            }
        }
        AlertsCommand::Thresholds { kind, warn, escalate, critical } => {
            if let (Some(kind), Some(warn), Some(escalate), Some(critical)) = (kind, warn, escalate, critical) {
                let thresholds = Thresholds { warn: *warn, escalate: *escalate, critical: *critical };
                println!("{}", app.execute(actor, Command::SetThresholds { kind: *kind, thresholds })?);
            }
            let rows: Vec<serde_json::Value> = app
                .thresholds(actor)?
                .into_iter()
                .map(|(kind, t)| serde_json::json!({"type": kind, "warn": t.warn, "escalate": t.escalate, "critical": t.critical}))
                .collect();
            emit(out, cli.format, &["type", "warn", "escalate", "critical"], &rows)?;
        }
        AlertsCommand::Ack(args) => triage(app, actor, args, Triage::Ack)?,
        AlertsCommand::Snooze { args, until } => {
            let until = parse_until(until, Utc::now(), app.zone()).map_err(crate::app::AppError::Invalid)?;
            triage(app, actor, args, Triage::Snooze { until })?;
        }
        AlertsCommand::Assign { args, to } => triage(app, actor, args, Triage::Assign { to: to.clone() })?,
        AlertsCommand::Resolve(args) => triage(app, actor, args, Triage::Resolve)?,
        AlertsCommand::Reopen { args, to } => triage(app, actor, args, Triage::Reopen { assigned_to: to.clone() })?,
    }
    Ok(())
}

fn triage(
    app: &mut crate::app::App,
    actor: &crate::app::Actor,
    args: &TriageArgs,
    action: Triage,
) -> anyhow::Result<()> {
    let command = Command::Triage { ids: args.ids.clone(), action, note: args.note.clone() };
    println!("{}", app.execute(actor, command)?);
    Ok(())
}

/// Snoozes whose time has come end before anyone looks; a partner still onboarding has no
/// alerts to wake, so a refusal here is not theirs to see.
fn end_snoozes(session: &mut Session) -> anyhow::Result<()> {
    // A read first: a list must not wait for another process's long write when nothing is due.
    if !session.app.snoozes_due()? {
        return Ok(());
    }
    match session.app.execute(&session.actor, Command::EndSnoozes) {
        // A partner may not end others' snoozes, and a read-only file cannot: the list still shows.
        Ok(_)
        | Err(crate::app::AppError::Denied(_))
        | Err(crate::app::AppError::Store(crate::store::StoreError::ReadOnly)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_reads_durations_dates_and_times() {
        let now = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&Utc);
        let utc = OrgZone::named("UTC").unwrap();
        let parse_until = |text: &str, now| parse_until(text, now, &utc);
        assert_eq!(parse_until("4h", now).unwrap(), now + Duration::hours(4));
        assert_eq!(parse_until("2d", now).unwrap(), now + Duration::days(2));
        assert_eq!(parse_until("30m", now).unwrap(), now + Duration::minutes(30));
        assert_eq!(parse_until("2026-03-05T08:00:00+01:00", now).unwrap().to_rfc3339(), "2026-03-05T07:00:00+00:00");
        assert_eq!(parse_until("2026-03-05", now).unwrap().to_rfc3339(), "2026-03-05T00:00:00+00:00");
        let chicago = OrgZone::named("America/Chicago").unwrap();
        assert_eq!(super::parse_until("2026-03-05", now, &chicago).unwrap().to_rfc3339(), "2026-03-05T06:00:00+00:00");
        assert!(parse_until("100000000h", now).unwrap_err().contains("at most 366 days"));
        assert!(parse_until("99999999w", now).is_err(), "no overflow panic");
        assert!(parse_until("2026-3-5", now).is_err());
        assert!(parse_until("soon", now).unwrap_err().contains("30m, 4h"));
        assert!(parse_until("3y", now).is_err());
    }
}
