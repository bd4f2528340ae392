//! The first step of every run that writes: the stored failure records
//! ([`crate::failures`]) are tried again, one index at a time, with the
//! same fetch, keys and write as the range. Those that now succeed (a
//! parser fixed by an upgrade, a server that serves the entry again) are
//! removed; the others get one more attempt and their latest error.

use std::time::SystemTime;

use anyhow::Context;

use crate::checkpoint::CheckpointName;
use crate::counters::Counters;
use crate::failures::FailureStore;
use crate::rekor::{FetchError, RekorClient};
use crate::sink::Sink;
use crate::verify::LogVerifier;
use crate::worker::{process_chunk, ChunkError};

/// What the retry step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retried {
    /// Records tried.
    pub entries: u64,
    /// Records removed: the entry is indexed now.
    pub cleared: u64,
    /// Records that failed again (kept, one more attempt).
    pub still_failing: u64,
}

/// How the retry step ended.
pub enum RetryOutcome {
    Done(Retried),
    /// The run is stopping (a signal).
    Interrupted,
}

/// Retries the records of `name` below `log_size` (an index past the
/// log's end is kept for a later run), counting in `counters`.
pub fn retry_recorded(
    store: &mut dyn FailureStore,
    name: &CheckpointName,
    client: &RekorClient,
    verifier: Option<&LogVerifier>,
    sink: &mut dyn Sink,
    log_size: u64,
    counters: &Counters,
) -> anyhow::Result<RetryOutcome> {
    let records = store
        .load(name)
        .with_context(|| format!("reading the failure records of \"{name}\""))?;
    let records: Vec<_> = records
        .into_iter()
        .filter(|r| r.log_index < log_size)
        .collect();
    if records.is_empty() {
        return Ok(RetryOutcome::Done(Retried::default()));
    }
    log::info!(
        "Retrying {} recorded failure(s) of checkpoint \"{name}\" first",
        records.len()
    );
    let mut retried = Retried::default();
    for record in records {
        let index = record.log_index;
        let completion = match process_chunk(index..=index, client, verifier, sink) {
            Ok(completion) => completion,
            Err(ChunkError::Fetch(FetchError::Cancelled)) => return Ok(RetryOutcome::Interrupted),
            Err(ChunkError::Fetch(FetchError::Fatal(e))) => {
                return Err(e.context(format!("retrying recorded failure at log index {index}")))
            }
            Err(ChunkError::Write(e)) => {
                return Err(anyhow::anyhow!(
                    "retrying recorded failure at log index {index}: {e}"
                ))
            }
        };
        retried.entries += 1;
        if completion.failures.is_empty() {
            store.remove(name, &[index])?;
            retried.cleared += 1;
            log::info!(
                log_index = index;
                "Recorded failure at log index {index} ({}) is indexed now; record removed",
                record.kind
            );
        } else {
            store.record(name, &completion.failures, SystemTime::now())?;
            retried.still_failing += 1;
        }
        counters.retried(retried);
    }
    log::info!(
        "Recorded failures retried: {}, cleared {}, still failing {}",
        retried.entries,
        retried.cleared,
        retried.still_failing
    );
    Ok(RetryOutcome::Done(retried))
}
