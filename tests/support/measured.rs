//! Bench and test support: a command run to its end, timed, with its own peak memory. Included
//! with `#[path]` by the benches and by the scale tests.
//!
//! The command runs under a small Python parent that times it and reports its peak. A child
//! spawned straight from the bench or test process would be charged that process's memory too:
//! Linux carries into a child's peak the high-water mark of the memory its `exec` replaces,
//! which for `Command::spawn` is the spawning process's (`/bin/true` spawned from a 200 MB
//! process reports 213 MB; from the Python parent, 13 MB).

#![allow(dead_code, reason = "each bench and test uses the part it needs")]

use std::path::Path;
use std::process::{Command, Stdio};

const TIMED_WITH_PEAK: &str = "import resource, subprocess, sys, time
started = time.monotonic()
code = subprocess.run(sys.argv[2:]).returncode
seconds = time.monotonic() - started
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(sys.argv[1], 'w').write(f'{seconds} {kib}')
sys.exit(code)";

/// What a measured run came to.
pub struct Run {
    pub code: i32,
    pub stderr: String,
    pub seconds: f64,
    pub peak_mb: u64,
}

/// Runs `command` (its program, arguments and environment) to its end, its standard output
/// discarded and its standard error kept in `scratch` (a directory) rather than in memory.
pub fn run(command: &Command, scratch: &Path) -> Run {
    let figures = scratch.join("measured-figures");
    let said = scratch.join("measured-stderr.txt");
    let status = Command::new("python3")
        .args(["-c", TIMED_WITH_PEAK])
        .arg(&figures)
        .arg(command.get_program())
        .args(command.get_args())
        .envs(command.get_envs().filter_map(|(key, value)| Some((key, value?))))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&said).expect("a file for the command's stderr"))
        .status()
        .expect("python3 runs (.ci/run installs it)");
    let stderr = std::fs::read_to_string(&said).unwrap_or_default();
    let figures = std::fs::read_to_string(&figures)
        .unwrap_or_else(|_| panic!("{:?} was not run:\n{stderr}", command.get_program()));
    let (seconds, kib) = figures.split_once(' ').expect("seconds and KiB");
    Run {
        code: status.code().unwrap_or(-1),
        stderr,
        seconds: seconds.parse().expect("seconds"),
        peak_mb: kib.trim().parse::<u64>().expect("KiB") / 1024,
    }
}

/// Runs muster as cron would and panics, with its last lines of stderr, unless it succeeds;
/// returns its wall time and its own peak resident memory in MB.
pub fn muster(db: &Path, args: &[&str]) -> (f64, u64) {
    let dir = db.parent().expect("db in a directory");
    let mut command = Command::new(env!("CARGO_BIN_EXE_muster"));
    command.arg("--db").arg(db).args(args).env("XDG_DATA_HOME", dir);
    let run = run(&command, dir);
    if run.code != 0 {
        // A full disk and a bug look alike from the exit code.
        let lines: Vec<&str> = run.stderr.lines().collect();
        panic!("muster {args:?} failed:\n{}", lines[lines.len().saturating_sub(5)..].join("\n"));
    }
    (run.seconds, run.peak_mb)
}
