//! Maps and sets keyed by row ids, hashed with one multiply instead of SipHash: the daily job
//! builds several over every active enrollment, and the keys are the database's own integers.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash's mixing step (as in rustc): rotate, xor, multiply by an odd constant.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;
pub type IdSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

/// [`IdHasher`] for text keys (an import's student and program IDs). A multiply carries each
/// byte only upwards, so the low bits a table picks its bucket by would hardly differ between
/// IDs that differ only in their last characters — `S0000001`, `S0000002` … collide. A final
/// mix (MurmurHash3's) spreads every bit of the state over the whole hash.
#[derive(Default, Clone, Copy)]
pub struct TextHasher(IdHasher);

impl Hasher for TextHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    fn write_u8(&mut self, n: u8) {
        self.0.write_u64(u64::from(n));
    }

    fn finish(&self) -> u64 {
        let mut h = self.0.finish();
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A map keyed by text IDs.
pub type TextMap<V> = HashMap<String, V, BuildHasherDefault<TextHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn ids_that_differ_only_in_their_last_characters_land_in_different_buckets() {
        let hasher = BuildHasherDefault::<TextHasher>::default();
        let buckets: HashSet<u64> = (0..10_000).map(|i| hasher.hash_one(format!("S{i:07}")) & 0xFFFF).collect();
        assert!(buckets.len() > 8_000, "only {} of 65,536 buckets for 10,000 IDs", buckets.len());
    }
}
