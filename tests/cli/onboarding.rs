//! Onboarding and payroll (SPEC "Onboarding", "Payroll profiles"), as a new partner goes through
//! them on the command line.

use crate::harness::Env;

const PDF: &[u8] = b"%PDF-1.4\n% a W-9\n";

/// A database with a new worksite, `ws_09` (Nia Nine), who has done nothing yet.
fn newcomer() -> Env {
    let env = Env::initialised();
    env.ok(&["user", "add", "ws_09", "--role", "worksite", "--name", "Nia Nine"]);
    env
}

fn as_ws09<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--as", "ws_09"];
    all.extend(args);
    all
}

/// Every step up to the payroll profile.
fn onboard_until_payroll(env: &Env) {
    for step in [
        vec!["onboarding", "select-role", "worksite"],
        vec!["onboarding", "accept", "all"],
        vec!["onboarding", "consent", "--agree"],
        vec!["onboarding", "sign", "mou", "--name", "Nia Nine"],
        vec!["onboarding", "ack", "handbook_worksite"],
        vec!["onboarding", "sign", "payment_terms", "--name", "Nia Nine"],
        vec!["onboarding", "ack", "w9_instructions"],
    ] {
        env.ok(&as_ws09(&step));
    }
}

fn submit(env: &Env, args: &[&str]) -> crate::harness::Ran {
    let w9 = env.dir.path().join("w9.pdf");
    std::fs::write(&w9, PDF).unwrap();
    let w9 = w9.display().to_string();
    let mut all = as_ws09(&["payroll", "submit", "--w9", &w9, "--accept-terms"]);
    all.extend(args);
    env.run(&all)
}

#[test]
fn a_partner_still_onboarding_is_refused_everything_else() {
    let env = newcomer();
    for args in [
        vec!["students", "list"],
        vec!["alerts", "list"],
        vec!["attendance", "list"],
        vec!["attendance", "log", "--student", "S1", "--program", "P1", "--date", "2026-01-05", "--status", "present"],
        vec!["alerts", "ack", "1"],
    ] {
        let err = env.fails(3, &as_ws09(&args));
        assert!(err.contains("onboarding is not complete"), "{args:?}: {err}");
    }
    let status = env.json(&as_ws09(&["onboarding", "status"]));
    assert_eq!(status["percent"], 0);
    assert_eq!(status["complete"], false);
}

#[test]
fn the_checklist_leads_to_completion() {
    let env = newcomer();
    onboard_until_payroll(&env);
    let status = env.json(&as_ws09(&["onboarding", "status"]));
    assert!(status["percent"].as_u64().unwrap() > 80 && status["complete"] == false);
    let missing: Vec<&str> = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["done"] == false)
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(missing, vec!["payroll"]);
    assert_eq!(
        submit(&env, &["--rate", "10", "--method", "ach", "--routing", "011000015", "--account", "000123456789"]).code,
        0
    );
    let status = env.json(&as_ws09(&["onboarding", "status"]));
    assert_eq!((status["percent"].as_u64(), status["complete"].as_bool()), (Some(100), Some(true)));
    env.ok(&as_ws09(&["students", "list"]));
    let partners = env.json(&["onboarding", "partners"]);
    assert_eq!((partners[0]["complete"].as_bool(), partners[0]["missing"].as_str()), (Some(true), Some("")));
}

#[test]
fn a_typed_signature_must_match_the_registered_name() {
    let env = newcomer();
    env.ok(&as_ws09(&["onboarding", "select-role", "worksite"]));
    let before = env.snapshot();
    let err = env.fails(4, &as_ws09(&["onboarding", "sign", "mou", "--name", "Nia Nine"]));
    assert!(err.contains("consent to sign electronically first"), "{err}");
    env.ok(&as_ws09(&["onboarding", "consent", "--agree"]));
    let before_signing = env.snapshot();
    assert_ne!(before, before_signing);
    let err = env.fails(4, &as_ws09(&["onboarding", "sign", "mou", "--name", "nia nine"]));
    assert!(err.contains("must be your full name as registered, \"Nia Nine\""), "{err}");
    env.fails(4, &as_ws09(&["onboarding", "sign", "handbook_worksite", "--name", "Nia Nine"]));
    env.fails(4, &as_ws09(&["onboarding", "sign", "handbook_program_holder", "--name", "Nia Nine"]));
    assert_eq!(env.snapshot(), before_signing, "nothing written");
}

#[test]
fn a_signature_records_what_was_signed_where_and_by_whom() {
    let env = newcomer();
    env.ok(&as_ws09(&["onboarding", "select-role", "worksite"]));
    env.ok(&as_ws09(&["onboarding", "consent", "--agree"]));
    let shown = env.ok(&["onboarding", "show", "mou"]);
    let sha = shown.trim_end().rsplit("sha256 ").next().unwrap().to_string();
    let ssh = [("SSH_CONNECTION", "203.0.113.9 51000 10.0.0.1 22")];
    let ran = env.run_with(&as_ws09(&["onboarding", "sign", "mou", "--name", " Nia Nine "]), &ssh);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let signatures = env.json(&as_ws09(&["onboarding", "signatures"]));
    let s = &signatures[0];
    assert_eq!(s["document_code"], "mou");
    assert_eq!(s["document_sha256"], sha.as_str(), "the hash of the exact text shown");
    assert_eq!(s["typed_name"], "Nia Nine", "outer spaces trimmed");
    assert_eq!(s["client"], "203.0.113.9");
    assert_eq!(s["os_account"], crate::harness::me().as_str());
    assert!(!s["host"].as_str().unwrap().is_empty());
    assert!(s["signed_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn a_changed_document_must_be_signed_again() {
    let env = newcomer();
    onboard_until_payroll(&env);
    let done = |env: &Env| {
        let status = env.json(&as_ws09(&["onboarding", "status"]));
        status["items"].as_array().unwrap().iter().find(|i| i["code"] == "mou").unwrap()["done"].as_bool().unwrap()
    };
    assert!(done(&env));
    // A newer text of the memorandum, as a later muster would ship it.
    env.sql()
        .execute(
            "INSERT INTO onboarding_documents (code, title, action, version, sha256, body)
             SELECT code, title, action, '2027.1', 'f00d', body || ' (amended)' FROM onboarding_documents WHERE code = 'mou'",
            [],
        )
        .unwrap();
    assert!(!done(&env), "the earlier signature no longer counts");
}

#[test]
fn payroll_profiles_are_checked_before_they_are_kept() {
    let env = newcomer();
    onboard_until_payroll(&env);
    let before = env.snapshot();
    let refused = |args: &[&str], expected: &str| {
        let ran = submit(&env, args);
        assert_eq!(ran.code, 4, "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(expected), "{args:?}: {}", ran.stderr);
    };
    refused(&["--rate", "7.5", "--method", "ach", "--routing", "011000015", "--account", "000123456789"], "8 to 12 %");
    refused(&["--rate", "12.5", "--method", "ach", "--routing", "011000015", "--account", "000123456789"], "8 to 12 %");
    refused(
        &["--rate", "10", "--method", "ach", "--routing", "011000016", "--account", "000123456789"],
        "ABA checksum",
    );
    refused(&["--rate", "10", "--method", "ach", "--routing", "011000015", "--account", "12"], "4 to 17 digits");
    refused(&["--rate", "10", "--method", "stripe_connect", "--account", "123"], "acct_");
    let gif = env.dir.path().join("w9.gif");
    std::fs::write(&gif, b"GIF89a....").unwrap();
    let gif = gif.display().to_string();
    let ran = env.run(&as_ws09(&[
        "payroll",
        "submit",
        "--rate",
        "10",
        "--method",
        "stripe_connect",
        "--account",
        "acct_1Nv0",
        "--w9",
        &gif,
        "--accept-terms",
    ]));
    assert_eq!(ran.code, 4);
    assert!(ran.stderr.contains("not a PDF, PNG or JPEG"), "{}", ran.stderr);
    let w9 = env.dir.path().join("w9.pdf").display().to_string();
    let ran = env.run(&as_ws09(&[
        "payroll",
        "submit",
        "--rate",
        "10",
        "--method",
        "stripe_connect",
        "--account",
        "acct_1Nv0",
        "--w9",
        &w9,
    ]));
    assert!(ran.code == 4 && ran.stderr.contains("--accept-terms"), "{}", ran.stderr);
    assert_eq!(env.snapshot(), before, "nothing was written");

    assert_eq!(
        submit(&env, &["--rate", "10", "--method", "ach", "--routing", "011000015", "--account", "000123456789"]).code,
        0
    );
    let mine = env.json(&as_ws09(&["payroll", "list"]));
    assert_eq!((mine[0]["status"].as_str(), mine[0]["account_last4"].as_str()), (Some("pending"), Some("6789")));
    let stored: i64 = env
        .sql()
        .query_row(
            "SELECT count(*) FROM payroll_profiles WHERE routing_number LIKE '%123456789%' OR account_last4 <> '6789'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0, "only the last four digits of the account are kept");
}

#[test]
fn nobody_decides_their_own_payroll_profile() {
    let env = newcomer();
    onboard_until_payroll(&env);
    submit(&env, &["--rate", "10", "--method", "ach", "--routing", "011000015", "--account", "000123456789"]);
    let id = env.json(&["payroll", "list"])[0]["id"].to_string();
    assert!(env.fails(3, &as_ws09(&["payroll", "approve", &id])).contains("only admins"));
    // ws_09 becomes an admin: still not their own profile to decide.
    env.import("users", "login,name,role\nws_09,Nia Nine,admin\n");
    assert!(env.fails(3, &as_ws09(&["payroll", "approve", &id])).contains("your own"));
    env.fails(4, &["payroll", "reject", &id, "--reason", " "]);
    env.ok(&["payroll", "approve", &id]);
    let listed = env.json(&["payroll", "list"]);
    assert_eq!(
        (listed[0]["status"].as_str(), listed[0]["decided_by"].as_str()),
        (Some("approved"), Some(crate::harness::me().as_str()))
    );
    assert!(env.fails(4, &["payroll", "approve", &id]).contains("already approved"));
}

#[test]
fn changing_an_approved_profile_sends_it_back_for_approval() {
    let env = newcomer();
    onboard_until_payroll(&env);
    submit(&env, &["--rate", "10", "--method", "ach", "--routing", "011000015", "--account", "000123456789"]);
    let id = env.json(&["payroll", "list"])[0]["id"].to_string();
    env.ok(&["payroll", "approve", &id]);
    submit(&env, &["--rate", "11", "--method", "ach", "--routing", "011000015", "--account", "000123456789"]);
    let listed = env.json(&["payroll", "list"]);
    assert_eq!((listed[0]["status"].as_str(), listed[0]["rate"].as_f64()), (Some("pending"), Some(11.0)));
    assert!(listed[0]["decided_by"].is_null());
}

#[test]
fn an_admin_may_waive_onboarding_on_file_elsewhere() {
    let env = newcomer();
    env.fails(4, &["onboarding", "waive", "ws_09", "--reason", ""]);
    env.fails(3, &as_ws09(&["onboarding", "waive", "ws_09", "--reason", "mine"]));
    env.ok(&["onboarding", "waive", "ws_09", "--reason", "signed on paper, file 2026-114"]);
    env.ok(&as_ws09(&["students", "list"]));
    let audit = env.json(&["audit", "list"]);
    assert_eq!(audit.as_array().unwrap().last().unwrap()["action"], "onboarding.waive");
}
