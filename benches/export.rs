//! Benchmark: exports of a whole year, streamed: `export attendance` and `export wioa` of
//! `demo --students N --days 365` (N = 100,000 by default) into a file, with rows per second and
//! the exporting process's peak memory, which should not grow with the number of rows.
//! Then each report on the same data (target: under a second each), the outcome report as a
//! PDF, and the pending records as an admin and two partners list them.
//! `cargo bench --bench export` (`-- --students 20000`, `-- --profile churn`).

use measured::muster;
use std::path::Path;

#[path = "../tests/support/measured.rs"]
mod measured;

fn lines(path: &Path) -> u64 {
    use std::io::BufRead;
    std::io::BufReader::new(std::fs::File::open(path).expect("the export")).lines().count() as u64 - 1
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let students = option("--students").unwrap_or_else(|| "100000".into());
    let profile = option("--profile").unwrap_or_else(|| "classic".into());
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("export.db");
    let (demo, _) = muster(&db, &["demo", "--students", &students, "--days", "365", "--profile", &profile]);
    println!("demo --students {students} --days 365 --profile {profile}: made in {demo:.1} s");
    println!("{:>12}  {:>11}  {:>9}  {:>11}  {:>13}", "export", "rows", "seconds", "rows/s", "peak RSS (MB)");
    for kind in ["attendance", "wioa", "alerts"] {
        let out = dir.path().join(format!("{kind}.csv"));
        let (seconds, rss) = muster(&db, &["export", kind, "--out", out.to_str().unwrap()]);
        let rows = lines(&out);
        println!("{kind:>12}  {rows:>11}  {seconds:>9.2}  {:>11.0}  {rss:>13}", rows as f64 / seconds);
        std::fs::remove_file(&out).expect("remove the export");
    }
    println!("{:>28}  {:>9}  {:>13}", "report (admin, whole year)", "seconds", "peak RSS (MB)");
    let month = chrono::Local::now().format("%Y-%m").to_string();
    for report in [
        vec!["report", "outcomes", "--month", month.as_str()],
        vec!["report", "alert-response"],
        vec!["report", "verification"],
        vec!["report", "at-risk"],
        vec!["report", "attendance"],
        vec!["report", "engagement"],
        vec!["report", "health"],
        vec!["report", "onboarding"],
        vec!["report", "payouts"],
        // What the console's Reports tab reads: one program.
        vec!["report", "attendance", "--program", "PRG-001"],
        vec!["report", "outcomes", "--program", "PRG-001"],
    ] {
        let (seconds, rss) = muster(&db, &report);
        let name = if report.len() > 2 && report[2] == "--program" {
            format!("{} (one program)", report[1])
        } else {
            report[1].to_string()
        };
        println!("{name:>28}  {seconds:>9.2}  {rss:>13}");
    }
    let pdf = dir.path().join("outcomes.pdf");
    let pdf_args = ["report", "outcomes", "--month", month.as_str(), "--format", "pdf", "--out", pdf.to_str().unwrap()];
    let (seconds, rss) = muster(&db, &pdf_args);
    println!("{:>28}  {seconds:>9.2}  {rss:>13}", "outcomes as PDF");
    // The verification queue from the command line: every pending record, as CSV.
    for who in ["", "sc_01", "ws_01"] {
        let mut args = vec!["--format", "csv", "attendance", "list", "--pending"];
        if !who.is_empty() {
            args.splice(0..0, ["--as", who]);
        }
        let (seconds, rss) = muster(&db, &args);
        let name = format!("pending records ({})", if who.is_empty() { "admin" } else { who });
        println!("{name:>28}  {seconds:>9.2}  {rss:>13}");
    }
}
