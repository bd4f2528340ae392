//! The lease of a checkpoint in MySQL: the named lock
//! `GET_LOCK('rekor-backfill:<NAME>', 0)` on a connection of its own.
//!
//! The server holds the lock for as long as that connection lives and
//! drops it when the connection dies (a SIGKILLed run's socket is closed by
//! the kernel), so it needs no time to live. "Renewing" checks that this
//! connection still holds it, which also keeps the connection from idling
//! into `wait_timeout`. Named locks are server-wide, not per database.
//!
//! A lock carries no data, so the holder also upserts a row of
//! `BackfillLease` (name, owner, since) after taking it: only for the
//! message of a second run; the lock alone decides.

use anyhow::anyhow;
use mysql::prelude::Queryable;
use mysql::Conn;

use super::mysql::MysqlBackend;
use super::Backend;
use crate::checkpoint::CheckpointName;
use crate::lease::{mysql_lock_name, Lease, LeaseHeld, Owner};

const CREATE_LEASE: &str = "CREATE TABLE IF NOT EXISTS BackfillLease (
		CheckpointKey VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
		Owner VARCHAR(400) NOT NULL,
		Since VARCHAR(40) NOT NULL
	)";

pub(super) fn acquire(
    backend: &MysqlBackend,
    name: &CheckpointName,
    owner: &Owner,
) -> anyhow::Result<Box<dyn Lease>> {
    let mut conn = backend.connect()?;
    let lock = mysql_lock_name(name);
    let context = || format!("{}: lease on checkpoint {name}", backend.describe());
    let got: Option<Option<i64>> = conn
        .exec_first("SELECT GET_LOCK(?, 0)", (&lock,))
        .map_err(|e| anyhow!("{}: GET_LOCK: {}", context(), backend.explain(&e)))?;
    match got.flatten() {
        Some(1) => {}
        Some(_) => return Err(held(&mut conn, name).into()),
        None => return Err(anyhow!("{}: GET_LOCK returned NULL", context())),
    }
    let record = conn.query_drop(CREATE_LEASE).and_then(|()| {
        conn.exec_drop(
            "INSERT INTO BackfillLease (CheckpointKey, Owner, Since) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE Owner = ?, Since = ?",
            (
                name.as_str(),
                owner.id(),
                owner.since(),
                owner.id(),
                owner.since(),
            ),
        )
    });
    if let Err(e) = record {
        return Err(anyhow!(
            "{}: recording the holder in BackfillLease: {}",
            context(),
            backend.explain(&e)
        ));
    }
    Ok(Box::new(MysqlLease {
        backend: backend.clone(),
        conn,
        broken: false,
        lock,
        name: name.clone(),
        owner: owner.id().to_string(),
    }))
}

/// Who holds the lock, as far as `BackfillLease` says; reads only.
fn held(conn: &mut Conn, name: &CheckpointName) -> LeaseHeld {
    let row: Option<(String, String)> = conn
        .exec_first(
            "SELECT Owner, Since FROM BackfillLease WHERE CheckpointKey = ?",
            (name.as_str(),),
        )
        .unwrap_or(None);
    LeaseHeld {
        name: name.clone(),
        holder: row.as_ref().map(|(owner, _)| owner.clone()),
        since: row.map(|(_, since)| since),
    }
}

struct MysqlLease {
    backend: MysqlBackend,
    conn: Conn,
    /// The connection broke (a restart or failover): the lock went with
    /// it, and the next renewal takes it again on a new connection, if no
    /// other run took it meanwhile.
    broken: bool,
    lock: String,
    name: CheckpointName,
    owner: String,
}

impl MysqlLease {
    /// The lock again on a new connection, unless another run holds it.
    fn retake(&mut self) -> anyhow::Result<()> {
        let describe = self.backend.describe();
        self.conn = self.backend.connect().map_err(super::outage::unavailable)?;
        let got: Result<Option<Option<i64>>, _> =
            self.conn.exec_first("SELECT GET_LOCK(?, 0)", (&self.lock,));
        let got = got.map_err(|e| {
            super::mysql::failed(
                &e,
                format!(
                    "{describe}: GET_LOCK {}: {}",
                    self.lock,
                    self.backend.explain(&e)
                ),
            )
        })?;
        match got.flatten() {
            Some(1) => {
                self.broken = false;
                log::warn!(
                    "{describe}: lock {} taken again after the connection was lost",
                    self.lock
                );
                Ok(())
            }
            _ => Err(anyhow!(
                "{describe}: the lock {} was lost with the connection and another run holds it now",
                self.lock
            )),
        }
    }
}

impl Lease for MysqlLease {
    fn renew(&mut self) -> anyhow::Result<()> {
        if self.broken {
            return self.retake();
        }
        let mine: Result<Option<Option<i64>>, _> = self
            .conn
            .exec_first("SELECT IS_USED_LOCK(?) = CONNECTION_ID()", (&self.lock,));
        let mine = mine.map_err(|e| {
            self.broken = super::mysql::is_transient(&e);
            super::mysql::failed(
                &e,
                format!(
                    "{}: checking the lock {}: {} (a lost connection loses the lock)",
                    self.backend.describe(),
                    self.lock,
                    self.backend.explain(&e)
                ),
            )
        })?;
        match mine.flatten() {
            Some(1) => Ok(()),
            _ => Err(anyhow!(
                "{}: this connection no longer holds the lock {}",
                self.backend.describe(),
                self.lock
            )),
        }
    }

    fn release(&mut self) -> anyhow::Result<()> {
        let _ = self.conn.exec_drop(
            "DELETE FROM BackfillLease WHERE CheckpointKey = ? AND Owner = ?",
            (self.name.as_str(), &self.owner),
        );
        self.conn
            .exec_drop("DO RELEASE_LOCK(?)", (&self.lock,))
            .map_err(|e| {
                anyhow!(
                    "{}: releasing the lock {}: {}",
                    self.backend.describe(),
                    self.lock,
                    self.backend.explain(&e)
                )
            })
    }
}
