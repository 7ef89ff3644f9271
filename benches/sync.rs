//! Benchmark: offline sync through the real binary, the hub run as a local command (the SSH
//! transport's stand-in, so the figures are muster's, not the network's). Targets on a 2-core
//! machine: cloning a worksite's scope of about 500 students and a year of history < 5 s;
//! pushing 10,000 queued changes and pulling the result < 2 s; a sync with nothing to do < 100 ms;
//! and, for the record, a sync after one change on the hub.
//! Peak memory is each process's maximum resident set size (the laptop's side).
//! `cargo bench --bench sync` (`-- --students N` for another hub size).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "../tests/support/worksite.rs"]
mod worksite;

#[allow(clippy::zombie_processes, reason = "wait4 reaps the child; Child::wait would not report its rusage")]
fn muster(db: &Path, args: &[&str]) -> (f64, u64, String) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("XDG_DATA_HOME", db.parent().expect("db in a directory"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run muster");
    let mut status = 0;
    // SAFETY: wait4 writes only into the status and rusage we hand it, for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut stdout = child.stdout.take().expect("stdout");
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut said).expect("read stdout");
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(waited > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "muster {args:?} failed");
    (started.elapsed().as_secs_f64(), usage.ru_maxrss as u64 / 1024, said)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let students: u32 = args
        .iter()
        .position(|a| a == "--students")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = dir.path().join("hub.db");
    let today = "2026-03-02";
    muster(&hub, &["demo", "--students", &students.to_string(), "--days", "365", "--today", today]);

    // The account running the bench becomes the worksite with the most students.
    let me = muster::app::identity::os_account().expect("an OS account").login;
    let conn = rusqlite::Connection::open(&hub).expect("open the hub");
    let (worksite, _): (String, i64) = conn
        .query_row(
            "SELECT x.login, count(*) FROM student_assignments x JOIN users u ON u.login = x.login
              WHERE u.role = 'worksite' GROUP BY x.login ORDER BY count(*) DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a worksite");
    // A big site: the worksite takes on students until it has 500 (the demo spreads them thinner).
    conn.execute(
        "INSERT OR IGNORE INTO student_assignments (login, student)
         SELECT ?1, id FROM students WHERE id NOT IN (SELECT student FROM student_assignments WHERE login = ?1)
          ORDER BY id LIMIT max(0, 500 - (SELECT count(*) FROM student_assignments WHERE login = ?1))",
        [&worksite],
    )
    .expect("assign");
    let scope: i64 = conn
        .query_row("SELECT count(*) FROM student_assignments WHERE login = ?1", [&worksite], |r| r.get(0))
        .expect("count");
    worksite::become_worksite(&conn, &me, &worksite);
    let attendance: i64 = conn
        .query_row(
            "SELECT count(*) FROM attendance a JOIN student_assignments x ON x.student = a.student WHERE x.login = ?1",
            [&me],
            |r| r.get(0),
        )
        .expect("count");
    drop(conn);

    let serve = format!("'{}' --db '{}' sync-serve", env!("CARGO_BIN_EXE_muster"), hub.display());
    let replica = dir.path().join("replica.db");
    let (clone, clone_rss, _) = muster(&replica, &["sync", "clone", "--hub-command", &serve]);

    // 10,000 changes queued on the laptop: a day each, for the scope's students and days.
    let conn = rusqlite::Connection::open(&replica).expect("open the replica");
    let days: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT s.student_id, p.program_id, a.date FROM attendance a
               JOIN students s ON s.id = a.student JOIN programs p ON p.id = a.program
              ORDER BY a.date DESC, s.student_id LIMIT 10000",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(Result::unwrap)
        .collect();
    let tx = conn.unchecked_transaction().expect("begin");
    for (student, program, date) in &days {
        let command = serde_json::json!({
            "command": "log_attendance",
            "entries": [{ "student_id": student, "program_id": program, "date": date, "status": "absent",
                          "hours": null, "note": null }]
        });
        tx.execute(
            "INSERT INTO outbox (author, command, local_time) VALUES (?1, ?2, '2026-03-02T12:00:00Z')",
            [&me, &command.to_string()],
        )
        .expect("queue");
    }
    tx.commit().expect("commit");
    drop(conn);
    let (push, push_rss, said) = muster(&replica, &["sync"]);
    assert!(said.contains(&format!("{} changes applied", days.len())), "{said}");
    let mut idle: Vec<f64> = (0..5).map(|_| muster(&replica, &["sync"]).0).collect();
    idle.sort_by(f64::total_cmp);
    // One day logged again on the hub by the worksite: the next pull carries that student only.
    let (student, program, date) = &days[0];
    muster(
        &hub,
        &["attendance", "log", "--student", student, "--program", program, "--date", date, "--status", "present"],
    );
    let (one, _, said_one) = muster(&replica, &["sync"]);

    println!("hub: {students} students; the worksite's scope: {scope} students, {attendance} attendance records");
    println!("clone:                       {clone:>7.2} s   peak {clone_rss} MB   (target < 5 s)");
    println!("push {} changes + pull:   {push:>7.2} s   peak {push_rss} MB   (target < 2 s)", days.len());
    println!("sync with nothing to do:     {:>7.3} s median of 5 (target < 0.1 s)", idle[2]);
    println!("sync after one change there: {one:>7.3} s   ({})", said_one.trim());
}
