//! Benchmark: importing attendance and logins with the real binary, as an admin would, against
//! the floor of `sqlite3 .import` of the same CSV plus the unique key (measured in the same run
//! where `sqlite3` is installed), with each run's peak resident memory.
//!
//! The files are shaped like a large program's export: one row per student per day, written day
//! by day across all students (so the unique key is hit out of order), mostly `present` with
//! some `absent`/`excused`; logins at afternoon times on about half of all days.
//!
//! `cargo bench --bench import` (`-- --rows 1000000,2000000 --students 100000` to choose; a
//! year of a 100,000-student program is `--rows 19800000`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use measured::muster;

#[path = "../tests/support/measured.rs"]
mod measured;

fn option(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn write_roster(dir: &Path, students: usize) -> std::io::Result<()> {
    std::fs::write(dir.join("programs.csv"), "program_id,name,schedule,start_date\nP1,Welding,daily,2024-01-01\n")?;
    let mut s = std::io::BufWriter::new(std::fs::File::create(dir.join("students.csv"))?);
    let mut e = std::io::BufWriter::new(std::fs::File::create(dir.join("enrollments.csv"))?);
    writeln!(s, "student_id,first_name,last_name")?;
    writeln!(e, "enrollment_id,student_id,program_id,start_date,status")?;
    for i in 0..students {
        writeln!(s, "S{i:07},First{i},Last{i}")?;
        writeln!(e, "E{i:07},S{i:07},P1,2024-01-01,active")?;
    }
    s.flush()?;
    e.flush()
}

fn write_attendance(path: &Path, students: usize, rows: usize) -> std::io::Result<()> {
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
    let mut a = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(a, "student_id,program_id,date,status,hours")?;
    for n in 0..rows {
        let (day, i) = (n / students, n % students);
        let date = start + chrono::Days::new(day as u64);
        let (status, hours) = match (i * 7 + day) % 23 {
            0 => ("absent", ""),
            1 => ("excused", ""),
            _ => ("present", "6.5"),
        };
        writeln!(a, "S{i:07},P1,{date},{status},{hours}")?;
    }
    a.flush()
}

fn write_logins(path: &Path, students: usize, rows: usize) -> std::io::Result<()> {
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
    let mut l = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(l, "student_id,at")?;
    for n in 0..rows {
        let (day, i) = (n / students, n % students);
        let date = start + chrono::Days::new(day as u64 * 2 + (i % 2) as u64);
        writeln!(l, "S{i:07},{date}T{:02}:{:02}:00Z", 12 + i % 6, (i * 7) % 60)?;
    }
    l.flush()
}

/// `sqlite3 .import` of the file plus the unique key: the floor an import cannot beat.
fn floor(dir: &Path, file: &Path, key: &str) -> Option<f64> {
    Command::new("sqlite3").arg("--version").output().ok()?;
    let db = dir.join("floor.db");
    let _ = std::fs::remove_file(&db);
    let script = format!(".mode csv\n.import '{}' t\nCREATE UNIQUE INDEX t_key ON t({key});\n", file.display());
    let started = Instant::now();
    let mut child = Command::new("sqlite3").arg(&db).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().ok()?;
    child.stdin.take()?.write_all(script.as_bytes()).ok()?;
    child.wait().ok()?.success().then(|| started.elapsed().as_secs_f64())
}

fn main() {
    let sizes: Vec<usize> = option("--rows")
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000_000, 2_000_000]);
    let students: usize = option("--students").and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    write_roster(dir.path(), students).expect("roster");
    println!(
        "{:>9}  {:>10}  {:>9}  {:>10}  {:>8}  {:>11}  {:>9}  {:>9}",
        "kind", "rows", "time (s)", "rows/s", "RSS (MB)", "re-import", "floor (s)", "÷ floor"
    );
    for &rows in &sizes {
        for kind in ["attendance", "logins"] {
            let file = dir.path().join(format!("{kind}-{rows}.csv"));
            let key = if kind == "attendance" {
                write_attendance(&file, students, rows).expect("attendance file");
                "student_id, program_id, date"
            } else {
                write_logins(&file, students, rows).expect("logins file");
                "student_id, at"
            };
            let db = dir.path().join(format!("bench-{kind}-{rows}.db"));
            muster(&db, &["init"]);
            for roster in ["programs", "students", "enrollments"] {
                let path = dir.path().join(format!("{roster}.csv"));
                muster(&db, &["import", roster, path.to_str().expect("utf-8 path")]);
            }
            // SAFETY: sync takes no arguments and cannot fail; the import is timed, not writeback.
            unsafe { libc::sync() };
            let (took, rss) = muster(&db, &["import", kind, file.to_str().expect("utf-8 path")]);
            let (again, _) = muster(&db, &["import", kind, file.to_str().expect("utf-8 path")]);
            unsafe { libc::sync() };
            let floor = floor(dir.path(), &file, key);
            let (floor_text, ratio) = match floor {
                Some(f) => (format!("{f:.2}"), format!("{:.2}", took / f)),
                None => ("no sqlite3".to_string(), "-".to_string()),
            };
            println!(
                "{kind:>9}  {rows:>10}  {took:>9.2}  {:>10.0}  {rss:>8}  {again:>9.2} s  {floor_text:>9}  {ratio:>9}",
                rows as f64 / took
            );
            let _ = std::fs::remove_file(&db);
            let _ = std::fs::remove_file(&file);
        }
    }
}
