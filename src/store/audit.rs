//! The audit log table: appending a chained entry, listing, and verifying the chain; and the
//! key the chain is sealed with.
//!
//! The last entry written (`seq:hash`, tagged with the key) is also kept in `job_state`
//! (`audit_head`), so entries cut from the end, or added after it, are noticed too.
//!
//! The key lives in a file beside the database, `FILE.db.audit-key`, mode 0600: only the
//! account that owns the data can read it (with the supported deployment, the `muster` service
//! account; see the README). The file also says from which entry on the chain is keyed, so a
//! database written before muster kept a key still verifies its older, plain SHA-256 entries.

use super::Cached;
use super::{Result, StoreError};
use crate::domain::audit::{AuditEntry, AuditKey, ChainBreak, ChainVerifier, GENESIS, Head};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// The chain's key and the first entry sealed with it.
#[derive(Debug, Clone)]
pub struct Keyring {
    pub key: AuditKey,
    pub keyed_from: i64,
}

/// The key as this process found it: read, or why not.
#[derive(Debug, Clone)]
pub enum KeyState {
    Ready(Keyring),
    Unreadable { path: PathBuf, why: String },
}

impl KeyState {
    fn keyring(&self) -> Result<&Keyring> {
        match self {
            KeyState::Ready(keyring) => Ok(keyring),
            KeyState::Unreadable { path, why } => Err(StoreError::Denied(format!(
                "the audit key {} cannot be read ({why}); only the account that owns the data can change or verify it",
                path.display()
            ))),
        }
    }
}

pub fn key_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".audit-key");
    PathBuf::from(name)
}

const KEY_HEADER: &str = "muster audit key v1";
const KEYED_MARK: &str = "audit_keyed";

fn parse_key_file(text: &str) -> Option<Keyring> {
    let mut lines = text.lines();
    if lines.next()? != KEY_HEADER {
        return None;
    }
    let (mut key, mut keyed_from) = (None, None);
    for line in lines {
        match line.split_once(' ') {
            Some(("key", hex)) if hex.len() == 64 => {
                let mut bytes = [0u8; 32];
                for (i, byte) in bytes.iter_mut().enumerate() {
                    *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
                }
                key = Some(AuditKey(bytes));
            }
            Some(("keyed-from", seq)) => keyed_from = seq.parse().ok(),
            _ => {}
        }
    }
    Some(Keyring { key: key?, keyed_from: keyed_from? })
}

fn read_key(path: &Path) -> KeyState {
    let unreadable = |why: String| KeyState::Unreadable { path: path.to_path_buf(), why };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            parse_key_file(&text).map_or_else(|| unreadable("it is not a muster audit key".into()), KeyState::Ready)
        }
        Err(e) => unreadable(e.to_string()),
    }
}

/// Reads the chain's key, making one the first time a database is opened for writing. A
/// database that had a key and lost it gets no new one: its chain can no longer be extended or
/// checked until the key is restored from a backup.
pub fn load_or_create_key(conn: &Connection, db: &Path, writable: bool) -> Result<KeyState> {
    let path = key_path(db);
    if path.exists() || !writable {
        return Ok(read_key(&path));
    }
    let had_key: bool =
        conn.query_row_cached("SELECT EXISTS (SELECT 1 FROM job_state WHERE key = ?1)", [KEYED_MARK], |r| r.get(0))?;
    if had_key {
        return Ok(KeyState::Unreadable {
            path: path.clone(),
            why: "it is missing; restore it from a backup of this database's files".into(),
        });
    }
    let last: i64 = conn.query_row_cached("SELECT ifnull(max(seq), 0) FROM audit_log", [], |r| r.get(0))?;
    let keyring = Keyring {
        key: AuditKey(random_bytes().map_err(|source| StoreError::Io { path: "/dev/urandom".into(), source })?),
        keyed_from: last + 1,
    };
    let hex: String = keyring.key.0.iter().map(|b| format!("{b:02x}")).collect();
    write_new_private(&path, &format!("{KEY_HEADER}\nkey {hex}\nkeyed-from {}\n", keyring.keyed_from))
        .map_err(|source| StoreError::Io { path: path.clone(), source })?;
    conn.execute_cached(
        "INSERT INTO job_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        params![KEYED_MARK, keyring.keyed_from.to_string()],
    )?;
    Ok(KeyState::Ready(keyring))
}

fn random_bytes() -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}

fn write_new_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = super::create_private(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

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

/// Appends one entry and returns the log's new head, which the caller keys with `write_head`
/// before its transaction ends (once, however many entries it appended). Call inside the
/// transaction that makes the change it records, opened with `BEGIN IMMEDIATE` so that no other
/// writer can take the same sequence number. `last` is the head this transaction appended last.
pub fn append(
    conn: &Connection,
    origin: &Origin,
    key: &KeyState,
    at: &str,
    change: Change,
    last: Option<Head>,
) -> Result<Head> {
    let keyring = key.keyring()?;
    let last = match last {
        Some(head) => Some((head.seq, head.hash)),
        None => conn
            .query_row_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?,
    };
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
    };
    let entry = entry.clone().seal((entry.seq >= keyring.keyed_from).then_some(&keyring.key));
    conn.execute_cached(
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
    Ok(Head { seq: entry.seq, hash: entry.hash })
}

/// Records the log's head with its key's tag, so that cutting entries off the end shows.
pub fn write_head(conn: &Connection, key: &KeyState, head: &Head) -> Result<()> {
    let tag = key.keyring()?.key.head_tag(head);
    conn.execute_cached(
        "INSERT INTO job_state (key, value) VALUES ('audit_head', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [format!("{head}:{tag}")],
    )?;
    Ok(())
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
    list_matching(conn, after, limit, None)
}

/// Entries whose who, action or what contain `text` (any case): the console's `/`.
const MATCHING: &str = "(?3 IS NULL OR instr(lower(actor || ' ' || ifnull(acting_as, '') || ' ' || action || ' '
                                  || entity || ' ' || entity_id), lower(?3)) > 0)";

/// `list`, only the entries matching `text`.
pub fn list_matching(conn: &Connection, after: i64, limit: usize, text: Option<&str>) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > ?1 AND {MATCHING} ORDER BY seq LIMIT ?2"
    ))?;
    let entries =
        stmt.query_map(params![after, limit as i64, text], entry_from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(entries)
}

/// Up to `limit` entries with `seq` below `before` (and matching `text`), oldest first.
pub fn list_before(conn: &Connection, before: i64, limit: usize, text: Option<&str>) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq < ?1 AND {MATCHING} ORDER BY seq DESC LIMIT ?2"
    ))?;
    let mut entries: Vec<AuditEntry> =
        stmt.query_map(params![before, limit as i64, text], entry_from_row)?.collect::<rusqlite::Result<_>>()?;
    entries.reverse();
    Ok(entries)
}

/// The head as recorded in `job_state`, if its tag is the key's. `Err` when the record is there
/// but was not written with this key.
fn recorded_head(conn: &Connection, keyring: &Keyring) -> Result<std::result::Result<Option<Head>, ChainBreak>> {
    let value: Option<String> =
        conn.query_row_cached("SELECT value FROM job_state WHERE key = 'audit_head'", [], |r| r.get(0)).optional()?;
    let Some(value) = value else { return Ok(Ok(None)) };
    let Some((head, tag)) = value.rsplit_once(':') else {
        // Written before the log had a key: only the sequence number.
        let legacy = value.parse().ok().filter(|seq| *seq < keyring.keyed_from);
        return Ok(legacy.map(|seq| Some(Head { seq, hash: String::new() })).ok_or(ChainBreak::HeadAltered));
    };
    match head.parse::<Head>() {
        Ok(head) if keyring.key.head_tag(&head) == tag => Ok(Ok(Some(head))),
        _ => Ok(Err(ChainBreak::HeadAltered)),
    }
}

/// The last entry of the log, as `audit head` prints it for publishing.
pub fn head(conn: &Connection) -> Result<Option<Head>> {
    Ok(conn
        .query_row_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok(Head { seq: r.get(0)?, hash: r.get(1)? })
        })
        .optional()?)
}

/// Walks the whole chain in order. `Ok(Ok(n))`: n entries, all whole. With `since`, a head
/// published earlier, the log must still hold that entry unchanged.
pub fn verify(conn: &Connection, key: &KeyState, since: Option<&Head>) -> Result<std::result::Result<i64, ChainBreak>> {
    let keyring = key.keyring()?;
    let head = match recorded_head(conn, keyring)? {
        Ok(head) => head,
        Err(broken) => return Ok(Err(broken)),
    };
    let mut verifier = ChainVerifier::new(head, Some(&keyring.key), keyring.keyed_from);
    let mut stmt = conn.prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY seq"))?;
    let mut rows = stmt.query_map([], entry_from_row)?.peekable();
    let mut published_found = false;
    while let Some(entry) = rows.next() {
        let entry = entry?;
        let next = match rows.peek() {
            Some(Ok(next)) => Some(next.clone()),
            _ => None,
        };
        if let Some(since) = since
            && since.seq == entry.seq
        {
            if since.hash != entry.hash {
                return Ok(Err(ChainBreak::NotThePublishedHead { seq: since.seq }));
            }
            published_found = true;
        }
        if let Err(broken) = verifier.check(&entry, next.as_ref()) {
            return Ok(Err(broken));
        }
    }
    let verdict = verifier.finish();
    if let (Ok(count), Some(since)) = (&verdict, since)
        && !published_found
    {
        return Ok(Err(ChainBreak::PublishedHeadMissing { seq: since.seq, last: *count }));
    }
    Ok(verdict)
}
