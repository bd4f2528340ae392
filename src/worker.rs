//! One unit of work: a chunk of consecutive log indices, fetched, decoded,
//! keyed and written with one backend round trip.
//!
//! A chunk is complete only after the write that carries its keys has
//! succeeded. Entries that cannot be decoded or keyed are per-entry failures:
//! deterministic, so they count as done (reported, never indexed).

use std::ops::RangeInclusive;

use sha2::{Digest, Sha256};

use crate::entry::{self, KeyError};
use crate::error::ErrorKind;
use crate::panics;
use crate::rekor::{FetchError, FetchedEntry};
use crate::sink::{IndexedEntry, Sink, SinkError};
use crate::source::EntryReader;
use crate::verify::LogVerifier;

/// An entry that could not be indexed, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFailure {
    pub log_index: u64,
    pub uuid: String,
    pub error: KeyError,
}

impl EntryFailure {
    /// The `--failed-entries` line:
    /// `{"logIndex":N,"uuid":"...","error":"...","kind":"decode"}`.
    pub fn to_json_line(&self) -> String {
        serde_json::json!({
            "logIndex": self.log_index,
            "uuid": self.uuid,
            "error": self.error.message(),
            "kind": self.error.kind().as_str(),
        })
        .to_string()
    }
}

/// A finished chunk, sent to the checkpoint thread.
#[derive(Debug)]
pub struct Completion {
    pub indices: RangeInclusive<u64>,
    pub keys_written: u64,
    pub failures: Vec<EntryFailure>,
}

/// Why a chunk did not complete.
#[derive(Debug)]
pub enum ChunkError {
    Fetch(FetchError),
    Write(SinkError),
}

impl ChunkError {
    /// A service failure either way, never a property of the entries: the
    /// run stops with its checkpoint saved, and a later run retries.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ChunkError::Fetch(e) => e.kind(),
            ChunkError::Write(_) => ErrorKind::Backend,
        }
    }
}

pub fn process_chunk(
    indices: RangeInclusive<u64>,
    reader: &mut dyn EntryReader,
    verifier: Option<&LogVerifier>,
    sink: &mut dyn Sink,
) -> Result<Completion, ChunkError> {
    let mut indexed = Vec::with_capacity(indices.clone().count());
    let mut failures = Vec::new();
    for fetched in reader.entries(indices.clone()).map_err(ChunkError::Fetch)? {
        let fetched = match fetched {
            Ok(fetched) => fetched,
            Err(failure) => {
                failures.push(failure);
                continue;
            }
        };
        let index = fetched.log_index;
        let verified = match verifier {
            Some(verifier) => verifier.verify(&fetched),
            None => Ok(()),
        };
        let keys = verified.and_then(|()| {
            panics::catch_entry(index, || entry_keys(&fetched)).unwrap_or_else(|panic| {
                Err(KeyError::new(
                    ErrorKind::Internal,
                    format!("panic while processing the entry: {panic}"),
                ))
            })
        });
        match keys {
            Ok(keys) => indexed.push(IndexedEntry {
                uuid: fetched.uuid,
                keys,
            }),
            Err(error) => {
                warn_failed(index, &fetched.uuid, &error);
                failures.push(EntryFailure {
                    log_index: index,
                    uuid: fetched.uuid,
                    error,
                });
            }
        }
    }
    sink.write(&indexed).map_err(ChunkError::Write)?;
    let keys_written = indexed.iter().map(|e| e.keys.len() as u64).sum();
    for e in &indexed {
        log::debug!("Indexed entry {} with {} keys", e.uuid, e.keys.len());
    }
    Ok(Completion {
        indices,
        keys_written,
        failures,
    })
}

pub(crate) fn warn_failed(index: u64, uuid: &str, error: &KeyError) {
    log::warn!(
        log_index = index,
        uuid = uuid,
        error = error.message(),
        kind = error.kind().as_str();
        "Entry {} ({}) cannot be indexed: {}",
        index,
        uuid,
        error
    );
}

/// The keys of one fetched entry, after checking that its UUID belongs to
/// its body, so the index never points at the wrong entry.
pub fn entry_keys(fetched: &FetchedEntry) -> Result<Vec<String>, KeyError> {
    let Some(body_b64) = fetched.body.as_str() else {
        return Err(KeyError::new(
            ErrorKind::Rekor,
            "the server returned a body that is not a string",
        ));
    };
    let body = entry::go_base64_decode(body_b64).map_err(|e| e.context("body"))?;
    check_uuid(&fetched.uuid, &body)?;
    let attestation = match &fetched.attestation {
        Some(data) if !data.is_empty() => {
            Some(entry::go_base64_decode(data).map_err(|e| e.context("attestation"))?)
        }
        _ => None,
    };
    entry::index_keys(&body, attestation.as_deref())
}

/// A UUID is the Merkle leaf hash SHA-256(0x00 ‖ body) in hex, optionally
/// preceded by a 16-hex tree id.
pub fn check_uuid(uuid: &str, body: &[u8]) -> Result<(), KeyError> {
    let is_hex = uuid.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_hex || !(uuid.len() == 64 || uuid.len() == 80) {
        return Err(KeyError::new(
            ErrorKind::Rekor,
            format!("the entry UUID {uuid:?} is not 64 or 80 hex characters"),
        ));
    }
    let leaf = &uuid[uuid.len() - 64..];
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(body);
    let digest = hasher.finalize();
    // Compared as bytes (hex of either case decodes alike): no hex string
    // per entry unless it is needed for the message.
    let mut stated = [0u8; 32];
    if hex::decode_to_slice(leaf, &mut stated).is_err() || stated[..] != digest[..] {
        let expected = hex::encode(digest);
        return Err(KeyError::new(
            ErrorKind::Mismatch,
            format!("the entry UUID does not match its body (leaf hash of the body is {expected})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(body: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(body);
        hex::encode(h.finalize())
    }

    #[test]
    fn uuid_must_be_the_leaf_hash() {
        let body = br#"{"apiVersion":"0.0.1","kind":"x","spec":{}}"#;
        let l = leaf(body);
        assert!(check_uuid(&l, body).is_ok());
        assert!(check_uuid(&format!("24296fb24b8ad77a{l}"), body).is_ok());
        assert!(check_uuid(&l.to_uppercase(), body).is_ok());
        let mismatch = check_uuid(&l, b"other").unwrap_err();
        assert!(mismatch.message().contains("does not match"));
        assert_eq!(mismatch.kind(), ErrorKind::Mismatch);
        let not_hex = check_uuid("xyz", body).unwrap_err();
        assert!(not_hex.message().contains("hex"));
        assert_eq!(not_hex.kind(), ErrorKind::Rekor);
        assert!(check_uuid(&l[..63], body).is_err());
    }

    #[test]
    fn failure_line_is_json() {
        let f = EntryFailure {
            log_index: 7,
            uuid: "ab".into(),
            error: KeyError::new(ErrorKind::Unsupported, "bad \"x\""),
        };
        let v: serde_json::Value = serde_json::from_str(&f.to_json_line()).unwrap();
        assert_eq!(v["logIndex"], 7);
        assert_eq!(v["uuid"], "ab");
        assert_eq!(v["error"], "bad \"x\"");
        assert_eq!(v["kind"], "unsupported");
    }
}
