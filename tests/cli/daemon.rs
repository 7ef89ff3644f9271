//! `muster daemon`: catches up at start, exits cleanly on SIGTERM.

use crate::harness::Env;
use std::time::{Duration, Instant};

#[test]
fn the_daemon_catches_up_and_stops_on_sigterm() {
    let env = Env::new();
    // The demo processes its own last days; it ends three days ago, so the daemon has days to catch up.
    let three_days_ago = (chrono::Utc::now().date_naive() - chrono::Days::new(3)).to_string();
    env.ok(&["demo", "--students", "30", "--days", "20", "--today", &three_days_ago]);
    let mut child = env.spawn(&["daemon"]);
    let started = Instant::now();
    let processed = || -> Option<String> {
        env.sql().query_row("SELECT value FROM job_state WHERE key = 'alerts_processed_through'", [], |r| r.get(0)).ok()
    };
    let before = processed();
    while processed() == before && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_ne!(processed(), before, "the daemon caught up on start");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().expect("daemon exits");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("muster daemon: stopped"), "{err}");
    env.ok(&["audit", "verify"]);
}

#[test]
fn the_daemon_makes_the_digests_a_stopped_run_left_unmade() {
    let env = Env::new();
    let today = chrono::Local::now().date_naive().to_string();
    // The demo processes the days up to yesterday and makes their digests.
    env.ok(&["demo", "--students", "30", "--days", "20", "--today", &today]);
    let made = env.count("digests");
    assert!(made > 0, "the demo's partners get digests");
    // Yesterday is due whatever the hour the test runs at.
    let config = env.dir.path().join("config").join("muster");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "[alerts]\nrun_at = \"00:00\"\n").unwrap();
    // What a kill between the last day's commit and the digests' leaves.
    env.sql()
        .execute_batch(
            "DELETE FROM message_recipients WHERE campaign IN (SELECT id FROM message_campaigns WHERE kind = 'digest');
             DELETE FROM digests;
             DELETE FROM message_campaigns WHERE kind = 'digest';
             DELETE FROM job_state WHERE key = 'digests_made_for';",
        )
        .unwrap();
    let mut child = env.spawn(&["daemon"]);
    let started = Instant::now();
    while env.count("digests") < made && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().expect("daemon exits").success());
    assert_eq!(env.count("digests"), made, "the daemon made them on start, each once");
    env.ok(&["audit", "verify"]);
}
