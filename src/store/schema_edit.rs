//! Changes to a table's definition that leave what is stored as it was, made the way SQLite
//! documents for them ("Making Other Kinds Of Table Schema Changes"): edit the `CREATE TABLE`
//! text in `sqlite_schema` and bump the schema version, instead of copying the table.

use rusqlite::Transaction;
use rusqlite_migration::{HookError, HookResult};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

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

/// The same for the tables every digest and every outreach recipient is written to.
const MESSAGE_CHECKS: [(&str, &str, &str); 2] = [
    (
        "message_campaigns",
        "CHECK (kind IN ('outreach', 'campaign', 'digest'))",
        "CHECK (kind = 'outreach' OR kind = 'campaign' OR kind = 'digest')",
    ),
    (
        "message_recipients",
        "CHECK (status IN\n                        ('queued', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'unknown'))",
        "CHECK (status = 'queued' OR status = 'sending' OR status = 'sent' OR status = 'failed'\n                        OR status = 'skipped' OR status = 'cancelled' OR status = 'unknown')",
    ),
];

/// Migration 5: rewrites the alerts table's CHECKs (every stored row already satisfies them, so
/// nothing on disk changes). Refuses, leaving the file as it was, if the definition is not the
/// one this program created.
pub fn alert_checks_as_comparisons(tx: &Transaction) -> HookResult {
    let edits: Vec<(&str, &str, &str)> =
        ALERT_CHECKS.iter().map(|&(before, after)| ("alerts", before, after)).collect();
    checks_as_comparisons(tx, &edits)
}

/// Migration 14: the same for the messages' tables.
pub fn message_checks_as_comparisons(tx: &Transaction) -> HookResult {
    checks_as_comparisons(tx, &MESSAGE_CHECKS)
}

/// Replaces each (table, before, after) in the table's `CREATE TABLE` text, all or none.
fn checks_as_comparisons(tx: &Transaction, edits: &[(&str, &str, &str)]) -> HookResult {
    let mut edited: BTreeMap<&str, String> = BTreeMap::new();
    for &(table, before, after) in edits {
        let sql = match edited.entry(table) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => new.insert(tx.query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )?),
        };
        if !sql.contains(before) {
            return Err(HookError::Hook(format!("the {table} table has no `{before}` to rewrite")));
        }
        *sql = sql.replace(before, after);
    }
    let version: i64 = tx.pragma_query_value(None, "schema_version", |r| r.get(0))?;
    tx.pragma_update(None, "writable_schema", true)?;
    let edit = edited
        .iter()
        .try_for_each(|(table, sql)| {
            tx.execute("UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2", [sql.as_str(), *table])
                .map(drop)
        })
        .and_then(|()| tx.pragma_update(None, "schema_version", version + 1));
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

    /// The opcodes SQLite runs for `sql`: an ephemeral table per statement is the cost the
    /// rewritten CHECKs remove.
    fn program(store: &Store, sql: &str) -> Vec<String> {
        let mut explain = store.conn().prepare(&format!("EXPLAIN {sql}")).unwrap();
        explain.query_map([], |r| r.get(1)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
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
        let program = program(
            &store,
            "INSERT INTO alerts (type, severity, status, student, count, opened_at, updated_at)
             VALUES ('no_login', 'warn', 'open', 1, 3, 'now', 'now')",
        );
        assert!(!program.iter().any(|op| op == "OpenEphemeral"), "{program:?}");
    }

    #[test]
    fn the_messages_checks_hold_the_same_rule_without_a_temporary_btree() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("m.db"), OpenMode::CreateIfMissing).unwrap();
        let conn = store.conn();
        conn.execute("INSERT INTO users (login, name, role, created_at) VALUES ('ann', 'Ann', 'admin', 'now')", [])
            .unwrap();
        let campaign = |kind: &str| {
            conn.execute(
                "INSERT INTO message_campaigns (kind, subject, body, audience, created_by, created_at, send_at)
                 VALUES (?1, 's', 'b', 'a', 'ann', 'now', 'now')",
                [kind],
            )
        };
        assert!(campaign("bogus").is_err());
        for kind in ["outreach", "campaign", "digest"] {
            campaign(kind).unwrap();
        }
        let recipient = |status: &str| {
            conn.execute(
                "INSERT INTO message_recipients (campaign, login, status, updated_at) VALUES (1, 'ann', ?1, 'now')",
                [status],
            )
        };
        assert!(recipient("bogus").is_err());
        recipient("queued").unwrap();
        for status in ["sending", "sent", "failed", "skipped", "cancelled", "unknown"] {
            conn.execute("UPDATE message_recipients SET status = ?1", [status]).unwrap();
        }
        assert!(conn.execute("UPDATE message_recipients SET status = 'lost'", []).is_err());
        let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
        for sql in [
            "INSERT INTO message_campaigns (kind, subject, body, audience, created_by, created_at, send_at)
             VALUES ('digest', 's', 'b', 'a', 'ann', 'now', 'now')",
            "INSERT INTO message_recipients (campaign, login, status, updated_at) VALUES (1, 'ann', 'queued', 'now')",
            "UPDATE message_recipients SET status = 'sent' WHERE id = 1",
        ] {
            let program = program(&store, sql);
            assert!(!program.iter().any(|op| op == "OpenEphemeral"), "{sql}: {program:?}");
        }
    }
}
