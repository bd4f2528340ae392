//! Failure records in MySQL: table `BackfillFailedEntry`, one row per
//! (checkpoint name, log index), created like the checkpoint table;
//! `SELECT * FROM BackfillFailedEntry` lists them. Times are UTC
//! `DATETIME` (every connection runs in UTC).

use std::time::SystemTime;

use anyhow::anyhow;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::mysql::MysqlBackend;
use super::Backend;
use crate::checkpoint::CheckpointName;
use crate::error::ErrorKind;
use crate::failures::{from_unix_seconds, unix_seconds, FailureRecord, FailureStore};
use crate::worker::EntryFailure;

const CREATE_FAILED: &str = "CREATE TABLE IF NOT EXISTS BackfillFailedEntry (
		CheckpointKey VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
		LogIndex BIGINT NOT NULL,
		EntryUUID VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
		Kind VARCHAR(32) NOT NULL,
		Error TEXT NOT NULL,
		FirstSeen DATETIME NOT NULL,
		LastSeen DATETIME NOT NULL,
		Attempts BIGINT NOT NULL,
		PRIMARY KEY (CheckpointKey, LogIndex)
	)";

/// MySQL error: the table does not exist.
const ER_NO_SUCH_TABLE: u16 = 1146;

pub(super) struct MysqlFailureStore {
    backend: MysqlBackend,
    conn: Conn,
    /// Set after a connection-level failure: the next call reconnects.
    broken: bool,
}

impl MysqlFailureStore {
    pub(super) fn connect(backend: &MysqlBackend) -> anyhow::Result<MysqlFailureStore> {
        let mut conn = backend.connect()?;
        conn.query_drop(CREATE_FAILED).map_err(|e| {
            anyhow!(
                "{}: creating table BackfillFailedEntry failed: {}",
                backend.describe(),
                backend.explain(&e)
            )
        })?;
        Ok(MysqlFailureStore {
            backend: backend.clone(),
            conn,
            broken: false,
        })
    }

    /// A new connection if the last one broke.
    fn reconnect_if_broken(&mut self) -> anyhow::Result<()> {
        if self.broken {
            self.conn = self.backend.connect().map_err(super::outage::unavailable)?;
            self.broken = false;
        }
        Ok(())
    }

    fn failed(&mut self, what: &str, name: &CheckpointName, e: &mysql::Error) -> anyhow::Error {
        self.broken |= super::mysql::is_transient(e);
        super::mysql::failed(
            e,
            format!(
                "{}: {what} failure records of {name}: {}",
                self.backend.describe(),
                self.backend.explain(e)
            ),
        )
    }
}

fn signed(value: u64) -> anyhow::Result<i64> {
    i64::try_from(value).map_err(|_| anyhow!("log index {value} exceeds BIGINT"))
}

type Row = (i64, String, String, String, i64, i64, i64);

impl FailureStore for MysqlFailureStore {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Vec<FailureRecord>> {
        self.reconnect_if_broken()?;
        let rows: Vec<Row> = match self.conn.exec(
            "SELECT LogIndex, EntryUUID, Kind, Error, CAST(UNIX_TIMESTAMP(FirstSeen) AS SIGNED), \
             CAST(UNIX_TIMESTAMP(LastSeen) AS SIGNED), Attempts \
             FROM BackfillFailedEntry WHERE CheckpointKey = ? ORDER BY LogIndex",
            (name.as_str(),),
        ) {
            Ok(rows) => rows,
            Err(mysql::Error::MySqlError(e)) if e.code == ER_NO_SUCH_TABLE => Vec::new(),
            Err(e) => return Err(self.failed("reading", name, &e)),
        };
        rows.into_iter()
            .map(|(index, uuid, kind, error, first, last, attempts)| {
                let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
                Ok(FailureRecord {
                    log_index: u64::try_from(index)
                        .map_err(|_| anyhow!("BackfillFailedEntry: negative LogIndex {index}"))?,
                    uuid,
                    kind: ErrorKind::parse(&kind)
                        .ok_or_else(|| anyhow!("BackfillFailedEntry: unknown Kind {kind:?}"))?,
                    error,
                    first_seen: from_unix_seconds(unsigned(first)),
                    last_seen: from_unix_seconds(unsigned(last)),
                    attempts: unsigned(attempts),
                })
            })
            .collect()
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
        let at = unix_seconds(at);
        let params = failures
            .iter()
            .map(|f| {
                Ok((
                    name.as_str(),
                    signed(f.log_index)?,
                    f.uuid.as_str(),
                    f.error.kind().as_str(),
                    f.error.message(),
                    at,
                    at,
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.reconnect_if_broken()?;
        // One transaction: the records of a save are stored together.
        let result = self
            .conn
            .start_transaction(mysql::TxOpts::default())
            .and_then(|mut tx| {
                tx.exec_batch(
                    "INSERT INTO BackfillFailedEntry \
                 (CheckpointKey, LogIndex, EntryUUID, Kind, Error, FirstSeen, LastSeen, Attempts) \
                 VALUES (?, ?, ?, ?, ?, FROM_UNIXTIME(?), FROM_UNIXTIME(?), 1) \
                 ON DUPLICATE KEY UPDATE EntryUUID = VALUES(EntryUUID), Kind = VALUES(Kind), \
                 Error = VALUES(Error), LastSeen = VALUES(LastSeen), Attempts = Attempts + 1",
                    params,
                )?;
                tx.commit()
            });
        result.map_err(|e| self.failed("storing", name, &e))
    }

    fn remove(&mut self, name: &CheckpointName, indices: &[u64]) -> anyhow::Result<()> {
        let params = indices
            .iter()
            .map(|&i| Ok((name.as_str(), signed(i)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if params.is_empty() {
            return Ok(());
        }
        self.reconnect_if_broken()?;
        self.conn
            .exec_batch(
                "DELETE FROM BackfillFailedEntry WHERE CheckpointKey = ? AND LogIndex = ?",
                params,
            )
            .map_err(|e| self.failed("removing", name, &e))
    }
}
