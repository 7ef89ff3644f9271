//! Bench support: the real `muster` binary run as cron would run it, timed, with its own peak
//! memory. Included with `#[path]` by benches/alerts.rs and benches/export.rs.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Runs muster; returns its wall time and its own peak resident memory in MB.
#[allow(clippy::zombie_processes, reason = "wait4 reaps the child; Child::wait would not report its rusage")]
pub fn muster(db: &Path, args: &[&str]) -> (f64, u64) {
    let started = Instant::now();
    let dir = db.parent().expect("db in a directory");
    // Kept for a failure's message: a full disk and a bug look alike from the exit code.
    let said = dir.join("muster-stderr.txt");
    let child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("XDG_DATA_HOME", dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&said).expect("a file for muster's stderr"))
        .spawn()
        .expect("run muster");
    let mut status = 0;
    // SAFETY: wait4 writes only into the status and rusage we hand it, for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    if !(waited > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let said = std::fs::read_to_string(&said).unwrap_or_default();
        let lines: Vec<&str> = said.lines().collect();
        panic!("muster {args:?} failed:\n{}", lines[lines.len().saturating_sub(5)..].join("\n"));
    }
    (started.elapsed().as_secs_f64(), usage.ru_maxrss as u64 / 1024)
}
