//! The Redis index: one list per key, holding entry UUIDs, as Rekor's Redis
//! index storage keeps it.
//!
//! Keys are lowercased with Go's `strings.ToLower` before writing, because
//! the server lowercases every key it writes and every key it looks up
//! (docs/INDEX_KEYS.md §6, §10); a key written as computed would never be found.
//!
//! Each list must hold each UUID exactly once after a run, and a rerun must
//! change nothing; lists the server wrote are merged with, never replaced.
//! A chunk's writes are grouped by key (each UUID once per key), then one
//! pipelined `LLEN` per key not yet known to be long decides how: a short
//! list gets `LREM key 0 uuid` + `LPUSH key uuid` per UUID (one copy left,
//! whatever was there), a long one a single `LPUSH` of the UUIDs it does
//! not hold yet, which `long_lists` answers from one read of the list per
//! run. That keeps the cost per entry independent of list length and every
//! command under a millisecond or so on a 10^6-element list, where one
//! `LREM` took tens of milliseconds and blocked the server meanwhile; the
//! reasoning and the memory bound are in `long_lists`. Two round trips per
//! chunk (`LLEN`s, then the writes), plus the page reads of a long list the
//! first time the run writes to it.
//!
//! Timeouts on connect and on every reply turn a dead or stuck server into
//! an error instead of a hung run.
//!
//! The checkpoint lives in the same database as the index, as a JSON string
//! under [`checkpoint_key`]. With TLS, the server certificate is checked
//! against the platform's trust ([`crate::tls`]), not only the compiled-in
//! roots, so a Redis behind a private CA works.

use std::time::Duration;

use anyhow::{anyhow, Context};
use redis::{
    Client, Connection, ConnectionAddr, ConnectionInfo, ConnectionLike, IntoConnectionInfo,
    RedisConnectionInfo, TlsCertificates,
};

use super::long_lists::{LongLists, LONG_LIST};
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

/// The Redis key that holds checkpoint `name`:
/// `rekor-backfill:checkpoint:<name>`. Nothing of Rekor's own lives under
/// this prefix (its index keys are hashes, e-mails and URLs).
pub fn checkpoint_key(name: &CheckpointName) -> String {
    format!("rekor-backfill:checkpoint:{name}")
}

/// The Redis backend as chosen by the `--redis-*` flags.
#[derive(Clone, Debug)]
pub struct RedisBackend {
    pub host: String,
    pub port: u16,
    /// The ACL user; `None` is Redis' `default` user (`AUTH password`).
    pub username: Option<String>,
    /// `None` or an empty secret: no AUTH (like go-redis with `Password: ""`).
    pub password: Option<Secret>,
    /// The logical database (`SELECT`), as for Rekor's server 0 by default.
    pub db: u32,
    pub tls: bool,
    /// Accept any certificate (`--redis-insecure-skip-verify`); only with `tls`.
    pub insecure_skip_verify: bool,
    /// What the run knows about long lists, shared by all its sinks; a new
    /// run (a new backend) starts with `LongLists::default()` and reads
    /// them again.
    pub long_lists: LongLists,
}

impl RedisBackend {
    fn address(&self) -> String {
        host_port(&self.host, self.port)
    }

    /// The prefix of every error message: where, without secrets.
    pub(super) fn context(&self) -> String {
        let user = self
            .username
            .as_ref()
            .map_or(String::new(), |user| format!("{user}@"));
        let db = match self.db {
            0 => String::new(),
            db => format!("/{db}"),
        };
        format!("redis {user}{}{db}", self.address())
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
        let mut redis = RedisConnectionInfo::default()
            .set_skip_set_lib_name()
            .set_db(i64::from(self.db));
        if let Some(password) = self.password.as_ref().filter(|p| !p.is_empty()) {
            redis = redis.set_password(password.expose());
            if let Some(user) = &self.username {
                redis = redis.set_username(user);
            }
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
        let client = if self.tls {
            let roots = TlsCertificates {
                client_tls: None,
                root_cert: Some(crate::tls::roots().pem()),
            };
            Client::build_with_tls(info, roots)
        } else {
            Client::open(info)
        }
        .with_context(|| self.context())?;
        let connection = client
            .get_connection_with_timeout(CONNECT_TIMEOUT)
            .map_err(|e| {
                let why = explain(&e, CONNECT_TIMEOUT);
                anyhow!(
                    "{}: connect failed: {why}{}",
                    self.context(),
                    self.tls_hint(&why)
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
    /// an obscure protocol error; say what the likely cause is. A rejected
    /// certificate has its own hint.
    fn tls_hint(&self, why: &str) -> &'static str {
        match crate::tls::certificate_hint(why) {
            "" if self.tls => {
                " (TLS was requested with --redis-enable-tls; does the server accept TLS on this port?)"
            }
            "" => "",
            hint => hint,
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
        format!("{}{tls}", self.context())
    }

    fn connect_sink(&self) -> anyhow::Result<Box<dyn Sink>> {
        let mut connection = self.connect()?;
        let marker = Marker::set(&mut connection, self)?;
        Ok(Box::new(RedisSink {
            backend: self.clone(),
            connection: Some(connection),
            marker,
        }))
    }

    fn connect_checkpoint_store(
        &self,
        read_only: bool,
    ) -> anyhow::Result<Box<dyn CheckpointStore>> {
        let mut connection = self.connect()?;
        let marker = match read_only {
            true => None,
            false => Some(Marker::set(&mut connection, self)?),
        };
        Ok(Box::new(RedisCheckpointStore {
            backend: self.clone(),
            connection: Some(connection),
            marker,
            read_only,
        }))
    }

    fn connect_failure_store(&self) -> anyhow::Result<Box<dyn crate::failures::FailureStore>> {
        Ok(Box::new(super::redis_failures::RedisFailureStore {
            backend: self.clone(),
            connection: self.connect()?,
            broken: false,
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
/// connection is dropped and a new one is opened, also to a restarted
/// server, as long as that server still holds the sink's marker key: a
/// server that came back without it (no or lazy persistence, a failover to
/// a replica that lagged) may have lost acknowledged writes, and a run that
/// carried on would checkpoint past them. Managed Redis and proxies hide
/// `run_id`, so the data itself is what is checked.
struct RedisSink {
    backend: RedisBackend,
    connection: Option<Connection>,
    marker: Marker,
}

/// How long a marker outlives a run that could not delete it (killed).
const MARKER_TTL_SECS: u64 = 7 * 86_400;

/// A key of its own for each connection that writes (a sink, the
/// checkpoint store): `rekor-backfill:marker:<pid>-<nanos>-<n>`, set when
/// it connects and checked when it reconnects: a server without it lost
/// what the run wrote.
struct Marker(String);

impl Marker {
    fn set(connection: &mut Connection, backend: &RedisBackend) -> anyhow::Result<Marker> {
        static MARKERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let n = MARKERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = format!("rekor-backfill:marker:{}-{nanos:x}-{n}", std::process::id());
        redis::cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("EX")
            .arg(MARKER_TTL_SECS)
            .query::<()>(connection)
            .map_err(|e| failed(&e, format!("{}: SET {key} failed: {e}", backend.context())))?;
        Ok(Marker(key))
    }

    /// A new connection to a server that still holds the marker; a
    /// [`DataLost`](super::outage::DataLost) error if it does not (and the
    /// run's knowledge of long lists is dropped).
    fn reconnect(&self, backend: &RedisBackend) -> anyhow::Result<Connection> {
        let mut connection = backend.connect().map_err(super::outage::unavailable)?;
        let context = backend.context();
        let kept: bool = redis::cmd("EXISTS")
            .arg(&self.0)
            .query(&mut connection)
            .map_err(|e| failed(&e, format!("{context}: EXISTS {} failed: {e}", self.0)))?;
        if !kept {
            backend.long_lists.forget_all();
            return Err(anyhow::Error::new(super::outage::DataLost(format!(
                "{context}: the server came back without this run's data (restarted without \
                 persistence, flushed, or a replica that lagged): index writes acknowledged \
                 before may be lost"
            ))));
        }
        Ok(connection)
    }

    /// Best effort when the connection is done with.
    fn clear(&self, connection: &mut Connection) {
        let _ = redis::cmd("DEL").arg(&self.0).query::<()>(connection);
    }
}

/// Errors after which a new attempt, on a new connection if need be, may
/// succeed: the server is down, restarting (LOADING), failing over
/// (READONLY, MASTERDOWN) or not answering.
pub(super) fn is_transient(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(
            e.code(),
            Some("LOADING" | "READONLY" | "MASTERDOWN" | "TRYAGAIN")
        )
}

/// `message` about `e`, marked [`Unavailable`](super::outage::Unavailable)
/// when `e` is transient.
pub(super) fn failed(e: &redis::RedisError, message: String) -> anyhow::Error {
    let error = anyhow!("{message}");
    if is_transient(e) {
        super::outage::unavailable(error)
    } else {
        error
    }
}

impl Drop for RedisSink {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.as_mut() {
            self.marker.clear(connection);
        }
    }
}

impl RedisSink {
    fn write_once(
        &mut self,
        writes: &[KeyWrites<'_>],
    ) -> Result<(), WriteError<redis::RedisError>> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.reconnect().map_err(WriteError::Connect)?,
        };
        let connection = self.connection.insert(connection);
        let lists = &self.backend.long_lists;
        if let Err(e) = write_grouped(connection, lists, writes) {
            // Transient errors too: after a failover (READONLY) or a
            // restart (LOADING) the next attempt needs a new connection.
            if e.is_unrecoverable_error() || !connection.is_open() || is_transient(&e) {
                self.connection = None;
            }
            // Some of the writes may have happened: what was read of the
            // long lists written here no longer holds.
            for w in writes {
                lists.forget(&w.key);
            }
            return Err(WriteError::Backend(e));
        }
        Ok(())
    }

    /// A new connection, to a server that still holds the sink's marker.
    fn reconnect(&self) -> anyhow::Result<Connection> {
        self.marker.reconnect(&self.backend)
    }
}

impl Sink for RedisSink {
    fn write(&mut self, entries: &[IndexedEntry]) -> Result<(), SinkError> {
        let writes = group_by_key(entries);
        if writes.is_empty() {
            return Ok(());
        }
        let context = self.backend.context();
        let keys: usize = writes.iter().map(|w| w.uuids.len()).sum();
        let fail = |e: WriteError<redis::RedisError>| {
            SinkError(match e {
                WriteError::Connect(e) => e.context("reconnecting after a lost connection"),
                WriteError::Backend(e) => failed(
                    &e,
                    format!(
                        "{context}: writing {keys} keys of {} entries failed: {}",
                        entries.len(),
                        explain(&e, IO_TIMEOUT)
                    ),
                ),
            })
        };
        match self.write_once(&writes) {
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
                self.write_once(&writes).map_err(fail)
            }
            Err(e) => Err(fail(e)),
        }
    }
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

/// One key's writes in a chunk: the key lowercased, each UUID once, in
/// entry order (the last one ends up at the head of the list).
#[derive(Debug, PartialEq, Eq)]
struct KeyWrites<'a> {
    key: String,
    uuids: Vec<&'a str>,
}

/// The chunk's (key, uuid) pairs grouped by lowercased key, keys in order
/// of first appearance.
fn group_by_key(entries: &[IndexedEntry]) -> Vec<KeyWrites<'_>> {
    let mut writes: Vec<KeyWrites<'_>> = Vec::new();
    let mut at = std::collections::HashMap::new();
    for entry in entries {
        for key in &entry.keys {
            let key = gostr::to_lower(key);
            let i = *at.entry(key.clone()).or_insert_with(|| {
                writes.push(KeyWrites {
                    key,
                    uuids: Vec::new(),
                });
                writes.len() - 1
            });
            let uuids = &mut writes[i].uuids;
            if !uuids.contains(&entry.uuid.as_str()) {
                uuids.push(&entry.uuid);
            }
        }
    }
    writes
}

/// Writes a grouped chunk: `LLEN` of the keys not known to be long, then
/// `LREM`+`LPUSH` per UUID on short lists and one `LPUSH` of the missing
/// UUIDs on long ones.
fn write_grouped(
    con: &mut Connection,
    lists: &LongLists,
    writes: &[KeyWrites<'_>],
) -> redis::RedisResult<()> {
    let unknown: Vec<&KeyWrites<'_>> = writes.iter().filter(|w| !lists.is_long(&w.key)).collect();
    for group in unknown.chunks(MAX_PIPELINE_COMMANDS) {
        let mut pipeline = redis::pipe();
        for w in group {
            pipeline.cmd("LLEN").arg(&w.key);
        }
        let lens: Vec<usize> = pipeline.query(con)?;
        for (w, len) in group.iter().zip(lens) {
            if len >= LONG_LIST {
                lists.mark_long(&w.key);
            }
        }
    }
    let mut pipelines = Pipelines::default();
    for w in writes {
        if lists.is_long(&w.key) {
            pipelines.push_missing(&w.key, &lists.missing(con, &w.key, &w.uuids)?);
        } else {
            pipelines.replace_each(&w.key, &w.uuids);
        }
    }
    for pipeline in pipelines.finish() {
        pipeline.query::<()>(con)?;
    }
    Ok(())
}

/// Write commands, split into pipelines of at most
/// [`MAX_PIPELINE_COMMANDS`].
#[derive(Default)]
struct Pipelines {
    done: Vec<redis::Pipeline>,
    current: redis::Pipeline,
    commands: usize,
}

impl Pipelines {
    /// Short list: `LREM key 0 uuid` + `LPUSH key uuid` per UUID, which
    /// leaves one copy whatever the list held.
    fn replace_each(&mut self, key: &str, uuids: &[&str]) {
        for uuid in uuids {
            self.current
                .cmd("LREM")
                .arg(key)
                .arg(0)
                .arg(uuid)
                .ignore()
                .cmd("LPUSH")
                .arg(key)
                .arg(uuid)
                .ignore();
            self.count(2);
        }
    }

    /// Long list: one `LPUSH` of the UUIDs it does not hold.
    fn push_missing(&mut self, key: &str, missing: &[&str]) {
        if !missing.is_empty() {
            self.current.cmd("LPUSH").arg(key).arg(missing).ignore();
            self.count(1);
        }
    }

    fn count(&mut self, commands: usize) {
        self.commands += commands;
        if self.commands >= MAX_PIPELINE_COMMANDS {
            self.done.push(std::mem::take(&mut self.current));
            self.commands = 0;
        }
    }

    fn finish(mut self) -> Vec<redis::Pipeline> {
        if self.commands > 0 {
            self.done.push(self.current);
        }
        self.done
    }
}

/// Checkpoints as JSON strings under [`checkpoint_key`].
struct RedisCheckpointStore {
    backend: RedisBackend,
    /// `None` after a connection-level failure: the next call reconnects.
    connection: Option<Connection>,
    /// Checked on reconnecting, so a checkpoint is never saved to a server
    /// that lost the index it stands for (none in a dry run).
    marker: Option<Marker>,
    read_only: bool,
}

impl Drop for RedisCheckpointStore {
    fn drop(&mut self) {
        if let (Some(connection), Some(marker)) = (self.connection.as_mut(), &self.marker) {
            marker.clear(connection);
        }
    }
}

impl RedisCheckpointStore {
    /// Runs `cmd`, on a new connection if the last one broke.
    fn query<T: redis::FromRedisValue>(
        &mut self,
        cmd: &redis::Cmd,
        what: &str,
    ) -> anyhow::Result<T> {
        let connection = match (self.connection.take(), &self.marker) {
            (Some(connection), _) => connection,
            (None, Some(marker)) => marker.reconnect(&self.backend)?,
            (None, None) => self.backend.connect().map_err(super::outage::unavailable)?,
        };
        let connection = self.connection.insert(connection);
        let result = cmd.query(connection);
        let broken = !connection.is_open();
        result.map_err(|e| {
            if broken || e.is_unrecoverable_error() || is_transient(&e) {
                self.connection = None;
            }
            failed(
                &e,
                format!("{}: {what} failed: {e}", self.backend.context()),
            )
        })
    }
}

impl CheckpointStore for RedisCheckpointStore {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Option<CheckpointRecord>> {
        let key = checkpoint_key(name);
        let stored: Option<String> =
            self.query(redis::cmd("GET").arg(&key), &format!("GET {key}"))?;
        stored
            .map(|json| {
                CheckpointRecord::from_json(&json)
                    .map_err(|e| anyhow!("{}: checkpoint {key}: {e}", self.backend.context()))
            })
            .transpose()
    }

    fn save(&mut self, name: &CheckpointName, record: &CheckpointRecord) -> anyhow::Result<()> {
        let key = checkpoint_key(name);
        if self.read_only {
            log::debug!("dry run: not saving checkpoint {key}");
            return Ok(());
        }
        self.query(
            redis::cmd("SET").arg(&key).arg(record.to_json()),
            &format!("SET {key}"),
        )
    }

    fn delete(&mut self, name: &CheckpointName) -> anyhow::Result<()> {
        let key = checkpoint_key(name);
        if self.read_only {
            log::debug!("dry run: not deleting checkpoint {key}");
            return Ok(());
        }
        self.query(redis::cmd("DEL").arg(&key), &format!("DEL {key}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(tls: bool, insecure: bool) -> RedisBackend {
        RedisBackend {
            host: "127.0.0.1".to_string(),
            port: 16379,
            username: None,
            password: Some(Secret::new("hunter2")),
            db: 0,
            tls,
            insecure_skip_verify: insecure,
            long_lists: LongLists::default(),
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
        let acl = RedisBackend {
            username: Some("rekor".to_string()),
            db: 2,
            ..backend(true, false)
        };
        assert_eq!(acl.describe(), "redis rekor@127.0.0.1:16379/2 (tls)");
    }

    #[test]
    fn checkpoint_key_naming() {
        let name = CheckpointName::parse("nightly").unwrap();
        assert_eq!(checkpoint_key(&name), "rekor-backfill:checkpoint:nightly");
    }

    fn resp(commands: &[&[&str]]) -> String {
        commands
            .iter()
            .map(|args| {
                let mut resp = format!("*{}\r\n", args.len());
                for arg in *args {
                    resp.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
                }
                resp
            })
            .collect()
    }

    #[test]
    fn writes_are_grouped_by_lowercased_key_each_uuid_once() {
        let entries = vec![
            IndexedEntry {
                uuid: "u1".to_string(),
                keys: vec![
                    "SHA256:AB".to_string(),
                    "İx".to_string(),
                    "sha256:ab".to_string(),
                ],
            },
            IndexedEntry {
                uuid: "u2".to_string(),
                keys: vec!["k".to_string(), "Sha256:Ab".to_string()],
            },
        ];
        let writes = group_by_key(&entries);
        let flat: Vec<(&str, Vec<&str>)> = writes
            .iter()
            .map(|w| (w.key.as_str(), w.uuids.clone()))
            .collect();
        assert_eq!(
            flat,
            [
                ("sha256:ab", vec!["u1", "u2"]),
                ("ix", vec!["u1"]),
                ("k", vec!["u2"]),
            ]
        );
        assert!(group_by_key(&[]).is_empty());
    }

    #[test]
    fn short_lists_pair_lrem_and_lpush_long_lists_get_one_lpush() {
        let mut pipelines = Pipelines::default();
        pipelines.replace_each("short", &["u1", "u2"]);
        pipelines.push_missing("long", &["u3", "u4"]);
        pipelines.push_missing("long2", &[]);
        let pipelines = pipelines.finish();
        assert_eq!(pipelines.len(), 1);
        let packed = String::from_utf8_lossy(&pipelines[0].get_packed_pipeline()).into_owned();
        assert_eq!(
            packed,
            resp(&[
                &["LREM", "short", "0", "u1"],
                &["LPUSH", "short", "u1"],
                &["LREM", "short", "0", "u2"],
                &["LPUSH", "short", "u2"],
                &["LPUSH", "long", "u3", "u4"],
            ])
        );
        assert!(Pipelines::default().finish().is_empty());
    }

    #[test]
    fn large_batches_are_split() {
        let uuids: Vec<String> = (0..MAX_PIPELINE_COMMANDS + 1)
            .map(|i| format!("u{i}"))
            .collect();
        let uuids: Vec<&str> = uuids.iter().map(String::as_str).collect();
        let mut pipelines = Pipelines::default();
        // two commands per UUID
        pipelines.replace_each("k", &uuids);
        let pipelines = pipelines.finish();
        assert_eq!(pipelines.len(), 3);
        let commands: usize = pipelines.iter().map(|p| p.cmd_iter().count()).sum();
        assert_eq!(commands, 2 * (MAX_PIPELINE_COMMANDS + 1));
    }
}
