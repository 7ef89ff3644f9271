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

/// A map keyed by text IDs. An ID of up to 15 bytes (nearly every one) is kept inside the table
/// with its length, so a lookup compares 16 bytes in place rather than following a pointer to
/// each candidate's text: at 100,000 students that pointer was a cache miss for every row of an
/// attendance import.
pub struct TextMap<V> {
    short: HashMap<u128, V, BuildHasherDefault<TextHasher>>,
    long: HashMap<String, V, BuildHasherDefault<TextHasher>>,
}

/// `id`'s bytes and its length in one number, when it fits.
fn packed(id: &str) -> Option<u128> {
    let bytes = id.as_bytes();
    (bytes.len() < 16).then(|| {
        let mut word = [0u8; 16];
        word[..bytes.len()].copy_from_slice(bytes);
        word[15] = bytes.len() as u8;
        u128::from_le_bytes(word)
    })
}

impl<V> Default for TextMap<V> {
    fn default() -> Self {
        TextMap { short: HashMap::default(), long: HashMap::default() }
    }
}

impl<V> TextMap<V> {
    pub fn get(&self, id: &str) -> Option<&V> {
        match packed(id) {
            Some(key) => self.short.get(&key),
            None => self.long.get(id),
        }
    }

    pub fn insert(&mut self, id: String, value: V) -> Option<V> {
        match packed(&id) {
            Some(key) => self.short.insert(key, value),
            None => self.long.insert(id, value),
        }
    }
}

impl<V> FromIterator<(String, V)> for TextMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(pairs: I) -> Self {
        let mut map = TextMap::default();
        for (id, value) in pairs {
            map.insert(id, value);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn ids_kept_in_place_and_ids_too_long_for_it_are_found_and_told_apart() {
        let ids = [
            "S1",
            "S10",
            "S1\0",
            "",
            "fifteen-bytes-1",
            "sixteen-bytes-16",
            "a much longer ID than sixteen bytes",
            "é",
        ];
        let map: TextMap<usize> = ids.iter().enumerate().map(|(i, id)| (id.to_string(), i)).collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(map.get(id), Some(&i), "{id:?}");
        }
        for unknown in
            ["S", "S100", "S1\0\0", "fifteen-bytes-2", "sixteen-bytes-17", "a much longer ID than sixteen byte"]
        {
            assert_eq!(map.get(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn ids_that_differ_only_in_their_last_characters_land_in_different_buckets() {
        let hasher = BuildHasherDefault::<TextHasher>::default();
        let buckets: HashSet<u64> = (0..10_000).map(|i| hasher.hash_one(format!("S{i:07}")) & 0xFFFF).collect();
        assert!(buckets.len() > 8_000, "only {} of 65,536 buckets for 10,000 IDs", buckets.len());
    }
}
