//! The Rekor API as an entry source: `GET /api/v1/log` for the layout,
//! `POST /api/v1/log/entries/retrieve` (through [`RekorClient`]) for the
//! chunks.
//!
//! One client (one keep-alive pool) is shared by every reader.

use std::ops::RangeInclusive;
use std::sync::Arc;

use super::{EntryReader, EntrySource, FetchError, Fetched};
use crate::entry::KeyError;
use crate::error::ErrorKind;
use crate::log_layout::LogLayout;
use crate::rekor::RekorClient;
use crate::worker::{warn_failed, EntryFailure};

pub struct RekorApiSource {
    client: Arc<RekorClient>,
    address: String,
}

impl RekorApiSource {
    /// `address` is only for messages: `--rekor-address` as configured.
    pub fn new(client: Arc<RekorClient>, address: impl Into<String>) -> RekorApiSource {
        RekorApiSource {
            client,
            address: address.into(),
        }
    }
}

impl EntrySource for RekorApiSource {
    fn describe(&self) -> String {
        format!("Rekor {}", self.address)
    }

    fn layout(&self) -> Result<LogLayout, FetchError> {
        self.client.log_info()
    }

    fn reader(&self) -> Result<Box<dyn EntryReader>, FetchError> {
        Ok(Box::new(RekorApiReader {
            client: Arc::clone(&self.client),
        }))
    }
}

struct RekorApiReader {
    client: Arc<RekorClient>,
}

impl EntryReader for RekorApiReader {
    fn entries(&mut self, indices: RangeInclusive<u64>) -> Result<Vec<Fetched>, FetchError> {
        fetch(indices, &self.client)
    }
}

/// The chunk's entries. When the server answers 500 for ever (after the
/// retries), the chunk is narrowed down to single indices: an index whose
/// own fetch still gets 500 while the server answers `GET /api/v1/log` is
/// an entry it cannot return, recorded as `unreadable`; anything else
/// (Rekor down or unreachable) stops the run.
fn fetch(indices: RangeInclusive<u64>, client: &RekorClient) -> Result<Vec<Fetched>, FetchError> {
    match client.entries(indices.clone()) {
        Ok(entries) => return Ok(entries.into_iter().map(Ok).collect()),
        Err(e) if !e.is_persistent_500() => return Err(e),
        Err(e) if indices.start() == indices.end() => {
            return Ok(vec![Err(unreadable(*indices.start(), e, client)?)])
        }
        Err(_) => {}
    }
    indices
        .map(|index| match client.entry(index) {
            Ok(entry) => Ok(Ok(entry)),
            Err(e) if e.is_persistent_500() => Ok(Err(unreadable(index, e, client)?)),
            Err(e) => Err(e),
        })
        .collect()
}

/// The failure of an index the server answers 500 for, if the server is
/// otherwise up; `error` (the run stops) if it is not.
fn unreadable(
    index: u64,
    error: FetchError,
    client: &RekorClient,
) -> Result<EntryFailure, FetchError> {
    let FetchError::Fatal(e) = error else {
        return Err(error);
    };
    // Only the server being up matters here, not its answer.
    client.log_info()?;
    let error = KeyError::new(
        ErrorKind::Unreadable,
        format!("the server answers 500 for this entry on every attempt ({e:#})"),
    );
    warn_failed(index, "", &error);
    Ok(EntryFailure {
        log_index: index,
        uuid: String::new(),
        error,
    })
}
