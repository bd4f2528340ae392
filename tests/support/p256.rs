//! A fresh ECDSA P-256 key pair and its SubjectPublicKeyInfo DER, the kind
//! of key a Rekor log signs with. Shared by the `--verify-log` tests and
//! benches/verify.rs (which includes this file by path).

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

/// The DER prefix of a P-256 SPKI: SEQUENCE { id-ecPublicKey, prime256v1 },
/// then the BIT STRING header of the 65-byte uncompressed point.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A new key pair and the DER of its public key.
pub fn key_pair(rng: &SystemRandom) -> (EcdsaKeyPair, Vec<u8>) {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, rng)
        .expect("generating a P-256 key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), rng)
        .expect("reading back the generated key");
    let mut spki = SPKI_PREFIX.to_vec();
    spki.extend_from_slice(pair.public_key().as_ref());
    (pair, spki)
}
