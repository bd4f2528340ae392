//! The checkpoint: the highest log index below which every entry of the run
//! is fully written, kept in the same backend as the index, with the trees
//! of the log it belongs to ([`LogBinding`]).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::log_layout::{LogBinding, LogLayout};
use crate::watermark::{MarkError, Watermark};

/// Even with a large `--checkpoint-interval`, a moved watermark is saved at
/// least this often, so a kill costs at most a few seconds of repeated work.
const SAVE_AT_LEAST_EVERY: Duration = Duration::from_secs(5);

/// A validated `--checkpoint-key`: 1–128 characters of `[A-Za-z0-9._:-]`,
/// so it is safe as part of a Redis key and as a MySQL primary key value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointName(String);

impl CheckpointName {
    pub fn parse(name: &str) -> Result<CheckpointName, String> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
        if name.is_empty() || name.len() > 128 {
            return Err(format!(
                "--checkpoint-key must be 1 to 128 characters long, got {}",
                name.len()
            ));
        }
        if let Some(bad) = name.chars().find(|&c| !valid_char(c)) {
            return Err(format!(
                "--checkpoint-key may only contain A-Z a-z 0-9 . _ : -, found {bad:?}"
            ));
        }
        Ok(CheckpointName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CheckpointName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a checkpoint claims: every index in `first_index..=last_completed_index`
/// of the log whose trees `log` lists is fully written. It never claims more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub first_index: u64,
    pub last_completed_index: u64,
    pub last_updated: SystemTime,
    /// The trees the range covers; `None` in a checkpoint written before
    /// checkpoints recorded them (accepted once, then upgraded).
    pub log: Option<LogBinding>,
}

impl CheckpointRecord {
    /// The Redis representation:
    /// `{"firstIndex":F,"lastCompletedIndex":N,"lastUpdated":"RFC3339","log":[…]}`.
    pub fn to_json(&self) -> String {
        let mut json = serde_json::json!({
            "firstIndex": self.first_index,
            "lastCompletedIndex": self.last_completed_index,
            "lastUpdated": humantime::format_rfc3339_seconds(self.last_updated).to_string(),
        });
        if let Some(log) = &self.log {
            json["log"] = serde_json::json!(log);
        }
        json.to_string()
    }

    pub fn from_json(text: &str) -> Result<CheckpointRecord, String> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Stored {
            first_index: u64,
            last_completed_index: u64,
            last_updated: String,
            #[serde(default)]
            log: Option<LogBinding>,
        }
        let stored: Stored = serde_json::from_str(text)
            .map_err(|e| format!("stored checkpoint is not valid JSON: {e}"))?;
        let last_updated = humantime::parse_rfc3339(&stored.last_updated)
            .map_err(|e| format!("stored checkpoint has a bad lastUpdated: {e}"))?;
        if stored.last_completed_index < stored.first_index {
            return Err(format!(
                "stored checkpoint is inconsistent: lastCompletedIndex {} < firstIndex {}",
                stored.last_completed_index, stored.first_index
            ));
        }
        Ok(CheckpointRecord {
            first_index: stored.first_index,
            last_completed_index: stored.last_completed_index,
            last_updated,
            log: stored.log,
        })
    }
}

/// Persistence of checkpoints in a backend.
pub trait CheckpointStore: Send {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Option<CheckpointRecord>>;
    fn save(&mut self, name: &CheckpointName, record: &CheckpointRecord) -> anyhow::Result<()>;
    fn delete(&mut self, name: &CheckpointName) -> anyhow::Result<()>;
}

/// The watermark of a run and when to persist it.
pub struct Checkpointer {
    name: CheckpointName,
    /// `None` when checkpointing is off or in a dry run: nothing is saved.
    store: Option<Box<dyn CheckpointStore>>,
    /// `firstIndex` of the record: kept from the checkpoint we resumed.
    first_index: u64,
    watermark: Watermark,
    interval: u64,
    saved_next: u64,
    last_save: Instant,
    saved: Option<u64>,
    /// The log the run indexes; saved records are bound to it.
    layout: Option<LogLayout>,
    /// Set when the run's lease is lost: nothing is saved any more, since
    /// the checkpoint may belong to another run by now.
    lease_lost: Option<Arc<AtomicBool>>,
}

impl Checkpointer {
    /// `first_index` is the record's first index; `resume_at` the first
    /// index this run processes (`first_index` for a fresh run).
    pub fn new(
        name: CheckpointName,
        store: Option<Box<dyn CheckpointStore>>,
        first_index: u64,
        resume_at: u64,
        interval: u64,
    ) -> Checkpointer {
        Checkpointer {
            name,
            store,
            first_index,
            watermark: Watermark::new(resume_at),
            interval: interval.max(1),
            saved_next: resume_at,
            last_save: Instant::now(),
            saved: resume_at.checked_sub(1).filter(|_| resume_at > first_index),
            layout: None,
            lease_lost: None,
        }
    }

    /// Saved records name the trees of `layout` that their range covers.
    pub fn bound_to(mut self, layout: LogLayout) -> Checkpointer {
        self.layout = Some(layout);
        self
    }

    /// Saves stop once `lost` is set.
    pub fn guarded_by(mut self, lost: Arc<AtomicBool>) -> Checkpointer {
        self.lease_lost = Some(lost);
        self
    }

    pub fn complete(&mut self, index: u64) -> Result<u64, MarkError> {
        self.watermark.complete(index)
    }

    /// Lowest index not yet complete.
    pub fn next(&self) -> u64 {
        self.watermark.next()
    }

    /// Last `lastCompletedIndex` known to be stored.
    pub fn saved(&self) -> Option<u64> {
        self.saved
    }

    /// Saves if the watermark moved by the interval, or moved at all and the
    /// last save is older than a few seconds.
    pub fn maybe_save(&mut self) -> anyhow::Result<()> {
        if self.due() {
            self.save_now()?;
        }
        Ok(())
    }

    /// Whether [`Checkpointer::maybe_save`] would save now: what must be
    /// durable before a save (failure records) is made so first.
    pub fn due(&self) -> bool {
        let moved = self.next() - self.saved_next;
        moved >= self.interval || (moved > 0 && self.last_save.elapsed() >= SAVE_AT_LEAST_EVERY)
    }

    /// Saves if the watermark moved since the last save.
    pub fn save_now(&mut self) -> anyhow::Result<()> {
        let next = self.next();
        if next == self.saved_next || next <= self.first_index {
            return Ok(());
        }
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        if self
            .lease_lost
            .as_ref()
            .is_some_and(|lost| lost.load(Ordering::SeqCst))
        {
            log::warn!(
                "Checkpoint {} not saved: the lease is lost (would have been {}..={})",
                self.name,
                self.first_index,
                next - 1
            );
            return Ok(());
        }
        let record = CheckpointRecord {
            first_index: self.first_index,
            last_completed_index: next - 1,
            last_updated: SystemTime::now(),
            log: self
                .layout
                .as_ref()
                .map(|layout| layout.binding(self.first_index..=next - 1)),
        };
        store.save(&self.name, &record)?;
        log::debug!(
            "Checkpoint {} saved: indices {}..={} complete",
            self.name,
            record.first_index,
            record.last_completed_index
        );
        self.saved_next = next;
        self.last_save = Instant::now();
        self.saved = Some(record.last_completed_index);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_names() {
        assert!(CheckpointName::parse("default").is_ok());
        assert!(CheckpointName::parse("prod.shard-2:redis_a").is_ok());
        assert!(CheckpointName::parse(&"a".repeat(128)).is_ok());
        assert!(CheckpointName::parse(&"a".repeat(129)).is_err());
        assert!(CheckpointName::parse("").is_err());
        assert!(CheckpointName::parse("a b").is_err());
        assert!(CheckpointName::parse("a/b").is_err());
        assert!(CheckpointName::parse("é").is_err());
    }

    /// A store that remembers every save, for checking the save policy.
    struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<CheckpointRecord>>>);

    impl CheckpointStore for Recorder {
        fn load(&mut self, _: &CheckpointName) -> anyhow::Result<Option<CheckpointRecord>> {
            Ok(self.0.lock().unwrap().last().cloned())
        }
        fn save(&mut self, _: &CheckpointName, r: &CheckpointRecord) -> anyhow::Result<()> {
            self.0.lock().unwrap().push(r.clone());
            Ok(())
        }
        fn delete(&mut self, _: &CheckpointName) -> anyhow::Result<()> {
            self.0.lock().unwrap().clear();
            Ok(())
        }
    }

    #[test]
    fn saves_follow_the_interval_and_never_claim_a_gap() {
        let saves = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let name = CheckpointName::parse("t").unwrap();
        let mut c = Checkpointer::new(name, Some(Box::new(Recorder(saves.clone()))), 5, 5, 3);
        // 6 and 7 done, 5 missing: nothing can be claimed.
        c.complete(6).unwrap();
        c.complete(7).unwrap();
        c.maybe_save().unwrap();
        c.save_now().unwrap();
        assert!(saves.lock().unwrap().is_empty());
        c.complete(5).unwrap(); // 5..=7 complete: moved by 3 = interval
        c.maybe_save().unwrap();
        c.complete(8).unwrap(); // moved by 1 < interval
        c.maybe_save().unwrap();
        let got: Vec<(u64, u64)> = saves
            .lock()
            .unwrap()
            .iter()
            .map(|r| (r.first_index, r.last_completed_index))
            .collect();
        assert_eq!(got, [(5, 7)]);
        c.save_now().unwrap();
        c.save_now().unwrap(); // nothing moved: no second write
        assert_eq!(saves.lock().unwrap().len(), 2);
        assert_eq!(c.saved(), Some(8));
    }

    #[test]
    fn resumed_run_keeps_first_index() {
        let saves = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let name = CheckpointName::parse("t").unwrap();
        let mut c = Checkpointer::new(name, Some(Box::new(Recorder(saves.clone()))), 0, 100, 1);
        assert_eq!(c.saved(), Some(99));
        c.complete(100).unwrap();
        c.maybe_save().unwrap();
        let r = saves.lock().unwrap()[0].clone();
        assert_eq!((r.first_index, r.last_completed_index), (0, 100));
    }

    #[test]
    fn record_round_trip() {
        let r = CheckpointRecord {
            first_index: 5,
            last_completed_index: 99,
            last_updated: humantime::parse_rfc3339("2026-11-26T03:00:00Z").unwrap(),
            log: None,
        };
        let json = r.to_json();
        assert_eq!(
            json,
            r#"{"firstIndex":5,"lastCompletedIndex":99,"lastUpdated":"2026-11-26T03:00:00Z"}"#
        );
        assert_eq!(CheckpointRecord::from_json(&json).unwrap(), r);
        let bound = CheckpointRecord {
            log: Some(LogLayout::new(vec![], ("42".to_string(), 100)).binding(5..=99)),
            ..r
        };
        let json = bound.to_json();
        assert!(
            json.ends_with(r#","log":[{"startIndex":0,"treeID":"42","treeSize":100}]}"#),
            "{json}"
        );
        assert_eq!(CheckpointRecord::from_json(&json).unwrap(), bound);
        assert!(CheckpointRecord::from_json(
            r#"{"firstIndex":9,"lastCompletedIndex":3,"lastUpdated":"2026-11-26T03:00:00Z"}"#
        )
        .is_err());
    }
}
