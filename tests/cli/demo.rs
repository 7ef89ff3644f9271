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
