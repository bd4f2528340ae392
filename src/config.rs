//! Validated, resolved configuration (the "high level" arguments).
//!
//! Everything the user typed is checked here, once, before any thread starts:
//! backend choice (with the MySQL DSN and the Redis URL parsed), durations,
//! headers, checkpoint name. Nothing downstream re-validates flags. Secrets
//! are wrapped in [`Secret`] so `Debug` of a `Config` is safe to log.
//!
//! The old helm-chart flags of Rekor's first `backfill-redis` (`--hostname`,
//! `--port`, `--password`, `--enable-tls`, `--insecure-skip-verify`) are
//! folded into their `--redis-*` names here, with a deprecation warning.

use std::fmt;
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use crate::checkpoint::CheckpointName;
use crate::cli::{Args, Program};
use crate::duration::parse_go_duration;
use crate::logger::LogFormat;
use crate::metrics::{MetricsConfig, PushgatewayConfig};
use crate::redact::Secret;
use crate::shard::ShardPart;

mod address;
mod mysql_dsn;
mod redis_url;

pub use self::mysql_dsn::{MysqlAddress, MysqlDsn, MysqlTls};
pub use self::redis_url::RedisUrl;

/// A problem with the command line or the environment: exit status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// How Rekor is reached.
#[derive(Debug, Clone)]
pub struct RekorConfig {
    /// Base URL without a trailing slash, e.g. `https://rekor.sigstore.dev`.
    pub address: String,
    /// Extra request headers; values may be credentials.
    pub headers: Vec<(String, Secret)>,
    pub retry: RetryPolicy,
    pub keepalive: bool,
}

/// Retries of a Rekor request, with the Go tool's semantics: `retries` after
/// the first attempt, backoff `wait_min × 2^attempt` capped at `wait_max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub retries: u32,
    pub wait_min: Duration,
    pub wait_max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        // 6 retries wait 1+2+4+8+16+30 s: a Rekor restart of 30 s is
        // survived, a server down for good ends the run after about a minute.
        RetryPolicy {
            retries: 6,
            wait_min: Duration::from_secs(1),
            wait_max: Duration::from_secs(30),
        }
    }
}

/// Which backend holds the index (and the checkpoint).
#[derive(Debug, Clone)]
pub enum BackendChoice {
    Redis {
        host: String,
        port: u16,
        /// ACL user (`--redis-url` only); `None` is Redis' `default` user.
        username: Option<String>,
        password: Option<Secret>,
        /// Logical database (`--redis-url` only).
        db: u32,
        tls: bool,
        insecure_skip_verify: bool,
    },
    Mysql {
        dsn: MysqlDsn,
    },
}

/// Where the entries are read from.
#[derive(Debug, Clone)]
pub enum SourceChoice {
    /// Rekor's API at `--rekor-address`.
    RekorApi,
    /// Trillian's database (`--trillian-mysql-dsn`). The layout comes from
    /// `tree_ids` (oldest first) or, when empty, from `GET /api/v1/log`.
    Trillian {
        dsn: MysqlDsn,
        tree_ids: Vec<i64>,
        /// `--attestations-from-rekor`: the attestations of intoto and
        /// cose entries through the API.
        attestations_from_rekor: bool,
        /// `--trillian-batch-size`: leaves per range query (one task).
        batch_size: NonZeroU64,
    },
}

/// What to do with checkpoints.
#[derive(Debug, Clone)]
pub struct CheckpointPolicy {
    pub name: CheckpointName,
    /// Save after this many newly completed indices; `None` disables
    /// checkpointing (no load, no save).
    pub interval: Option<NonZeroU64>,
    pub reset: bool,
}

pub const DEFAULT_CHECKPOINT_INTERVAL: u64 = 1000;

#[derive(Debug, Clone)]
pub struct Config {
    /// Rekor's API; its address is empty only with the Trillian source and
    /// `--trillian-tree-ids`, when nothing is asked of Rekor.
    pub rekor: RekorConfig,
    pub source: SourceChoice,
    pub backend: BackendChoice,
    /// `--start` as given; `None` means "0, or resume from the checkpoint".
    pub start: Option<u64>,
    /// `--end` as given; `None` means "the log's current last index".
    pub end: Option<u64>,
    pub concurrency: NonZeroUsize,
    pub dry_run: bool,
    pub checkpoint: CheckpointPolicy,
    pub failed_entries: Option<PathBuf>,
    pub log_format: LogFormat,
    /// `--summary json`, or JSON logs: a final JSON line on stdout.
    pub summary_json: bool,
    pub metrics: MetricsConfig,
    /// `--shard-count`: `start` and `end` are then this shard's part, and
    /// the checkpoint name carries the shard suffix.
    pub shard: Option<ShardPart>,
    /// `--verify-log`: check each entry's SET, inclusion proof and
    /// checkpoint before indexing it.
    pub verify_log: bool,
    /// `--rekor-public-key`: the log key, instead of asking the server.
    pub rekor_public_key: Option<PathBuf>,
    /// `--backend-retry-max`: how long a backend outage is waited out.
    pub backend_retry_max: Duration,
}

/// `--backend-retry-max` by default: a restart or failover of a minute.
pub const DEFAULT_BACKEND_RETRY_MAX: Duration = Duration::from_secs(60);

impl Config {
    /// Validates `args` for `rekor-backfill`. `env` looks up environment
    /// variables (a parameter so tests need not touch the process
    /// environment).
    pub fn from_args(
        args: &Args,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, UsageError> {
        Config::for_program(Program::RekorBackfill, args, env)
    }

    /// Validates `args` for the program the binary was started as.
    pub fn for_program(
        program: Program,
        args: &Args,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, UsageError> {
        let backend = backend_choice(program, args, env)?;
        let source = source_choice(args, env)?;
        let needs_rekor = match &source {
            SourceChoice::RekorApi => true,
            SourceChoice::Trillian {
                tree_ids,
                attestations_from_rekor,
                ..
            } => tree_ids.is_empty() || *attestations_from_rekor,
        };
        if args.verify_log
            && matches!(&source, SourceChoice::Trillian { tree_ids, .. } if !tree_ids.is_empty())
        {
            return usage(
                "--verify-log with --trillian-mysql-dsn checks each tree against the signed tree \
                 head GET /api/v1/log serves: give --rekor-address instead of --trillian-tree-ids \
                 (the trees and sizes then come with their signed heads)",
            );
        }
        let rekor = rekor_config(args, needs_rekor)?;
        let concurrency = match args.concurrency {
            None => NonZeroUsize::MIN,
            Some(n) => match NonZeroUsize::new(n) {
                Some(n) if n.get() <= 1024 => n,
                _ => return usage("--concurrency must be between 1 and 1024"),
            },
        };
        if let (Some(start), Some(end)) = (args.start, args.end) {
            if end < start {
                return usage(format!("--end {end} is before --start {start}"));
            }
        }
        let shard = shard_part(args, env)?;
        if args.rekor_public_key.is_some() && !args.verify_log {
            return usage("--rekor-public-key needs --verify-log");
        }
        let base_name = args.checkpoint_key.as_deref().unwrap_or("default");
        let name = match &shard {
            None => CheckpointName::parse(base_name),
            Some(shard) => {
                CheckpointName::parse(&format!("{base_name}{}", shard.checkpoint_suffix()))
                    .map_err(|e| format!("{e} (with the shard suffix)"))
            }
        }
        .map_err(UsageError)?;
        let (start, end) = match &shard {
            None => (args.start, args.end),
            Some(shard) => (Some(*shard.part.start()), Some(*shard.part.end())),
        };
        let interval = NonZeroU64::new(
            args.checkpoint_interval
                .unwrap_or(DEFAULT_CHECKPOINT_INTERVAL),
        );
        if interval.is_none() && args.reset_checkpoint {
            return usage("--reset-checkpoint needs checkpointing on (--checkpoint-interval > 0)");
        }
        Ok(Config {
            rekor,
            source,
            backend,
            start,
            end,
            concurrency,
            dry_run: args.dry_run,
            checkpoint: CheckpointPolicy {
                name,
                interval,
                reset: args.reset_checkpoint,
            },
            failed_entries: args.failed_entries.as_ref().map(PathBuf::from),
            log_format: log_format(args)?,
            summary_json: summary_json(args)?,
            metrics: metrics_config(args)?,
            shard,
            verify_log: args.verify_log,
            rekor_public_key: args.rekor_public_key.as_ref().map(PathBuf::from),
            backend_retry_max: backend_retry_max(args)?,
        })
    }
}

/// `--backend-retry-max`: a Go duration, at most a day (a longer outage
/// is better reported than waited out).
fn backend_retry_max(args: &Args) -> Result<Duration, UsageError> {
    let Some(text) = &args.backend_retry_max else {
        return Ok(DEFAULT_BACKEND_RETRY_MAX);
    };
    let max =
        parse_go_duration(text).map_err(|e| UsageError(format!("--backend-retry-max: {e}")))?;
    if max > Duration::from_secs(86_400) {
        return usage("--backend-retry-max must be at most 24h");
    }
    Ok(max)
}

fn log_format(args: &Args) -> Result<LogFormat, UsageError> {
    args.log_format
        .as_deref()
        .map_or(Ok(LogFormat::Text), LogFormat::parse)
        .map_err(UsageError)
}

/// Whether the run ends with a JSON summary line on stdout: asked for, or
/// implied by JSON logs.
pub fn summary_json(args: &Args) -> Result<bool, UsageError> {
    match args.summary.as_deref() {
        Some("json") => Ok(true),
        Some(other) => usage(format!("--summary must be \"json\", got {other:?}")),
        None => Ok(log_format(args)? == LogFormat::Json),
    }
}

pub const DEFAULT_PUSHGATEWAY_JOB: &str = "rekor-backfill";
pub const DEFAULT_PUSHGATEWAY_INTERVAL: Duration = Duration::from_secs(15);

fn metrics_config(args: &Args) -> Result<MetricsConfig, UsageError> {
    let textfile = match args.metrics_textfile.as_deref() {
        Some("") => return usage("--metrics-textfile is empty"),
        other => other.map(PathBuf::from),
    };
    let pushgateway = match args.pushgateway.as_deref() {
        None => {
            if args.pushgateway_job.is_some() || args.pushgateway_interval.is_some() {
                return usage("--pushgateway-job and --pushgateway-interval need --pushgateway");
            }
            None
        }
        Some(url) => {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://"))
                || url.contains(['?', '#', '@'])
                || url.chars().any(char::is_whitespace)
            {
                // Not quoted back: it may hold credentials.
                return usage(
                    "--pushgateway must be a plain http:// or https:// base URL \
                     (no credentials, query, fragment or spaces)",
                );
            }
            let job = args
                .pushgateway_job
                .clone()
                .unwrap_or_else(|| DEFAULT_PUSHGATEWAY_JOB.to_string());
            // A path segment of the push URL: the checkpoint name's rules.
            CheckpointName::parse(&job)
                .map_err(|e| UsageError(e.replace("--checkpoint-key", "--pushgateway-job")))?;
            let interval = match &args.pushgateway_interval {
                None => DEFAULT_PUSHGATEWAY_INTERVAL,
                Some(text) => parse_go_duration(text)
                    .map_err(|e| UsageError(format!("--pushgateway-interval: {e}")))?,
            };
            if interval.is_zero() {
                return usage("--pushgateway-interval must be more than 0");
            }
            Some(PushgatewayConfig {
                url: url.trim_end_matches('/').to_string(),
                job,
                interval,
            })
        }
    };
    Ok(MetricsConfig {
        textfile,
        pushgateway,
    })
}

/// `--shard-count` with `--shard-index` or `$JOB_COMPLETION_INDEX` (what a
/// Kubernetes Indexed Job sets in each pod).
fn shard_part(
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ShardPart>, UsageError> {
    let Some(count) = args.shard_count else {
        if args.shard_index.is_some() {
            return usage("--shard-index needs --shard-count");
        }
        return Ok(None);
    };
    let index = match args.shard_index {
        Some(index) => index,
        None => match env("JOB_COMPLETION_INDEX") {
            Some(text) => text.trim().parse().map_err(|_| {
                UsageError(format!(
                    "JOB_COMPLETION_INDEX must be a shard index, got {text:?}"
                ))
            })?,
            None => {
                return usage(
                    "--shard-count needs --shard-index (or JOB_COMPLETION_INDEX, as a Kubernetes Indexed Job sets it)",
                )
            }
        },
    };
    let Some(end) = args.end else {
        return usage(
            "--shard-count needs an explicit --end, the same for every shard, so that all split the same range \
             (e.g. the log's last index, read once when the Job is created)",
        );
    };
    ShardPart::of(args.start.unwrap_or(0)..=end, count, index)
        .map(Some)
        .map_err(UsageError)
}

/// The Go tool's rules: MySQL if a DSN is given, Redis if any Redis flag is;
/// both is ambiguous; neither is an error. Secrets from the environment only
/// fill in, they never choose the backend. As `backfill-redis`, Redis only.
pub fn backend_choice(
    program: Program,
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BackendChoice, UsageError> {
    let redis = RedisFlags::from_args(args)?;
    let redis_flags = redis.hostname.is_some()
        || redis.port.is_some()
        || redis.password.is_some()
        || args.redis_url.is_some();
    if program == Program::BackfillRedis {
        if args.mysql_dsn.is_some() {
            return usage(
                "backfill-redis writes to Redis only: --mysql-dsn is not accepted under this name (run it as rekor-backfill)",
            );
        }
        return redis_choice(&redis, args, env);
    }
    if args.mysql_dsn.is_some() && redis_flags {
        return usage(
            "Ambiguous backend: set either --mysql-dsn (MySQL) or --redis-hostname/--redis-port (Redis), not both",
        );
    }
    if redis_flags || (args.mysql_dsn.is_none() && env("MYSQL_DSN").is_none() && redis.enable_tls) {
        return redis_choice(&redis, args, env);
    }
    if let Some(dsn) = args.mysql_dsn.clone().or_else(|| env("MYSQL_DSN")) {
        if dsn.is_empty() {
            return usage("--mysql-dsn is empty");
        }
        return Ok(BackendChoice::Mysql {
            dsn: MysqlDsn::parse(&dsn).map_err(UsageError)?,
        });
    }
    usage("Must set --mysql-dsn (or MYSQL_DSN) for MySQL or --redis-hostname and --redis-port for Redis")
}

/// The Redis flags, with the deprecated names of the old `backfill-redis`
/// (Rekor's helm chart) folded into the `--redis-*` ones.
struct RedisFlags {
    hostname: Option<String>,
    port: Option<String>,
    password: Option<String>,
    enable_tls: bool,
    insecure_skip_verify: bool,
}

impl RedisFlags {
    fn from_args(args: &Args) -> Result<RedisFlags, UsageError> {
        Ok(RedisFlags {
            hostname: aliased(
                &args.redis_hostname,
                "redis-hostname",
                &args.hostname,
                "hostname",
            )?,
            port: aliased(&args.redis_port, "redis-port", &args.port, "port")?,
            password: aliased(
                &args.redis_password,
                "redis-password",
                &args.password,
                "password",
            )?,
            enable_tls: aliased_switch(args.redis_enable_tls, args.enable_tls, "enable-tls"),
            insecure_skip_verify: aliased_switch(
                args.redis_insecure_skip_verify,
                args.insecure_skip_verify,
                "insecure-skip-verify",
            ),
        })
    }
}

fn deprecated(old: &str) {
    log::warn!("--{old} is deprecated (a flag of the old backfill-redis); use --redis-{old}");
}

/// The value of `--{new}` or of its deprecated alias `--{old}`; both is an error.
fn aliased(
    new: &Option<String>,
    new_name: &str,
    old: &Option<String>,
    old_name: &str,
) -> Result<Option<String>, UsageError> {
    match (new, old) {
        (Some(_), Some(_)) => usage(format!(
            "--{old_name} is the deprecated name of --{new_name}: give only one"
        )),
        (None, Some(value)) => {
            deprecated(old_name);
            Ok(Some(value.clone()))
        }
        (new, None) => Ok(new.clone()),
    }
}

fn aliased_switch(new: bool, old: bool, old_name: &str) -> bool {
    if old {
        deprecated(old_name);
    }
    new || old
}

fn redis_choice(
    flags: &RedisFlags,
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BackendChoice, UsageError> {
    let fallback_password = || {
        flags
            .password
            .clone()
            .or_else(|| env("REDIS_PASSWORD"))
            .filter(|p| !p.is_empty())
            .map(Secret::new)
    };
    if let Some(url) = &args.redis_url {
        if flags.hostname.is_some() || flags.port.is_some() {
            return usage(
                "--redis-url and --redis-hostname/--redis-port both name the Redis server: give one",
            );
        }
        let url = RedisUrl::parse(url).map_err(UsageError)?;
        if flags.enable_tls && !url.tls {
            return usage("--redis-enable-tls with a redis:// URL: use rediss:// for TLS");
        }
        let password = match url.password {
            Some(_) if flags.password.is_some() => {
                return usage(
                    "the Redis password is given twice, in --redis-url and in --redis-password: give it once",
                )
            }
            Some(password) => Some(password),
            None => fallback_password(),
        };
        if let (Some(user), None) = (&url.username, &password) {
            return usage(format!(
                "--redis-url names the ACL user {user:?} but no password: add it to the URL, or set --redis-password or REDIS_PASSWORD"
            ));
        }
        return Ok(BackendChoice::Redis {
            host: url.host,
            port: url.port,
            username: url.username,
            password,
            db: url.db,
            tls: url.tls,
            insecure_skip_verify: flags.insecure_skip_verify,
        });
    }
    let Some(host) = flags.hostname.clone().filter(|h| !h.is_empty()) else {
        return usage("Redis address must be set (--redis-hostname or --redis-url)");
    };
    let Some(port) = flags.port.as_deref().filter(|p| !p.is_empty()) else {
        return usage("Redis port must be set (--redis-port)");
    };
    let port: u16 = match port.parse() {
        Ok(p) if p > 0 => p,
        _ => {
            return usage(format!(
                "--redis-port must be a port number 1-65535, got {port:?}"
            ))
        }
    };
    Ok(BackendChoice::Redis {
        host,
        port,
        username: None,
        password: fallback_password(),
        db: 0,
        tls: flags.enable_tls,
        insecure_skip_verify: flags.insecure_skip_verify,
    })
}

/// Leaves per range query of the Trillian source: a statement and a backend
/// write carry a hundred entries (per-chunk costs were a third of a run's CPU
/// at ten); a kill repeats at most a few chunks per worker.
pub const TRILLIAN_BATCH_SIZE: NonZeroU64 = NonZeroU64::new(100).unwrap();
/// Beyond this one statement's rows (up to ~128 KiB each) stop fitting
/// comfortably in a worker's memory.
const MAX_TRILLIAN_BATCH_SIZE: u64 = 10_000;

/// `--trillian-mysql-dsn` (or `TRILLIAN_MYSQL_DSN`), `--trillian-tree-ids`
/// and `--trillian-batch-size`.
fn source_choice(
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SourceChoice, UsageError> {
    let Some(dsn) = args
        .trillian_mysql_dsn
        .clone()
        .or_else(|| env("TRILLIAN_MYSQL_DSN"))
    else {
        if args.trillian_tree_ids.is_some() {
            return usage("--trillian-tree-ids needs --trillian-mysql-dsn");
        }
        if args.attestations_from_rekor {
            return usage("--attestations-from-rekor needs --trillian-mysql-dsn");
        }
        if args.trillian_batch_size.is_some() {
            return usage("--trillian-batch-size needs --trillian-mysql-dsn");
        }
        return Ok(SourceChoice::RekorApi);
    };
    if dsn.is_empty() {
        return usage("--trillian-mysql-dsn is empty");
    }
    // The parser names the backend's flag; this is the source's.
    let dsn = MysqlDsn::parse(&dsn)
        .map_err(|e| UsageError(e.replacen("--mysql-dsn", "--trillian-mysql-dsn", 1)))?;
    let tree_ids = match &args.trillian_tree_ids {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|id| match id.trim().parse::<i64>() {
                Ok(id) if id > 0 => Ok(id),
                _ => usage(format!(
                    "--trillian-tree-ids: {id:?} is not a Trillian tree ID (a positive int64)"
                )),
            })
            .collect::<Result<_, _>>()?,
    };
    let batch_size = match args.trillian_batch_size {
        None => TRILLIAN_BATCH_SIZE,
        Some(n) => match NonZeroU64::new(n).filter(|n| n.get() <= MAX_TRILLIAN_BATCH_SIZE) {
            Some(n) => n,
            None => {
                return usage(format!(
                    "--trillian-batch-size must be 1..={MAX_TRILLIAN_BATCH_SIZE} (got {n})"
                ))
            }
        },
    };
    Ok(SourceChoice::Trillian {
        dsn,
        tree_ids,
        attestations_from_rekor: args.attestations_from_rekor,
        batch_size,
    })
}

/// `required`: false when nothing is asked of Rekor (the Trillian source
/// with its tree IDs given); the address is then empty unless set.
fn rekor_config(args: &Args, required: bool) -> Result<RekorConfig, UsageError> {
    let address = match args.rekor_address.as_deref().filter(|a| !a.is_empty()) {
        Some(address) => address,
        None if !required => "",
        None => return usage("--rekor-address must be set"),
    };
    if !address.is_empty() {
        check_rekor_address(address)?;
    }
    let mut headers = Vec::with_capacity(args.rekor_header.len());
    for header in &args.rekor_header {
        // Go's tool splits on every '=' and keeps only the second part; we
        // keep the whole value after the first '=' (tokens may contain '=').
        let Some((name, value)) = header.split_once('=') else {
            return usage("--rekor-header must be key=value (no '=' found)");
        };
        let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(is_token_char) {
            return usage(format!(
                "--rekor-header has an invalid header name {name:?}"
            ));
        }
        if value.contains(['\r', '\n', '\0']) {
            return usage(format!(
                "--rekor-header {name} has a control character in its value"
            ));
        }
        headers.push((name.to_string(), Secret::new(value)));
    }
    let defaults = RetryPolicy::default();
    let wait = |flag: &str, value: &Option<String>, default: Duration| match value {
        None => Ok(default),
        Some(text) => parse_go_duration(text).map_err(|e| UsageError(format!("--{flag}: {e}"))),
    };
    let retry = RetryPolicy {
        retries: args.rekor_retry_count.unwrap_or(defaults.retries),
        wait_min: wait(
            "rekor-retry-wait-min",
            &args.rekor_retry_wait_min,
            defaults.wait_min,
        )?,
        wait_max: wait(
            "rekor-retry-wait-max",
            &args.rekor_retry_wait_max,
            defaults.wait_max,
        )?,
    };
    if retry.wait_min > retry.wait_max {
        return usage("--rekor-retry-wait-min is larger than --rekor-retry-wait-max");
    }
    Ok(RekorConfig {
        address: address.trim_end_matches('/').to_string(),
        headers,
        retry,
        keepalive: !args.rekor_disable_keepalives,
    })
}

/// `--rekor-address` is a plain http(s) base URL with a host.
fn check_rekor_address(address: &str) -> Result<(), UsageError> {
    let lower = address.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return usage(format!(
            "--rekor-address must be an http:// or https:// URL, got {address:?}"
        ));
    }
    let after_scheme = &address[address.find("://").map_or(0, |i| i + 3)..];
    if after_scheme.is_empty() || after_scheme.starts_with('/') {
        return usage(format!("--rekor-address has no host: {address:?}"));
    }
    if address.contains(['?', '#']) || address.chars().any(char::is_whitespace) {
        return usage(format!(
            "--rekor-address must be a plain base URL (no query, fragment or spaces): {address:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{normalize_go_args, Args};
    use argh::FromArgs;

    fn args(list: &[&str]) -> Args {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        let list = normalize_go_args(&list).unwrap();
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        Args::from_args(&["rekor-backfill"], &refs).unwrap()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn config(list: &[&str]) -> Result<Config, UsageError> {
        Config::from_args(&args(list), &no_env)
    }

    const REKOR: &str = "--rekor-address=http://127.0.0.1:3000/";

    #[test]
    fn redis_minimal() {
        let c = config(&[REKOR, "--redis-hostname=h", "--redis-port=6379"]).unwrap();
        assert_eq!(c.rekor.address, "http://127.0.0.1:3000");
        assert!(matches!(c.backend, BackendChoice::Redis { port: 6379, .. }));
        assert_eq!(c.start, None);
        assert_eq!(c.concurrency.get(), 1);
        assert_eq!(c.rekor.retry, RetryPolicy::default());
        assert!(c.rekor.keepalive);
        assert_eq!(c.checkpoint.interval.map(|n| n.get()), Some(1000));
        assert_eq!(c.checkpoint.name.as_str(), "default");
    }

    #[test]
    fn trillian_source_flags() {
        const REDIS: [&str; 2] = ["--redis-hostname=h", "--redis-port=1"];
        let dsn = "--trillian-mysql-dsn=reader:s3cret@tcp(db:3306)/trillian";
        let c = config(&[&REDIS[..], &[dsn, "--trillian-tree-ids=7, 9"]].concat()).unwrap();
        match &c.source {
            SourceChoice::Trillian { dsn, tree_ids, .. } => {
                assert_eq!(dsn.describe(), "mysql reader@db:3306/trillian");
                assert_eq!(tree_ids, &[7, 9]);
            }
            other => panic!("expected the Trillian source, got {other:?}"),
        }
        assert_eq!(c.rekor.address, "", "no Rekor needed with tree IDs");
        let c = config(&[&REDIS[..], &[REKOR, dsn]].concat()).unwrap();
        assert!(
            matches!(&c.source, SourceChoice::Trillian { tree_ids, .. } if tree_ids.is_empty())
        );
        let from_env = |name: &str| (name == "TRILLIAN_MYSQL_DSN").then(|| "u:p@/t".to_string());
        let c = Config::from_args(&args(&[&REDIS[..], &[REKOR]].concat()), &from_env).unwrap();
        assert!(matches!(c.source, SourceChoice::Trillian { .. }));
        assert!(matches!(
            config(&[&REDIS[..], &[REKOR]].concat()).unwrap().source,
            SourceChoice::RekorApi
        ));

        let err = |l: &[&str]| config(&[&REDIS[..], l].concat()).unwrap_err().0;
        assert!(err(&[dsn]).contains("--rekor-address must be set"));
        assert!(err(&[REKOR, "--trillian-tree-ids=1"]).contains("needs --trillian-mysql-dsn"));
        assert!(err(&[REKOR, "--attestations-from-rekor"]).contains("needs --trillian-mysql-dsn"));
        let ids = "--trillian-tree-ids=1";
        assert!(
            err(&[dsn, ids, "--attestations-from-rekor"]).contains("--rekor-address must be set")
        );
        let c = config(&[&REDIS[..], &[REKOR, dsn, ids, "-attestations-from-rekor"]].concat());
        assert!(matches!(
            c.unwrap().source,
            SourceChoice::Trillian {
                attestations_from_rekor: true,
                ..
            }
        ));
        assert!(err(&[dsn, "--trillian-tree-ids=1,x"]).contains("\"x\" is not a Trillian tree ID"));
        assert!(err(&[dsn, "--trillian-tree-ids=0"]).contains("not a Trillian tree ID"));
        assert!(matches!(
            config(&[&REDIS[..], &[REKOR, dsn, "--verify-log"]].concat())
                .unwrap()
                .source,
            SourceChoice::Trillian { .. }
        ));
        let ids_only = err(&[dsn, ids, "--verify-log"]);
        assert!(
            ids_only.contains("--rekor-address instead of --trillian-tree-ids"),
            "{ids_only}"
        );
        assert!(err(&[REKOR, dsn, ids, "--verify-log"]).contains("--trillian-tree-ids"));
        let bad = err(&[
            "--trillian-mysql-dsn=reader:s3cret@udp(db:1)/t",
            "--trillian-tree-ids=1",
        ]);
        assert!(
            bad.starts_with("invalid --trillian-mysql-dsn") && !bad.contains("s3cret"),
            "{bad}"
        );
    }

    #[test]
    fn trillian_batch_size() {
        const REDIS: [&str; 3] = [REKOR, "--redis-hostname=h", "--redis-port=1"];
        let dsn = "--trillian-mysql-dsn=reader:s3cret@tcp(db:3306)/trillian";
        let batch = |l: &[&str]| match config(&[&REDIS[..], l].concat()).map(|c| c.source) {
            Ok(SourceChoice::Trillian { batch_size, .. }) => Ok(batch_size.get()),
            Ok(other) => panic!("expected the Trillian source, got {other:?}"),
            Err(e) => Err(e.0),
        };
        assert_eq!(batch(&[dsn]), Ok(100));
        assert_eq!(batch(&[dsn, "--trillian-batch-size=10"]), Ok(10));
        assert_eq!(batch(&[dsn, "--trillian-batch-size=10000"]), Ok(10_000));
        for bad in ["0", "10001"] {
            let e = batch(&[dsn, &format!("--trillian-batch-size={bad}")]).unwrap_err();
            assert!(e.contains("--trillian-batch-size must be 1..=10000"), "{e}");
        }
        let e = config(&[&REDIS[..], &["--trillian-batch-size=10"]].concat()).unwrap_err();
        assert!(
            e.0.contains("--trillian-batch-size needs --trillian-mysql-dsn"),
            "{e:?}"
        );
    }

    #[test]
    fn go_tool_backend_rules() {
        let err = |l: &[&str]| config(l).unwrap_err().0;
        assert!(err(&[REKOR, "--mysql-dsn=a@/b", "--redis-hostname=h"]).contains("Ambiguous"));
        assert!(err(&[REKOR]).contains("Must set --mysql-dsn"));
        assert!(err(&[REKOR, "--redis-port=1"]).contains("Redis address must be set"));
        assert!(err(&[REKOR, "--redis-hostname=h"]).contains("Redis port must be set"));
        assert!(err(&[REKOR, "--redis-hostname=h", "--redis-port=x"]).contains("port number"));
        assert!(
            err(&["--redis-hostname=h", "--redis-port=1"]).contains("--rekor-address must be set")
        );
        assert!(err(&[
            "--rekor-address=ftp://x",
            "--redis-hostname=h",
            "--redis-port=1"
        ])
        .contains("http"));
    }

    #[test]
    fn secrets_from_environment_fill_in_only() {
        let env = |name: &str| match name {
            "REDIS_PASSWORD" => Some("hunter2".to_string()),
            "MYSQL_DSN" => Some("u:p@tcp(h:1)/d".to_string()),
            _ => None,
        };
        let c = Config::from_args(
            &args(&[REKOR, "--redis-hostname=h", "--redis-port=1"]),
            &env,
        )
        .unwrap();
        match c.backend {
            BackendChoice::Redis { password, .. } => {
                assert_eq!(password.unwrap().expose(), "hunter2")
            }
            other => panic!("expected redis, got {other:?}"),
        }
        let c = Config::from_args(&args(&[REKOR]), &env).unwrap();
        assert!(matches!(c.backend, BackendChoice::Mysql { .. }));
        // Debug output never shows a secret.
        assert!(!format!("{c:?}").contains("u:p@"));
    }

    #[test]
    fn headers_and_durations() {
        let c = config(&[
            REKOR,
            "--redis-hostname=h",
            "--redis-port=1",
            "--rekor-header=Authorization=Bearer a=b",
            "--rekor-retry-wait-min=10ms",
            "--rekor-retry-wait-max=1m30s",
            "--rekor-retry-count=0",
        ])
        .unwrap();
        assert_eq!(c.rekor.headers[0].0, "Authorization");
        assert_eq!(c.rekor.headers[0].1.expose(), "Bearer a=b");
        assert!(!format!("{c:?}").contains("Bearer"));
        assert_eq!(c.rekor.retry.wait_min, Duration::from_millis(10));
        assert_eq!(c.rekor.retry.wait_max, Duration::from_secs(90));
        assert_eq!(c.rekor.retry.retries, 0);
        let backend = |extra: &str| config(&[REKOR, "--redis-hostname=h", "--redis-port=1", extra]);
        assert_eq!(
            backend("--start=0").unwrap().backend_retry_max,
            Duration::from_secs(60)
        );
        assert_eq!(
            backend("--backend-retry-max=2m30s")
                .unwrap()
                .backend_retry_max,
            Duration::from_secs(150)
        );
        assert!(backend("--backend-retry-max=5")
            .unwrap_err()
            .0
            .contains("--backend-retry-max"));
        assert!(backend("--backend-retry-max=25h")
            .unwrap_err()
            .0
            .contains("24h"));
        let bad = |h: &str| {
            config(&[
                REKOR,
                "--redis-hostname=h",
                "--redis-port=1",
                "--rekor-header",
                h,
            ])
            .unwrap_err()
        };
        assert!(bad("novalue").0.contains("key=value"));
        assert!(!bad("novalue-secret").0.contains("secret"));
        assert!(bad("bad name=x").0.contains("invalid header name"));
        let e = config(&[
            REKOR,
            "--redis-hostname=h",
            "--redis-port=1",
            "--rekor-retry-wait-min=2s",
            "--rekor-retry-wait-max=1s",
        ])
        .unwrap_err();
        assert!(e.0.contains("larger"));
        let e = config(&[
            REKOR,
            "--redis-hostname=h",
            "--redis-port=1",
            "--rekor-retry-wait-min=5",
        ])
        .unwrap_err();
        assert!(e.0.contains("--rekor-retry-wait-min"));
    }

    #[test]
    fn range_and_checkpoint_flags() {
        let base = [REKOR, "--redis-hostname=h", "--redis-port=1"];
        let with = |extra: &[&str]| {
            let mut l = base.to_vec();
            l.extend_from_slice(extra);
            config(&l)
        };
        assert!(with(&["--start=5", "--end=4"])
            .unwrap_err()
            .0
            .contains("before"));
        assert!(with(&["--start=5", "--end=5"]).is_ok());
        assert!(with(&["--concurrency=0"]).is_err());
        assert!(with(&["--checkpoint-key=a b"]).is_err());
        let c = with(&["--checkpoint-interval=0"]).unwrap();
        assert!(c.checkpoint.interval.is_none());
        assert!(with(&["--checkpoint-interval=0", "--reset-checkpoint"]).is_err());
        let c = with(&[
            "--checkpoint-key=nightly",
            "--reset-checkpoint",
            "--dry-run",
        ])
        .unwrap();
        assert!(c.checkpoint.reset && c.dry_run);
        assert_eq!(c.checkpoint.name.as_str(), "nightly");
    }

    /// The Redis part of a config, as a tuple that is easy to compare.
    fn redis(c: &Config) -> (String, u16, Option<String>, Option<String>, u32, bool, bool) {
        match &c.backend {
            BackendChoice::Redis {
                host,
                port,
                username,
                password,
                db,
                tls,
                insecure_skip_verify,
            } => (
                host.clone(),
                *port,
                username.clone(),
                password.as_ref().map(|p| p.expose().to_string()),
                *db,
                *tls,
                *insecure_skip_verify,
            ),
            other => panic!("expected redis, got {other:?}"),
        }
    }

    #[test]
    fn old_helm_chart_flags_are_aliases() {
        let c = config(&[
            REKOR,
            "--hostname=h",
            "--port=7",
            "--password=pw",
            "--enable-tls",
            "--insecure-skip-verify",
        ])
        .unwrap();
        assert_eq!(
            redis(&c),
            ("h".into(), 7, None, Some("pw".into()), 0, true, true)
        );
        // mixed with the new names
        let c = config(&[REKOR, "--hostname=h", "--redis-port=7"]).unwrap();
        assert_eq!(redis(&c).1, 7);
        // the old --port alone chooses Redis, like --redis-port
        let err = config(&[REKOR, "--port=7"]).unwrap_err().0;
        assert!(err.contains("Redis address must be set"), "{err}");
        for list in [
            [
                REKOR,
                "--hostname=a",
                "--redis-hostname=b",
                "--redis-port=1",
            ],
            [REKOR, "--port=1", "--redis-port=2", "--redis-hostname=h"],
            [
                REKOR,
                "--password=a",
                "--redis-password=b",
                "--redis-hostname=h",
            ],
        ] {
            let err = config(&list).unwrap_err().0;
            assert!(err.contains("deprecated name"), "{list:?}: {err}");
            assert!(!err.contains("=a") && !err.contains("=b"), "{err}");
        }
        let err = config(&[REKOR, "--mysql-dsn=u@/d", "--hostname=h"])
            .unwrap_err()
            .0;
        assert!(err.contains("Ambiguous"), "{err}");
    }

    #[test]
    fn redis_url_with_acl_user_and_db() {
        let c = config(&[REKOR, "--redis-url=rediss://idx:s3cret@r.example:6380/4"]).unwrap();
        assert_eq!(
            redis(&c),
            (
                "r.example".into(),
                6380,
                Some("idx".into()),
                Some("s3cret".into()),
                4,
                true,
                false
            )
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = config(&[
            REKOR,
            "--redis-url=redis://h",
            "--redis-insecure-skip-verify",
        ])
        .unwrap();
        assert_eq!(redis(&c), ("h".into(), 6379, None, None, 0, false, true));
        // the password may come from the flag or the environment instead
        let env = |name: &str| (name == "REDIS_PASSWORD").then(|| "from-env".to_string());
        let c = Config::from_args(&args(&[REKOR, "--redis-url=redis://idx@h/1"]), &env).unwrap();
        assert_eq!(redis(&c).3.as_deref(), Some("from-env"));
        let c = config(&[
            REKOR,
            "--redis-url=redis://idx@h/1",
            "--redis-password=flag",
        ])
        .unwrap();
        assert_eq!(redis(&c).3.as_deref(), Some("flag"));
        // a URL password wins over the environment, not over a flag
        let c = Config::from_args(&args(&[REKOR, "--redis-url=redis://:url@h"]), &env).unwrap();
        assert_eq!(redis(&c).3.as_deref(), Some("url"));
    }

    #[test]
    fn redis_url_conflicts() {
        let err = |l: &[&str]| config(l).unwrap_err().0;
        let url = "--redis-url=redis://:p4ss@h:1/2";
        assert!(err(&[REKOR, url, "--redis-hostname=h"]).contains("give one"));
        assert!(err(&[REKOR, url, "--port=1"]).contains("give one"));
        assert!(err(&[REKOR, url, "--redis-password=x"]).contains("given twice"));
        assert!(err(&[REKOR, url, "--redis-enable-tls"]).contains("rediss://"));
        assert!(err(&[REKOR, url, "--mysql-dsn=u@/d"]).contains("Ambiguous"));
        assert!(err(&[REKOR, "--redis-url=redis://user@h"]).contains("no password"));
        let bad = err(&[REKOR, "--redis-url=redis://:p4ss@h:x/2"]);
        assert!(
            bad.contains("invalid --redis-url") && !bad.contains("p4ss"),
            "{bad}"
        );
        // rediss:// and --redis-enable-tls agree
        assert!(config(&[REKOR, "--redis-url=rediss://h", "--redis-enable-tls"]).is_ok());
    }

    #[test]
    fn mysql_dsn_is_validated_here() {
        let c = config(&[REKOR, "--mysql-dsn=test:zaphod@tcp(127.0.0.1:13306)/test"]).unwrap();
        match &c.backend {
            BackendChoice::Mysql { dsn } => {
                assert_eq!(dsn.describe(), "mysql test@127.0.0.1:13306/test")
            }
            other => panic!("expected mysql, got {other:?}"),
        }
        let err = config(&[REKOR, "--mysql-dsn=test:zaphod@udp(h:1)/test"])
            .unwrap_err()
            .0;
        assert!(
            err.contains("invalid --mysql-dsn") && !err.contains("zaphod"),
            "{err}"
        );
    }

    #[test]
    fn backfill_redis_is_redis_only() {
        let as_redis = |list: &[&str], env: &dyn Fn(&str) -> Option<String>| {
            Config::for_program(Program::BackfillRedis, &args(list), env)
        };
        let dsn_env = |name: &str| (name == "MYSQL_DSN").then(|| "u:p@tcp(h:1)/d".to_string());
        // the operator's command line
        let c = as_redis(
            &[
                REKOR,
                "--start=0",
                "--end=9",
                "--redis-hostname=redis",
                "--redis-port=6379",
                "--redis-password=pw",
            ],
            &dsn_env,
        )
        .unwrap();
        assert_eq!(redis(&c).0, "redis");
        // MYSQL_DSN never makes it MySQL
        let err = as_redis(&[REKOR], &dsn_env).unwrap_err().0;
        assert!(err.contains("Redis address must be set"), "{err}");
        let err = as_redis(&[REKOR, "--mysql-dsn=u@/d"], &no_env)
            .unwrap_err()
            .0;
        assert!(err.contains("Redis only"), "{err}");
        // the old helm flags work under this name too
        let c = as_redis(&[REKOR, "--hostname=h", "--port=1"], &no_env).unwrap();
        assert_eq!(redis(&c).1, 1);
    }

    #[test]
    fn shard_flags() {
        let base = [REKOR, "--redis-hostname=h", "--redis-port=1"];
        let with = |extra: &[&str], env: &dyn Fn(&str) -> Option<String>| {
            let mut l = base.to_vec();
            l.extend_from_slice(extra);
            Config::from_args(&args(&l), env)
        };
        let c = with(
            &[
                "--shard-count=4",
                "--shard-index=1",
                "--end=9",
                "--checkpoint-key=fill",
            ],
            &no_env,
        )
        .unwrap();
        assert_eq!((c.start, c.end), (Some(3), Some(5)));
        assert_eq!(c.checkpoint.name.as_str(), "fill:shard-1-of-4");
        let job = |name: &str| (name == "JOB_COMPLETION_INDEX").then(|| "3".to_string());
        let c = with(&["--shard-count=4", "--start=10", "--end=19"], &job).unwrap();
        assert_eq!((c.start, c.end), (Some(18), Some(19)));
        assert_eq!(c.checkpoint.name.as_str(), "default:shard-3-of-4");
        // The flag wins over the environment.
        let c = with(&["--shard-count=4", "--shard-index=0", "--end=9"], &job).unwrap();
        assert_eq!(c.start, Some(0));
        let err = |extra: &[&str]| with(extra, &no_env).unwrap_err().0;
        assert!(err(&["--shard-count=4", "--shard-index=0"]).contains("explicit --end"));
        assert!(err(&["--shard-count=4", "--end=9"]).contains("JOB_COMPLETION_INDEX"));
        assert!(err(&["--shard-index=0", "--end=9"]).contains("needs --shard-count"));
        assert!(err(&["--shard-count=4", "--shard-index=4", "--end=9"]).contains("out of range"));
        assert!(err(&["--shard-count=0", "--shard-index=0", "--end=9"]).contains("at least 1"));
        let long = format!("--checkpoint-key={}", "k".repeat(120));
        assert!(
            err(&["--shard-count=4", "--shard-index=0", "--end=9", &long]).contains("shard suffix")
        );
        let bad = |name: &str| (name == "JOB_COMPLETION_INDEX").then(|| "x".to_string());
        assert!(with(&["--shard-count=4", "--end=9"], &bad).is_err());
    }
}
