//! Attendance: logging, the verification queue, and who may do what (issue: attendance).

use crate::harness::organisation;
use serde_json::Value;

fn records(env: &crate::harness::Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["attendance", "list"];
    all.extend(args);
    env.json(&all).as_array().unwrap().clone()
}

/// The record's ID, as the command line takes it.
fn record_id(env: &crate::harness::Env, student: &str, date: &str) -> String {
    records(env, &["--student", student])
        .into_iter()
        .find(|r| r["date"] == date)
        .and_then(|r| r["id"].as_i64())
        .expect("the record exists")
        .to_string()
}

fn is(record: &Value, id: &str) -> bool {
    record["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id)
}

fn log_as(env: &crate::harness::Env, who: &str, student: &str, date: &str, hours: &str) {
    env.ok(&[
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
        "--hours",
        hours,
    ]);
    env.as_if_partners_logged_from_their_own_accounts();
}

#[test]
fn a_coordinator_verifies_what_a_worksite_logged() {
    let env = organisation();
    log_as(&env, "ws_01", "S1", "2026-01-07", "6.5");
    let id = record_id(&env, "S1", "2026-01-07");
    let pending = records(&env, &["--pending"]);
    assert!(pending.iter().any(|r| is(r, &id)));
    env.ok(&["--as", "sc_01", "attendance", "verify", &id]);
    let r = records(&env, &["--student", "S1"]).into_iter().find(|r| is(r, &id)).unwrap();
    assert_eq!(
        (r["verification"].as_str(), r["verified_by"].as_str(), r["logged_by"].as_str()),
        (Some("verified"), Some("sc_01"), Some("ws_01"))
    );
    assert_eq!(r["hours"], 6.5);
    assert!(r["verified_at"].is_string());
    assert!(!records(&env, &["--pending"]).iter().any(|r| is(r, &id)));
}

#[test]
fn logging_the_same_day_again_updates_it_and_sends_it_back_to_pending() {
    let env = organisation();
    log_as(&env, "ws_01", "S1", "2026-01-07", "6");
    let id = record_id(&env, "S1", "2026-01-07");
    env.ok(&["--as", "sc_01", "attendance", "verify", &id]);
    log_as(&env, "ws_01", "S1", "2026-01-07", "7.25");
    let r = records(&env, &["--student", "S1"]).into_iter().find(|r| is(r, &id)).unwrap();
    assert_eq!((r["verification"].as_str(), r["hours"].as_f64()), (Some("pending"), Some(7.25)));
    assert!(r["verified_by"].is_null());
    let audit = env.json(&["audit", "list"]);
    let changes: Vec<&Value> =
        audit.as_array().unwrap().iter().filter(|e| e["entity_id"] == "S1/P1/2026-01-07").collect();
    assert_eq!(changes.len(), 2, "both loggings are audited");
}

#[test]
fn every_refusal_writes_nothing() {
    let env = organisation();
    log_as(&env, "ws_01", "S1", "2026-01-07", "6");
    env.ok(&[
        "--as",
        "ws_01",
        "attendance",
        "log",
        "--student",
        "S3",
        "--program",
        "P2",
        "--date",
        "2026-01-07",
        "--status",
        "present",
    ]);
    let s1 = record_id(&env, "S1", "2026-01-07");
    let s3 = record_id(&env, "S3", "2026-01-07");
    let imported = record_id(&env, "S1", "2026-01-05");
    let before = env.snapshot();
    assert!(
        env.fails(3, &["--as", "ws_01", "attendance", "verify", &s1])
            .contains("coordinators and program holders verify")
    );
    assert!(
        env.fails(3, &["--as", "sc_01", "attendance", "verify", &s3]).contains("sc_01 has no attendance record"),
        "S3 is not sc_01's"
    );
    assert!(env.fails(3, &["attendance", "verify", &imported]).contains("logged by you"), "the admin imported it");
    env.fails(3, &["--as", "sc_01", "attendance", "verify", &s1, &s3]);
    env.fails(4, &["--as", "sc_01", "attendance", "reject", &s1, "--reason", "  "]);
    env.fails(2, &["--as", "sc_01", "attendance", "reject", &s1]);
    assert!(
        env.fails(3, &["--as", "sc_01", "attendance", "verify", "999999"]).contains("sc_01 has no attendance record")
    );
    env.fails(4, &["attendance", "verify", "999999"]);
    assert_eq!(env.snapshot(), before, "all or nothing: not even s1 was verified");
    env.ok(&["--as", "sc_01", "attendance", "verify", &s1]);
    assert!(env.fails(4, &["--as", "sc_01", "attendance", "verify", &s1]).contains("already verified"));
}

#[test]
fn a_rejection_keeps_its_reason_and_a_rejected_present_day_counts_as_missed() {
    let env = organisation();
    log_as(&env, "ws_01", "S1", "2026-01-07", "6");
    env.ok(&["alerts", "run", "--date", "2026-01-07"]);
    let before = env.json(&["alerts", "list", "--type", "missing_attendance"]);
    assert!(!before.as_array().unwrap().iter().any(|a| a["student_id"] == "S1"), "S1 was present");
    let id = record_id(&env, "S1", "2026-01-07");
    let out = env.ok(&["--as", "sc_01", "attendance", "reject", &id, "--reason", "not on the sign-in sheet"]);
    assert!(out.contains("rejected record"), "{out}");
    let r = records(&env, &["--student", "S1"]).into_iter().find(|r| is(r, &id)).unwrap();
    assert_eq!(
        (r["verification"].as_str(), r["reason"].as_str()),
        (Some("rejected"), Some("not on the sign-in sheet"))
    );
    let after = env.json(&["alerts", "list", "--type", "missing_attendance"]);
    assert!(after.as_array().unwrap().iter().any(|a| a["student_id"] == "S1"), "the rejection re-evaluated S1 at once");
}

#[test]
fn lists_filter_by_week_and_partners_see_only_their_students() {
    let env = organisation();
    log_as(&env, "ws_01", "S1", "2026-01-13", "6");
    let week = records(&env, &["--week", "2026-W03"]);
    assert_eq!(week.len(), 1, "12–18 January");
    assert_eq!(week[0]["date"], "2026-01-13");
    assert_eq!(records(&env, &["--week", "2026-W02"]).len(), 3, "the imported records of 5–6 January");
    let theirs = env.json(&["--as", "ws_01", "attendance", "list"]);
    assert!(theirs.as_array().unwrap().iter().all(|r| r["student_id"] == "S1" || r["student_id"] == "S3"));
    env.fails(2, &["attendance", "list", "--week", "2026-13"]);
}

#[test]
fn turnaround_is_reported_per_verifier() {
    let env = organisation();
    for day in ["07", "08", "09"] {
        log_as(&env, "ws_01", "S1", &format!("2026-01-{day}"), "6");
    }
    let ids: Vec<String> = records(&env, &["--pending", "--student", "S1"])
        .iter()
        .filter(|r| r["logged_by"] == "ws_01")
        .map(|r| r["id"].to_string())
        .collect();
    let mut args = vec!["--as", "sc_01", "attendance", "verify"];
    args.extend(ids.iter().map(String::as_str));
    env.ok(&args);
    let report = env.json(&["attendance", "turnaround", "--from", "2026-01-01", "--to", "2026-01-31"]);
    assert_eq!(report[0]["verifier"], "sc_01");
    assert_eq!(report[0]["decisions"], 3);
    assert_eq!(report[0]["within_24h"], 1.0);
    env.fails(3, &["--as", "ws_01", "attendance", "turnaround"]);
}

#[test]
fn verified_hours_become_contact_hours() {
    let env = organisation();
    log_as(&env, "ws_01", "S1", "2026-01-07", "6.5");
    log_as(&env, "ws_01", "S1", "2026-01-08", "7");
    let ids: Vec<String> = ["2026-01-07", "2026-01-08"].iter().map(|d| record_id(&env, "S1", d)).collect();
    env.ok(&["--as", "sc_01", "attendance", "verify", &ids[0], &ids[1]]);
    let shown = env.json(&["students", "show", "S1"]);
    // The imported 6.5 hours of 5 January are still pending, so they do not count yet.
    assert_eq!(shown["enrollments"][0]["contact_hours"], 13.5);
}

#[test]
fn a_worksite_takes_back_only_a_pending_day_it_logged_itself() {
    let env = organisation();
    fn retract<'a>(who: &'a str, student: &'a str, date: &'a str) -> [&'a str; 10] {
        ["--as", who, "attendance", "retract", "--student", student, "--program", "P1", "--date", date]
    }
    log_as(&env, "ws_01", "S1", "2026-01-07", "6.5");
    log_as(&env, "ws_01", "S1", "2026-01-08", "5");
    env.ok(&["--as", "sc_01", "attendance", "verify", &record_id(&env, "S1", "2026-01-08")]);
    let before = records(&env, &[]);

    // A coordinator verifies; taking back is for whoever logs.
    env.fails(3, &retract("sc_01", "S1", "2026-01-07"));
    // The admin imported this day: not ws_01's to take back.
    assert!(env.fails(3, &retract("ws_01", "S1", "2026-01-05")).contains("was logged by"));
    // S2 is not ws_01's student: the same answer as for nothing at all.
    env.fails(3, &retract("ws_01", "S2", "2026-01-05"));
    assert!(env.fails(4, &retract("ws_01", "S1", "2026-01-09")).contains("not found"));
    // A decided record stays as decided.
    let decided = env.fails(4, &retract("ws_01", "S1", "2026-01-08"));
    assert!(decided.contains("verified by sc_01; a decided record is not taken back"), "{decided}");
    assert_eq!(records(&env, &[]), before, "every refusal wrote nothing");

    env.ok(&retract("ws_01", "S1", "2026-01-07"));
    let after = records(&env, &["--student", "S1"]);
    assert!(after.iter().all(|r| r["date"] != "2026-01-07"), "{after:?}");
    assert_eq!(after.len(), before.iter().filter(|r| r["student_id"] == "S1").count() - 1);
    let audit = env.json(&["audit", "list"]);
    let taken_back = audit.as_array().unwrap().iter().find(|e| e["action"] == "attendance.retract").expect("audited");
    assert_eq!(taken_back["entity_id"], "S1/P1/2026-01-07");
    let change: Value = serde_json::from_str(taken_back["change"].as_str().unwrap()).unwrap();
    assert_eq!((change["before"]["hours"].as_f64(), &change["after"]), (Some(6.5), &Value::Null));
    env.ok(&["audit", "verify"]);
}

#[test]
fn only_who_decided_takes_a_decision_back() {
    let env = organisation();
    log_as(&env, "ws_01", "S1", "2026-01-07", "6.5");
    let id = record_id(&env, "S1", "2026-01-07");
    env.ok(&["--as", "sc_01", "attendance", "reject", &id, "--reason", "no sign-in sheet"]);
    // The worksite cannot, nor can anyone for a record still pending.
    env.fails(3, &["--as", "ws_01", "attendance", "reopen", &id]);
    assert!(env.ok(&["--as", "sc_01", "attendance", "reopen", &id]).contains("waits for verification again"));
    assert!(env.fails(4, &["--as", "sc_01", "attendance", "reopen", &id]).contains("not decided yet"));
    let r = records(&env, &["--student", "S1"]).into_iter().find(|r| is(r, &id)).unwrap();
    assert_eq!(
        (r["verification"].as_str(), r["verified_by"].as_str(), r["reason"].as_str()),
        (Some("pending"), None, None)
    );
    let audit = env.json(&["audit", "list"]);
    let reopened = audit.as_array().unwrap().iter().find(|e| e["action"] == "attendance.reopen").expect("audited");
    let change: Value = serde_json::from_str(reopened["change"].as_str().unwrap()).unwrap();
    assert_eq!(change["before"]["reason"], "no sign-in sheet");
}
