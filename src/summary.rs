//! The final one-line JSON summary on stdout (`--summary json`, or always
//! with JSON logs): what a Job controller or a wrapper script reads to
//! learn how the run went without parsing log text. It renders the same
//! [`Totals`] as the log's summary line and the metrics.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::audit::Counts;
use crate::checkpoint::CheckpointName;
use crate::counters::Totals;
use crate::error::ErrorKind;
use crate::exit::ExitStatus;

/// The summary line, its members in this order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary<'a> {
    status: &'static str,
    exit_status: u8,
    /// Null when no range was planned (nothing to do, or an error before).
    range: Option<Range>,
    indexed: u64,
    keys_written: u64,
    failed: u64,
    /// `failed` by kind (`decode`, `unreadable`, `internal` …), kinds
    /// that occurred only.
    failed_by_kind: BTreeMap<&'static str, u64>,
    /// The retry of stored failure records at the start of the run.
    retried: Retried,
    duration_seconds: f64,
    /// Lowest index of the range not yet complete.
    watermark: Option<u64>,
    checkpoint: Option<Checkpoint<'a>>,
    /// An audit's counts (`missing`, `misCased` … as pair counts); absent
    /// from a backfill's summary.
    #[serde(flatten)]
    audit: Option<&'a Counts>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Retried {
    entries: u64,
    cleared: u64,
    still_failing: u64,
}

#[derive(Serialize)]
struct Range {
    start: u64,
    end: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checkpoint<'a> {
    name: &'a str,
    last_completed_index: Option<u64>,
}

pub fn json_line(
    status: ExitStatus,
    totals: &Totals,
    checkpoint: Option<&CheckpointName>,
) -> String {
    summary(status, totals, checkpoint, None)
}

/// The summary of `rekor-backfill audit`: no checkpoint, and the audit's
/// counts beside the common members.
pub fn audit_json_line(status: ExitStatus, totals: &Totals, audit: &Counts) -> String {
    summary(status, totals, None, Some(audit))
}

fn summary(
    status: ExitStatus,
    totals: &Totals,
    checkpoint: Option<&CheckpointName>,
    audit: Option<&Counts>,
) -> String {
    let summary = Summary {
        status: status.name(),
        exit_status: status.code(),
        range: totals.range.map(|(start, end)| Range { start, end }),
        indexed: totals.indexed,
        keys_written: totals.keys_written,
        failed: totals.failed,
        failed_by_kind: ErrorKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), totals.failed_by_kind[k.index()]))
            .filter(|(_, n)| *n > 0)
            .collect(),
        retried: Retried {
            entries: totals.retried.entries,
            cleared: totals.retried.cleared,
            still_failing: totals.retried.still_failing,
        },
        duration_seconds: (totals.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        watermark: totals.watermark,
        checkpoint: checkpoint.map(|name| Checkpoint {
            name: name.as_str(),
            last_completed_index: totals.saved,
        }),
        audit,
    };
    serde_json::to_string(&summary).unwrap_or_default()
}

/// Prints the line on stdout. A closed stdout (`| head`) is no failure of
/// the run: the line is dropped.
pub fn print(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn summary_fields() {
        let totals = Totals {
            range: Some((5, 14)),
            indexed: 9,
            failed: 1,
            keys_written: 30,
            watermark: Some(15),
            saved: Some(14),
            elapsed: Duration::from_millis(1234),
            ..Totals::default()
        };
        let name = CheckpointName::parse("nightly").unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&json_line(ExitStatus::EntriesFailed, &totals, Some(&name)))
                .unwrap();
        assert_eq!(v["exitStatus"], 3);
        assert!(json_line(ExitStatus::Complete, &totals, None)
            .starts_with(r#"{"status":"complete","exitStatus":0,"range":{"start":5,"#));
        assert_eq!(v["status"], "entries-failed");
        assert_eq!(v["range"], json!({"start": 5, "end": 14}));
        assert_eq!(
            (v["indexed"].as_u64(), v["failed"].as_u64()),
            (Some(9), Some(1))
        );
        assert_eq!(v["keysWritten"], 30);
        assert_eq!(v["durationSeconds"], 1.234);
        assert_eq!(v["watermark"], 15);
        assert_eq!(
            v["checkpoint"],
            json!({"name": "nightly", "lastCompletedIndex": 14})
        );
        assert!(v.get("missing").is_none());
        assert_eq!(v["failedByKind"], json!({}));
        assert_eq!(
            v["retried"],
            json!({"entries": 0, "cleared": 0, "stillFailing": 0})
        );
        let counts = Counts {
            entries: 10,
            pairs_expected: 30,
            present: 26,
            missing: 3,
            mis_cased: 1,
            not_recoverable: 2,
            not_keyable: 0,
        };
        let audit: serde_json::Value = serde_json::from_str(&audit_json_line(
            ExitStatus::VerificationFailed,
            &totals,
            &counts,
        ))
        .unwrap();
        assert_eq!(audit["exitStatus"], 5);
        assert_eq!(
            (audit["missing"].as_u64(), audit["misCased"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(audit["pairsExpected"], 30);
        assert!(audit["checkpoint"].is_null());
    }
}
