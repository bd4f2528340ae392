//! The checkpoint: the highest log index below which every entry of the run
//! is fully written, kept in the same backend as the index.

use std::fmt;
use std::time::SystemTime;

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

    /// The Redis key that holds this checkpoint.
    pub fn redis_key(&self) -> String {
        format!("rekor-backfill:checkpoint:{}", self.0)
    }
}

impl fmt::Display for CheckpointName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a checkpoint claims: every index in `first_index..=last_completed_index`
/// is fully written. It never claims more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRecord {
    pub first_index: u64,
    pub last_completed_index: u64,
    pub last_updated: SystemTime,
}

impl CheckpointRecord {
    /// The Redis representation:
    /// `{"firstIndex":F,"lastCompletedIndex":N,"lastUpdated":"RFC3339"}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "firstIndex": self.first_index,
            "lastCompletedIndex": self.last_completed_index,
            "lastUpdated": humantime::format_rfc3339_seconds(self.last_updated).to_string(),
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Result<CheckpointRecord, String> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Stored {
            first_index: u64,
            last_completed_index: u64,
            last_updated: String,
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
        })
    }
}

/// Persistence of checkpoints in a backend.
pub trait CheckpointStore: Send {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Option<CheckpointRecord>>;
    fn save(&mut self, name: &CheckpointName, record: &CheckpointRecord) -> anyhow::Result<()>;
    fn delete(&mut self, name: &CheckpointName) -> anyhow::Result<()>;
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

    #[test]
    fn record_round_trip() {
        let r = CheckpointRecord {
            first_index: 5,
            last_completed_index: 99,
            last_updated: humantime::parse_rfc3339("2026-11-26T03:00:00Z").unwrap(),
        };
        let json = r.to_json();
        assert_eq!(
            json,
            r#"{"firstIndex":5,"lastCompletedIndex":99,"lastUpdated":"2026-11-26T03:00:00Z"}"#
        );
        assert_eq!(CheckpointRecord::from_json(&json).unwrap(), r);
        assert!(CheckpointRecord::from_json(
            r#"{"firstIndex":9,"lastCompletedIndex":3,"lastUpdated":"2026-11-26T03:00:00Z"}"#
        )
        .is_err());
    }
}
