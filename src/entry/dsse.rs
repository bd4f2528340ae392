//! `dsse` 0.0.1 (docs/INDEX_KEYS.md §4.11): per stored signature
//! `"sha256:" + H(canon verifier)` and subjects, then `HK(payloadHash)`,
//! `HK(envelopeHash)`, then (§10) the payload digests from an attestation.
//!
//! Stored signature strings must match Rekor's strict padded-base64 pattern;
//! a URL-safe signature accepted at upload is therefore a parse error, as in
//! Go. Rekor never stores DSSE attestations, so the attestation path only
//! runs if a server provides one.

use super::gojson::{Kind, Value};
use super::intoto_statement::{self, Rules};
use super::spec::{self, Hash};
use super::KeyError;

pub fn index_keys(spec: Value<'_>, attestation: Option<&[u8]>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry.
    let proposed = spec.get_object("proposedContent");
    if let Some(p) = &proposed {
        if let Some(list) = p.get_array("verifiers") {
            for v in list.elements() {
                if let Some(s) = v.as_str().filter(|s| !s.is_empty()) {
                    spec::decode_base64(&s, "verifier")?;
                }
            }
        }
    }
    let mut signatures: Option<Vec<SignatureItem>> = None;
    if let Some(list) = spec.get_array("signatures") {
        let mut items = Vec::new();
        for item in list.elements().filter(|e| e.kind() == Kind::Object) {
            items.push(SignatureItem {
                signature: item.get_str("signature"),
                verifier: spec::base64_field(&item, "verifier", "signature verifier")?,
            });
        }
        signatures = Some(items);
    }
    let envelope_hash = Hash::read(&spec, "envelopeHash");
    let payload_hash = Hash::read(&spec, "payloadHash");

    // Model validation.
    if let Some(h) = &envelope_hash {
        h.validate("envelopeHash", &["sha256"])?;
    }
    if let Some(h) = &payload_hash {
        h.validate("payloadHash", &["sha256"])?;
    }
    if let Some(p) = &proposed {
        if p.get_str("envelope").is_none() {
            return Err(KeyError::new(
                "proposedContent.envelope in body is required",
            ));
        }
    }
    if let Some(items) = &signatures {
        if items.is_empty() {
            return Err(KeyError::new(
                "signatures in body should have at least 1 items",
            ));
        }
        for SignatureItem {
            signature,
            verifier,
        } in items
        {
            let Some(signature) = signature else {
                return Err(KeyError::new("signature in body is required"));
            };
            if !is_strict_base64(signature) {
                return Err(KeyError::new(format!(
                    "signature in body should match '{STRICT_BASE64_PATTERN}'"
                )));
            }
            if verifier.is_none() {
                return Err(KeyError::new("verifier in body is required"));
            }
        }
    }

    // Unmarshal.
    if proposed.is_some() {
        return Err(KeyError::new(
            "dsse body carries proposedContent; only stored (canonical) bodies are supported",
        ));
    }
    let signatures = signatures.unwrap_or_default();
    if envelope_hash.is_none() || payload_hash.is_none() || signatures.is_empty() {
        return Err(KeyError::new(
            "either proposedContent or envelopeHash, payloadHash, and signatures must be present",
        ));
    }

    // IndexKeys.
    let mut keys = Vec::new();
    for item in &signatures {
        keys.extend(spec::signer_keys(
            item.verifier.as_deref().unwrap_or_default(),
        )?);
    }
    for h in [&payload_hash, &envelope_hash].into_iter().flatten() {
        keys.extend(h.key());
    }
    if let Some(payload) = attestation {
        keys.extend(intoto_statement::payload_keys(payload, Rules::Dsse)?);
    }
    Ok(keys)
}

/// One `signatures[]` object as `DecodeEntry` reads it.
struct SignatureItem {
    signature: Option<String>,
    verifier: Option<Vec<u8>>,
}

const STRICT_BASE64_PATTERN: &str =
    r"^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=|[A-Za-z0-9+\/]{4})$";

/// Whether `s` matches Rekor's DSSE signature pattern
/// ([`STRICT_BASE64_PATTERN`]), written out without a regex engine.
fn is_strict_base64(s: &str) -> bool {
    let b = s.as_bytes();
    let alphabet = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    if b.len() < 4 || b.len() % 4 != 0 {
        return false;
    }
    let (head, last) = b.split_at(b.len() - 4);
    head.iter().all(alphabet)
        && match last {
            [a, b, b'=', b'='] => alphabet(a) && alphabet(b),
            [a, b, c, b'='] => alphabet(a) && alphabet(b) && alphabet(c),
            _ => last.iter().all(alphabet),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_base64_pattern() {
        assert!(is_strict_base64("MEUCIQ=="));
        assert!(is_strict_base64("MEUCIQD="));
        assert!(is_strict_base64("MEUCIQDa"));
        assert!(!is_strict_base64("MEUCIQ"));
        assert!(!is_strict_base64("MEU-IQ=="));
        assert!(!is_strict_base64("ME=CIQ=="));
        assert!(!is_strict_base64("MEUCIQ==\n"));
        assert!(!is_strict_base64(""));
        assert!(!is_strict_base64("===="));
    }
}
