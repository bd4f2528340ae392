//! OpenPGP public keys as Rekor v1.5.4 sees them (`pkg/pki/pgp`, built on
//! ProtonMail go-crypto v1.4.1): `NewPublicKey`, `CanonicalValue`,
//! `Subjects` (docs/INDEX_KEYS.md §5.2).
//!
//! The canonical value is go-crypto re-serialising the entities it kept, so
//! both halves matter byte for byte: which packets survive parsing (that
//! depends on signature verification) and how survivors are written back
//! (new-format headers, unhashed subpackets re-encoded, everything else
//! verbatim). No OpenPGP crate reproduces that: `pgp` (rpgp) normalises MPIs
//! and subpackets when it parses and applies its own acceptance rules, so
//! its output is a different byte string and its verdicts differ at the
//! edges. Packets are therefore parsed here, mirroring go-crypto's readers
//! and their error classes, and signatures are checked with RustCrypto
//! hashes, `ring`, `ed25519-dalek`, the RustCrypto curve crates and
//! `num-bigint` ([`verify`] says which does what).
//!
//! Known, documented gaps (none of them can occur in a body Rekor stored,
//! which always holds a public key block go-crypto wrote): the secret part
//! of secret-key packets is not validated; message packets (literal,
//! compressed, encrypted, one-pass) inside a key block are skipped without
//! looking at their content; Ed448 signatures are not verified; a base64
//! padding character in the middle of an armored body is always an error.

mod armor;
mod curves;
mod ecdsa;
mod entity;
mod key;
mod packet;
mod signature;
mod userid;
mod verify;
mod weierstrass;

use super::{PkiError, PublicKey};
use entity::Entity;
pub use key::{MAX_DSA_P_BITS, MAX_DSA_Q_BITS, MAX_RSA_BITS};
use verify::Budget;
pub use verify::MAX_SIGNATURE_CHECKS;

const START: &[u8] = b"-----BEGIN PGP";
const END: &[u8] = b"-----END PGP";
const PUBLIC_KEY_BLOCK: &[u8] = b"PGP PUBLIC KEY BLOCK";
const PRIVATE_KEY_BLOCK: &[u8] = b"PGP PRIVATE KEY BLOCK";
/// `bufio.MaxScanTokenSize`: longer lines stop Go's line scanner.
const MAX_LINE: usize = 64 * 1024;

/// A parsed OpenPGP key ring (one or more entities).
pub struct PgpKey {
    entities: Vec<Entity>,
}

impl PgpKey {
    /// Rekor `pgp.NewPublicKey`.
    pub fn parse(input: &[u8]) -> Result<PgpKey, PkiError> {
        if input.len() < START.len() {
            return Err(PkiError::new("unable to read PGP public key: EOF"));
        }
        let mut budget = Budget::default();
        let entities = if input.starts_with(START) {
            read_armored(input, &mut budget)?
        } else {
            entity::read_key_ring(input, &mut budget)
                .map_err(|e| PkiError::new(format!("error reading binary PGP public key: {e}")))?
        };
        let decryption_keys: usize = entities.iter().map(Entity::decryption_keys).sum();
        if entities.len() == decryption_keys {
            return Err(PkiError::new("no PGP public keys could be read"));
        }
        Ok(PgpKey { entities })
    }

    /// The user IDs of every entity, in serialisation order.
    pub fn user_ids(&self) -> impl Iterator<Item = &[u8]> {
        self.entities.iter().flat_map(Entity::user_ids)
    }
}

/// The armored branch of `NewPublicKey`: lines as `bufio.Scanner` splits
/// them, and every block that ends at a line starting `-----END PGP` read
/// as a key ring.
fn read_armored(input: &[u8], budget: &mut Budget) -> Result<Vec<Entity>, PkiError> {
    let mut entities = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        if line.len() >= MAX_LINE {
            return Err(PkiError::new(
                "error reading PGP public key: bufio.Scanner: token too long",
            ));
        }
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pending.extend_from_slice(line);
        pending.push(b'\n');
        if !line.starts_with(END) {
            continue;
        }
        let Some(block) = armor::decode(&pending) else {
            return Err(PkiError::new("invalid PGP public key provided: EOF"));
        };
        if block.kind != PUBLIC_KEY_BLOCK && block.kind != PRIVATE_KEY_BLOCK {
            return Err(PkiError::new("invalid PGP type detected"));
        }
        let body = block.body.ok_or_else(|| {
            PkiError::new("error reading PGP public key: armored body is corrupt")
        })?;
        let ring = entity::read_key_ring(&body, budget)
            .map_err(|e| PkiError::new(format!("error reading PGP public key: {e}")))?;
        entities.extend(ring);
        pending.clear();
    }
    Ok(entities)
}

impl PublicKey for PgpKey {
    /// The kept packets of every entity, armored without headers.
    fn canonical_value(&self) -> Result<Vec<u8>, PkiError> {
        let mut packets = Vec::new();
        for e in &self.entities {
            e.serialize(&mut packets);
        }
        Ok(armor::encode("PGP PUBLIC KEY BLOCK", &packets))
    }

    /// govalidator e-mails of the kept user IDs, not lowercased.
    fn subjects(&self) -> Vec<String> {
        self.user_ids().filter_map(userid::subject).collect()
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::*;

    /// The smallest PGP key stored in the corpus (armored).
    fn corpus_key() -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/corpus/entries.jsonl");
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|line| {
                let record: serde_json::Value = serde_json::from_str(line).unwrap();
                let body = STANDARD.decode(record["body"].as_str()?).ok()?;
                let body: serde_json::Value = serde_json::from_slice(&body).ok()?;
                let signature = &body["spec"]["signature"];
                (signature["format"] == "pgp").then(|| {
                    STANDARD
                        .decode(signature["publicKey"]["content"].as_str()?)
                        .ok()
                })?
            })
            .min_by_key(Vec::len)
            .unwrap()
    }

    /// The offset of the first signature packet's body in a stream of
    /// new-format packets.
    fn first_signature_body(mut packets: &[u8]) -> usize {
        let mut offset = 0;
        loop {
            let tag = packets[0] & 0x3f;
            assert_eq!(packets[0] & 0xc0, 0xc0, "new-format header");
            let (header, len) = match packets[1] {
                n @ 0..=191 => (2, usize::from(n)),
                n @ 192..=223 => (
                    3,
                    (usize::from(n - 192) << 8) + usize::from(packets[2]) + 192,
                ),
                255 => (
                    6,
                    u32::from_be_bytes(packets[2..6].try_into().unwrap()) as usize,
                ),
                _ => panic!("partial length"),
            };
            if tag == 2 {
                return offset + header;
            }
            offset += header + len;
            packets = &packets[header + len..];
        }
    }

    #[test]
    fn signature_checks_are_bounded_per_key() {
        let armored = corpus_key();
        let binary = armor::decode(&armored).unwrap().body.unwrap();
        let mut budget = Budget::default();
        assert_eq!(
            entity::read_key_ring(&binary, &mut budget).unwrap().len(),
            1
        );
        assert!(budget.used() >= 1);
        // The user ID's self-signature claims RSA sign-only for an RSA key:
        // one (cheap) failed check per copy, which sinks that entity.
        let mut bad = binary.clone();
        let sig = first_signature_body(&bad);
        assert_eq!(bad[sig..sig + 3], [4, 0x13, key::ALGO_RSA]);
        bad[sig + 2] = key::ALGO_RSA_SIGN_ONLY;
        let limit = format!("key needs more than {MAX_SIGNATURE_CHECKS} signature verifications");
        let at = PgpKey::parse(&bad.repeat(MAX_SIGNATURE_CHECKS))
            .err()
            .unwrap();
        assert!(at.to_string().contains("self-signature invalid"), "{at}");
        let over = PgpKey::parse(&bad.repeat(MAX_SIGNATURE_CHECKS + 1))
            .err()
            .unwrap();
        assert_eq!(
            over.to_string(),
            format!("error reading binary PGP public key: {limit}")
        );
        // Armored blocks share one budget: each block alone fits, two do not.
        let half = MAX_SIGNATURE_CHECKS / 2;
        let mut ring = bad.repeat(half);
        ring.extend_from_slice(&binary);
        let block = [armor::encode("PGP PUBLIC KEY BLOCK", &ring), b"\n".to_vec()].concat();
        assert!(half + budget.used() <= MAX_SIGNATURE_CHECKS);
        assert_eq!(PgpKey::parse(&block).unwrap().entities.len(), 1);
        let over = PgpKey::parse(&block.repeat(2)).err().unwrap();
        assert_eq!(
            over.to_string(),
            format!("error reading PGP public key: {limit}")
        );
    }
}
