//! The MySQL index: Rekor's `EntryIndex` table, with the DDL of Rekor v1.5.4
//! (`pkg/indexstorage/mysql/mysql.go`), and the checkpoint table beside it.
//!
//! Keys are written as computed: the server does not lowercase them either,
//! and the `utf8mb4_general_ci` collation makes lookups case-insensitive
//! anyway (docs/INDEX_KEYS.md §6). A batch is written with multi-row
//! `INSERT IGNORE` statements (bounded in rows and bytes) instead of one
//! statement per key, which is what makes the backend fast; `IGNORE` makes a
//! rerun a no-op and, as for the server and the Go tool, turns a key longer
//! than 512 characters into a truncated key plus a warning.
//!
//! Every connection runs in UTC (`SET time_zone = '+00:00'`), so checkpoint
//! timestamps mean the same thing whatever the server's zone is.

use std::time::{Duration, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use mysql::prelude::Queryable;
use mysql::{Conn, DriverError, Opts, OptsBuilder, SslOpts, Value};

use super::{
    bracket_ipv6, init_tls, Backend, IndexedEntry, MysqlAddress, MysqlDsn, MysqlTls, Sink,
    SinkError, WriteError,
};
use crate::checkpoint::{CheckpointName, CheckpointRecord, CheckpointStore};
use crate::lease::{Lease, Owner};
use crate::log_layout::LogBinding;

const CREATE_ENTRY_INDEX: &str = "CREATE TABLE IF NOT EXISTS EntryIndex (
		EntryKey varchar(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
		EntryUUID char(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
		PRIMARY KEY(EntryKey, EntryUUID)
	)";

/// The length of `EntryKey`, in characters.
const MAX_KEY_CHARS: usize = 512;

/// `CheckpointKey` is ascii_bin so names are case-sensitive, as in Redis.
/// `LogShards` (the trees the range covers, JSON) came later: tables made
/// before get it from [`ADD_LOG_SHARDS`]. `LastUpdated` is DATETIME(6) in
/// UTC (the session time zone): a TIMESTAMP ends in 2038 and follows the
/// session's zone; older tables are migrated by [`MIGRATE_LAST_UPDATED`].
const CREATE_CHECKPOINT: &str = "CREATE TABLE IF NOT EXISTS BackfillCheckpoint (
		CheckpointKey VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
		FirstIndex BIGINT,
		LastCompletedIndex BIGINT NOT NULL,
		LastUpdated DATETIME(6) NOT NULL,
		LogShards TEXT NULL
	)";

const HAS_LOG_SHARDS: &str = "SELECT COUNT(*) FROM information_schema.COLUMNS \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'BackfillCheckpoint' AND COLUMN_NAME = 'LogShards'";
const ADD_LOG_SHARDS: &str = "ALTER TABLE BackfillCheckpoint ADD COLUMN LogShards TEXT NULL";
/// Whether `LastUpdated` is still the TIMESTAMP of earlier versions.
const HAS_TIMESTAMP_LAST_UPDATED: &str = "SELECT COUNT(*) FROM information_schema.COLUMNS \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'BackfillCheckpoint' \
     AND COLUMN_NAME = 'LastUpdated' AND DATA_TYPE = 'timestamp'";
/// In place; the session's zone is UTC, so the values convert to UTC.
const MIGRATE_LAST_UPDATED: &str =
    "ALTER TABLE BackfillCheckpoint MODIFY LastUpdated DATETIME(6) NOT NULL";
/// Every connection: UTC for `LastUpdated`, and autocommit forced on, since
/// a server (or proxy) defaulting to autocommit=0 would keep every write in
/// a transaction that a reconnect silently rolls back.
const SESSION_INIT: [&str; 2] = ["SET time_zone = '+00:00'", "SET autocommit = 1"];

/// Rows per `INSERT IGNORE`: keeps statements far below the placeholder
/// limit (65535) and the prepared-statement cache small.
const MAX_ROWS_PER_STATEMENT: usize = 1000;
/// Parameter bytes per `INSERT IGNORE`, far below any `max_allowed_packet`
/// default (4 MiB on old servers).
const MAX_BYTES_PER_STATEMENT: usize = 1 << 20;

/// MySQL error: the table does not exist.
const ER_NO_SUCH_TABLE: u16 = 1146;
/// MySQL error: unknown column (a checkpoint table older than `LogShards`,
/// read by a dry run, which does not upgrade it).
const ER_BAD_FIELD_ERROR: u16 = 1054;

/// The MySQL backend as chosen by `--mysql-dsn`.
#[derive(Clone, Debug)]
pub struct MysqlBackend {
    dsn: MysqlDsn,
}

impl MysqlBackend {
    pub fn new(dsn: MysqlDsn) -> MysqlBackend {
        MysqlBackend { dsn }
    }

    fn opts(&self, tls: bool) -> anyhow::Result<Opts> {
        let dsn = &self.dsn;
        let mut builder = OptsBuilder::new()
            .user(Some(dsn.user.as_str()).filter(|u| !u.is_empty()))
            .pass(Some(dsn.password.expose()).filter(|p| !p.is_empty()))
            .db_name(Some(dsn.database.as_str()).filter(|d| !d.is_empty()))
            // Otherwise the crate silently switches a loopback TCP
            // connection to the server's unix socket.
            .prefer_socket(false)
            .tcp_connect_timeout(dsn.connect_timeout)
            .read_timeout(dsn.read_timeout)
            .write_timeout(dsn.write_timeout)
            .init(SESSION_INIT.to_vec());
        builder = match &dsn.address {
            MysqlAddress::Tcp { host, port } => builder
                .ip_or_hostname(Some(bracket_ipv6(host)))
                .tcp_port(*port),
            MysqlAddress::Unix(path) => builder.socket(Some(path.to_string_lossy())),
        };
        if tls {
            let verify = dsn.tls == MysqlTls::Verify;
            let mut ssl = SslOpts::default()
                .with_danger_accept_invalid_certs(!verify)
                .with_danger_skip_domain_validation(!verify);
            if verify {
                // The crate trusts its compiled-in roots plus this file:
                // the platform's trust (system store, SSL_CERT_FILE/DIR).
                let roots = crate::tls::roots()
                    .pem_path()
                    .map_err(|e| anyhow!("{}: {e}", self.describe()))?;
                ssl = ssl.with_root_cert_path(Some(roots.to_path_buf()));
            }
            builder = builder.ssl_opts(ssl);
        }
        Ok(builder.into())
    }

    pub(crate) fn connect(&self) -> anyhow::Result<Conn> {
        init_tls();
        let result = match self.dsn.tls {
            MysqlTls::Disabled => Conn::new(self.opts(false)?),
            MysqlTls::Verify | MysqlTls::SkipVerify => Conn::new(self.opts(true)?),
            MysqlTls::Preferred => match Conn::new(self.opts(true)?) {
                Err(mysql::Error::DriverError(DriverError::TlsNotSupported)) => {
                    log::debug!(
                        "{}: server offers no TLS; connecting without (tls=preferred)",
                        self.describe()
                    );
                    Conn::new(self.opts(false)?)
                }
                other => other,
            },
        };
        result.map_err(|e| {
            let why = self.explain(&e);
            let hint = crate::tls::certificate_hint(&why);
            anyhow!("{}: connect failed: {why}{hint}", self.describe())
        })
    }

    /// The error without the crate's `DriverError { … }` wrapping, and with
    /// a read timeout spelled out (the OS says only "Resource temporarily
    /// unavailable").
    pub(crate) fn explain(&self, e: &mysql::Error) -> String {
        use std::error::Error as _;
        let io = match e {
            mysql::Error::IoError(io) => Some(io),
            mysql::Error::CodecError(codec) => codec.source().and_then(|s| s.downcast_ref()),
            _ => None,
        };
        match (io, self.dsn.read_timeout) {
            (Some(io), Some(timeout))
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                format!(
                    "no answer within {} ({io})",
                    humantime::format_duration(timeout)
                )
            }
            (Some(io), _) => io.to_string(),
            _ => match e {
                mysql::Error::MySqlError(e) => e.to_string(),
                mysql::Error::DriverError(e) => e.to_string(),
                mysql::Error::TlsError(e) => format!("TLS: {e}"),
                e => e.to_string(),
            },
        }
    }
}

impl Backend for MysqlBackend {
    fn describe(&self) -> String {
        self.dsn.describe()
    }

    fn connect_sink(&self) -> anyhow::Result<Box<dyn Sink>> {
        let mut conn = self.connect()?;
        conn.query_drop(CREATE_ENTRY_INDEX).map_err(|e| {
            anyhow!(
                "{}: creating table EntryIndex failed: {}",
                self.describe(),
                self.explain(&e)
            )
        })?;
        Ok(Box::new(MysqlSink {
            backend: self.clone(),
            conn: Some(conn),
        }))
    }

    fn connect_checkpoint_store(
        &self,
        read_only: bool,
    ) -> anyhow::Result<Box<dyn CheckpointStore>> {
        let mut conn = self.connect()?;
        if !read_only {
            conn.query_drop(CREATE_CHECKPOINT).map_err(|e| {
                anyhow!(
                    "{}: creating table BackfillCheckpoint failed: {e}",
                    self.describe()
                )
            })?;
            let has: Option<i64> = conn.query_first(HAS_LOG_SHARDS).map_err(|e| {
                anyhow!(
                    "{}: reading BackfillCheckpoint's columns: {e}",
                    self.describe()
                )
            })?;
            if has == Some(0) {
                conn.query_drop(ADD_LOG_SHARDS).map_err(|e| {
                    anyhow!(
                        "{}: adding column LogShards to BackfillCheckpoint failed: {e}",
                        self.describe()
                    )
                })?;
            }
            let old: Option<i64> = conn.query_first(HAS_TIMESTAMP_LAST_UPDATED).map_err(|e| {
                anyhow!(
                    "{}: reading BackfillCheckpoint's columns: {e}",
                    self.describe()
                )
            })?;
            if matches!(old, Some(n) if n > 0) {
                conn.query_drop(MIGRATE_LAST_UPDATED).map_err(|e| {
                    anyhow!(
                        "{}: changing BackfillCheckpoint.LastUpdated to DATETIME(6) failed: {e}",
                        self.describe()
                    )
                })?;
            }
        }
        Ok(Box::new(MysqlCheckpointStore {
            backend: self.clone(),
            conn,
            broken: false,
            read_only,
        }))
    }

    fn connect_failure_store(&self) -> anyhow::Result<Box<dyn crate::failures::FailureStore>> {
        Ok(Box::new(super::mysql_failures::MysqlFailureStore::connect(
            self,
        )?))
    }

    fn acquire_lease(
        &self,
        name: &CheckpointName,
        owner: &Owner,
    ) -> anyhow::Result<Box<dyn Lease>> {
        super::mysql_lease::acquire(self, name, owner)
    }
}

/// One worker's connection; dropped after a connection-level failure and
/// reopened by the next write.
struct MysqlSink {
    backend: MysqlBackend,
    conn: Option<Conn>,
}

/// Server errors that end the connection: shutdown in progress
/// (ER_SERVER_SHUTDOWN) and MariaDB's ER_CONNECTION_KILLED.
const CONNECTION_ENDING_CODES: [u16; 2] = [1053, 1927];

/// Errors after which the connection cannot be used any more.
fn is_connection_error(e: &mysql::Error) -> bool {
    match e {
        mysql::Error::IoError(_) | mysql::Error::CodecError(_) | mysql::Error::TlsError(_) => true,
        mysql::Error::DriverError(e) => {
            matches!(
                e,
                DriverError::ConnectTimeout | DriverError::PacketOutOfSync
            )
        }
        mysql::Error::MySqlError(e) => CONNECTION_ENDING_CODES.contains(&e.code),
        _ => false,
    }
}

/// Server errors of a failover: the server is (still) read-only.
const READ_ONLY_CODES: [u16; 2] = [1290, 1836];

/// Errors after which a new attempt, on a new connection if need be, may
/// succeed: the server is down, restarting, failing over or not answering.
pub(super) fn is_transient(e: &mysql::Error) -> bool {
    is_connection_error(e)
        || matches!(e, mysql::Error::MySqlError(e) if READ_ONLY_CODES.contains(&e.code))
}

/// `message`, marked [`Unavailable`](super::outage::Unavailable) when `e`
/// is transient.
pub(super) fn failed(e: &mysql::Error, message: String) -> anyhow::Error {
    let error = anyhow!("{message}");
    if is_transient(e) {
        super::outage::unavailable(error)
    } else {
        error
    }
}

impl MysqlSink {
    fn write_once(&mut self, statements: &[Statement]) -> Result<(), WriteError<mysql::Error>> {
        let conn = match self.conn.as_mut() {
            Some(conn) => conn,
            None => self.conn.insert(
                self.backend
                    .connect()
                    .map_err(|e| WriteError::Connect(super::outage::unavailable(e)))?,
            ),
        };
        for statement in statements {
            if let Err(e) = conn.exec_drop(&statement.sql, statement.params.clone()) {
                if is_connection_error(&e) {
                    self.conn = None;
                }
                return Err(WriteError::Backend(e));
            }
            if conn.warnings() > 0 {
                log::debug!(
                    "{}: INSERT IGNORE of {} rows gave {} warnings",
                    self.backend.describe(),
                    statement.rows,
                    conn.warnings()
                );
            }
        }
        Ok(())
    }
}

impl Sink for MysqlSink {
    fn write(&mut self, entries: &[IndexedEntry]) -> Result<(), SinkError> {
        let statements = build_statements(entries);
        if statements.is_empty() {
            return Ok(());
        }
        for entry in entries {
            for key in entry
                .keys
                .iter()
                .filter(|k| k.chars().count() > MAX_KEY_CHARS)
            {
                log::warn!(
                    "entry {}: key of {} characters exceeds EntryKey's {MAX_KEY_CHARS}; MySQL stores it truncated (as Rekor's own writer does)",
                    entry.uuid,
                    key.chars().count()
                );
            }
        }
        let backend = self.backend.clone();
        let context = backend.describe();
        let rows: usize = statements.iter().map(|s| s.rows).sum();
        let fail = |e: WriteError<mysql::Error>| {
            SinkError(match e {
                WriteError::Connect(e) => e.context("reconnecting after a lost connection"),
                WriteError::Backend(e) => failed(
                    &e,
                    format!(
                        "{context}: INSERT IGNORE of {rows} keys of {} entries failed: {}",
                        entries.len(),
                        backend.explain(&e)
                    ),
                ),
            })
        };
        match self.write_once(&statements) {
            Ok(()) => Ok(()),
            // INSERT IGNORE is idempotent: after a lost connection, redo
            // the whole batch once on a new one. Unlike Redis, a restarted
            // server is fine: committed rows survive a restart (InnoDB with
            // its default durability settings).
            Err(WriteError::Backend(e)) if self.conn.is_none() => {
                log::warn!(
                    "{context}: connection lost ({}); reconnecting and retrying the batch",
                    backend.explain(&e)
                );
                self.write_once(&statements).map_err(fail)
            }
            Err(e) => Err(fail(e)),
        }
    }
}

/// One multi-row `INSERT IGNORE` with its parameters.
struct Statement {
    sql: String,
    params: Vec<Value>,
    rows: usize,
}

impl Statement {
    fn new(rows: &[(&str, &str)]) -> Statement {
        let mut sql = String::from("INSERT IGNORE INTO EntryIndex (EntryKey, EntryUUID) VALUES ");
        let mut params = Vec::with_capacity(rows.len() * 2);
        for (i, (key, uuid)) in rows.iter().enumerate() {
            sql.push_str(if i == 0 { "(?,?)" } else { ",(?,?)" });
            params.push(Value::from(*key));
            params.push(Value::from(*uuid));
        }
        Statement {
            sql,
            params,
            rows: rows.len(),
        }
    }
}

/// All (key, uuid) rows of the batch, in order, cut into statements of at
/// most [`MAX_ROWS_PER_STATEMENT`] rows and about [`MAX_BYTES_PER_STATEMENT`]
/// parameter bytes (a single oversized row still gets its own statement).
fn build_statements(entries: &[IndexedEntry]) -> Vec<Statement> {
    let rows: Vec<(&str, &str)> = entries
        .iter()
        .flat_map(|e| e.keys.iter().map(|k| (k.as_str(), e.uuid.as_str())))
        .collect();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, (key, uuid)) in rows.iter().enumerate() {
        let size = key.len() + uuid.len();
        let full = i - start == MAX_ROWS_PER_STATEMENT || bytes + size > MAX_BYTES_PER_STATEMENT;
        if full && i > start {
            statements.push(Statement::new(&rows[start..i]));
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < rows.len() {
        statements.push(Statement::new(&rows[start..]));
    }
    statements
}

/// Checkpoints as rows of `BackfillCheckpoint`.
struct MysqlCheckpointStore {
    backend: MysqlBackend,
    conn: Conn,
    /// Set after a connection-level failure: the next call reconnects.
    broken: bool,
    /// Dry run: the table is never created; `save` and `delete` do nothing.
    read_only: bool,
}

impl MysqlCheckpointStore {
    /// A new connection if the last one broke.
    fn reconnect_if_broken(&mut self) -> anyhow::Result<()> {
        if self.broken {
            self.conn = self.backend.connect().map_err(super::outage::unavailable)?;
            self.broken = false;
        }
        Ok(())
    }

    /// The error of a failed statement; a broken connection is replaced
    /// by the next call.
    fn failed(&mut self, e: &mysql::Error, message: String) -> anyhow::Error {
        self.broken |= is_connection_error(e);
        failed(e, message)
    }
}

impl CheckpointStore for MysqlCheckpointStore {
    fn load(&mut self, name: &CheckpointName) -> anyhow::Result<Option<CheckpointRecord>> {
        let describe = self.backend.describe();
        let context = || format!("{describe}: loading checkpoint {name}");
        const SELECT: &str = "SELECT FirstIndex, LastCompletedIndex, \
             CAST(FLOOR(UNIX_TIMESTAMP(LastUpdated)) AS SIGNED), LogShards \
             FROM BackfillCheckpoint WHERE CheckpointKey = ?";
        self.reconnect_if_broken()?;
        let mut result = self.conn.exec_first(SELECT, (name.as_str(),));
        if matches!(&result, Err(mysql::Error::MySqlError(e)) if self.read_only && e.code == ER_BAD_FIELD_ERROR)
        {
            result = self
                .conn
                .exec_first::<(Option<i64>, i64, i64), _, _>(
                    &SELECT.replace(", LogShards", ""),
                    (name.as_str(),),
                )
                .map(|row| row.map(|(f, l, u)| (f, l, u, None)));
        }
        let row: Option<(Option<i64>, i64, i64, Option<String>)> = match result {
            Ok(row) => row,
            Err(mysql::Error::MySqlError(e)) if self.read_only && e.code == ER_NO_SUCH_TABLE => {
                return Ok(None)
            }
            Err(e) => {
                let message = format!("{}: {}", context(), self.backend.explain(&e));
                return Err(self.failed(&e, message));
            }
        };
        let Some((first, last, updated, shards)) = row else {
            return Ok(None);
        };
        let log = shards
            .map(|json| serde_json::from_str::<LogBinding>(&json))
            .transpose()
            .map_err(|e| anyhow!("{}: LogShards is not a list of trees: {e}", context()))?;
        let first = first.ok_or_else(|| anyhow!("{}: FirstIndex is NULL", context()))?;
        let index = |value: i64, column: &str| {
            u64::try_from(value).map_err(|_| anyhow!("{}: negative {column} {value}", context()))
        };
        let record = CheckpointRecord {
            first_index: index(first, "FirstIndex")?,
            last_completed_index: index(last, "LastCompletedIndex")?,
            last_updated: UNIX_EPOCH + Duration::from_secs(index(updated, "LastUpdated")?),
            log,
        };
        if record.last_completed_index < record.first_index {
            bail!(
                "{}: inconsistent: LastCompletedIndex {} < FirstIndex {}",
                context(),
                record.last_completed_index,
                record.first_index
            );
        }
        Ok(Some(record))
    }

    fn save(&mut self, name: &CheckpointName, record: &CheckpointRecord) -> anyhow::Result<()> {
        if self.read_only {
            log::debug!("dry run: not saving checkpoint {name}");
            return Ok(());
        }
        let describe = self.backend.describe();
        let context = || format!("{describe}: saving checkpoint {name}");
        let signed = |value: u64| {
            i64::try_from(value).map_err(|_| anyhow!("{}: index {value} exceeds BIGINT", context()))
        };
        let first = signed(record.first_index)?;
        let last = signed(record.last_completed_index)?;
        let updated = record
            .last_updated
            .duration_since(UNIX_EPOCH)
            .with_context(|| format!("{}: lastUpdated before 1970", context()))?
            .as_secs();
        let shards = record
            .log
            .as_ref()
            .map(|log| serde_json::json!(log).to_string());
        self.reconnect_if_broken()?;
        let result = self.conn.exec_drop(
                "INSERT INTO BackfillCheckpoint (CheckpointKey, FirstIndex, LastCompletedIndex, LastUpdated, LogShards) \
                 VALUES (?, ?, ?, FROM_UNIXTIME(?), ?) \
                 ON DUPLICATE KEY UPDATE FirstIndex = ?, LastCompletedIndex = ?, LastUpdated = FROM_UNIXTIME(?), LogShards = ?",
                (name.as_str(), first, last, updated, &shards, first, last, updated, &shards),
            );
        result.map_err(|e| {
            let message = format!("{}: {}", context(), self.backend.explain(&e));
            self.failed(&e, message)
        })
    }

    fn delete(&mut self, name: &CheckpointName) -> anyhow::Result<()> {
        if self.read_only {
            log::debug!("dry run: not deleting checkpoint {name}");
            return Ok(());
        }
        self.reconnect_if_broken()?;
        let result = self.conn.exec_drop(
            "DELETE FROM BackfillCheckpoint WHERE CheckpointKey = ?",
            (name.as_str(),),
        );
        result.map_err(|e| {
            let message = format!(
                "{}: deleting checkpoint {name}: {e}",
                self.backend.describe()
            );
            self.failed(&e, message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(uuid: &str, keys: &[&str]) -> IndexedEntry {
        IndexedEntry {
            uuid: uuid.to_string(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn ddl_matches_rekor() {
        // Rekor v1.5.4 pkg/indexstorage/mysql/mysql.go createTableStmt,
        // whitespace aside.
        let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            squash(CREATE_ENTRY_INDEX),
            "CREATE TABLE IF NOT EXISTS EntryIndex ( EntryKey varchar(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL, EntryUUID char(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, PRIMARY KEY(EntryKey, EntryUUID) )"
        );
    }

    #[test]
    fn one_statement_for_a_small_batch() {
        let statements = build_statements(&[entry("u1", &["A", "b"]), entry("u2", &["C"])]);
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].sql,
            "INSERT IGNORE INTO EntryIndex (EntryKey, EntryUUID) VALUES (?,?),(?,?),(?,?)"
        );
        assert_eq!(
            statements[0].params,
            ["A", "u1", "b", "u1", "C", "u2"].map(Value::from).to_vec()
        );
        assert!(build_statements(&[]).is_empty());
        assert!(build_statements(&[entry("u", &[])]).is_empty());
    }

    #[test]
    fn split_by_rows() {
        let keys: Vec<String> = (0..2 * MAX_ROWS_PER_STATEMENT + 1)
            .map(|i| format!("k{i}"))
            .collect();
        let statements = build_statements(&[IndexedEntry {
            uuid: "u".to_string(),
            keys,
        }]);
        let rows: Vec<usize> = statements.iter().map(|s| s.rows).collect();
        assert_eq!(rows, [MAX_ROWS_PER_STATEMENT, MAX_ROWS_PER_STATEMENT, 1]);
        assert_eq!(
            statements[2].params,
            [Value::from("k2000"), Value::from("u")]
        );
    }

    #[test]
    fn split_by_bytes() {
        let big = "x".repeat(MAX_BYTES_PER_STATEMENT / 3);
        let huge = "y".repeat(MAX_BYTES_PER_STATEMENT * 2);
        let statements = build_statements(&[entry("u", &[&big, &big, &big, &huge, "small"])]);
        let rows: Vec<usize> = statements.iter().map(|s| s.rows).collect();
        // 3 × (len/3 + 1 byte uuid) > limit → 2 + 1, then the huge one alone.
        assert_eq!(rows, [2, 1, 1, 1]);
        for s in &statements {
            assert_eq!(s.params.len(), 2 * s.rows);
        }
    }

    #[test]
    fn describe_hides_password() {
        let backend =
            MysqlBackend::new(MysqlDsn::parse("test:zaphod@tcp(127.0.0.1:13306)/test").unwrap());
        assert_eq!(backend.describe(), "mysql test@127.0.0.1:13306/test");
        assert!(!format!("{backend:?}").contains("zaphod"));
    }
}
