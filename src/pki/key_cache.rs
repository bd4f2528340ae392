//! A bounded cache of parsed PGP keys, by their bytes.
//!
//! Parsing a PGP key verifies its self-signatures (RSA and DSA dominate
//! the key computation of `rekord`, `rpm` and `helm` entries), and a
//! signer's key repeats in every entry it signed. What the index needs of a
//! key (its canonical value and subjects) depends only on its bytes, so it
//! is computed once per distinct key and kept, errors included, for the
//! [`MAX_KEYS`] most recently used keys within [`MAX_BYTES`]. One cache
//! for all workers: the lock is held for a lookup or an insert, never for a
//! parse.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::pgp::PgpKey;
use super::{PkiError, PublicKey};

/// Keys kept.
pub const MAX_KEYS: usize = 256;
/// Bytes kept: key bytes, canonical values and subjects together.
pub const MAX_BYTES: usize = 4 << 20;
/// A larger key is parsed every time rather than evict many others.
const MAX_ONE: usize = MAX_BYTES / 16;

/// What the index takes from a parsed PGP key.
#[derive(Debug)]
struct Parsed {
    canonical: Result<Vec<u8>, PkiError>,
    subjects: Vec<String>,
}

/// A PGP key parsed once; cheap to clone.
#[derive(Clone, Debug)]
pub struct CachedPgpKey(Arc<Parsed>);

impl PublicKey for CachedPgpKey {
    fn canonical_value(&self) -> Result<Vec<u8>, PkiError> {
        self.0.canonical.clone()
    }

    fn subjects(&self) -> Vec<String> {
        self.0.subjects.clone()
    }
}

type Outcome = Result<CachedPgpKey, PkiError>;

struct Slot {
    outcome: Outcome,
    used: u64,
    bytes: usize,
}

/// Least recently used first out; eviction scans the slots (at most
/// [`MAX_KEYS`], cheap next to one signature check).
#[derive(Default)]
struct Lru {
    slots: HashMap<Vec<u8>, Slot>,
    bytes: usize,
    clock: u64,
}

impl Lru {
    fn get(&mut self, key: &[u8]) -> Option<Outcome> {
        self.clock += 1;
        let slot = self.slots.get_mut(key)?;
        slot.used = self.clock;
        Some(slot.outcome.clone())
    }

    fn insert(&mut self, key: &[u8], outcome: Outcome) {
        let bytes = key.len() + outcome_bytes(&outcome);
        if bytes > MAX_ONE || self.slots.contains_key(key) {
            return;
        }
        while self.slots.len() >= MAX_KEYS || self.bytes + bytes > MAX_BYTES {
            let Some(oldest) = self
                .slots
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(slot) = self.slots.remove(&oldest) {
                self.bytes -= slot.bytes;
            }
        }
        self.clock += 1;
        self.bytes += bytes;
        let used = self.clock;
        self.slots.insert(
            key.to_vec(),
            Slot {
                outcome,
                used,
                bytes,
            },
        );
    }
}

fn outcome_bytes(outcome: &Outcome) -> usize {
    match outcome {
        Ok(key) => {
            let canonical = key.0.canonical.as_ref().map_or(0, Vec::len);
            canonical + key.0.subjects.iter().map(String::len).sum::<usize>()
        }
        Err(e) => e.message().len(),
    }
}

static CACHE: Mutex<Option<Lru>> = Mutex::new(None);

/// `PgpKey::parse(bytes)`, reduced to what the index takes, from the cache
/// when this key was seen recently.
pub fn pgp(bytes: &[u8]) -> Result<CachedPgpKey, PkiError> {
    if let Some(outcome) = with_cache(|lru| lru.get(bytes)) {
        return outcome;
    }
    let outcome = PgpKey::parse(bytes).map(|key| {
        CachedPgpKey(Arc::new(Parsed {
            canonical: key.canonical_value(),
            subjects: key.subjects(),
        }))
    });
    with_cache(|lru| lru.insert(bytes, outcome.clone()));
    outcome
}

fn with_cache<T>(f: impl FnOnce(&mut Lru) -> T) -> T {
    // A panic elsewhere while the lock was held leaves a consistent map:
    // every update is complete before the lock is released.
    let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Lru::default))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(n: usize) -> Outcome {
        Ok(CachedPgpKey(Arc::new(Parsed {
            canonical: Ok(vec![0; n]),
            subjects: vec![],
        })))
    }

    #[test]
    fn least_recently_used_goes_first() {
        let mut lru = Lru::default();
        for i in 0..MAX_KEYS {
            lru.insert(&i.to_be_bytes(), parsed(1));
        }
        assert!(lru.get(&0usize.to_be_bytes()).is_some());
        lru.insert(b"new", parsed(1));
        assert_eq!(lru.slots.len(), MAX_KEYS);
        assert!(lru.get(&0usize.to_be_bytes()).is_some(), "recently used");
        assert!(
            lru.get(&1usize.to_be_bytes()).is_none(),
            "least recently used"
        );
        assert!(lru.get(b"new").is_some());
    }

    #[test]
    fn bytes_are_bounded() {
        let mut lru = Lru::default();
        for i in 0..64usize {
            lru.insert(&i.to_be_bytes(), parsed(MAX_ONE - 8));
        }
        assert!(lru.bytes <= MAX_BYTES, "{}", lru.bytes);
        assert_eq!(lru.slots.len(), MAX_BYTES / MAX_ONE);
        lru.insert(b"huge", parsed(MAX_ONE));
        assert!(lru.get(b"huge").is_none(), "too large to keep");
    }

    #[test]
    fn errors_are_kept_and_equal_to_a_fresh_parse() {
        let bytes = b"-----BEGIN PGP PUBLIC KEY BLOCK-----\nnot a key\n";
        let first = pgp(bytes).unwrap_err();
        assert_eq!(pgp(bytes).unwrap_err(), first);
        assert_eq!(PgpKey::parse(bytes).err(), Some(first));
    }
}
