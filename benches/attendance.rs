//! Benchmark: verifying 500 pending attendance records in one command (target: well under a
//! second). Five batches of 500 from a demo organisation; the median is reported.
//! `cargo bench --bench attendance`.

use chrono::NaiveDate;
use muster::app::{App, Command, Decision, FixedClock, identity};
use muster::domain::demo::DemoSpec;
use muster::store::OpenMode;
use muster::store::activity::AttendanceFilter;
use std::time::Instant;

const BATCH: usize = 500;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let today = NaiveDate::from_ymd_opt(2026, 11, 20).expect("a date");
    let os = identity::os_account().expect("an OS account");
    let clock = Box::new(FixedClock::on(today));
    let mut app =
        App::open(&dir.path().join("verify.db"), OpenMode::CreateIfMissing, clock, identity::this_origin(&os))
            .expect("open");
    let actor = app.sign_in(&os, None).expect("sign in").actor;
    app.execute(
        &actor,
        Command::Demo(DemoSpec { students: 5_000, days: 120, seed: 3, today, profile: Default::default() }),
    )
    .expect("demo");
    // The job has run, so every decision re-evaluates alerts as it would in use.
    app.run_alerts(&actor, today.pred_opt().expect("yesterday"), &muster::app::Quiet).expect("alerts");
    let pending = app
        .attendance(&actor, &AttendanceFilter { pending_only: true, ..Default::default() }, BATCH * 5)
        .expect("pending records");
    assert!(pending.len() >= BATCH * 5, "the demo has {} pending records", pending.len());

    let mut times = Vec::new();
    for (i, batch) in pending.chunks(BATCH).enumerate() {
        let ids: Vec<i64> = batch.iter().map(|r| r.id).collect();
        // Reject every other batch: rejection re-evaluates each student's alerts, the slower path.
        let decision =
            if i % 2 == 0 { Decision::Verify } else { Decision::Reject { reason: "no sign-in sheet".into() } };
        let started = Instant::now();
        app.execute(&actor, Command::DecideAttendance { ids, decision: decision.clone() }).expect("decided");
        let took = started.elapsed().as_secs_f64();
        println!(
            "batch {}: {BATCH} records {} in {:.0} ms",
            i + 1,
            if i % 2 == 0 { "verified" } else { "rejected" },
            took * 1e3
        );
        times.push(took);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "deciding {BATCH} records at once: median {:.0} ms over {} batches",
        times[times.len() / 2] * 1e3,
        times.len()
    );
}
