//! OpenPGP public keys as Rekor v1.5.4 sees them (`pkg/pki/pgp`, built on
//! ProtonMail go-crypto v1.4.1): `NewPublicKey`, `CanonicalValue`,
//! `Subjects` (INDEX_KEYS.md §5.2).
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
//! hashes, `ed25519-dalek` and `num-bigint` ([`verify`] says why).
//!
//! Known, documented gaps (none of them can occur in a body Rekor stored,
//! which always holds a public key block go-crypto wrote): the secret part
//! of secret-key packets is not validated; message packets (literal,
//! compressed, encrypted, one-pass) inside a key block are skipped without
//! looking at their content; Ed448 signatures are not verified; a base64
//! padding character in the middle of an armored body is always an error.

mod armor;
mod curves;
mod entity;
mod key;
mod packet;
mod signature;
mod userid;
mod verify;

use super::{PkiError, PublicKey};
use entity::Entity;

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
        let entities = if input.starts_with(START) {
            read_armored(input)?
        } else {
            entity::read_key_ring(input)
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
fn read_armored(input: &[u8]) -> Result<Vec<Entity>, PkiError> {
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
        let ring = entity::read_key_ring(&body)
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
