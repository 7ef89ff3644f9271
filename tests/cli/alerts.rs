//! SPEC "Alert rules" and "Triage", replayed day by day through the command line.

use crate::harness::Env;
use serde_json::Value;

// January 2026: the 5th is a Monday; the 19th (a Monday) is a closure day.
const PROGRAMS: &str = "program_id,name,schedule,start_date\nP1,Welding,Mon-Fri,2026-01-05\n";
const CLOSURES: &str = "program_id,date,reason\nP1,2026-01-19,Martin Luther King Jr. Day\n";
const STUDENTS: &str = "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,Li\n";
const ENROLLMENTS: &str = "enrollment_id,student_id,program_id,start_date,status\n\
E1,S1,P1,2026-01-05,active\nE2,S2,P1,2026-01-05,active\n";
const USERS: &str = "login,name,role,onboarded\nws_01,Wanda Site,worksite,true\n\
ws_02,Walt Two,worksite,true\nsc_01,Sam Coord,site_coordinator,true\nadmin2,Ada Min,admin,true\n";
const ASSIGNMENTS: &str = "login,student_id\nws_01,S1\nws_02,S2\nsc_01,S1\nsc_01,S2\n";

/// Two students in a Mon–Fri program from 2026-01-05, nothing logged yet.
fn program() -> Env {
    let env = Env::initialised();
    for (kind, contents) in [
        ("programs", PROGRAMS),
        ("closures", CLOSURES),
        ("students", STUDENTS),
        ("enrollments", ENROLLMENTS),
        ("users", USERS),
        ("assignments", ASSIGNMENTS),
    ] {
        env.import(kind, contents);
    }
    env
}

fn run(env: &Env, date: &str) -> String {
    env.ok(&["alerts", "run", "--date", date])
}

fn log(env: &Env, student: &str, date: &str, status: &str) {
    env.ok(&["attendance", "log", "--student", student, "--program", "P1", "--date", date, "--status", status]);
}

/// The alerts of one type about one student, oldest first, any status.
fn alerts_of(env: &Env, student: &str, kind: &str) -> Vec<Value> {
    let all = env.json(&["alerts", "list", "--status", "all", "--type", kind]);
    let mut found: Vec<Value> =
        all.as_array().unwrap().iter().filter(|a| a["student_id"] == student).cloned().collect();
    found.sort_by_key(|a| a["id"].as_i64());
    found
}

fn attendance_alert(env: &Env, student: &str) -> Value {
    alerts_of(env, student, "missing_attendance").pop().expect("an alert")
}

#[test]
fn no_attendance_rises_warn_escalate_critical_and_logging_resolves_at_once() {
    let env = program();
    log(&env, "S2", "2026-01-05", "present");
    run(&env, "2026-01-05");
    let a = attendance_alert(&env, "S1");
    assert_eq!(
        (a["severity"].as_str(), a["count"].as_i64(), a["status"].as_str()),
        (Some("warn"), Some(1), Some("open"))
    );
    assert_eq!(a["first_missed"], "2026-01-05");
    assert_eq!(a["enrollment_id"], "E1");
    assert!(alerts_of(&env, "S2", "missing_attendance").is_empty(), "S2 was present");

    run(&env, "2026-01-06");
    let a = attendance_alert(&env, "S1");
    assert_eq!((a["severity"].as_str(), a["count"].as_i64()), (Some("escalate"), Some(2)));
    assert_eq!(a["escalated"], false);

    let said = run(&env, "2026-01-07");
    assert!(said.starts_with("2026-01-07: ") && said.contains("1 escalated") && !said.contains(" 0 "), "{said}");
    let a = attendance_alert(&env, "S1");
    assert_eq!((a["severity"].as_str(), a["count"].as_i64()), (Some("critical"), Some(3)));
    assert_eq!(a["escalated"], true, "critical goes to admins");
    assert_eq!(a["first_missed"], "2026-01-05");
    assert_eq!(alerts_of(&env, "S1", "missing_attendance").len(), 1, "one alert per enrollment, raised in place");

    log(&env, "S1", "2026-01-07", "present");
    let a = attendance_alert(&env, "S1");
    assert_eq!(a["status"], "resolved", "resolved at once, without waiting for a run");
    let shown = env.json(&["alerts", "show", &a["id"].to_string()]);
    let kinds: Vec<&str> = shown["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["opened", "raised", "raised", "escalated", "resolved"]);
    assert_eq!(shown["timeline"][0]["actor"], "system");
    assert_eq!(shown["timeline"][1]["run_date"], "2026-01-06");
    assert_eq!(shown["timeline"][4]["note"], "auto: attendance logged");
}

#[test]
fn weekends_do_not_count_for_a_weekday_program() {
    let env = program();
    for day in ["05", "06", "07", "08"] {
        log(&env, "S1", &format!("2026-01-{day}"), "present");
    }
    run(&env, "2026-01-08");
    for day in ["09", "10", "11", "12"] {
        run(&env, &format!("2026-01-{day}"));
    }
    let a = attendance_alert(&env, "S1");
    assert_eq!(a["count"], 2, "Friday and Monday, not the weekend between");
    assert_eq!(a["first_missed"], "2026-01-09");
}

#[test]
fn an_excused_day_neither_counts_nor_breaks_the_streak() {
    let env = program();
    log(&env, "S1", "2026-01-05", "present");
    log(&env, "S1", "2026-01-07", "excused");
    log(&env, "S1", "2026-01-08", "absent");
    for day in ["05", "06", "07", "08"] {
        run(&env, &format!("2026-01-{day}"));
    }
    let a = attendance_alert(&env, "S1");
    assert_eq!(a["count"], 2, "Tuesday and Thursday missed, Wednesday excused");
    assert_eq!(a["first_missed"], "2026-01-06");
}

#[test]
fn closure_days_are_skipped() {
    let env = program();
    for day in ["12", "13", "14", "15"] {
        log(&env, "S1", &format!("2026-01-{day}"), "present");
    }
    run(&env, "2026-01-15");
    for day in ["16", "19", "20"] {
        run(&env, &format!("2026-01-{day}"));
    }
    let a = attendance_alert(&env, "S1");
    assert_eq!(a["count"], 2, "Friday the 16th and Tuesday the 20th; Monday the 19th is closed");
}

#[test]
fn a_rejected_present_record_counts_as_missed() {
    let env = program();
    log(&env, "S1", "2026-01-05", "present");
    env.sql().execute("UPDATE attendance SET verification = 'rejected'", []).unwrap();
    run(&env, "2026-01-05");
    assert_eq!(attendance_alert(&env, "S1")["count"], 1);
}

/// What an alert says, without the wall-clock times it was written at.
fn comparable(env: &Env) -> Vec<Value> {
    let all = env.json(&["alerts", "list", "--status", "all"]);
    all.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let timeline = env.json(&["alerts", "show", &a["id"].to_string()])["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| serde_json::json!([e["kind"], e["run_date"], e["note"]]))
                .collect::<Vec<_>>();
            serde_json::json!([
                a["id"],
                a["type"],
                a["severity"],
                a["status"],
                a["student_id"],
                a["count"],
                a["first_missed"],
                a["escalated"],
                timeline
            ])
        })
        .collect()
}

#[test]
fn a_catch_up_over_skipped_days_equals_single_runs() {
    let (daily, caught_up) = (program(), program());
    for env in [&daily, &caught_up] {
        env.import("logins", "student_id,at\nS1,2026-01-05T09:00:00Z\nS2,2026-01-08T09:00:00Z\n");
        log(env, "S2", "2026-01-05", "present");
        log(env, "S2", "2026-01-08", "present");
        log(env, "S1", "2026-01-09", "excused");
        run(env, "2026-01-05");
    }
    for day in ["06", "07", "08", "09", "10", "11", "12"] {
        run(&daily, &format!("2026-01-{day}"));
    }
    let out = run(&caught_up, "2026-01-12");
    assert_eq!(out.lines().count(), 7, "processes each skipped day in order:\n{out}");
    assert_eq!(comparable(&daily), comparable(&caught_up));
    assert!(!comparable(&daily).is_empty());
}

#[test]
fn a_second_run_for_the_same_date_writes_nothing() {
    let env = program();
    run(&env, "2026-01-05");
    let before = env.snapshot();
    let out = run(&env, "2026-01-05");
    assert!(out.contains("already processed"), "{out}");
    assert_eq!(env.snapshot(), before, "not even an audit entry");
    run(&env, "2026-01-02");
    assert_eq!(env.snapshot(), before, "an earlier day is already behind the job");
}

/// The log says how long each run took and where, so a slow morning on an organisation's own
/// data can be told apart (the rules, the digests, copying back) without a profiler.
#[test]
fn each_run_logs_where_its_time_went() {
    let env = program();
    run(&env, "2026-01-05");
    run(&env, "2026-01-08");
    run(&env, "2026-01-08");
    let log = std::fs::read_to_string(env.dir.path().join("data/muster/muster.log")).unwrap();
    let runs: Vec<&str> = log.lines().filter(|line| line.contains("alert job:")).collect();
    assert_eq!(runs.len(), 2, "a day already processed is no run: {log}");
    let timed = |line: &str, days: &str| {
        line.contains(days)
            && line.contains(": the rules ")
            && line.contains(" s, the digests ")
            && line.contains(" s, copying back after them ")
            && line.ends_with(" s")
    };
    assert!(timed(runs[0], "alert job: 1 day up to 2026-01-05:"), "{}", runs[0]);
    assert!(timed(runs[1], "alert job: 3 days up to 2026-01-08:"), "{}", runs[1]);
}

#[test]
fn future_dates_are_refused() {
    let env = program();
    let err = env.fails(4, &["alerts", "run", "--date", "2999-01-01"]);
    assert!(err.contains("in the future"), "{err}");
    assert_eq!(env.count("alerts"), 0);
}

#[test]
fn no_login_rises_at_three_five_and_seven_days() {
    let env = program();
    env.import("logins", "student_id,at\nS1,2026-01-05T09:00:00Z\nS2,2026-01-05T09:00:00Z\n");
    env.import("logins", "student_id,at\nS2,2026-01-11T09:00:00Z\n");
    let mut seen = Vec::new();
    for day in 5..=12 {
        run(&env, &format!("2026-01-{day:02}"));
        let alert = alerts_of(&env, "S1", "no_login").pop();
        seen.push(alert.map(|a| (a["severity"].as_str().unwrap().to_string(), a["count"].as_i64().unwrap())));
    }
    let expect = |s: &str, n: i64| Some((s.to_string(), n));
    assert_eq!(
        seen,
        vec![
            None,
            None,
            None,
            expect("warn", 3),
            expect("warn", 4),
            expect("escalate", 5),
            expect("escalate", 6),
            expect("critical", 7)
        ]
    );
    let s2 = alerts_of(&env, "S2", "no_login");
    assert_eq!(s2.len(), 1);
    assert_eq!(s2[0]["status"], "resolved", "S2 logged in on the 11th");
    assert!(s2[0]["program_id"] == "P1" && s2[0]["enrollment_id"].is_null());
    env.import("logins", "student_id,at\nS1,2026-01-12T18:00:00Z\n");
    assert_eq!(alerts_of(&env, "S1", "no_login")[0]["status"], "resolved", "a login import resolves at once");
}

#[test]
fn a_login_just_before_the_warn_window_counts_from_its_own_day_not_the_enrollment_start() {
    // S1 is enrolled from the 5th and last logs in on the 6th: on the 9th that is three days,
    // the day before the window of logins the job reads, which it must not take for the start.
    let env = program();
    env.import("logins", "student_id,at\nS1,2026-01-06T09:00:00Z\n");
    let mut seen = Vec::new();
    for day in 5..=10 {
        run(&env, &format!("2026-01-{day:02}"));
        seen.push(alerts_of(&env, "S1", "no_login").pop().map(|a| a["count"].as_i64().unwrap()));
    }
    assert_eq!(seen, vec![None, None, None, None, Some(3), Some(4)]);
}

#[test]
fn snooze_hides_until_its_time_or_a_rise_in_severity() {
    let env = program();
    run(&env, "2026-01-05");
    let id = attendance_alert(&env, "S1")["id"].to_string();
    let err = env.fails(4, &["alerts", "snooze", &id, "--until", "1d"]);
    assert!(err.contains("acknowledge it before snoozing"), "{err}");
    env.ok(&["--as", "ws_01", "alerts", "ack", &id, "--note", "calling her"]);
    let a = attendance_alert(&env, "S1");
    assert_eq!(
        (a["status"].as_str(), a["assigned_to"].as_str()),
        (Some("acknowledged"), Some("ws_01")),
        "ack claims it"
    );
    env.ok(&["--as", "ws_01", "alerts", "snooze", &id, "--until", "2d"]);
    assert_eq!(attendance_alert(&env, "S1")["status"], "snoozed");
    let live = env.json(&["alerts", "list", "--status", "open"]);
    assert!(live.as_array().unwrap().iter().all(|a| a["id"].as_i64() != id.parse().ok()), "hidden from the open list");
    run(&env, "2026-01-06");
    let a = attendance_alert(&env, "S1");
    assert_eq!((a["status"].as_str(), a["severity"].as_str()), (Some("open"), Some("escalate")), "severity rose");
    let shown = env.json(&["alerts", "show", &id]);
    let notes: Vec<&str> = shown["timeline"].as_array().unwrap().iter().filter_map(|e| e["note"].as_str()).collect();
    assert!(notes.contains(&"calling her"), "{notes:?}");
    assert!(notes.contains(&"severity rose"), "{notes:?}");
}

#[test]
fn a_snooze_ends_when_its_time_comes() {
    let env = program();
    run(&env, "2026-01-05");
    let id = attendance_alert(&env, "S1")["id"].to_string();
    env.ok(&["alerts", "ack", &id]);
    env.ok(&["alerts", "snooze", &id, "--until", "1h"]);
    assert_eq!(attendance_alert(&env, "S1")["status"], "snoozed");
    // An hour passes.
    env.sql().execute("UPDATE alerts SET snoozed_until = unixepoch('2000-01-01T00:00:00Z')", []).unwrap();
    assert_eq!(attendance_alert(&env, "S1")["status"], "open");
}

#[test]
fn alerts_are_assigned_only_to_people_who_may_see_the_student() {
    let env = program();
    run(&env, "2026-01-05");
    let id = attendance_alert(&env, "S1")["id"].to_string();
    let before = env.snapshot();
    let err = env.fails(3, &["alerts", "assign", &id, "--to", "ws_02"]);
    assert!(err.contains("ws_02 may not see student 'S1'"), "{err}");
    assert_eq!(env.snapshot(), before);
    env.fails(4, &["alerts", "assign", &id, "--to", "nobody"]);
    env.ok(&["alerts", "assign", &id, "--to", "sc_01", "--note", "yours"]);
    assert_eq!(attendance_alert(&env, "S1")["assigned_to"], "sc_01");
    env.ok(&["alerts", "assign", &id, "--to", "admin2"]);
}

#[test]
fn partners_see_and_touch_only_their_students_alerts() {
    let env = program();
    run(&env, "2026-01-05");
    let s1 = attendance_alert(&env, "S1")["id"].to_string();
    let s2 = attendance_alert(&env, "S2")["id"].to_string();
    let mine = env.json(&["--as", "ws_01", "alerts", "list"]);
    let students: Vec<&str> = mine.as_array().unwrap().iter().map(|a| a["student_id"].as_str().unwrap()).collect();
    assert!(students.iter().all(|s| *s == "S1") && !students.is_empty(), "{students:?}");
    let before = env.snapshot();
    let denied = env.fails(3, &["--as", "ws_01", "alerts", "ack", &s2]);
    assert!(denied.contains(&format!("ws_01 has no alert {s2}")) && !denied.contains("S2"), "names nothing: {denied}");
    let shown = env.fails(3, &["--as", "ws_01", "alerts", "show", &s2]);
    // An alert that does not exist gets the very same answer, so scanning IDs maps nothing.
    let missing = env.fails(3, &["--as", "ws_01", "alerts", "show", "987654"]);
    assert_eq!(shown.replace(&s2, "N"), missing.replace("987654", "N"));
    env.fails(3, &["--as", "ws_01", "alerts", "ack", &s1, &s2]);
    assert_eq!(env.snapshot(), before, "all or nothing: S1's alert was not acknowledged either");
    assert_eq!(env.json(&["--as", "sc_01", "alerts", "list"]).as_array().unwrap().len(), 2, "sc_01 has both students");
}

#[test]
fn a_resolved_streak_is_not_reopened_until_it_grows_past_its_level() {
    let env = program();
    run(&env, "2026-01-05");
    let first = attendance_alert(&env, "S1")["id"].to_string();
    env.ok(&["alerts", "resolve", &first, "--note", "family emergency, known"]);
    run(&env, "2026-01-06");
    let alerts = alerts_of(&env, "S1", "missing_attendance");
    assert_eq!(alerts.len(), 2, "escalate is past warn, so a new alert opens");
    assert_eq!(alerts[1]["severity"], "escalate");
    env.ok(&["alerts", "resolve", &alerts[1]["id"].to_string()]);
    run(&env, "2026-01-07");
    assert_eq!(alerts_of(&env, "S1", "missing_attendance").len(), 3, "critical opens again");
    let err = env.fails(4, &["alerts", "ack", &first]);
    assert!(err.contains("already resolved"), "{err}");
}

#[test]
fn thresholds_are_shown_and_changed_only_by_admins() {
    let env = program();
    let shown = env.json(&["alerts", "thresholds"]);
    assert_eq!(shown[0], serde_json::json!({"type": "missing_attendance", "warn": 1, "escalate": 2, "critical": 3}));
    assert_eq!(shown[1], serde_json::json!({"type": "no_login", "warn": 3, "escalate": 5, "critical": 7}));
    let args =
        ["alerts", "thresholds", "--type", "missing_attendance", "--warn", "2", "--escalate", "3", "--critical", "4"];
    let mut as_partner = vec!["--as", "sc_01"];
    as_partner.extend(args);
    env.fails(3, &as_partner);
    env.ok(&args);
    let entries = env.json(&["audit", "list"]);
    assert_eq!(entries.as_array().unwrap().last().unwrap()["action"], "alert.thresholds");
    run(&env, "2026-01-05");
    assert!(alerts_of(&env, "S1", "missing_attendance").is_empty(), "one missed day is below the new warn level");
    let bad = ["alerts", "thresholds", "--type", "no_login", "--warn", "5", "--escalate", "3", "--critical", "7"];
    assert!(env.fails(4, &bad).contains("warn <= escalate"));
}

#[test]
fn only_worksites_and_admins_log_attendance_for_their_students() {
    let env = program();
    let before = env.snapshot();
    let log_as = |who: &str, student: &str, date: &str| {
        env.run(&[
            "--as",
            who,
            "attendance",
            "log",
            "--student",
            student,
            "--program",
            "P1",
            "--date",
            date,
            "--status",
            "present",
        ])
    };
    assert_eq!(log_as("ws_01", "S2", "2026-01-05").code, 3, "not their student");
    assert_eq!(log_as("sc_01", "S1", "2026-01-05").code, 3, "coordinators verify, they do not log");
    assert_eq!(log_as("ws_01", "S1", "2999-01-05").code, 4, "future");
    assert_eq!(log_as("ws_01", "S1", "2025-12-31").code, 4, "before the enrollment");
    let hours = env.run(&[
        "attendance",
        "log",
        "--student",
        "S1",
        "--program",
        "P1",
        "--date",
        "2026-01-05",
        "--status",
        "present",
        "--hours",
        "7.3",
    ]);
    assert_eq!(hours.code, 4, "{}", hours.stderr);
    assert_eq!(env.snapshot(), before);
    assert_eq!(log_as("ws_01", "S1", "2026-01-05").code, 0);
}

#[test]
fn alerts_about_a_withdrawn_enrollment_are_resolved_by_the_next_run() {
    let env = program();
    run(&env, "2026-01-05");
    assert_eq!(attendance_alert(&env, "S1")["status"], "open");
    env.import("enrollments", "enrollment_id,student_id,program_id,start_date,status\nE1,S1,P1,2026-01-05,withdrawn\n");
    run(&env, "2026-01-06");
    let a = attendance_alert(&env, "S1");
    assert_eq!(a["status"], "resolved");
    let shown = env.json(&["alerts", "show", &a["id"].to_string()]);
    let last = shown["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["note"], "auto: the enrollment is no longer active");
    assert_eq!(attendance_alert(&env, "S2")["count"], 2, "S2 goes on");
}

#[test]
fn only_who_acknowledged_takes_it_back_and_the_alert_is_open_again() {
    let env = program();
    run(&env, "2026-01-05");
    let id = attendance_alert(&env, "S1")["id"].to_string();
    assert!(env.fails(4, &["alerts", "reopen", &id]).contains("not acknowledged"));
    env.ok(&["--as", "ws_01", "alerts", "ack", &id]);
    let denied = env.fails(3, &["--as", "sc_01", "alerts", "reopen", &id]);
    assert!(denied.contains("acknowledged by ws_01"), "{denied}");
    env.ok(&["--as", "ws_01", "alerts", "reopen", &id]);
    let a = attendance_alert(&env, "S1");
    assert_eq!((a["status"].as_str(), a["assigned_to"].as_str()), (Some("open"), None));
    // An admin may, and may give it back to someone who may see the student.
    env.ok(&["--as", "ws_01", "alerts", "ack", &id]);
    env.ok(&["alerts", "reopen", &id, "--to", "sc_01"]);
    let a = attendance_alert(&env, "S1");
    assert_eq!((a["status"].as_str(), a["assigned_to"].as_str()), (Some("open"), Some("sc_01")));
    let shown = env.json(&["alerts", "show", &id]);
    let kinds: Vec<&str> = shown["timeline"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "reopened").count(), 2, "{kinds:?}");
    env.ok(&["audit", "verify"]);
}

/// The alerts and timelines the job wrote, without the wall-clock times they were written at.
fn written_by_the_job(env: &Env) -> (Vec<String>, Vec<String>) {
    let conn = env.sql();
    let rows = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        stmt.query_map([], |r| {
            (0..columns).map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}"))).collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    (
        rows(
            "SELECT id, type, severity, status, student, enrollment, program, count, first_missed, escalated,
                     as_of, streak_start, resolved_by FROM alerts ORDER BY id",
        ),
        rows("SELECT id, alert, actor, kind, run_date, note FROM alert_events ORDER BY id"),
    )
}

/// A churn demo of `students` over `days` whose job last ran on `processed`, with no alerts or
/// digests yet, and a copy of it.
fn churn_and_its_copy(students: &str, days: &str, seed: &str, processed: &str) -> (Env, Env) {
    let (env, copy) = (Env::new(), Env::new());
    env.ok(&[
        "demo",
        "--students",
        students,
        "--days",
        days,
        "--seed",
        seed,
        "--today",
        "2026-03-31",
        "--profile",
        "churn",
    ]);
    env.sql()
        .execute_batch(&format!(
            "DELETE FROM alert_events; DELETE FROM alerts; DELETE FROM digests;
             UPDATE job_state SET value = '{processed}'
              WHERE key IN ('alerts_processed_through', 'alerts_first_processed');"
        ))
        .unwrap();
    for suffix in ["", ".audit-key"] {
        std::fs::copy(format!("{}{suffix}", env.db.display()), format!("{}{suffix}", copy.db.display())).unwrap();
    }
    (env, copy)
}

/// A catch-up's days reuse what the day before read (enrollments, who was present, the latest
/// logins); on churning data it must write what running each day on its own writes.
#[test]
fn a_churn_catch_up_writes_what_its_days_run_one_by_one_write() {
    // The default levels, then levels under which a missed day after a present one opens
    // nothing, so the next day's streak hangs on who was present the session day before.
    for (missed, no_login) in [(["1", "2", "3"], ["3", "5", "7"]), (["2", "3", "4"], ["4", "6", "8"])] {
        let (caught_up, daily) = churn_and_its_copy("1000", "60", "3", "2026-03-09");
        for env in [&caught_up, &daily] {
            for (kind, [warn, escalate, critical]) in [("missing_attendance", missed), ("no_login", no_login)] {
                let levels = ["--warn", warn, "--escalate", escalate, "--critical", critical];
                env.ok(&[&["alerts", "thresholds", "--type", kind][..], &levels].concat());
            }
        }
        caught_up.ok(&["alerts", "run", "--date", "2026-03-30"]);
        for day in 10..=30 {
            daily.ok(&["alerts", "run", "--date", &format!("2026-03-{day}")]);
        }
        let (alerts, timeline) = written_by_the_job(&caught_up);
        assert!(alerts.len() > 500 && timeline.len() > 1500, "churn opens and closes alerts every day");
        assert_eq!((alerts, timeline), written_by_the_job(&daily), "levels {missed:?} {no_login:?}");
    }
}

/// Two catch-ups started together (cron and a person, two daemons): one processes each day, the
/// other waits and finds it done; the alerts, timelines and digests are those of one run.
#[test]
fn two_catch_ups_at_once_process_each_day_once() {
    let (twice, once) = churn_and_its_copy("1000", "60", "3", "2026-03-09");
    once.ok(&["alerts", "run", "--date", "2026-03-30"]);
    let job = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .arg("--db")
            .arg(&twice.db)
            .args(["alerts", "run", "--date", "2026-03-30"])
            .env("XDG_DATA_HOME", twice.dir.path().join("data"))
            .output()
            .unwrap()
    };
    let (first, second) = std::thread::scope(|s| {
        let first = s.spawn(job);
        let second = s.spawn(job);
        (first.join().unwrap(), second.join().unwrap())
    });
    for ran in [&first, &second] {
        assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    }
    assert_eq!(written_by_the_job(&twice), written_by_the_job(&once));
    let digests = |env: &Env| env.count("digests");
    assert!(digests(&once) > 0, "the demo's people get digests");
    assert_eq!(digests(&twice), digests(&once), "one digest per person for the day");
    twice.ok(&["audit", "verify"]);
}

/// A kill -9 in the middle of a catch-up: the days it finished stay, the day it was on leaves
/// nothing, and running it again ends where an uninterrupted catch-up does, alert for alert.
#[test]
fn a_catch_up_killed_midway_resumes_to_the_same_alerts() {
    let (killed, whole) = churn_and_its_copy("2000", "90", "7", "2026-02-18");
    whole.ok(&["alerts", "run", "--date", "2026-03-30"]);

    let mut job = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--db")
        .arg(&killed.db)
        .args(["alerts", "run", "--date", "2026-03-30"])
        .env("XDG_DATA_HOME", killed.dir.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let processed = || -> String {
        killed
            .sql()
            .query_row("SELECT value FROM job_state WHERE key = 'alerts_processed_through'", [], |r| r.get(0))
            .unwrap()
    };
    let started = std::time::Instant::now();
    while processed().as_str() < "2026-02-24" && started.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: kill only sends a signal to our own child.
    unsafe { libc::kill(job.id() as libc::pid_t, libc::SIGKILL) };
    job.wait().unwrap();
    let reached = processed();
    assert!(("2026-02-24".."2026-03-30").contains(&reached.as_str()), "killed midway, not at {reached}");

    killed.ok(&["alerts", "run", "--date", "2026-03-30"]);
    let (alerts, timeline) = written_by_the_job(&killed);
    assert!(alerts.len() > 1_000, "the demo's churn opens alerts every day: {}", alerts.len());
    assert_eq!((alerts, timeline), written_by_the_job(&whole));
    killed.ok(&["audit", "verify"]);
}
