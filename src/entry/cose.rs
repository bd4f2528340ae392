//! `cose` 0.0.1 (docs/INDEX_KEYS.md §4.12, §10): `H(canon key)`, subjects, then the
//! envelope and payload hashes and the in-toto subjects the server wrote at
//! upload.
//!
//! At upload Rekor's `IndexKeys` (v1.5.4 `pkg/types/cose/v0.0.1`) wrote, in
//! this order: the key hash (omitted if the key cannot be canonicalised),
//! the certificate's subjects, `"sha256:" + hex(sha256(message))`,
//! `"sha256:" + hex(sha256(payload))`, and — when the protected header's
//! content type is the text `application/vnd.in-toto+json` — the statement's
//! subject digests (`alg:digest`, not lowercased; an undecodable statement
//! adds nothing). The stored body keeps the two hashes (`data.envelopeHash`,
//! `data.payloadHash`, computed by the server from the same bytes), so the
//! first four keys come from it; Go's backfill instead hashes the stripped,
//! empty message and writes the constant `sha256:e3b0…b855` (§4.12). The
//! subjects need the message itself: the server stores it as the entry's
//! attestation, keyed by the envelope hash. When one is given its SHA-256
//! must equal the stored envelope hash, else the entry is an error rather
//! than indexed from bytes that are not its message.

use super::gojson::Value;
use super::intoto::IN_TOTO_PAYLOAD_TYPE;
use super::intoto_statement::{self, Rules};
use super::spec::{self, Hash};
use super::{sha256_hex, KeyError};
use crate::pki::cose;
use crate::pki::x509::X509Key;
use crate::pki::PublicKey;

pub fn index_keys(spec: Value<'_>, attestation: Option<&[u8]>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry.
    let message = spec::base64_field(&spec, "message", "message")?;
    let public_key = spec::base64_field(&spec, "publicKey", "publicKey")?;
    let data = spec.get_object("data");
    let envelope_hash = data.as_ref().and_then(|d| Hash::read(d, "envelopeHash"));
    let payload_hash = data.as_ref().and_then(|d| Hash::read(d, "payloadHash"));
    if let Some(d) = &data {
        spec::base64_field(d, "aad", "aad")?;
    }

    // Model validation.
    let Some(public_key) = public_key else {
        return Err(KeyError::new("publicKey in body is required"));
    };
    if let Some(h) = &envelope_hash {
        h.validate("data.envelopeHash", &["sha256"])?;
    }
    if let Some(h) = &payload_hash {
        h.validate("data.payloadHash", &["sha256"])?;
    }

    // Unmarshal: the key must parse; the envelope hash comes from the
    // message when the body has one, else from the stored hex. (With a
    // message Go would verify the COSE signature: skipped, §10.)
    let key = X509Key::parse(&public_key)?;
    let (envelope_digest, message) = match message.filter(|m| !m.is_empty()) {
        Some(message) => (sha256_hex(&message), Some(message)),
        None => {
            let value = envelope_hash
                .as_ref()
                .and_then(|h| h.value.as_deref())
                .ok_or_else(|| {
                    KeyError::new("envelope hash should have been previously computed")
                })?;
            let bytes =
                hex::decode(value).map_err(|e| KeyError::new(format!("encoding/hex: {e}")))?;
            (hex::encode(bytes), None)
        }
    };
    let message = match (message, attestation) {
        (Some(m), _) => Some(m),
        (None, Some(a)) if sha256_hex(a) == envelope_digest => Some(a.to_vec()),
        (None, Some(a)) => {
            return Err(KeyError::new(format!(
                "attestation sha256:{} is not this entry's COSE message (envelope hash sha256:{envelope_digest})",
                sha256_hex(a)
            )))
        }
        (None, None) => None,
    };
    let sign1 = message
        .as_deref()
        .map(cose::parse_sign1)
        .transpose()
        .map_err(|e| KeyError::new(format!("COSE message: {e}")))?;

    // IndexKeys, as the server ran it at upload.
    let mut keys = Vec::new();
    if let Ok(canonical) = key.canonical_value() {
        keys.push(sha256_hex(&canonical));
    }
    keys.extend(key.subjects());
    keys.push(format!("sha256:{envelope_digest}"));
    match &sign1 {
        Some(sign1) => {
            let payload = sign1.payload.as_deref().unwrap_or_default();
            keys.push(format!("sha256:{}", sha256_hex(payload)));
            if sign1.content_type.as_deref() == Some(IN_TOTO_PAYLOAD_TYPE) {
                keys.extend(intoto_statement::payload_keys(payload, Rules::Cose)?);
            }
        }
        None => keys.extend(payload_hash.and_then(|h| h.key())),
    }
    Ok(keys)
}
