//! The command line as the user typed it (the "low level" arguments).
//!
//! Flag names and meanings are those of Rekor's Go `backfill-index`, so the
//! tool is a drop-in in existing scripts. Go's flag package also accepts
//! `-flag`, `--flag=value` and `--bool=true|false`; [`normalize_go_args`]
//! rewrites those forms into what argh understands before parsing.
//! Validation and resolution happen in [`crate::config`].

use argh::FromArgs;

/// Rebuild the search index of a Rekor transparency log in Redis or MySQL,
/// resuming from a checkpoint kept in the same backend.
#[derive(FromArgs, Debug, Default)]
pub struct Args {
    /// address of the Rekor server, e.g. https://rekor.sigstore.dev
    #[argh(option)]
    pub rekor_address: Option<String>,

    /// extra HTTP header for Rekor requests, as key=value (repeatable)
    #[argh(option)]
    pub rekor_header: Vec<String>,

    /// retries after the first attempt of a Rekor request (default 6)
    #[argh(option)]
    pub rekor_retry_count: Option<u32>,

    /// minimum wait between retries, Go duration (default 1s)
    #[argh(option)]
    pub rekor_retry_wait_min: Option<String>,

    /// maximum wait between retries, Go duration (default 30s)
    #[argh(option)]
    pub rekor_retry_wait_max: Option<String>,

    /// do not reuse HTTP connections to Rekor
    #[argh(switch)]
    pub rekor_disable_keepalives: bool,

    /// hostname of the Redis server
    #[argh(option)]
    pub redis_hostname: Option<String>,

    /// port of the Redis server
    #[argh(option)]
    pub redis_port: Option<String>,

    /// password of the Redis server (or set REDIS_PASSWORD, which keeps it out of process lists)
    #[argh(option)]
    pub redis_password: Option<String>,

    /// connect to Redis over TLS
    #[argh(switch)]
    pub redis_enable_tls: bool,

    /// do not verify the Redis server's TLS certificate
    #[argh(switch)]
    pub redis_insecure_skip_verify: bool,

    /// redis as a URL, redis[s]://[user[:password]@]host[:port][/db]: with an
    /// ACL user and a database number; rediss:// is TLS. Instead of
    /// --redis-hostname and --redis-port
    #[argh(option)]
    pub redis_url: Option<String>,

    /// deprecated: use --redis-hostname (the flag of the old backfill-redis)
    #[argh(option)]
    pub hostname: Option<String>,

    /// deprecated: use --redis-port
    #[argh(option)]
    pub port: Option<String>,

    /// deprecated: use --redis-password or REDIS_PASSWORD
    #[argh(option)]
    pub password: Option<String>,

    /// deprecated: use --redis-enable-tls
    #[argh(switch)]
    pub enable_tls: bool,

    /// deprecated: use --redis-insecure-skip-verify
    #[argh(switch)]
    pub insecure_skip_verify: bool,

    /// how long a backend outage is waited out (reconnecting with backoff)
    /// before the run ends, Go duration (default 1m)
    #[argh(option)]
    pub backend_retry_max: Option<String>,

    /// mysql DSN, user:pass@tcp(host:port)/db?params or mysql://user:pass@host:port/db
    /// (or set MYSQL_DSN)
    #[argh(option)]
    pub mysql_dsn: Option<String>,

    /// read the entries from Trillian's MySQL database instead of Rekor's
    /// API: a Go DSN or mysql:// URL, read-only user (or set TRILLIAN_MYSQL_DSN)
    #[argh(option)]
    pub trillian_mysql_dsn: Option<String>,

    /// the log's Trillian tree IDs, oldest first, comma-separated (default:
    /// the shards GET /api/v1/log of --rekor-address lists)
    #[argh(option)]
    pub trillian_tree_ids: Option<String>,

    /// with --trillian-mysql-dsn: leaves per range query and per task, 1..=10000
    /// (default 100); smaller means less work repeated after a kill
    #[argh(option)]
    pub trillian_batch_size: Option<u64>,

    /// with --trillian-mysql-dsn: fetch the attestation of each intoto and
    /// cose entry through --rekor-address (Trillian holds none)
    #[argh(switch)]
    pub attestations_from_rekor: bool,

    /// first log index to index, inclusive (default 0)
    #[argh(option)]
    pub start: Option<u64>,

    /// last log index to index, inclusive (default: the log's current last index)
    #[argh(option)]
    pub end: Option<u64>,

    /// number of concurrent workers (default 1)
    #[argh(option)]
    pub concurrency: Option<usize>,

    /// fetch and compute keys but write nothing, checkpoint included
    #[argh(switch)]
    pub dry_run: bool,

    /// save the checkpoint after every N newly completed indices (default
    /// 1000; also every 5 s, at the end and on shutdown); 0 disables checkpoints
    #[argh(option)]
    pub checkpoint_interval: Option<u64>,

    /// name of the checkpoint, so several backfills can share a backend
    /// (default "default"; 1-128 characters of A-Z a-z 0-9 . _ : -)
    #[argh(option)]
    pub checkpoint_key: Option<String>,

    /// delete the checkpoint first and start from --start
    #[argh(switch)]
    pub reset_checkpoint: bool,

    /// split --start..=--end into N contiguous parts, one per process (a
    /// Kubernetes Indexed Job); needs an explicit --end
    #[argh(option)]
    pub shard_count: Option<u64>,

    /// the part this process indexes, 0..N-1 (default: $JOB_COMPLETION_INDEX);
    /// its checkpoint is named <NAME>:shard-<I>-of-<N>
    #[argh(option)]
    pub shard_index: Option<u64>,

    /// append entries that could not be decoded or keyed to FILE, as JSON lines
    #[argh(option)]
    pub failed_entries: Option<String>,

    /// verify each entry against the log before indexing it: its signed
    /// entry timestamp, inclusion proof and checkpoint; with
    /// --trillian-mysql-dsn, each tree's root against its signed tree head
    /// before any write (exit 5 on a mismatch)
    #[argh(switch)]
    pub verify_log: bool,

    /// the log's public key (PEM) for --verify-log (default: fetched from
    /// the server's /api/v1/log/publicKey)
    #[argh(option)]
    pub rekor_public_key: Option<String>,

    /// print version information and exit
    #[argh(switch)]
    pub version: bool,

    /// log line format: "text" (default) or "json" (one JSON object per
    /// line; implies --summary json)
    #[argh(option)]
    pub log_format: Option<String>,

    /// print a final one-line summary on stdout: "json"
    #[argh(option)]
    pub summary: Option<String>,

    /// write Prometheus metrics to PATH (node-exporter textfile format),
    /// atomically, after every checkpoint save and at the end
    #[argh(option)]
    pub metrics_textfile: Option<String>,

    /// push Prometheus metrics to this Pushgateway URL during the run and at
    /// the end, grouped by job and checkpoint name
    #[argh(option)]
    pub pushgateway: Option<String>,

    /// job label of the pushed metrics (default "rekor-backfill")
    #[argh(option)]
    pub pushgateway_job: Option<String>,

    /// time between pushes during the run, Go duration (default 15s)
    #[argh(option)]
    pub pushgateway_interval: Option<String>,

    #[argh(subcommand)]
    pub command: Option<Command>,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub enum Command {
    Keys(KeysCommand),
    Audit(AuditCommand),
    FixCase(FixCaseCommand),
}

/// Print the index keys of entries read on stdin, as Rekor's API returns
/// them: an entry object with a base64 "body" (and "attestation"), a whole
/// GET /api/v1/log/entries response, or a bare base64 body. Prints one JSON
/// line per entry, with its "keys" or an "error".
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "keys")]
pub struct KeysCommand {}

/// Check the index without writing: fetch and key the entries of the range
/// as a backfill would (same flags), and report the (key, UUID) pairs that
/// are missing or stored under a mis-cased Redis key. Exit status 0 when
/// the index is complete, 5 when anything is missing or mis-cased.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "audit")]
pub struct AuditCommand {}

/// Merge Redis index lists stored under keys that are not lowercase (the Go
/// backfill-index keeps capitals, the server never reads them) into their
/// lowercase key, then delete them. Redis flags as for a backfill;
/// --dry-run prints what it would do.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "fix-case")]
pub struct FixCaseCommand {}

/// Subcommands that take the backfill's flags: given first
/// (`rekor-backfill audit --start 5 ...`), they are moved after the flags,
/// where argh expects a subcommand.
const FLAG_SUBCOMMANDS: &[&str] = &["audit", "fix-case"];

/// Which program the binary was started as (its `argv[0]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// `rekor-backfill`, or any other name: Redis or MySQL.
    RekorBackfill,
    /// `backfill-redis`, the name of the RHTAS operator's image entrypoint
    /// (Rekor's Go backfill-index built for Redis only): the same flags,
    /// Redis only. `--mysql-dsn` is refused and `MYSQL_DSN` ignored, so a
    /// stray variable in the pod cannot send the index elsewhere.
    BackfillRedis,
}

impl Program {
    pub const BACKFILL_REDIS: &'static str = "backfill-redis";

    /// By the file name of `argv[0]`, without its directory.
    pub fn from_argv0(argv0: &str) -> Program {
        let name = std::path::Path::new(argv0)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(argv0);
        if name == Program::BACKFILL_REDIS {
            Program::BackfillRedis
        } else {
            Program::RekorBackfill
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Program::RekorBackfill => "rekor-backfill",
            Program::BackfillRedis => Program::BACKFILL_REDIS,
        }
    }
}

/// Switches of [`Args`]: Go lets them take `=true` / `=false`.
const SWITCHES: &[&str] = &[
    "rekor-disable-keepalives",
    "redis-enable-tls",
    "redis-insecure-skip-verify",
    "enable-tls",
    "insecure-skip-verify",
    "dry-run",
    "reset-checkpoint",
    "verify-log",
    "attestations-from-rekor",
    "version",
    "help",
];

/// Rewrites Go flag syntax into argh's: `-flag` → `--flag`, `--flag=v` →
/// `--flag v`, `--switch=true` → `--switch`, `--switch=false` → nothing.
/// Arguments after a subcommand name or `--` are left alone, except after
/// `audit` and `fix-case`, which take the backfill's flags: their name is
/// moved to the end.
pub fn normalize_go_args(args: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(args.len());
    let mut flag_subcommand = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if flag_subcommand.is_none() && FLAG_SUBCOMMANDS.contains(&arg.as_str()) {
            flag_subcommand = Some(arg.clone());
            continue;
        }
        if arg == "--" || !arg.starts_with('-') || arg == "-" {
            // A positional (a subcommand): everything from here on is its own.
            out.push(arg.clone());
            out.extend(iter.cloned());
            break;
        }
        let bare = arg.trim_start_matches('-');
        if arg.starts_with("---") || bare.is_empty() {
            return Err(format!("bad flag syntax: {arg}"));
        }
        let (name, value) = match bare.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (bare, None),
        };
        if name == "h" {
            out.push("--help".to_string());
            continue;
        }
        let flag = format!("--{name}");
        match (SWITCHES.contains(&name), value) {
            (true, None) => out.push(flag),
            (true, Some(v)) => match v {
                "true" | "1" | "t" | "T" | "TRUE" | "True" => out.push(flag),
                "false" | "0" | "f" | "F" | "FALSE" | "False" => {}
                _ => return Err(format!("invalid boolean value {v:?} for --{name}")),
            },
            (false, None) => {
                // The value is the next argument, verbatim even if it starts
                // with '-' (a password may).
                out.push(flag);
                out.extend(iter.next().cloned());
            }
            (false, Some(v)) => {
                out.push(flag);
                out.push(v.to_string());
            }
        }
    }
    out.extend(flag_subcommand);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        normalize_go_args(&args).unwrap()
    }

    fn parse(args: &[&str]) -> Result<Args, argh::EarlyExit> {
        let args = norm(args);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Args::from_args(&["rekor-backfill"], &refs)
    }

    #[test]
    fn go_syntax_is_normalized() {
        assert_eq!(norm(&["-start", "3"]), ["--start", "3"]);
        assert_eq!(norm(&["--start=3"]), ["--start", "3"]);
        assert_eq!(norm(&["-dry-run=true"]), ["--dry-run"]);
        assert!(norm(&["--dry-run=false"]).is_empty());
        assert_eq!(
            norm(&["--rekor-header=X-A=b=c"]),
            ["--rekor-header", "X-A=b=c"]
        );
        assert_eq!(norm(&["keys", "-x"]), ["keys", "-x"]);
        assert_eq!(
            norm(&["-redis-password", "-dash-", "-end", "3"]),
            ["--redis-password", "-dash-", "--end", "3"]
        );
        assert!(normalize_go_args(&["--dry-run=maybe".to_string()]).is_err());
        assert!(normalize_go_args(&["---x".to_string()]).is_err());
    }

    #[test]
    fn switches_take_no_value() {
        // A switch missing from SWITCHES would swallow the next flag.
        let a = parse(&["--verify-log", "--end", "3"]).unwrap();
        assert!(a.verify_log);
        assert_eq!(a.end, Some(3));
        let a = parse(&["-attestations-from-rekor", "-end", "4"]).unwrap();
        assert!(a.attestations_from_rekor);
        assert_eq!(a.end, Some(4));
        assert!(
            !parse(&["--attestations-from-rekor=false"])
                .unwrap()
                .attestations_from_rekor
        );
    }

    #[test]
    fn parses_go_tool_command_lines() {
        let a = parse(&[
            "--rekor-address=http://localhost:3000",
            "--redis-hostname=localhost",
            "--redis-port=6379",
            "-start=0",
            "-end=9",
            "--concurrency=5",
            "--rekor-header",
            "A=1",
            "--rekor-header",
            "B=2",
            "--rekor-disable-keepalives=false",
        ])
        .unwrap();
        assert_eq!(a.rekor_address.as_deref(), Some("http://localhost:3000"));
        assert_eq!(a.start, Some(0));
        assert_eq!(a.end, Some(9));
        assert_eq!(a.concurrency, Some(5));
        assert_eq!(a.rekor_header, ["A=1", "B=2"]);
        assert!(!a.rekor_disable_keepalives);
        assert!(a.command.is_none());
    }

    #[test]
    fn program_by_argv0() {
        assert_eq!(
            Program::from_argv0("backfill-redis"),
            Program::BackfillRedis
        );
        assert_eq!(
            Program::from_argv0("/usr/local/bin/backfill-redis"),
            Program::BackfillRedis
        );
        assert_eq!(
            Program::from_argv0("rekor-backfill"),
            Program::RekorBackfill
        );
        assert_eq!(
            Program::from_argv0("/x/backfill-redis.old"),
            Program::RekorBackfill
        );
        assert_eq!(Program::from_argv0(""), Program::RekorBackfill);
    }

    #[test]
    fn old_helm_chart_flags_parse() {
        let a = parse(&[
            "--hostname=redis",
            "--port=6379",
            "--password",
            "-pw-",
            "--enable-tls=true",
            "-insecure-skip-verify",
        ])
        .unwrap();
        assert_eq!(a.hostname.as_deref(), Some("redis"));
        assert_eq!(a.port.as_deref(), Some("6379"));
        assert_eq!(a.password.as_deref(), Some("-pw-"));
        assert!(a.enable_tls && a.insecure_skip_verify);
        assert!(!parse(&["--enable-tls=false"]).unwrap().enable_tls);
    }

    #[test]
    fn keys_subcommand() {
        let a = parse(&["keys"]).unwrap();
        assert!(matches!(a.command, Some(Command::Keys(_))));
    }

    #[test]
    fn audit_and_fix_case_take_the_backfill_flags_on_either_side() {
        for args in [
            &["audit", "--start=3", "-end", "9"][..],
            &["--start", "3", "audit", "--end", "9"][..],
            &["--start", "3", "--end", "9", "audit"][..],
        ] {
            let a = parse(args).unwrap();
            assert!(matches!(a.command, Some(Command::Audit(_))), "{args:?}");
            assert_eq!((a.start, a.end), (Some(3), Some(9)), "{args:?}");
        }
        let a = parse(&["fix-case", "--dry-run=true", "--redis-port", "1"]).unwrap();
        assert!(matches!(a.command, Some(Command::FixCase(_))));
        assert!(a.dry_run);
        assert_eq!(a.redis_port.as_deref(), Some("1"));
        assert!(parse(&["audit", "extra"]).is_err());
    }

    #[test]
    fn rejects_non_numeric_and_unknown() {
        assert!(parse(&["--start", "x"]).is_err());
        assert!(parse(&["--start", "-1"]).is_err());
        assert!(parse(&["--no-such-flag"]).is_err());
    }
}
