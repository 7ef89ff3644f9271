//! `muster report`: figures computed by hand from a few alerts with known times.

use crate::fixtures::{ENROLLMENTS, PROGRAMS, STUDENTS, organisation_with};
use crate::harness::Env;

/// One missed-day alert each for S1 and S2, both opened 2026-01-06 08:00 UTC. S1's was
/// acknowledged at 20:00 the same day (12 h) and resolved on the 8th at 08:00 (48 h); S2's was
/// acknowledged on the 8th at 08:00 (48 h) and is still open. The job's times are set to these,
/// as the source system would have them.
fn alerts_with_known_times() -> Env {
    let env = organisation_with(STUDENTS);
    env.ok(&["alerts", "run", "--date", "2026-01-05"]);
    let alert = |student: &str| -> String {
        env.sql()
            .query_row(
                "SELECT a.id FROM alerts a JOIN students s ON s.id = a.student WHERE s.student_id = ?1 AND a.type = 1",
                [student],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            .to_string()
    };
    let (a1, a2) = (alert("S1"), alert("S2"));
    env.ok(&["--as", "sc_01", "alerts", "ack", &a1]);
    env.ok(&["--as", "sc_01", "alerts", "ack", &a2]);
    env.ok(&["--as", "sc_01", "alerts", "resolve", &a1]);
    let sql = env.sql();
    sql.execute("UPDATE alerts SET opened_at = unixepoch('2026-01-06T08:00:00Z') WHERE id IN (?1, ?2)", [&a1, &a2])
        .unwrap();
    sql.execute("UPDATE alerts SET resolved_at = unixepoch('2026-01-08T08:00:00Z') WHERE id = ?1", [&a1]).unwrap();
    sql.execute(
        "UPDATE alert_events SET at = unixepoch('2026-01-06T20:00:00Z') WHERE alert = ?1 AND kind = 'acknowledged'",
        [&a1],
    )
    .unwrap();
    sql.execute(
        "UPDATE alert_events SET at = unixepoch('2026-01-08T08:00:00Z') WHERE alert = ?1 AND kind = 'acknowledged'",
        [&a2],
    )
    .unwrap();
    env
}

#[test]
fn alert_response_per_partner_by_hand() {
    let env = alerts_with_known_times();
    let report = env.json(&["report", "alert-response", "--from", "2026-01-01", "--to", "2026-01-31"]);
    let rows = report.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    // Sam (S1 and S2): acknowledged after 12 h and 48 h — median (nearest rank) 12, p95 48, one
    // of two within a day; one resolved, after 48 h.
    let sam = &rows[0];
    assert_eq!(sam["partner"], "sc_01");
    assert_eq!((sam["alerts"].as_u64(), sam["acknowledged"].as_u64()), (Some(2), Some(2)));
    assert_eq!((sam["median_hours_to_ack"].as_f64(), sam["p95_hours_to_ack"].as_f64()), (Some(12.0), Some(48.0)));
    assert_eq!(sam["acked_within_24h"].as_f64(), Some(0.5));
    assert_eq!((sam["resolved"].as_u64(), sam["median_hours_to_resolve"].as_f64()), (Some(1), Some(48.0)));
    // Wanda (S1 only).
    let wanda = &rows[1];
    assert_eq!(wanda["partner"], "ws_01");
    assert_eq!((wanda["alerts"].as_u64(), wanda["p95_hours_to_ack"].as_f64()), (Some(1), Some(12.0)));
    assert_eq!(wanda["acked_within_24h"].as_f64(), Some(1.0));
    // A partner sees their own figures only; alerts opened outside the days are left out.
    let own = env.json(&["--as", "ws_01", "report", "alert-response", "--from", "2026-01-01", "--to", "2026-01-31"]);
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["partner"], "ws_01");
    let later = env.json(&["report", "alert-response", "--from", "2026-01-07", "--to", "2026-01-31"]);
    assert_eq!(later.as_array().unwrap().len(), 0);
    let table = env.ok(&["report", "alert-response", "--from", "2026-01-01", "--to", "2026-01-31"]);
    assert!(table.lines().next().unwrap().starts_with("partner"), "{table}");
    assert_eq!(env.run(&["report", "alert-response", "--from", "2026-02-01", "--to", "2026-01-01"]).code, 4);
}

#[test]
fn monthly_outcomes_by_hand() {
    let env = Env::initialised();
    env.import("programs", PROGRAMS);
    env.import("students", "student_id,first_name,last_name\nS1,Ann,Lee\nS2,Bo,Li\nS3,Cy,Ng\n");
    env.import(
        "enrollments",
        "enrollment_id,student_id,program_id,start_date,end_date,status\nE1,S1,P1,2026-01-05,,active\n\
         E2,S2,P1,2026-01-05,2026-02-06,completed\nE3,S3,P1,2026-02-02,2026-02-13,withdrawn\n",
    );
    for (student, date, status, hours) in [
        ("S1", "2026-02-02", "present", Some("6")),
        ("S1", "2026-02-03", "absent", None),
        ("S1", "2026-02-04", "excused", None),
        ("S2", "2026-02-02", "present", Some("8")),
    ] {
        let mut args =
            vec!["attendance", "log", "--student", student, "--program", "P1", "--date", date, "--status", status];
        args.extend(hours.iter().flat_map(|h| ["--hours", *h]));
        env.ok(&args);
    }
    let sql = env.sql();
    // Verified in the source system; a credential recorded there when E2 completed.
    sql.execute("UPDATE attendance SET verification = 'verified' WHERE status = 'present'", []).unwrap();
    sql.execute(
        "INSERT INTO progress_events (enrollment, kind, at, detail, recorded_by)
         SELECT id, 'credential', '2026-02-06T12:00:00Z', '2', 'registrar' FROM enrollments WHERE enrollment_id = 'E2'",
        [],
    )
    .unwrap();
    let rows = env.json(&["report", "outcomes", "--month", "2026-02"]);
    let fields = |row: &serde_json::Value| -> Vec<String> {
        [
            "month",
            "enrolled",
            "started",
            "active",
            "completed",
            "withdrawn",
            "attendance_rate",
            "contact_hours_verified",
            "credentials",
        ]
        .iter()
        .map(|k| row[*k].to_string())
        .collect()
    };
    // January: E1 and E2 started and active; 40 session days between them (4 weeks of 5), none
    // present.
    assert_eq!(fields(&rows[0]), ["\"2026-01\"", "2", "2", "2", "0", "0", "0.0", "0.0", "0"]);
    // February: E1 (20 session days, 1 present, 1 excused: 19 counted), E2 (5 days to the 6th, 1
    // present), E3 (10 days to the 13th, none): 2 present of 34 = 0.06; 6 + 8 verified hours.
    assert_eq!(fields(&rows[1]), ["\"2026-02\"", "3", "1", "1", "1", "1", "0.06", "14.0", "1"]);
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(env.run(&["report", "outcomes", "--month", "2026-13"]).code, 4);
}

#[test]
fn at_risk_lists_students_with_open_alerts_and_for_how_long() {
    let env = alerts_with_known_times();
    // S1's alert was resolved; S2's has been open since 2026-01-06 08:00 UTC.
    let rows = env.json(&["report", "at-risk"]);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!((rows[0]["student_id"].as_str(), rows[0]["severity"].as_str()), (Some("S2"), Some("warn")));
    assert_eq!(rows[0]["open_alerts"], 1);
    let opened = chrono::DateTime::parse_from_rfc3339("2026-01-06T08:00:00Z").unwrap().with_timezone(&chrono::Local);
    let days = (chrono::Local::now().date_naive() - opened.date_naive()).num_days();
    assert_eq!(rows[0]["days_open"].as_i64(), Some(days));
    // The worksite has S1 only, whose alert is resolved.
    assert_eq!(env.json(&["--as", "ws_01", "report", "at-risk"]).as_array().unwrap().len(), 0);
}

#[test]
fn weekly_attendance_and_its_change_by_hand() {
    let env = Env::with_imports(&[("programs", PROGRAMS), ("students", STUDENTS), ("enrollments", ENROLLMENTS)]);
    // Week 2 (5–9 January): S1 present Mon–Thu, absent Fri; S2 present Mon, excused Tue.
    // Week 3 (12–16 January): S1 present Mon–Fri; S2 nothing logged.
    let log = |student: &str, day: &str, status: &str| {
        env.ok(&["attendance", "log", "--student", student, "--program", "P1", "--date", day, "--status", status]);
    };
    for day in ["05", "06", "07", "08"] {
        log("S1", &format!("2026-01-{day}"), "present");
    }
    log("S1", "2026-01-09", "absent");
    log("S2", "2026-01-05", "present");
    log("S2", "2026-01-06", "excused");
    for day in ["12", "13", "14", "15", "16"] {
        log("S1", &format!("2026-01-{day}"), "present");
    }
    let rows = env.json(&["report", "attendance", "--from", "2026-01-05", "--to", "2026-01-18"]);
    let row = |i: usize| -> (String, u64, u64, f64, Option<f64>) {
        let r = &rows[i];
        (
            r["week"].as_str().unwrap().to_string(),
            r["session_days"].as_u64().unwrap(),
            r["present"].as_u64().unwrap(),
            r["attendance_rate"].as_f64().unwrap(),
            r["change"].as_f64(),
        )
    };
    // Week 2: 10 session days, 5 present, 1 excused: 5 of 9 = 0.56.
    assert_eq!(row(0), ("2026-W02".to_string(), 10, 5, 0.56, None));
    // Week 3: 10 session days, 5 present: 0.50, down 0.06.
    assert_eq!(row(1), ("2026-W03".to_string(), 10, 5, 0.5, Some(-0.06)));
    assert_eq!(rows.as_array().unwrap().len(), 2);
}

/// The week under way: the days that have passed count, and today once its record is in. On a
/// Monday morning, before anyone has logged, the week is not a fall to nothing.
#[test]
fn today_counts_once_its_record_is_in() {
    use chrono::Datelike;
    let today = chrono::Local::now().date_naive();
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    let start = monday - chrono::Days::new(7);
    let env = Env::with_imports(&[
        ("programs", &format!("program_id,name,schedule,start_date\nP1,Welding,daily,{start}\n")),
        ("students", STUDENTS),
        (
            "enrollments",
            &format!(
                "enrollment_id,student_id,program_id,start_date,status\nE1,S1,P1,{start},active\nE2,S2,P1,{start},active\n"
            ),
        ),
    ]);
    let log = |student: &str, day: chrono::NaiveDate| {
        let day = day.to_string();
        env.ok(&["attendance", "log", "--student", student, "--program", "P1", "--date", &day, "--status", "present"]);
    };
    // Both present every day up to yesterday; today S1 is logged, S2 not yet.
    let mut day = start;
    while day < today {
        log("S1", day);
        log("S2", day);
        day = day.succ_opt().unwrap();
    }
    log("S1", today);
    let passed = (today - monday).num_days() as u64;
    let rows = env.json(&["report", "attendance", "--from", &monday.to_string(), "--to", &today.to_string()]);
    let week = rows.as_array().unwrap().last().unwrap();
    assert_eq!(week["session_days"].as_u64(), Some(2 * passed + 1), "{rows}");
    assert_eq!(week["present"].as_u64(), Some(2 * passed + 1), "{rows}");
    assert_eq!(week["attendance_rate"].as_f64(), Some(1.0), "{rows}");
    let month = format!("{:04}-{:02}", today.year(), today.month());
    let outcomes = env.json(&["report", "outcomes", "--month", &month]);
    assert_eq!(outcomes[0]["attendance_rate"].as_f64(), Some(1.0), "the month under way alike: {outcomes}");
    // And a funder's file made today.
    let wrg = env.ok(&["export", "wrg"]);
    let rates: Vec<&str> = wrg.lines().skip(1).map(|line| line.split(',').nth(8).unwrap()).collect();
    assert_eq!(rates, ["1.00", "1.00"], "{wrg}");
}

#[test]
fn engagement_by_hand() {
    let env = organisation_with(STUDENTS);
    env.ok(&["settings", "time-zone", "UTC"]);
    // S1 logs in three times in week 2 (5–11 January) and once in week 3; S2 once, on the 5th.
    env.import(
        "logins",
        "student_id,at\nS1,2026-01-05T15:00:00Z\nS1,2026-01-06T15:00:00Z\nS1,2026-01-09T15:00:00Z\n\
         S1,2026-01-14T15:00:00Z\nS2,2026-01-05T16:00:00Z\n",
    );
    let rows = env.json(&["report", "engagement", "--from", "2026-01-05", "--to", "2026-01-18", "--quiet-days", "7"]);
    let row = |i: usize| {
        let r = &rows[i];
        (
            r["week"].as_str().unwrap().to_string(),
            r["students"].as_u64(),
            r["logins"].as_u64(),
            r["logins_per_student"].as_f64(),
            r["quiet_students"].as_u64(),
        )
    };
    // Week 2: 4 logins for 2 students; both logged in within the 7 days to its end.
    assert_eq!(row(0), ("2026-W02".into(), Some(2), Some(4), Some(2.0), Some(0)));
    // Week 3: 1 login; S2 has had none since the 5th — quiet by the 18th.
    assert_eq!(row(1), ("2026-W03".into(), Some(2), Some(1), Some(0.5), Some(1)));
    let theirs = env.json(&["--as", "ws_01", "report", "engagement", "--from", "2026-01-12", "--to", "2026-01-18"]);
    assert_eq!((theirs[0]["students"].as_u64(), theirs[0]["logins"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn cohort_health_by_hand() {
    let env = organisation_with(STUDENTS);
    env.ok(&["settings", "time-zone", "UTC"]);
    // Week 2 (5–9 January): S1 present every day, S2 on Monday only; S1 logs in once; S2 has a
    // critical alert from the 7th, still open. Week 3: nothing logged, nobody logs in.
    for day in ["05", "06", "07", "08", "09"] {
        let date = format!("2026-01-{day}");
        env.ok(&["attendance", "log", "--student", "S1", "--program", "P1", "--date", &date, "--status", "present"]);
    }
    env.ok(&["attendance", "log", "--student", "S2", "--program", "P1", "--date", "2026-01-05", "--status", "present"]);
    env.import("logins", "student_id,at\nS1,2026-01-06T15:00:00Z\n");
    env.sql()
        .execute(
            "INSERT INTO alerts (type, severity, status, student, enrollment, program, count, opened_at, updated_at)
             SELECT 1, 3, 1, s.id, e.id, e.program, 3, -- a critical missing-attendance alert, open
                    unixepoch('2026-01-07T12:00:00Z'), unixepoch('2026-01-07T12:00:00Z')
               FROM students s JOIN enrollments e ON e.student = s.id WHERE s.student_id = 'S2'",
            [],
        )
        .unwrap();
    let rows = env.json(&["report", "health", "--from", "2026-01-05", "--to", "2026-01-18"]);
    let row = |r: &serde_json::Value| {
        (
            r["week"].as_str().unwrap().to_string(),
            r["attendance_rate"].as_f64(),
            r["logged_in"].as_f64(),
            r["critical"].as_f64(),
            r["score"].as_f64(),
            r["change"].as_f64(),
        )
    };
    // Week 2: 6 present of 10 session days; 1 of 2 logged in; 1 of 2 critical:
    // 100 × (0.5 × 0.6 + 0.3 × 0.5 + 0.2 × 0.5) = 55.
    assert_eq!(row(&rows[0]), ("2026-W02".into(), Some(0.6), Some(0.5), Some(0.5), Some(55.0), None));
    // Week 3: no attendance, no logins, the alert still open: 100 × 0.2 × 0.5 = 10, down 45.
    assert_eq!(row(&rows[1]), ("2026-W03".into(), Some(0.0), Some(0.0), Some(0.5), Some(10.0), Some(-45.0)));
    assert_eq!(rows.as_array().unwrap().len(), 2);
    // The worksite has S1 only, present every day and logged in: 100. An admin asking for the
    // worksite's students gets the same.
    let theirs = env.json(&["--as", "ws_01", "report", "health", "--from", "2026-01-05", "--to", "2026-01-11"]);
    assert_eq!(row(&theirs[0]), ("2026-W02".into(), Some(1.0), Some(1.0), Some(0.0), Some(100.0), None));
    let asked = env.json(&["report", "health", "--from", "2026-01-05", "--to", "2026-01-11", "--partner", "ws_01"]);
    assert_eq!(asked, theirs);
    // A partner filter on attendance: the worksite's S1 alone, 5 of 5.
    let attendance =
        env.json(&["report", "attendance", "--from", "2026-01-05", "--to", "2026-01-11", "--partner", "ws_01"]);
    assert_eq!((attendance[0]["students"].as_u64(), attendance[0]["attendance_rate"].as_f64()), (Some(1), Some(1.0)));
    assert!(env.fails(4, &["report", "health", "--partner", "nobody"]).contains("partner 'nobody' not found"));
}
