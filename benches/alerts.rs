//! Benchmark: the daily alert job on demo data (issue targets on a 2-core machine: one daily
//! run with history processed < 0.5 s, a 30-day catch-up from a fresh alert table < 10 s,
//! memory < 200 MB), at 1,000, 10,000 and 100,000 students × 365 days.
//!
//! Runs the real `muster` binary, so the figures include start-up and are what cron would see;
//! peak memory is the child's own maximum resident set size (`tests/support/measured.rs`). It
//! keeps three copies of each database beside it: about 20 GB free for the churn shape at
//! 100,000 students.
//! Both demo shapes: `classic` and `churn` (logins on 30–70 % of all days, so no-login alerts
//! open and close every day — the worst realistic case). The 30 days are run twice from the same
//! start: as one catch-up, and one by one as 30 commands, the way a nightly timer runs them.
//! Then the job runs over the demo's whole year and the daily run is timed again: a morning of
//! a program that has kept a year of alerts, whose indexes a day's changes land among, and all
//! of them are listed as an admin's `alerts list --status all` lists them.
//! `cargo bench --bench alerts` (`-- --sizes 1000,10000 --profiles churn` to choose).

use measured::muster;
use std::path::{Path, PathBuf};

#[path = "../tests/support/measured.rs"]
mod measured;

/// The most recent Thursday on or before today: the demo ends there, so the daily run is for a
/// Wednesday, a day every schedule but Tue/Thu meets.
fn demo_today() -> chrono::NaiveDate {
    use chrono::Datelike;
    let mut day = chrono::Local::now().date_naive();
    while day.weekday() != chrono::Weekday::Thu {
        day = day.pred_opt().expect("a day before");
    }
    day
}

fn before(day: chrono::NaiveDate, n: u64) -> String {
    (day - chrono::Days::new(n)).to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let sizes: Vec<u32> = option("--sizes")
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000]);
    let profiles: Vec<String> = option("--profiles")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_else(|| vec!["classic".into(), "churn".into()]);
    let dir = tempfile::tempdir().expect("temp dir");
    let today = demo_today();
    println!(
        "{:>8}  {:>9}  {:>10}  {:>16}  {:>16}  {:>20}  {:>17}  {:>12}  {:>8}",
        "shape",
        "students",
        "demo (s)",
        "30-day catch-up",
        "30 one by one",
        "daily (best, median)",
        "job peak RSS (MB)",
        "write floor",
        "÷ floor"
    );
    for profile in &profiles {
        for &students in &sizes {
            let db = dir.path().join(format!("alerts-{profile}-{students}.db"));
            let (demo, _) = muster(
                &db,
                &[
                    "demo",
                    "--students",
                    &students.to_string(),
                    "--days",
                    "365",
                    "--profile",
                    profile,
                    "--today",
                    &today.to_string(),
                ],
            );
            // A fresh alert table whose job last ran 31 days before the Wednesday: the catch-up
            // processes 30 days, then the daily run processes the Wednesday. The demo's digests
            // go too: the demo made the Wednesday's, and a daily run that found them made would
            // be timed without the digests every real morning makes.
            no_alerts_before(&db, &before(today, 32));
            room_for_copies(&db, dir.path());
            // Time the job, not the kernel writing back the demo it just made, nor the copy of
            // it the one-by-one run starts from (gigabytes at 100,000 students).
            let start = state_files(&db, dir.path(), "start");
            save(&start);
            // SAFETY: sync takes no arguments and cannot fail.
            unsafe { libc::sync() };
            let (catch_up, catch_up_rss) = muster(&db, &["alerts", "run", "--date", &before(today, 2)]);
            let ((best, median), daily_rss, median_split) = daily_runs(&db, dir.path(), &before(today, 1));
            let digests: i64 = rusqlite::Connection::open(&db)
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM digests WHERE day = ?1", [before(today, 1)], |r| r.get(0))
                })
                .expect("count the daily run's digests");
            assert!(digests > 0, "the daily run made no digests: it would be timed without them");
            // The best of three as well: this machine's noise only ever adds time.
            let floor = (0..3).map(|_| write_floor(&db, dir.path())).fold(f64::INFINITY, f64::min);
            let (one_by_one, one_by_one_rss, one_by_one_split) = days_one_by_one(&db, &start, today);
            let peak = catch_up_rss.max(daily_rss).max(one_by_one_rss);
            println!(
                "{profile:>8}  {students:>9}  {demo:>10.2}  {catch_up:>14.2} s  {one_by_one:>14.2} s  {best:>8.3} s, {median:>6.3} s  {peak:>17}  {floor:>10.3} s  {:>7.2}×",
                best / floor
            );
            println!("{:>8}  the median daily run, as it logged itself: {median_split}", "");
            println!("{:>8}  the 30 commands, as they logged themselves: {one_by_one_split}", "");
            // A program that has run the job all year: the alerts table and its indexes hold a
            // year of alerts (3.5 million at churn), not the 30 days' above.
            no_alerts_before(&db, &before(today, 366));
            let (year, year_rss) = muster(&db, &["alerts", "run", "--date", &before(today, 2)]);
            let ((year_best, year_median), year_daily_rss, year_split) = daily_runs(&db, dir.path(), &before(today, 1));
            let alerts: i64 = rusqlite::Connection::open(&db)
                .and_then(|c| c.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0)))
                .expect("count the year's alerts");
            println!(
                "{:>8}  after a year of alerts ({alerts} of them): the year's catch-up {year:.2} s, {} MB; \
                 the daily run {year_best:.3} s best, {year_median:.3} s median, {} MB; the median run: {year_split}",
                "", year_rss, year_daily_rss
            );
            // Every one of them listed: printed as read, so its memory should not follow the count.
            let (listed, list_rss) = muster(&db, &["alerts", "list", "--status", "all", "--format", "csv"]);
            println!("{:>8}  `alerts list --status all` as CSV, every one of them: {listed:.2} s, {list_rss} MB", "");
            // The next shape needs the room.
            for name in ["start", "saved"] {
                for (live, saved) in state_files(&db, dir.path(), name) {
                    let _ = std::fs::remove_file(live);
                    let _ = std::fs::remove_file(saved);
                }
            }
            for (floor, _) in state_files(&dir.path().join("floor.db"), dir.path(), "saved") {
                let _ = std::fs::remove_file(floor);
            }
        }
    }
}

/// Empties the alerts, their timeline and the digests, as if the job had last run on `day`. The
/// digests go first: with foreign keys on, each alert deleted while they stood would be looked
/// for among the digests' messages, which have no index on it (30 days of them: 15 minutes).
fn no_alerts_before(db: &Path, day: &str) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch(&format!(
        "DELETE FROM digests;
         DELETE FROM message_recipients
          WHERE campaign IN (SELECT id FROM message_campaigns WHERE kind = 'digest');
         DELETE FROM message_campaigns WHERE kind = 'digest';
         DELETE FROM alert_events; DELETE FROM alerts;
         DELETE FROM job_state WHERE key = 'digests_made_for';
         UPDATE job_state SET value = '{day}' WHERE key = 'alerts_processed_through';
         UPDATE job_state SET value = '{day}' WHERE key = 'alerts_first_processed';"
    ))
    .expect("set the job's starting point");
}

/// The daily run three times from the same state (the files as the catch-up left them, WAL
/// included): the best and the median time, the highest peak memory, and where the median run
/// said its time went. The median is what a morning looks like on a noisy machine; the best is
/// what compares with the floor.
fn daily_runs(db: &Path, dir: &Path, day: &str) -> ((f64, f64), u64, String) {
    let files = state_files(db, dir, "saved");
    save(&files);
    let mut dailies: Vec<(f64, u64, String)> = (0..3)
        .map(|_| {
            restore(&files);
            let (took, rss) = muster(db, &["alerts", "run", "--date", day]);
            (took, rss, last_run_split(db))
        })
        .collect();
    dailies.sort_by(|a, b| a.0.total_cmp(&b.0));
    let peak = dailies.iter().map(|d| d.1).max().unwrap_or(0);
    ((dailies[0].0, dailies[1].0), peak, dailies.swap_remove(1).2)
}

/// What the last run of the job logged about its time (`the rules …, the digests …, …`): the
/// bench runs muster with the database's directory as its data directory.
fn last_run_split(db: &Path) -> String {
    let log = db.parent().expect("db in a directory").join("muster/muster.log");
    let log = std::fs::read_to_string(&log).expect("read the run's log");
    let line = log.lines().rev().find(|line| line.contains("alert job: ")).expect("the run logged its time");
    line.split_once(": the rules ").map_or(line.to_string(), |(_, split)| format!("the rules {split}"))
}

/// The catch-up's 30 days again from the same start, as 30 commands: their total time, the
/// highest peak memory, and where the time went as the commands logged it.
fn days_one_by_one(db: &Path, start: &[(PathBuf, PathBuf); 3], today: chrono::NaiveDate) -> (f64, u64, String) {
    restore(start);
    let (mut took, mut peak, mut logged) = (0.0, 0, [0.0; 3]);
    for n in (2..=31).rev() {
        let (day, rss) = muster(db, &["alerts", "run", "--date", &before(today, n)]);
        took += day;
        peak = peak.max(rss);
        let split = last_run_split(db);
        for (sum, part) in logged.iter_mut().zip(["the rules ", "the digests ", "copying back after them "]) {
            *sum += seconds_after(&split, part);
        }
    }
    let [rules, digests, copying] = logged;
    let split = format!(
        "the rules {rules:.2} s, the digests {digests:.2} s, copying back after them {copying:.2} s, \
         the rest (starting, opening the file, closing it) {:.2} s",
        took - rules - digests - copying
    );
    (took, peak, split)
}

/// The seconds a logged split gives after `part` (`the digests 0.11 s` → 0.11), 0 if it has none.
fn seconds_after(split: &str, part: &str) -> f64 {
    split
        .split_once(part)
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0.0)
}

/// Stops before the hour's work, not in the middle of it, when the disk cannot hold the three
/// copies of the database the bench keeps (the start, the state before the daily run, the
/// floor's), with a gigabyte for the WALs.
fn room_for_copies(db: &Path, dir: &Path) {
    let size = std::fs::metadata(db).expect("the demo's database").len();
    let needed = size * 3 + (1 << 30);
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).expect("a path without NUL");
    // SAFETY: statvfs writes only into the struct we hand it; the path is NUL-terminated.
    let mut disk: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(path.as_ptr(), &mut disk) }, 0, "statvfs {}", dir.display());
    let free = disk.f_bavail as u64 * disk.f_frsize as u64;
    let mb = |bytes: u64| bytes >> 20;
    assert!(
        free >= needed,
        "the bench keeps three copies of the {} MB database: {} MB are free in {}, {} MB are needed \
         (free some, point TMPDIR elsewhere, or choose smaller --sizes)",
        mb(size),
        mb(free),
        dir.display(),
        mb(needed)
    );
}

/// The database's files and where a copy named `name` of them is kept.
fn state_files(db: &Path, dir: &Path, name: &str) -> [(PathBuf, PathBuf); 3] {
    ["", "-wal", "-shm"].map(|suffix| (db.with_extension(format!("db{suffix}")), dir.join(format!("{name}{suffix}"))))
}

fn save(files: &[(PathBuf, PathBuf); 3]) {
    for (live, saved) in files {
        let _ = std::fs::remove_file(saved);
        if live.exists() {
            std::fs::copy(live, saved).expect("save the state");
        }
    }
}

/// Puts the saved copy back, and lets the kernel write it back before anything is timed. Over
/// the same files, not new ones: the floor's early writeback keeps the file it first saw open.
fn restore(files: &[(PathBuf, PathBuf); 3]) {
    for (live, saved) in files {
        if saved.exists() {
            std::fs::copy(saved, live).expect("restore the state");
        } else {
            let _ = std::fs::remove_file(live);
        }
    }
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// SQLite's own cost of the changes the daily run made, with none of the job's reading or
/// deciding: into the state before the run, the alerts it changed, the alerts it opened and the
/// timeline entries it wrote, copied from `db` (the state after it) as three set-based
/// statements in one transaction, then its digests (their messages, recipients and records) in
/// a second, as the job makes them; with the job's page cache and journal settings, committed
/// and checkpointed as the job's run is, with the disk started on the WAL and the file as the
/// job starts it (`store::writeback`). No arrangement of the job's own statements can beat it;
/// it leaves out the audit entries.
fn write_floor(db: &Path, dir: &Path) -> f64 {
    let floor = dir.join("floor.db");
    // The state before the run, saved by `daily_runs`, as the floor's copy.
    restore(&state_files(&floor, dir, "saved"));
    const MUTABLE: &str = "severity, status, count, first_missed, escalated, assigned_to, snoozed_until, \
                           updated_at, resolved_at, resolved_by, as_of, streak_start, resolved_severity";
    const ALL: &str = "id, type, severity, status, student, enrollment, program, count, first_missed, escalated, \
                       assigned_to, snoozed_until, opened_at, updated_at, resolved_at, resolved_by, as_of, \
                       streak_start, resolved_severity";
    let conn = rusqlite::Connection::open(&floor).expect("open the floor's copy");
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;
         ATTACH '{}' AS after;
         CREATE TEMP TABLE changed AS SELECT {ALL} FROM after.alerts n
          WHERE n.id <= (SELECT max(id) FROM main.alerts)
            AND n.updated_at IS NOT (SELECT o.updated_at FROM main.alerts o WHERE o.id = n.id);
         CREATE TEMP TABLE opened AS SELECT {ALL} FROM after.alerts WHERE id > (SELECT max(id) FROM main.alerts);
         CREATE TEMP TABLE timeline AS SELECT * FROM after.alert_events
          WHERE id > (SELECT ifnull(max(id), 0) FROM main.alert_events);
         CREATE TEMP TABLE campaigns AS SELECT * FROM after.message_campaigns
          WHERE id > (SELECT ifnull(max(id), 0) FROM main.message_campaigns);
         CREATE TEMP TABLE recipients AS SELECT * FROM after.message_recipients
          WHERE id > (SELECT ifnull(max(id), 0) FROM main.message_recipients);
         CREATE TEMP TABLE digests AS SELECT * FROM after.digests
          WHERE campaign > (SELECT ifnull(max(id), 0) FROM main.message_campaigns);",
        db.display()
    ))
    .expect("read the run's changes");
    let set: Vec<String> = MUTABLE.split(", ").map(|c| format!("{c} = c.{c}")).collect();
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
    let started = std::time::Instant::now();
    let writeback = muster::store::writeback::EarlyWriteback::start(&floor);
    conn.execute_batch(&format!(
        "BEGIN;
         UPDATE alerts SET {} FROM temp.changed c WHERE c.id = alerts.id;
         INSERT INTO alerts ({ALL}) SELECT {ALL} FROM temp.opened ORDER BY id;
         INSERT INTO alert_events SELECT * FROM temp.timeline ORDER BY id;
         COMMIT;
         BEGIN;
         INSERT INTO message_campaigns SELECT * FROM temp.campaigns ORDER BY id;
         INSERT INTO message_recipients SELECT * FROM temp.recipients ORDER BY id;
         INSERT INTO digests SELECT * FROM temp.digests;
         COMMIT;",
        set.join(", ")
    ))
    .expect("write the run's changes");
    conn.execute_batch("DETACH after").expect("detach");
    // Closing the last connection checkpoints, as the job's process does when it ends.
    drop(conn);
    drop(writeback);
    started.elapsed().as_secs_f64()
}
