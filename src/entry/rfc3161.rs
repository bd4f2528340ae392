//! `rfc3161` 0.0.1 (docs/INDEX_KEYS.md §4.7): one key, `"sha256:" + H(tsr bytes)`.
//!
//! Go re-checks the response when it reads the entry back: at most 10 KiB,
//! status granted, a signedData token and a CMS signature that verifies.
//! Per §10 none of that is repeated — the log checked the response when it
//! accepted it, and limits or verification rules added since must not
//! unindex old entries. What is kept is what makes the bytes a timestamp
//! response at all: the stored content must be base64 (as Go requires to
//! decode the body) and must decode as relic's `TimeStampResp` with Go's
//! `encoding/asn1` (bytes after it ignored, as Go does); anything else
//! cannot be a response the log accepted, so it is a parse error.

use super::gojson::Value;
use super::spec;
use super::{sha256_hex, KeyError};
use crate::pki::pkcs7;

pub fn index_keys(spec: Value<'_>) -> Result<Vec<String>, KeyError> {
    // DecodeEntry.
    let tsr = spec.get_object("tsr");
    let content = match &tsr {
        Some(t) => spec::base64_field(t, "content", "tsr content")?,
        None => None,
    };

    // Model validation, then validate() up to the checks §10 drops.
    if tsr.is_none() {
        return Err(KeyError::new("tsr in body is required"));
    }
    let Some(content) = content else {
        return Err(KeyError::new("tsr.content in body is required"));
    };
    if content.is_empty() {
        return Err(KeyError::new("'content' must be specified for data"));
    }
    pkcs7::check_timestamp_response(&content)
        .map_err(|e| KeyError::new(format!("tsr is not a timestamp response: {e}")))?;

    Ok(vec![format!("sha256:{}", sha256_hex(&content))])
}
