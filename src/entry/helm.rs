//! `helm` 0.0.1 (docs/INDEX_KEYS.md §4.5, §10): `H(canon PGP key)`, the key's e-mails,
//! `HK(chart.hash)` — the keys the server wrote at upload.
//!
//! Go's backfill cannot index a stored helm entry at all: its `IndexKeys`
//! re-reads the chart hash from the provenance file, which the stored body
//! no longer contains. At upload the server took that same hash from the
//! provenance and stored it as `chart.hash` (`Canonicalize`), so the stored
//! field gives the upload-time key back. Everything before that —
//! decoding, model validation, `validate()`, the PGP key parse and its
//! canonicalisation — is Go's, errors included.

use super::gojson::Value;
use super::spec::{self, Hash};
use super::KeyError;
use crate::pki::key_cache;

pub fn index_keys(spec: Value<'_>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry: publicKey first, then chart.
    let public_key = spec.get_object("publicKey");
    let key_content = match &public_key {
        Some(pk) => spec::base64_field(pk, "content", "publicKey content")?,
        None => None,
    };
    let chart = spec.get_object("chart");
    let hash = chart.as_ref().and_then(|c| Hash::read(c, "hash"));
    let provenance = chart.as_ref().and_then(|c| c.get_object("provenance"));
    let mut signature: Option<Option<Vec<u8>>> = None;
    let mut provenance_content = None;
    if let Some(p) = &provenance {
        if let Some(s) = p.get_object("signature") {
            signature = Some(spec::base64_field(
                &s,
                "content",
                "provenance signature content",
            )?);
        }
        provenance_content = spec::base64_field(p, "content", "provenance content")?;
    }

    // Model validation: chart (hash, provenance, signature), then publicKey.
    if chart.is_none() {
        return Err(KeyError::decode("chart in body is required"));
    }
    if let Some(h) = &hash {
        h.validate("chart.hash", &["sha256"])?;
    }
    if provenance.is_none() {
        return Err(KeyError::decode("chart.provenance in body is required"));
    }
    if let Some(None) = signature {
        return Err(KeyError::decode(
            "chart.provenance.signature.content in body is required",
        ));
    }
    if public_key.is_none() {
        return Err(KeyError::decode("publicKey in body is required"));
    }
    let Some(key_content) = key_content else {
        return Err(KeyError::decode("publicKey.content in body is required"));
    };

    // validate().
    if signature.is_none() && provenance_content.is_none() {
        return Err(KeyError::decode(
            "'content' must be specified for provenance",
        ));
    }

    // IndexKeys, with the chart hash taken from the stored body.
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
        assert_eq!(err(&format!("{{{KEY}}}")), "chart in body is required");
        assert_eq!(
            err(r#"{"chart":{"hash":{"value":"x"}}}"#),
            "chart.hash.algorithm in body is required"
        );
        assert_eq!(
            err(r#"{"chart":{}}"#),
            "chart.provenance in body is required"
        );
        assert_eq!(
            err(r#"{"chart":{"provenance":{"signature":{}}}}"#),
            "chart.provenance.signature.content in body is required"
        );
        assert_eq!(
            err(r#"{"chart":{"provenance":{}}}"#),
            "publicKey in body is required"
        );
        assert_eq!(
            err(&format!(r#"{{"chart":{{"provenance":{{}}}},{KEY}}}"#)),
            "'content' must be specified for provenance"
        );
        assert!(err(r#"{"chart":{"provenance":{"content":"!"}}}"#).contains("base64"));
        // Either the signature or the provenance file passes validate();
        // then the key itself is what fails here.
        for provenance in [
            r#"{"signature":{"content":"AA=="}}"#,
            r#"{"content":"AA=="}"#,
        ] {
            let e = err(&format!(
                r#"{{"chart":{{"provenance":{provenance}}},{KEY}}}"#
            ));
            assert!(e.contains("PGP"), "{e}");
        }
    }
}
