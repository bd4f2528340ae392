//! Prometheus metrics for a batch job: a node-exporter textfile
//! (`--metrics-textfile`) and pushes to a Pushgateway (`--pushgateway`).
//!
//! A batch job is not scraped while it runs, so it hands its metrics over:
//! the textfile is rewritten atomically (a temporary file renamed over it)
//! after every checkpoint save and at the end; the Pushgateway gets a push
//! every `--pushgateway-interval` and at the end. Both render the same
//! [`Counters`] as the summary, in the text exposition format 0.0.4, written
//! here: a dozen series do not justify the `prometheus` crate and its
//! protobuf dependency.
//!
//! `rekor_backfill_last_success_timestamp_seconds` is only set by a run
//! that processed its range (exit status 0 or 3). A run that fails keeps
//! the previous value: pushes use POST, which replaces only the series
//! pushed, and the textfile carries the old line over; so an alert on
//! `time() - rekor_backfill_last_success_timestamp_seconds` sees failures.
//! A failed push is a warning, never a reason to fail the backfill.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{RecvTimeoutError, Sender};

use crate::checkpoint::CheckpointName;
use crate::counters::{Counters, Totals};
use crate::error::ErrorKind;
use crate::exit::ExitStatus;

const LAST_SUCCESS: &str = "rekor_backfill_last_success_timestamp_seconds";

/// Where metrics go, as configured.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    pub textfile: Option<PathBuf>,
    pub pushgateway: Option<PushgatewayConfig>,
}

#[derive(Debug, Clone)]
pub struct PushgatewayConfig {
    /// Base URL without a trailing slash, e.g. `http://pushgateway:9091`.
    pub url: String,
    /// The `job` grouping label (validated: safe in a URL path).
    pub job: String,
    pub interval: Duration,
}

impl PushgatewayConfig {
    /// `URL/metrics/job/<job>/checkpoint/<name>`: one group per checkpoint,
    /// so concurrent backfills with different names do not overwrite each
    /// other. Checkpoint names are URL-path safe by construction.
    pub fn group_url(&self, checkpoint: &CheckpointName) -> String {
        format!(
            "{}/metrics/job/{}/checkpoint/{}",
            self.url,
            self.job,
            checkpoint.as_str()
        )
    }
}

/// The end of a run, for the series only set then.
#[derive(Debug, Clone, Copy)]
pub struct Ending {
    pub status: ExitStatus,
    pub at: SystemTime,
}

impl Ending {
    fn succeeded(&self) -> bool {
        matches!(
            self.status,
            ExitStatus::Complete | ExitStatus::EntriesFailed
        )
    }
}

/// The metrics in the text exposition format. `labels` is put on every
/// series (`{checkpoint="x"}` for the textfile; empty for the Pushgateway,
/// whose grouping key carries them).
pub fn render(totals: &Totals, ending: Option<&Ending>, labels: &str) -> String {
    let mut out = String::new();
    let mut series = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name}{labels} {value}");
    };
    series(
        "rekor_backfill_entries_indexed_total",
        "counter",
        "Log entries whose index keys this run wrote.",
        totals.indexed as f64,
    );
    series(
        "rekor_backfill_entries_failed_total",
        "counter",
        "Log entries this run could not decode or key (recorded, not indexed).",
        totals.failed as f64,
    );
    let _ = writeln!(
        out,
        "# HELP rekor_backfill_entries_failed_by_kind_total Log entries this run could not index, by kind of failure (decode, unsupported, limit, mismatch, unreadable, internal, ...)."
    );
    let _ = writeln!(
        out,
        "# TYPE rekor_backfill_entries_failed_by_kind_total counter"
    );
    for kind in ErrorKind::ALL {
        let _ = writeln!(
            out,
            "rekor_backfill_entries_failed_by_kind_total{} {}",
            with_label(labels, "kind", kind.as_str()),
            totals.failed_by_kind[kind.index()]
        );
    }
    let mut series = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name}{labels} {value}");
    };
    series(
        "rekor_backfill_failures_retried_total",
        "counter",
        "Stored failure records this run retried before its range.",
        totals.retried.entries as f64,
    );
    series(
        "rekor_backfill_failures_cleared_total",
        "counter",
        "Stored failure records this run retried successfully and removed.",
        totals.retried.cleared as f64,
    );
    series(
        "rekor_backfill_keys_written_total",
        "counter",
        "Index keys this run wrote.",
        totals.keys_written as f64,
    );
    if let Some(n) = totals.attestations_not_fetched {
        series(
            "rekor_backfill_attestations_not_fetched_total",
            "counter",
            "Entries this run indexed without the keys of their attestation (a source without attestations: Trillian's database).",
            n as f64,
        );
    }
    if let Some(watermark) = totals.watermark {
        series(
            "rekor_backfill_watermark_index",
            "gauge",
            "Lowest log index of the run not yet complete; every index below it is indexed.",
            watermark as f64,
        );
    }
    if let Some((_, end)) = totals.range {
        series(
            "rekor_backfill_target_end_index",
            "gauge",
            "Last log index of the run's range.",
            end as f64,
        );
    }
    series(
        "rekor_backfill_duration_seconds",
        "gauge",
        "Seconds since the run started.",
        totals.elapsed.as_secs_f64(),
    );
    if let Some(ending) = ending {
        series(
            "rekor_backfill_exit_status",
            "gauge",
            "Exit status of the last run (see README, Exit statuses).",
            f64::from(ending.status.code()),
        );
        if ending.succeeded() {
            series(
                LAST_SUCCESS,
                "gauge",
                "Unix time the last run that processed its whole range ended.",
                unix_seconds(ending.at),
            );
        }
    }
    out
}

/// `labels` (`{a="b"}` or empty) with `name="value"` added.
fn with_label(labels: &str, name: &str, value: &str) -> String {
    match labels.strip_suffix('}') {
        Some(open) => format!("{open},{name}=\"{value}\"}}"),
        None => format!("{{{name}=\"{value}\"}}"),
    }
}

fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64 / 1000.0)
}

/// Writes `text` to `path` atomically: a temporary file beside it, then
/// renamed over it (no fsync: a crash may lose metrics, never tear them), so the collector never reads half a file. When
/// `text` has no last-success series, the one in the old file is kept.
pub fn write_textfile(path: &Path, text: &str) -> std::io::Result<()> {
    let mut text = text.to_string();
    if !text.contains(LAST_SUCCESS) {
        if let Ok(old) = std::fs::read_to_string(path) {
            for line in old.lines().filter(|l| {
                l.starts_with(LAST_SUCCESS)
                    || l.starts_with(&format!("# HELP {LAST_SUCCESS} "))
                    || l.starts_with(&format!("# TYPE {LAST_SUCCESS} "))
            }) {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path has no file name"))?;
    // node-exporter only reads `*.prom`, so the temporary name ends otherwise.
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Exports the run's metrics: the textfile after checkpoint saves and at
/// the end, pushes on a timer and at the end.
pub struct Exporter {
    config: MetricsConfig,
    checkpoint: CheckpointName,
    agent: ureq::Agent,
    pusher: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Exporter {
    pub fn new(config: &MetricsConfig, checkpoint: &CheckpointName) -> Exporter {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Exporter {
            config: config.clone(),
            checkpoint: checkpoint.clone(),
            agent,
            pusher: None,
        }
    }

    fn textfile_labels(&self) -> String {
        format!("{{checkpoint=\"{}\"}}", self.checkpoint.as_str())
    }

    /// Rewrites the textfile, if one is configured (after a checkpoint
    /// save and at the end).
    pub fn write_textfile(&self, totals: &Totals, ending: Option<&Ending>) {
        let Some(path) = &self.config.textfile else {
            return;
        };
        let text = render(totals, ending, &self.textfile_labels());
        if let Err(e) = write_textfile(path, &text) {
            log::warn!("Writing --metrics-textfile {}: {e}", path.display());
        }
    }

    /// Pushes to the Pushgateway, if one is configured.
    pub fn push(&self, totals: &Totals, ending: Option<&Ending>) {
        let Some(gateway) = &self.config.pushgateway else {
            return;
        };
        push(&self.agent, gateway, &self.checkpoint, totals, ending);
    }

    /// Starts pushing every interval from a thread of its own, until
    /// [`Exporter::finish`].
    pub fn start(&mut self, counters: Arc<Counters>) {
        let Some(gateway) = self.config.pushgateway.clone() else {
            return;
        };
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let (agent, checkpoint) = (self.agent.clone(), self.checkpoint.clone());
        let thread = std::thread::Builder::new()
            .name("metrics".to_string())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stop_rx.recv_timeout(gateway.interval) {
                    push(&agent, &gateway, &checkpoint, &counters.totals(), None);
                }
            });
        match thread {
            Ok(handle) => self.pusher = Some((stop_tx, handle)),
            Err(e) => log::warn!("Not pushing metrics during the run: {e}"),
        }
    }

    /// A one-off export of series rendered by `render` (given the labels
    /// of each target): to the textfile and to the Pushgateway, whichever
    /// are configured. `rekor-backfill audit` exports its own series so.
    pub fn finish_with(&mut self, render: &dyn Fn(&str) -> String) {
        if let Some(path) = &self.config.textfile {
            if let Err(e) = write_textfile(path, &render(&self.textfile_labels())) {
                log::warn!("Writing --metrics-textfile {}: {e}", path.display());
            }
        }
        if let Some(gateway) = &self.config.pushgateway {
            send(
                &self.agent,
                &gateway.group_url(&self.checkpoint),
                render(""),
            );
        }
    }

    /// The last export: stops the pusher, then writes and pushes the final
    /// figures with the run's exit status.
    pub fn finish(&mut self, totals: &Totals, status: ExitStatus) {
        if let Some((stop, handle)) = self.pusher.take() {
            drop(stop);
            let _ = handle.join();
        }
        let ending = Ending {
            status,
            at: SystemTime::now(),
        };
        self.write_textfile(totals, Some(&ending));
        self.push(totals, Some(&ending));
    }
}

fn push(
    agent: &ureq::Agent,
    gateway: &PushgatewayConfig,
    checkpoint: &CheckpointName,
    totals: &Totals,
    ending: Option<&Ending>,
) {
    send(
        agent,
        &gateway.group_url(checkpoint),
        render(totals, ending, ""),
    );
}

/// POSTs `body` to the Pushgateway group `url`: only the series pushed are
/// replaced.
fn send(agent: &ureq::Agent, url: &str, body: String) {
    let result = agent
        .post(url)
        .header("Content-Type", "text/plain; version=0.0.4")
        .send(body.as_bytes());
    match result {
        Ok(response) if response.status().is_success() => {
            log::debug!("Metrics pushed to the Pushgateway");
        }
        Ok(response) => log::warn!(
            "Pushing metrics to the Pushgateway: HTTP {}",
            response.status()
        ),
        Err(e) => log::warn!("Pushing metrics to the Pushgateway: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals() -> Totals {
        Totals {
            range: Some((100, 199)),
            indexed: 80,
            failed: 2,
            keys_written: 300,
            watermark: Some(182),
            saved: Some(181),
            elapsed: Duration::from_millis(2500),
            ..Totals::default()
        }
    }

    #[test]
    fn last_success_only_when_the_range_was_processed() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ok = render(
            &totals(),
            Some(&Ending {
                status: ExitStatus::EntriesFailed,
                at,
            }),
            "",
        );
        assert!(ok.contains(&format!("{LAST_SUCCESS} 1700000000\n")), "{ok}");
        assert!(ok.contains("rekor_backfill_exit_status 3\n"), "{ok}");
        let failed = render(
            &totals(),
            Some(&Ending {
                status: ExitStatus::Transient,
                at,
            }),
            "",
        );
        assert!(!failed.contains(LAST_SUCCESS), "{failed}");
        assert!(!render(&totals(), None, "").contains("exit_status"));
    }

    #[test]
    fn attestations_not_fetched_only_from_a_source_without_them() {
        let name = "rekor_backfill_attestations_not_fetched_total";
        assert!(!render(&totals(), None, "").contains(name));
        let trillian = Totals {
            attestations_not_fetched: Some(4),
            ..totals()
        };
        let text = render(&trillian, None, "{checkpoint=\"d\"}");
        assert!(text.contains(&format!("# TYPE {name} counter\n")), "{text}");
        assert!(
            text.contains(&format!("{name}{{checkpoint=\"d\"}} 4\n")),
            "{text}"
        );
    }

    #[test]
    fn textfile_keeps_the_previous_success() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backfill.prom");
        let labels = "{checkpoint=\"d\"}";
        let success = Ending {
            status: ExitStatus::Complete,
            at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        };
        write_textfile(&path, &render(&totals(), Some(&success), labels)).unwrap();
        let failure = Ending {
            status: ExitStatus::Transient,
            at: SystemTime::now(),
        };
        write_textfile(&path, &render(&totals(), Some(&failure), labels)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.matches(&format!("{LAST_SUCCESS}{labels} 1700000000\n"))
                .count(),
            1,
            "{text}"
        );
        assert!(text.contains("rekor_backfill_exit_status{checkpoint=\"d\"} 1\n"));
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
