//! The audit chain: how an entry's hash is computed and how a broken chain is recognised.
//!
//! Each entry stores the SHA-256 of the entry before it and its own SHA-256 over every field,
//! so an edited, removed or inserted entry breaks the chain at a place we can name.

use sha2::{Digest, Sha256};
use std::fmt;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub acting_as: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub change: String,
    pub host: String,
    pub client: String,
    pub version: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry must carry: every field but `hash` itself, in a fixed order,
    /// separated by a byte that cannot occur in the text fields' JSON or names.
    pub fn expected_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let seq = self.seq.to_string();
        let fields: [&str; 12] = [
            &seq,
            &self.at,
            &self.actor,
            self.acting_as.as_deref().unwrap_or(""),
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.change,
            &self.host,
            &self.client,
            &self.version,
            &self.prev_hash,
        ];
        for field in fields {
            hasher.update(field.as_bytes());
            hasher.update([0x1f]);
        }
        format!("{:x}", hasher.finalize())
    }

    pub fn seal(mut self) -> Self {
        self.hash = self.expected_hash();
        self
    }
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's fields no longer match its own hash.
    Altered { seq: i64 },
    /// Sequence numbers jump: entries `first..=last` are gone.
    Removed { first: i64, last: i64 },
    /// The entry is intact in itself but does not follow the one before: something was put
    /// in front of it, or it was put there.
    Inserted { seq: i64 },
    /// Entries after the last one muster recorded writing.
    Appended { seq: i64 },
    /// The last entries muster recorded writing are gone.
    Truncated { first: i64, last: i64 },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::Altered { seq } => {
                write!(f, "audit entry {seq} was altered: its contents no longer match its hash")
            }
            ChainBreak::Removed { first, last } if first == last => {
                write!(f, "audit entry {first} was removed: the chain jumps from {} to {}", first - 1, last + 1)
            }
            ChainBreak::Removed { first, last } => {
                write!(
                    f,
                    "audit entries {first} to {last} were removed: the chain jumps from {} to {}",
                    first - 1,
                    last + 1
                )
            }
            ChainBreak::Inserted { seq } => {
                write!(f, "audit entry {seq} was inserted or replaced: it does not follow the entry before it")
            }
            ChainBreak::Appended { seq } => {
                write!(f, "audit entry {seq} was inserted: it lies after the last entry muster wrote")
            }
            ChainBreak::Truncated { first, last } => {
                write!(f, "audit entries {first} to {last} were removed from the end of the log")
            }
        }
    }
}

/// Checks entries one at a time, in `seq` order, so a log of any size verifies in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
    /// The last sequence number muster recorded writing, if it recorded one.
    head: Option<i64>,
}

impl ChainVerifier {
    pub fn new(head: Option<i64>) -> Self {
        ChainVerifier { next_seq: 1, prev_hash: GENESIS.to_string(), head }
    }

    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        if let Some(head) = self.head
            && entry.seq > head
        {
            return Err(ChainBreak::Appended { seq: entry.seq });
        }
        if entry.seq < self.next_seq {
            return Err(ChainBreak::Inserted { seq: entry.seq });
        }
        if entry.seq > self.next_seq {
            return Err(ChainBreak::Removed { first: self.next_seq, last: entry.seq - 1 });
        }
        if entry.expected_hash() != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::Inserted { seq: entry.seq });
        }
        self.next_seq += 1;
        self.prev_hash = entry.hash.clone();
        Ok(())
    }

    /// Call after the last entry; returns how many entries were checked.
    pub fn finish(self) -> Result<i64, ChainBreak> {
        let checked = self.next_seq - 1;
        match self.head {
            Some(head) if head > checked => Err(ChainBreak::Truncated { first: checked + 1, last: head }),
            _ => Ok(checked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry {
                    seq,
                    at: format!("2026-01-01T00:00:{seq:02}Z"),
                    actor: "root".into(),
                    acting_as: None,
                    action: "user.add".into(),
                    entity: "user".into(),
                    entity_id: format!("u{seq}"),
                    change: r#"{"before":null,"after":{}}"#.into(),
                    host: "h".into(),
                    client: "local".into(),
                    version: "0.1.0".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                }
                .seal();
                prev = entry.hash.clone();
                entry
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: Option<i64>) -> Result<i64, ChainBreak> {
        let mut verifier = ChainVerifier::new(head);
        for e in entries {
            verifier.check(e)?;
        }
        verifier.finish()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5), Some(5)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn an_edit_is_named() {
        let mut entries = chain(5);
        entries[2].actor = "mallory".into();
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn a_removal_is_named() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Removed { first: 2, last: 2 }));
        let mut tail_cut = chain(5);
        tail_cut.pop();
        assert_eq!(verify(&tail_cut, Some(5)), Err(ChainBreak::Truncated { first: 5, last: 5 }));
    }

    #[test]
    fn a_resealed_replacement_is_named() {
        let mut entries = chain(5);
        // A forger who knows the hash rule re-seals an edited entry; the next link still breaks.
        entries[2].actor = "mallory".into();
        entries[2] = entries[2].clone().seal();
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Inserted { seq: 4 }));
    }

    #[test]
    fn an_appended_entry_is_named() {
        let mut entries = chain(5);
        let mut extra = entries[4].clone();
        extra.seq = 6;
        extra.prev_hash = entries[4].hash.clone();
        entries.push(extra.seal());
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Appended { seq: 6 }));
    }
}
