//! SPEC "Audit log": a chained log whose edits, removals and insertions are named by `verify`.

use crate::harness::organisation;

fn tampered(sql: &str) -> String {
    let env = organisation();
    assert!(env.ok(&["audit", "verify"]).contains("audit log is whole: 10 entries"));
    env.sql().execute_batch(sql).unwrap();
    env.fails(1, &["audit", "verify"])
}

#[test]
fn an_untouched_log_verifies() {
    let env = organisation();
    let out = env.ok(&["audit", "verify"]);
    assert!(out.contains("whole: 10 entries"), "onboarding assets + bootstrap + 8 imports: {out}");
}

#[test]
fn an_edited_entry_is_named() {
    let err = tampered("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4");
    assert!(err.contains("audit entry 4 was altered"), "{err}");
}

#[test]
fn a_deleted_entry_is_named() {
    let err = tampered("DELETE FROM audit_log WHERE seq = 5");
    assert!(err.contains("audit entry 5 was removed"), "{err}");
    let err = tampered("DELETE FROM audit_log WHERE seq = 10");
    assert!(err.contains("audit entries 10 to 10 were removed from the end"), "{err}");
}

#[test]
fn an_inserted_entry_is_named() {
    let err = tampered(
        "INSERT INTO audit_log SELECT seq + 1, at, actor, acting_as, 'user.add', entity, 'ghost', change, host,
                client, version, hash, hash FROM audit_log WHERE seq = 10",
    );
    assert!(err.contains("audit entry 11 was inserted"), "{err}");
    let err = tampered(
        "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 6;
         UPDATE audit_log SET seq = seq - 99 WHERE seq >= 106;
         INSERT INTO audit_log SELECT 6, at, actor, acting_as, action, entity, entity_id, change, host, client,
                version, prev_hash, hash FROM audit_log WHERE seq = 5;",
    );
    assert!(err.contains("audit entry 6 was altered"), "{err}");
}

#[test]
fn every_entry_records_who_where_and_what() {
    let env = organisation();
    let entries = env.json(&["audit", "list"]);
    assert_eq!(
        (entries[0]["action"].as_str(), entries[0]["actor"].as_str()),
        (Some("onboarding.assets"), Some("system"))
    );
    let first = &entries[1];
    assert_eq!(first["action"], "user.bootstrap");
    assert_eq!(first["client"], "local");
    assert_eq!(first["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(first["prev_hash"], entries[0]["hash"]);
    let change: serde_json::Value = serde_json::from_str(first["change"].as_str().unwrap()).unwrap();
    assert_eq!(change["before"], serde_json::Value::Null);
    assert_eq!(change["after"]["role"], "admin");
    assert_eq!(entries[2]["prev_hash"], first["hash"]);
    let limited = env.json(&["audit", "list", "--after", "3", "--limit", "2"]);
    let seqs: Vec<i64> = limited.as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, vec![4, 5]);
}
