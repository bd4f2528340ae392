//! Decoding a stored Rekor entry body and computing its search-index keys.
//!
//! The body is the base64-decoded canonical JSON `{"apiVersion","kind","spec"}`
//! that the server stored. Each kind lives in its own file; all of them follow
//! `../shared/spec/INDEX_KEYS.md` §4 and the project decisions of §10.

use std::fmt;

/// Why an entry could not be turned into index keys. Per-entry and
/// deterministic: retrying the same body gives the same error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// Computes the index keys of one stored entry, in the order the key
/// computation yields them (before any backend normalisation such as Redis
/// lowercasing). `attestation` is the entry's stored attestation (already
/// base64-decoded) when the server returned one.
pub fn index_keys(body: &[u8], attestation: Option<&[u8]>) -> Result<Vec<String>, KeyError> {
    let _ = (body, attestation);
    Err(KeyError("not implemented yet".into()))
}

/// Go `base64.StdEncoding` decoding (placeholder until the entry module lands).
pub fn go_base64_decode(text: &str) -> Result<Vec<u8>, KeyError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| KeyError(format!("bad base64: {e}")))
}

/// One line of `rekor-backfill keys` (placeholder until the entry module lands).
pub fn keys_for_line(line: &str) -> String {
    let _ = line;
    serde_json::json!({"error": "not implemented yet"}).to_string()
}
