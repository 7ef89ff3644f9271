//! SPEC "Database": file mode, migrations, and refusing a newer schema without touching it.

use crate::harness::Env;
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_new_database_is_private_and_in_wal_mode() {
    let env = Env::initialised();
    assert_eq!(std::fs::metadata(&env.db).unwrap().permissions().mode() & 0o777, 0o600);
    let mode: String = env.sql().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_database_from_a_newer_muster_is_refused_untouched() {
    let env = Env::initialised();
    {
        let conn = env.sql();
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA user_version = 999;").unwrap();
    }
    let before = std::fs::read(&env.db).unwrap();
    let err = env.fails(1, &["students", "list"]);
    assert!(err.contains("newer muster") && err.contains("999"), "{err}");
    assert!(err.contains("left untouched"), "{err}");
    assert_eq!(std::fs::read(&env.db).unwrap(), before, "the file changed");
    assert!(!env.dir.path().join("muster.db-wal").exists());
}

#[test]
fn the_default_thresholds_and_rates_are_seeded() {
    let env = Env::initialised();
    let conn = env.sql();
    let t: (i64, i64, i64) = conn
        .query_row("SELECT warn, escalate, critical FROM alert_thresholds WHERE type = 'no_login'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(t, (3, 5, 7));
    let rates: i64 = conn.query_row("SELECT count(*) FROM payout_rate_configs", [], |r| r.get(0)).unwrap();
    assert_eq!(rates, 3);
}

#[test]
fn reading_never_waits_for_a_writer() {
    let env = crate::harness::organisation();
    // Another process in the middle of a long write, such as a million-row import.
    let writer = env.sql();
    writer.execute_batch("BEGIN IMMEDIATE; UPDATE students SET phone = phone;").unwrap();
    let started = std::time::Instant::now();
    let listed = env.json(&["students", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 4);
    env.ok(&["alerts", "list"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "the read waited for the writer");
    writer.execute_batch("ROLLBACK").unwrap();
}
