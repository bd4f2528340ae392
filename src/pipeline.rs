//! The run, in three named steps: [`prepare`] the range (log size,
//! checkpoint, resume rules), [`dispatch`] chunks to the workers of a rayon
//! pool and collect completions on the checkpoint thread, then report the
//! [`outcome`]. A signal or a fatal error stops dispatch cleanly.
//!
//! Each worker owns one backend connection for the whole run: the pool
//! runs one [`work_loop`] per sink, and chunks go to whichever loop is
//! free, so the pairing of threads and connections never depends on the
//! pool's thread numbering.
//!
//! Dispatch never runs more than a bounded window ahead of the watermark, so
//! memory stays flat however large the range is. A fatal error (Rekor gone
//! after retries, a backend write failing) stops dispatch, lets in-flight
//! chunks drain and saves the watermark, which by construction is below the
//! failed chunk.

use std::collections::{BTreeMap, BinaryHeap};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::checkpoint::{CheckpointName, CheckpointRecord, CheckpointStore, Checkpointer};
use crate::config::{Config, UsageError};
use crate::counters::{Counters, Totals};
use crate::error::ErrorKind;
use crate::failures::FailureStore;
use crate::lease::{LeaseKeeper, Owner};
use crate::log_layout::LogLayout;
use crate::logger::LogFormat;
use crate::progress::Progress;
use crate::rekor::{FetchError, RekorClient};
use crate::retry::{retry_recorded, RetryOutcome};
use crate::sink::outage::{self, OutagePolicy, Resilient};
use crate::sink::{Backend, DrySink, Sink};
use crate::source::{self, EntryReader, EntrySource};
use crate::verify::key::LogKey;
use crate::verify::LogVerifier;
use crate::worker::{process_chunk, ChunkError, Completion, EntryFailure};

/// In-flight window per worker, in indices: at least this, and room for
/// six chunks of the source's size ([`EntryReader::chunk_len`]).
const WINDOW_PER_WORKER: u64 = 64;
const WINDOW_CHUNKS_PER_WORKER: u64 = 6;
/// Failed indices listed in the summary line; the rest go to the file.
const FAILURES_LISTED: usize = 20;

/// How a run ended, when it did not end in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every entry of the range is indexed (or there was nothing to do).
    Complete,
    /// The range was processed but some entries could not be indexed.
    CompleteWithFailures,
    /// Stopped by SIGINT/SIGTERM after finishing in-flight work.
    Interrupted,
    /// The range was processed, and `--verify-log` found entries that are
    /// not what the log signed (recorded with kind `verification`).
    VerificationFailed,
}

/// State shared by the dispatcher, the workers and the checkpoint thread.
pub struct Shared {
    /// No new work: set by a signal or a fatal error.
    pub stop: Arc<AtomicBool>,
    /// Set by SIGINT/SIGTERM only.
    pub interrupted: Arc<AtomicBool>,
    fatal: Mutex<Option<anyhow::Error>>,
    /// The watermark as last published by the checkpoint thread.
    watermark: Mutex<u64>,
    moved: Condvar,
    /// What the run did so far: the one source of progress, summary and
    /// metrics.
    pub counters: Arc<Counters>,
    /// Called on the checkpoint thread after every checkpoint save.
    on_checkpoint: Option<CheckpointHook>,
}

type CheckpointHook = Box<dyn Fn(&Counters) + Send + Sync>;

impl Shared {
    pub fn new(stop: Arc<AtomicBool>, interrupted: Arc<AtomicBool>) -> Shared {
        Shared {
            stop,
            interrupted,
            fatal: Mutex::new(None),
            watermark: Mutex::new(0),
            moved: Condvar::new(),
            counters: Arc::new(Counters::new()),
            on_checkpoint: None,
        }
    }

    /// Runs `hook` on the checkpoint thread after every checkpoint save
    /// (the metrics textfile is written there).
    pub fn on_checkpoint(mut self, hook: impl Fn(&Counters) + Send + Sync + 'static) -> Shared {
        self.on_checkpoint = Some(Box::new(hook));
        self
    }

    fn checkpoint_saved(&self) {
        if let Some(hook) = &self.on_checkpoint {
            hook(&self.counters);
        }
    }

    /// Records the first fatal error and stops the run. Giving up on an
    /// unreachable backend because of a signal is no error of its own: the
    /// run ends as interrupted (the checkpoint as last saved).
    fn fail(&self, error: anyhow::Error) {
        if outage::gave_up_on_stop(&error) && self.interrupted.load(Ordering::SeqCst) {
            log::warn!("{error:#}");
            self.stop.store(true, Ordering::SeqCst);
            self.moved.notify_all();
            return;
        }
        let mut fatal = self.fatal.lock().unwrap_or_else(|e| e.into_inner());
        if fatal.is_none() {
            *fatal = Some(error);
        }
        self.stop.store(true, Ordering::SeqCst);
        self.moved.notify_all();
    }

    /// After the backend lost the run's data: clears the run's state for a
    /// new pass and returns the error, unless the run stopped for another
    /// reason (a signal, another error).
    fn rewind(&self) -> Option<anyhow::Error> {
        let mut fatal = self.fatal.lock().unwrap_or_else(|e| e.into_inner());
        let lost = fatal.as_ref().is_some_and(outage::is_data_lost);
        if !lost || self.interrupted.load(Ordering::SeqCst) {
            return None;
        }
        let error = fatal.take();
        *self.watermark.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        self.counters.rewound();
        self.stop.store(false, Ordering::SeqCst);
        // A signal that came meanwhile still stops the next pass.
        if self.interrupted.load(Ordering::SeqCst) {
            self.stop.store(true, Ordering::SeqCst);
        }
        error
    }

    /// How backend outages are waited out in this run.
    fn outage(&self, config: &Config) -> OutagePolicy {
        OutagePolicy {
            max: config.backend_retry_max,
            stop: Arc::clone(&self.stop),
        }
    }

    fn take_fatal(&self) -> Option<anyhow::Error> {
        self.fatal.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn publish_watermark(&self, next: u64) {
        *self.watermark.lock().unwrap_or_else(|e| e.into_inner()) = next;
        self.moved.notify_all();
    }

    /// Blocks until `index` is inside the window or the run stops. Returns
    /// false when the run stops.
    fn wait_for_window(&self, index: u64, window: u64) -> bool {
        let mut next = self.watermark.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            if index < next.saturating_add(window) {
                return true;
            }
            // A timeout too, because signals set `stop` without notifying.
            next = self
                .moved
                .wait_timeout(next, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// What the planning step decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    NothingToDo(String),
    Run {
        /// `firstIndex` for the checkpoint record.
        first_index: u64,
        /// First index this run processes.
        resume_at: u64,
        end: u64,
    },
}

/// Applies the range and resume rules: [`target_end`], then [`resume`].
/// `last` is the log's last index (`None`: empty log); `existing` the
/// stored checkpoint (already ignored when resetting).
pub fn plan(
    start: Option<u64>,
    end: Option<u64>,
    last: Option<u64>,
    existing: Option<&CheckpointRecord>,
    checkpoint_name: &str,
) -> Result<Plan, UsageError> {
    match target_end(start, end, last)? {
        None => Ok(Plan::NothingToDo("the log is empty".to_string())),
        Some(end) => resume(start, end, existing, checkpoint_name),
    }
}

/// The last index of the run: `--end`, or the log's last index (`None`
/// when the log is empty and no `--end` is given). The checks here do not
/// depend on the checkpoint.
pub fn target_end(
    start: Option<u64>,
    end: Option<u64>,
    last: Option<u64>,
) -> Result<Option<u64>, UsageError> {
    let end = match (end, last) {
        (Some(end), Some(last)) if end > last => {
            return Err(UsageError(format!(
                "--end {end} is beyond the log's last index {last}"
            )))
        }
        (Some(end), None) => {
            return Err(UsageError(format!(
                "--end {end} is beyond the log: the log is empty"
            )))
        }
        (Some(end), Some(_)) => end,
        (None, Some(last)) => last,
        (None, None) => return Ok(None),
    };
    if let Some(start) = start.filter(|&start| start > end) {
        return Err(UsageError(format!(
            "--start {start} is beyond --end {end} (the log's last index is {})",
            last.unwrap_or(0)
        )));
    }
    Ok(Some(end))
}

/// The resume rules: where a run up to `end` starts, given the stored
/// checkpoint.
pub fn resume(
    start: Option<u64>,
    end: u64,
    existing: Option<&CheckpointRecord>,
    checkpoint_name: &str,
) -> Result<Plan, UsageError> {
    let Some(cp) = existing else {
        let start = start.unwrap_or(0);
        return Ok(Plan::Run {
            first_index: start,
            resume_at: start,
            end,
        });
    };
    let covered = format!(
        "checkpoint {checkpoint_name:?} covers {}..={}",
        cp.first_index, cp.last_completed_index
    );
    let advice = "use --reset-checkpoint to start over, or another --checkpoint-key";
    if let Some(start) = start {
        if start < cp.first_index {
            return Err(UsageError(format!(
                "{covered}, but --start {start} is below it: indices {start}..{} would not be indexed; {advice}",
                cp.first_index
            )));
        }
        if start > cp.last_completed_index + 1 {
            return Err(UsageError(format!(
                "{covered}, but --start {start} would leave indices {}..{start} unindexed; {advice}",
                cp.last_completed_index + 1
            )));
        }
    }
    if end < cp.first_index {
        return Err(UsageError(format!(
            "{covered}, but --end {end} is below it; {advice}"
        )));
    }
    let resume_at = cp.last_completed_index + 1;
    if resume_at > end {
        return Ok(Plan::NothingToDo(format!(
            "{covered}, which already reaches --end {end}"
        )));
    }
    Ok(Plan::Run {
        first_index: cp.first_index,
        resume_at,
        end,
    })
}

/// Runs a backfill as configured, in three steps: [`prepare`] (the log's
/// size, the checkpoint, the resume rules), [`dispatch`] (workers and the
/// checkpoint thread until the range is done or the run stops) and
/// [`outcome`] (the summary and how the run ended).
pub fn run(
    config: &Config,
    backend: &dyn Backend,
    shared: Arc<Shared>,
) -> anyhow::Result<RunOutcome> {
    let client = Arc::new(RekorClient::new(
        &config.rekor,
        Arc::clone(&shared.stop),
        config.concurrency.get(),
    ));
    let verifier = match config.verify_log {
        true => Some(log_verifier(config, &client)?),
        false => None,
    };
    let source = match source::open(config, &client) {
        Ok(source) => source,
        Err(FetchError::Cancelled) => return Ok(RunOutcome::Interrupted),
        Err(FetchError::Fatal(e)) => return Err(e.context("opening the entry source")),
    };
    let mut rewinds = 0;
    loop {
        let work = match prepare(config, backend, source.as_ref(), verifier.as_ref(), &shared)? {
            Prepared::NothingToDo => return Ok(RunOutcome::Complete),
            Prepared::Interrupted => return Ok(RunOutcome::Interrupted),
            Prepared::Run(work) => work,
        };
        let Some(readers) = open_readers(source.as_ref(), config.concurrency.get())? else {
            return Ok(RunOutcome::Interrupted);
        };
        let entry_verifier = verifier.as_ref().filter(|_| source.serves_entry_proofs());
        let failures = dispatch(config, backend, readers, entry_verifier, work, &shared)?;
        if rewinds < MAX_REWINDS {
            if let Some(lost) = shared.rewind() {
                rewinds += 1;
                log::warn!(
                    "{lost:#}; rewinding ({rewinds} of at most {MAX_REWINDS}): the index is \
                     written again from the checkpoint the backend holds now (from the start \
                     of the range if it holds none)"
                );
                continue;
            }
        }
        return outcome(&failures, &shared);
    }
}

/// Rewinds after the backend lost the run's data ([`outage::DataLost`]) at
/// most this often: a backend that keeps losing it ends the run.
const MAX_REWINDS: u32 = 10;

/// `--verify-log`: the log key from `--rekor-public-key`, else from the
/// server, its fingerprint logged so an operator can check which key it is.
fn log_verifier(config: &Config, client: &RekorClient) -> anyhow::Result<LogVerifier> {
    let key = match &config.rekor_public_key {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| UsageError(format!("--rekor-public-key {}: {e}", path.display())))?;
            LogKey::from_pem(&pem)
                .map_err(|e| UsageError(format!("--rekor-public-key {}: {e}", path.display())))?
        }
        None => {
            let pem = client.public_key().map_err(|e| match e {
                FetchError::Cancelled => anyhow!("interrupted while fetching the log's public key"),
                FetchError::Fatal(e) => e.context("fetching the log's public key"),
            })?;
            LogKey::from_pem(&pem)
                .map_err(|e| anyhow!("GET /api/v1/log/publicKey: not a usable log key: {e}"))?
        }
    };
    let verifier = LogVerifier::new(key);
    log::info!(
        "Verifying entries with the log key {} (SHA-256 of the public key)",
        verifier.fingerprint()
    );
    Ok(verifier)
}

type Store = Box<dyn CheckpointStore>;

/// The range a run processes and the checkpoint it continues.
struct Work {
    /// The log as `GET /api/v1/log` describes it; the checkpoint is bound
    /// to it.
    layout: LogLayout,
    /// The lease on the checkpoint name (none in a dry run), renewed until
    /// dropped at the end of [`dispatch`].
    lease: Option<LeaseKeeper>,
    /// `None` with checkpointing off or in a dry run: nothing is saved.
    store: Option<Store>,
    /// The failure records (none in a dry run).
    failures: Option<Box<dyn FailureStore>>,
    /// `firstIndex` of the checkpoint record.
    first_index: u64,
    /// First index this run processes.
    resume_at: u64,
    end: u64,
}

enum Prepared {
    NothingToDo,
    Interrupted,
    Run(Work),
}

/// Step 1: reads the log's size, opens and reads (or resets) the
/// checkpoint, and applies the resume rules.
fn prepare(
    config: &Config,
    backend: &dyn Backend,
    source: &dyn EntrySource,
    verifier: Option<&LogVerifier>,
    shared: &Arc<Shared>,
) -> anyhow::Result<Prepared> {
    let info = match source.layout() {
        Ok(info) => info,
        Err(FetchError::Cancelled) => return Ok(Prepared::Interrupted),
        Err(FetchError::Fatal(e)) => {
            return Err(e.context(format!("reading the log size from {}", source.describe())))
        }
    };
    let last = info.total_size().checked_sub(1);
    log::info!(
        "{}: {} entries (active shard {} of {} entries, {} inactive shard(s)); backend {}{}",
        source.describe(),
        info.total_size(),
        info.active().tree_id,
        info.active().size,
        info.inactive_count(),
        backend.describe(),
        if config.dry_run {
            " (dry run: nothing is written)"
        } else {
            ""
        }
    );

    if let Some(warning) = config.end.and_then(|end| info.end_warning(end)) {
        log::warn!("{warning}");
    }

    // Range errors do not depend on the checkpoint: they are reported
    // before the checkpoint store is opened (opening may create its table),
    // so a usage error writes nothing.
    let Some(end) = target_end(config.start, config.end, last)? else {
        // An empty log still has its checkpoint checked: a log reset to a
        // new, empty tree is refused now rather than once it has grown.
        if config.checkpoint.interval.is_some() {
            let _lease = match config.dry_run {
                true => None,
                false => Some(take_lease(
                    backend,
                    &config.checkpoint.name,
                    shared,
                    config,
                )?),
            };
            open_checkpoint(config, backend, &info, shared.outage(config))?;
        }
        log::info!("Nothing to do: the log is empty");
        return Ok(Prepared::NothingToDo);
    };
    if let Some(shard) = &config.shard {
        log::info!(
            "Shard {} of {} (0-based) over {}..={}: indices {}..={}",
            shard.index,
            shard.count,
            shard.whole.start(),
            shard.whole.end(),
            shard.part.start(),
            shard.part.end()
        );
    }
    let name = &config.checkpoint.name;
    // Before the checkpoint is read or anything written; released when
    // dropped, however the run ends.
    let lease = match config.dry_run {
        true => None,
        false => Some(take_lease(backend, name, shared, config)?),
    };
    // A source without per-entry evidence checks its trees before the
    // retry step or the range writes anything: from the checkpoint's first
    // index, so that retried records are covered too; with
    // --reset-checkpoint before the checkpoint is deleted, so that a log
    // that fails verification costs the operator nothing.
    let start = config.start.unwrap_or(0);
    if config.checkpoint.reset && !verify_trees(source, verifier, start..=end, shared)? {
        return Ok(Prepared::Interrupted);
    }
    let (store, existing) = open_checkpoint(config, backend, &info, shared.outage(config))?;
    let plan = resume(config.start, end, existing.as_ref(), name.as_str())?;
    let from = existing.as_ref().map_or(start, |cp| cp.first_index);
    if !config.checkpoint.reset && !verify_trees(source, verifier, from..=end, shared)? {
        return Ok(Prepared::Interrupted);
    }
    let verifier = verifier.filter(|_| source.serves_entry_proofs());
    // Every run that writes retries the stored failure records first,
    // also when its range holds nothing new.
    let mut failures = None;
    if !config.dry_run {
        let records = backend
            .connect_failure_store()
            .context("connecting to the backend for the failure records")?;
        let mut records: Box<dyn FailureStore> =
            Box::new(Resilient::new(records, shared.outage(config)));
        let mut sink = resilient_sink(backend, shared.outage(config))?;
        let mut reader = match source.reader() {
            Ok(reader) => reader,
            Err(FetchError::Cancelled) => return Ok(Prepared::Interrupted),
            Err(FetchError::Fatal(e)) => {
                return Err(e.context(format!("opening {}", source.describe())))
            }
        };
        let outcome = retry_recorded(
            records.as_mut(),
            name,
            reader.as_mut(),
            verifier,
            sink.as_mut(),
            info.total_size(),
            &shared.counters,
        )?;
        if let RetryOutcome::Interrupted = outcome {
            return Ok(Prepared::Interrupted);
        }
        failures = Some(records);
    }
    let (first_index, resume_at) = match plan {
        Plan::NothingToDo(why) => {
            log::info!("Nothing to do: {why}");
            return Ok(Prepared::NothingToDo);
        }
        Plan::Run {
            first_index,
            resume_at,
            ..
        } => (first_index, resume_at),
    };
    if let Some(cp) = &existing {
        log::info!(
            last_completed_index = cp.last_completed_index;
            "Resuming from checkpoint: last completed index {}",
            cp.last_completed_index
        );
    }
    Ok(Prepared::Run(Work {
        layout: info,
        lease,
        store: store.filter(|_| !config.dry_run),
        failures,
        first_index,
        resume_at,
        end,
    }))
}

/// `--verify-log` for a source without per-entry evidence (Trillian): the
/// trees holding `range` against their signed tree heads. `Ok(false)` when
/// the run was stopped meanwhile; without a verifier, nothing to do.
fn verify_trees(
    source: &dyn EntrySource,
    verifier: Option<&LogVerifier>,
    range: RangeInclusive<u64>,
    shared: &Shared,
) -> anyhow::Result<bool> {
    let Some(verifier) = verifier else {
        return Ok(true);
    };
    match source.verify_trees(verifier, range, &shared.stop) {
        Ok(()) => Ok(true),
        Err(FetchError::Cancelled) => Ok(false),
        Err(FetchError::Fatal(e)) => Err(e.context(format!(
            "--verify-log: {} against the log's signed tree heads",
            source.describe()
        ))),
    }
}

/// The checkpoint store (none with checkpointing off) and the stored
/// checkpoint, checked against the log (and upgraded when it predates log
/// binding); deletes it first with `--reset-checkpoint` (not in a dry run).
fn open_checkpoint(
    config: &Config,
    backend: &dyn Backend,
    layout: &LogLayout,
    policy: OutagePolicy,
) -> anyhow::Result<(Option<Store>, Option<CheckpointRecord>)> {
    if config.checkpoint.interval.is_none() {
        return Ok((None, None));
    }
    let name = &config.checkpoint.name;
    let store = backend
        .connect_checkpoint_store(config.dry_run)
        .context("connecting to the backend for the checkpoint")?;
    let mut store: Store = Box::new(Resilient::new(store, policy));
    if !config.checkpoint.reset {
        let existing = store
            .load(name)
            .with_context(|| format!("reading checkpoint \"{name}\""))?;
        if let Some(record) = &existing {
            check_log(record, layout, name)?;
            if record.log.is_none() && !config.dry_run {
                upgrade(store.as_mut(), record, layout, name)?;
            }
        }
        return Ok((Some(store), existing));
    }
    if config.dry_run {
        log::info!("Dry run: checkpoint \"{name}\" would be deleted; ignoring it");
    } else {
        store
            .delete(name)
            .with_context(|| format!("deleting checkpoint \"{name}\""))?;
        log::info!("Checkpoint \"{name}\" deleted (--reset-checkpoint)");
    }
    Ok((Some(store), None))
}

/// Step 2: one backend connection per worker, the chunks of the range fed
/// to the workers within the in-flight window, completions collected on
/// the checkpoint thread. Returns when every worker has finished, the range
/// done or the run stopped.
fn dispatch(
    config: &Config,
    backend: &dyn Backend,
    readers: Vec<Box<dyn EntryReader>>,
    verifier: Option<&LogVerifier>,
    work: Work,
    shared: &Arc<Shared>,
) -> anyhow::Result<FailedIndices> {
    let failed_file = match &config.failed_entries {
        Some(path) => Some(BufWriter::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening --failed-entries file {}", path.display()))?,
        )),
        None => None,
    };
    let sinks = connect_sinks(config, backend, shared.outage(config))?;
    let workers = sinks.len();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("worker-{i}"))
        .build()
        .context("starting the worker pool")?;

    let Work {
        layout,
        lease,
        store,
        failures,
        first_index,
        resume_at,
        end,
    } = work;
    let name = &config.checkpoint.name;
    log::info!(
        "Indexing log entries {resume_at}..={end} with {workers} worker(s){}",
        match config.checkpoint.interval {
            Some(n) => format!(", checkpoint \"{name}\" every {n} entries"),
            None => ", checkpointing off".to_string(),
        }
    );
    let mut checkpointer = Checkpointer::new(
        name.clone(),
        store,
        first_index,
        resume_at,
        config.checkpoint.interval.map_or(u64::MAX, |n| n.get()),
    )
    .bound_to(layout);
    if let Some(lost) = lease.as_ref().map(LeaseKeeper::lost) {
        checkpointer = checkpointer.guarded_by(lost);
    }
    shared.publish_watermark(resume_at);
    shared
        .counters
        .planned(resume_at, end, checkpointer.saved());
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Completion>();
    let collector = {
        let shared = Arc::clone(shared);
        let name = name.clone();
        let bar = config.log_format == LogFormat::Text;
        std::thread::Builder::new()
            .name("checkpoint".to_string())
            .spawn(move || {
                let records = FailureLog::new(name, failures, failed_file);
                collect(done_rx, checkpointer, records, bar, &shared)
            })
            .context("starting the checkpoint thread")?
    };

    // Each worker owns one connection for the whole run; chunks go to
    // whichever worker is free (a rendezvous channel, so none waits in a
    // queue once the run stops).
    let (chunks_tx, chunks_rx) = crossbeam_channel::bounded::<RangeInclusive<u64>>(0);
    // Every reader of a run comes from one source: one chunk size.
    let chunk = readers.first().map_or(1, |r| r.chunk_len()).max(1);
    let window = WINDOW_PER_WORKER.max(WINDOW_CHUNKS_PER_WORKER * chunk) * workers as u64;
    pool.in_place_scope(|scope| {
        for (sink, reader) in sinks.into_iter().zip(readers) {
            let (chunks, done, shared) = (chunks_rx.clone(), done_tx.clone(), &**shared);
            scope.spawn(move |_| work_loop(sink, reader, &chunks, verifier, shared, &done));
        }
        drop(chunks_rx);
        feed(resume_at..=end, chunk, window, shared, &chunks_tx);
        drop(chunks_tx);
    });
    drop(done_tx);
    let failures = collector
        .join()
        .map_err(|_| anyhow!("the checkpoint thread panicked"));
    drop(lease);
    failures
}

/// Takes the lease on the checkpoint name and starts renewing it; a lost
/// lease stops the run as a fatal error.
fn take_lease(
    backend: &dyn Backend,
    name: &CheckpointName,
    shared: &Arc<Shared>,
    config: &Config,
) -> anyhow::Result<LeaseKeeper> {
    let owner = Owner::new();
    let lease = backend.acquire_lease(name, &owner)?;
    let lease = Box::new(Resilient::new(lease, shared.outage(config)));
    log::info!(
        "Lease on checkpoint \"{name}\" taken as {} (renewed while the run lives)",
        owner.id()
    );
    let shared = Arc::clone(shared);
    LeaseKeeper::start(lease, name.clone(), move |e| shared.fail(e))
}

/// Refuses a checkpoint written against another log (exit status 2).
fn check_log(
    record: &CheckpointRecord,
    layout: &LogLayout,
    name: &CheckpointName,
) -> Result<(), UsageError> {
    let Some(binding) = &record.log else {
        return Ok(());
    };
    binding.check(layout).map_err(|why| {
        UsageError(format!(
            "checkpoint \"{name}\" (indices {}..={}) belongs to another log: {why}. \
             If the log was reset or replaced, or this is another server, index it from scratch \
             with --reset-checkpoint (or use another --checkpoint-key)",
            record.first_index, record.last_completed_index
        ))
    })
}

/// A checkpoint written before checkpoints named their log is accepted
/// once: it is saved again at once, bound to this log.
fn upgrade(
    store: &mut dyn CheckpointStore,
    record: &CheckpointRecord,
    layout: &LogLayout,
    name: &CheckpointName,
) -> anyhow::Result<()> {
    let upgraded = CheckpointRecord {
        log: Some(layout.binding(record.first_index..=record.last_completed_index)),
        ..record.clone()
    };
    store
        .save(name, &upgraded)
        .with_context(|| format!("upgrading checkpoint \"{name}\""))?;
    log::warn!(
        "Checkpoint \"{name}\" did not name its log (an older version wrote it); \
         accepted once and now bound to {}",
        layout.describe()
    );
    Ok(())
}

/// One sink per worker: a backend connection, or the dry run's.
fn connect_sinks(
    config: &Config,
    backend: &dyn Backend,
    policy: OutagePolicy,
) -> anyhow::Result<Vec<Box<dyn Sink>>> {
    (0..config.concurrency.get())
        .map(|_| -> anyhow::Result<Box<dyn Sink>> {
            if config.dry_run {
                Ok(Box::new(DrySink))
            } else {
                resilient_sink(backend, policy.clone())
            }
        })
        .collect()
}

/// A backend connection whose writes wait out outages.
fn resilient_sink(backend: &dyn Backend, policy: OutagePolicy) -> anyhow::Result<Box<dyn Sink>> {
    let sink = backend
        .connect_sink()
        .context("connecting to the backend")?;
    Ok(Box::new(Resilient::new(sink, policy)))
}

/// Hands out `range` in chunks of `chunk` indices, never further than
/// `window` indices ahead of the watermark; stops early when the run stops.
fn feed(
    range: RangeInclusive<u64>,
    chunk: u64,
    window: u64,
    shared: &Shared,
    chunks: &crossbeam_channel::Sender<RangeInclusive<u64>>,
) {
    let (mut first, end) = range.into_inner();
    while first <= end {
        let last = end.min(first.saturating_add(chunk - 1));
        if !shared.wait_for_window(last, window) || chunks.send(first..=last).is_err() {
            break;
        }
        first = match last.checked_add(1) {
            Some(n) => n,
            None => break,
        };
    }
}

/// One reader per worker; `None` when the run stopped while opening them.
fn open_readers(
    source: &dyn EntrySource,
    workers: usize,
) -> anyhow::Result<Option<Vec<Box<dyn EntryReader>>>> {
    let mut readers = Vec::with_capacity(workers);
    for _ in 0..workers {
        match source.reader() {
            Ok(reader) => readers.push(reader),
            Err(FetchError::Cancelled) => return Ok(None),
            Err(FetchError::Fatal(e)) => {
                return Err(e.context(format!("opening {}", source.describe())))
            }
        }
    }
    Ok(Some(readers))
}

/// One worker: processes the chunks it receives with its own sink and
/// reader until the feed ends.
fn work_loop(
    mut sink: Box<dyn Sink>,
    mut reader: Box<dyn EntryReader>,
    chunks: &Receiver<RangeInclusive<u64>>,
    verifier: Option<&LogVerifier>,
    shared: &Shared,
    done: &crossbeam_channel::Sender<Completion>,
) {
    for indices in chunks {
        // Entries' panics are caught in the worker; one anywhere else
        // stops the run (status 1) instead of leaving its chunk undone
        // and the dispatcher waiting for it for ever.
        let first = *indices.start();
        let ran = crate::panics::catch(|| {
            run_chunk(
                indices,
                reader.as_mut(),
                verifier,
                sink.as_mut(),
                shared,
                done,
            )
        });
        if let Err(panic) = ran {
            shared.fail(anyhow!(
                "internal error: a worker panicked on the chunk at log index {first}: {panic}"
            ));
        }
    }
}

fn run_chunk(
    indices: RangeInclusive<u64>,
    reader: &mut dyn EntryReader,
    verifier: Option<&LogVerifier>,
    sink: &mut dyn Sink,
    shared: &Shared,
    done: &crossbeam_channel::Sender<Completion>,
) {
    if shared.stop.load(Ordering::SeqCst) {
        return;
    }
    match process_chunk(indices.clone(), reader, verifier, sink) {
        Ok(completion) => {
            if let Some(n) = reader.attestations_not_fetched() {
                shared.counters.attestations_not_fetched(n);
            }
            // The receiver only goes away after every sender is dropped.
            let _ = done.send(completion);
        }
        Err(ChunkError::Fetch(FetchError::Cancelled)) => {}
        // Stopped while waiting for the backend: the cause is reported.
        Err(ChunkError::Write(e)) if outage::gave_up_on_stop(&e.0) => {}
        // A source's own failure names it (the Trillian database, tree and
        // sequence numbers); an untagged one is Rekor's.
        Err(ChunkError::Fetch(FetchError::Fatal(e))) => {
            let from = match crate::error::kind_of(&e) {
                Some(ErrorKind::Trillian) => "",
                _ => " from Rekor",
            };
            shared.fail(e.context(format!(
                "fetching log entries {}..={}{from}",
                indices.start(),
                indices.end()
            )))
        }
        Err(ChunkError::Write(e)) => shared.fail(e.0.context(format!(
            "writing the keys of log entries {}..={}",
            indices.start(),
            indices.end()
        ))),
    }
}

/// Step 3: the summary line, then how the run ended.
fn outcome(failures: &FailedIndices, shared: &Shared) -> anyhow::Result<RunOutcome> {
    let totals = shared.counters.totals();
    report(&totals, failures);
    if let Some(error) = shared.take_fatal() {
        return Err(error);
    }
    if shared.interrupted.load(Ordering::SeqCst) && totals.remaining() > 0 {
        return Ok(RunOutcome::Interrupted);
    }
    if failures.by_kind.contains_key(&ErrorKind::Verification) {
        Ok(RunOutcome::VerificationFailed)
    } else if totals.failed == 0 {
        Ok(RunOutcome::Complete)
    } else {
        Ok(RunOutcome::CompleteWithFailures)
    }
}

/// The failed entries the summary reports: how many, and the lowest
/// indices. Not every failure: a log with many entries of an unsupported
/// kind would otherwise grow the run's memory with its length (the
/// `--failed-entries` file has them all).
#[derive(Debug, Default)]
struct FailedIndices {
    count: u64,
    /// How many failed of each kind.
    by_kind: BTreeMap<ErrorKind, u64>,
    /// The lowest [`FAILURES_LISTED`] indices seen; a max-heap, so the
    /// largest of them is the one to drop.
    lowest: BinaryHeap<u64>,
}

impl FailedIndices {
    fn record(&mut self, index: u64, kind: ErrorKind) {
        self.count += 1;
        *self.by_kind.entry(kind).or_default() += 1;
        self.lowest.push(index);
        if self.lowest.len() > FAILURES_LISTED {
            self.lowest.pop();
        }
    }

    /// `decode 2, unsupported 1`: the count of each kind that occurred.
    fn kinds(&self) -> String {
        let counts: Vec<String> = self
            .by_kind
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        counts.join(", ")
    }

    /// The lowest indices, ascending.
    fn listed(&self) -> Vec<u64> {
        self.lowest.clone().into_sorted_vec()
    }
}

/// The checkpoint thread: advances the watermark, saves checkpoints,
/// records failures, keeps the counters and reports progress. Saves a last
/// time when every sender is gone.
fn collect(
    rx: Receiver<Completion>,
    mut checkpointer: Checkpointer,
    mut records: FailureLog,
    progress_bar: bool,
    shared: &Shared,
) -> FailedIndices {
    let counters = &shared.counters;
    let mut progress = Progress::new(counters.totals().remaining(), progress_bar);
    let mut failed = FailedIndices::default();
    let mut save_failed = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(completion) => {
                let mut absorb = |completion: Completion| {
                    for index in completion.indices.clone() {
                        if let Err(e) = checkpointer.complete(index) {
                            shared.fail(anyhow!("internal error: {e:?}"));
                        }
                    }
                    counters.chunk_done(
                        completion.indices.end() - completion.indices.start() + 1,
                        completion.failures.len() as u64,
                        completion.keys_written,
                    );
                    for failure in completion.failures {
                        failed.record(failure.log_index, failure.error.kind());
                        counters.failed_with(failure.error.kind());
                        if let Err(e) = records.add(failure) {
                            shared.fail(e);
                        }
                    }
                };
                absorb(completion);
                // Completions that queued up during the last save are all
                // taken before the next one, so one save covers them: with
                // a small interval and a slow save (a MySQL commit), saving
                // one chunk at a time would hold the watermark back and so
                // throttle the workers.
                while let Ok(more) = rx.try_recv() {
                    absorb(more);
                }
                counters.watermark_moved(checkpointer.next());
                shared.publish_watermark(checkpointer.next());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if !save_failed && checkpointer.due() {
            let before = checkpointer.saved();
            // The records of the failures the save passes are stored first.
            if let Err(e) = records
                .make_durable()
                .and_then(|()| checkpointer.maybe_save().context("saving the checkpoint"))
            {
                save_failed = true;
                shared.fail(e);
            }
            if checkpointer.saved() != before {
                counters.checkpoint_saved(checkpointer.saved());
                shared.checkpoint_saved();
            }
        }
        progress.update(&counters.totals());
    }
    progress.finish();
    let before = checkpointer.saved();
    match records.make_durable() {
        Ok(()) => {
            if let Err(e) = checkpointer.save_now() {
                shared.fail(e.context("saving the final checkpoint"));
            }
        }
        Err(e) => shared.fail(e),
    }
    if checkpointer.saved() != before {
        counters.checkpoint_saved(checkpointer.saved());
    }
    counters.watermark_moved(checkpointer.next());
    failed
}

/// The run's failures on their way to durability: the backend's records
/// and the `--failed-entries` export, both made durable before every
/// checkpoint save ([`FailureLog::make_durable`]), so a kill never loses a
/// failure the checkpoint has passed.
struct FailureLog {
    name: CheckpointName,
    store: Option<Box<dyn FailureStore>>,
    file: Option<BufWriter<File>>,
    /// Failures not yet stored.
    pending: Vec<EntryFailure>,
    /// Lines written since the last fsync.
    unsynced: bool,
}

impl FailureLog {
    fn new(
        name: CheckpointName,
        store: Option<Box<dyn FailureStore>>,
        file: Option<BufWriter<File>>,
    ) -> FailureLog {
        FailureLog {
            name,
            store,
            file,
            pending: Vec::new(),
            unsynced: false,
        }
    }

    fn add(&mut self, failure: EntryFailure) -> anyhow::Result<()> {
        if let Some(file) = self.file.as_mut() {
            writeln!(file, "{}", failure.to_json_line())
                .map_err(|e| anyhow!("writing --failed-entries: {e}"))?;
            self.unsynced = true;
        }
        if self.store.is_some() {
            self.pending.push(failure);
        }
        Ok(())
    }

    /// Stores the pending records, then flushes and fsyncs the export.
    fn make_durable(&mut self) -> anyhow::Result<()> {
        if let Some(store) = self.store.as_mut() {
            if !self.pending.is_empty() {
                store
                    .record(&self.name, &self.pending, std::time::SystemTime::now())
                    .context("storing failure records")?;
                self.pending.clear();
            }
        }
        if let Some(file) = self.file.as_mut().filter(|_| self.unsynced) {
            file.flush()
                .and_then(|()| file.get_ref().sync_data())
                .map_err(|e| anyhow!("writing --failed-entries: {e}"))?;
            self.unsynced = false;
        }
        Ok(())
    }
}

fn report(totals: &Totals, failed: &FailedIndices) {
    let Some((resume_at, end)) = totals.range else {
        return;
    };
    let total = end - resume_at + 1;
    let done = totals.indexed + totals.failed;
    let verb = if done == total { "complete" } else { "stopped" };
    let watermark = totals.watermark.unwrap_or(resume_at);
    log::info!(
        indexed = totals.indexed,
        failed = totals.failed,
        keys_written = totals.keys_written,
        watermark = watermark,
        checkpoint = totals.saved;
        "Backfill {verb}: {done}/{total} entries of {resume_at}..={end}, {} keys written, {} failed, {:.1}s, {:.0} entries/s; watermark {watermark}, checkpoint {}",
        totals.keys_written,
        totals.failed,
        totals.elapsed.as_secs_f64(),
        totals.rate(),
        totals
            .saved
            .map_or_else(|| "not saved".to_string(), |n| format!("at {n}")),
    );
    if failed.count > 0 {
        let listed: Vec<String> = failed.listed().iter().map(u64::to_string).collect();
        let more = failed.count - listed.len() as u64;
        log::error!(
            failed = failed.count;
            "{} entries could not be indexed ({}): [{}]{}",
            failed.count,
            failed.kinds(),
            listed.join(" "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::CheckpointName;
    use std::time::SystemTime;

    fn cp(first: u64, last: u64) -> CheckpointRecord {
        CheckpointRecord {
            first_index: first,
            last_completed_index: last,
            last_updated: SystemTime::now(),
            log: None,
        }
    }

    fn run_plan(first_index: u64, resume_at: u64, end: u64) -> Plan {
        Plan::Run {
            first_index,
            resume_at,
            end,
        }
    }

    /// A store whose saves are slow, like a MySQL commit on a busy disk:
    /// a save says when it begins and waits for a go (or a dropped sender).
    struct SlowStore {
        saves: Arc<Mutex<Vec<u64>>>,
        saving: crossbeam_channel::Sender<()>,
        go: crossbeam_channel::Receiver<()>,
    }

    impl CheckpointStore for SlowStore {
        fn load(&mut self, _: &CheckpointName) -> anyhow::Result<Option<CheckpointRecord>> {
            Ok(None)
        }
        fn save(&mut self, _: &CheckpointName, record: &CheckpointRecord) -> anyhow::Result<()> {
            let _ = self.saving.send(());
            let _ = self.go.recv_timeout(Duration::from_secs(10));
            self.saves.lock().unwrap().push(record.last_completed_index);
            Ok(())
        }
        fn delete(&mut self, _: &CheckpointName) -> anyhow::Result<()> {
            Ok(())
        }
    }

    fn chunk(first: u64) -> Completion {
        Completion {
            indices: first..=first + 9,
            keys_written: 1,
            failures: Vec::new(),
        }
    }

    #[test]
    fn one_save_covers_the_completions_that_queued_up() {
        let saves = Arc::new(Mutex::new(Vec::new()));
        let (saving, save_began) = crossbeam_channel::unbounded();
        let (go, wait_for_go) = crossbeam_channel::unbounded();
        let store = SlowStore {
            saves: Arc::clone(&saves),
            saving,
            go: wait_for_go,
        };
        let name = CheckpointName::parse("t").unwrap();
        let checkpointer = Checkpointer::new(name, Some(Box::new(store)), 0, 0, 1);
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Shared::new(stop, Arc::new(AtomicBool::new(false)));
        let (tx, rx) = crossbeam_channel::unbounded();
        // 50 chunks in order, each moving the watermark by 10 (the
        // interval is 1), all queued before the checkpoint thread looks.
        for first in (0..50u64).map(|c| c * 10) {
            tx.send(chunk(first)).unwrap();
        }
        let late = std::thread::spawn(move || {
            // Two more while the first save is in flight.
            save_began.recv().unwrap();
            tx.send(chunk(500)).unwrap();
            tx.send(chunk(510)).unwrap();
            go.send(()).unwrap();
        });
        shared.counters.planned(0, 519, None);
        let records = FailureLog::new(CheckpointName::parse("t").unwrap(), None, None);
        collect(rx, checkpointer, records, false, &shared);
        late.join().unwrap();
        let totals = shared.counters.totals();
        assert_eq!((totals.indexed, totals.watermark), (520, Some(520)));
        assert_eq!(totals.saved, Some(519));
        // One save for the 50 queued chunks, one for the two late ones;
        // saving chunk by chunk would have made 52.
        assert_eq!(*saves.lock().unwrap(), vec![499, 519]);
        assert!(shared.take_fatal().is_none());
    }

    #[test]
    fn failed_indices_keep_the_count_and_the_lowest() {
        let mut failed = FailedIndices::default();
        assert!(failed.listed().is_empty());
        // Completions arrive out of order.
        for index in (0..100u64).rev().chain([7, 3]) {
            let kind = if index % 10 == 0 {
                ErrorKind::Unsupported
            } else {
                ErrorKind::Decode
            };
            failed.record(index * 3 + 1, kind);
        }
        assert_eq!(failed.count, 102);
        assert_eq!(failed.kinds(), "decode 92, unsupported 10");
        let expected: Vec<u64> = {
            let mut all: Vec<u64> = (0..100u64).chain([7, 3]).map(|i| i * 3 + 1).collect();
            all.sort_unstable();
            all.truncate(FAILURES_LISTED);
            all
        };
        assert_eq!(failed.listed(), expected);
        assert_eq!(failed.lowest.len(), FAILURES_LISTED);
    }

    #[test]
    fn fresh_runs() {
        assert_eq!(
            plan(None, None, Some(99), None, "d"),
            Ok(run_plan(0, 0, 99))
        );
        assert_eq!(
            plan(Some(5), Some(9), Some(99), None, "d"),
            Ok(run_plan(5, 5, 9))
        );
        assert!(matches!(
            plan(None, None, None, None, "d"),
            Ok(Plan::NothingToDo(_))
        ));
        assert!(plan(None, Some(100), Some(99), None, "d")
            .unwrap_err()
            .0
            .contains("beyond the log"));
        assert!(plan(None, Some(0), None, None, "d").is_err());
        assert!(plan(Some(100), None, Some(99), None, "d").is_err());
    }

    #[test]
    fn resume_rules() {
        let c = cp(10, 49);
        assert_eq!(
            plan(None, None, Some(99), Some(&c), "d"),
            Ok(run_plan(10, 50, 99))
        );
        assert_eq!(
            plan(Some(10), None, Some(99), Some(&c), "d"),
            Ok(run_plan(10, 50, 99))
        );
        assert_eq!(
            plan(Some(50), None, Some(99), Some(&c), "d"),
            Ok(run_plan(10, 50, 99))
        );
        let gap = plan(Some(51), None, Some(99), Some(&c), "d").unwrap_err().0;
        assert!(
            gap.contains("50..51 unindexed") && gap.contains("--reset-checkpoint"),
            "{gap}"
        );
        let below = plan(Some(3), None, Some(99), Some(&c), "d").unwrap_err().0;
        assert!(below.contains("below"), "{below}");
        assert!(matches!(
            plan(None, Some(49), Some(99), Some(&c), "d"),
            Ok(Plan::NothingToDo(_))
        ));
        assert!(plan(None, Some(5), Some(99), Some(&c), "d").is_err());
    }
}
