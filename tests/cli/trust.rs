//! Issue "Trust": each rule that broke, replayed as a user meets it.

use crate::harness::{Env, organisation};
use serde_json::Value;

// January 2026: the 5th is a Monday.
const PROGRAMS: &str = "program_id,name,schedule,start_date\nP1,Welding,Mon-Thu,2026-01-05\n";
const STUDENTS: &str = "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,Li\n";
const ENROLLMENTS: &str = "enrollment_id,student_id,program_id,start_date,status\n\
E1,S1,P1,2026-01-05,active\nE2,S2,P1,2026-01-05,active\n";
const USERS: &str =
    "login,name,role,onboarded\nws_01,Wanda Site,worksite,true\nsc_01,Sam Coord,site_coordinator,true\n";
const ASSIGNMENTS: &str = "login,student_id\nws_01,S1\nsc_01,S1\n";

fn mon_thu_program() -> Env {
    let env = Env::initialised();
    for (kind, contents) in [
        ("programs", PROGRAMS),
        ("students", STUDENTS),
        ("enrollments", ENROLLMENTS),
        ("users", USERS),
        ("assignments", ASSIGNMENTS),
    ] {
        env.import(kind, contents);
    }
    env
}

fn log(env: &Env, student: &str, date: &str, status: &str) -> String {
    env.ok(&["attendance", "log", "--student", student, "--program", "P1", "--date", date, "--status", status])
}

fn live_alerts(env: &Env) -> Vec<Value> {
    env.json(&["alerts", "list", "--status", "all"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] != "resolved")
        .cloned()
        .collect()
}

#[test]
fn a_present_day_never_opens_an_alert_nor_does_a_day_the_job_never_processed() {
    let env = mon_thu_program();
    // The job's first run is a Saturday: it processes that day only, and nobody meets then.
    env.ok(&["alerts", "run", "--date", "2026-01-10"]);
    let attendance_alerts =
        || -> Vec<Value> { live_alerts(&env).into_iter().filter(|a| a["type"] == "missing_attendance").collect() };
    assert!(attendance_alerts().is_empty());
    // Friday is not a session day of a Mon-Thu program: a present record there plays no part.
    let out = log(&env, "S1", "2026-01-09", "present");
    assert!(!out.contains("opened"), "{out}");
    // Thursday is a session day, but one the job never processed: no alert for it either.
    let out = log(&env, "S2", "2026-01-08", "absent");
    assert!(!out.contains("opened"), "{out}");
    assert!(attendance_alerts().is_empty(), "{:?}", attendance_alerts());
    // The next session day the job processes counts the streak from the data, as SPEC defines.
    env.ok(&["alerts", "run", "--date", "2026-01-12"]);
    let alerts = attendance_alerts();
    let s2 = alerts.iter().find(|a| a["student_id"] == "S2").unwrap();
    assert_eq!(s2["count"], 5, "Mon 5 … Thu 8 and Mon 12, all missed");
}

#[test]
fn a_snoozed_alert_leaves_the_default_list_until_its_time() {
    let env = mon_thu_program();
    env.ok(&["alerts", "run", "--date", "2026-01-05"]);
    let id = live_alerts(&env).iter().find(|a| a["student_id"] == "S1").unwrap()["id"].to_string();
    env.ok(&["alerts", "ack", &id]);
    env.ok(&["alerts", "snooze", &id, "--until", "2d"]);
    let listed = env.json(&["alerts", "list"]);
    assert!(listed.as_array().unwrap().iter().all(|a| a["id"].as_i64() != id.parse().ok()), "hidden by default");
    let snoozed = env.json(&["alerts", "list", "--status", "snoozed"]);
    assert!(snoozed.as_array().unwrap().iter().any(|a| a["id"].as_i64() == id.parse().ok()));
    // Far-off times are refused instead of wrapping around or ending at once.
    assert!(env.fails(4, &["alerts", "snooze", &id, "--until", "100000000h"]).contains("at most 366 days"));
    assert!(env.fails(4, &["alerts", "snooze", &id, "--until", "99999999w"]).contains("at most 366 days"));
    assert!(env.fails(4, &["alerts", "snooze", &id, "--until", "9999-12-31"]).contains("at most 366 days"));
}

#[test]
fn nobody_verifies_what_they_logged_under_any_name() {
    let env = mon_thu_program();
    log(&env, "S1", "2026-01-05", "absent");
    env.ok(&["--as", "ws_01", "attendance", "log", "--student", "S1", "--program", "P1", "--date", "2026-01-06"]
        .into_iter()
        .chain(["--status", "present", "--hours", "5"])
        .collect::<Vec<_>>());
    let records = env.json(&["attendance", "list", "--pending"]);
    let id = |date: &str| records.as_array().unwrap().iter().find(|r| r["date"] == date).unwrap()["id"].to_string();
    let before = env.snapshot();
    // The admin logged the 6th as ws_01: neither as themselves nor as a coordinator may they verify it.
    assert!(env.fails(3, &["attendance", "verify", &id("2026-01-06")]).contains("logged by you"));
    assert!(env.fails(3, &["--as", "sc_01", "attendance", "verify", &id("2026-01-06")]).contains("logged by you"));
    assert!(env.fails(3, &["--as", "sc_01", "attendance", "verify", &id("2026-01-05")]).contains("logged by you"));
    assert_eq!(env.snapshot(), before);
}

#[test]
fn hours_belong_to_present_days_and_dates_are_exactly_iso() {
    let env = mon_thu_program();
    let base = ["attendance", "log", "--student", "S1", "--program", "P1"];
    let with = |extra: &[&'static str]| base.iter().copied().chain(extra.iter().copied()).collect::<Vec<_>>();
    assert!(
        env.fails(4, &with(&["--date", "2026-01-05", "--status", "absent", "--hours", "5"]))
            .contains("only for a present day")
    );
    assert!(env.fails(2, &with(&["--date", "2026-1-5", "--status", "present"])).contains("YYYY-MM-DD"));
    let file = env.file(
        "att.csv",
        "student_id,program_id,date,status,hours\nS1,P1,2026-01-05,excused,3\nS1,P1,2026-1-6,present,\n",
    );
    let err = env.fails(4, &["import", "attendance", &file]);
    assert!(err.contains("line 2, column hours: hours are logged only for a present day"), "{err}");
    assert!(err.contains("line 3, column date: '2026-1-6' is not a date"), "{err}");
    assert_eq!(env.count("attendance"), 0);
}

#[test]
fn a_rejected_days_hours_do_not_count() {
    let env = mon_thu_program();
    env.ok(&["--as", "ws_01", "attendance", "log", "--student", "S1", "--program", "P1", "--date", "2026-01-05"]
        .into_iter()
        .chain(["--status", "present", "--hours", "6"])
        .collect::<Vec<_>>());
    env.as_if_partners_logged_from_their_own_accounts();
    let id = env.json(&["attendance", "list"])[0]["id"].to_string();
    env.ok(&["--as", "sc_01", "attendance", "reject", &id, "--reason", "not on the sheet"]);
    let shown = env.json(&["students", "show", "S1"]);
    assert_eq!(shown["enrollments"][0]["contact_hours"], 0.0, "{shown}");
    assert_eq!((shown["hours_logged"].as_f64(), shown["days_present"].as_i64()), (Some(0.0), Some(0)), "{shown}");
    assert_eq!(shown["last_present"], Value::Null);
}

#[test]
fn bank_details_are_checked_and_never_echoed() {
    let env = organisation();
    let w9 = env.file("w9.pdf", "%PDF-1.4 test");
    let submit = |method: &str, extra: &[&str]| {
        let mut args = vec!["--as", "ws_02", "payroll", "submit", "--rate", "10", "--method", method, "--w9", &w9];
        args.extend(extra);
        args.push("--accept-terms");
        args.into_iter().map(String::from).collect::<Vec<String>>()
    };
    let run = |args: Vec<String>| env.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let zeros = run(submit("ach", &["--routing", "000000000", "--account", "123456789"]));
    assert_eq!(zeros.code, 4);
    assert!(zeros.stderr.contains("Federal Reserve district"), "{}", zeros.stderr);
    let long = format!("acct_{}", "a".repeat(500));
    assert_eq!(run(submit("stripe_connect", &["--account", &long])).code, 4);
    let typo = run(submit("stripe_connect", &["--account", "98765432101"]));
    assert_eq!(typo.code, 4);
    assert!(!typo.stderr.contains("98765"), "{}", typo.stderr);
    let log = std::fs::read_to_string(env.dir.path().join("data/muster/muster.log")).unwrap_or_default();
    assert!(!log.contains("98765"), "the log never holds an account number: {log}");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&env.dir.path().join("data/muster")), 0o700);
    assert_eq!(mode(&env.dir.path().join("data/muster/muster.log")), 0o600);
    // /dev/zero is read no further than the limit.
    let zero = run(submit("stripe_connect", &["--account", "acct_1Nv0FGQ9RKHgCVdK"])
        .into_iter()
        .map(|a| if a == w9 { "/dev/zero".into() } else { a })
        .collect());
    assert_eq!(zero.code, 4, "{}", zero.stderr);
    assert!(zero.stderr.contains("larger than 10 MB"), "{}", zero.stderr);
}

#[test]
fn an_account_number_can_come_from_stdin() {
    use std::io::Write;
    let env = organisation();
    let w9 = env.file("w9.pdf", "%PDF-1.4 test");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["--db", env.db.to_str().unwrap(), "--as", "ws_01", "payroll", "submit", "--rate", "10"])
        .args(["--method", "ach", "--routing", "011000015", "--account", "-", "--w9", &w9, "--accept-terms"])
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"000123456789\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let profiles = env.json(&["payroll", "list"]);
    let mine = profiles.as_array().unwrap().iter().find(|p| p["login"] == "ws_01").unwrap();
    assert_eq!(mine["account_last4"], "6789");
}

#[test]
fn a_partner_cannot_tell_missing_from_not_theirs() {
    let env = organisation();
    let not_mine = env.fails(3, &["--as", "ws_01", "attendance", "list", "--student", "S2"]);
    let missing = env.fails(3, &["--as", "ws_01", "attendance", "list", "--student", "S404"]);
    assert_eq!(not_mine.replace("S2", "X"), missing.replace("S404", "X"));
}

#[test]
fn overlong_and_hostile_text_is_refused_and_old_text_is_shown_escaped() {
    let env = mon_thu_program();
    env.ok(&["alerts", "run", "--date", "2026-01-05"]);
    let id = live_alerts(&env)[0]["id"].to_string();
    let before = env.snapshot();
    let long = "x".repeat(70_000);
    assert!(env.fails(4, &["alerts", "ack", &id, "--note", &long]).contains("at most 4000"));
    assert!(
        env.fails(4, &["alerts", "ack", &id, "--note", "\u{1b}[2J\u{1b}]0;pwned\u{7}"]).contains("control character")
    );
    assert!(
        env.fails(4, &["user", "add", "ws_09", "--role", "worksite", "--name", "Eve\u{1b}[2J"]).contains("control")
    );
    let file = env.file("s.csv", "student_id,first_name,last_name\nS9,\u{1b}]0;pwned\u{7},Lee\n");
    assert!(
        env.fails(4, &["import", "students", &file])
            .contains("line 2, column first_name: contains a control character")
    );
    assert_eq!(env.snapshot(), before);
    // Text written by an older muster (or straight into the file) is shown escaped, whatever its length.
    env.sql()
        .execute(
            "UPDATE students SET first_name = ?1 || ?2 WHERE student_id = 'S1'",
            ["\u{1b}[2J\u{1b}]0;pwned\u{7}", &long],
        )
        .unwrap();
    env.sql()
        .execute(
            "INSERT INTO alert_events (alert, at, actor, kind, note) VALUES (?1, unixepoch('2026-01-05T10:00:00Z'), 'x', 'note', ?2)",
            [id.as_str(), &long],
        )
        .unwrap();
    for args in
        [vec!["students", "list"], vec!["alerts", "show", &id], vec!["alerts", "list"], vec!["attendance", "list"]]
    {
        let ran = env.run(&args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
        assert!(!ran.stdout.contains('\u{1b}') && !ran.stdout.contains('\u{7}'), "{args:?}");
    }
    assert!(env.ok(&["students", "list"]).contains("\\e[2J\\e]0;pwned\\x07"));
}

#[test]
fn errors_say_once_what_went_wrong_and_pipes_close_quietly() {
    let env = organisation();
    let piped = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' --db '{}' audit list | head -n 1", env!("CARGO_BIN_EXE_muster"), env.db.display()))
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .output()
        .unwrap();
    assert!(piped.stderr.is_empty(), "{}", String::from_utf8_lossy(&piped.stderr));
    let garbage = Env::new();
    std::fs::write(&garbage.db, "not a database, but a file someone put here").unwrap();
    let err = garbage.fails(1, &["students", "list"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("not a database").count(), 1, "said once: {err}");
}

#[test]
fn a_writer_is_waited_for_and_named() {
    let env = organisation();
    let holder = env.sql();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::fs::write(format!("{}-writer", env.db.display()), "alice is importing attendance from year.csv\n").unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(2_500));
        holder.execute_batch("COMMIT").unwrap();
    });
    let ran = env.run(&["user", "add", "ws_07", "--role", "worksite", "--name", "Wes Seven"]);
    releaser.join().unwrap();
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("waiting: another muster process is writing to this database (alice is importing attendance"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("database is locked"));
}

#[test]
fn evening_logins_count_for_the_organisations_day() {
    let env = mon_thu_program();
    env.ok(&["settings", "time-zone", "America/Los_Angeles"]);
    assert!(env.fails(4, &["settings", "time-zone", "Mars/Olympus"]).contains("not a time zone"));
    // 8:30 pm on Monday the 5th in Los Angeles is already Tuesday in UTC.
    env.import("logins", "student_id,at\nS1,2026-01-06T04:30:00Z\n");
    env.ok(&["alerts", "run", "--date", "2026-01-08"]);
    let no_login =
        |student: &str| live_alerts(&env).into_iter().find(|a| a["student_id"] == student && a["type"] == "no_login");
    assert_eq!(no_login("S1").unwrap()["count"], 3, "Tue, Wed, Thu since Monday's login");
    assert!(env.ok(&["settings", "show"]).contains("America/Los_Angeles"));
}

/// With no zone set, days are the machine's: `TZ` where it is set, as for every other program.
#[test]
fn without_a_zone_set_the_machines_tz_counts_the_days() {
    let env = Env::initialised();
    // POSIX zones, 25 hours apart, so the two never share a date (and need no tz database).
    let today_in = |tz: &str| env.run_with(&["settings", "show"], &[("TZ", tz)]).stdout;
    let (east, west) = (today_in("KIR-14"), today_in("SST11"));
    assert!(east.contains("the machine's time zone"), "{east}");
    assert_ne!(east, west, "the same day at UTC+14 and UTC-11");
}

#[test]
fn the_demo_inbox_has_attendance_alerts_on_a_monday() {
    let env = Env::new();
    env.ok(&["demo", "--students", "60", "--days", "30", "--today", "2026-03-02"]);
    let alerts = env.json(&["alerts", "list", "--type", "missing_attendance"]);
    assert!(!alerts.as_array().unwrap().is_empty(), "a Monday's inbox reflects Friday and before");
}
