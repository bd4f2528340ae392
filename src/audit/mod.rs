//! `rekor-backfill audit`: how much of the index is missing, without
//! writing anything.
//!
//! The entries of the range are fetched and keyed exactly as a backfill
//! does ([`crate::rekor`], [`crate::worker::entry_keys`]), a window of
//! [`WINDOW`] indices at a time (fetched by `--concurrency` threads, so
//! memory stays flat over any range); then every distinct (stored key,
//! UUID) pair of the window is looked up in the backend through an
//! [`IndexReader`] (Redis: `src/sink/redis_audit.rs`, MySQL:
//! `src/sink/mysql_audit.rs`, each says how it stays linear in the size of
//! the index). No lease is taken and no checkpoint is read or written: an
//! audit can run beside a backfill, and says what the index held when it
//! looked.
//!
//! A pair is *present* under the key the server looks up, *mis-cased* when
//! it is only under a case variant of that key (Redis only: the Go tool
//! wrote keys as computed, the server reads them lowercased), or
//! *missing*. The exit status is 5 ([`ExitStatus::VerificationFailed`])
//! when any pair is missing or mis-cased, 0 otherwise.
//!
//! Not recoverable: some keys the server wrote at upload time come from
//! data it never stored, so neither a backfill nor an audit can compute
//! them (docs/INDEX_KEYS.md §4.9-§4.12, §10): the in-toto subject (and
//! material) digests of `intoto` and `cose` entries when the server returns
//! no attestation, and of every `dsse` entry (the server keeps no
//! attestation for dsse). Such entries are counted apart, per kind, as
//! "not recoverable", decided from the kind and the absence of an
//! attestation; the pairs that can be computed are still checked. They
//! are counted as entries, not pairs: how many digests a lost payload had
//! is exactly what is unknown.
//!
//! Entries that cannot be decoded or keyed are "not keyable" (a backfill
//! records them as failed): they have no pairs to check and do not change
//! the status.

mod tally;

use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use rayon::prelude::*;
use serde::Deserialize;

pub use self::tally::{Counts, Example, Presence, Tally};
use crate::config::{Config, UsageError};
use crate::counters::Totals;
use crate::entry;
use crate::exit::ExitStatus;
use crate::interrupt::Interrupt;
use crate::metrics::Exporter;
use crate::pipeline::target_end;
use crate::rekor::{FetchError, FetchedEntry, RekorClient, MAX_BATCH};
use crate::worker::entry_keys;
use crate::{sink, summary};

/// Indices fetched and then checked together.
pub const WINDOW: u64 = 2_000;

/// The read side of an index: where each (key, UUID) pair is.
pub trait IndexReader {
    /// A human description without secrets.
    fn describe(&self) -> String;
    /// The key as this backend stores it (Redis: Go-lowercased; MySQL: as
    /// computed).
    fn stored_key(&self, key: &str) -> String;
    /// Where each pair (key in stored form, UUID) is, in the order given.
    fn locate(&mut self, pairs: &[(String, String)]) -> anyhow::Result<Vec<Presence>>;
}

/// How an audit ended, when it did not end in an error.
#[derive(Debug)]
pub enum AuditOutcome {
    /// Every index of the range was checked.
    Done {
        range: Option<(u64, u64)>,
        tally: Tally,
    },
    /// Stopped by SIGINT/SIGTERM.
    Interrupted { tally: Tally },
}

/// The `audit` command: signals, the audit, the report, the summary and
/// the metrics.
pub fn command(config: &Config) -> ExitStatus {
    let started = Instant::now();
    let (status, range, tally) = match check_flags(config)
        .map_err(anyhow::Error::new)
        .and_then(|()| sink::index_reader_for(&config.backend))
    {
        Ok(mut reader) => audit(config, reader.as_mut()),
        Err(e) => {
            let status = ExitStatus::of_error(&e);
            log::error!(exit_status = status.code(); "{e:#}");
            (status, None, Tally::default())
        }
    };
    finish(config, status, range, &tally, started);
    status
}

/// Runs the audit and reports what it found.
fn audit(config: &Config, reader: &mut dyn IndexReader) -> (ExitStatus, Option<(u64, u64)>, Tally) {
    let interrupt = match Interrupt::install() {
        Ok(interrupt) => interrupt,
        Err(e) => {
            log::error!("installing signal handlers: {e}");
            return (ExitStatus::Transient, None, Tally::default());
        }
    };
    match run(config, reader, Arc::clone(&interrupt.stop)) {
        Ok(AuditOutcome::Done { range, tally }) => {
            report(&tally, range, reader);
            let status = match tally.total().complete() {
                true => ExitStatus::Complete,
                false => ExitStatus::VerificationFailed,
            };
            (status, range, tally)
        }
        Ok(AuditOutcome::Interrupted { tally }) => {
            let status = interrupt.status();
            log::error!(exit_status = status.code(); "Interrupted: the audit is incomplete");
            (status, None, tally)
        }
        Err(e) => {
            let status = ExitStatus::of_error(&e);
            log::error!(exit_status = status.code(); "{e:#}");
            (status, None, Tally::default())
        }
    }
}

/// The metrics and the JSON summary, however the audit ended.
fn finish(
    config: &Config,
    status: ExitStatus,
    range: Option<(u64, u64)>,
    tally: &Tally,
    started: Instant,
) {
    let total = tally.total();
    let mut exporter = Exporter::new(&config.metrics, &config.checkpoint.name);
    exporter.finish_with(&|labels| tally.render_metrics(status.code(), labels));
    if config.summary_json {
        let totals = Totals {
            range,
            indexed: 0,
            failed: total.not_keyable,
            keys_written: 0,
            watermark: None,
            saved: None,
            elapsed: started.elapsed(),
            ..Totals::default()
        };
        summary::print(&summary::audit_json_line(status, &totals, &total));
    }
}

/// Flags of a backfill that write, which an audit never does.
fn check_flags(config: &Config) -> Result<(), UsageError> {
    let writes = [
        (config.dry_run, "--dry-run"),
        (config.checkpoint.reset, "--reset-checkpoint"),
        (config.failed_entries.is_some(), "--failed-entries"),
    ];
    match writes.iter().find(|(given, _)| *given) {
        Some((_, flag)) => Err(UsageError(format!(
            "audit writes nothing (no index, no checkpoint): {flag} does not apply"
        ))),
        None => Ok(()),
    }
}

/// Audits the configured range: fetch and key a window, look its pairs up,
/// count.
pub fn run(
    config: &Config,
    reader: &mut dyn IndexReader,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<AuditOutcome> {
    let workers = config.concurrency.get();
    let client = RekorClient::new(&config.rekor, Arc::clone(&stop), workers);
    let mut tally = Tally::default();
    let info = match client.log_info() {
        Ok(info) => info,
        Err(FetchError::Cancelled) => return Ok(AuditOutcome::Interrupted { tally }),
        Err(FetchError::Fatal(e)) => {
            return Err(e.context(format!(
                "reading the log size from {}",
                config.rekor.address
            )))
        }
    };
    let Some(end) = target_end(config.start, config.end, info.total_size().checked_sub(1))? else {
        log::info!("Nothing to audit: the log is empty");
        return Ok(AuditOutcome::Done { range: None, tally });
    };
    let start = config.start.unwrap_or(0);
    log::info!(
        "Auditing log entries {start}..={end} of {} against {}",
        config.rekor.address,
        reader.describe()
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("audit-{i}"))
        .build()
        .context("starting the fetch threads")?;
    let mut first = start;
    while first <= end {
        let last = end.min(first.saturating_add(WINDOW - 1));
        let fetched = match pool.install(|| fetch(&client, first..=last)) {
            Ok(fetched) => fetched,
            Err(FetchError::Cancelled) => return Ok(AuditOutcome::Interrupted { tally }),
            Err(FetchError::Fatal(e)) => {
                return Err(e.context(format!("fetching log entries {first}..={last} from Rekor")))
            }
        };
        check_window(&fetched, reader, &mut tally)
            .with_context(|| format!("checking the index of log entries {first}..={last}"))?;
        if stop.load(Ordering::SeqCst) && last < end {
            return Ok(AuditOutcome::Interrupted { tally });
        }
        log::debug!("Audited {first}..={last}");
        first = match last.checked_add(1) {
            Some(next) => next,
            None => break,
        };
    }
    Ok(AuditOutcome::Done {
        range: Some((start, end)),
        tally,
    })
}

/// The entries of `indices`, in index order, fetched in batches in parallel.
fn fetch(
    client: &RekorClient,
    indices: RangeInclusive<u64>,
) -> Result<Vec<FetchedEntry>, FetchError> {
    let batch = MAX_BATCH as u64;
    let (first, last) = indices.into_inner();
    let batches: Vec<RangeInclusive<u64>> = (first..=last)
        .step_by(MAX_BATCH)
        .map(|b| b..=last.min(b + batch - 1))
        .collect();
    let fetched: Result<Vec<Vec<FetchedEntry>>, FetchError> = batches
        .into_par_iter()
        .map(|batch| client.entries(batch))
        .collect();
    let mut entries: Vec<FetchedEntry> = fetched?.into_iter().flatten().collect();
    entries.sort_by_key(|e| e.log_index);
    Ok(entries)
}

/// One entry's part of a window: its pairs are `pairs[range]`.
struct EntryPairs<'a> {
    fetched: &'a FetchedEntry,
    kind: String,
    pairs: std::ops::Range<usize>,
}

/// Keys the window's entries, looks all their pairs up at once, counts.
fn check_window(
    fetched: &[FetchedEntry],
    reader: &mut dyn IndexReader,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut entries = Vec::with_capacity(fetched.len());
    for entry in fetched {
        let kind = entry_kind(entry);
        let keys = entry_keys(entry);
        tally.entry(&kind, keys.is_ok(), recoverable(&kind, entry));
        let Ok(keys) = keys else {
            continue;
        };
        let stored: BTreeSet<String> = keys.iter().map(|k| reader.stored_key(k)).collect();
        let at = pairs.len();
        pairs.extend(stored.into_iter().map(|k| (k, entry.uuid.clone())));
        entries.push(EntryPairs {
            fetched: entry,
            kind,
            pairs: at..pairs.len(),
        });
    }
    let found = reader.locate(&pairs)?;
    anyhow::ensure!(
        found.len() == pairs.len(),
        "internal error: {} answers for {} pairs",
        found.len(),
        pairs.len()
    );
    for entry in &entries {
        for i in entry.pairs.clone() {
            let (key, uuid) = &pairs[i];
            tally.pair(&entry.kind, entry.fetched.log_index, uuid, key, found[i]);
        }
    }
    Ok(())
}

/// The entry's `kind` as its body names it; "unknown" when the body does
/// not say.
fn entry_kind(entry: &FetchedEntry) -> String {
    #[derive(Deserialize)]
    struct Kind {
        kind: String,
    }
    entry
        .body
        .as_str()
        .and_then(|b64| entry::go_base64_decode(b64).ok())
        .and_then(|body| serde_json::from_slice::<Kind>(&body).ok())
        .map(|k| k.kind)
        .filter(|k| !k.is_empty() && k.len() <= 32 && k.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Whether every key the server wrote for the entry at upload can be
/// computed from what the API returns (see the module doc).
fn recoverable(kind: &str, entry: &FetchedEntry) -> bool {
    let attested = entry.attestation.as_deref().is_some_and(|a| !a.is_empty());
    !matches!(kind, "dsse" | "intoto" | "cose") || attested
}

/// The table and the first missing pairs, in the log.
fn report(tally: &Tally, range: Option<(u64, u64)>, reader: &dyn IndexReader) {
    let total = tally.total();
    let range = range.map_or_else(|| "nothing".to_string(), |(s, e)| format!("{s}..={e}"));
    for line in tally.table() {
        log::info!("{line}");
    }
    for e in &tally.examples {
        let how = match e.presence {
            Presence::MisCased => "only under a mis-cased key",
            _ => "missing",
        };
        log::warn!(
            log_index = e.index,
            uuid = e.uuid.as_str(),
            key = e.key.as_str();
            "Entry {} ({}) {how}: {}",
            e.index,
            e.uuid,
            e.key
        );
    }
    let verdict = if total.complete() {
        "complete"
    } else {
        "INCOMPLETE"
    };
    log::info!(
        entries = total.entries,
        pairs_expected = total.pairs_expected,
        present = total.present,
        missing = total.missing,
        mis_cased = total.mis_cased,
        not_recoverable = total.not_recoverable,
        not_keyable = total.not_keyable;
        "Audit {verdict}: {range} against {}: {} entries, {} pairs expected, {} present, {} missing, {} mis-cased; {} entries not recoverable, {} not keyable{}",
        reader.describe(),
        total.entries,
        total.pairs_expected,
        total.present,
        total.missing,
        total.mis_cased,
        total.not_recoverable,
        total.not_keyable,
        if total.mis_cased > 0 { " (run fix-case, then audit again)" } else if total.missing > 0 { " (run a backfill over the range, then audit again)" } else { "" }
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn fetched(body: &str, attestation: Option<&str>) -> FetchedEntry {
        FetchedEntry {
            log_index: 1,
            uuid: "u".into(),
            body: serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            attestation: attestation.map(str::to_string),
            evidence: None,
        }
    }

    #[test]
    fn kind_and_recoverability() {
        let dsse = fetched(r#"{"kind":"dsse","apiVersion":"0.0.1","spec":{}}"#, None);
        assert_eq!(entry_kind(&dsse), "dsse");
        assert!(!recoverable("dsse", &dsse));
        let attested = fetched(r#"{"kind":"intoto"}"#, Some("e30="));
        assert!(recoverable("intoto", &attested));
        assert!(!recoverable("intoto", &fetched("{}", Some(""))));
        assert!(recoverable("hashedrekord", &fetched("{}", None)));
        assert_eq!(entry_kind(&fetched("not json", None)), "unknown");
        let mut not_b64 = dsse.clone();
        not_b64.body = serde_json::json!(3);
        assert_eq!(entry_kind(&not_b64), "unknown");
    }

    #[test]
    fn writing_flags_are_refused() {
        let args = crate::cli::Args {
            rekor_address: Some("http://localhost:1".into()),
            redis_hostname: Some("localhost".into()),
            redis_port: Some("1".into()),
            reset_checkpoint: true,
            ..Default::default()
        };
        let config = Config::from_args(&args, &|_| None).unwrap();
        assert!(check_flags(&config)
            .unwrap_err()
            .0
            .contains("--reset-checkpoint"));
    }
}
