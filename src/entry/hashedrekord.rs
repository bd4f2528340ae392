//! `hashedrekord` 0.0.1 (docs/INDEX_KEYS.md §4.2): `H(stored key bytes)`, subjects,
//! `HK(data.hash)`.
//!
//! The key hash is over the stored `publicKey.content` bytes as they are
//! (not re-canonicalised), but the key must still parse as a Rekor x509 key.
//! Go's `validate()` re-verifies the signature (and a certificate chain,
//! at the leaf's NotBefore); per §10 that step is skipped — the log
//! verified it at upload — while every non-cryptographic check (hash length
//! and hex, key parse, a non-empty signature) is kept. Whether Go's verifier
//! supports the key type (e.g. DSA) is part of the skipped step.

use super::gojson::Value;
use super::spec::{self, Hash};
use super::{sha256_hex, KeyError};
use crate::pki::x509::X509Key;
use crate::pki::PublicKey;

pub fn index_keys(spec: Value<'_>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry.
    let signature = spec.get_object("signature");
    let (signature_bytes, public_key) = match &signature {
        Some(sig) => spec::signature_contents(sig, "public key content")?,
        None => (None, None),
    };
    // `data` exists only when `data.hash` is an object.
    let hash = spec.get_object("data").and_then(|d| Hash::read(&d, "hash"));

    // Model validation.
    let Some(hash) = hash else {
        return Err(KeyError::decode("data in body is required"));
    };
    hash.validate("data.hash", &["sha256", "sha384", "sha512"])?;
    if signature.is_none() {
        return Err(KeyError::decode("signature in body is required"));
    }

    // validate(), minus the signature verification.
    let Some(key_content) = public_key else {
        return Err(KeyError::decode("missing public key"));
    };
    let key_content = key_content.unwrap_or_default();
    let key = X509Key::parse(&key_content)?;
    let value = hash.value.as_deref().unwrap_or_default();
    let expected_len = match hash.algorithm.as_deref() {
        Some("sha384") => 96,
        Some("sha512") => 128,
        _ => 64,
    };
    if value.len() != expected_len {
        return Err(KeyError::decode("invalid value for hash"));
    }
    // hex.DecodeString's test (the length is even here), without the copy.
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::decode(format!(
            "encoding/hex: invalid hash value {value:?}"
        )));
    }

    // The one check of `Verify` that needs no cryptography.
    if signature_bytes.is_none_or(|s| s.is_empty()) {
        return Err(KeyError::decode(
            "verifying signature: X509 signature has not been initialized",
        ));
    }

    let mut keys = vec![sha256_hex(&key_content)];
    keys.extend(key.subjects());
    keys.extend(hash.key());
    Ok(keys)
}
