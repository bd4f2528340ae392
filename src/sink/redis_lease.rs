//! The lease of a checkpoint in Redis: key `rekor-backfill:lock:<NAME>`
//! holding the owner's token, taken with `SET … NX PX` and living
//! [`LEASE_TTL`] unless renewed.
//!
//! Renewal and release compare the stored token with ours in one Lua
//! script, so a run whose lease expired (a long stall) never extends or
//! deletes the lease a second run has taken since.

use anyhow::anyhow;
use redis::Connection;

use super::redis::RedisBackend;
use crate::checkpoint::CheckpointName;
use crate::lease::{Lease, LeaseHeld, Owner, LEASE_TTL};

/// Extends the lease only if it is still ours: 1 if extended, 0 if not.
const RENEW: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                     return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
/// Deletes the lease only if it is still ours.
const RELEASE: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                       return redis.call('del', KEYS[1]) else return 0 end";

/// The Redis key of a checkpoint's lease.
pub fn lease_key(name: &CheckpointName) -> String {
    format!("rekor-backfill:lock:{name}")
}

fn ttl_ms() -> u64 {
    LEASE_TTL.as_millis() as u64
}

pub(super) fn acquire(
    backend: &RedisBackend,
    name: &CheckpointName,
    owner: &Owner,
) -> anyhow::Result<Box<dyn Lease>> {
    let mut connection = backend.connect()?;
    let key = lease_key(name);
    let token = owner.token();
    let failed =
        |what: &str, e: redis::RedisError| anyhow!("{}: {what} {key}: {e}", backend.context());
    // The holder may expire between a refused SET and the GET: then try
    // once more, and report the holder seen after that.
    for _ in 0..2 {
        let taken: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms())
            .query(&mut connection)
            .map_err(|e| failed("SET NX", e))?;
        if taken.is_some() {
            return Ok(Box::new(RedisLease {
                backend: backend.clone(),
                connection,
                broken: false,
                key,
                token,
            }));
        }
        let holder: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query(&mut connection)
            .map_err(|e| failed("GET", e))?;
        if let Some(holder) = holder {
            let (holder, since) = Owner::parse_token(&holder);
            return Err(LeaseHeld {
                name: name.clone(),
                holder: Some(holder),
                since,
            }
            .into());
        }
    }
    Err(LeaseHeld {
        name: name.clone(),
        holder: None,
        since: None,
    }
    .into())
}

struct RedisLease {
    backend: RedisBackend,
    connection: Connection,
    /// The connection broke (a restart or failover): the next renewal
    /// reconnects, and takes the lease again if the key is gone (a server
    /// without persistence, or expired during the outage) and no other run
    /// took it meanwhile.
    broken: bool,
    key: String,
    token: String,
}

impl RedisLease {
    fn eval(&mut self, script: &str, ttl: Option<u64>) -> redis::RedisResult<i64> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(script).arg(1).arg(&self.key).arg(&self.token);
        if let Some(ttl) = ttl {
            cmd.arg(ttl);
        }
        cmd.query(&mut self.connection)
    }
}

impl Lease for RedisLease {
    fn renew(&mut self) -> anyhow::Result<()> {
        let context = self.backend.context();
        if self.broken {
            self.connection = self.backend.connect().map_err(super::outage::unavailable)?;
            self.broken = false;
        }
        let key = self.key.clone();
        let failed = |e: redis::RedisError, what: &str| {
            super::redis::failed(&e, format!("{context}: {what} {key}: {e}"))
        };
        let renewed = match self.eval(RENEW, Some(ttl_ms())) {
            Ok(n) => n == 1,
            Err(e) => {
                self.broken = super::redis::is_transient(&e);
                return Err(failed(e, "renewing"));
            }
        };
        if renewed {
            return Ok(());
        }
        // Gone (not someone else's): take it again.
        let taken: Option<String> = redis::cmd("SET")
            .arg(&self.key)
            .arg(&self.token)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms())
            .query(&mut self.connection)
            .map_err(|e| failed(e, "SET NX"))?;
        match taken {
            Some(_) => {
                log::warn!(
                    "{context}: {} had vanished (expired during an outage, or the server lost it); taken again",
                    self.key
                );
                Ok(())
            }
            None => Err(anyhow!(
                "{context}: {} no longer holds this run's token (it expired or another run took it)",
                self.key
            )),
        }
    }

    fn release(&mut self) -> anyhow::Result<()> {
        let mut result = self.eval(RELEASE, None);
        // A connection that broke in an outage the run survived: once more
        // on a new one, so the next run need not wait for the TTL.
        if matches!(&result, Err(e) if super::redis::is_transient(e)) {
            if let Ok(connection) = self.backend.connect() {
                self.connection = connection;
                result = self.eval(RELEASE, None);
            }
        }
        result
            .map(|_| ())
            .map_err(|e| anyhow!("{}: releasing {}: {e}", self.backend.context(), self.key))
    }
}
