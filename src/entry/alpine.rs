//! `alpine` 0.0.1 (docs/INDEX_KEYS.md §4.3): `H(canon x509 key)`, subjects,
//! `HK(package.hash)`.
//!
//! Unlike rekord, a key that parses but cannot be canonicalised is an error
//! for the whole entry, as in Go. `DecodeEntry` creates `package.hash` only
//! when its algorithm or value is a string.

use super::gojson::Value;
use super::spec::{self, Hash};
use super::KeyError;
use crate::pki::x509::X509Key;

pub fn index_keys(spec: Value<'_>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry.
    let public_key = match spec.get_object("publicKey") {
        Some(pk) => spec::base64_field(&pk, "content", "public key content")?,
        None => None,
    };
    let package = spec.get_object("package");
    let hash = package
        .as_ref()
        .and_then(|p| Hash::read(p, "hash"))
        .filter(|h| h.algorithm.is_some() || h.value.is_some());
    let package_content = match &package {
        Some(p) => spec::base64_field(p, "content", "package content")?,
        None => None,
    };

    // Model validation.
    if package.is_none() {
        return Err(KeyError::new("package in body is required"));
    }
    if let Some(h) = &hash {
        h.validate("package.hash", &["sha256"])?;
    }
    // DecodeEntry only creates publicKey together with its content.
    let Some(key_content) = public_key else {
        return Err(KeyError::new("publicKey in body is required"));
    };

    // validate().
    match &hash {
        Some(h) => h.check_sha256_value()?,
        None if package_content.as_ref().is_none_or(Vec::is_empty) => {
            return Err(KeyError::new("'content' must be specified for package"));
        }
        None => {}
    }

    // IndexKeys.
    let key = X509Key::parse(&key_content)?;
    let mut keys = spec::key_hash_and_subjects(&key)?;
    if let Some(h) = &hash {
        keys.extend(h.key());
    }
    Ok(keys)
}
