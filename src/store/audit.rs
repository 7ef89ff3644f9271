//! The audit log table: appending a chained entry, listing, and verifying the chain.
//!
//! The sequence number of the last entry written is also kept in `job_state` (`audit_head`), so
//! entries cut from the end, or added after it, are noticed too.

use super::Result;
use crate::domain::audit::{AuditEntry, ChainBreak, ChainVerifier, GENESIS};
use rusqlite::{Connection, OptionalExtension, params};

/// Who made a change and from where; the same for every entry of one process.
#[derive(Debug, Clone)]
pub struct Origin {
    pub host: String,
    /// The SSH client address, or `local`.
    pub client: String,
    /// The operating-system account running the process.
    pub os_account: String,
    pub version: String,
}

/// What one entry says happened.
pub struct Change<'a> {
    pub actor: &'a str,
    pub acting_as: Option<&'a str>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// Appends one entry. Call inside the transaction that makes the change it records, opened
/// with `BEGIN IMMEDIATE` so that no other writer can take the same sequence number.
pub fn append(conn: &Connection, origin: &Origin, at: &str, change: Change) -> Result<i64> {
    let last: Option<(i64, String)> = conn
        .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (prev_seq, prev_hash) = last.unwrap_or((0, GENESIS.to_string()));
    let entry = AuditEntry {
        seq: prev_seq + 1,
        at: at.to_string(),
        actor: change.actor.to_string(),
        acting_as: change.acting_as.map(str::to_string),
        action: change.action.to_string(),
        entity: change.entity.to_string(),
        entity_id: change.entity_id.to_string(),
        change: serde_json::json!({ "before": change.before, "after": change.after }).to_string(),
        host: origin.host.clone(),
        client: origin.client.clone(),
        version: origin.version.clone(),
        prev_hash,
        hash: String::new(),
    }
    .seal();
    conn.execute(
        "INSERT INTO audit_log (seq, at, actor, acting_as, action, entity, entity_id, change, host, client,
                                version, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            entry.seq,
            entry.at,
            entry.actor,
            entry.acting_as,
            entry.action,
            entry.entity,
            entry.entity_id,
            entry.change,
            entry.host,
            entry.client,
            entry.version,
            entry.prev_hash,
            entry.hash
        ],
    )?;
    conn.execute(
        "INSERT INTO job_state (key, value) VALUES ('audit_head', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [entry.seq.to_string()],
    )?;
    Ok(entry.seq)
}

const ENTRY_COLUMNS: &str =
    "seq, at, actor, acting_as, action, entity, entity_id, change, host, client, version, prev_hash, hash";

fn entry_from_row(r: &rusqlite::Row) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        acting_as: r.get(3)?,
        action: r.get(4)?,
        entity: r.get(5)?,
        entity_id: r.get(6)?,
        change: r.get(7)?,
        host: r.get(8)?,
        client: r.get(9)?,
        version: r.get(10)?,
        prev_hash: r.get(11)?,
        hash: r.get(12)?,
    })
}

/// Up to `limit` entries with `seq` above `after`, oldest first.
pub fn list(conn: &Connection, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut stmt =
        conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"))?;
    let entries = stmt.query_map(params![after, limit as i64], entry_from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(entries)
}

/// Up to `limit` entries with `seq` below `before`, oldest first.
pub fn list_before(conn: &Connection, before: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut stmt =
        conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2"))?;
    let mut entries: Vec<AuditEntry> =
        stmt.query_map(params![before, limit as i64], entry_from_row)?.collect::<rusqlite::Result<_>>()?;
    entries.reverse();
    Ok(entries)
}

/// Walks the whole chain in order. `Ok(Ok(n))`: n entries, all whole.
pub fn verify(conn: &Connection) -> Result<std::result::Result<i64, ChainBreak>> {
    let head: Option<String> =
        conn.query_row("SELECT value FROM job_state WHERE key = 'audit_head'", [], |r| r.get(0)).optional()?;
    let mut verifier = ChainVerifier::new(head.and_then(|h| h.parse().ok()));
    let mut stmt = conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        if let Err(broken) = verifier.check(&entry_from_row(row)?) {
            return Ok(Err(broken));
        }
    }
    Ok(verifier.finish())
}
