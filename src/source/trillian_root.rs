//! `--verify-log` with the Trillian source: each tree that holds an index
//! of the run is checked against the signed tree head the log serves for
//! it, before anything is written.
//!
//! Entries read from the database come without the API's per-entry
//! evidence (signed entry timestamp, inclusion proof): Trillian stores the
//! leaf value and its Merkle leaf hash only. So the check is the one a log
//! mirror makes, over the whole tree: the RFC 6962 root of the tree's
//! `MerkleLeafHash` column, in sequence order from 0 up to the signed size
//! (one streamed primary-key scan, O(log n) memory, [`RootBuilder`]), must
//! be the root of the signed tree head (`GET /api/v1/log`: the active
//! tree's `signedTreeHead` and each `inactiveShards[].signedTreeHead`, a
//! signed note verified with the log key). Each entry read later is still
//! checked as without the flag, `MerkleLeafHash == SHA256(0x00 ‖
//! LeafValue)` (kind `mismatch`), so an indexed entry is one the signed
//! root commits to.
//!
//! Decisions:
//! - The whole tree is hashed whatever the range: the root is a function
//!   of every leaf, and the scan reads 32 bytes a leaf, far less than the
//!   leaf values a fill reads. So a range that does not start at 0 (a
//!   `--shard-count` part, `--start N`, a resumed run) is verified the same
//!   way, trees outside the range are not read.
//! - Sizes and heads come from one `GET /api/v1/log` response: a signed
//!   size other than the size the same response gives, a hole below the
//!   signed size, a bad signature, a missing head or another root ends the
//!   run with status 5 ([`ExitStatus::VerificationFailed`]) having written
//!   nothing. `--trillian-tree-ids` gives no heads, so config refuses it
//!   with `--verify-log`.
//! - A database failure is a service failure (kind `trillian`, status 1),
//!   not a verification one: a rerun may succeed.

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;

use super::trillian::{db_error, TreeSpan};
use super::FetchError;
use crate::exit::{ExitStatus, StatusError};
use crate::rekor::SignedTreeHead;
use crate::sink::{Backend, MysqlBackend};
use crate::verify::merkle::RootBuilder;
use crate::verify::LogVerifier;

/// A tree's Merkle leaf hashes in sequence order, up to a size.
const SELECT_LEAF_HASHES: &str = "SELECT SequenceNumber, MerkleLeafHash \
     FROM SequencedLeafData WHERE TreeId = ? AND SequenceNumber < ? \
     ORDER BY SequenceNumber";

/// How often a long scan says how far it is.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Checks every tree of `trees` that holds an index of `range` against its
/// signed tree head in `heads`. `stop` ends a long scan early
/// ([`FetchError::Cancelled`]).
pub(super) fn verify_trees(
    db: &MysqlBackend,
    trees: &[TreeSpan],
    heads: &[SignedTreeHead],
    verifier: &LogVerifier,
    range: RangeInclusive<u64>,
    stop: &AtomicBool,
) -> Result<(), FetchError> {
    let touched = trees
        .iter()
        .filter(|t| t.size > 0 && t.start <= *range.end() && *range.start() < t.start + t.size);
    for tree in touched {
        let head = heads
            .iter()
            .find(|h| h.tree_id == tree.tree_id.to_string())
            .ok_or_else(|| {
                failed(format!(
                    "GET /api/v1/log lists no signed tree head for tree {}",
                    tree.tree_id
                ))
            })?;
        verify_tree(db, tree, head, verifier, stop)?;
    }
    Ok(())
}

fn verify_tree(
    db: &MysqlBackend,
    tree: &TreeSpan,
    head: &SignedTreeHead,
    verifier: &LogVerifier,
    stop: &AtomicBool,
) -> Result<(), FetchError> {
    let id = tree.tree_id;
    let note = head.note.as_deref().ok_or_else(|| {
        failed(format!(
            "GET /api/v1/log serves no signedTreeHead for tree {id}"
        ))
    })?;
    let signed = verifier.tree_head(note).map_err(|e| {
        failed(format!(
            "the signed tree head of tree {id} does not verify: {e}"
        ))
    })?;
    if signed.size != tree.size {
        return Err(failed(format!(
            "the signed tree head of tree {id} is for {} leaves, GET /api/v1/log says the tree has {}",
            signed.size, tree.size
        )));
    }
    log::info!(
        "Verifying tree {id} against its signed tree head: recomputing the root of its {} leaves from {}",
        signed.size,
        db.describe()
    );
    let started = Instant::now();
    let computed = root_from_db(db, id, signed.size, stop)?;
    if computed.as_slice() != signed.root_hash.as_slice() {
        return Err(failed(format!(
            "tree {id}: the {} leaf hashes in Trillian's database (sequence numbers 0..={}) hash to root {}, \
             but the signed tree head of size {} signs root {}",
            signed.size,
            signed.size.saturating_sub(1),
            hex::encode(computed),
            signed.size,
            hex::encode(&signed.root_hash)
        )));
    }
    log::info!(
        tree_id = id,
        tree_size = signed.size,
        root_hash = hex::encode(computed).as_str();
        "Verified tree {id}: its {} leaves in the database (global indices {}..={}) hash to root {}, \
         the root its signed tree head signs with the log key {} ({:.1}s)",
        signed.size,
        tree.start,
        tree.start + signed.size - 1,
        hex::encode(computed),
        verifier.fingerprint(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The RFC 6962 root of the first `size` leaves of tree `id`, from their
/// stored Merkle leaf hashes; a hole or a malformed hash is a verification
/// failure.
fn root_from_db(
    db: &MysqlBackend,
    id: i64,
    size: u64,
    stop: &AtomicBool,
) -> Result<[u8; 32], FetchError> {
    let what = || format!("tree {id}, leaf hashes 0..{size}");
    let mut conn = super::trillian::connect(db)?;
    let rows = conn
        .exec_iter(SELECT_LEAF_HASHES, (id, size))
        .map_err(|e| db_error(db, what(), &e))?;
    let mut builder = RootBuilder::new();
    let mut said = Instant::now();
    for row in rows {
        let row = row.map_err(|e| db_error(db, what(), &e))?;
        let (seq, hash): (u64, Vec<u8>) =
            mysql::from_row_opt(row).map_err(|e| db_error(db, what(), e))?;
        let expected = builder.size();
        if seq != expected {
            return Err(failed(format!(
                "tree {id} has no leaf at sequence number {expected} in the database, \
                 below its signed size {size}"
            )));
        }
        let hash: [u8; 32] = hash.try_into().map_err(|h: Vec<u8>| {
            failed(format!(
                "tree {id}: the Merkle leaf hash at sequence number {seq} is {} bytes, not 32",
                h.len()
            ))
        })?;
        builder.push(hash);
        if builder.size() % 65_536 == 0 {
            if stop.load(Ordering::SeqCst) {
                return Err(FetchError::Cancelled);
            }
            if said.elapsed() >= PROGRESS_EVERY {
                log::info!(
                    "Verifying tree {id}: {} of {size} leaf hashes read",
                    builder.size()
                );
                said = Instant::now();
            }
        }
    }
    if builder.size() != size {
        return Err(failed(format!(
            "tree {id} has no leaf at sequence number {} in the database, below its signed size {size}",
            builder.size()
        )));
    }
    Ok(builder.root())
}

/// A verification failure: the run ends with status 5.
fn failed(message: String) -> FetchError {
    FetchError::Fatal(anyhow::Error::new(StatusError::new(
        ExitStatus::VerificationFailed,
        message,
    )))
}
