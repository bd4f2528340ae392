//! The Redis backend against a real Redis: run `harness/services.sh start`
//! and `eval "$(harness/services.sh env)"` first. Every test uses its own key
//! prefix and checkpoint name, so the tests run in parallel, and removes its
//! keys at the end.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rekor_backfill::checkpoint::{CheckpointName, CheckpointRecord};
use rekor_backfill::log_layout::LogLayout;
use rekor_backfill::pki::gostr::to_lower as go_to_lower;
use rekor_backfill::redact::Secret;
use rekor_backfill::sink::{redis_checkpoint_key, Backend, IndexedEntry, RedisBackend};

use crate::util::{entry, free_port};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `harness/services.sh start` and \
             `eval \"$(harness/services.sh env)\"` before `cargo test`"
        )
    })
}

/// The harness Redis: (host, port, password).
fn service() -> (String, u16, String) {
    let address = env("REKOR_BACKFILL_TEST_REDIS");
    let (host, port) = address
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("REKOR_BACKFILL_TEST_REDIS={address:?} is not host:port"));
    let port = port.parse().expect("REKOR_BACKFILL_TEST_REDIS port");
    (
        host.to_string(),
        port,
        env("REKOR_BACKFILL_TEST_REDIS_PASSWORD"),
    )
}

fn backend() -> RedisBackend {
    let (host, port, password) = service();
    RedisBackend {
        host,
        port,
        username: None,
        password: Some(Secret::new(password)),
        db: 0,
        tls: false,
        insecure_skip_verify: false,
        long_lists: Default::default(),
    }
}

/// A direct connection for reading back what the sink wrote.
fn raw() -> redis::Connection {
    try_raw().expect("connecting to the harness Redis")
}

fn try_raw() -> redis::RedisResult<redis::Connection> {
    let (host, port, password) = service();
    redis::Client::open(format!("redis://:{password}@{host}:{port}/"))
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
}

/// A key prefix no other test (or run) uses; keys under it are deleted
/// when the guard drops, also after a failed assertion.
struct Prefix(String);

impl Prefix {
    fn new(test: &str) -> Prefix {
        service(); // fail here, not in drop, when the harness is not set up
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Prefix(format!("rbtest-{}-{nanos}-{test}:", std::process::id()))
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.0)
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(mut con) = try_raw() else { return };
        let lower = go_to_lower(&self.0);
        for pattern in [
            format!("{lower}*"),
            format!("rekor-backfill:checkpoint:{}*", self.0),
        ] {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(pattern)
                .query(&mut con)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut con);
            }
        }
    }
}

fn lrange(key: &str) -> Vec<String> {
    redis::cmd("LRANGE")
        .arg(key)
        .arg(0)
        .arg(-1)
        .query(&mut raw())
        .unwrap()
}

#[test]
fn batch_is_written_as_lists_newest_first() {
    let p = Prefix::new("batch");
    let (shared, only1) = (p.key("sha256:aa"), p.key("only1"));
    let mut sink = backend().connect_sink().unwrap();
    sink.write(&[
        entry("uuid-1", &[shared.clone(), only1.clone()]),
        entry("uuid-2", std::slice::from_ref(&shared)),
    ])
    .unwrap();
    assert_eq!(lrange(&shared), ["uuid-2", "uuid-1"]);
    assert_eq!(lrange(&only1), ["uuid-1"]);
}

#[test]
fn rewriting_a_batch_gives_the_same_state() {
    let p = Prefix::new("rerun");
    let keys = [p.key("a"), p.key("b"), p.key("a")]; // a duplicate key too
    let batch = [entry("u1", &keys), entry("u2", &keys[..1])];
    let mut sink = backend().connect_sink().unwrap();
    sink.write(&batch).unwrap();
    let first = (lrange(&keys[0]), lrange(&keys[1]));
    assert_eq!(first.0, ["u2", "u1"]);
    assert_eq!(first.1, ["u1"]);
    sink.write(&batch).unwrap();
    backend().connect_sink().unwrap().write(&batch).unwrap();
    assert_eq!((lrange(&keys[0]), lrange(&keys[1])), first);
}

#[test]
fn keys_are_lowercased_like_the_server_does() {
    let p = Prefix::new("case");
    let mixed = [
        p.key("SHA256:ABCDEF"),
        p.key("https://github.com/MyOrg/Repo"),
        p.key("İSTANBUL-ΟΔΟΣ"),
    ];
    backend()
        .connect_sink()
        .unwrap()
        .write(&[entry("u", &mixed)])
        .unwrap();
    let mut con = raw();
    for (key, lower) in mixed.iter().zip([
        p.key("sha256:abcdef"),
        p.key("https://github.com/myorg/repo"),
        p.key("istanbul-οδοσ"),
    ]) {
        let lower = go_to_lower(&lower); // the prefix is lowercase anyway
        assert_eq!(lrange(&lower), ["u"], "{key}");
        let exists: i64 = redis::cmd("EXISTS").arg(key).query(&mut con).unwrap();
        assert_eq!(exists, 0, "{key} must not be stored as computed");
    }
}

#[test]
fn large_batch_is_fully_written() {
    let p = Prefix::new("large");
    // 6000 keys = 12000 commands: more than one pipeline
    let entries: Vec<IndexedEntry> = (0..1200)
        .map(|i| {
            entry(
                &format!("uuid-{i}"),
                &(0..5)
                    .map(|k| p.key(&format!("k{k}-{}", i % 7)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    backend().connect_sink().unwrap().write(&entries).unwrap();
    let mut total = 0;
    for k in 0..5 {
        for m in 0..7 {
            let list = lrange(&p.key(&format!("k{k}-{m}")));
            let expected: Vec<String> = (0..1200)
                .rev()
                .filter(|i| i % 7 == m)
                .map(|i| format!("uuid-{i}"))
                .collect();
            assert_eq!(list, expected);
            total += list.len();
        }
    }
    assert_eq!(total, 6000);
}

#[test]
fn failed_write_names_the_server_and_the_cause() {
    let p = Prefix::new("wrongtype");
    let string_key = p.key("a-string");
    let _: () = redis::cmd("SET")
        .arg(&string_key)
        .arg("x")
        .query(&mut raw())
        .unwrap();
    let mut sink = backend().connect_sink().unwrap();
    let err = sink
        .write(&[entry("u", std::slice::from_ref(&string_key))])
        .unwrap_err()
        .to_string();
    let (host, port, password) = service();
    assert!(err.contains(&format!("redis {host}:{port}")), "{err}");
    assert!(err.contains("WRONGTYPE"), "{err}");
    assert!(!err.contains(&password), "{err}");
    // The connection survives a command error.
    let ok = p.key("fine");
    sink.write(&[entry("u", std::slice::from_ref(&ok))])
        .unwrap();
    assert_eq!(lrange(&ok), ["u"]);
}

#[test]
fn wrong_or_missing_password_is_named_without_the_password() {
    let secret = "Wr0ng-Pa55word-xyz";
    let wrong = RedisBackend {
        password: Some(Secret::new(secret)),
        ..backend()
    };
    let err = format!(
        "{:#}",
        wrong
            .connect_sink()
            .err()
            .expect("wrong password must fail")
    );
    assert!(
        err.to_lowercase().contains("authentication failed"),
        "{err}"
    );
    assert!(err.contains(&wrong.describe()), "{err}");
    assert!(!err.contains(secret), "{err}");
    let err = format!("{:#}", wrong.connect_checkpoint_store(true).err().unwrap());
    assert!(!err.contains(secret), "{err}");

    let none = RedisBackend {
        password: None,
        ..backend()
    };
    let err = format!(
        "{:#}",
        none.connect_sink().err().expect("no password must fail")
    );
    assert!(err.contains("NOAUTH"), "{err}");
}

#[test]
fn checkpoint_round_trip() {
    let p = Prefix::new("ckpt");
    let name = CheckpointName::parse(&p.key("rt")).unwrap();
    let mut store = backend().connect_checkpoint_store(false).unwrap();
    assert_eq!(store.load(&name).unwrap(), None);
    let first = CheckpointRecord {
        first_index: 10,
        last_completed_index: 1_234_567,
        last_updated: UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        // Two trees: the inactive one and the active one the range reaches.
        log: Some(
            LogLayout::new(vec![("11".to_string(), 100)], ("22".to_string(), 2_000_000))
                .binding(10..=1_234_567),
        ),
    };
    store.save(&name, &first).unwrap();
    assert_eq!(store.load(&name).unwrap(), Some(first.clone()));
    let stored: String = redis::cmd("GET")
        .arg(redis_checkpoint_key(&name))
        .query(&mut raw())
        .unwrap();
    assert_eq!(stored, first.to_json());
    let second = CheckpointRecord {
        last_completed_index: 2_000_000,
        ..first
    };
    store.save(&name, &second).unwrap();
    // A fresh connection sees what the first one saved.
    assert_eq!(
        backend()
            .connect_checkpoint_store(true)
            .unwrap()
            .load(&name)
            .unwrap(),
        Some(second)
    );
    store.delete(&name).unwrap();
    assert_eq!(store.load(&name).unwrap(), None);
    store.delete(&name).unwrap(); // deleting nothing is fine
}

#[test]
fn corrupt_checkpoint_is_an_error() {
    let p = Prefix::new("corrupt");
    let name = CheckpointName::parse(&p.key("c")).unwrap();
    let _: () = redis::cmd("SET")
        .arg(redis_checkpoint_key(&name))
        .arg("{not json")
        .query(&mut raw())
        .unwrap();
    let err = backend()
        .connect_checkpoint_store(true)
        .unwrap()
        .load(&name)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not valid JSON") && err.contains(&redis_checkpoint_key(&name)),
        "{err}"
    );
}

#[test]
fn read_only_store_never_writes() {
    let p = Prefix::new("ro");
    let name = CheckpointName::parse(&p.key("ro")).unwrap();
    let record = CheckpointRecord {
        first_index: 0,
        last_completed_index: 5,
        last_updated: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        log: None,
    };
    let mut read_only = backend().connect_checkpoint_store(true).unwrap();
    read_only.save(&name, &record).unwrap();
    let exists: i64 = redis::cmd("EXISTS")
        .arg(redis_checkpoint_key(&name))
        .query(&mut raw())
        .unwrap();
    assert_eq!(exists, 0, "a read-only save must not write");

    backend()
        .connect_checkpoint_store(false)
        .unwrap()
        .save(&name, &record)
        .unwrap();
    read_only.delete(&name).unwrap();
    assert_eq!(
        read_only.load(&name).unwrap(),
        Some(record),
        "a read-only delete must not delete"
    );
}

#[test]
fn nothing_listening_is_a_quick_error() {
    let dead = RedisBackend {
        port: free_port(),
        ..backend()
    };
    let started = Instant::now();
    let err = format!("{:#}", dead.connect_sink().err().expect("no server"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        err.contains(&format!("redis 127.0.0.1:{}", dead.port)) && err.contains("connect failed"),
        "{err}"
    );
}

#[test]
fn silent_server_times_out_instead_of_hanging() {
    // Accepts TCP connections and never answers (a hung server or a proxy
    // without a backend).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _accepted = std::thread::spawn(move || listener.incoming().take(2).collect::<Vec<_>>());
    let silent = RedisBackend { port, ..backend() };
    let started = Instant::now();
    let err = format!("{:#}", silent.connect_sink().err().expect("silent server"));
    let elapsed = started.elapsed();
    // one connect timeout (10 s), not the 60 s reply timeout
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert!(
        err.contains("connect failed: no answer within 10s"),
        "{err}"
    );
}

#[test]
fn tls_to_a_plain_server_is_a_clear_error() {
    // The plain server waits for a line end that the ClientHello never
    // sends, so this takes one connect timeout; both variants in parallel.
    std::thread::scope(|scope| {
        for insecure in [false, true] {
            scope.spawn(move || {
                let tls = RedisBackend {
                    tls: true,
                    insecure_skip_verify: insecure,
                    ..backend()
                };
                let started = Instant::now();
                let err = format!(
                    "{:#}",
                    tls.connect_sink().err().expect("TLS to a plain server")
                );
                assert!(started.elapsed() < Duration::from_secs(15));
                assert!(
                    err.contains("--redis-enable-tls") && err.contains("TLS"),
                    "{err}"
                );
            });
        }
    });
}

/// A private redis-server that the test can kill, for the server going
/// away in the middle of a run.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        OwnRedis::start_on(free_port())
    }

    fn start_on(port: u16) -> OwnRedis {
        OwnRedis::start_with(port, &["--port", &port.to_string()])
    }

    /// `args` must make the server listen on `port`.
    fn start_with(port: u16, args: &[&str]) -> OwnRedis {
        let child = Command::new("redis-server")
            .args(args)
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let server = OwnRedis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "own redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn server_gone_mid_run_is_an_error_and_a_restart_is_not_papered_over() {
    let mut server = OwnRedis::start();
    let own = RedisBackend {
        host: "127.0.0.1".to_string(),
        port: server.port,
        username: None,
        password: None,
        db: 0,
        tls: false,
        insecure_skip_verify: false,
        long_lists: Default::default(),
    };
    let mut sink = own.connect_sink().unwrap();
    sink.write(&[entry("u1", &["k".to_string()])]).unwrap();
    server.kill();
    let started = Instant::now();
    let err = sink
        .write(&[entry("u2", &["k".to_string()])])
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        err.contains(&format!("redis 127.0.0.1:{}", server.port)),
        "{err}"
    );

    // Back on the same port (as after `services.sh restart-redis`), without
    // the data written before: the sink must not carry on as if nothing
    // had happened.
    let restarted = OwnRedis::start_on(server.port);
    let err = sink
        .write(&[entry("u3", &["k".to_string()])])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the server came back without this run's data"),
        "{err}"
    );
    let list: Vec<String> = redis::Client::open(format!("redis://127.0.0.1:{}/", restarted.port))
        .and_then(|c| c.get_connection())
        .and_then(|mut c| redis::cmd("LRANGE").arg("k").arg(0).arg(-1).query(&mut c))
        .unwrap();
    assert!(list.is_empty(), "{list:?}");
    // A new sink (a new run) may use the restarted server.
    own.connect_sink()
        .unwrap()
        .write(&[entry("u3", &["k".to_string()])])
        .unwrap();
}

#[test]
fn tls_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let port = free_port();
    let port_arg = port.to_string();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let _server = OwnRedis::start_with(
        port,
        &[
            "--port",
            "0",
            "--tls-port",
            &port_arg,
            "--tls-cert-file",
            cert,
            "--tls-key-file",
            key,
            "--tls-ca-cert-file",
            cert,
            "--tls-auth-clients",
            "no",
            "--requirepass",
            "tlspass",
        ],
    );
    let tls = RedisBackend {
        host: "127.0.0.1".to_string(),
        port,
        username: None,
        password: Some(Secret::new("tlspass")),
        db: 0,
        tls: true,
        insecure_skip_verify: true,
        long_lists: Default::default(),
    };

    // --redis-insecure-skip-verify: works, index and checkpoint alike
    let mut sink = tls.connect_sink().unwrap();
    sink.write(&[entry("u", &["Key".to_string()])]).unwrap();
    let name = CheckpointName::parse("tls").unwrap();
    let record = CheckpointRecord {
        first_index: 1,
        last_completed_index: 2,
        last_updated: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        log: None,
    };
    let mut store = tls.connect_checkpoint_store(false).unwrap();
    store.save(&name, &record).unwrap();
    assert_eq!(store.load(&name).unwrap(), Some(record));

    // verification on: a self-signed certificate is refused
    let verify = RedisBackend {
        insecure_skip_verify: false,
        ..tls.clone()
    };
    let err = format!("{:#}", verify.connect_sink().err().expect("unknown issuer"));
    assert!(
        err.contains("certificate") && !err.contains("tlspass"),
        "{err}"
    );

    // plain TCP to a TLS port: an error, not a hang
    let plain = RedisBackend { tls: false, ..tls };
    let started = Instant::now();
    assert!(plain.connect_sink().is_err());
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn dropped_connection_is_replaced_and_the_batch_retried() {
    // As when a proxy or the server closes an idle connection between two
    // batches of a worker.
    let server = OwnRedis::start();
    let own = RedisBackend {
        host: "127.0.0.1".to_string(),
        port: server.port,
        username: None,
        password: None,
        db: 0,
        tls: false,
        insecure_skip_verify: false,
        long_lists: Default::default(),
    };
    let mut sink = own.connect_sink().unwrap();
    sink.write(&[entry("u1", &["k".to_string()])]).unwrap();
    let mut admin = redis::Client::open(format!("redis://127.0.0.1:{}/", server.port))
        .and_then(|c| c.get_connection())
        .unwrap();
    let killed: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"])
        .query(&mut admin)
        .unwrap();
    assert_eq!(killed, 1, "the sink's connection");
    sink.write(&[entry("u2", &["k".to_string()])]).unwrap();
    let list: Vec<String> = redis::cmd("LRANGE")
        .arg("k")
        .arg(0)
        .arg(-1)
        .query(&mut admin)
        .unwrap();
    assert_eq!(list, ["u2", "u1"]);
}
