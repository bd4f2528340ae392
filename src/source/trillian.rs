//! Trillian's database as an entry source: one range query per chunk on
//! the log's own MySQL, instead of one API request (and one inclusion
//! proof per entry) per ten entries.
//!
//! Read-only: a reader needs `SELECT` on `SequencedLeafData` and
//! `LeafData`. A global log index maps to (tree, sequence number) through
//! the trees in global index order, as Rekor's shards do. The UUID is built
//! as Rekor builds it (16 hex digits of tree ID, then the Merkle leaf
//! hash), so [`crate::worker::entry_keys`] checks the stored hash against
//! the leaf value exactly as it checks an API response: a mismatch fails
//! that index with kind `mismatch`. Attestations live in Rekor's own
//! storage, not Trillian's, so entries come without them: the kinds that
//! read one (intoto, cose) are counted, or, with `--attestations-from-rekor`,
//! fetched through the API one by one (only those).
//!
//! A database failure names the database (without its password), the tree
//! and the sequence numbers asked for, and is tagged kind `trillian`
//! ([`ServiceError`]): a service failure that stops the run (status 1, the
//! checkpoint saved below it), told apart from Rekor's. With
//! `--verify-log`, [`super::trillian_root`] checks the trees against their
//! signed tree heads first.

use std::fmt::Display;
use std::num::NonZeroU64;
use std::ops::RangeInclusive;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::anyhow;
use base64::Engine;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::{EntryReader, EntrySource, FetchError, Fetched, FetchedEntry};
use crate::config::TRILLIAN_BATCH_SIZE;
use crate::entry::KeyError;
use crate::error::{ErrorKind, ServiceError};
use crate::log_layout::LogLayout;
use crate::rekor::{RekorClient, SignedTreeHead};
use crate::sink::{Backend, MysqlBackend};
use crate::verify::LogVerifier;
use crate::worker::{warn_failed, EntryFailure};

/// One chunk of one tree, fetched by a single statement (a primary-key
/// range scan of `SequencedLeafData`).
const SELECT_RANGE: &str = "SELECT s.SequenceNumber, s.MerkleLeafHash, l.LeafValue \
     FROM SequencedLeafData s JOIN LeafData l \
     ON l.TreeId = s.TreeId AND l.LeafIdentityHash = s.LeafIdentityHash \
     WHERE s.TreeId = ? AND s.SequenceNumber BETWEEN ? AND ? \
     ORDER BY s.SequenceNumber";

/// A tree's size: one past its highest sequence number.
const SELECT_SIZE: &str =
    "SELECT COALESCE(MAX(SequenceNumber) + 1, 0) FROM SequencedLeafData WHERE TreeId = ?";

/// A tree of the log and the global index of its first leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeSpan {
    pub tree_id: i64,
    pub start: u64,
    pub size: u64,
}

pub struct TrillianSource {
    db: MysqlBackend,
    layout: LogLayout,
    trees: Vec<TreeSpan>,
    /// `--attestations-from-rekor`: where the attestations come from.
    attestations: Option<Arc<RekorClient>>,
    /// The signed tree heads served with the layout (none with
    /// `--trillian-tree-ids`), for `--verify-log`.
    heads: Vec<SignedTreeHead>,
    /// Leaves per range query, per task and per backend write
    /// (`--trillian-batch-size`).
    batch_size: NonZeroU64,
}

impl TrillianSource {
    /// The trees given oldest first (`--trillian-tree-ids`), their sizes
    /// read from the database (`MAX(SequenceNumber) + 1`).
    pub fn from_tree_ids(db: MysqlBackend, tree_ids: &[i64]) -> Result<TrillianSource, FetchError> {
        let mut conn = connect(&db)?;
        let mut pairs = Vec::with_capacity(tree_ids.len());
        for &tree_id in tree_ids {
            let size: Option<u64> = conn
                .exec_first(SELECT_SIZE, (tree_id,))
                .map_err(|e| db_error(&db, format!("size of tree {tree_id}"), &e))?;
            pairs.push((tree_id.to_string(), size.unwrap_or(0)));
        }
        let active = pairs
            .pop()
            .ok_or_else(|| anyhow!("no Trillian tree given"))?;
        TrillianSource::from_layout(db, LogLayout::new(pairs, active))
    }

    /// The trees and sizes Rekor lists (`GET /api/v1/log`): only its
    /// integrated leaves are read, as through the API.
    pub fn from_layout(db: MysqlBackend, layout: LogLayout) -> Result<TrillianSource, FetchError> {
        let trees = layout
            .trees()
            .iter()
            .map(|t| {
                let tree_id = t
                    .tree_id
                    .parse()
                    .map_err(|_| anyhow!("tree ID {:?} is not a Trillian tree ID", t.tree_id))?;
                Ok(TreeSpan {
                    tree_id,
                    start: t.start_index,
                    size: t.size,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(TrillianSource {
            db,
            layout,
            trees,
            attestations: None,
            heads: Vec::new(),
            batch_size: TRILLIAN_BATCH_SIZE,
        })
    }

    /// The signed tree heads `GET /api/v1/log` served with the layout.
    pub fn with_tree_heads(mut self, heads: Vec<SignedTreeHead>) -> TrillianSource {
        self.heads = heads;
        self
    }

    /// Read `batch_size` leaves per statement (`--trillian-batch-size`).
    pub fn with_batch_size(mut self, batch_size: NonZeroU64) -> TrillianSource {
        self.batch_size = batch_size;
        self
    }

    /// Fetch the attestation of each intoto and cose entry from `client`
    /// (`--attestations-from-rekor`).
    pub fn with_attestations_from(mut self, client: Arc<RekorClient>) -> TrillianSource {
        self.attestations = Some(client);
        self
    }
}

impl EntrySource for TrillianSource {
    fn describe(&self) -> String {
        format!("Trillian database {}", self.db.describe())
    }

    fn layout(&self) -> Result<LogLayout, FetchError> {
        Ok(self.layout.clone())
    }

    fn reader(&self) -> Result<Box<dyn EntryReader>, FetchError> {
        Ok(Box::new(TrillianReader {
            conn: connect(&self.db)?,
            db: self.db.clone(),
            trees: self.trees.clone(),
            attestations: self.attestations.clone(),
            not_fetched: 0,
            batch_size: self.batch_size,
        }))
    }

    fn serves_entry_proofs(&self) -> bool {
        false
    }

    fn verify_trees(
        &self,
        verifier: &LogVerifier,
        range: RangeInclusive<u64>,
        stop: &AtomicBool,
    ) -> Result<(), FetchError> {
        if self.heads.is_empty() {
            // Config refuses --verify-log with --trillian-tree-ids.
            return Err(anyhow!("no signed tree heads to verify the trees against").into());
        }
        super::trillian_root::verify_trees(
            &self.db,
            &self.trees,
            &self.heads,
            verifier,
            range,
            stop,
        )
    }
}

/// A session on the database; a refusal is a `trillian` failure naming it.
pub(super) fn connect(db: &MysqlBackend) -> Result<Conn, FetchError> {
    db.connect().map_err(|e| {
        FetchError::Fatal(
            ServiceError::new(ErrorKind::Trillian, format!("Trillian database {e:#}")).into(),
        )
    })
}

/// A failed statement: kind `trillian`, naming the database (never its
/// password) and what was read.
pub(super) fn db_error(db: &MysqlBackend, what: impl Display, e: impl Display) -> FetchError {
    FetchError::Fatal(
        ServiceError::new(
            ErrorKind::Trillian,
            format!("Trillian database {}: {what}: {e}", db.describe()),
        )
        .into(),
    )
}

/// One worker's database session.
struct TrillianReader {
    conn: Conn,
    db: MysqlBackend,
    trees: Vec<TreeSpan>,
    attestations: Option<Arc<RekorClient>>,
    /// Of the last chunk: entries of a kind that reads an attestation,
    /// returned without one.
    not_fetched: u64,
    batch_size: NonZeroU64,
}

impl EntryReader for TrillianReader {
    fn entries(&mut self, indices: RangeInclusive<u64>) -> Result<Vec<Fetched>, FetchError> {
        let mut out = Vec::with_capacity(indices.clone().count());
        self.not_fetched = 0;
        for (tree, local) in split(&self.trees, indices)? {
            let rows: Vec<(u64, Vec<u8>, Vec<u8>)> = self
                .conn
                .exec(SELECT_RANGE, (tree.tree_id, local.start(), local.end()))
                .map_err(|e| {
                    db_error(
                        &self.db,
                        format_args!(
                            "tree {}, sequence numbers {}..={}",
                            tree.tree_id,
                            local.start(),
                            local.end()
                        ),
                        self.db.explain(&e),
                    )
                })?;
            let mut rows = rows.into_iter().peekable();
            for seq in local {
                // Rows come in order; one for `seq` or, at a hole, a later one.
                let row = rows.next_if(|(got, _, _)| *got == seq);
                out.push(match row {
                    Some((_, leaf_hash, value)) => Ok(self.entry(&tree, seq, &leaf_hash, &value)?),
                    None => Err(missing(&tree, seq)),
                });
            }
        }
        Ok(out)
    }

    fn attestations_not_fetched(&self) -> Option<u64> {
        Some(self.not_fetched)
    }

    fn chunk_len(&self) -> u64 {
        self.batch_size.get()
    }
}

impl TrillianReader {
    /// The entry of one leaf, with its attestation from Rekor when asked
    /// for and its kind reads one.
    fn entry(
        &mut self,
        tree: &TreeSpan,
        seq: u64,
        leaf_hash: &[u8],
        value: &[u8],
    ) -> Result<FetchedEntry, FetchError> {
        let log_index = tree.start + seq;
        let uuid = uuid(tree.tree_id, leaf_hash);
        let attestation = match (reads_attestation(value), &self.attestations) {
            (false, _) => None,
            (true, None) => {
                self.not_fetched += 1;
                None
            }
            (true, Some(client)) => {
                let served = client.entry(log_index)?;
                // Only an attestation of this very leaf.
                if !served.uuid.ends_with(&uuid[16..]) {
                    return Err(anyhow!(
                        "log index {log_index}: Rekor serves {} where the database holds {uuid}",
                        served.uuid
                    )
                    .into());
                }
                served.attestation
            }
        };
        Ok(FetchedEntry {
            log_index,
            uuid,
            body: serde_json::Value::String(
                base64::engine::general_purpose::STANDARD.encode(value),
            ),
            attestation,
            evidence: None,
        })
    }
}

/// Rekor's UUID of a leaf: 16 hex digits of the tree ID, then the leaf hash
/// in hex.
fn uuid(tree_id: i64, leaf_hash: &[u8]) -> String {
    let mut hex = vec![0u8; 2 * leaf_hash.len()];
    // Cannot fail: the buffer is twice the input.
    let _ = hex::encode_to_slice(leaf_hash, &mut hex);
    let mut uuid = String::with_capacity(16 + hex.len());
    use std::fmt::Write;
    let _ = write!(uuid, "{tree_id:016x}");
    uuid.push_str(std::str::from_utf8(&hex).unwrap_or_default());
    uuid
}

/// Whether the entry is of a kind whose keys may come from its stored
/// attestation (intoto, cose). An unreadable body is left to the worker.
fn reads_attestation(value: &[u8]) -> bool {
    // Without either name in the bytes and without an escape that could
    // spell one, `kind` is neither: no JSON parse for most entries.
    let finder = |needle: &[u8]| memchr::memmem::find(value, needle).is_some();
    if !finder(b"intoto") && !finder(b"cose") && memchr::memchr(b'\\', value).is_none() {
        return false;
    }
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: Option<String>,
    }
    serde_json::from_slice::<Kind>(value)
        .ok()
        .and_then(|k| k.kind)
        .is_some_and(|kind| kind == "intoto" || kind == "cose")
}

/// A hole in a tree (a leaf not yet integrated, or lost) is that index's
/// failure, recorded and retried by later runs, never a silent skip.
fn missing(tree: &TreeSpan, seq: u64) -> EntryFailure {
    let error = KeyError::new(
        ErrorKind::Unreadable,
        format!(
            "tree {} has no leaf at sequence number {seq} in the database",
            tree.tree_id
        ),
    );
    let log_index = tree.start + seq;
    warn_failed(log_index, "", &error);
    EntryFailure {
        log_index,
        uuid: String::new(),
        error,
    }
}

/// The (tree, sequence numbers) pieces of a range of global indices.
fn split(
    trees: &[TreeSpan],
    indices: RangeInclusive<u64>,
) -> Result<Vec<(TreeSpan, RangeInclusive<u64>)>, FetchError> {
    let (mut first, last) = indices.into_inner();
    let mut pieces = Vec::new();
    for tree in trees.iter().filter(|t| t.size > 0) {
        let tree_last = tree.start + tree.size - 1;
        if first > last || first > tree_last {
            continue;
        }
        if first < tree.start {
            break;
        }
        let end = last.min(tree_last);
        pieces.push((*tree, first - tree.start..=end - tree.start));
        first = end + 1;
    }
    if first <= last {
        return Err(anyhow!("log index {first} is beyond the last Trillian tree").into());
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trees() -> Vec<TreeSpan> {
        vec![
            TreeSpan {
                tree_id: 1,
                start: 0,
                size: 3,
            },
            TreeSpan {
                tree_id: 2,
                start: 3,
                size: 0,
            },
            TreeSpan {
                tree_id: 3,
                start: 3,
                size: 5,
            },
        ]
    }

    #[test]
    fn a_range_splits_at_tree_boundaries() {
        let pieces = split(&trees(), 1..=4).unwrap();
        let ids: Vec<(i64, RangeInclusive<u64>)> =
            pieces.into_iter().map(|(t, r)| (t.tree_id, r)).collect();
        assert_eq!(ids, vec![(1, 1..=2), (3, 0..=1)]);
        let inner = split(&trees(), 5..=7).unwrap();
        assert_eq!(inner.len(), 1);
        assert_eq!(inner[0].1, 2..=4);
    }

    #[test]
    fn an_index_past_the_last_tree_is_an_error() {
        assert!(split(&trees(), 6..=8).is_err());
        assert!(split(&[], 0..=0).is_err());
    }
}
