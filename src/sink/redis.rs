//! The Redis index: one list per key, holding entry UUIDs, as Rekor's Redis
//! index storage keeps it.
//!
//! Keys are lowercased with Go's `strings.ToLower` before writing, because
//! the server lowercases every key it writes and every key it looks up
//! (docs/INDEX_KEYS.md §6, §10); a key written as computed would never be found.
//! Each (key, uuid) is written as `LREM key 0 uuid` + `LPUSH key uuid`, so a
//! rerun leaves exactly one copy at the head of the list. A whole batch goes
//! out as one pipeline: one round trip instead of two per key.
//!
//! Timeouts on connect and on every reply turn a dead or stuck server into
//! an error instead of a hung run.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use redis::{
    Client, Connection, ConnectionAddr, ConnectionInfo, ConnectionLike, IntoConnectionInfo,
    RedisConnectionInfo,
};

use super::{host_port, init_tls, Backend, IndexedEntry, Sink, SinkError, WriteError};
use crate::checkpoint::{CheckpointName, CheckpointRecord, CheckpointStore};
use crate::lease::{Lease, Owner};
use crate::pki::gostr;
use crate::redact::Secret;

/// Covers TCP connect, TLS handshake and AUTH.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// For each reply; a pipeline of a large batch is still answered in well
/// under a second by a healthy server.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// Commands per pipeline, to bound client and server buffers for very
/// large batches.
const MAX_PIPELINE_COMMANDS: usize = 10_000;

/// The Redis backend as chosen by the `--redis-*` flags.
#[derive(Clone, Debug)]
pub struct RedisBackend {
    pub host: String,
    pub port: u16,
    /// `None` or an empty secret: no AUTH (like go-redis with `Password: ""`).
    pub password: Option<Secret>,
    pub tls: bool,
    /// Accept any certificate (`--redis-insecure-skip-verify`); only with `tls`.
    pub insecure_skip_verify: bool,
}

impl RedisBackend {
    fn address(&self) -> String {
        host_port(&self.host, self.port)
    }

    /// The prefix of every error message: where, without secrets.
    pub(super) fn context(&self) -> String {
        format!("redis {}", self.address())
    }

    fn connection_info(&self) -> anyhow::Result<ConnectionInfo> {
        let addr = if self.tls {
            ConnectionAddr::TcpTls {
                host: self.host.clone(),
                port: self.port,
                insecure: self.insecure_skip_verify,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(self.host.clone(), self.port)
        };
        // Without CLIENT SETINFO the handshake is at most one reply (AUTH),
        // so a silent server fails after one CONNECT_TIMEOUT, not three.
        let mut redis = RedisConnectionInfo::default().set_skip_set_lib_name();
        if let Some(password) = self.password.as_ref().filter(|p| !p.is_empty()) {
            redis = redis.set_password(password.expose());
        }
        Ok(addr
            .into_connection_info()
            .with_context(|| self.context())?
            .set_redis_settings(redis))
    }

    /// A connection with reply timeouts set.
    pub(super) fn connect(&self) -> anyhow::Result<Connection> {
        init_tls();
        let info = self.connection_info()?;
        let client = Client::open(info).with_context(|| self.context())?;
        let connection = client
            .get_connection_with_timeout(CONNECT_TIMEOUT)
            .map_err(|e| {
                anyhow!(
                    "{}: connect failed: {}{}",
                    self.context(),
                    explain(&e, CONNECT_TIMEOUT),
                    self.tls_hint()
                )
            })?;
        // A PING under the connect timeout proves the server answers, also
        // when there was no AUTH to wait for.
        let mut connection = connection;
        let timeouts = |connection: &Connection, timeout| {
            connection
                .set_read_timeout(Some(timeout))
                .and_then(|()| connection.set_write_timeout(Some(timeout)))
                .with_context(|| format!("{}: setting timeouts", self.context()))
        };
        timeouts(&connection, CONNECT_TIMEOUT)?;
        redis::cmd("PING")
            .query::<()>(&mut connection)
            .map_err(|e| {
                anyhow!(
                    "{}: connect failed: PING: {}",
                    self.context(),
                    explain(&e, CONNECT_TIMEOUT)
                )
            })?;
        timeouts(&connection, IO_TIMEOUT)?;
        Ok(connection)
    }

    /// A TLS handshake against a plain server (or the reverse) fails with
    /// an obscure protocol error; say what the likely cause is.
    fn tls_hint(&self) -> &'static str {
        if self.tls {
            " (TLS was requested with --redis-enable-tls; does the server accept TLS on this port?)"
        } else {
            ""
        }
    }
}

impl Backend for RedisBackend {
    fn describe(&self) -> String {
        let tls = match (self.tls, self.insecure_skip_verify) {
            (false, _) => "",
            (true, false) => " (tls)",
            (true, true) => " (tls, certificate not verified)",
        };
        format!("redis {}{tls}", self.address())
    }

    fn connect_sink(&self) -> anyhow::Result<Box<dyn Sink>> {
        let mut connection = self.connect()?;
        let run_id = run_id(&mut connection);
        Ok(Box::new(RedisSink {
            backend: self.clone(),
            connection: Some(connection),
            run_id,
        }))
    }

    fn connect_checkpoint_store(
        &self,
        read_only: bool,
    ) -> anyhow::Result<Box<dyn CheckpointStore>> {
        let connection = self.connect()?;
        Ok(Box::new(RedisCheckpointStore {
            backend: self.clone(),
            connection,
            read_only,
        }))
    }

    fn acquire_lease(
        &self,
        name: &CheckpointName,
        owner: &Owner,
    ) -> anyhow::Result<Box<dyn Lease>> {
        super::redis_lease::acquire(self, name, owner)
    }
}

/// One worker's connection. After a connection-level failure the
/// connection is dropped and a new one is opened, but only to the same
/// server process.
struct RedisSink {
    backend: RedisBackend,
    connection: Option<Connection>,
    /// The server process the sink first connected to (`INFO server`).
    /// A restarted server may have lost acknowledged writes (no or lazy
    /// persistence), and a run that carried on would then checkpoint past
    /// them; so a sink never continues on a different process.
    run_id: Option<String>,
}

impl RedisSink {
    fn write_once(
        &mut self,
        pipelines: &[redis::Pipeline],
    ) -> Result<(), WriteError<redis::RedisError>> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.reconnect().map_err(WriteError::Connect)?,
        };
        let connection = self.connection.insert(connection);
        for pipeline in pipelines {
            if let Err(e) = pipeline.query::<()>(connection) {
                if e.is_unrecoverable_error() || !connection.is_open() {
                    self.connection = None;
                }
                return Err(WriteError::Backend(e));
            }
        }
        Ok(())
    }

    /// A new connection to the same server process.
    fn reconnect(&self) -> anyhow::Result<Connection> {
        let mut connection = self.backend.connect()?;
        let now = run_id(&mut connection);
        match (&self.run_id, &now) {
            (Some(before), Some(now)) if before == now => Ok(connection),
            (Some(_), Some(_)) => bail!(
                "{}: the server restarted during the run (its run_id changed); index writes \
                 acknowledged before the restart may be lost, so the run must not continue \
                 on this connection — rerun: it resumes from the checkpoint the server still \
                 holds (or starts over if the restart lost it too)",
                self.backend.context()
            ),
            _ => bail!(
                "{}: cannot tell whether the server restarted (no run_id in INFO server); \
                 not reconnecting",
                self.backend.context()
            ),
        }
    }
}

impl Sink for RedisSink {
    fn write(&mut self, entries: &[IndexedEntry]) -> Result<(), SinkError> {
        let pipelines = build_pipelines(entries);
        if pipelines.is_empty() {
            return Ok(());
        }
        let context = self.backend.context();
        let keys: usize = entries.iter().map(|e| e.keys.len()).sum();
        let fail = |e: WriteError<redis::RedisError>| {
            SinkError(match e {
                WriteError::Connect(e) => e.context("reconnecting after a lost connection"),
                WriteError::Backend(e) => anyhow!(
                    "{context}: writing {keys} keys of {} entries (LREM+LPUSH) failed: {}",
                    entries.len(),
                    explain(&e, IO_TIMEOUT)
                ),
            })
        };
        match self.write_once(&pipelines) {
            Ok(()) => Ok(()),
            // The connection broke (idle timeout at a proxy, network blip):
            // the writes are idempotent, so redo the whole batch once on a
            // new connection to the same server. Not after a timeout: the
            // server is alive but stuck, and waiting again would double the
            // delay before the error.
            Err(WriteError::Backend(e))
                if (e.is_connection_dropped() || self.connection.is_none()) && !e.is_timeout() =>
            {
                log::warn!("{context}: connection lost ({e}); reconnecting and retrying the batch");
                self.connection = None;
                self.write_once(&pipelines).map_err(fail)
            }
            Err(e) => Err(fail(e)),
        }
    }
}

/// The server process's `run_id`, which changes on every restart.
fn run_id(connection: &mut Connection) -> Option<String> {
    let info: String = redis::cmd("INFO").arg("server").query(connection).ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("run_id:"))
        .map(|id| id.trim().to_string())
}

/// The error text, with a read timeout spelled out (the OS says only
/// "Resource temporarily unavailable").
fn explain(e: &redis::RedisError, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {}s ({e})", timeout.as_secs())
    } else {
        e.to_string()
    }
}

/// `LREM k 0 uuid` + `LPUSH k uuid` for each key of each entry, keys
/// lowercased, split into pipelines of at most [`MAX_PIPELINE_COMMANDS`].
fn build_pipelines(entries: &[IndexedEntry]) -> Vec<redis::Pipeline> {
    let mut pipelines = Vec::new();
    let mut pipeline = redis::pipe();
    let mut commands = 0;
    for entry in entries {
        for key in &entry.keys {
            let key = gostr::to_lower(key);
            pipeline
                .cmd("LREM")
                .arg(&key)
                .arg(0)
                .arg(&entry.uuid)
                .ignore()
                .cmd("LPUSH")
                .arg(&key)
                .arg(&entry.uuid)
                .ignore();
            commands += 2;
            if commands >= MAX_PIPELINE_COMMANDS {
                pipelines.push(std::mem::replace(&mut pipeline, redis::pipe()));
                commands = 0;
            }
        }
    }
    if commands > 0 {
        pipelines.push(pipeline);
    }
    pipelines
}

/// Checkpoints as JSON strings under [`CheckpointName::redis_key`].
struct RedisCheckpointStore {
    backend: RedisBackend,
    connection: Connection,
    /// Dry run: `save` and `delete` do nothing.
    read_only: bool,
}

impl CheckpointStore for RedisCheckpointStore {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Option<CheckpointRecord>> {
        let key = name.redis_key();
        let stored: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query(&mut self.connection)
            .map_err(|e| anyhow!("{}: GET {key} failed: {e}", self.backend.context()))?;
        stored
            .map(|json| {
                CheckpointRecord::from_json(&json)
                    .map_err(|e| anyhow!("{}: checkpoint {key}: {e}", self.backend.context()))
            })
            .transpose()
    }

    fn save(&mut self, name: &CheckpointName, record: &CheckpointRecord) -> anyhow::Result<()> {
        let key = name.redis_key();
        if self.read_only {
            log::debug!("dry run: not saving checkpoint {key}");
            return Ok(());
        }
        redis::cmd("SET")
            .arg(&key)
            .arg(record.to_json())
            .query::<()>(&mut self.connection)
            .map_err(|e| anyhow!("{}: SET {key} failed: {e}", self.backend.context()))
    }

    fn delete(&mut self, name: &CheckpointName) -> anyhow::Result<()> {
        let key = name.redis_key();
        if self.read_only {
            log::debug!("dry run: not deleting checkpoint {key}");
            return Ok(());
        }
        redis::cmd("DEL")
            .arg(&key)
            .query::<()>(&mut self.connection)
            .map_err(|e| anyhow!("{}: DEL {key} failed: {e}", self.backend.context()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(tls: bool, insecure: bool) -> RedisBackend {
        RedisBackend {
            host: "127.0.0.1".to_string(),
            port: 16379,
            password: Some(Secret::new("hunter2")),
            tls,
            insecure_skip_verify: insecure,
        }
    }

    #[test]
    fn describe_has_no_password() {
        assert_eq!(backend(false, false).describe(), "redis 127.0.0.1:16379");
        assert_eq!(
            backend(true, false).describe(),
            "redis 127.0.0.1:16379 (tls)"
        );
        assert!(backend(true, true).describe().contains("not verified"));
        assert!(!format!("{:?}", backend(false, false)).contains("hunter2"));
        let v6 = RedisBackend {
            host: "::1".to_string(),
            ..backend(false, false)
        };
        assert_eq!(v6.describe(), "redis [::1]:16379");
    }

    #[test]
    fn pipelines_lowercase_and_pair_commands() {
        let entries = vec![
            IndexedEntry {
                uuid: "u1".to_string(),
                keys: vec!["SHA256:AB".to_string(), "İx".to_string()],
            },
            IndexedEntry {
                uuid: "u2".to_string(),
                keys: vec!["k".to_string()],
            },
        ];
        let pipelines = build_pipelines(&entries);
        assert_eq!(pipelines.len(), 1);
        let packed = String::from_utf8_lossy(&pipelines[0].get_packed_pipeline()).into_owned();
        let expected: String = [
            ("LREM", "sha256:ab", Some("0"), "u1"),
            ("LPUSH", "sha256:ab", None, "u1"),
            ("LREM", "ix", Some("0"), "u1"),
            ("LPUSH", "ix", None, "u1"),
            ("LREM", "k", Some("0"), "u2"),
            ("LPUSH", "k", None, "u2"),
        ]
        .iter()
        .map(|(cmd, key, count, uuid)| {
            let args: Vec<&str> = [Some(*cmd), Some(*key), *count, Some(*uuid)]
                .into_iter()
                .flatten()
                .collect();
            let mut resp = format!("*{}\r\n", args.len());
            for arg in args {
                resp.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
            }
            resp
        })
        .collect();
        assert_eq!(packed, expected);
        assert!(build_pipelines(&[]).is_empty());
    }

    #[test]
    fn large_batches_are_split() {
        let entries = vec![IndexedEntry {
            uuid: "u".to_string(),
            keys: (0..MAX_PIPELINE_COMMANDS + 1)
                .map(|i| format!("k{i}"))
                .collect(),
        }];
        // two commands per key
        let pipelines = build_pipelines(&entries);
        assert_eq!(pipelines.len(), 3);
        let commands: usize = pipelines.iter().map(|p| p.cmd_iter().count()).sum();
        assert_eq!(commands, 2 * (MAX_PIPELINE_COMMANDS + 1));
    }
}
