//! The log's public key: parsed once from a PEM `PUBLIC KEY` (SPKI), then
//! used for the signed entry timestamps and the checkpoint signatures.

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use sha2::{Digest, Sha256};

use crate::pki::der::{tag, Der};
use crate::pki::pem;

/// id-ecPublicKey (1.2.840.10045.2.1).
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 (1.2.840.10045.3.1.7).
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// id-Ed25519 (1.3.101.112).
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// rsaEncryption (1.2.840.113549.1.1.1).
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A usable log key.
#[derive(Debug)]
pub struct LogKey {
    algorithm: &'static dyn VerificationAlgorithm,
    /// The key in the form `ring` takes (EC point, raw Ed25519, RSAPublicKey).
    raw: Vec<u8>,
    /// SHA-256 of the SPKI DER: Rekor's log ID, and the source of the
    /// checkpoint key hint.
    id: [u8; 32],
}

impl LogKey {
    /// Parses a PEM public key; the error says why it is unusable.
    pub fn from_pem(text: &[u8]) -> Result<LogKey, String> {
        let (block, _) = pem::decode(text).ok_or("no PEM block found")?;
        if block.kind != b"PUBLIC KEY" {
            return Err(format!(
                "a PEM block of type {:?}, expected PUBLIC KEY",
                String::from_utf8_lossy(&block.kind)
            ));
        }
        LogKey::from_spki(&block.bytes)
    }

    /// Parses a DER SubjectPublicKeyInfo.
    pub fn from_spki(spki: &[u8]) -> Result<LogKey, String> {
        let malformed = || "not a DER SubjectPublicKeyInfo".to_string();
        let mut outer = Der::new(spki);
        let mut info = outer.read(tag::SEQUENCE).ok_or_else(malformed)?;
        let mut alg = info.read(tag::SEQUENCE).ok_or_else(malformed)?;
        let oid = alg.read_oid().ok_or_else(malformed)?;
        let key = info.read_bit_string().ok_or_else(malformed)?;
        if key.padding != 0 {
            return Err(malformed());
        }
        let algorithm: &'static dyn VerificationAlgorithm = match oid.bytes() {
            OID_EC => {
                let curve = alg.read_oid().ok_or_else(malformed)?;
                if curve.bytes() != OID_P256 {
                    return Err("an EC key on a curve other than P-256".into());
                }
                &signature::ECDSA_P256_SHA256_ASN1
            }
            OID_ED25519 => &signature::ED25519,
            OID_RSA => &signature::RSA_PKCS1_2048_8192_SHA256,
            _ => return Err("a key type other than ECDSA P-256, Ed25519 or RSA".into()),
        };
        Ok(LogKey {
            algorithm,
            raw: key.bytes.to_vec(),
            id: Sha256::digest(spki).into(),
        })
    }

    /// Whether `sig` is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(self.algorithm, &self.raw)
            .verify(message, sig)
            .is_ok()
    }

    /// The log ID (hex SHA-256 of the SPKI), logged so an operator can
    /// compare it with the key they expect.
    pub fn fingerprint(&self) -> String {
        hex::encode(self.id)
    }

    /// The 4-byte key hint of a signed-note signature line.
    pub fn note_hint(&self) -> [u8; 4] {
        [self.id[0], self.id[1], self.id[2], self.id[3]]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

    /// The fixed SPKI header of a P-256 key, before its 65-byte point.
    const P256_SPKI_PREFIX: &[u8] = &[
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];

    /// A fresh P-256 signer and its PEM public key, as Rekor's default
    /// signer would have.
    pub(crate) fn signer() -> (EcdsaKeyPair, Vec<u8>) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        (pair, pem::encode("PUBLIC KEY", &spki))
    }

    pub(crate) fn sign(pair: &EcdsaKeyPair, message: &[u8]) -> Vec<u8> {
        pair.sign(&SystemRandom::new(), message)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    #[test]
    fn p256_key_verifies_its_signatures_only() {
        let (pair, pem_text) = signer();
        let key = LogKey::from_pem(&pem_text).unwrap();
        let sig = sign(&pair, b"message");
        assert!(key.verifies(b"message", &sig));
        assert!(!key.verifies(b"messagf", &sig));
        assert_eq!(key.fingerprint().len(), 64);
    }

    #[test]
    fn rejects_what_is_not_a_public_key() {
        assert!(LogKey::from_pem(b"nothing").is_err());
        let cert = pem::encode("CERTIFICATE", b"\x30\x00");
        assert!(LogKey::from_pem(&cert).unwrap_err().contains("CERTIFICATE"));
        assert!(LogKey::from_spki(b"\x30\x03\x02\x01\x00").is_err());
    }
}
