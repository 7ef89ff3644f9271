//! Bench support: the real `muster` binary run as cron would run it, timed, with its own peak
//! memory. Included with `#[path]` by benches/alerts.rs and benches/export.rs.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Runs muster; returns its wall time and its own peak resident memory in MB.
#[allow(clippy::zombie_processes, reason = "wait4 reaps the child; Child::wait would not report its rusage")]
pub fn muster(db: &Path, args: &[&str]) -> (f64, u64) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_muster"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("XDG_DATA_HOME", db.parent().expect("db in a directory"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run muster");
    let mut status = 0;
    // SAFETY: wait4 writes only into the status and rusage we hand it, for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(waited > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "muster {args:?} failed");
    (started.elapsed().as_secs_f64(), usage.ru_maxrss as u64 / 1024)
}
