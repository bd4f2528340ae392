//! The run's counters: one set, written by the checkpoint thread and read
//! by everything that reports on the run (progress lines, the final
//! summary, the Prometheus metrics), so no two reports can disagree.
//!
//! Atomics rather than a lock: the metrics pusher reads them from its own
//! thread while the checkpoint thread updates them, and a report only needs
//! each figure to be one the run really had.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::ErrorKind;
use crate::retry::Retried;

/// `saved` when nothing is saved yet.
const NONE: u64 = u64::MAX;

#[derive(Debug)]
pub struct Counters {
    started: Instant,
    /// First and last index of the planned range; `NONE` until planned.
    start: AtomicU64,
    end: AtomicU64,
    indexed: AtomicU64,
    failed: AtomicU64,
    keys_written: AtomicU64,
    /// Lowest index not yet complete.
    watermark: AtomicU64,
    /// Last `lastCompletedIndex` known to be stored.
    saved: AtomicU64,
    /// `failed` by [`ErrorKind::index`].
    failed_by_kind: [AtomicU64; ErrorKind::ALL.len()],
    /// The retry step of stored failure records: entries, cleared, still failing.
    retried: [AtomicU64; 3],
    /// Entries indexed without their attestation; `NONE` while the source
    /// has reported nothing (the API serves attestations).
    attestations_not_fetched: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// The range this run processes (`None`: not planned, or nothing to do).
    pub range: Option<(u64, u64)>,
    /// Entries whose keys are written.
    pub indexed: u64,
    /// Entries that could not be decoded or keyed (recorded, not indexed).
    pub failed: u64,
    pub keys_written: u64,
    pub watermark: Option<u64>,
    pub saved: Option<u64>,
    pub elapsed: Duration,
    /// `failed` by [`ErrorKind::index`].
    pub failed_by_kind: [u64; ErrorKind::ALL.len()],
    /// What retrying the stored failure records did.
    pub retried: Retried,
    /// Entries whose attestation-derived keys were not computed, because
    /// the source holds no attestations; `None` when it serves them.
    pub attestations_not_fetched: Option<u64>,
}

impl Totals {
    /// Entries of the range not yet done (indexed or failed).
    pub fn remaining(&self) -> u64 {
        self.range.map_or(0, |(start, end)| {
            (end - start + 1).saturating_sub(self.indexed + self.failed)
        })
    }

    /// Entries done (indexed or failed) per second since the start.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.indexed + self.failed) as f64 / secs
        } else {
            0.0
        }
    }

    /// Time left at the current rate, if there is a rate.
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.rate();
        (rate > 0.0).then(|| Duration::from_secs((self.remaining() as f64 / rate).round() as u64))
    }
}

impl Default for Counters {
    fn default() -> Counters {
        Counters::new()
    }
}

impl Counters {
    pub fn new() -> Counters {
        Counters {
            started: Instant::now(),
            start: AtomicU64::new(NONE),
            end: AtomicU64::new(NONE),
            indexed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            keys_written: AtomicU64::new(0),
            watermark: AtomicU64::new(NONE),
            saved: AtomicU64::new(NONE),
            failed_by_kind: Default::default(),
            retried: Default::default(),
            attestations_not_fetched: AtomicU64::new(NONE),
        }
    }

    /// `n` more entries indexed without their attestation (0 still says
    /// the source is one without attestations).
    pub fn attestations_not_fetched(&self, n: u64) {
        let _ =
            self.attestations_not_fetched
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |was| {
                    Some(if was == NONE { n } else { was + n })
                });
    }

    /// The range is planned: `resume_at..=end`, with the checkpoint (if
    /// any) at `saved`.
    pub fn planned(&self, resume_at: u64, end: u64, saved: Option<u64>) {
        self.start.store(resume_at, Ordering::SeqCst);
        self.end.store(end, Ordering::SeqCst);
        self.watermark.store(resume_at, Ordering::SeqCst);
        self.saved.store(saved.unwrap_or(NONE), Ordering::SeqCst);
    }

    /// The run starts its range again (the backend lost its data): what
    /// was indexed is to be indexed again.
    pub fn rewound(&self) {
        for counter in [&self.indexed, &self.failed, &self.keys_written]
            .into_iter()
            .chain(&self.failed_by_kind)
        {
            counter.store(0, Ordering::SeqCst);
        }
    }

    /// A chunk is done: `entries` of them, `failed` of those not indexed.
    pub fn chunk_done(&self, entries: u64, failed: u64, keys_written: u64) {
        self.indexed.fetch_add(entries - failed, Ordering::SeqCst);
        self.failed.fetch_add(failed, Ordering::SeqCst);
        self.keys_written.fetch_add(keys_written, Ordering::SeqCst);
    }

    /// One entry of the range failed with `kind` (also counted by
    /// [`Counters::chunk_done`]).
    pub fn failed_with(&self, kind: ErrorKind) {
        self.failed_by_kind[kind.index()].fetch_add(1, Ordering::SeqCst);
    }

    /// The retry step's figures so far.
    pub fn retried(&self, retried: Retried) {
        let [entries, cleared, still] = &self.retried;
        entries.store(retried.entries, Ordering::SeqCst);
        cleared.store(retried.cleared, Ordering::SeqCst);
        still.store(retried.still_failing, Ordering::SeqCst);
    }

    pub fn watermark_moved(&self, next: u64) {
        self.watermark.store(next, Ordering::SeqCst);
    }

    pub fn checkpoint_saved(&self, last_completed_index: Option<u64>) {
        self.saved
            .store(last_completed_index.unwrap_or(NONE), Ordering::SeqCst);
    }

    pub fn totals(&self) -> Totals {
        let some = |v: u64| (v != NONE).then_some(v);
        let start = some(self.start.load(Ordering::SeqCst));
        let end = some(self.end.load(Ordering::SeqCst));
        Totals {
            range: start.zip(end),
            indexed: self.indexed.load(Ordering::SeqCst),
            failed: self.failed.load(Ordering::SeqCst),
            keys_written: self.keys_written.load(Ordering::SeqCst),
            watermark: some(self.watermark.load(Ordering::SeqCst)),
            saved: some(self.saved.load(Ordering::SeqCst)),
            elapsed: self.started.elapsed(),
            failed_by_kind: std::array::from_fn(|i| self.failed_by_kind[i].load(Ordering::SeqCst)),
            retried: Retried {
                entries: self.retried[0].load(Ordering::SeqCst),
                cleared: self.retried[1].load(Ordering::SeqCst),
                still_failing: self.retried[2].load(Ordering::SeqCst),
            },
            attestations_not_fetched: match self.attestations_not_fetched.load(Ordering::SeqCst) {
                NONE => None,
                n => Some(n),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_follow_the_run() {
        let c = Counters::new();
        let t = c.totals();
        assert_eq!(
            (t.range, t.watermark, t.saved, t.remaining()),
            (None, None, None, 0)
        );
        c.planned(100, 199, Some(99));
        c.chunk_done(10, 2, 30);
        c.watermark_moved(110);
        c.checkpoint_saved(Some(109));
        let t = c.totals();
        assert_eq!(t.range, Some((100, 199)));
        assert_eq!((t.indexed, t.failed, t.keys_written), (8, 2, 30));
        assert_eq!((t.watermark, t.saved), (Some(110), Some(109)));
        assert_eq!(t.remaining(), 90);
    }

    #[test]
    fn attestations_not_fetched_is_absent_until_a_source_reports() {
        let c = Counters::new();
        assert_eq!(c.totals().attestations_not_fetched, None);
        c.attestations_not_fetched(0);
        assert_eq!(c.totals().attestations_not_fetched, Some(0));
        c.attestations_not_fetched(3);
        c.attestations_not_fetched(2);
        assert_eq!(c.totals().attestations_not_fetched, Some(5));
    }
}
