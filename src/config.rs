//! Validated, resolved configuration (the "high level" arguments).
//!
//! Everything the user typed is checked here, once, before any thread starts:
//! backend choice, durations, headers, checkpoint name. Nothing downstream
//! re-validates flags. Secrets are wrapped in [`Secret`] so `Debug` of a
//! `Config` is safe to log.

use std::fmt;
use std::num::{NonZeroU64, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

use crate::checkpoint::CheckpointName;
use crate::cli::Args;
use crate::duration::parse_go_duration;
use crate::logger::LogFormat;
use crate::metrics::{MetricsConfig, PushgatewayConfig};
use crate::redact::Secret;
use crate::shard::ShardPart;

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
        RetryPolicy {
            retries: 3,
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
        password: Option<Secret>,
        tls: bool,
        insecure_skip_verify: bool,
    },
    Mysql {
        dsn: Secret,
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
    pub rekor: RekorConfig,
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
}

impl Config {
    /// Validates `args`. `env` looks up environment variables (a parameter
    /// so tests need not touch the process environment).
    pub fn from_args(
        args: &Args,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, UsageError> {
        let backend = backend_choice(args, env)?;
        let rekor = rekor_config(args)?;
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
        })
    }
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
/// fill in, they never choose the backend.
fn backend_choice(
    args: &Args,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<BackendChoice, UsageError> {
    let redis_flags =
        args.redis_hostname.is_some() || args.redis_port.is_some() || args.redis_password.is_some();
    if args.mysql_dsn.is_some() && redis_flags {
        return usage(
            "Ambiguous backend: set either --mysql-dsn (MySQL) or --redis-hostname/--redis-port (Redis), not both",
        );
    }
    if redis_flags
        || (args.mysql_dsn.is_none() && env("MYSQL_DSN").is_none() && args.redis_enable_tls)
    {
        let Some(host) = args.redis_hostname.clone().filter(|h| !h.is_empty()) else {
            return usage("Redis address must be set (--redis-hostname)");
        };
        let Some(port) = args.redis_port.as_deref().filter(|p| !p.is_empty()) else {
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
        let password = args
            .redis_password
            .clone()
            .or_else(|| env("REDIS_PASSWORD"))
            .filter(|p| !p.is_empty())
            .map(Secret::new);
        return Ok(BackendChoice::Redis {
            host,
            port,
            password,
            tls: args.redis_enable_tls,
            insecure_skip_verify: args.redis_insecure_skip_verify,
        });
    }
    if let Some(dsn) = args.mysql_dsn.clone().or_else(|| env("MYSQL_DSN")) {
        if dsn.is_empty() {
            return usage("--mysql-dsn is empty");
        }
        return Ok(BackendChoice::Mysql {
            dsn: Secret::new(dsn),
        });
    }
    usage("Must set --mysql-dsn (or MYSQL_DSN) for MySQL or --redis-hostname and --redis-port for Redis")
}

fn rekor_config(args: &Args) -> Result<RekorConfig, UsageError> {
    let Some(address) = args.rekor_address.as_deref().filter(|a| !a.is_empty()) else {
        return usage("--rekor-address must be set");
    };
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
