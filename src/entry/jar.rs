//! `jar` 0.0.1 (docs/INDEX_KEYS.md §4.6): `H(canon PKCS #7 signature)`, `HK(archive.hash)`.
//!
//! The key hash is over the signature, not the certificate: Go hashes the
//! PEM of the detached, re-marshalled SignedData (`pkcs7::Pkcs7Signature`),
//! and never looks at the stored certificate, so there are no subjects.
//! A signature that does not parse is an error for the whole entry.

use super::gojson::Value;
use super::spec::{self, Hash};
use super::{sha256_hex, KeyError};
use crate::pki::pkcs7::Pkcs7Signature;

pub fn index_keys(spec: Value<'_>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry.
    let signature = spec.get_object("signature");
    let (content, public_key) = match &signature {
        Some(sig) => spec::signature_contents(sig, "signature publicKey content")?,
        None => (None, None),
    };
    let archive = spec.get_object("archive");
    let hash = archive.as_ref().and_then(|a| Hash::read(a, "hash"));
    let archive_content = match &archive {
        Some(a) => spec::base64_field(a, "content", "archive content")?,
        None => None,
    };

    // Model validation.
    if archive.is_none() {
        return Err(KeyError::new("archive in body is required"));
    }
    if let Some(h) = &hash {
        h.validate("archive.hash", &["sha256"])?;
    }
    if signature.is_some() {
        if content.is_none() {
            return Err(KeyError::new("signature.content in body is required"));
        }
        match &public_key {
            None => return Err(KeyError::new("signature.publicKey in body is required")),
            Some(None) => {
                return Err(KeyError::new(
                    "signature.publicKey.content in body is required",
                ))
            }
            Some(Some(_)) => {}
        }
    }

    // validate().
    if content.is_none() && archive_content.as_ref().is_none_or(Vec::is_empty) {
        return Err(KeyError::new("'content' must be specified for package"));
    }
    if let Some(h) = &hash {
        h.check_sha256_value()?;
    }

    // IndexKeys.
    let mut keys = Vec::new();
    if let Some(content) = content.filter(|c| !c.is_empty()) {
        let signature = Pkcs7Signature::parse(&content)?;
        keys.push(sha256_hex(&signature.canonical_value()));
    }
    if let Some(h) = &hash {
        let algorithm = h.algorithm.as_deref().unwrap_or_default();
        let value = h.value.as_deref().unwrap_or_default();
        if !algorithm.is_empty() && !value.is_empty() {
            keys.extend(h.key());
        }
    }
    Ok(keys)
}
