//! Durable failure records: every entry a run could not index is stored in
//! the backend, beside the checkpoint, before the checkpoint passes it, so
//! no failure is forgotten once the watermark has moved on. Every later run
//! retries the records first (`retry`) and removes those that now succeed.
//!
//! Redis keeps them in the hash `rekor-backfill:failed:<NAME>` (field: the
//! log index, value: the record as JSON), MySQL in the table
//! `BackfillFailedEntry`; `--failed-entries` stays as an export.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::checkpoint::CheckpointName;
use crate::error::ErrorKind;
use crate::worker::EntryFailure;

/// One entry that could not be indexed, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureRecord {
    pub log_index: u64,
    /// Empty when the server never returned the entry (`unreadable`).
    pub uuid: String,
    pub kind: ErrorKind,
    pub error: String,
    pub first_seen: SystemTime,
    pub last_seen: SystemTime,
    /// Runs that tried this entry and failed, the first included.
    pub attempts: u64,
}

impl FailureRecord {
    /// The record of `failure` seen at `at`: new (one attempt), or
    /// `previous` with one more attempt and what failed this time.
    pub fn seen(
        failure: &EntryFailure,
        previous: Option<&FailureRecord>,
        at: SystemTime,
    ) -> FailureRecord {
        FailureRecord {
            log_index: failure.log_index,
            uuid: failure.uuid.clone(),
            kind: failure.error.kind(),
            error: failure.error.message().to_string(),
            first_seen: previous.map_or(at, |p| p.first_seen),
            last_seen: at,
            attempts: previous.map_or(1, |p| p.attempts.saturating_add(1)),
        }
    }

    /// The Redis value: `{"logIndex","uuid","kind","error","firstSeen",
    /// "lastSeen","attempts"}`, times in RFC 3339 (UTC).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "logIndex": self.log_index,
            "uuid": self.uuid,
            "kind": self.kind.as_str(),
            "error": self.error,
            "firstSeen": rfc3339(self.first_seen),
            "lastSeen": rfc3339(self.last_seen),
            "attempts": self.attempts,
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<FailureRecord, String> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Stored {
            log_index: u64,
            uuid: String,
            kind: String,
            error: String,
            first_seen: String,
            last_seen: String,
            attempts: u64,
        }
        let s: Stored = serde_json::from_str(text)
            .map_err(|e| format!("stored failure record is not valid JSON: {e}"))?;
        let time = |t: &str| {
            humantime::parse_rfc3339(t).map_err(|e| format!("stored failure record: {e}"))
        };
        Ok(FailureRecord {
            log_index: s.log_index,
            uuid: s.uuid,
            kind: ErrorKind::parse(&s.kind)
                .ok_or_else(|| format!("stored failure record: unknown kind {:?}", s.kind))?,
            error: s.error,
            first_seen: time(&s.first_seen)?,
            last_seen: time(&s.last_seen)?,
            attempts: s.attempts,
        })
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Whole seconds since the epoch (what MySQL stores), 0 before it.
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The time `seconds` after the epoch.
pub fn from_unix_seconds(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// Failure records of one checkpoint name in a backend. Only the run
/// holding the name's lease writes them.
pub trait FailureStore: Send {
    /// Every record, by ascending log index.
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Vec<FailureRecord>>;
    /// Stores each failure seen at `at`: a new record, or the stored one
    /// with one more attempt ([`FailureRecord::seen`]).
    fn record(
        &mut self,
        name: &CheckpointName,
        failures: &[EntryFailure],
        at: SystemTime,
    ) -> anyhow::Result<()>;
    /// Removes the records of `indices` (entries that are now indexed).
    fn remove(&mut self, name: &CheckpointName, indices: &[u64]) -> anyhow::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::KeyError;

    #[test]
    fn seen_keeps_first_seen_and_counts_attempts() {
        let failure = EntryFailure {
            log_index: 9,
            uuid: "ab".into(),
            error: KeyError::new(ErrorKind::Decode, "bad \"x\""),
        };
        let t0 = from_unix_seconds(1_700_000_000);
        let t1 = from_unix_seconds(1_700_000_100);
        let first = FailureRecord::seen(&failure, None, t0);
        assert_eq!(
            (first.attempts, first.first_seen, first.last_seen),
            (1, t0, t0)
        );
        let again = FailureRecord::seen(&failure, Some(&first), t1);
        assert_eq!(
            (again.attempts, again.first_seen, again.last_seen),
            (2, t0, t1)
        );
        let json = again.to_json();
        assert!(
            json.contains(r#""firstSeen":"2023-11-14T22:13:20Z""#),
            "{json}"
        );
        assert_eq!(FailureRecord::from_json(&json), Ok(again));
        assert!(FailureRecord::from_json(&json.replace("decode", "nope")).is_err());
    }
}
