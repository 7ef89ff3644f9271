//! `muster demo`: realistic, deterministic demo data through the one door.

use crate::harness::Env;

fn demo(env: &Env, seed: &str) {
    env.ok(&["demo", "--students", "60", "--days", "45", "--seed", seed, "--today", "2026-03-02"]);
}

#[test]
fn the_same_seed_gives_the_same_data() {
    let (a, b, c) = (Env::new(), Env::new(), Env::new());
    demo(&a, "3");
    demo(&b, "3");
    demo(&c, "4");
    let students = |env: &Env| env.ok(&["students", "list", "--format", "csv"]);
    assert_eq!(students(&a), students(&b));
    let attendance = |env: &Env| {
        env.sql()
            .query_row("SELECT count(*), total(hours), group_concat(status, '') FROM attendance", [], |r| {
                Ok(format!("{}:{}:{}", r.get::<_, i64>(0)?, r.get::<_, f64>(1)?, r.get::<_, String>(2)?.len()))
            })
            .unwrap()
    };
    assert_eq!(attendance(&a), attendance(&b));
    assert_ne!(attendance(&a), attendance(&c));
    // The partners' acknowledgements too: who, when, which alert.
    let acks = |env: &Env| {
        env.sql()
            .query_row(
                "SELECT count(*), group_concat(actor || at || alert) FROM alert_events WHERE kind = 'acknowledged'",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)),
            )
            .unwrap()
    };
    assert!(acks(&a).0 > 0);
    assert_eq!(acks(&a), acks(&b));
}

#[test]
fn the_demo_has_every_role_and_onboarding_stage() {
    let env = Env::new();
    demo(&env, "1");
    let users = env.json(&["user", "list"]);
    let logins: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["login"].as_str().unwrap()).collect();
    for login in ["admin", "ph_01", "ws_01", "sc_01"] {
        assert!(logins.contains(&login), "{login} in {logins:?}");
    }
    // ws_01 is onboarded and sees its students; some partners are still onboarding.
    let mine = env.json(&["--as", "ws_01", "students", "list"]);
    assert!(!mine.as_array().unwrap().is_empty());
    let waiting: i64 = env
        .sql()
        .query_row("SELECT count(*) FROM users WHERE onboarding_waived = 0 AND role <> 'admin'", [], |r| r.get(0))
        .unwrap();
    assert!(waiting > 0);
    assert!(env.count("payroll_profiles") > 0);
    env.ok(&["audit", "verify"]);
}

#[test]
fn demo_data_goes_only_into_an_empty_database() {
    let env = Env::new();
    demo(&env, "1");
    let before = env.snapshot();
    let err = env.fails(4, &["demo", "--students", "10"]);
    assert!(err.contains("already has 60 students"), "{err}");
    assert_eq!(env.snapshot(), before);
    let fresh = Env::new();
    assert!(fresh.fails(4, &["demo", "--today", "2999-01-01"]).contains("in the future"));
    assert!(!fresh.db.exists(), "a refused demo creates no file and no admin");
    assert!(fresh.fails(2, &["demo", "--students", "0"]).contains("0 is not in 1..=1000000"));
    assert!(!fresh.db.exists(), "a refused demo creates no file and no admin");
}

/// The demo's last two weeks happen as days: each day's job the next morning, partners
/// acknowledging in working hours, so ages and response times mean something.
#[test]
fn the_demos_days_happen_one_morning_after_another_with_partners_acknowledging() {
    let env = Env::new();
    // Six hours behind UTC (a POSIX zone: no tz database needed), so local times are checked.
    let args = ["demo", "--students", "60", "--days", "45", "--seed", "2", "--today", "2026-03-02"];
    let ran = env.run_with(&args, &[("TZ", "CST6")]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.contains("each the morning after"), "{}", ran.stdout);
    let sql = env.sql();
    // Each alert opened the morning after the day whose run opened it, not all at one instant.
    let (alerts, mornings, out_of_step): (i64, i64, i64) = sql
        .query_row(
            "SELECT count(*), count(DISTINCT a.opened_at),
                    sum(date(a.opened_at, 'unixepoch', '-6 hours') <> date(e.run_date * 86400, 'unixepoch', '+1 day')
                        OR time(a.opened_at, 'unixepoch', '-6 hours') <> '06:30:00')
               FROM alerts a JOIN alert_events e ON e.alert = a.id AND e.kind = 'opened'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(alerts > 20 && mornings > 5, "{alerts} alerts opened on {mornings} mornings");
    assert_eq!(out_of_step, 0);
    // Partners acknowledged some, each after it opened, on a weekday in working hours.
    let acks: Vec<(String, String, String, String)> = sql
        .prepare(
            "SELECT e.actor, strftime('%Y-%m-%dT%H:%M:%SZ', e.at, 'unixepoch'),
                    strftime('%Y-%m-%dT%H:%M:%SZ', a.opened_at, 'unixepoch'), u.role
               FROM alert_events e JOIN alerts a ON a.id = e.alert
               JOIN users u ON u.login = e.actor WHERE e.kind = 'acknowledged'",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(acks.len() as i64 > alerts / 5, "{} of {alerts} acknowledged", acks.len());
    for (actor, at, opened, role) in &acks {
        assert_ne!(role, "admin", "{actor}");
        assert!(at > opened, "{actor} at {at}, opened {opened}");
        let local = at.parse::<chrono::DateTime<chrono::Utc>>().unwrap() - chrono::Duration::hours(6);
        assert!(chrono::Datelike::weekday(&local).number_from_monday() <= 5, "{at} is on a weekday");
        assert!((8..17).contains(&chrono::Timelike::hour(&local)), "{at} is in working hours");
    }
    let spread: std::collections::BTreeSet<&str> = acks.iter().map(|(_, at, _, _)| &at[..10]).collect();
    assert!(spread.len() > 3, "acknowledged on {spread:?}");
    // The alert-response report has something to say, and the audit trail holds.
    let response = env.json(&["report", "alert-response", "--from", "2026-02-01", "--to", "2026-03-02"]);
    let acknowledged: u64 = response.as_array().unwrap().iter().map(|p| p["acknowledged"].as_u64().unwrap()).sum();
    assert!(acknowledged > 0);
    assert!(response.as_array().unwrap().iter().any(|p| p["median_hours_to_ack"].as_f64().is_some_and(|h| h > 1.0)));
    env.ok(&["audit", "verify"]);
    // One digest per person, for the last day only, as a catch-up makes.
    let days: Vec<String> = sql
        .prepare("SELECT DISTINCT day FROM digests")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(days, ["2026-03-01"]);
}

/// `--demo` on a fresh machine, as the README's first command runs it, also with `--as` a partner
/// the demo makes: the file is made and filled once, by the account at the keyboard (its admin),
/// and the command then runs as the partner.
#[test]
fn the_demo_database_is_made_on_first_use_even_when_acting_as_one_of_its_partners() {
    let env = Env::new();
    let students = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(args)
            .args(["--format", "json", "students", "list"])
            .env("XDG_DATA_HOME", env.dir.path().join("data"))
            .env("HOME", env.dir.path())
            .env_remove("MUSTER_DB")
            .output()
            .expect("run muster");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{args:?}: {stderr}");
        let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        (listed.as_array().expect("a list").len(), stderr)
    };
    let (partners, first) = students(&["--demo", "--as", "ws_01"]);
    assert!(first.contains("creating the demo database"), "{first}");
    let (everyone, again) = students(&["--demo"]);
    assert!(!again.contains("creating"), "made once: {again}");
    assert_eq!(everyone, 500, "the admin sees the whole demo");
    assert!((1..everyone).contains(&partners), "ws_01 sees their own {partners} students");
}
