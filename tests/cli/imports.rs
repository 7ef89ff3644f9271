//! SPEC "Importing data (CSV)": every kind accepts good files, refuses each kind of bad row with
//! exit 4 and the line, writes nothing when refusing, and changes nothing on a second import.

use crate::harness::{ALL_KINDS, Env, organisation};

#[test]
fn every_kind_imports_and_a_second_import_changes_nothing() {
    let env = Env::initialised();
    for (kind, contents) in ALL_KINDS {
        let first = env.import(kind, contents);
        assert!(first.contains("added or changed"), "{kind}: {first}");
        let before = env.snapshot();
        let again = env.import(kind, contents);
        assert!(again.contains("nothing new"), "{kind}: {again}");
        assert_eq!(env.snapshot(), before, "re-importing {kind} changed the database");
    }
    assert_eq!(env.count("programs"), 2);
    assert_eq!(env.count("program_closures"), 1);
    assert_eq!(env.count("students"), 4);
    assert_eq!(env.count("enrollments"), 4);
    assert_eq!(env.count("users"), 5);
    assert_eq!(env.count("student_assignments"), 5);
    assert_eq!(env.count("attendance"), 3);
    assert_eq!(env.count("login_events"), 2);
    // One audit entry per import that changed something, with its counts.
    let entries = env.json(&["audit", "list"]);
    let imports: Vec<&serde_json::Value> =
        entries.as_array().unwrap().iter().filter(|e| e["action"].as_str().unwrap().starts_with("import.")).collect();
    assert_eq!(imports.len(), 8);
}

/// Rows written day by day across students and programs (not in key order), more than one
/// statement's worth and not a multiple of it, with every kind of status and hours.
#[test]
fn a_large_import_lands_every_row_as_written_and_again_changes_only_what_differs() {
    let env = organisation();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 7).unwrap();
    let mut expected = std::collections::BTreeMap::new();
    let mut file = String::from("student_id,program_id,date,status,hours\n");
    for day in 0..97u64 {
        let date = start + chrono::Days::new(day);
        for (i, (student, program)) in [("S3", "P2"), ("S1", "P1"), ("S2", "P1")].into_iter().enumerate() {
            let n = day as usize * 3 + i;
            let (status, hours) = match n % 7 {
                0 => ("absent", None),
                1 => ("excused", None),
                2 => ("present", None),
                _ => ("present", Some((n % 97) as f64 / 4.0)),
            };
            let hours_text = hours.map_or(String::new(), |h: f64| h.to_string());
            file.push_str(&format!("{student},{program},{date},{status},{hours_text}\n"));
            expected.insert((student.to_string(), date.to_string()), (status.to_string(), hours));
        }
    }
    let out = env.import("attendance", &file);
    assert!(out.contains("291 rows read, 291 added or changed"), "{out}");
    let conn = env.sql();
    let mut stmt = conn
        .prepare(
            "SELECT s.student_id, a.date, a.status, a.hours, a.verification FROM attendance a
               JOIN students s ON s.id = a.student WHERE a.date >= '2026-01-07'",
        )
        .unwrap();
    let landed: std::collections::BTreeMap<(String, String), (String, Option<f64>)> = stmt
        .query_map([], |r| {
            assert_eq!(r.get::<_, String>(4)?, "pending");
            Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?)))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(landed, expected);
    let again = file.replace("S1,P1,2026-01-07,excused,", "S1,P1,2026-01-07,present,8");
    assert_ne!(again, file);
    let out = env.import("attendance", &again);
    assert!(out.contains("291 rows read, 1 added or changed"), "{out}");
}

#[test]
fn changed_rows_are_updated_in_place() {
    let env = organisation();
    let out = env.import("students", "student_id,first_name,last_name\nS2,Bo,Lin\n");
    assert!(out.contains("1 rows read, 1 added or changed"), "{out}");
    let bo = env.json(&["students", "show", "S2"]);
    assert_eq!(bo["last_name"], "Lin");
    assert_eq!(env.count("students"), 4);
}

#[test]
fn logins_in_other_zones_are_stored_in_utc() {
    let env = organisation();
    let at: String = env.sql().query_row("SELECT max(at) FROM login_events", [], |r| r.get(0)).unwrap();
    assert_eq!(at, "2026-01-06T13:15:00Z");
}

/// (kind, file contents, what the error must say)
const BAD_FILES: &[(&str, &str, &str)] = &[
    // missing column
    ("programs", "program_id,name,start_date\nP9,X,2026-01-05\n", "missing column schedule"),
    ("closures", "program_id\nP1\n", "missing column date"),
    ("students", "student_id,first_name\nS9,Al\n", "missing column last_name"),
    ("enrollments", "enrollment_id,student_id,program_id,start_date\nE9,S1,P1,2026-01-05\n", "missing column status"),
    ("users", "login,name\nx_9,X\n", "missing column role"),
    ("assignments", "login\nws_01\n", "missing column student_id"),
    ("attendance", "student_id,program_id,date\nS1,P1,2026-01-07\n", "missing column status"),
    ("logins", "student_id,when\nS1,2026-01-05T08:00:00Z\n", "unknown column 'when'"),
    // bad date
    (
        "programs",
        "program_id,name,schedule,start_date\nP8,X,Mon-Fri,2026-01-05\nP9,X,Mon-Fri,5 Jan 2026\n",
        "line 3, column start_date",
    ),
    ("closures", "program_id,date\nP1,2026-02-30\n", "line 2, column date"),
    (
        "enrollments",
        "enrollment_id,student_id,program_id,start_date,status\nE9,S1,P1,2026/01/05,active\n",
        "line 2, column start_date",
    ),
    (
        "attendance",
        "student_id,program_id,date,status\nS1,P1,2026-01-07,present\nS1,P1,yesterday,present\n",
        "line 3, column date",
    ),
    ("logins", "student_id,at\nS1,2026-01-05 08:00\n", "line 2, column at"),
    // unknown status (or role)
    (
        "enrollments",
        "enrollment_id,student_id,program_id,start_date,status\nE9,S1,P1,2026-01-05,paused\n",
        "line 2, column status: unknown enrollment status 'paused'",
    ),
    (
        "attendance",
        "student_id,program_id,date,status\nS1,P1,2026-01-07,present\nS1,P1,2026-01-08,late\n",
        "line 3, column status: unknown attendance status 'late'",
    ),
    ("users", "login,name,role\nx_9,X,teacher\n", "line 2, column role: unknown role 'teacher'"),
    ("programs", "program_id,name,schedule,start_date\nP9,X,Weekdays,2026-01-05\n", "line 2, column schedule"),
    // unknown reference
    ("closures", "program_id,date\nP1,2026-02-16\nP9,2026-02-16\n", "line 3, column program_id: unknown program 'P9'"),
    (
        "enrollments",
        "enrollment_id,student_id,program_id,start_date,status\nE8,S1,P2,2026-01-05,active\nE9,S9,P1,2026-01-05,active\n",
        "line 3, column student_id: unknown student 'S9'",
    ),
    ("assignments", "login,student_id\nws_01,S2\nnobody,S2\n", "line 3, column login: unknown user 'nobody'"),
    ("assignments", "login,student_id\nws_01,S9\n", "line 2, column student_id: unknown student 'S9'"),
    (
        "attendance",
        "student_id,program_id,date,status\nS9,P1,2026-01-07,present\n",
        "line 2, column student_id: unknown student 'S9'",
    ),
    (
        "attendance",
        "student_id,program_id,date,status\nS1,P2,2026-01-07,present\n",
        "line 2, column program_id: student 'S1' is not enrolled in program 'P2'",
    ),
    ("logins", "student_id,at\nS9,2026-01-05T08:00:00Z\n", "line 2, column student_id: unknown student 'S9'"),
    // duplicate key
    (
        "programs",
        "program_id,name,schedule,start_date\nP7,X,daily,2026-01-05\nP7,Y,daily,2026-01-05\n",
        "line 3: duplicate program_id: already on line 2",
    ),
    ("closures", "program_id,date\nP1,2026-02-16\nP1,2026-02-16\n", "line 3: duplicate closure"),
    (
        "students",
        "student_id,first_name,last_name\nS7,A,B\nS8,C,D\nS7,E,F\n",
        "line 4: duplicate student_id: already on line 2",
    ),
    (
        "enrollments",
        "enrollment_id,student_id,program_id,start_date,status\nE9,S1,P1,2026-01-05,active\nE9,S2,P1,2026-01-05,active\n",
        "line 3: duplicate enrollment_id",
    ),
    ("users", "login,name,role\nx_9,X,worksite\nx_9,Y,worksite\n", "line 3: duplicate login"),
    ("assignments", "login,student_id\nws_01,S2\nws_01,S2\n", "line 3: duplicate assignment"),
    (
        "attendance",
        "student_id,program_id,date,status\nS1,P1,2026-01-07,present\nS1,P1,2026-01-07,absent\n",
        "line 3: duplicate attendance",
    ),
    ("logins", "student_id,at\nS2,2026-01-05T08:00:00Z\nS2,2026-01-05T03:00:00-05:00\n", "line 3: duplicate login"),
    // a login the staged key cannot hold
    (
        "logins",
        "student_id,at\nS2,1969-12-31T23:00:00Z\n",
        "line 2, column at: 1969-12-31T23:00:00+00:00 is outside 1970 to 2106",
    ),
];

#[test]
fn each_kind_of_bad_row_is_refused_and_nothing_is_written() {
    let env = organisation();
    let before = env.snapshot();
    for (i, (kind, contents, expected)) in BAD_FILES.iter().enumerate() {
        let file = env.file(&format!("bad{i}.csv"), contents);
        let err = env.fails(4, &["import", kind, &file]);
        assert!(err.contains(expected), "{kind} #{i}: expected «{expected}» in:\n{err}");
        assert!(err.contains(&file), "the error names the file: {err}");
        assert_eq!(env.snapshot(), before, "{kind} #{i} wrote something");
    }
}

#[test]
fn one_bad_row_among_good_ones_writes_none_of_them() {
    let env = organisation();
    let mut contents = String::from("student_id,first_name,last_name\n");
    for i in 0..500 {
        contents.push_str(&format!("N{i},First,Last\n"));
    }
    contents.push_str("N500,,Last\n");
    let file = env.file("many.csv", &contents);
    let err = env.fails(4, &["import", "students", &file]);
    assert!(err.contains("line 502, column first_name: is empty"), "{err}");
    assert_eq!(env.count("students"), 4);
}

#[test]
fn problems_are_listed_up_to_twenty() {
    let env = organisation();
    let mut contents = String::from("student_id,at\n");
    for _ in 0..25 {
        contents.push_str("S1,soon\n");
    }
    let file = env.file("logins.csv", &contents);
    let err = env.fails(4, &["import", "logins", &file]);
    assert_eq!(err.matches("column at").count(), 20, "{err}");
    assert!(err.contains("25 problems found; nothing was written") || err.contains("problems found"), "{err}");
    assert!(err.contains("… and 5 more"), "{err}");
}

#[test]
fn future_attendance_and_dates_before_enrollment_are_refused() {
    let env = organisation();
    let future = env.file("f.csv", "student_id,program_id,date,status\nS1,P1,2999-01-01,present\n");
    assert!(env.fails(4, &["import", "attendance", &future]).contains("in the future"));
    let early = env.file("e.csv", "student_id,program_id,date,status\nS1,P1,2025-12-01,present\n");
    assert!(env.fails(4, &["import", "attendance", &early]).contains("before the student's enrollment starts"));
}

#[test]
fn only_admins_import_and_bad_usage_exits_2() {
    let env = organisation();
    let file = env.file("s.csv", "student_id,first_name,last_name\nS9,A,B\n");
    assert!(env.fails(3, &["--as", "sc_01", "import", "students", &file]).contains("only admins may import"));
    let usage = env.fails(2, &["import", "teachers", &file]);
    assert!(usage.contains("programs") && usage.contains("logins"), "lists the kinds: {usage}");
    assert!(env.fails(4, &["import", "students", "/no/such/file.csv"]).contains("cannot read /no/such/file.csv"));
    let dir = env.dir.path().to_str().unwrap().to_string();
    assert!(env.fails(4, &["import", "students", &dir]).contains("it is a directory"));
}

#[test]
fn a_users_import_cannot_demote_the_importer() {
    let env = organisation();
    let me = crate::harness::me();
    let file = env.file("u.csv", &format!("login,name,role\n{me},Me,worksite\n"));
    assert!(env.fails(4, &["import", "users", &file]).contains("cannot change your own role"));
}

/// A spreadsheet saved on Windows ends its lines in `\r\n`, an old Mac's in `\r`: the problems
/// name the same lines as in a file ending them in `\n`.
#[test]
fn problems_name_the_same_line_whatever_ends_the_lines() {
    let env = organisation();
    for (name, end) in [("unix", "\n"), ("windows", "\r\n"), ("mac", "\r")] {
        let rows = ["student_id,first_name,last_name", "S7,Ann,Lee", "S8,Bo,Ray", "S9,,Dee", "S10,Cy,Ko"];
        let file = env.file(&format!("{name}.csv"), &rows.map(|row| format!("{row}{end}")).concat());
        let err = env.fails(4, &["import", "students", &file]);
        assert!(err.contains("line 4, column first_name"), "{name}: {err}");
    }
}

/// An import that nobody else is reading writes through SQLite's rollback journal (once per
/// page, not into the WAL and back). Killed while it writes its pages into the file, it leaves
/// the file as it was: the next command rolls the journal back, the file is whole and on the WAL
/// again, and the same import then lands in full.
#[test]
fn an_import_killed_while_it_writes_into_the_file_leaves_it_as_it_was() {
    let env = Env::initialised();
    let students = 2_000;
    let (mut roster, mut enrollments) = (
        "student_id,first_name,last_name\n".to_string(),
        "enrollment_id,student_id,program_id,start_date,status\n".to_string(),
    );
    for i in 0..students {
        roster.push_str(&format!("S{i},First{i},Last{i}\n"));
        enrollments.push_str(&format!("E{i},S{i},P1,2025-01-01,active\n"));
    }
    env.import("programs", "program_id,name,schedule,start_date\nP1,Welding,daily,2025-01-01\n");
    env.import("students", &roster);
    env.import("enrollments", &enrollments);
    let mut attendance = String::from("student_id,program_id,date,status,hours\n");
    let first = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for day in 0..200 {
        let date = first + chrono::Days::new(day);
        for i in 0..students {
            attendance.push_str(&format!("S{i},P1,{date},present,6\n"));
        }
    }
    let file = env.file("attendance.csv", &attendance);
    let before = env.snapshot();
    let size_before = std::fs::metadata(&env.db).unwrap().len();
    let journal = env.dir.path().join("muster.db-journal");
    let mut child = env.spawn(&["import", "attendance", &file]);
    let writing_into_the_file = loop {
        if journal.exists() && std::fs::metadata(&env.db).is_ok_and(|m| m.len() > size_before) {
            // SAFETY: kill on our own child's pid.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
            break true;
        }
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
    };
    child.wait().unwrap();
    assert!(writing_into_the_file, "the import was seen writing into the file beside its journal");
    assert!(journal.exists(), "the kill left the journal behind");
    // Any command that reads the file first rolls the journal back.
    assert!(env.ok(&["user", "list"]).contains(&crate::harness::me()));
    assert!(!journal.exists());
    assert_eq!(env.snapshot(), before);
    let conn = env.sql();
    assert_eq!(conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap(), "ok");
    assert_eq!(conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0)).unwrap(), "wal");
    drop(conn);
    let out = env.ok(&["import", "attendance", &file]);
    assert!(out.contains("400000 rows read, 400000 added or changed"), "{out}");
}

/// A file with its header and nothing under it (an export of an empty query) says so, rather
/// than that its rows were imported already.
#[test]
fn a_file_with_only_a_header_says_it_has_no_rows_and_changes_nothing() {
    let env = organisation();
    let before = env.snapshot();
    for (kind, header) in
        [("students", "student_id,first_name,last_name\n"), ("attendance", "student_id,program_id,date,status,hours\n")]
    {
        let out = env.import(kind, header);
        assert!(out.contains(&format!("{kind}: the file has a header and no rows")), "{kind}: {out}");
        assert!(!out.contains("already imported"), "{out}");
    }
    assert_eq!(env.snapshot(), before);
}
