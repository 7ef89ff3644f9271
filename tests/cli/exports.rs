//! `muster export`: scoped rows with hand-computed expectations, CSV and JSON, a file that
//! appears only whole, and an audit entry for every export.

use crate::harness::Env;
use serde_json::Value;
use std::time::{Duration, Instant};

const PROGRAMS: &str = "program_id,name,schedule,start_date\nP1,Welding,Mon-Fri,2026-01-05\n";
const STUDENTS: &str = "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,\"Li, Jr.\"\n";
const ENROLLMENTS: &str = "enrollment_id,student_id,program_id,start_date,status\n\
E1,S1,P1,2026-01-05,active\nE2,S2,P1,2026-01-05,active\n";
const USERS: &str =
    "login,name,role,onboarded\nws_01,Wanda Site,worksite,true\nsc_01,Sam Coord,site_coordinator,true\n";
const ASSIGNMENTS: &str = "login,student_id\nws_01,S1\nsc_01,S1\nsc_01,S2\n";

/// Two students, four days logged: S1 present 6 h on the 5th and absent on the 6th; S2 present
/// 8 h on the 5th and excused on the 7th. The job has run for the 5th and the 6th.
fn logged() -> Env {
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
    for (student, date, status, hours) in [
        ("S1", "2026-01-05", "present", Some("6")),
        ("S1", "2026-01-06", "absent", None),
        ("S2", "2026-01-05", "present", Some("8")),
        ("S2", "2026-01-07", "excused", None),
    ] {
        let mut args =
            vec!["attendance", "log", "--student", student, "--program", "P1", "--date", date, "--status", status];
        if let Some(h) = hours {
            args.extend(["--hours", h]);
        }
        env.ok(&args);
    }
    env.ok(&["alerts", "run", "--date", "2026-01-05"]);
    env.ok(&["alerts", "run", "--date", "2026-01-06"]);
    env
}

/// The first `n` columns of each data line.
fn leading(csv: &str, n: usize) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    reader.records().map(|r| r.unwrap().iter().take(n).collect::<Vec<_>>().join("|")).collect()
}

#[test]
fn attendance_is_every_record_one_may_see_in_key_order() {
    let env = logged();
    let all = env.ok(&["export", "attendance"]);
    assert!(all.starts_with("student_id,first_name,last_name,program_id,date,status,hours,verification,"), "{all}");
    assert_eq!(
        leading(&all, 8),
        [
            "S1|Ann|Lee|P1|2026-01-05|present|6|pending",
            "S1|Ann|Lee|P1|2026-01-06|absent||pending",
            "S2|Bo|Li, Jr.|P1|2026-01-05|present|8|pending",
            "S2|Bo|Li, Jr.|P1|2026-01-07|excused||pending",
        ]
    );
    assert!(all.contains("\"Li, Jr.\""), "a comma is quoted: {all}");
    // A worksite exports exactly its own student.
    let theirs = env.ok(&["--as", "ws_01", "export", "attendance"]);
    assert_eq!(leading(&theirs, 5), ["S1|Ann|Lee|P1|2026-01-05", "S1|Ann|Lee|P1|2026-01-06"]);
    // Days are inclusive at both ends.
    let one_day = env.ok(&["export", "attendance", "--from", "2026-01-06", "--to", "2026-01-06"]);
    assert_eq!(leading(&one_day, 6), ["S1|Ann|Lee|P1|2026-01-06|absent"]);
    let json: Value =
        serde_json::from_str(&env.ok(&["export", "attendance", "--format", "json", "--from", "2026-01-07"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!((json[0]["student_id"].as_str(), json[0]["status"].as_str()), (Some("S2"), Some("excused")));
    assert_eq!(json[0]["hours"], Value::Null);
}

#[test]
fn alerts_and_the_audit_log_are_scoped_and_every_export_is_audited() {
    let env = logged();
    // On the 6th S1 was absent and S2 had nothing logged: one missed session day each.
    let alerts = env.ok(&["export", "alerts"]);
    let lines: Vec<String> =
        leading(&alerts, 9).into_iter().map(|l| l.split_once('|').unwrap().1.to_string()).collect();
    assert_eq!(
        lines,
        ["missing_attendance|warn|open|S1|Ann|Lee|P1|1", "missing_attendance|warn|open|S2|Bo|Li, Jr.|P1|1"]
    );
    let theirs = env.ok(&["--as", "ws_01", "export", "alerts"]);
    assert_eq!(leading(&theirs, 5).len(), 1, "{theirs}");
    assert!(theirs.contains(",S1,") && !theirs.contains(",S2,"), "{theirs}");

    let denied = env.run(&["--as", "sc_01", "export", "audit"]);
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    assert!(denied.stdout.is_empty(), "nothing written before the refusal: {}", denied.stdout);
    let audit = env.ok(&["export", "audit"]);
    assert!(audit.contains("export.attendance") || audit.contains("export.alerts"), "{audit}");
    let exports: Vec<String> = env
        .sql()
        .prepare("SELECT action || ' ' || actor || ' ' || ifnull(acting_as, '-') FROM audit_log WHERE action LIKE 'export.%' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let me = crate::harness::me();
    assert_eq!(
        exports,
        [format!("export.alerts {me} -"), format!("export.alerts {me} ws_01"), format!("export.audit {me} -")]
    );
}

#[test]
fn a_file_appears_only_when_whole() {
    let env = logged();
    let out = env.dir.path().join("year.csv");
    let said = env.run(&["export", "attendance", "--out", out.to_str().unwrap()]);
    assert_eq!(said.code, 0, "{}", said.stderr);
    assert!(said.stderr.contains("4 rows exported"), "{}", said.stderr);
    assert_eq!(leading(&std::fs::read_to_string(&out).unwrap(), 1).len(), 4);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600, "people's records: owner only");
    // Exported again, narrower: the file is replaced whole.
    env.ok(&["export", "attendance", "--out", out.to_str().unwrap(), "--from", "2026-01-07"]);
    assert_eq!(leading(&std::fs::read_to_string(&out).unwrap(), 1), ["S2"]);
    let nowhere = env.run(&["export", "attendance", "--out", "/nonexistent/dir/x.csv"]);
    assert_eq!(nowhere.code, 4, "{}", nowhere.stderr);
    let backwards = env.run(&["export", "attendance", "--from", "2026-02-01", "--to", "2026-01-01"]);
    assert_eq!(backwards.code, 4);
}

#[test]
fn an_export_killed_midway_leaves_no_file_behind() {
    let env = Env::new();
    env.ok(&["demo", "--students", "1500", "--days", "120", "--today", "2026-03-02"]);
    let dir = env.dir.path().join("exports");
    std::fs::create_dir(&dir).unwrap();
    let out = dir.join("attendance.csv");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["--db", env.db.to_str().unwrap(), "export", "attendance", "--out", out.to_str().unwrap()])
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .env("HOME", env.dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed while its file, not yet named, is open in the target directory.
    let fds = format!("/proc/{}/fd", child.id());
    let started = Instant::now();
    let writing = loop {
        let open_unnamed = std::fs::read_dir(&fds).into_iter().flatten().flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|to| to.starts_with(&dir) && to.to_string_lossy().ends_with("(deleted)"))
        });
        if open_unnamed {
            break true;
        }
        if child.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(30) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(writing, "the export was seen writing its unnamed file");
    // SAFETY: kill on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();
    assert!(!out.exists(), "no half-written file under the name");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "and nothing beside it");
}
