//! SPEC "Identity" and "People and roles": who is acting, and what they may see.

use crate::harness::{Env, me, organisation};

#[test]
fn the_first_account_becomes_admin_and_is_told_once() {
    let env = Env::new();
    let first = env.run(&["init"]);
    assert_eq!(first.code, 0);
    assert!(first.stderr.contains(&format!("you ({}) are now its admin", me())), "{}", first.stderr);
    let second = env.run(&["user", "list"]);
    assert!(!second.stderr.contains("now its admin"), "said only once");
    let users = env.json(&["user", "list"]);
    assert_eq!(users[0]["login"], me().as_str());
    assert_eq!(users[0]["role"], "admin");
}

#[test]
fn commands_other_than_init_do_not_create_a_database() {
    let env = Env::new();
    let err = env.fails(1, &["students", "list"]);
    assert!(err.contains("no database at") && err.contains("muster init"), "{err}");
    assert!(!env.db.exists());
}

#[test]
fn an_unknown_account_is_told_how_to_get_in() {
    let env = Env::initialised();
    // The admin row now belongs to somebody else, so this OS account is unknown.
    env.sql().execute("UPDATE users SET login = 'someone_else'", []).unwrap();
    let err = env.fails(3, &["students", "list"]);
    assert!(err.contains(&format!("your account '{}' is not a muster user", me())), "{err}");
    assert!(err.contains(&format!("muster user add {} --role ROLE", me())), "{err}");
}

#[test]
fn only_admins_may_act_as_someone_else() {
    let env = organisation();
    env.sql()
        .execute("UPDATE users SET role = 'site_coordinator', onboarding_waived = 1 WHERE login = ?1", [me()])
        .unwrap();
    let err = env.fails(3, &["--as", "ws_01", "students", "list"]);
    assert!(err.contains("only admins may use --as"), "{err}");
}

#[test]
fn acting_as_someone_is_audited_with_both_names() {
    let env = organisation();
    env.ok(&["--as", "admin2", "user", "add", "ws_09", "--role", "worksite", "--name", "Nia Nine"]);
    let entries = env.json(&["audit", "list"]);
    let last = entries.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "user.add");
    assert_eq!(last["actor"], me().as_str());
    assert_eq!(last["acting_as"], "admin2");
    assert!(env.fails(4, &["--as", "nobody", "students", "list"]).contains("user 'nobody'"));
}

#[test]
fn a_worksite_sees_exactly_its_assigned_students() {
    let env = organisation();
    let listed = env.json(&["--as", "ws_01", "students", "list"]);
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["student_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["S1", "S3"]);
    let all = env.json(&["students", "list"]);
    assert_eq!(all.as_array().unwrap().len(), 4, "admins see everyone");
    let err = env.fails(3, &["--as", "ws_01", "students", "show", "S2"]);
    assert!(err.contains("permission denied") && err.contains("S2"), "{err}");
    env.ok(&["--as", "ws_01", "students", "show", "S3"]);
    // A student who does not exist and one who is not yours get the same answer.
    let missing = env.fails(3, &["--as", "ws_01", "students", "show", "S99"]);
    let other = env.fails(3, &["--as", "ws_01", "students", "show", "S2"]);
    assert_eq!(missing.replace("S99", "S"), other.replace("S2", "S"));
    env.fails(4, &["students", "show", "S99"]);
}

#[test]
fn a_partner_still_onboarding_sees_nothing_else() {
    let env = organisation();
    let err = env.fails(3, &["--as", "ws_02", "students", "list"]);
    assert!(err.contains("onboarding is not complete"), "{err}");
}

#[test]
fn partners_cannot_add_users_or_read_the_audit_log() {
    let env = organisation();
    let before = env.snapshot();
    env.fails(3, &["--as", "ws_01", "user", "add", "x_1", "--role", "worksite", "--name", "X"]);
    env.fails(3, &["--as", "sc_01", "audit", "list"]);
    env.fails(3, &["--as", "sc_01", "import", "students", "/dev/null"]);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn adding_a_user_checks_what_it_is_given() {
    let env = Env::initialised();
    env.ok(&["user", "add", "ws_01", "--role", "worksite", "--name", "Wanda Site"]);
    let before = env.snapshot();
    assert!(env.fails(4, &["user", "add", "ws_01", "--role", "worksite", "--name", "W"]).contains("already exists"));
    assert!(env.fails(4, &["user", "add", "Bad Login", "--role", "worksite", "--name", "W"]).contains("not a login"));
    assert!(env.fails(4, &["user", "add", "ws_03", "--role", "worksite", "--name", " "]).contains("name is empty"));
    assert!(
        env.fails(4, &["user", "add", "ws_04", "--role", "worksite", "--name", "W", "--email", "nope"])
            .contains("e-mail")
    );
    let usage = env.fails(2, &["user", "add", "ws_05", "--role", "teacher", "--name", "W"]);
    assert!(usage.contains("worksite"), "clap lists the roles: {usage}");
    assert_eq!(env.snapshot(), before);
}
