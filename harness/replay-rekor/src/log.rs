//! What the imitated log contains, and how one index becomes the JSON a
//! Rekor server would return for it.
//!
//! Every index is served from a real corpus entry, cyclically: index `i`
//! replays entry `i % n`, made distinct by JSON whitespace that encodes the
//! cycle `i / n` right after the body's first `{` (cycle 0 is the entry's
//! verbatim bytes). Whitespace changes no index key, but it changes the leaf
//! hash, so every index has its own genuine UUID and a log of any size can be
//! served without storing it. Explicit entries and deliberately malformed
//! entries override single indices.

use std::collections::HashMap;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::mix::KeyMix;

/// Tree IDs of rekor.sigstore.dev's current and previous shards: realistic
/// 16-hex UUID prefixes.
pub const DEFAULT_TREE_ID: u64 = 1_193_050_959_916_656_506;
pub const DEFAULT_INACTIVE_TREE_ID: u64 = 2_605_736_670_972_794_746;

/// logID (SHA-256 of the log key) for entries that do not carry one.
const DEFAULT_LOG_ID: &str = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";
/// integratedTime for entries that do not carry one (2023-11-14).
const DEFAULT_INTEGRATED_TIME: i64 = 1_700_000_000;

/// One stored entry, as the log holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The canonical body bytes (base64-decoded).
    pub body: Vec<u8>,
    /// The stored attestation, served as `attestation.data` when present.
    pub attestation: Option<Vec<u8>>,
    pub integrated_time: i64,
    /// Lower-case hex SHA-256 of the log's public key.
    pub log_id: String,
}

impl Entry {
    /// An entry with default metadata.
    pub fn new(body: impl Into<Vec<u8>>) -> Entry {
        Entry {
            body: body.into(),
            attestation: None,
            integrated_time: DEFAULT_INTEGRATED_TIME,
            log_id: DEFAULT_LOG_ID.to_string(),
        }
    }

    pub fn with_attestation(mut self, attestation: impl Into<Vec<u8>>) -> Entry {
        self.attestation = Some(attestation.into());
        self
    }

    pub fn with_integrated_time(mut self, t: i64) -> Entry {
        self.integrated_time = t;
        self
    }

    pub fn with_log_id(mut self, log_id: impl Into<String>) -> Entry {
        self.log_id = log_id.into();
        self
    }
}

/// Ways to break one entry, each a per-entry error for a correct client
/// (never a reason to stop the run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Malformation {
    /// `body` is not base64; the UUID is the one the regular entry has.
    BadBase64,
    /// `body` decodes to bytes that are not JSON (genuine UUID).
    BadJson,
    /// `body` is JSON of a kind Rekor does not know (genuine UUID).
    UnknownKind,
    /// The regular body under a UUID whose leaf hash does not match it.
    UuidMismatch,
}

impl Malformation {
    pub const ALL: [Malformation; 4] = [
        Malformation::BadBase64,
        Malformation::BadJson,
        Malformation::UnknownKind,
        Malformation::UuidMismatch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Malformation::BadBase64 => "bad-base64",
            Malformation::BadJson => "bad-json",
            Malformation::UnknownKind => "unknown-kind",
            Malformation::UuidMismatch => "uuid-mismatch",
        }
    }

    pub fn parse(name: &str) -> Option<Malformation> {
        Malformation::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// One entry exactly as served for an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedEntry {
    pub log_index: u64,
    /// 16-hex tree ID followed by the 64-hex leaf hash (or a deliberately
    /// wrong one, for [`Malformation::UuidMismatch`]).
    pub uuid: String,
    /// The `body` field as served (not base64 for [`Malformation::BadBase64`]).
    pub body_b64: String,
    pub attestation_b64: Option<String>,
    pub integrated_time: i64,
    pub log_id: String,
    pub tree_id: u64,
    /// Index within its shard, and that shard's size, for the inclusion proof.
    pub shard_index: u64,
    pub shard_size: u64,
    pub malformed: Option<Malformation>,
}

impl ServedEntry {
    /// The 64-hex leaf hash part of the UUID.
    pub fn leaf_hash(&self) -> &str {
        &self.uuid[16..]
    }

    /// The single-entry object Rekor returns: `{"<uuid>": {...}}`.
    /// Every string field is hex or base64, so no escaping is needed.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.body_b64.len() + 1024);
        out.push_str(&format!(
            "{{\"{uuid}\":{{\"body\":\"{body}\",\"integratedTime\":{time},\"logID\":\"{log_id}\",\"logIndex\":{index}",
            uuid = self.uuid,
            body = self.body_b64,
            time = self.integrated_time,
            log_id = self.log_id,
            index = self.log_index,
        ));
        if let Some(att) = &self.attestation_b64 {
            out.push_str(&format!(",\"attestation\":{{\"data\":\"{att}\"}}"));
        }
        out.push_str(&format!(
            ",\"verification\":{{\"inclusionProof\":{{\"checkpoint\":\"{checkpoint}\",\"hashes\":[],\
             \"logIndex\":{local},\"rootHash\":\"{root}\",\"treeSize\":{size}}},\
             \"signedEntryTimestamp\":\"{set}\"}}}}}}",
            checkpoint = checkpoint_text(self.tree_id, self.shard_size).replace('\n', "\\n"),
            local = self.shard_index,
            root = root_hash(self.tree_id, self.shard_size),
            size = self.shard_size,
            set = B64.encode(format!("replay-rekor SET {}", self.log_index)),
        ));
        out
    }
}

/// A shard's fake root hash. Not a Merkle root (computing one for a
/// synthetic log of millions would dominate the server's work); clients of
/// the read API used here do not verify it.
fn root_hash(tree_id: u64, size: u64) -> String {
    hex::encode(Sha256::digest(format!(
        "replay-rekor root {tree_id} {size}"
    )))
}

/// A checkpoint-shaped signed tree head (unsigned in substance).
fn checkpoint_text(tree_id: u64, size: u64) -> String {
    let root = B64.encode(Sha256::digest(format!(
        "replay-rekor root {tree_id} {size}"
    )));
    format!("replay-rekor - {tree_id}\n{size}\n{root}\n\n— replay-rekor AAAA\n")
}

/// The leaf hash of RFC 6962: SHA-256(0x00 || leaf).
pub fn leaf_hash(body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(body);
    h.finalize().into()
}

/// The UUID (entry ID) Rekor gives a body in a tree.
pub fn entry_uuid(tree_id: u64, body: &[u8]) -> String {
    format!("{tree_id:016x}{}", hex::encode(leaf_hash(body)))
}

/// JSON whitespace used as digits: any of them is insignificant.
const WS_DIGITS: [u8; 4] = [b' ', b'\t', b'\n', b'\r'];

/// The body with `cycle` encoded as JSON whitespace after its first `{`
/// (or in front, for a body without one). Bijective base 4, so distinct
/// cycles give distinct strings and cycle 0 leaves the body unchanged.
pub fn distinguish(body: &[u8], cycle: u64) -> Vec<u8> {
    let mut digits = Vec::new();
    let mut n = cycle;
    while n > 0 {
        n -= 1;
        digits.push(WS_DIGITS[(n % 4) as usize]);
        n /= 4;
    }
    let at = body.iter().position(|&b| b == b'{').map_or(0, |p| p + 1);
    let mut out = Vec::with_capacity(body.len() + digits.len());
    out.extend_from_slice(&body[..at]);
    out.extend_from_slice(&digits);
    out.extend_from_slice(&body[at..]);
    out
}

/// A shard's tree ID and how many entries it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub tree_id: u64,
    pub size: u64,
}

/// The imitated log: a corpus replayed cyclically up to `size` indices,
/// optionally split into an inactive shard (the first indices) and the
/// active shard (the rest, where growth happens).
#[derive(Clone, Debug)]
pub struct Log {
    corpus: Vec<Arc<Entry>>,
    /// Entries served instead of the corpus cycle.
    explicit: HashMap<u64, Arc<Entry>>,
    /// Indices whose entry (explicit or cycled) is served broken.
    malformed: HashMap<u64, Malformation>,
    /// Indices answered with HTTP 500 for ever, as rekor-server does for an
    /// entry it accepted but cannot serialize back.
    unreadable: std::collections::HashSet<u64>,
    active_tree_id: u64,
    inactive: Option<Shard>,
    size: u64,
    /// Serve the synthetic key mix instead of the corpus cycle.
    mix: Option<Arc<KeyMix>>,
    /// `(rootHash, signedTreeHead)` served for a tree instead of the fake
    /// ones: a test that signs real tree heads (`--verify-log` with the
    /// Trillian source).
    heads: HashMap<u64, (String, String)>,
}

impl Log {
    /// A log that serves the corpus once, verbatim, in order.
    pub fn new(corpus: Vec<Entry>) -> Log {
        let size = corpus.len() as u64;
        Log {
            corpus: corpus.into_iter().map(Arc::new).collect(),
            explicit: HashMap::new(),
            malformed: HashMap::new(),
            unreadable: Default::default(),
            active_tree_id: DEFAULT_TREE_ID,
            inactive: None,
            size,
            mix: None,
            heads: HashMap::new(),
        }
    }

    /// Serves `root_hash` (hex) and `signed_tree_head` (a signed note) for
    /// tree `tree_id` in `GET /api/v1/log`, instead of the fake ones.
    pub fn set_tree_head(&mut self, tree_id: u64, root_hash: &str, signed_tree_head: &str) {
        self.heads.insert(
            tree_id,
            (root_hash.to_string(), signed_tree_head.to_string()),
        );
    }

    /// Total size (all shards). Indices past the corpus replay it.
    pub fn with_size(mut self, size: u64) -> Log {
        self.set_size(size);
        self
    }

    /// Serves the synthetic key mix ([`crate::mix`]) at every index that
    /// has no explicit entry, instead of the corpus cycle.
    pub fn with_key_mix(mut self, mix: KeyMix) -> Log {
        self.mix = Some(Arc::new(mix));
        self
    }

    pub fn with_tree_id(mut self, tree_id: u64) -> Log {
        self.active_tree_id = tree_id;
        self
    }

    /// The first `size` indices live in an inactive shard of that tree.
    pub fn with_inactive_shard(mut self, tree_id: u64, size: u64) -> Log {
        self.inactive = Some(Shard { tree_id, size });
        self.size = self.size.max(size);
        self
    }

    /// A new active tree in place of the current one, as after a reset of
    /// the log: the same indices now belong to another tree.
    pub fn set_tree_id(&mut self, tree_id: u64) {
        self.active_tree_id = tree_id;
    }

    /// A shard rotation: the active tree is frozen as the inactive shard
    /// (keeping its global indices) and an empty active tree `tree_id`
    /// follows it. Only one inactive shard is modelled, so a log that has
    /// one already cannot rotate.
    pub fn rotate(&mut self, tree_id: u64) -> Result<(), String> {
        if self.inactive.is_some() {
            return Err("replay-rekor models one inactive shard; this log has it".to_string());
        }
        self.inactive = Some(self.active_shard());
        self.active_tree_id = tree_id;
        Ok(())
    }

    /// Total size of the log over all shards.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Grows (or shrinks) the active shard so that the total is `size`;
    /// never below the inactive shard, which is frozen.
    pub fn set_size(&mut self, size: u64) {
        self.size = size.max(self.inactive.map_or(0, |s| s.size));
    }

    pub fn active_shard(&self) -> Shard {
        Shard {
            tree_id: self.active_tree_id,
            size: self.size - self.inactive.map_or(0, |s| s.size),
        }
    }

    pub fn inactive_shard(&self) -> Option<Shard> {
        self.inactive
    }

    /// Serves `entry` at `index`, growing the log to include it.
    pub fn put(&mut self, index: u64, entry: Entry) {
        self.explicit.insert(index, Arc::new(entry));
        self.size = self.size.max(index + 1);
    }

    /// Appends entries at the end of the log; returns the first new index.
    pub fn append(&mut self, entries: impl IntoIterator<Item = Entry>) -> u64 {
        let first = self.size;
        for entry in entries {
            self.put(self.size, entry);
        }
        first
    }

    /// Breaks the entry at `index` (which must already be inside the log
    /// for it to be served).
    pub fn set_malformed(&mut self, index: u64, how: Malformation) {
        self.malformed.insert(index, how);
    }

    /// Makes every read of `index` answer 500 (`false`: served again).
    pub fn set_unreadable(&mut self, index: u64, unreadable: bool) {
        if unreadable {
            self.unreadable.insert(index);
        } else {
            self.unreadable.remove(&index);
        }
    }

    pub fn is_unreadable(&self, index: u64) -> bool {
        self.unreadable.contains(&index)
    }

    /// Drops explicit entries, malformations and unreadable indices: the
    /// corpus cycle again.
    pub fn clear_overrides(&mut self) {
        self.explicit.clear();
        self.malformed.clear();
        self.unreadable.clear();
    }

    fn shard_of(&self, index: u64) -> (u64, u64, u64) {
        match self.inactive {
            Some(s) if index < s.size => (s.tree_id, index, s.size),
            Some(s) => (self.active_tree_id, index - s.size, self.size - s.size),
            None => (self.active_tree_id, index, self.size),
        }
    }

    /// The entry at `index` and its body, before any malformation: the
    /// explicit entry if there is one, else the corpus cycle's.
    fn regular(&self, index: u64) -> Option<(Arc<Entry>, Vec<u8>)> {
        if let Some(entry) = self.explicit.get(&index) {
            return Some((entry.clone(), entry.body.clone()));
        }
        if let Some(mix) = &self.mix {
            return Some(mix.entry(index));
        }
        let n = self.corpus.len() as u64;
        if n == 0 {
            return None;
        }
        let entry = &self.corpus[(index % n) as usize];
        Some((entry.clone(), distinguish(&entry.body, index / n)))
    }

    /// What the server answers for `index`; `None` past the end.
    pub fn served(&self, index: u64) -> Option<ServedEntry> {
        if index >= self.size {
            return None;
        }
        let (tree_id, shard_index, shard_size) = self.shard_of(index);
        let (meta, body) = self.regular(index)?;
        let malformed = self.malformed.get(&index).copied();
        let (body_b64, uuid) = match malformed {
            Some(how) => malformed_body(how, index, tree_id, &body),
            None => (B64.encode(&body), entry_uuid(tree_id, &body)),
        };
        Some(ServedEntry {
            log_index: index,
            uuid,
            body_b64,
            attestation_b64: meta.attestation.as_ref().map(|a| B64.encode(a)),
            integrated_time: meta.integrated_time,
            log_id: meta.log_id.clone(),
            tree_id,
            shard_index,
            shard_size,
            malformed,
        })
    }

    /// `GET /api/v1/log`: the active shard, plus the inactive one if any.
    pub fn info_json(&self) -> String {
        let shard = |s: Shard| {
            let (root, head) = match self.heads.get(&s.tree_id) {
                Some((root, head)) => (root.clone(), head.clone()),
                None => (
                    root_hash(s.tree_id, s.size),
                    checkpoint_text(s.tree_id, s.size),
                ),
            };
            serde_json::json!({
                "rootHash": root,
                "signedTreeHead": head,
                "treeID": s.tree_id.to_string(),
                "treeSize": s.size,
            })
        };
        let mut info = shard(self.active_shard());
        if let Some(inactive) = self.inactive {
            info["inactiveShards"] = serde_json::json!([shard(inactive)]);
        }
        info.to_string()
    }
}

/// `body` field and UUID of a malformed entry at `index`. Bodies embed the
/// index so two malformed entries never share a UUID.
fn malformed_body(how: Malformation, index: u64, tree_id: u64, regular: &[u8]) -> (String, String) {
    match how {
        Malformation::BadBase64 => (
            format!("%%not-base64 {index}%%"),
            entry_uuid(tree_id, regular),
        ),
        Malformation::BadJson => {
            let body =
                format!(r#"{{"apiVersion":"0.0.1","kind":"rekord","spec":{{"index":{index}"#);
            (B64.encode(&body), entry_uuid(tree_id, body.as_bytes()))
        }
        Malformation::UnknownKind => {
            let body = format!(
                r#"{{"apiVersion":"0.0.1","kind":"replaynosuchkind","spec":{{"index":{index}}}}}"#
            );
            (B64.encode(&body), entry_uuid(tree_id, body.as_bytes()))
        }
        Malformation::UuidMismatch => {
            let mut uuid = entry_uuid(tree_id, regular).into_bytes();
            let last = uuid.len() - 1;
            uuid[last] = if uuid[last] == b'0' { b'1' } else { b'0' };
            (
                B64.encode(regular),
                String::from_utf8(uuid).unwrap_or_default(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rotation_keeps_indices_and_reset_changes_the_tree() {
        let mut log = Log::new(corpus()).with_size(10).with_tree_id(7);
        let before = log.served(3).unwrap().uuid;
        log.rotate(8).unwrap();
        assert_eq!(
            log.inactive_shard(),
            Some(Shard {
                tree_id: 7,
                size: 10
            })
        );
        assert_eq!(
            log.active_shard(),
            Shard {
                tree_id: 8,
                size: 0
            }
        );
        assert_eq!(log.served(3).unwrap().uuid, before);
        log.set_size(12);
        assert_eq!(log.served(11).unwrap().tree_id, 8);
        assert!(log.rotate(9).is_err());
        let mut reset = Log::new(corpus()).with_size(10).with_tree_id(7);
        reset.set_tree_id(9);
        assert_ne!(reset.served(3).unwrap().uuid, before);
        assert!(reset.info_json().contains(r#""treeID":"9""#));
    }

    fn corpus() -> Vec<Entry> {
        vec![
            Entry::new(br#"{"apiVersion":"0.0.1","kind":"rekord","spec":{"a":1}}"#.to_vec()),
            Entry::new(br#"{"apiVersion":"0.0.1","kind":"rekord","spec":{"a":2}}"#.to_vec())
                .with_attestation(b"att".to_vec())
                .with_integrated_time(7),
        ]
    }

    fn decoded(e: &ServedEntry) -> Vec<u8> {
        B64.decode(&e.body_b64).unwrap()
    }

    #[test]
    fn uuid_is_tree_id_and_rfc6962_leaf_hash() {
        // Leaf hash of the empty leaf, RFC 6962 test vector.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let log = Log::new(corpus()).with_tree_id(0x0123_4567_89ab_cdef);
        let e = log.served(1).unwrap();
        let expected = {
            let mut h = Sha256::new();
            h.update([0]);
            h.update(decoded(&e));
            hex::encode(h.finalize())
        };
        assert_eq!(e.uuid, format!("0123456789abcdef{expected}"));
        assert_eq!(e.leaf_hash(), expected);
        assert_eq!(e.attestation_b64.as_deref(), Some("YXR0"));
        assert_eq!(e.integrated_time, 7);
    }

    #[test]
    fn cycle_zero_is_verbatim_and_later_cycles_are_distinct_json_equal() {
        let c = corpus();
        let log = Log::new(c.clone()).with_size(2000);
        assert_eq!(decoded(&log.served(0).unwrap()), c[0].body);
        let mut uuids = HashSet::new();
        for i in 0..2000 {
            let e = log.served(i).unwrap();
            let body = decoded(&e);
            let original: serde_json::Value =
                serde_json::from_slice(&c[(i % 2) as usize].body).unwrap();
            let replayed: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(original, replayed, "index {i}");
            assert_eq!(e.uuid, entry_uuid(DEFAULT_TREE_ID, &body));
            assert!(uuids.insert(e.uuid), "duplicate UUID at {i}");
        }
        assert!(log.served(2000).is_none());
    }

    #[test]
    fn distinguish_is_injective_even_without_a_brace() {
        let mut seen = HashSet::new();
        for cycle in 0..5000 {
            assert!(seen.insert(distinguish(b"x", cycle)));
        }
        assert_eq!(distinguish(b"{}", 1), b"{ }");
        // Bijective base 4, least significant digit first.
        assert_eq!(distinguish(b"{}", 4), b"{\r}");
        assert_eq!(distinguish(b"{}", 5), b"{  }");
        assert_eq!(distinguish(b"{}", 6), b"{\t }");
    }

    #[test]
    fn shards_split_indices_and_info_reports_both() {
        let log = Log::new(corpus())
            .with_size(10)
            .with_inactive_shard(0xaa, 4);
        let first = log.served(3).unwrap();
        assert_eq!(
            (first.tree_id, first.shard_index, first.shard_size),
            (0xaa, 3, 4)
        );
        assert!(first.uuid.starts_with("00000000000000aa"));
        let later = log.served(4).unwrap();
        assert_eq!(
            (later.tree_id, later.shard_index, later.shard_size),
            (DEFAULT_TREE_ID, 0, 6)
        );
        let info: serde_json::Value = serde_json::from_str(&log.info_json()).unwrap();
        assert_eq!(info["treeSize"], 6);
        assert_eq!(info["treeID"], DEFAULT_TREE_ID.to_string());
        assert_eq!(info["inactiveShards"][0]["treeSize"], 4);
        assert_eq!(info["inactiveShards"][0]["treeID"], "170");
        let mut log = log;
        log.set_size(2);
        assert_eq!(log.size(), 4, "the inactive shard is frozen");
    }

    #[test]
    fn explicit_entries_and_append() {
        let mut log = Log::new(corpus());
        log.put(5, Entry::new(b"{\"x\":5}".to_vec()));
        assert_eq!(log.size(), 6);
        assert_eq!(decoded(&log.served(5).unwrap()), b"{\"x\":5}");
        let first = log.append([
            Entry::new(b"{\"y\":1}".to_vec()),
            Entry::new(b"{\"y\":2}".to_vec()),
        ]);
        assert_eq!(first, 6);
        assert_eq!(log.size(), 8);
        assert_eq!(decoded(&log.served(7).unwrap()), b"{\"y\":2}");
        // Indices in between replay the corpus.
        assert_eq!(decoded(&log.served(2).unwrap())[..2], *b"{ ");
    }

    #[test]
    fn malformations() {
        let mut log = Log::new(corpus()).with_size(8);
        let regular = log.served(4).unwrap();
        for (i, how) in Malformation::ALL.into_iter().enumerate() {
            log.set_malformed(4 + i as u64, how);
        }
        let bad_b64 = log.served(4).unwrap();
        assert!(B64.decode(&bad_b64.body_b64).is_err());
        assert_eq!(bad_b64.uuid, regular.uuid);
        assert_eq!(bad_b64.malformed, Some(Malformation::BadBase64));

        let bad_json = log.served(5).unwrap();
        let body = decoded(&bad_json);
        assert!(serde_json::from_slice::<serde_json::Value>(&body).is_err());
        assert_eq!(bad_json.uuid, entry_uuid(DEFAULT_TREE_ID, &body));

        let unknown = log.served(6).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&decoded(&unknown)).unwrap();
        assert_eq!(v["kind"], "replaynosuchkind");
        assert_eq!(
            unknown.uuid,
            entry_uuid(DEFAULT_TREE_ID, &decoded(&unknown))
        );

        let mismatch = log.served(7).unwrap();
        assert_ne!(
            mismatch.uuid,
            entry_uuid(DEFAULT_TREE_ID, &decoded(&mismatch))
        );
        assert_eq!(mismatch.uuid.len(), 80);
        assert_eq!(
            decoded(&mismatch),
            decoded(&Log::new(corpus()).with_size(8).served(7).unwrap())
        );

        for how in Malformation::ALL {
            assert_eq!(Malformation::parse(how.name()), Some(how));
        }

        // An explicit entry can be broken too, and mended by clearing.
        log.put(9, Entry::new(b"{\"x\":9}".to_vec()));
        log.set_malformed(9, Malformation::UuidMismatch);
        let broken = log.served(9).unwrap();
        assert_eq!(decoded(&broken), b"{\"x\":9}");
        assert_ne!(broken.uuid, entry_uuid(DEFAULT_TREE_ID, b"{\"x\":9}"));
        log.clear_overrides();
        let mended = log.served(9).unwrap();
        assert_eq!(mended.malformed, None);
        assert_ne!(decoded(&mended), b"{\"x\":9}", "the corpus cycle again");
    }

    #[test]
    fn entry_json_shape() {
        let log = Log::new(corpus());
        let e = log.served(1).unwrap();
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 1);
        let inner = &obj[&e.uuid];
        assert_eq!(inner["body"], e.body_b64);
        assert_eq!(inner["logIndex"], 1);
        assert_eq!(inner["integratedTime"], 7);
        assert_eq!(inner["logID"], DEFAULT_LOG_ID);
        assert_eq!(inner["attestation"]["data"], "YXR0");
        assert_eq!(inner["verification"]["inclusionProof"]["treeSize"], 2);
        assert!(inner["verification"]["signedEntryTimestamp"].is_string());
        let plain = log.served(0).unwrap();
        let v: serde_json::Value = serde_json::from_str(&plain.to_json()).unwrap();
        assert!(v[&plain.uuid].get("attestation").is_none());
    }
}
