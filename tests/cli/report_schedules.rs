//! Scheduled reports: the daemon makes each one once per period, as its owner sees the data, and
//! mails the PDF to a real SMTP server on loopback (or writes it beside the database).

use crate::fixtures::{STUDENTS, organisation_with};
use crate::harness::Env;
use crate::messages::configure;
use crate::smtp::Smtp;
use chrono::{Datelike, Days, Months};
use std::time::{Duration, Instant};

fn organisation() -> Env {
    organisation_with(STUDENTS)
}

fn with_config(env: &Env, args: &[&str]) -> crate::harness::Ran {
    let config = env.dir.path().join("config");
    env.run_with(args, &[("XDG_CONFIG_HOME", config.to_str().unwrap())])
}

/// Runs the daemon until `done` holds (at most `longest`), then a few seconds more, and stops it.
fn daemon_until(env: &Env, done: &dyn Fn() -> bool, longest: Duration) -> String {
    let mut daemon = env.spawn(&["daemon"]);
    let started = Instant::now();
    while !done() && started.elapsed() < longest {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Long enough for a few more passes: nothing is made twice.
    std::thread::sleep(Duration::from_secs(5));
    // SAFETY: kill on our own child's pid.
    unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    daemon.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(daemon.stderr.as_mut().unwrap(), &mut err).unwrap();
    err
}

#[test]
fn the_daemon_mails_each_scheduled_report_once_per_period_as_a_pdf() {
    let env = organisation();
    let smtp = Smtp::start(env.dir.path(), &[]);
    configure(&env, smtp.port, 30);
    let today = chrono::Local::now().date_naive();
    let month_start = today.with_day(1).unwrap();
    let run = |args: &[&str]| {
        let ran = with_config(&env, args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
        ran.stdout
    };
    // Due since the first of this month; and a weekly one due three weeks ago, whose missed
    // weeks are not made one by one: only the latest.
    let first = month_start.to_string();
    run(&[
        "report",
        "schedule",
        "add",
        "outcomes",
        "--every",
        "monthly",
        "--to",
        "board@org.example,ed@org.example",
        "--first",
        &first,
    ]);
    let weeks_ago = (today - Days::new(21)).to_string();
    run(&[
        "report",
        "schedule",
        "add",
        "health",
        "--every",
        "weekly",
        "--to",
        "sam@coord.example",
        "--first",
        &weeks_ago,
    ]);
    let err = daemon_until(&env, &|| smtp.received().len() >= 2, Duration::from_secs(30));
    let received = smtp.received();
    assert_eq!(received.len(), 2, "one message per schedule, once: {received:?}\n{err}");
    let outcomes = received.iter().find(|m| m["subject"].as_str().unwrap().contains("Monthly outcome report")).unwrap();
    assert_eq!(outcomes["to"], serde_json::json!(["board@org.example", "ed@org.example"]));
    assert!(outcomes["message_id"].as_str().is_some_and(|id| id.contains('@')), "{outcomes}");
    let last_month = month_start.checked_sub_months(Months::new(1)).unwrap();
    let covers = format!("{:04}-{:02}", last_month.year(), last_month.month());
    assert!(outcomes["subject"].as_str().unwrap().contains(&covers), "the month before: {outcomes}");
    assert!(outcomes["body"].as_str().unwrap().contains("report schedule remove 1"), "{outcomes}");
    let attachment = &outcomes["attachments"][0];
    assert_eq!(attachment["type"], "application/pdf");
    let text = std::process::Command::new("pdftotext").args([attachment["path"].as_str().unwrap(), "-"]).output();
    let text = String::from_utf8(text.expect("pdftotext (poppler-utils, installed by .ci/run)").stdout).unwrap();
    assert!(text.contains("Monthly outcome report") && text.contains("Produced by"), "{text}");
    // The weekly one covered the seven days before today, its latest due date.
    let health = received.iter().find(|m| m["subject"].as_str().unwrap().contains("Cohort health")).unwrap();
    let week = format!("{} to {}", today - Days::new(7), today - Days::new(1));
    assert!(health["subject"].as_str().unwrap().contains(&week), "{health}");
    // Both moved on to their next period; a restarted daemon sends nothing again.
    let listed: serde_json::Value =
        serde_json::from_str(&run(&["report", "schedule", "list", "--format", "json"])).unwrap();
    let next_month = month_start.checked_add_months(Months::new(1)).unwrap().to_string();
    assert_eq!((listed[0]["last_status"].as_str(), listed[0]["next_due"].as_str()), (Some("sent"), Some(&*next_month)));
    assert_eq!(listed[1]["next_due"].as_str(), Some(&*(today + Days::new(7)).to_string()));
    daemon_until(&env, &|| false, Duration::ZERO);
    assert_eq!(smtp.received().len(), 2, "nothing made twice after a restart");
    let audit = run(&["audit", "list"]);
    assert!(audit.contains("report.schedule") && audit.contains("report.sent"), "{audit}");
}

/// A weekly attendance report first due today, without mail: today's date.
fn weekly_attendance_due_today(env: &Env) -> String {
    let today = chrono::Local::now().date_naive().to_string();
    env.ok(&[
        "report",
        "schedule",
        "add",
        "attendance",
        "--every",
        "weekly",
        "--to",
        "board@org.example",
        "--first",
        &today,
    ]);
    today
}

#[test]
fn without_mail_the_report_is_written_beside_the_database_and_schedules_are_for_admins() {
    let env = organisation();
    let today = weekly_attendance_due_today(&env);
    let folder = env.db.parent().unwrap().join("reports");
    let file = folder.join(format!("attendance-{today}-1.pdf"));
    let err = daemon_until(&env, &|| file.exists(), Duration::from_secs(30));
    assert!(file.exists(), "{err}");
    assert!(std::fs::read(&file).unwrap().starts_with(b"%PDF-"));
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1, "written once");
    let listed = env.json(&["report", "schedule", "list"]);
    assert_eq!(listed[0]["last_status"], "written");
    // Partners do not schedule; a bad address or an unknown partner is refused, nothing kept.
    env.fails(
        3,
        &["--as", "ws_01", "report", "schedule", "add", "outcomes", "--every", "monthly", "--to", "a@b.example"],
    );
    env.fails(4, &["report", "schedule", "add", "outcomes", "--every", "monthly", "--to", "not-an-address"]);
    // A monthly report due on the 31st would go out on the 28th from February on.
    let refused = env.fails(
        4,
        &[
            "report",
            "schedule",
            "add",
            "outcomes",
            "--every",
            "monthly",
            "--to",
            "a@b.example",
            "--first",
            "2027-01-31",
        ],
    );
    assert!(refused.contains("not every month has a 31st") && refused.contains("from 1 to 28"), "{refused}");
    env.ok(&[
        "report",
        "schedule",
        "add",
        "outcomes",
        "--every",
        "monthly",
        "--to",
        "a@b.example",
        "--first",
        "2027-01-28",
    ]);
    env.ok(&["report", "schedule", "remove", "2", "--yes"]);
    env.fails(
        4,
        &["report", "schedule", "add", "health", "--every", "weekly", "--to", "a@b.example", "--partner", "nobody"],
    );
    assert_eq!(env.json(&["report", "schedule", "list"]).as_array().unwrap().len(), 1);
    // Removing asks first; without a terminal it wants --yes.
    env.fails(4, &["report", "schedule", "remove", "1"]);
    env.ok(&["report", "schedule", "remove", "1", "--yes"]);
    assert_eq!(env.json(&["report", "schedule", "list"]).as_array().unwrap().len(), 0);
}

/// An admin's open console makes the reports that are due, as the daemon does; a daemon running
/// beside it does not make them again.
#[test]
fn an_open_console_makes_the_reports_that_are_due_once() {
    let env = organisation();
    let today = weekly_attendance_due_today(&env);
    let tmux = crate::console_e2e::Tmux::console(&env, "reports", "");
    tmux.wait_for("'s day");
    let folder = env.db.parent().unwrap().join("reports");
    let file = folder.join(format!("attendance-{today}-1.pdf"));
    let started = Instant::now();
    while !file.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(file.exists(), "the console made no report; the screen shows:\n{}", tmux.screen());
    daemon_until(&env, &|| true, Duration::from_secs(1));
    tmux.quit();
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1, "made once");
    assert!(std::fs::read(&file).unwrap().starts_with(b"%PDF-"));
    let listed = env.json(&["report", "schedule", "list"]);
    assert_eq!(listed[0]["last_status"], "written");
}
