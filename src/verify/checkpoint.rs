//! The signed-note checkpoint of an inclusion proof: origin, tree size and
//! root hash, signed by the log (Rekor `pkg/util/signed_note.go`).
//!
//! Many entries share one checkpoint, so a verified checkpoint text is
//! remembered and its signature checked once, not once per entry.

use std::collections::HashSet;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::key::LogKey;

/// How many verified checkpoints are remembered; past this the cache
/// starts over (a long run sees a new checkpoint per tree growth).
const CACHE_LIMIT: usize = 4096;

/// A checkpoint whose signature verified with the log key.
#[derive(Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub size: u64,
    pub root_hash: Vec<u8>,
}

/// Checks checkpoint signatures, remembering those already verified.
#[derive(Default)]
pub struct CheckpointCache {
    verified: Mutex<HashSet<String>>,
}

impl CheckpointCache {
    /// The checkpoint's size and root, once its signature verifies.
    pub fn verify(&self, key: &LogKey, text: &str) -> Result<Checkpoint, String> {
        let (note, signatures) = split(text)?;
        let parsed = parse_note(note)?;
        let known = self
            .verified
            .lock()
            .map(|set| set.contains(text))
            .unwrap_or(false);
        if !known {
            if !signatures.lines().any(|line| signed_by(key, note, line)) {
                return Err("no checkpoint signature verifies with the log key".into());
            }
            if let Ok(mut set) = self.verified.lock() {
                if set.len() >= CACHE_LIMIT {
                    set.clear();
                }
                set.insert(text.to_string());
            }
        }
        Ok(parsed)
    }
}

/// The signed text (through its last newline) and the signature lines.
fn split(text: &str) -> Result<(&str, &str), String> {
    let at = text
        .find("\n\n")
        .ok_or("the checkpoint has no signature block")?;
    Ok((&text[..=at], &text[at + 2..]))
}

fn parse_note(note: &str) -> Result<Checkpoint, String> {
    let mut lines = note.lines();
    let origin = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err("the checkpoint has no origin line".into());
    }
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or("the checkpoint's second line is not a tree size")?;
    let root_hash = lines
        .next()
        .and_then(|l| STANDARD.decode(l).ok())
        .ok_or("the checkpoint's third line is not a base64 root hash")?;
    Ok(Checkpoint { size, root_hash })
}

/// `— <name> <base64(key hint ‖ signature)>`, checked against the note.
fn signed_by(key: &LogKey, note: &str, line: &str) -> bool {
    let Some(rest) = line.strip_prefix("\u{2014} ") else {
        return false;
    };
    let Some((_name, b64)) = rest.rsplit_once(' ') else {
        return false;
    };
    let Ok(bytes) = STANDARD.decode(b64) else {
        return false;
    };
    bytes.len() > 4 && bytes[..4] == key.note_hint() && key.verifies(note.as_bytes(), &bytes[4..])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::verify::key::tests::{sign, signer};
    use ring::signature::EcdsaKeyPair;

    /// A checkpoint as Rekor writes it, signed by `pair`.
    pub(crate) fn signed(pair: &EcdsaKeyPair, key: &LogKey, size: u64, root: &[u8]) -> String {
        let note = format!(
            "rekor.local - 1193050959916656506\n{size}\n{}\n",
            STANDARD.encode(root)
        );
        let mut sig = key.note_hint().to_vec();
        sig.extend(sign(pair, note.as_bytes()));
        format!("{note}\n\u{2014} rekor.local {}\n", STANDARD.encode(sig))
    }

    #[test]
    fn verifies_and_parses_a_signed_checkpoint() {
        let (pair, pem_text) = signer();
        let key = LogKey::from_pem(&pem_text).unwrap();
        let text = signed(&pair, &key, 12, &[7; 32]);
        let cache = CheckpointCache::default();
        let want = Checkpoint {
            size: 12,
            root_hash: vec![7; 32],
        };
        assert_eq!(cache.verify(&key, &text).unwrap(), want);
        // Again, from the cache.
        assert_eq!(cache.verify(&key, &text).unwrap(), want);
    }

    #[test]
    fn refuses_an_altered_note_or_signature() {
        let (pair, pem_text) = signer();
        let key = LogKey::from_pem(&pem_text).unwrap();
        let text = signed(&pair, &key, 12, &[7; 32]);
        let cache = CheckpointCache::default();
        let grown = text.replacen("\n12\n", "\n13\n", 1);
        assert!(cache
            .verify(&key, &grown)
            .unwrap_err()
            .contains("signature"));
        let (other_pair, _) = signer();
        let forged = signed(&other_pair, &key, 12, &[7; 32]);
        assert!(cache.verify(&key, &forged).is_err());
        assert!(cache.verify(&key, "no signatures\n").is_err());
    }
}
