//! `--verify-log`: checks that what the log serves is what it signed, before
//! an entry is indexed. Per entry (the Rekor API source): the signed entry
//! timestamp over the entry, the inclusion proof from the body's leaf hash
//! to the proof's root, and the checkpoint that signs that root. Any
//! mismatch is a per-entry failure of kind `verification`: the entry is not
//! indexed. A source without per-entry proofs (Trillian's database) checks
//! whole trees instead: their roots recomputed ([`merkle`]) against their
//! signed tree heads ([`LogVerifier::tree_head`]), before anything is
//! written (`crate::source::trillian_root`).

pub mod checkpoint;
pub mod inclusion;
pub mod key;
pub mod merkle;
pub mod set;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use crate::entry::KeyError;
use crate::error::ErrorKind;
use crate::rekor::{FetchedEntry, LogEvidence};
use checkpoint::CheckpointCache;
use key::LogKey;

/// `verification` of a log entry, as Rekor's OpenAPI document shapes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Verification {
    inclusion_proof: Option<InclusionProof>,
    signed_entry_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionProof {
    log_index: u64,
    root_hash: String,
    tree_size: u64,
    hashes: Vec<String>,
    checkpoint: String,
}

/// Verifies fetched entries against one log key; shared by every worker.
pub struct LogVerifier {
    key: LogKey,
    checkpoints: CheckpointCache,
}

fn failed(message: impl Into<String>) -> KeyError {
    KeyError::new(ErrorKind::Verification, message.into())
}

impl LogVerifier {
    pub fn new(key: LogKey) -> LogVerifier {
        LogVerifier {
            key,
            checkpoints: CheckpointCache::default(),
        }
    }

    /// The log ID of the key, for the log line that says which key is used.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint()
    }

    /// The size and root hash a signed tree head (a signed note, as
    /// `GET /api/v1/log` serves it) signs, once its signature verifies
    /// with the log key.
    pub fn tree_head(&self, note: &str) -> Result<checkpoint::Checkpoint, String> {
        self.checkpoints.verify(&self.key, note)
    }

    /// Ok when the entry's SET, inclusion proof and checkpoint all verify.
    pub fn verify(&self, fetched: &FetchedEntry) -> Result<(), KeyError> {
        let evidence = fetched
            .evidence
            .as_deref()
            .ok_or_else(|| failed("the server returned no verification data"))?;
        let verification: Verification = serde_json::from_str(evidence.verification.get())
            .map_err(|e| failed(format!("the verification data is malformed: {e}")))?;
        let body_b64 = fetched
            .body
            .as_str()
            .ok_or_else(|| failed("the body is not a string"))?;
        self.check_set(fetched, evidence, body_b64, &verification)?;
        let proof = verification
            .inclusion_proof
            .ok_or_else(|| failed("the entry has no inclusion proof"))?;
        // Decoded as the keys are (Go's base64), so both see the same bytes.
        let body = crate::entry::go_base64_decode(body_b64)
            .map_err(|_| failed("the body is not base64"))?;
        let root = check_inclusion(&body, &proof)?;
        let signed = self
            .checkpoints
            .verify(&self.key, &proof.checkpoint)
            .map_err(|e| failed(format!("checkpoint: {e}")))?;
        if signed.size != proof.tree_size || signed.root_hash != root {
            return Err(failed(
                "the signed checkpoint is not the tree the inclusion proof is for",
            ));
        }
        Ok(())
    }

    fn check_set(
        &self,
        fetched: &FetchedEntry,
        evidence: &LogEvidence,
        body_b64: &str,
        verification: &Verification,
    ) -> Result<(), KeyError> {
        let set = verification
            .signed_entry_timestamp
            .as_deref()
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| failed("the signed entry timestamp is missing or not base64"))?;
        let (Some(time), Some(log_id)) =
            (evidence.integrated_time.as_i64(), evidence.log_id.as_str())
        else {
            return Err(failed("the entry lacks integratedTime or logID"));
        };
        let payload = set::payload(body_b64, time, log_id, fetched.log_index);
        if !self.key.verifies(payload.as_bytes(), &set) {
            return Err(failed(
                "the signed entry timestamp does not verify with the log key",
            ));
        }
        Ok(())
    }
}

/// The proof's root, once the body's leaf hash leads to it.
fn check_inclusion(body: &[u8], proof: &InclusionProof) -> Result<Vec<u8>, KeyError> {
    let hash32 = |h: &str| -> Result<[u8; 32], KeyError> {
        hex::decode(h)
            .ok()
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| failed("an inclusion proof hash is not 32 bytes of hex"))
    };
    let path = proof
        .hashes
        .iter()
        .map(|h| hash32(h))
        .collect::<Result<Vec<_>, _>>()?;
    let root = hash32(&proof.root_hash)?;
    let got = inclusion::root_from_path(
        proof.log_index,
        proof.tree_size,
        inclusion::leaf_hash(body),
        &path,
    )
    .map_err(|e| failed(format!("inclusion proof: {e}")))?;
    if got != root {
        return Err(failed(
            "the inclusion proof does not lead from the body to its root hash",
        ));
    }
    Ok(root.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkpoint::tests::signed;
    use key::tests::{sign, signer};
    use ring::signature::EcdsaKeyPair;
    use sha2::{Digest, Sha256};

    const BODY: &[u8] = br#"{"apiVersion":"0.0.1","kind":"rekord","spec":{}}"#;
    const LOG_ID: &str = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";

    /// Entry 1 of a two-leaf tree, with everything Rekor would serve.
    fn served(pair: &EcdsaKeyPair, key: &LogKey, body: &[u8]) -> (FetchedEntry, String) {
        let sibling = inclusion::leaf_hash(b"entry 0");
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(sibling);
        h.update(inclusion::leaf_hash(body));
        let root: [u8; 32] = h.finalize().into();
        let body_b64 = STANDARD.encode(body);
        let set = sign(
            pair,
            set::payload(&body_b64, 1700000000, LOG_ID, 7).as_bytes(),
        );
        let verification = serde_json::json!({
            "inclusionProof": {
                "logIndex": 1,
                "rootHash": hex::encode(root),
                "treeSize": 2,
                "hashes": [hex::encode(sibling)],
                "checkpoint": signed(pair, key, 2, &root),
            },
            "signedEntryTimestamp": STANDARD.encode(set),
        })
        .to_string();
        (fetched(&body_b64, &verification), verification)
    }

    fn fetched(body_b64: &str, verification: &str) -> FetchedEntry {
        FetchedEntry {
            log_index: 7,
            uuid: hex::encode(inclusion::leaf_hash(BODY)),
            body: serde_json::Value::from(body_b64),
            attestation: None,
            evidence: Some(Box::new(LogEvidence {
                integrated_time: 1700000000.into(),
                log_id: LOG_ID.into(),
                verification: serde_json::value::RawValue::from_string(verification.into())
                    .unwrap(),
            })),
        }
    }

    fn verifier() -> (LogVerifier, EcdsaKeyPair) {
        let (pair, pem) = signer();
        (LogVerifier::new(LogKey::from_pem(&pem).unwrap()), pair)
    }

    fn refused(verifier: &LogVerifier, entry: &FetchedEntry) -> String {
        let e = verifier.verify(entry).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Verification);
        e.message().to_string()
    }

    #[test]
    fn a_served_entry_verifies() {
        let (verifier, pair) = verifier();
        let (entry, _) = served(&pair, &verifier.key, BODY);
        verifier.verify(&entry).unwrap();
    }

    #[test]
    fn each_alteration_is_caught_by_its_check() {
        let (verifier, pair) = verifier();
        let (entry, verification) = served(&pair, &verifier.key, BODY);
        let body_b64 = entry.body.as_str().unwrap().to_string();

        // Another body: the SET no longer covers it.
        let other = STANDARD.encode(br#"{"apiVersion":"0.0.2","kind":"rekord","spec":{}}"#);
        assert!(refused(&verifier, &fetched(&other, &verification)).contains("timestamp"));

        // Another logIndex than the one signed.
        let mut moved = entry.clone();
        moved.log_index = 8;
        assert!(refused(&verifier, &moved).contains("timestamp"));

        let v: serde_json::Value = serde_json::from_str(&verification).unwrap();
        let alter = |path: &str, value: serde_json::Value| {
            let mut v = v.clone();
            *v.pointer_mut(path).unwrap() = value;
            fetched(&body_b64, &v.to_string())
        };
        let hash = "00".repeat(32);
        assert!(
            refused(&verifier, &alter("/inclusionProof/hashes/0", hash.into()))
                .contains("inclusion proof")
        );
        let (other_pair, _) = signer();
        let foreign_set = STANDARD.encode(sign(&other_pair, b"x"));
        assert!(refused(
            &verifier,
            &alter("/signedEntryTimestamp", foreign_set.into())
        )
        .contains("timestamp"));
        let checkpoint = v["inclusionProof"]["checkpoint"].as_str().unwrap();
        let forged = checkpoint.replacen(" rekor.local ", " rekor.local AAAA", 1);
        assert!(refused(
            &verifier,
            &alter("/inclusionProof/checkpoint", forged.into())
        )
        .contains("checkpoint"));
        // A valid checkpoint of another tree.
        let other_tree = signed(&pair, &verifier.key, 3, &[1; 32]);
        assert!(refused(
            &verifier,
            &alter("/inclusionProof/checkpoint", other_tree.into())
        )
        .contains("not the tree"));

        let mut bare = entry.clone();
        bare.evidence = None;
        assert!(refused(&verifier, &bare).contains("no verification data"));
    }
}

/// Entries served by a real rekor-server (the harness stack, Rekor v1.5.4,
/// its default ECDSA P-256 signer), GET by index and the batch POST, with
/// the key its `publicKey` endpoint served: testdata/verify/.
#[cfg(test)]
mod real {
    use super::*;

    const KEY: &str = include_str!("../../testdata/verify/rekor.pub");
    const ENTRIES: &str = include_str!("../../testdata/verify/entries.json");

    /// Every `uuid → entry` of the captured responses, as the client keeps it.
    fn served() -> Vec<FetchedEntry> {
        let responses: Vec<serde_json::Value> = serde_json::from_str(ENTRIES).unwrap();
        let mut out = Vec::new();
        for response in responses {
            for map in response
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![response])
            {
                for (uuid, e) in map.as_object().unwrap() {
                    out.push(FetchedEntry {
                        log_index: e["logIndex"].as_u64().unwrap(),
                        uuid: uuid.clone(),
                        body: e["body"].clone(),
                        attestation: None,
                        evidence: Some(Box::new(LogEvidence {
                            integrated_time: e["integratedTime"].clone(),
                            log_id: e["logID"].clone(),
                            verification: serde_json::value::RawValue::from_string(
                                e["verification"].to_string(),
                            )
                            .unwrap(),
                        })),
                    });
                }
            }
        }
        out
    }

    fn verifier() -> LogVerifier {
        LogVerifier::new(LogKey::from_pem(KEY.as_bytes()).unwrap())
    }

    #[test]
    fn the_real_servers_entries_verify() {
        let verifier = verifier();
        let entries = served();
        assert!(entries.len() >= 8, "{}", entries.len());
        for e in &entries {
            verifier
                .verify(e)
                .unwrap_or_else(|err| panic!("log index {}: {err}", e.log_index));
            // Rekor's log ID is the SHA-256 of its key.
            assert_eq!(
                e.evidence.as_ref().unwrap().log_id.as_str(),
                Some(verifier.fingerprint().as_str())
            );
        }
    }

    #[test]
    fn a_real_entry_altered_is_refused() {
        let verifier = verifier();
        let entry = served().into_iter().find(|e| e.log_index > 0).unwrap();
        let verification: serde_json::Value =
            serde_json::from_str(entry.evidence.as_ref().unwrap().verification.get()).unwrap();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = verification.clone();
            f(&mut v);
            let mut e = entry.clone();
            if let Some(evidence) = e.evidence.as_mut() {
                evidence.verification =
                    serde_json::value::RawValue::from_string(v.to_string()).unwrap();
            }
            e
        };
        let message = |e: &FetchedEntry| verifier.verify(e).unwrap_err().message().to_string();

        let mut body = entry.clone();
        let mut bytes = STANDARD.decode(body.body.as_str().unwrap()).unwrap();
        bytes.push(b' ');
        body.body = STANDARD.encode(bytes).into();
        assert!(message(&body).contains("timestamp"));

        let hash = with(&|v| v["inclusionProof"]["hashes"][0] = "00".repeat(32).into());
        assert!(message(&hash).contains("inclusion proof"));

        let set = with(&|v| {
            let mut sig = STANDARD
                .decode(v["signedEntryTimestamp"].as_str().unwrap())
                .unwrap();
            let last = sig.len() - 1;
            sig[last] ^= 1;
            v["signedEntryTimestamp"] = STANDARD.encode(sig).into();
        });
        assert!(message(&set).contains("timestamp"));

        let checkpoint = with(&|v| {
            let text = v["inclusionProof"]["checkpoint"].as_str().unwrap();
            let renamed = text.replacen(" - ", " -- ", 1);
            v["inclusionProof"]["checkpoint"] = renamed.into();
        });
        assert!(message(&checkpoint).contains("no checkpoint signature verifies"));

        let (_, other) = key::tests::signer();
        let stranger = LogVerifier::new(LogKey::from_pem(&other).unwrap());
        assert!(stranger.verify(&entry).is_err());
    }
}
