//! `rpm` 0.0.1 (docs/INDEX_KEYS.md §4.4): `H(canon PGP key)`, the key's e-mails,
//! `HK(package.hash)`.
//!
//! Unlike `rekord`, a PGP key that parses but cannot be canonicalised is an
//! error for the whole entry, as in Go. The stored body never holds the
//! package itself; its hash is what `validate()` checks.

use super::gojson::Value;
use super::spec::{self, Hash};
use super::KeyError;
use crate::pki::key_cache;

pub fn index_keys(spec: Value<'_>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry: publicKey first, then package.
    let public_key = spec.get_object("publicKey");
    let key_content = match &public_key {
        Some(pk) => spec::base64_field(pk, "content", "publicKey content")?,
        None => None,
    };
    let package = spec.get_object("package");
    let hash = package.as_ref().and_then(|p| Hash::read(p, "hash"));
    let package_content = match &package {
        Some(p) => spec::base64_field(p, "content", "package content")?,
        None => None,
    };

    // Model validation.
    if package.is_none() {
        return Err(KeyError::decode("package in body is required"));
    }
    if let Some(h) = &hash {
        h.validate("package.hash", &["sha256"])?;
    }
    if public_key.is_none() {
        return Err(KeyError::decode("publicKey in body is required"));
    }
    let Some(key_content) = key_content else {
        return Err(KeyError::decode("publicKey.content in body is required"));
    };

    // validate().
    match &hash {
        Some(h) => {
            let value = h.value.as_deref().unwrap_or_default();
            if value.len() != 64 || hex::decode(value).is_err() {
                return Err(KeyError::decode("invalid value for hash"));
            }
        }
        None if package_content.is_none() => {
            return Err(KeyError::decode("'content' must be specified for package"));
        }
        None => {}
    }

    // IndexKeys.
    let key = key_cache::pgp(&key_content)?;
    let mut keys = spec::key_hash_and_subjects(&key)?;
    keys.extend(hash.and_then(|h| h.key()));
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::super::gojson::unmarshal;
    use super::*;

    fn err(spec: &str) -> String {
        index_keys(unmarshal(spec.as_bytes()).unwrap())
            .unwrap_err()
            .message()
            .to_string()
    }

    const KEY: &str = r#""publicKey":{"content":"LS0tLS1CRUdJTiBQR1Agbm90aGluZw=="}"#;

    #[test]
    fn decoding_and_validation_follow_go() {
        assert_eq!(err(&format!("{{{KEY}}}")), "package in body is required");
        assert_eq!(
            err(r#"{"package":{"hash":{}},"publicKey":{}}"#),
            "package.hash.algorithm in body is required"
        );
        assert!(
            err(r#"{"package":{"hash":{"algorithm":"sha1","value":"x"}}}"#)
                .contains("should be one of")
        );
        assert_eq!(err(r#"{"package":{}}"#), "publicKey in body is required");
        assert_eq!(
            err(r#"{"package":{},"publicKey":{"content":""}}"#),
            "publicKey.content in body is required"
        );
        assert_eq!(
            err(&format!(r#"{{"package":{{}},{KEY}}}"#)),
            "'content' must be specified for package"
        );
        assert_eq!(
            err(&format!(
                r#"{{"package":{{"hash":{{"algorithm":"sha256","value":"abc"}}}},{KEY}}}"#
            )),
            "invalid value for hash"
        );
        assert!(err(r#"{"publicKey":{"content":"%%%"}}"#).contains("base64"));
        // Valid shape: the key itself is what fails now.
        let e = err(&format!(r#"{{"package":{{"content":"AA=="}},{KEY}}}"#));
        assert!(e.contains("PGP"), "{e}");
    }
}
