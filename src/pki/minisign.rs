//! minisign public keys (Rekor `pkg/pki/minisign`, jedisct1/go-minisign).
//!
//! Three stored forms exist: the key file text (comment line, then base64),
//! the bare base64 line, and — from servers before rekor PR #562 — the
//! 32 raw Ed25519 bytes. All canonicalise to the base64 of
//! algorithm ‖ key id ‖ key, without a newline.

use super::{gobase64, PkiError, PublicKey};

/// algorithm (2) + key id (8) + Ed25519 key (32).
const ENCODED_KEY_LEN: usize = 42;

/// A parsed minisign key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinisignKey {
    algorithm: [u8; 2],
    key_id: [u8; 8],
    key: [u8; 32],
}

impl MinisignKey {
    /// Rekor `minisign.NewPublicKey`.
    pub fn parse(input: &[u8]) -> Result<MinisignKey, PkiError> {
        // go-minisign DecodePublicKey: everything after the first "\n".
        if let Some(i) = input.iter().position(|&b| b == b'\n') {
            if let Some(key) = decode_base64_key(&input[i + 1..]) {
                return Ok(key);
            }
        }
        if let Some(key) = decode_base64_key(input) {
            return Ok(key);
        }
        if let Ok(key) = <[u8; 32]>::try_from(input) {
            return Ok(MinisignKey {
                algorithm: *b"Ed",
                key_id: [0; 8],
                key,
            });
        }
        Err(PkiError::new(
            "unable to read minisign public key: Invalid encoded public key",
        ))
    }
}

/// go-minisign `NewPublicKey`: the text must decode to exactly 42 bytes.
fn decode_base64_key(text: &[u8]) -> Option<MinisignKey> {
    let bin = gobase64::decode(text).ok()?;
    if bin.len() != ENCODED_KEY_LEN {
        return None;
    }
    Some(MinisignKey {
        algorithm: bin[0..2].try_into().ok()?,
        key_id: bin[2..10].try_into().ok()?,
        key: bin[10..42].try_into().ok()?,
    })
}

impl PublicKey for MinisignKey {
    fn canonical_value(&self) -> Result<Vec<u8>, PkiError> {
        let bin = [&self.algorithm[..], &self.key_id, &self.key].concat();
        Ok(gobase64::encode(&bin).into_bytes())
    }

    fn subjects(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use sha2::{Digest, Sha256};

    /// The key line of the docs/INDEX_KEYS.md §8 minisign vector, in key-file form.
    const FILE: &str = "untrusted comment: minisign public key\nRWQ/VK4mEZOSnVFf2NhEt9WV8zE1RcN8mtKeOO7mVjj/MCDvb5tSV6RD\n";

    #[test]
    fn spec_vector_key_hash() {
        let key = MinisignKey::parse(FILE.as_bytes()).unwrap();
        let canon = key.canonical_value().unwrap();
        assert_eq!(
            canon,
            b"RWQ/VK4mEZOSnVFf2NhEt9WV8zE1RcN8mtKeOO7mVjj/MCDvb5tSV6RD"
        );
        assert_eq!(
            hex::encode(Sha256::digest(&canon)),
            "0f60040dac41a2a79009d34a53feb0dd03388259a618d731b033e4bc0b09aacf"
        );
    }

    #[test]
    fn all_three_forms_parse_and_canonicalise() {
        let from_file = MinisignKey::parse(FILE.as_bytes()).unwrap();
        let line = FILE.lines().nth(1).unwrap();
        let from_line = MinisignKey::parse(line.as_bytes()).unwrap();
        assert_eq!(from_file, from_line);
        assert_eq!(from_file.canonical_value().unwrap(), line.as_bytes());
        let raw = &gobase64::decode(line.as_bytes()).unwrap()[10..];
        let legacy = MinisignKey::parse(raw).unwrap();
        let canon = String::from_utf8(legacy.canonical_value().unwrap()).unwrap();
        let decoded = gobase64::decode(canon.as_bytes()).unwrap();
        assert_eq!(&decoded[..10], b"Ed\0\0\0\0\0\0\0\0");
        assert_eq!(&decoded[10..], raw);
        assert!(legacy.subjects().is_empty());
    }

    #[test]
    fn rejects_wrong_lengths() {
        assert!(MinisignKey::parse(b"c\nAAAA").is_err());
        assert!(MinisignKey::parse(&[0u8; 31]).is_err());
    }
}
