//! Failure records in Redis: the hash `rekor-backfill:failed:<NAME>`, one
//! field per log index, the record as JSON ([`FailureRecord::to_json`]);
//! `redis-cli HGETALL rekor-backfill:failed:default` lists them.

use std::time::SystemTime;

use anyhow::anyhow;
use redis::Connection;

use super::redis::RedisBackend;
use crate::checkpoint::CheckpointName;
use crate::failures::{FailureRecord, FailureStore};
use crate::worker::EntryFailure;

/// The Redis key of checkpoint `name`'s failure records.
pub fn failures_key(name: &CheckpointName) -> String {
    format!("rekor-backfill:failed:{name}")
}

pub(super) struct RedisFailureStore {
    pub(super) backend: RedisBackend,
    pub(super) connection: Connection,
    /// Set after a connection-level failure: the next call reconnects.
    pub(super) broken: bool,
}

impl RedisFailureStore {
    /// The connection, a new one if the last one broke.
    fn connection(&mut self) -> anyhow::Result<&mut Connection> {
        if self.broken {
            self.connection = self.backend.connect().map_err(super::outage::unavailable)?;
            self.broken = false;
        }
        Ok(&mut self.connection)
    }

    fn failed(&mut self, what: &str, key: &str, e: redis::RedisError) -> anyhow::Error {
        self.broken |= super::redis::is_transient(&e);
        super::redis::failed(
            &e,
            format!("{}: {what} {key} failed: {e}", self.backend.context()),
        )
    }
}

impl FailureStore for RedisFailureStore {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Vec<FailureRecord>> {
        let key = failures_key(name);
        let values: Vec<String> = redis::cmd("HVALS")
            .arg(&key)
            .query(self.connection()?)
            .map_err(|e| self.failed("HVALS", &key, e))?;
        let mut records = values
            .iter()
            .map(|v| {
                FailureRecord::from_json(v)
                    .map_err(|e| anyhow!("{}: {key}: {e}", self.backend.context()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        records.sort_by_key(|r| r.log_index);
        Ok(records)
    }

    fn record(
        &mut self,
        name: &CheckpointName,
        failures: &[EntryFailure],
        at: SystemTime,
    ) -> anyhow::Result<()> {
        if failures.is_empty() {
            return Ok(());
        }
        let key = failures_key(name);
        let fields: Vec<u64> = failures.iter().map(|f| f.log_index).collect();
        let stored: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&key)
            .arg(&fields)
            .query(self.connection()?)
            .map_err(|e| self.failed("HMGET", &key, e))?;
        let mut hset = redis::cmd("HSET");
        hset.arg(&key);
        for (failure, previous) in failures.iter().zip(stored) {
            // An unreadable previous value is replaced, not fatal.
            let previous = previous.and_then(|v| FailureRecord::from_json(&v).ok());
            let record = FailureRecord::seen(failure, previous.as_ref(), at);
            hset.arg(record.log_index).arg(record.to_json());
        }
        hset.query::<()>(self.connection()?)
            .map_err(|e| self.failed("HSET", &key, e))
    }

    fn remove(&mut self, name: &CheckpointName, indices: &[u64]) -> anyhow::Result<()> {
        if indices.is_empty() {
            return Ok(());
        }
        let key = failures_key(name);
        redis::cmd("HDEL")
            .arg(&key)
            .arg(indices)
            .query::<()>(&mut self.connection)
            .map_err(|e| self.failed("HDEL", &key, e))
    }
}
