//! Decoding a stored Rekor entry body and computing its search-index keys.
//!
//! The body is the base64-decoded canonical JSON `{"apiVersion","kind","spec"}`
//! that the server stored. Each kind lives in its own file; all of them follow
//! `docs/INDEX_KEYS.md` §4 and the project decisions of §10:
//! decoding and validation mirror Rekor v1.5.4's Go code (a body Go rejects
//! gets no keys), signatures are not re-verified, and in-toto payload
//! digests are recovered from the stored attestation when one is given.

mod alpine;
mod body;
mod cose;
mod dsse;
mod gojson;
mod gostruct;
mod hashedrekord;
mod helm;
mod intoto;
mod intoto_statement;
mod jar;
mod rekord;
mod rfc3161;
mod rpm;
mod spec;
mod tuf;

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::ErrorKind;
use crate::pki::{gobase64, gostr, PkiError};

/// Why an entry could not be turned into index keys: a matchable
/// [`ErrorKind`] and a message that keeps Go's wording where Go has one
/// (the key parity compares it). Per-entry and deterministic: retrying the
/// same body gives the same error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError {
    kind: ErrorKind,
    message: String,
}

impl KeyError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> KeyError {
        KeyError {
            kind,
            message: message.into(),
        }
    }

    /// Malformed input, rejected as Rekor's Go code rejects it.
    fn decode(message: impl Into<String>) -> KeyError {
        KeyError::new(ErrorKind::Decode, message)
    }

    /// A kind, version or form Rekor (or this tool) does not handle.
    fn unsupported(message: impl Into<String>) -> KeyError {
        KeyError::new(ErrorKind::Unsupported, message)
    }

    /// Over one of this tool's resource limits.
    fn limit(message: impl Into<String>) -> KeyError {
        KeyError::new(ErrorKind::Limit, message)
    }

    /// Two parts of the entry disagree.
    fn mismatch(message: impl Into<String>) -> KeyError {
        KeyError::new(ErrorKind::Mismatch, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `context: ` before its message.
    pub fn context(self, context: &str) -> KeyError {
        KeyError {
            kind: self.kind,
            message: format!("{context}: {}", self.message),
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for KeyError {}

impl From<PkiError> for KeyError {
    fn from(e: PkiError) -> KeyError {
        KeyError::new(e.kind(), e.message())
    }
}

impl From<gojson::SyntaxError> for KeyError {
    fn from(e: gojson::SyntaxError) -> KeyError {
        KeyError::decode(format!("invalid JSON: {e}"))
    }
}

/// The largest decoded entry body keys are computed for: 32 MiB.
///
/// Rekor v1.5.4 sets no body limit of its own (`--max_request_body_size`
/// defaults to 0, unlimited), but it reads entries back from Trillian over
/// gRPC with the default 4 MiB receive limit, so a larger leaf cannot be
/// served by its API at all. The cap is eight times that: no entry a log
/// can return is refused, and a hostile or corrupt response cannot make one
/// entry cost unbounded memory and time.
pub const MAX_BODY_BYTES: usize = 32 << 20;

/// The largest decoded attestation keys are computed from: 32 MiB. Rekor
/// v1.5.4 stores attestations up to `--max_attestation_size` (default
/// 100 KiB); operators may raise it, hence the wide margin.
pub const MAX_ATTESTATION_BYTES: usize = 32 << 20;

/// Computes the index keys of one stored entry, in the order the key
/// computation yields them (before any backend normalisation such as Redis
/// lowercasing). `attestation` is the entry's stored attestation (already
/// base64-decoded) when the server returned one.
pub fn index_keys(body: &[u8], attestation: Option<&[u8]>) -> Result<Vec<String>, KeyError> {
    check_size("entry body", body.len(), MAX_BODY_BYTES)?;
    if let Some(a) = attestation {
        check_size("attestation", a.len(), MAX_ATTESTATION_BYTES)?;
    }
    body::index_keys(body, attestation)
}

/// Rejects an input over its size limit, naming both sizes.
fn check_size(what: &str, len: usize, limit: usize) -> Result<(), KeyError> {
    if len > limit {
        return Err(KeyError::limit(format!(
            "{what} is {len} bytes, over the limit of {limit} bytes"
        )));
    }
    Ok(())
}

/// Go `base64.StdEncoding.DecodeString`, the decoder for every base64 field
/// Rekor returns (the entry body, the attestation, fields inside the spec):
/// CR/LF ignored, padding required, non-zero trailing bits accepted.
pub fn go_base64_decode(s: &str) -> Result<Vec<u8>, KeyError> {
    gobase64::decode(s.as_bytes()).map_err(KeyError::from)
}

/// One line of the `rekor-backfill keys` command (see [`keys_for_input`]),
/// its output lines joined by newlines.
pub fn keys_for_line(line: &str) -> String {
    keys_for_input(line).join("\n")
}

/// One input of the `rekor-backfill keys` command, as Rekor's API gives
/// entries, and its output: one JSON line per entry, `{"keys":[…]}` in
/// computation order or `{"error":"…"}`. The input is one of
///
/// - an entry: a JSON object with a base64 `body` and an optional
///   `attestation`, either base64 or Rekor's `{"data": base64}` (other
///   fields are ignored);
/// - a whole `GET /api/v1/log/entries?logIndex=N` response, a JSON object
///   of entries by UUID, or an array of those (`POST
///   /api/v1/log/entries/retrieve`): one line per entry, with its `uuid`
///   and `logIndex`;
/// - a bare base64 body, or a JSON string of one.
pub fn keys_for_input(input: &str) -> Vec<String> {
    let trimmed = input.trim();
    if !trimmed.starts_with(['{', '[']) {
        return vec![keys_line(decode_bare(trimmed), None)];
    }
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(value) => {
            let mut out = Vec::new();
            keys_of_value(&value, &mut out);
            out
        }
        Err(e) => vec![keys_line(
            Err(KeyError::decode(format!("input line: {e}"))),
            None,
        )],
    }
}

fn keys_of_value(value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::Array(items) => items.iter().for_each(|item| keys_of_value(item, out)),
        Value::Object(object) if is_response(object) => {
            for (uuid, entry) in object {
                out.push(keys_line(decode_entry(entry), Some((uuid, entry))));
            }
        }
        entry => out.push(keys_line(decode_entry(entry), None)),
    }
}

/// A log entries response: a non-empty object of entry objects by UUID.
fn is_response(object: &serde_json::Map<String, serde_json::Value>) -> bool {
    !object.is_empty()
        && !object.contains_key("body")
        && object
            .values()
            .all(|v| v.as_object().is_some_and(|e| e.contains_key("body")))
}

fn keys_line(
    decoded: Result<(Vec<u8>, Option<Vec<u8>>), KeyError>,
    from_response: Option<(&String, &serde_json::Value)>,
) -> String {
    let result = decoded.and_then(|(body, attestation)| index_keys(&body, attestation.as_deref()));
    let mut out = match result {
        Ok(keys) => serde_json::json!({ "keys": keys }),
        Err(e) => serde_json::json!({ "error": e.message() }),
    };
    if let Some((uuid, entry)) = from_response {
        out["uuid"] = serde_json::Value::String(uuid.clone());
        if let Some(index) = entry.get("logIndex") {
            out["logIndex"] = index.clone();
        }
    }
    out.to_string()
}

/// A bare base64 body, or a JSON string of one.
fn decode_bare(text: &str) -> Result<(Vec<u8>, Option<Vec<u8>>), KeyError> {
    let text: String = if text.starts_with('"') {
        serde_json::from_str(text).map_err(|e| KeyError::decode(format!("input line: {e}")))?
    } else {
        text.to_string()
    };
    Ok((go_base64_decode(&text)?, None))
}

/// The body and attestation bytes of one entry object.
fn decode_entry(entry: &serde_json::Value) -> Result<(Vec<u8>, Option<Vec<u8>>), KeyError> {
    use serde_json::Value;
    let body = match entry.get("body") {
        Some(Value::String(b)) => go_base64_decode(b)?,
        _ => return Err(KeyError::decode("input line has no string \"body\"")),
    };
    let attestation = match entry.get("attestation") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) => Some(go_base64_decode(a)?),
        // Rekor's API: `"attestation": {"data": base64}`, data optional.
        Some(Value::Object(a)) => match a.get("data") {
            None | Some(Value::Null) => None,
            Some(Value::String(data)) => Some(go_base64_decode(data)?),
            Some(_) => {
                return Err(KeyError::decode(
                    "input line \"attestation.data\" is not a string",
                ))
            }
        },
        Some(_) => {
            return Err(KeyError::decode(
                "input line \"attestation\" is not a string or an object",
            ))
        }
    };
    Ok((body, attestation))
}

/// `HK(alg, val)`: Go `strings.ToLower(alg + ":" + val)`.
fn hash_key(algorithm: &str, value: &str) -> String {
    gostr::to_lower(&format!("{algorithm}:{value}"))
}

/// `H(x)`: lowercase hex SHA-256.
fn sha256_hex(bytes: &[u8]) -> String {
    // `hex::encode` goes through a char iterator; this is a table lookup
    // into a buffer, and one key of nearly every entry.
    let mut out = [0u8; 64];
    let _ = hex::encode_to_slice(Sha256::digest(bytes), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_key_lowercases_like_go() {
        assert_eq!(hash_key("SHA256", "ABCDEF"), "sha256:abcdef");
        assert_eq!(hash_key("sha256", "\u{130}"), "sha256:i");
    }

    #[test]
    fn keys_for_line_reports_errors_as_json() {
        let out: serde_json::Value = serde_json::from_str(&keys_for_line("not base64!")).unwrap();
        assert!(out["error"].as_str().unwrap().contains("base64"));
        let body = gobase64::encode(br#"{"apiVersion":"9.9.9","kind":"jar","spec":{}}"#);
        let out: serde_json::Value = serde_json::from_str(&keys_for_line(&body)).unwrap();
        assert_eq!(
            out["error"],
            "jar implementation for version '9.9.9' not found: unable to locate entry for version 9.9.9"
        );
        let line =
            serde_json::json!({ "uuid": "x", "body": body, "attestation": null }).to_string();
        let out: serde_json::Value = serde_json::from_str(&keys_for_line(&line)).unwrap();
        assert!(out["error"].as_str().unwrap().contains("jar"));
        let out: serde_json::Value = serde_json::from_str(&keys_for_line("{\"uuid\":1}")).unwrap();
        assert!(out["error"].as_str().unwrap().contains("body"));
    }
}
