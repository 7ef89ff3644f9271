//! Reports that leave muster: the onboarding tracker, payouts, and reports as PDF files read back
//! with poppler's `pdftotext` and `pdftoppm`.

use crate::fixtures::{STUDENTS, USERS, organisation_with};
use crate::harness::Env;
use std::process::Command;

/// An approved payroll profile for `login`, as an admin's approval leaves it.
fn approved_payroll(env: &Env, login: &str, role: &str, rate: f64) {
    env.sql()
        .execute(
            "INSERT INTO payroll_profiles (login, role, rate, method, account_last4, w9_media_type, w9_sha256, w9,
                                           terms_accepted_at, status, submitted_at, decided_by, decided_at)
             VALUES (?1, ?2, ?3, 'ach', '6789', 'application/pdf', 'x', x'00', '2026-01-02T10:00:00Z', 'approved',
                     '2026-01-02T10:00:00Z', 'admin', '2026-01-03T10:00:00Z')",
            rusqlite::params![login, role, rate],
        )
        .unwrap();
}

#[test]
fn onboarding_report_names_what_each_partner_is_missing() {
    let env = Env::initialised();
    env.import("users", &format!("{USERS}ph_09,Pat Holder,program_holder,false\n"));
    let rows = env.json(&["report", "onboarding"]);
    let by_login = |login: &str| rows.as_array().unwrap().iter().find(|r| r["login"] == login).unwrap().clone();
    let pat = by_login("ph_09");
    assert_eq!((pat["complete"].as_bool(), pat["documents"].as_str()), (Some(false), Some("0 of 4")));
    let missing = pat["missing"].as_str().unwrap();
    assert!(missing.contains("consent to sign electronically"), "{missing}");
    assert!(missing.contains("submit your payroll profile"), "{missing}");
    assert_eq!(by_login("ws_01")["missing"], "waived");
    assert_eq!(rows.as_array().unwrap().len(), 3, "every partner, no admin: {rows}");
    // A partner sees their own line only.
    let own = env.json(&["--as", "ws_01", "report", "onboarding"]);
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["login"], "ws_01");
}

#[test]
fn payouts_show_approved_profiles_and_their_rates_to_whom_they_belong() {
    let env = Env::initialised();
    env.import("users", USERS);
    approved_payroll(&env, "ws_01", "worksite", 10.0);
    approved_payroll(&env, "sc_01", "site_coordinator", 600.0);
    let rows = env.json(&["report", "payouts"]);
    let rates: Vec<(&str, &str)> =
        rows.as_array().unwrap().iter().map(|r| (r["login"].as_str().unwrap(), r["rate"].as_str().unwrap())).collect();
    assert_eq!(rates, [("ws_01", "10 %"), ("sc_01", "600 USD a month")]);
    let own = env.json(&["--as", "sc_01", "report", "payouts"]);
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(own[0]["login"], "sc_01");
}

fn poppler(tool: &str, args: &[&str]) -> std::process::Output {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils, installed by .ci/run) must be installed: {e}"));
    assert!(output.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

#[test]
fn the_monthly_report_as_a_pdf_reads_back_with_its_figures() {
    let env = organisation_with(STUDENTS);
    // February: S1 present on the 2nd and 3rd with 6 verified hours each; 20 session days each.
    for date in ["2026-02-02", "2026-02-03"] {
        let args = ["attendance", "log", "--student", "S1", "--program", "P1", "--date", date, "--status", "present"];
        env.ok(&[&args[..], &["--hours", "6"]].concat());
    }
    env.sql().execute("UPDATE attendance SET verification = 'verified'", []).unwrap();
    approved_payroll(&env, "ws_01", "worksite", 10.0);
    let pdf = env.dir.path().join("outcomes.pdf");
    let pdf_path = pdf.to_str().unwrap();
    let said = env.run(&["report", "outcomes", "--month", "2026-02", "--format", "pdf", "--out", pdf_path]);
    assert_eq!(said.code, 0, "{}", said.stderr);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let png = env.dir.path().join("page");
    poppler("pdftoppm", &["-png", "-r", "50", "-f", "1", "-l", "1", pdf_path, png.to_str().unwrap()]);
    assert!(env.dir.path().join("page-1.png").exists(), "pdftoppm made page 1");
    let text = String::from_utf8(poppler("pdftotext", &["-layout", pdf_path, "-"]).stdout).unwrap();
    for expected in [
        "Monthly outcome report",
        "2026-02 against 2026-01",
        "Produced by",
        "Attendance rate by program, 2026-02",
        "Payouts: approved payroll profiles",
        "10 %",
        "page 1 of 1",
    ] {
        assert!(text.contains(expected), "'{expected}' in:\n{text}");
    }
    // 2 present of 40 session days (S1 and S2, 20 each) = 0.05; 12 verified hours.
    let february = text.lines().find(|l| l.contains("P1") && l.contains("2026-02")).expect("February's row");
    let cells: Vec<&str> = february.split_whitespace().collect();
    assert_eq!(&cells[cells.len() - 3..], ["0.05", "12.0", "0"], "{february}");
    // Written to a file, the report is audited like an export; nothing is written on a refusal.
    let audit = env.ok(&["audit", "list"]);
    assert!(audit.contains("export.report.outcomes"), "{audit}");
    let nowhere = env.dir.path().join("missing/outcomes.pdf");
    env.fails(4, &["report", "outcomes", "--format", "pdf", "--out", nowhere.to_str().unwrap()]);
    let refused = env.dir.path().join("refused.pdf");
    let backwards =
        ["--from", "2026-03-01", "--to", "2026-02-01", "--format", "pdf", "--out", refused.to_str().unwrap()];
    env.fails(4, &[&["report", "attendance"][..], &backwards].concat());
    assert!(!refused.exists());
    assert!(env.fails(4, &["students", "list", "--format", "pdf"]).contains("--format pdf is for reports"));
}
