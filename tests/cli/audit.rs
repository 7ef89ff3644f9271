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

/// The chain's key, read as only the account owning the data can.
fn key_of(env: &crate::harness::Env) -> muster::domain::audit::AuditKey {
    let text = std::fs::read_to_string(format!("{}.audit-key", env.db.display())).unwrap();
    let hex = text.lines().find_map(|l| l.strip_prefix("key ")).unwrap();
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    muster::domain::audit::AuditKey(key)
}

fn entries(env: &crate::harness::Env) -> Vec<muster::domain::audit::AuditEntry> {
    muster::store::audit::list(&env.sql(), 0, usize::MAX >> 1).unwrap()
}

fn rewrite(env: &crate::harness::Env, entry: &muster::domain::audit::AuditEntry) {
    env.sql()
        .execute(
            "UPDATE audit_log SET actor = ?2, entity_id = ?3, prev_hash = ?4, hash = ?5 WHERE seq = ?1",
            rusqlite::params![entry.seq, entry.actor, entry.entity_id, entry.prev_hash, entry.hash],
        )
        .unwrap();
}

#[test]
fn an_edit_resealed_without_the_key_is_named() {
    let env = organisation();
    let mut entry = entries(&env).remove(3);
    entry.actor = "mallory".into();
    rewrite(&env, &entry.seal(None));
    assert!(env.fails(1, &["audit", "verify"]).contains("audit entry 4 was altered"));
}

#[test]
fn an_edit_resealed_with_the_key_names_the_edited_entry_not_its_neighbour() {
    let env = organisation();
    let key = key_of(&env);
    let mut entry = entries(&env).remove(8);
    entry.actor = "mallory".into();
    rewrite(&env, &entry.seal(Some(&key)));
    let err = env.fails(1, &["audit", "verify"]);
    assert!(err.contains("audit entry 9 was altered and sealed again"), "{err}");
}

#[test]
fn reordered_entries_are_named() {
    let err = tampered(
        "UPDATE audit_log SET seq = -4 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 5;
         UPDATE audit_log SET seq = 5 WHERE seq = -4;",
    );
    assert!(err.contains("audit entry 4 was altered"), "{err}");
}

#[test]
fn a_truncated_log_with_a_lowered_head_is_caught() {
    let err = tampered(
        "DELETE FROM audit_log WHERE seq > 8;
         UPDATE job_state SET value = (SELECT seq || ':' || hash || ':forged' FROM audit_log WHERE seq = 8)
          WHERE key = 'audit_head';",
    );
    assert!(err.contains("record of the last audit entry written was changed"), "{err}");
}

#[test]
fn an_emptied_log_fails() {
    let err = tampered("DELETE FROM audit_log; DELETE FROM job_state WHERE key = 'audit_head';");
    assert!(err.contains("the audit log is empty"), "{err}");
}

#[test]
fn a_published_head_catches_what_the_key_holder_rewrote() {
    let env = organisation();
    let published = env.ok(&["audit", "head"]).trim().to_string();
    assert!(env.ok(&["audit", "verify", "--since", &published]).contains("still holds the published head"));
    // Someone who holds the key rewrites entry 3 and re-chains everything after it.
    let key = key_of(&env);
    let mut all = entries(&env);
    all[2].entity_id = "forged".into();
    let mut prev = all[1].hash.clone();
    for entry in all.iter_mut().skip(2) {
        entry.prev_hash = prev.clone();
        *entry = entry.clone().seal(Some(&key));
        prev = entry.hash.clone();
        rewrite(&env, entry);
    }
    let last = all.last().unwrap();
    let head = muster::domain::audit::Head { seq: last.seq, hash: last.hash.clone() };
    env.sql()
        .execute(
            "UPDATE job_state SET value = ?1 WHERE key = 'audit_head'",
            [format!("{head}:{}", key.head_tag(&head))],
        )
        .unwrap();
    env.ok(&["audit", "verify"]);
    let err = env.fails(1, &["audit", "verify", "--since", &published]);
    assert!(err.contains(&format!("audit entry {} is not the one published", head.seq)), "{err}");
    // Cut short and re-headed, the log no longer reaches the published head at all.
    let cut = organisation();
    let published = cut.ok(&["audit", "head"]).trim().to_string();
    let key = key_of(&cut);
    let kept = entries(&cut).remove(7);
    let head = muster::domain::audit::Head { seq: kept.seq, hash: kept.hash.clone() };
    cut.sql()
        .execute_batch(&format!(
            "DELETE FROM audit_log WHERE seq > 8; UPDATE job_state SET value = '{head}:{}' WHERE key = 'audit_head';",
            key.head_tag(&head)
        ))
        .unwrap();
    cut.ok(&["audit", "verify"]);
    let err = cut.fails(1, &["audit", "verify", "--since", &published]);
    assert!(err.contains("the published head names entry 10, but the log ends at entry 8"), "{err}");
    cut.fails(2, &["audit", "verify", "--since", "10:nothex"]);
}

#[test]
fn without_its_key_the_log_can_be_neither_extended_nor_checked() {
    let env = organisation();
    use std::os::unix::fs::PermissionsExt;
    let key_file = format!("{}.audit-key", env.db.display());
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::remove_file(&key_file).unwrap();
    assert!(env.fails(3, &["audit", "verify"]).contains("audit key"));
    let err = env.fails(3, &["user", "add", "ws_08", "--role", "worksite", "--name", "Wes Eight"]);
    assert!(err.contains("restore it from a backup"), "{err}");
    assert!(!std::path::Path::new(&key_file).exists(), "no new key replaces a lost one");
}
