//! Where index keys go: Redis or MySQL, behind one [`Sink`] trait, plus a
//! dry-run sink that writes nothing. Each rayon worker owns one sink (one
//! connection); the checkpoint thread owns one [`CheckpointStore`].

use crate::checkpoint::{CheckpointName, CheckpointStore};
use crate::config::BackendChoice;
pub use crate::config::{MysqlAddress, MysqlDsn, MysqlTls};
use crate::failures::FailureStore;
use crate::lease::{Lease, Owner};

mod long_lists;
mod mysql;
mod mysql_audit;
mod mysql_failures;
mod mysql_lease;
pub mod outage;
mod redis;
mod redis_audit;
mod redis_failures;
mod redis_fix_case;
mod redis_lease;

pub use self::long_lists::LongLists;
pub use self::mysql::MysqlBackend;
pub use self::redis::{checkpoint_key as redis_checkpoint_key, RedisBackend};
pub use self::redis_failures::failures_key as redis_failures_key;
pub use self::redis_fix_case::{fix_case, FixCaseReport};

/// Why a batch could not be written; both backends retry a batch once on a
/// new connection when the old one broke, but not when connecting failed.
enum WriteError<E> {
    /// No connection could be opened; retrying at once would not help.
    Connect(anyhow::Error),
    /// The backend refused or failed a command.
    Backend(E),
}

/// `host:port`, with an IPv6 host in brackets.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    format!("{}:{port}", bracket_ipv6(host))
}

/// An IPv6 address in brackets, any other host as it is.
fn bracket_ipv6(host: &str) -> std::borrow::Cow<'_, str> {
    if host.contains(':') {
        format!("[{host}]").into()
    } else {
        host.into()
    }
}

/// Installs `ring` as the process-wide rustls crypto provider.
///
/// The mysql and redis crates enable different rustls providers (aws-lc-rs
/// and ring); with both compiled in, rustls refuses to pick one and panics at
/// the first TLS handshake. Idempotent; the backends call it before they
/// connect, and `main` may call it early.
pub fn init_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The keys of one log entry, ready to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedEntry {
    /// The entry UUID as the server returned it (the index value).
    pub uuid: String,
    /// Keys in computation order, before backend normalisation.
    pub keys: Vec<String>,
}

/// A backend write failed. Fatal for the run: the entries of the batch are
/// not complete and the watermark must not pass them.
#[derive(Debug)]
pub struct SinkError(pub anyhow::Error);

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for SinkError {}

/// Writes index keys. When `write` returns `Ok`, every key of every entry in
/// the batch is durably in the backend; a rerun of the same batch changes
/// nothing (writes are idempotent).
pub trait Sink: Send {
    fn write(&mut self, entries: &[IndexedEntry]) -> Result<(), SinkError>;
}

/// `--dry-run`: accepts everything, writes nothing.
pub struct DrySink;

impl Sink for DrySink {
    fn write(&mut self, _entries: &[IndexedEntry]) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A backend as chosen by the flags; connects sinks and checkpoint stores.
pub trait Backend: Send + Sync {
    /// A human description without secrets, e.g. `redis 127.0.0.1:6379 (tls)`.
    fn describe(&self) -> String;
    /// One connection for one worker. Creates the index schema if needed.
    fn connect_sink(&self) -> anyhow::Result<Box<dyn Sink>>;
    /// One connection for the checkpoint thread. With `read_only` (dry run),
    /// the store must never write (no table creation, no saves).
    fn connect_checkpoint_store(&self, read_only: bool)
        -> anyhow::Result<Box<dyn CheckpointStore>>;
    /// The failure records beside the checkpoints ([`crate::failures`]),
    /// on a connection of their own. Creates their table if needed: only
    /// runs that write (never a dry run) connect one.
    fn connect_failure_store(&self) -> anyhow::Result<Box<dyn FailureStore>>;
    /// Takes the lease on checkpoint `name` for `owner`, on a connection of
    /// its own. Held by another run: an error that downcasts to
    /// [`crate::lease::LeaseHeld`], and nothing written.
    fn acquire_lease(&self, name: &CheckpointName, owner: &Owner)
        -> anyhow::Result<Box<dyn Lease>>;
}

/// The read side of the chosen backend, for `rekor-backfill audit`.
pub fn index_reader_for(
    choice: &BackendChoice,
) -> anyhow::Result<Box<dyn crate::audit::IndexReader>> {
    Ok(match choice {
        BackendChoice::Mysql { dsn } => Box::new(self::mysql_audit::MysqlIndexReader::connect(
            &MysqlBackend::new(dsn.clone()),
        )?),
        BackendChoice::Redis { .. } => Box::new(self::redis_audit::RedisIndexReader::connect(
            &redis_backend(choice)?,
        )?),
    })
}

/// The Redis backend of a Redis choice (`fix-case`); for MySQL, a usage
/// error: keys there are case-insensitive, there is nothing to fix.
pub fn redis_backend(choice: &BackendChoice) -> Result<RedisBackend, crate::config::UsageError> {
    redis_or_mysql(choice).map_err(|_| {
        crate::config::UsageError(
            "fix-case works on Redis only: MySQL's EntryIndex compares keys ignoring case, \
             so there is nothing to fix"
                .to_string(),
        )
    })
}

/// The backend the configuration chose (flags, DSN and URL are validated
/// by then, in [`crate::config`]).
pub fn backend_for(choice: &BackendChoice) -> Box<dyn Backend> {
    match redis_or_mysql(choice) {
        Ok(redis) => Box::new(redis),
        Err(dsn) => Box::new(MysqlBackend::new(dsn.clone())),
    }
}

/// The one place a Redis choice becomes a [`RedisBackend`]; a MySQL
/// choice gives its DSN.
fn redis_or_mysql(choice: &BackendChoice) -> Result<RedisBackend, &MysqlDsn> {
    match choice {
        BackendChoice::Redis {
            host,
            port,
            username,
            password,
            db,
            tls,
            insecure_skip_verify,
        } => Ok(RedisBackend {
            host: host.clone(),
            port: *port,
            username: username.clone(),
            password: password.clone(),
            db: *db,
            tls: *tls,
            insecure_skip_verify: *insecure_skip_verify,
            long_lists: LongLists::default(),
        }),
        BackendChoice::Mysql { dsn } => Err(dsn),
    }
}
