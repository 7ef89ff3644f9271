//! Issue "Scale": imports stream (memory does not grow with the file), stay all or nothing,
//! and hold the write lock only while they copy, so a colleague waits seconds and is told why.

use crate::harness::Env;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DAYS: usize = 200;

/// An organisation of `students` students in one daily program from 2025-01-01.
fn organisation(students: usize) -> Env {
    let env = Env::initialised();
    env.import("programs", "program_id,name,schedule,start_date\nP1,Welding,daily,2025-01-01\n");
    let mut s = String::from("student_id,first_name,last_name\n");
    let mut e = String::from("enrollment_id,student_id,program_id,start_date,status\n");
    for i in 0..students {
        s.push_str(&format!("S{i:06},First{i},Last{i}\n"));
        e.push_str(&format!("E{i:06},S{i:06},P1,2025-01-01,active\n"));
    }
    env.import("students", &s);
    env.import("enrollments", &e);
    env
}

/// Writes `rows` attendance rows, day by day across all students (the order a source system
/// exports them in), without holding them in memory; `bad_last` spoils the very last row.
fn attendance_file(dir: &Path, name: &str, students: usize, rows: usize, bad_last: bool) -> PathBuf {
    let path = dir.join(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "student_id,program_id,date,status,hours").unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for n in 0..rows {
        let (day, student) = (n / students, n % students);
        let date = start + chrono::Days::new((day % DAYS) as u64);
        if bad_last && n == rows - 1 {
            writeln!(out, "S{student:06},P1,{date},here,6").unwrap();
        } else {
            writeln!(out, "S{student:06},P1,{date},present,6.5").unwrap();
        }
    }
    out.flush().unwrap();
    path
}

/// `muster import attendance FILE` on the organisation's database, its output unread.
fn import_attendance(env: &Env, file: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_muster"));
    command
        .arg("--db")
        .arg(&env.db)
        .args(["import", "attendance"])
        .arg(file)
        .env("XDG_DATA_HOME", env.dir.path().join("data"))
        .stdout(Stdio::null());
    command
}

/// Starts importing `file` and returns once the import writes (it reads with the database
/// unlocked; its note appears when it copies): the running import and its note.
fn import_until_it_writes(env: &Env, file: &Path) -> (std::process::Child, PathBuf) {
    let import = import_attendance(env, file).stderr(Stdio::null()).spawn().unwrap();
    let note = PathBuf::from(format!("{}-writer", env.db.display()));
    let started = std::time::Instant::now();
    while !note.exists() && started.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(note.exists(), "the import never started writing");
    (import, note)
}

/// Runs an import to its end; returns (exit code, stderr, its own peak resident memory in MB).
fn import_measured(env: &Env, file: &Path) -> (i32, String, u64) {
    let run = crate::measured::run(&import_attendance(env, file), env.dir.path());
    (run.code, run.stderr, run.peak_mb)
}

#[test]
fn a_bad_last_row_of_a_large_file_writes_nothing_and_memory_stays_flat() {
    let students = 2_000;
    let env = organisation(students);
    // Both well past what the import keeps in memory (its staging cache of 8 MB), one twice the
    // other: a budget that held would show the same peak for both.
    let small = attendance_file(env.dir.path(), "small.csv", students, 400_000, true);
    let large = attendance_file(env.dir.path(), "large.csv", students, 1_200_000, true);
    let before = env.snapshot();
    let (code, small_err, small_rss) = import_measured(&env, &small);
    assert_eq!(code, 4, "{small_err}");
    let (code, large_err, large_rss) = import_measured(&env, &large);
    assert_eq!(code, 4, "{large_err}");
    assert!(large_err.contains("line 1200001, column status: unknown attendance status 'here'"), "{large_err}");
    assert!(large_err.contains("nothing was written"), "{large_err}");
    assert_eq!(env.snapshot(), before, "all or nothing");
    eprintln!("peak memory: {small_rss} MB, {large_rss} MB");
    // Three times the rows (48 MB of CSV against 16 MB): holding the file would add 32 MB or
    // more. Both read 21 MB here; the margin is for a machine busy with other tests.
    assert!(
        large_rss < small_rss + 16,
        "memory grew with the file: {small_rss} MB for 400,000 rows, {large_rss} MB for 1,200,000"
    );
}

#[test]
fn a_file_that_is_one_endless_line_stops_without_being_held_in_memory() {
    let env = organisation(10);
    // 96 MB without a line break: a file from a system whose line breaks were lost, or worse.
    let path = env.dir.path().join("endless.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    write!(out, "student_id,program_id,date,status,hours\nS000001,P1,2025-01-02,present,6\nS000002,P1,2025-01-02,")
        .unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..96 {
        out.write_all(&chunk).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let before = env.snapshot();
    let (code, err, rss) = import_measured(&env, &path);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("line 3: runs past 65536 bytes without a line break"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(env.snapshot(), before, "all or nothing");
    // Held whole, the line alone would be 96 MB.
    assert!(rss < 48, "reading one long line took {rss} MB");
}

#[test]
fn a_colleague_waits_for_a_long_import_and_is_told_why() {
    let students = 4_000;
    let env = organisation(students);
    let file = attendance_file(env.dir.path(), "year.csv", students, 800_000, false);
    let (mut import, note) = import_until_it_writes(&env, &file);
    let waited = std::time::Instant::now();
    let colleague = env.run(&["user", "add", "ws_05", "--role", "worksite", "--name", "Wes Five"]);
    let waited = waited.elapsed();
    assert!(import.wait().unwrap().success());
    assert_eq!(colleague.code, 0, "{}", colleague.stderr);
    assert!(!colleague.stderr.contains("locked"), "{}", colleague.stderr);
    if waited > std::time::Duration::from_millis(1_500) {
        assert!(colleague.stderr.contains("is importing attendance from"), "{}", colleague.stderr);
    }
    assert_eq!(env.count("attendance"), 800_000);
    assert!(!note.exists(), "the note goes with the import");
}

/// A kill -9 while a long import copies leaves the database as it was, and nobody is told to
/// wait for an import that is no longer running; the same file then imports whole.
#[test]
fn an_import_killed_while_it_writes_leaves_nothing_and_no_one_is_told_to_wait_for_it() {
    let students = 4_000;
    let env = organisation(students);
    let file = attendance_file(env.dir.path(), "year.csv", students, 800_000, false);
    let before = env.snapshot();
    let (mut import, note) = import_until_it_writes(&env, &file);
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill only sends a signal to our own child.
    unsafe { libc::kill(import.id() as libc::pid_t, libc::SIGKILL) };
    import.wait().unwrap();
    assert!(note.exists(), "a killed writer cannot take its note away");
    assert_eq!(env.snapshot(), before, "nothing of the killed import");

    // Someone else writes for a while: the colleague waits for them, not for the dead import.
    let (locked, lock_taken) = std::sync::mpsc::channel();
    let db = env.db.clone();
    let other = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1_800));
        conn.execute_batch("ROLLBACK").unwrap();
    });
    lock_taken.recv().unwrap();
    let colleague = env.run(&["user", "add", "ws_05", "--role", "worksite", "--name", "Wes Five"]);
    other.join().unwrap();
    assert_eq!(colleague.code, 0, "{}", colleague.stderr);
    assert!(
        colleague.stderr.contains("waiting: another muster process is writing to this database"),
        "{}",
        colleague.stderr
    );
    assert!(!colleague.stderr.contains("year.csv"), "told about the dead import: {}", colleague.stderr);

    let again = env.run(&["import", "attendance", file.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(env.count("attendance"), 800_000);
    assert!(!note.exists(), "the import that finished took its note away");
    env.ok(&["audit", "verify"]);
}
