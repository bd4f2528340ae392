//! A synthetic log with a realistic index-key mix, built from real bodies.
//!
//! The plain corpus cycle lists every key again each 459 indices, so every
//! list grows with the log; a real log is different: a few identities sign
//! a large share of it (a release workflow, a CI identity, one PGP key)
//! and most keys belong to one entry. With `--key-mix`, index `i` serves:
//!
//! | share | template (a corpus `rekord` entry) | keys |
//! |---|---|---|
//! | 25% | the first PGP-signed one | its key hash and e-mail: the hot keys |
//! | 5%, 3%, 2%, 1% | the first four x509-signed ones (distinct certificates) | their key hashes and identities |
//! | 64% | the first `ssh-ed25519` one, its 32 key bytes replaced per index | a key of its own |
//!
//! In every one the artifact hash (`spec.data.hash.value`) is replaced by
//! SHA-256 of the index, so each entry has its own artifact key and UUID.
//! The rest of each body is the corpus entry's bytes: real PGP keys, x509
//! certificates and signatures, keyed the way the real ones are (Rekor
//! does not check a `rekord` signature when it computes index keys, and
//! neither does Go's `backfill-index`, so both tools index every entry).
//! Which share an index falls in is a hash of the index, so any range
//! has the mix, and the same index always serves the same entry.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::log::Entry;

/// Shares of the hot and warm templates, in percent; the rest is unique.
pub const SHARES: [u64; 5] = [25, 5, 3, 2, 1];

/// A corpus entry whose artifact hash (and, for the unique share, SSH
/// key) is replaced per index.
#[derive(Clone, Debug)]
struct Template {
    entry: Arc<Entry>,
    /// The body with `{hash}` (and `{key}`) where the replaced values go.
    before_hash: Vec<u8>,
    hash: String,
    /// For the unique share: the base64 `publicKey.content` to replace.
    key: Option<String>,
}

/// The templates of the mix, picked from a corpus.
#[derive(Clone, Debug)]
pub struct KeyMix {
    /// Hot, then warm, in the order of [`SHARES`].
    shared: Vec<Template>,
    unique: Template,
}

impl KeyMix {
    /// Picks the templates from `corpus`; an error names what is missing.
    pub fn from_corpus(corpus: &[Entry]) -> anyhow::Result<KeyMix> {
        let mut pgp = None;
        let mut x509 = Vec::new();
        let mut ssh = None;
        for entry in corpus {
            let Some((format, hash, key)) = rekord_fields(&entry.body) else {
                continue;
            };
            let template = |key: Option<String>| Template {
                entry: Arc::new(entry.clone()),
                before_hash: entry.body.clone(),
                hash: hash.clone(),
                key,
            };
            match format.as_str() {
                "pgp" if pgp.is_none() => pgp = Some(template(None)),
                "x509"
                    if x509.len() < SHARES.len() - 1
                        && !x509.iter().any(|(_, k): &(Template, String)| *k == key) =>
                {
                    x509.push((template(None), key));
                }
                "ssh" if ssh.is_none() && is_ed25519(&key) => ssh = Some(template(Some(key))),
                _ => {}
            }
        }
        let (Some(pgp), Some(ssh)) = (pgp, ssh) else {
            anyhow::bail!(
                "--key-mix needs a PGP- and an ssh-ed25519-signed rekord entry with a data hash"
            );
        };
        if x509.len() < SHARES.len() - 1 {
            anyhow::bail!(
                "--key-mix needs {} x509-signed rekord entries with distinct keys",
                SHARES.len() - 1
            );
        }
        let mut shared = vec![pgp];
        shared.extend(x509.into_iter().map(|(t, _)| t));
        Ok(KeyMix {
            shared,
            unique: ssh,
        })
    }

    /// The entry and body served at `index`.
    pub fn entry(&self, index: u64) -> (Arc<Entry>, Vec<u8>) {
        let hash = hex::encode(Sha256::digest(format!("replay-rekor mix artifact {index}")));
        let mut bucket = split_mix(index) % 100;
        for (template, share) in self.shared.iter().zip(SHARES) {
            if bucket < share {
                return (template.entry.clone(), template.body(&hash, None));
            }
            bucket -= share;
        }
        let key = ssh_ed25519_key(&Sha256::digest(format!("replay-rekor mix key {index}")));
        (
            self.unique.entry.clone(),
            self.unique.body(&hash, Some(&key)),
        )
    }
}

impl Template {
    #[cfg(test)]
    fn key_of(&self) -> String {
        rekord_fields(&self.before_hash)
            .map(|(_, _, key)| key)
            .unwrap_or_default()
    }

    fn body(&self, hash: &str, key: Option<&str>) -> Vec<u8> {
        let text = String::from_utf8_lossy(&self.before_hash);
        let mut text = text.replacen(&self.hash, hash, 1);
        if let (Some(old), Some(new)) = (&self.key, key) {
            text = text.replacen(old.as_str(), new, 1);
        }
        text.into_bytes()
    }
}

/// (signature format, artifact hash, public key content) of a `rekord`
/// body with a sha256 `data.hash`.
fn rekord_fields(body: &[u8]) -> Option<(String, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if v["kind"] != "rekord" {
        return None;
    }
    let spec = &v["spec"];
    let hash = spec["data"]["hash"]["value"].as_str()?;
    if spec["data"]["hash"]["algorithm"] != "sha256" || hash.len() != 64 {
        return None;
    }
    // The replacement must hit exactly that value.
    let text = std::str::from_utf8(body).ok()?;
    if text.matches(hash).count() != 1 {
        return None;
    }
    let format = spec["signature"]["format"].as_str()?.to_string();
    let key = spec["signature"]["publicKey"]["content"]
        .as_str()?
        .to_string();
    if text.matches(key.as_str()).count() != 1 {
        return None;
    }
    Some((format, hash.to_string(), key))
}

fn is_ed25519(content: &str) -> bool {
    B64.decode(content)
        .is_ok_and(|line| line.starts_with(b"ssh-ed25519 "))
}

/// `publicKey.content` of an `ssh-ed25519` key with these 32 bytes.
fn ssh_ed25519_key(key: &[u8]) -> String {
    let mut blob = Vec::with_capacity(51);
    for part in [&b"ssh-ed25519"[..], &key[..32]] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(part);
    }
    B64.encode(format!("ssh-ed25519 {}\n", B64.encode(blob)))
}

/// SplitMix64: spreads consecutive indices evenly over the shares.
fn split_mix(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::Path;

    fn mix() -> KeyMix {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus/entries.jsonl");
        KeyMix::from_corpus(&crate::load_corpus(&path).unwrap()).unwrap()
    }

    #[test]
    fn shares_and_distinct_bodies() {
        let mix = mix();
        let n = 20_000;
        let mut counts = [0u64; 6];
        let mut bodies = HashSet::new();
        let mut keys = HashSet::new();
        for i in 0..n {
            let (_, body) = mix.entry(i);
            let (format, hash, key) = rekord_fields(&body).expect("a rekord body");
            assert!(bodies.insert(body.clone()));
            assert_eq!(
                hash,
                hex::encode(Sha256::digest(format!("replay-rekor mix artifact {i}")))
            );
            let slot = mix
                .shared
                .iter()
                .position(|t| t.key_of() == key)
                .unwrap_or(5);
            counts[slot] += 1;
            if slot == 5 {
                assert_eq!(format, "ssh");
                assert!(keys.insert(key), "unique keys repeat at {i}");
            }
            assert_eq!(mix.entry(i).1, body, "deterministic");
        }
        for (slot, share) in SHARES.iter().chain([&64]).enumerate() {
            let got = counts[slot] as f64 * 100.0 / n as f64;
            assert!(
                (got - *share as f64).abs() < 1.0,
                "share {slot}: {got}% not {share}%"
            );
        }
    }
}
