//! Where a backfill reads its entries from.
//!
//! A source plans the run (the log's layout, which binds the checkpoint)
//! and opens one [`EntryReader`] per worker, so a reader may own a
//! connection (a database session) without locking. Every source returns
//! the same [`FetchedEntry`] shape, so decoding, keying and writing do not
//! know where an entry came from. Today: the Rekor API ([`rekor_api`]) and
//! Trillian's database ([`trillian`]); Rekor v2 tiles would fit the same
//! two traits.

pub mod rekor_api;
pub mod trillian;
mod trillian_root;

use std::ops::RangeInclusive;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::config::{Config, SourceChoice};
use crate::log_layout::LogLayout;
use crate::rekor::RekorClient;
pub use crate::rekor::{FetchError, FetchedEntry};
use crate::sink::MysqlBackend;
use crate::verify::LogVerifier;
use crate::worker::EntryFailure;

/// One index of a chunk: its entry, or why the source has none for it (a
/// per-index failure, recorded and retried like an undecodable entry).
pub type Fetched = Result<FetchedEntry, EntryFailure>;

/// A log to read entries from, shared by every worker.
pub trait EntrySource: Send + Sync {
    /// Names the source in logs and errors (never with a secret).
    fn describe(&self) -> String;

    /// The log's trees and sizes: the range to process and what the
    /// checkpoint is bound to.
    fn layout(&self) -> Result<LogLayout, FetchError>;

    /// A reader for one worker.
    fn reader(&self) -> Result<Box<dyn EntryReader>, FetchError>;

    /// Whether each entry comes with the log's evidence for it (the API:
    /// signed entry timestamp, inclusion proof, checkpoint), which
    /// `--verify-log` then checks entry by entry ([`LogVerifier::verify`]).
    fn serves_entry_proofs(&self) -> bool {
        true
    }

    /// `--verify-log` for a source whose entries come without evidence:
    /// checks, before anything is written, that the trees holding `range`
    /// are what the log signed. An error whose status is 5
    /// ([`crate::exit::StatusError`]) when they are not; `stop` ends a
    /// long check early ([`FetchError::Cancelled`]).
    fn verify_trees(
        &self,
        _verifier: &LogVerifier,
        _range: RangeInclusive<u64>,
        _stop: &AtomicBool,
    ) -> Result<(), FetchError> {
        Ok(())
    }
}

/// One worker's handle on a source.
pub trait EntryReader: Send {
    /// The entries at consecutive global log indices, in order. Every
    /// requested index comes back, as an entry or as its failure: a
    /// missing one is never skipped. `Err` is the source being
    /// unavailable, which stops the run.
    fn entries(&mut self, indices: RangeInclusive<u64>) -> Result<Vec<Fetched>, FetchError>;

    /// How many consecutive indices one [`EntryReader::entries`] call (one
    /// task, one backend write) should cover: what one request of this
    /// source carries well. The API's batch `retrieve` takes 10.
    fn chunk_len(&self) -> u64 {
        crate::rekor::MAX_BATCH as u64
    }

    /// Of the entries the last [`EntryReader::entries`] returned, how many
    /// lack an attestation the log may hold (their attestation-derived
    /// keys are not computed); `None` for a source that serves them.
    fn attestations_not_fetched(&self) -> Option<u64> {
        None
    }
}

/// The source `config` names. `client` is the Rekor API, also used for
/// the Trillian source's layout when no tree IDs are given.
pub fn open(
    config: &Config,
    client: &Arc<RekorClient>,
) -> Result<Box<dyn EntrySource>, FetchError> {
    Ok(match &config.source {
        SourceChoice::RekorApi => Box::new(rekor_api::RekorApiSource::new(
            Arc::clone(client),
            config.rekor.address.clone(),
        )),
        SourceChoice::Trillian {
            dsn,
            tree_ids,
            attestations_from_rekor,
            batch_size,
        } => {
            let db = MysqlBackend::new(dsn.clone());
            let source = match tree_ids.is_empty() {
                true => {
                    let (layout, heads) = client.log_state()?;
                    trillian::TrillianSource::from_layout(db, layout)?.with_tree_heads(heads)
                }
                false => trillian::TrillianSource::from_tree_ids(db, tree_ids)?,
            }
            .with_batch_size(*batch_size);
            Box::new(match attestations_from_rekor {
                true => source.with_attestations_from(Arc::clone(client)),
                false => source,
            })
        }
    })
}
