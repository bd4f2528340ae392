//! `rekord` 0.0.1 (docs/INDEX_KEYS.md §4.1): `H(canon(key))`, subjects, `HK(data.hash)`.
//!
//! The key is parsed in the format named by `signature.format` (x509,
//! minisign, ssh, pgp). If the key parses but cannot be canonicalised, Go
//! logs and omits only the key hash.

use super::gojson::Value;
use super::spec::{self, Hash};
use super::{sha256_hex, KeyError};
use crate::pki::key_cache;
use crate::pki::minisign::MinisignKey;
use crate::pki::ssh::SshKey;
use crate::pki::x509::X509Key;
use crate::pki::PublicKey;

const FORMATS: &[&str] = &["pgp", "minisign", "x509", "ssh"];

pub fn index_keys(spec: Value<'_>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry.
    let signature = spec.get_object("signature");
    let format = signature.as_ref().and_then(|sig| sig.get_str("format"));
    let (content, public_key) = match &signature {
        Some(sig) => spec::signature_contents(sig, "signature publicKey content")?,
        None => (None, None),
    };
    let data = spec.get_object("data");
    let hash = data.as_ref().and_then(|d| Hash::read(d, "hash"));
    let data_content = match &data {
        Some(d) => spec::base64_field(d, "content", "data content")?,
        None => None,
    };

    // Model validation.
    let Some(_) = data else {
        return Err(KeyError::decode("data in body is required"));
    };
    if let Some(h) = &hash {
        h.validate("data.hash", &["sha256"])?;
    }
    if signature.is_none() {
        return Err(KeyError::decode("signature in body is required"));
    }
    if content.is_none() {
        return Err(KeyError::decode("signature.content in body is required"));
    }
    let Some(format) = format else {
        return Err(KeyError::decode("signature.format in body is required"));
    };
    if !FORMATS.contains(&format.as_str()) {
        return Err(KeyError::decode(format!(
            "signature.format in body should be one of {FORMATS:?}"
        )));
    }
    let Some(public_key) = public_key else {
        return Err(KeyError::decode("signature.publicKey in body is required"));
    };
    let Some(key_content) = public_key else {
        return Err(KeyError::decode(
            "signature.publicKey.content in body is required",
        ));
    };

    // validate().
    if content.as_ref().is_some_and(Vec::is_empty) {
        return Err(KeyError::decode(
            "'content' must be specified for signature",
        ));
    }
    if key_content.is_empty() {
        return Err(KeyError::decode(
            "'content' must be specified for publicKey",
        ));
    }
    match &hash {
        Some(h) => {
            let algorithm = h.algorithm.as_deref().unwrap_or_default();
            let value = h.value.as_deref().unwrap_or_default();
            if algorithm.is_empty() {
                return Err(KeyError::decode("missing hash algorithm"));
            }
            if value.is_empty() {
                return Err(KeyError::decode("missing hash value"));
            }
            h.check_sha256_value()?;
        }
        None if data_content.as_ref().is_none_or(Vec::is_empty) => {
            return Err(KeyError::decode("'content' must be specified for data"));
        }
        None => {}
    }

    // IndexKeys.
    let key: Box<dyn PublicKey> = match format.as_str() {
        "x509" => Box::new(X509Key::parse(&key_content)?),
        "minisign" => Box::new(MinisignKey::parse(&key_content)?),
        "ssh" => Box::new(SshKey::parse(&key_content)?),
        _ => Box::new(key_cache::pgp(&key_content)?),
    };
    let mut keys = Vec::new();
    if let Ok(canonical) = key.canonical_value() {
        keys.push(sha256_hex(&canonical));
    }
    keys.extend(key.subjects());
    if let Some(h) = &hash {
        keys.extend(h.key());
    }
    Ok(keys)
}
