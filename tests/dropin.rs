//! Drop-in for today's deployments (issue #10): the binary run as
//! `backfill-redis` with the RHTAS operator's command line, the old helm
//! chart's flags, `--redis-url` with an ACL user and a database number, the
//! nightly `--start=0 --end=<treeSize-1>` wrapper staying incremental, and
//! the warning for a sharded log whose `--end` counts the active shard only.
//! Against the real Redis of `harness/services.sh` (and a private one for
//! ACL users), with the replay Rekor server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::backend::{assert_same, Checkpoint};
use crate::support::redis_backend::RedisBackend;
use crate::support::tool::{self, Outcome, EXIT_FATAL, EXIT_USAGE};
use crate::support::Fixture;

/// A directory with `backfill-redis` linked to the built binary, as the
/// operator's image names its entrypoint.
struct Linked {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn backfill_redis() -> Linked {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("backfill-redis");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rekor-backfill"), &path)
        .expect("linking backfill-redis");
    Linked { _dir: dir, path }
}

/// Runs `program` to completion with `args` and extra environment, like
/// `tool::run` (which always starts `rekor-backfill`).
fn run_program(program: &Path, args: &[String], env: &[(&str, &str)]) -> Outcome {
    let started = Instant::now();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_remove("REDIS_PASSWORD")
        .env_remove("MYSQL_DSN")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("running the tool");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// `curl $REKOR/api/v1/log | jq .treeSize`, as the operator's wrapper does.
fn tree_size(url: &str) -> u64 {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connecting to the replay server");
    write!(
        stream,
        "GET /api/v1/log HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("no HTTP body in {response:?}"));
    let info: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    info["treeSize"].as_u64().expect("treeSize")
}

/// The operator's CronJob command line, but for the index flags.
fn operator_args(fx: &Fixture<RedisBackend>, end: u64) -> Vec<String> {
    let b = &fx.backend;
    [
        format!("--rekor-address={}", fx.server.url()),
        "--start=0".to_string(),
        format!("--end={end}"),
        format!("--redis-hostname={}", b.host),
        format!("--redis-port={}", b.port),
        format!("--redis-password={}", b.password),
        format!("--checkpoint-key={}", fx.name),
        "--concurrency=4".to_string(),
    ]
    .to_vec()
}

/// Every night the wrapper passes `--start=0 --end=<treeSize-1>`: the
/// checkpoint makes each run fetch only what the log gained since.
#[test]
fn nightly_operator_wrapper_is_incremental() {
    let fx = Fixture::<RedisBackend>::new("nightly");
    let program = backfill_redis();
    let size = fx.size();
    let nights = [200, 350, 350, size];
    let mut done = 0;
    for (night, &grown_to) in nights.iter().enumerate() {
        fx.server.set_size(grown_to);
        fx.server.reset_stats();
        let end = tree_size(&fx.server.url()) - 1;
        assert_eq!(end, grown_to - 1);
        let out = run_program(&program.path, &operator_args(&fx, end), &[]);
        let what = format!("night {night} (--start=0 --end={end})");
        if done == grown_to {
            out.expect_code(tool::EXIT_OK, &what);
            assert!(
                out.line_with("Nothing to do").is_some(),
                "{what}: {}",
                out.stderr
            );
            let mut served = fx.server.served_indices();
            served.sort_unstable();
            assert_eq!(
                served,
                fx.fetched_by_resume(done, done..done),
                "{what}: nothing fetched but the recorded failures"
            );
        } else {
            out.expect_code(fx.expected_exit(done..grown_to), &what);
            let resumed = done.checked_sub(1);
            assert_eq!(out.resumed_from(), resumed, "{what}: {}", out.stderr);
            let mut served = fx.server.served_indices();
            served.sort_unstable();
            assert_eq!(
                served,
                fx.fetched_by_resume(done, done..grown_to),
                "{what}: only the recorded failures and the new entries are fetched"
            );
        }
        assert_eq!(
            fx.checkpoint(),
            Some(Checkpoint {
                first_index: 0,
                last_completed_index: grown_to - 1
            }),
            "{what}"
        );
        fx.assert_no_secrets(&out, &[]);
        done = grown_to;
    }
    assert_same(&fx.snapshot(), &fx.expected(0..size), "after the nights");
}

/// `backfill-redis` is Redis only: `--mysql-dsn` is refused, `MYSQL_DSN`
/// cannot take it elsewhere, and `--version` says what it is.
#[test]
fn backfill_redis_is_redis_only() {
    let fx = Fixture::<RedisBackend>::new("backfill-redis-name");
    let program = backfill_redis();
    let rekor = format!("--rekor-address={}", fx.server.url());
    let dsn = "test:zaphod@tcp(127.0.0.1:1)/test";

    let out = run_program(
        &program.path,
        &[rekor.clone(), format!("--mysql-dsn={dsn}")],
        &[],
    );
    out.expect_code(EXIT_USAGE, "backfill-redis --mysql-dsn");
    assert!(out.stderr.contains("Redis only"), "{}", out.stderr);
    assert!(!out.stderr.contains("zaphod"), "{}", out.stderr);

    let out = run_program(&program.path, &[rekor], &[("MYSQL_DSN", dsn)]);
    out.expect_code(EXIT_USAGE, "backfill-redis with only MYSQL_DSN");
    assert!(
        out.stderr.contains("Redis address must be set"),
        "{}",
        out.stderr
    );

    let out = run_program(&program.path, &["--version".to_string()], &[]);
    out.expect_code(tool::EXIT_OK, "backfill-redis --version");
    assert!(
        out.stdout.starts_with("backfill-redis: rekor-backfill ")
            && out.stdout.contains("\ncommit: "),
        "{}",
        out.stdout
    );

    // Under its own name the same DSN chooses MySQL (and fails to connect:
    // nothing listens on port 1).
    let out = tool::run(
        &[
            format!("--rekor-address={}", fx.server.url()),
            format!("--mysql-dsn={dsn}"),
        ],
        &[],
    );
    out.expect_code(EXIT_FATAL, "rekor-backfill --mysql-dsn");
    assert!(
        out.stderr.contains("mysql test@127.0.0.1:1"),
        "{}",
        out.stderr
    );
}

/// The flags of the old helm chart's backfill-redis job still work, with a
/// deprecation warning; mixing a flag with its old name is refused.
#[test]
fn old_helm_chart_flags() {
    let fx = Fixture::<RedisBackend>::new("helm-flags");
    let b = fx.backend.clone();
    let old = vec![
        "--hostname".to_string(),
        b.host.clone(),
        "--port".to_string(),
        b.port.to_string(),
        "--password".to_string(),
        b.password.clone(),
    ];
    let out = tool::run(&fx.args_with_backend(old.clone(), &["--end", "49"]), &[]);
    out.expect_code(fx.expected_exit(0..50), "old helm flags");
    for flag in ["hostname", "port", "password"] {
        assert!(
            out.stderr.contains(&format!(
                "--{flag} is deprecated (a flag of the old backfill-redis); use --redis-{flag}"
            )),
            "{flag}: {}",
            out.stderr
        );
    }
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..50),
        "indexed with the old flags",
    );

    // the operator image's name with the old flags (Go syntax)
    let program = backfill_redis();
    let mut args: Vec<String> = old
        .chunks(2)
        .map(|p| format!("{}={}", p[0], p[1]))
        .collect();
    args.extend(fx.args_with_backend(vec![], &[]));
    let out = run_program(&program.path, &args, &[]);
    out.expect_code(
        fx.expected_exit(50..fx.size()),
        "backfill-redis --hostname=…",
    );
    assert_eq!(out.resumed_from(), Some(49), "{}", out.stderr);

    let mut both = old;
    both.extend(["--redis-port".to_string(), b.port.to_string()]);
    let out = tool::run(&fx.args_with_backend(both, &[]), &[]);
    out.expect_code(EXIT_USAGE, "--port and --redis-port");
    assert!(
        out.stderr.contains("deprecated name of --redis-port"),
        "{}",
        out.stderr
    );
}

/// A redis-server of this test with an ACL user besides `default`.
struct AclRedis {
    _dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

const ACL_USER: &str = "rekor-indexer";
const ACL_PASSWORD: &str = "Acl-s3cret-pw";
const DEFAULT_PASSWORD: &str = "default-user-pw";

impl AclRedis {
    fn start() -> AclRedis {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = crate::util::free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--requirepass", DEFAULT_PASSWORD])
            .args(["--user", ACL_USER, "on", &format!(">{ACL_PASSWORD}")])
            .args(["~*", "&*", "+@all"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let server = AclRedis {
            _dir: dir,
            child,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn admin(&self) -> redis::Connection {
        redis::Client::open(format!(
            "redis://:{DEFAULT_PASSWORD}@127.0.0.1:{}/0",
            self.port
        ))
        .and_then(|c| c.get_connection())
        .expect("connecting as the default user")
    }
}

impl Drop for AclRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--redis-url redis://user:password@host:port/db`: the index and the
/// checkpoint land in that database, written as that ACL user.
#[test]
fn redis_url_with_acl_user_and_database() {
    let server = AclRedis::start();
    let backend = RedisBackend {
        host: "127.0.0.1".to_string(),
        port: server.port,
        password: DEFAULT_PASSWORD.to_string(),
    };
    let fx = Fixture::on_backend("redis-url", backend);
    let url = |user: &str| {
        format!(
            "redis://{user}:{}@127.0.0.1:{}/3",
            ACL_PASSWORD.replace('-', "%2D"),
            server.port
        )
    };
    let out = tool::run(
        &fx.args_with_backend(vec!["--redis-url".to_string(), url(ACL_USER)], &[]),
        &[],
    );
    out.expect_code(
        fx.expected_exit(0..fx.size()),
        "--redis-url with user and db",
    );
    fx.assert_no_secrets(&out, &[ACL_PASSWORD]);
    assert!(
        out.stderr
            .contains(&format!("redis {ACL_USER}@127.0.0.1:{}/3", server.port)),
        "{}",
        out.stderr
    );
    let mut admin = server.admin();
    let in_db0: i64 = redis::cmd("DBSIZE").query(&mut admin).unwrap();
    assert_eq!(in_db0, 0, "nothing is written to database 0");
    // Database 3 holds the whole index and the checkpoint.
    let _: () = redis::cmd("SWAPDB")
        .arg(0)
        .arg(3)
        .query(&mut admin)
        .unwrap();
    assert_same(&fx.snapshot(), &fx.expected(0..fx.size()), "database 3");
    assert_eq!(
        fx.checkpoint().map(|c| c.last_completed_index),
        Some(fx.size() - 1)
    );
    let _: () = redis::cmd("SWAPDB")
        .arg(0)
        .arg(3)
        .query(&mut admin)
        .unwrap();

    // The default user's password differs, so the run above authenticated
    // as the ACL user; another user name with the same password fails.
    let out = tool::run(
        &fx.args_with_backend(vec!["--redis-url".to_string(), url("nobody")], &[]),
        &[],
    );
    out.expect_code(EXIT_FATAL, "unknown ACL user");
    fx.assert_no_secrets(&out, &[ACL_PASSWORD]);
}

/// A sharded log: `treeSize` counts the active shard only, so the
/// operator's `--end=<treeSize-1>` stops short of the last log index and
/// the run says so; a run to the log's real end does not warn.
#[test]
fn sharded_log_end_from_tree_size_warns() {
    let fx = Fixture::<RedisBackend>::sharded("sharded-end", 100);
    let size = fx.size();
    let tree_size = tree_size(&fx.server.url());
    assert_eq!(tree_size, size - 100, "the replay server's treeSize");
    let out = fx.run(&["--start", "0", "--end", &(tree_size - 1).to_string()]);
    out.expect_code(fx.expected_exit(0..tree_size), "--end treeSize-1");
    let warning = out
        .line_with("stops short of the log's last index")
        .unwrap_or_else(|| panic!("no warning:\n{}", out.stderr));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(
        warning.contains(&format!(
            "--end {} stops short of the log's last index {}",
            tree_size - 1,
            size - 1
        )),
        "{warning}"
    );
    assert!(warning.contains("active shard's treeSize-1"), "{warning}");
    assert!(
        warning.contains(&format!("indices {tree_size}..={}", size - 1)),
        "{warning}"
    );

    let out = fx.run(&["--start", "0"]);
    out.expect_code(fx.expected_exit(tree_size..size), "to the end");
    assert!(out.line_with("stops short").is_none(), "{}", out.stderr);
    let out = fx.run(&["--start", "0", "--end", &(size - 1).to_string()]);
    out.expect_code(tool::EXIT_OK, "--end at the last index");
    assert!(out.line_with("stops short").is_none(), "{}", out.stderr);
    assert_same(&fx.snapshot(), &fx.expected(0..size), "sharded log");
}
