//! `muster export`: scoped rows with hand-computed expectations, CSV and JSON, a file that
//! appears only whole, and an audit entry for every export.

use crate::fixtures::organisation_with;
use crate::harness::Env;
use serde_json::Value;
use std::time::{Duration, Instant};

const STUDENTS: &str = "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,\"Li, Jr.\"\n";

/// Two students, four days logged: S1 present 6 h on the 5th and absent on the 6th; S2 present
/// 8 h on the 5th and excused on the 7th. The job has run for the 5th and the 6th.
fn logged() -> Env {
    let env = organisation_with(STUDENTS);
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
    let mut child = env.spawn(&["export", "attendance", "--out", out.to_str().unwrap()]);
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

/// The `logged` data with S2's day present on the 5th verified, S2's enrollment completed on the
/// 9th with a credential (PIRL code 2) that day and a milestone on the 8th — recorded straight
/// into the file, as muster has no command for progress events yet.
fn with_outcomes() -> Env {
    let env = logged();
    let id: i64 = env
        .sql()
        .query_row("SELECT a.id FROM attendance a JOIN students s ON s.id = a.student WHERE s.student_id = 'S2' AND a.date = '2026-01-05'", [], |r| r.get(0))
        .unwrap();
    // As if a worksite had logged it, so that four eyes let the coordinator verify it.
    env.sql()
        .execute("UPDATE attendance SET logged_by = 'ws_01', logged_by_person = NULL WHERE id = ?1", [id])
        .unwrap();
    env.ok(&["--as", "sc_01", "attendance", "verify", &id.to_string()]);
    env.import(
        "enrollments",
        "enrollment_id,student_id,program_id,start_date,end_date,status\nE2,S2,P1,2026-01-05,2026-01-09,completed\n",
    );
    let sql = env.sql();
    for (kind, at, detail) in
        [("milestone", "2026-01-08T15:00:00Z", "welding basics"), ("credential", "2026-01-09T10:00:00Z", "2")]
    {
        sql.execute(
            "INSERT INTO progress_events (enrollment, kind, at, detail, recorded_by)
             SELECT id, ?1, ?2, ?3, 'registrar' FROM enrollments WHERE enrollment_id = 'E2'",
            [kind, at, detail],
        )
        .unwrap();
    }
    env
}

fn table(csv: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn wioa_is_one_pirl_row_per_period_of_participation() {
    let env = with_outcomes();
    let rows = table(&env.ok(&["export", "wioa", "--to", "2026-01-09"]));
    assert_eq!(rows[0][0], "100 Unique Individual Identifier");
    assert_eq!(
        rows[0][7], "1308 Date Completed, or Withdrew from, Training #1",
        "a header with commas stays one column"
    );
    // 100, 900, 901, 1300, 1302, 1303, 1307, 1308, 1800, 1801, 1809.
    assert_eq!(rows[1], ["S1", "20260105", "", "1", "20260105", "06", "", "", "", "", ""]);
    assert_eq!(
        rows[2],
        ["S2", "20260105", "20260109", "1", "20260105", "06", "1", "20260109", "2", "20260109", "20260108"]
    );
    assert_eq!(rows.len(), 3);
    // A partner's file holds their students only.
    let theirs = table(&env.ok(&["--as", "ws_01", "export", "wioa"]));
    assert_eq!(theirs.iter().skip(1).map(|r| r[0].as_str()).collect::<Vec<_>>(), ["S1"]);
    // A state's own map: another order, another code for the program.
    let map = env.file(
        "state.toml",
        "name = \"State X\"\ndate_format = \"%m/%d/%Y\"\nyes = \"Y\"\nno = \"N\"\n[training_type]\nP1 = \"09\"\n\
         [[column]]\nheader = \"PIRL 1303\"\nsource = \"training_type\"\n[[column]]\nheader = \"PIRL 100\"\nsource = \"student_id\"\n\
         [[column]]\nheader = \"PIRL 1307\"\nsource = \"training_completed\"\n[[column]]\nheader = \"PIRL 900\"\nsource = \"entry_date\"\n",
    );
    let state = table(&env.ok(&["export", "wioa", "--map", &map]));
    assert_eq!(state[2], ["09", "S2", "Y", "01/05/2026"]);
}

#[test]
fn wrg_and_jri_count_verified_hours_and_attendance_with_excused_days_set_aside() {
    let env = with_outcomes();
    let rows = table(&env.ok(&["export", "wrg", "--to", "2026-01-09"]));
    assert_eq!(
        rows[0],
        [
            "student_id",
            "enrollment_id",
            "program_id",
            "program",
            "start_date",
            "end_date",
            "status",
            "contact_hours_verified",
            "attendance_rate",
            "completed",
            "credential",
            "credential_date"
        ]
    );
    // S1: present 1 of the 5 session days of 5–9 January, 6 hours not yet verified.
    assert_eq!(rows[1], ["S1", "E1", "P1", "Welding", "2026-01-05", "", "active", "0.00", "0.20", "", "", ""]);
    // S2: present 1, excused 1 of 5 days: 1 of 4; 8 verified hours; completed with a credential.
    assert_eq!(
        rows[2],
        [
            "S2",
            "E2",
            "P1",
            "Welding",
            "2026-01-05",
            "2026-01-09",
            "completed",
            "8.00",
            "0.25",
            "yes",
            "2",
            "2026-01-09"
        ]
    );
    let jri = table(&env.ok(&["export", "jri", "--to", "2026-01-09", "--format", "csv"]));
    assert_eq!(jri[1..], rows[1..], "the same facts under the JRI map");
}

/// A file for a period that ended counts attendance up to its end, as it counts session days:
/// an excused day after it does not shrink the days its rate is out of.
#[test]
fn a_funder_file_for_a_period_counts_attendance_up_to_its_end() {
    let env = with_outcomes();
    let rows = table(&env.ok(&["export", "wrg", "--to", "2026-01-06"]));
    // S1: present on the 5th, absent on the 6th: 1 of 2. S2: present on the 5th (8 hours,
    // verified), nothing on the 6th, excused only on the 7th: 1 of 2.
    let rate_and_hours = |row: &[String]| (row[0].clone(), row[7].clone(), row[8].clone());
    assert_eq!(rate_and_hours(&rows[1]), ("S1".into(), "0.00".into(), "0.50".into()));
    assert_eq!(rate_and_hours(&rows[2]), ("S2".into(), "8.00".into(), "0.50".into()));
}

#[test]
fn an_id_a_funder_may_not_receive_stops_the_file() {
    let env = logged();
    env.import("students", "student_id,first_name,last_name\n123-45-6789,Cy,Ng\n");
    env.import(
        "enrollments",
        "enrollment_id,student_id,program_id,start_date,status\nE3,123-45-6789,P1,2026-01-05,active\n",
    );
    let out = env.dir.path().join("wioa.csv");
    let ran = env.run(&["export", "wioa", "--out", out.to_str().unwrap()]);
    assert_eq!(ran.code, 4, "{}", ran.stderr);
    assert!(ran.stderr.contains("Social Security") && !ran.stderr.contains("6789"), "{}", ran.stderr);
    assert!(!out.exists(), "no file");
    assert_eq!(table(&env.ok(&["export", "wrg"])).len(), 4, "WRG's map sets no such rule");
}
