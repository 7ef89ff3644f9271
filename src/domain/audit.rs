//! The audit chain: how an entry's hash is computed and how a broken chain is recognised.
//!
//! Each entry stores the hash of the entry before it and its own hash over every field, so an
//! edited, removed or inserted entry breaks the chain at a place we can name. The hash is an
//! HMAC-SHA-256 keyed with a secret only the account owning the data can read, so someone who
//! can write the file but not read the key cannot re-seal what they changed. (Entries written
//! before muster kept a key carry plain SHA-256 and are checked as such.) Against the owner of
//! the key itself, a published head (`SEQ:HASH`) is the witness: a log rewritten, cut or emptied
//! no longer contains it.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;

/// The secret the chain is keyed with.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey(pub [u8; 32]);

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

impl AuditKey {
    fn mac(&self) -> Hmac<Sha256> {
        // An HMAC takes a key of any length; 32 bytes cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    /// The tag that binds the stored head (`seq:hash`) to the key.
    pub fn head_tag(&self, head: &Head) -> String {
        let mut mac = self.mac();
        mac.update(format!("head\x1f{}:{}", head.seq, head.hash).as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The last entry of a log: what `audit head` prints and `verify --since` checks against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;
    fn from_str(text: &str) -> Result<Head, String> {
        let bad = || {
            format!(
                "'{}' is not an audit head: expected SEQ:HASH as `muster audit head` prints it",
                super::text::shown(text)
            )
        };
        let (seq, hash) = text.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Head { seq, hash: hash.to_ascii_lowercase() })
    }
}

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
    /// separated by a byte that cannot occur in the text fields' JSON or names; keyed with `key`
    /// (plain SHA-256 for entries written before the log had a key).
    pub fn expected_hash(&self, key: Option<&AuditKey>) -> String {
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
        match key {
            Some(key) => {
                let mut mac = key.mac();
                for field in fields {
                    mac.update(field.as_bytes());
                    mac.update(&[0x1f]);
                }
                hex(&mac.finalize().into_bytes())
            }
            None => {
                let mut hasher = Sha256::new();
                for field in fields {
                    hasher.update(field.as_bytes());
                    hasher.update([0x1f]);
                }
                format!("{:x}", hasher.finalize())
            }
        }
    }

    pub fn seal(mut self, key: Option<&AuditKey>) -> Self {
        self.hash = self.expected_hash(key);
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
    /// The entry is intact in itself but does not follow the one before, and the one after does
    /// not follow it either: it was put there.
    Inserted { seq: i64 },
    /// The entry is intact in itself, but the entry after it was chained to something else:
    /// it was changed and sealed again.
    Resealed { seq: i64 },
    /// Entries after the last one muster recorded writing.
    Appended { seq: i64 },
    /// The last entries muster recorded writing are gone.
    Truncated { first: i64, last: i64 },
    /// The record of the last entry written was changed or removed.
    HeadAltered,
    /// No entries at all: every muster database has some from the moment it is created.
    Empty,
    /// The entry a published head names is there, but with another hash.
    NotThePublishedHead { seq: i64 },
    /// The log ends before the entry a published head names.
    PublishedHeadMissing { seq: i64, last: i64 },
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
            ChainBreak::Resealed { seq } => {
                write!(f, "audit entry {seq} was altered and sealed again: the entry after it no longer follows it")
            }
            ChainBreak::Appended { seq } => {
                write!(f, "audit entry {seq} was inserted: it lies after the last entry muster wrote")
            }
            ChainBreak::Truncated { first, last } => {
                write!(f, "audit entries {first} to {last} were removed from the end of the log")
            }
            ChainBreak::HeadAltered => f.write_str("the record of the last audit entry written was changed or removed"),
            ChainBreak::Empty => f.write_str("the audit log is empty: its entries were deleted"),
            ChainBreak::NotThePublishedHead { seq } => write!(
                f,
                "audit entry {seq} is not the one published: the log was rewritten from entry {seq} or before"
            ),
            ChainBreak::PublishedHeadMissing { seq, last } => write!(
                f,
                "the published head names entry {seq}, but the log ends at entry {last}: entries were removed"
            ),
        }
    }
}

/// Checks entries one at a time, in `seq` order, so a log of any size verifies in constant memory.
#[derive(Debug)]
pub struct ChainVerifier<'k> {
    next_seq: i64,
    prev_hash: String,
    /// The last entry muster recorded writing, if it recorded one.
    head: Option<Head>,
    key: Option<&'k AuditKey>,
    /// The first entry sealed with the key; those before carry plain SHA-256.
    keyed_from: i64,
}

impl<'k> ChainVerifier<'k> {
    pub fn new(head: Option<Head>, key: Option<&'k AuditKey>, keyed_from: i64) -> Self {
        ChainVerifier { next_seq: 1, prev_hash: GENESIS.to_string(), head, key, keyed_from }
    }

    fn key_for(&self, seq: i64) -> Option<&'k AuditKey> {
        if seq >= self.keyed_from { self.key } else { None }
    }

    /// Checks `entry`; `next` is the entry after it, if any, which tells a re-sealed entry from
    /// an inserted one.
    pub fn check(&mut self, entry: &AuditEntry, next: Option<&AuditEntry>) -> Result<(), ChainBreak> {
        if let Some(head) = &self.head
            && entry.seq > head.seq
        {
            return Err(ChainBreak::Appended { seq: entry.seq });
        }
        if entry.seq < self.next_seq {
            return Err(ChainBreak::Inserted { seq: entry.seq });
        }
        if entry.seq > self.next_seq {
            return Err(ChainBreak::Removed { first: self.next_seq, last: entry.seq - 1 });
        }
        if entry.expected_hash(self.key_for(entry.seq)) != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            // Either the entry before was changed and sealed again, or this one was put here.
            // If what follows this entry still follows it, this entry is where it always was.
            let stays = match next {
                Some(next) => next.prev_hash == entry.hash,
                // A head recorded before the log had a key names no hash.
                None => self.head.as_ref().is_some_and(|head| head.hash == entry.hash),
            };
            return Err(if stays && entry.seq > 1 {
                ChainBreak::Resealed { seq: entry.seq - 1 }
            } else {
                ChainBreak::Inserted { seq: entry.seq }
            });
        }
        self.next_seq += 1;
        self.prev_hash = entry.hash.clone();
        Ok(())
    }

    /// Call after the last entry; returns how many entries were checked.
    pub fn finish(self) -> Result<i64, ChainBreak> {
        let checked = self.next_seq - 1;
        if checked == 0 {
            return Err(ChainBreak::Empty);
        }
        match self.head {
            Some(head) if head.seq > checked => Err(ChainBreak::Truncated { first: checked + 1, last: head.seq }),
            Some(head) if !head.hash.is_empty() && head.hash != self.prev_hash => Err(ChainBreak::HeadAltered),
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
                .seal(Some(&key()));
                prev = entry.hash.clone();
                entry
            })
            .collect()
    }

    fn key() -> AuditKey {
        AuditKey([7; 32])
    }

    fn verify(entries: &[AuditEntry], head: Option<i64>) -> Result<i64, ChainBreak> {
        let full = chain(head.unwrap_or(0));
        let head = head.map(|seq| Head { seq, hash: full[seq as usize - 1].hash.clone() });
        let key = key();
        let mut verifier = ChainVerifier::new(head, Some(&key), 1);
        for (i, e) in entries.iter().enumerate() {
            verifier.check(e, entries.get(i + 1))?;
        }
        verifier.finish()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5), Some(5)), Ok(5));
        assert_eq!(verify(&[], None), Err(ChainBreak::Empty), "every database has entries");
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
    fn a_resealed_entry_is_named_not_its_neighbour() {
        // Someone holding the key edits entry 3 and seals it again: entry 4 no longer follows
        // it, but entry 5 still follows 4, so 3 is the one that changed.
        let mut entries = chain(5);
        entries[2].actor = "mallory".into();
        entries[2] = entries[2].clone().seal(Some(&key()));
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Resealed { seq: 3 }));
        // The same with the last-but-one entry: the head still names the last.
        let mut entries = chain(5);
        entries[3].actor = "mallory".into();
        entries[3] = entries[3].clone().seal(Some(&key()));
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Resealed { seq: 4 }));
    }

    #[test]
    fn without_the_key_a_forged_entry_cannot_be_sealed() {
        let mut entries = chain(5);
        entries[2].actor = "mallory".into();
        entries[2] = entries[2].clone().seal(None);
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Altered { seq: 3 }));
        let mut wrong_key = chain(5);
        wrong_key[2].actor = "mallory".into();
        wrong_key[2] = wrong_key[2].clone().seal(Some(&AuditKey([8; 32])));
        assert_eq!(verify(&wrong_key, Some(5)), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn a_forged_entry_inserted_by_renumbering_is_named() {
        let mut entries = chain(5);
        let mut forged = entries[1].clone();
        forged.seq = 3;
        forged.entity_id = "ghost".into();
        forged.prev_hash = entries[1].hash.clone();
        let forged = forged.seal(None);
        for e in entries.iter_mut().skip(2) {
            e.seq += 1;
        }
        entries.insert(2, forged);
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn heads_parse_and_print_alike() {
        let head: Head = format!("12:{}", "ab".repeat(32)).parse().unwrap();
        assert_eq!(head.seq, 12);
        assert_eq!(head.to_string().parse::<Head>(), Ok(head));
        for bad in ["", "12", "x:ab", "0:abab", &format!("3:{}", "zz".repeat(32))] {
            assert!(bad.parse::<Head>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_appended_entry_is_named() {
        let mut entries = chain(5);
        let mut extra = entries[4].clone();
        extra.seq = 6;
        extra.prev_hash = entries[4].hash.clone();
        entries.push(extra.seal(Some(&key())));
        assert_eq!(verify(&entries, Some(5)), Err(ChainBreak::Appended { seq: 6 }));
    }
}
