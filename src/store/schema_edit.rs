//! Changes to a table's definition that leave what is stored as it was, made the way SQLite
//! documents for them ("Making Other Kinds Of Table Schema Changes"): edit the `CREATE TABLE`
//! text in `sqlite_schema` and bump the schema version, instead of copying the table.

use rusqlite::Transaction;
use rusqlite_migration::{HookError, HookResult};

/// The alerts table's `IN (…)` CHECKs, and what each becomes: the same rule as comparisons.
const ALERT_CHECKS: [(&str, &str); 2] = [
    (
        "CHECK (severity IN ('warn', 'escalate', 'critical'))",
        "CHECK (severity = 'warn' OR severity = 'escalate' OR severity = 'critical')",
    ),
    (
        "CHECK (status IN ('open', 'acknowledged', 'snoozed', 'resolved'))",
        "CHECK (status = 'open' OR status = 'acknowledged' OR status = 'snoozed' OR status = 'resolved')",
    ),
];

/// Migration 5: rewrites the alerts table's CHECKs (every stored row already satisfies them, so
/// nothing on disk changes). Refuses, leaving the file as it was, if the definition is not the
/// one this program created.
pub fn alert_checks_as_comparisons(tx: &Transaction) -> HookResult {
    let sql: String =
        tx.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'alerts'", [], |r| r.get(0))?;
    let mut edited = sql.clone();
    for (before, after) in ALERT_CHECKS {
        if !edited.contains(before) {
            return Err(HookError::Hook(format!("the alerts table has no `{before}` to rewrite")));
        }
        edited = edited.replace(before, after);
    }
    let version: i64 = tx.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    tx.pragma_update(None, "writable_schema", true)?;
    let edit = tx
        .execute("UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = 'alerts'", [&edited])
        .and_then(|_| tx.pragma_update(None, "schema_version", version + 1));
    tx.pragma_update(None, "writable_schema", false)?;
    edit?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::store::{OpenMode, Store};

    fn inserted(store: &Store, severity: &str, status: &str) -> rusqlite::Result<usize> {
        store.conn().execute(
            "INSERT INTO alerts (type, severity, status, student, count, opened_at, updated_at)
             VALUES ('no_login', ?1, ?2, 1, 3, 'now', 'now')",
            [severity, status],
        )
    }

    #[test]
    fn the_rewritten_checks_hold_the_same_rule_without_a_temporary_btree() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("m.db"), OpenMode::CreateIfMissing).unwrap();
        store
            .conn()
            .execute("INSERT INTO students (student_id, first_name, last_name) VALUES ('S1', 'A', 'B')", [])
            .unwrap();
        assert!(inserted(&store, "bogus", "open").is_err());
        assert!(inserted(&store, "warn", "bogus").is_err());
        inserted(&store, "critical", "snoozed").unwrap();
        let ok: String = store.conn().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
        // An ephemeral table per statement was the cost this migration removes.
        let program: Vec<String> = store
            .conn()
            .prepare(
                "EXPLAIN INSERT INTO alerts (type, severity, status, student, count, opened_at, updated_at)
                 VALUES ('no_login', 'warn', 'open', 1, 3, 'now', 'now')",
            )
            .unwrap()
            .query_map([], |r| r.get(1))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(!program.iter().any(|op| op == "OpenEphemeral"), "{program:?}");
    }
}
