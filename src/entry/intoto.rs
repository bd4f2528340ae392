//! `intoto` 0.0.1 (docs/INDEX_KEYS.md §4.9) and 0.0.2 (§4.10).
//!
//! 0.0.1: `HK(content.hash)`, `"sha256:" + H(canon key)`, subjects,
//! `HK(content.payloadHash)`; a canonicalisation failure silently drops the
//! key hash and the subjects. 0.0.2: per envelope signature
//! `"sha256:" + H(canon key)` and subjects (any failure is an error), then
//! `HK(content.payloadHash)`; `content.hash` is deliberately not indexed.
//! Both then append the payload digests the server wrote at upload, when
//! the stored attestation is given (§10, [`super::intoto_statement`]).
//!
//! Bodies stored by early servers still hold the DSSE envelope (0.0.1) or
//! its payload (0.0.2). Go then verifies the signatures (skipped here, §10)
//! and takes the hashes and the statement from that envelope/payload, as
//! the server did at upload; the attestation is not needed then.

use super::gojson::{self, field_matches, Kind, Value};
use super::intoto_statement::{self, Rules};
use super::spec::{self, Hash};
use super::{sha256_hex, KeyError};
use crate::pki::gobase64;
use crate::pki::x509::X509Key;
use crate::pki::PublicKey;

/// The in-toto DSSE payload type (`in_toto.PayloadType`).
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

pub fn index_keys_v001(
    spec: Value<'_>,
    attestation: Option<&[u8]>,
) -> Result<Vec<String>, KeyError> {
    // DecodeEntry.
    let content = spec.get_object("content");
    let envelope = content.as_ref().and_then(|c| c.get_str("envelope"));
    let hash = content.as_ref().and_then(|c| Hash::read(c, "hash"));
    let payload_hash = content.as_ref().and_then(|c| Hash::read(c, "payloadHash"));
    let public_key = spec::base64_field(&spec, "publicKey", "public key")?;

    // Model validation.
    if content.is_none() {
        return Err(KeyError::new("content in body is required"));
    }
    if let Some(h) = &hash {
        h.validate("content.hash", &["sha256"])?;
    }
    if let Some(h) = &payload_hash {
        h.validate("content.payloadHash", &["sha256"])?;
    }
    let Some(public_key) = public_key else {
        return Err(KeyError::new("publicKey in body is required"));
    };

    // Unmarshal: key parse, then validate().
    let key = X509Key::parse(&public_key)?;
    let (hash, payload_hash, statement) = match envelope.filter(|e| !e.is_empty()) {
        None => {
            let Some(hash) = hash else {
                return Err(KeyError::new("missing hash value for envelope"));
            };
            (hash, payload_hash, attestation.map(<[u8]>::to_vec))
        }
        // Signature verification skipped (§10); the hashes are recomputed
        // from the envelope as Go does, and its payload is the statement.
        Some(envelope) => {
            let env = dsse_envelope(envelope.as_bytes())?;
            dsse_structure(&env.payload, env.signatures.iter().map(String::as_str))?;
            let statement = spec::decode_base64(&env.payload, "envelope payload")?;
            let in_toto = env.payload_type == IN_TOTO_PAYLOAD_TYPE;
            (
                Hash::sha256_of(envelope.as_bytes()),
                Some(Hash::sha256_of(&statement)),
                in_toto.then_some(statement),
            )
        }
    };

    // IndexKeys.
    let mut keys: Vec<String> = hash.key().into_iter().collect();
    if let Ok(canonical) = key.canonical_value() {
        keys.push(format!("sha256:{}", sha256_hex(&canonical)));
        keys.extend(key.subjects());
    }
    if let Some(h) = &payload_hash {
        keys.extend(h.key());
    }
    if let Some(statement) = statement {
        // Without an envelope the payload type is unknown (0.0.1 bodies do
        // not store it): an attestation that decodes as a statement counts.
        keys.extend(intoto_statement::payload_keys(
            &statement,
            Rules::IntotoV001,
        )?);
    }
    Ok(keys)
}

/// One `content.envelope.signatures[]` object as `DecodeEntry` reads it.
struct EnvelopeSignature {
    sig: Option<Vec<u8>>,
    public_key: Option<Vec<u8>>,
}

/// The fields of a DSSE envelope Go's `dsse.Envelope` decodes; a JSON type
/// mismatch in any of them is a decode error.
struct DsseEnvelope {
    payload_type: String,
    payload: String,
    signatures: Vec<String>,
}

/// The non-cryptographic part of go-securesystemslib's
/// `EnvelopeVerifier.Verify`: at least one signature, and the payload and
/// every signature decode as standard or URL-safe base64. (Which signature
/// verifies under which key is the part skipped, §10.)
fn dsse_structure<'s>(
    payload: &str,
    signatures: impl ExactSizeIterator<Item = &'s str>,
) -> Result<(), KeyError> {
    let flexible =
        |s: &str| gobase64::decode(s.as_bytes()).or_else(|_| gobase64::decode_url(s.as_bytes()));
    let undecodable = || {
        KeyError::new("could not verify envelope: unable to base64 decode payload (is payload in the right format?)")
    };
    if signatures.len() == 0 {
        return Err(KeyError::new(
            "could not verify envelope: no signature found",
        ));
    }
    flexible(payload).map_err(|_| undecodable())?;
    for sig in signatures {
        flexible(sig).map_err(|_| undecodable())?;
    }
    Ok(())
}

fn dsse_envelope(text: &[u8]) -> Result<DsseEnvelope, KeyError> {
    let root = gojson::unmarshal(text)?;
    let mismatch = || KeyError::new("json: cannot unmarshal DSSE envelope");
    let mut env = DsseEnvelope {
        payload_type: String::new(),
        payload: String::new(),
        signatures: Vec::new(),
    };
    match root.kind() {
        Kind::Null => return Ok(env),
        Kind::Object => {}
        _ => return Err(mismatch()),
    }
    let string = |v: Value<'_>, into: &mut String| match v.kind() {
        Kind::String => {
            *into = v.as_str().unwrap_or_default();
            Ok(())
        }
        Kind::Null => Ok(()),
        _ => Err(mismatch()),
    };
    for (key, value) in root.members() {
        if field_matches(&key, "payloadType") {
            string(value, &mut env.payload_type)?;
        } else if field_matches(&key, "payload") {
            string(value, &mut env.payload)?;
        } else if field_matches(&key, "signatures") {
            match value.kind() {
                Kind::Null => env.signatures.clear(),
                Kind::Array => {
                    env.signatures.clear();
                    for item in value.elements() {
                        let mut sig = String::new();
                        match item.kind() {
                            Kind::Null => {}
                            Kind::Object => {
                                for (k, v) in item.members() {
                                    if field_matches(&k, "sig") {
                                        string(v, &mut sig)?;
                                    } else if field_matches(&k, "keyid") {
                                        string(v, &mut String::new())?;
                                    }
                                }
                            }
                            _ => return Err(mismatch()),
                        }
                        env.signatures.push(sig);
                    }
                }
                _ => return Err(mismatch()),
            }
        }
    }
    Ok(env)
}

pub fn index_keys_v002(
    spec: Value<'_>,
    attestation: Option<&[u8]>,
) -> Result<Vec<String>, KeyError> {
    // DecodeEntry: content and envelope always exist.
    let content = spec.get_object("content");
    let envelope = content.as_ref().and_then(|c| c.get_object("envelope"));
    let mut payload_type = None;
    let mut payload = None;
    let mut signatures: Option<Vec<EnvelopeSignature>> = None;
    if let Some(env) = &envelope {
        payload_type = env.get_str("payloadType");
        payload = spec::base64_field(env, "payload", "payload")?;
        if let Some(list) = env.get_array("signatures") {
            let mut items = Vec::new();
            for item in list.elements().filter(|e| e.kind() == Kind::Object) {
                let sig = match item.get_str("sig") {
                    Some(s) => Some(spec::decode_base64(&s, "signature")?),
                    None => None,
                };
                let public_key = match item.get_str("publicKey") {
                    Some(s) => Some(spec::decode_base64(&s, "public key")?),
                    None => None,
                };
                items.push(EnvelopeSignature { sig, public_key });
            }
            signatures = Some(items);
        }
    }
    let hash = content.as_ref().and_then(|c| Hash::read(c, "hash"));
    let payload_hash = content.as_ref().and_then(|c| Hash::read(c, "payloadHash"));

    // Model validation.
    let Some(payload_type) = payload_type else {
        return Err(KeyError::new(
            "content.envelope.payloadType in body is required",
        ));
    };
    let signatures = match signatures {
        Some(s) if !s.is_empty() => s,
        Some(_) => {
            return Err(KeyError::new(
                "content.envelope.signatures in body should have at least 1 items",
            ))
        }
        None => {
            return Err(KeyError::new(
                "content.envelope.signatures in body is required",
            ))
        }
    };
    let mut public_keys = Vec::with_capacity(signatures.len());
    let mut signature_texts = Vec::with_capacity(signatures.len());
    for EnvelopeSignature { sig, public_key } in signatures {
        let Some(public_key) = public_key else {
            return Err(KeyError::new("publicKey in body is required"));
        };
        let Some(sig) = sig else {
            return Err(KeyError::new("sig in body is required"));
        };
        public_keys.push(public_key);
        signature_texts.push(String::from_utf8_lossy(&sig).into_owned());
    }
    if let Some(h) = &hash {
        h.validate("content.hash", &["sha256"])?;
    }
    if let Some(h) = &payload_hash {
        h.validate("content.payloadHash", &["sha256"])?;
    }
    // Unmarshal: with a stored payload, Go verifies the signatures (skipped,
    // §10) and recomputes the payload hash from it.
    let payload = payload.filter(|p| !p.is_empty());
    let (payload_hash, statement) = match payload {
        None => (payload_hash, attestation.map(<[u8]>::to_vec)),
        Some(payload) => {
            let text = String::from_utf8_lossy(&payload).into_owned();
            for public_key in &public_keys {
                X509Key::parse(public_key).map_err(|e| {
                    KeyError::new(format!("could not parse public key as x509: {e}"))
                })?;
            }
            dsse_structure(&text, signature_texts.iter().map(String::as_str))?;
            let statement = gobase64::decode(text.as_bytes())
                .map_err(|e| KeyError::new(format!("could not decode envelope payload: {e}")))?;
            (Some(Hash::sha256_of(&statement)), Some(statement))
        }
    };

    // IndexKeys.
    let mut keys = Vec::new();
    for public_key in &public_keys {
        keys.extend(spec::signer_keys(public_key)?);
    }
    if let Some(h) = &payload_hash {
        keys.extend(h.key());
    }
    if payload_type == IN_TOTO_PAYLOAD_TYPE {
        if let Some(statement) = statement {
            keys.extend(intoto_statement::payload_keys(
                &statement,
                Rules::IntotoV002,
            )?);
        }
    }
    Ok(keys)
}
