//! Benchmark: importing 1,000,000 attendance rows (SPEC: "Imports of a million rows take
//! seconds, not minutes"). Generates the CSV files, then times reading, checking and writing
//! into a fresh database several times and reports the median.
//!
//! Run with `cargo bench --bench import` (`-- --rows N --runs R` to change the size).

use chrono::{Days, NaiveDate};
use muster::app::{App, Command, FixedClock, ImportKind, Quiet, identity};
use muster::store::OpenMode;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

const DAYS_PER_STUDENT: usize = 100;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn write_fixtures(dir: &Path, rows: usize) -> std::io::Result<()> {
    let students = rows.div_ceil(DAYS_PER_STUDENT);
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date");
    std::fs::write(dir.join("programs.csv"), "program_id,name,schedule,start_date\nP1,Welding,daily,2025-01-01\n")?;
    let mut s = std::io::BufWriter::new(std::fs::File::create(dir.join("students.csv"))?);
    let mut e = std::io::BufWriter::new(std::fs::File::create(dir.join("enrollments.csv"))?);
    let mut a = std::io::BufWriter::new(std::fs::File::create(dir.join("attendance.csv"))?);
    writeln!(s, "student_id,first_name,last_name")?;
    writeln!(e, "enrollment_id,student_id,program_id,start_date,status")?;
    writeln!(a, "student_id,program_id,date,status,hours")?;
    let mut written = 0;
    for i in 0..students {
        writeln!(s, "S{i:07},First{i},Last{i}")?;
        writeln!(e, "E{i:07},S{i:07},P1,2025-01-01,active")?;
        for d in 0..DAYS_PER_STUDENT.min(rows - written) {
            let date = start + Days::new(d as u64);
            let (status, hours) = if (i + d) % 9 == 0 { ("absent", "") } else { ("present", "6.5") };
            writeln!(a, "S{i:07},P1,{date},{status},{hours}")?;
        }
        written += DAYS_PER_STUDENT.min(rows - written);
    }
    Ok(())
}

fn import(app: &mut App, actor: &muster::app::Actor, kind: ImportKind, file: &Path) -> usize {
    let input = std::fs::File::open(file).expect("fixture exists");
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let batch = muster::interchange::import::read(kind, std::io::BufReader::new(input), size, &Quiet).expect("valid");
    let source = file.display().to_string();
    match app.execute(actor, Command::Import { source, batch }).expect("imports") {
        muster::app::Outcome::Imported { changed, .. } => changed,
        other => panic!("unexpected outcome {other:?}"),
    }
}

fn main() {
    let rows = arg("--rows", 1_000_000);
    let runs = arg("--runs", 3);
    let dir = tempfile::tempdir().expect("temp dir");
    write_fixtures(dir.path(), rows).expect("fixtures");
    let os = identity::os_account().expect("an OS account");
    let today = NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid date");

    let mut times: Vec<Duration> = Vec::new();
    for run in 0..runs {
        let db = dir.path().join(format!("bench{run}.db"));
        let clock = Box::new(FixedClock::on(today));
        let mut app = App::open(&db, OpenMode::CreateIfMissing, clock, identity::this_origin(&os)).expect("open");
        let actor = app.sign_in(&os, None).expect("sign in").actor;
        for kind in [ImportKind::Programs, ImportKind::Students, ImportKind::Enrollments] {
            import(&mut app, &actor, kind, &dir.path().join(format!("{kind}.csv")));
        }
        let started = Instant::now();
        let changed = import(&mut app, &actor, ImportKind::Attendance, &dir.path().join("attendance.csv"));
        let took = started.elapsed();
        assert_eq!(changed, rows);
        // Importing the same file again must change nothing; time it too, it is the common case.
        let again = Instant::now();
        assert_eq!(import(&mut app, &actor, ImportKind::Attendance, &dir.path().join("attendance.csv")), 0);
        println!(
            "run {}: {rows} attendance rows imported in {:.2} s ({:.0} rows/s); re-import {:.2} s",
            run + 1,
            took.as_secs_f64(),
            rows as f64 / took.as_secs_f64(),
            again.elapsed().as_secs_f64()
        );
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!("import attendance, {rows} rows: median {:.2} s over {runs} runs", median.as_secs_f64());
}
