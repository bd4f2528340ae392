//! TLS trust from the platform (issue #10): Rekor over HTTPS, Redis TLS and
//! MySQL TLS, each behind a private CA made with `openssl` at test time.
//! Every test fails without `SSL_CERT_FILE`/`SSL_CERT_DIR` (the CA is not
//! trusted) and passes with either, `SSL_CERT_DIR` given as the RHTAS
//! operator sets it: a colon-separated list of directories of PEM files.
//!
//! Rekor: a TLS-terminating `socat` in front of the replay server. Redis: a
//! redis-server with `--tls-port`. MySQL: a MariaDB with `ssl-cert`. The
//! index is read back over plain connections.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::backend::assert_same;
use crate::support::mysql_backend::MysqlBackend;
use crate::support::redis_backend::RedisBackend;
use crate::support::tool::{self, Outcome, EXIT_FATAL};
use crate::support::Fixture;
use crate::util::free_port;

fn wait_for_port(what: &str, port: u16, log: Option<&Path>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let tail = log.and_then(|l| std::fs::read_to_string(l).ok());
            panic!("{what} does not listen on port {port}; log:\n{tail:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed when the test ends.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private CA and a server certificate it signed, for 127.0.0.1 and
/// localhost; the CA also alone in a directory, for `SSL_CERT_DIR`.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        pki.openssl(
            &[&["req", "-x509", "-nodes", "-days", "2"], &ec[..]].concat(),
            &[
                "-subj",
                "/CN=rekor-backfill test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        );
        pki.openssl(
            &[&["req", "-nodes"], &ec[..]].concat(),
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        );
        std::fs::write(
            pki.path("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
             basicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        pki.openssl(
            &["x509", "-req", "-days", "2", "-CAcreateserial"],
            &[
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-extfile",
                "server.ext",
                "-out",
                "server.pem",
            ],
        );
        std::fs::create_dir(pki.path("trusted")).unwrap();
        std::fs::copy(pki.ca(), pki.path("trusted/private-ca.pem")).unwrap();
        pki
    }

    fn openssl(&self, command: &[&str], args: &[&str]) {
        let out = Command::new("openssl")
            .args(command)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("openssl (apt-get install openssl)");
        assert!(
            out.status.success(),
            "openssl {command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    fn cert(&self) -> PathBuf {
        self.path("server.pem")
    }

    fn key(&self) -> PathBuf {
        self.path("server.key")
    }

    /// The three environments of a run: nothing trusted beyond the system
    /// store, `SSL_CERT_FILE`, `SSL_CERT_DIR` (a missing directory first).
    fn trust(&self) -> [(&'static str, Vec<(String, String)>); 3] {
        let var = |k: &str, v: String| (k.to_string(), v);
        [
            (
                "no SSL_CERT_FILE/SSL_CERT_DIR",
                vec![
                    var("SSL_CERT_FILE", String::new()),
                    var("SSL_CERT_DIR", String::new()),
                ],
            ),
            (
                "SSL_CERT_FILE",
                vec![var("SSL_CERT_FILE", self.ca().display().to_string())],
            ),
            (
                "SSL_CERT_DIR",
                vec![var(
                    "SSL_CERT_DIR",
                    format!(
                        "{}:{}",
                        self.path("no-such-dir").display(),
                        self.path("trusted").display()
                    ),
                )],
            ),
        ]
    }
}

fn path_arg(path: PathBuf) -> String {
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// The run without trust fails on the certificate at once (no retries),
/// says how to trust a private CA, writes nothing, and leaks no secret.
#[track_caller]
fn assert_untrusted(out: &Outcome, what: &str, secrets: &[&str]) {
    out.expect_code(EXIT_FATAL, what);
    let error = out
        .line_with("ERROR")
        .unwrap_or_else(|| panic!("{what}: no error line:\n{}", out.stderr));
    assert!(
        error.contains("invalid peer certificate: UnknownIssuer")
            && error.contains("add the CA with SSL_CERT_FILE or SSL_CERT_DIR"),
        "{what}: {error}"
    );
    assert!(
        out.line_with("retry").is_none(),
        "{what}: retried:\n{}",
        out.stderr
    );
    for secret in secrets {
        assert!(!out.stderr.contains(secret), "{what}: secret in output");
    }
}

#[test]
fn rekor_https_behind_a_private_ca() {
    let pki = Pki::new();
    let fx = Fixture::<RedisBackend>::new("tls-rekor");
    let port = free_port();
    let replay = fx.server.url();
    let upstream = replay.trim_start_matches("http://");
    let _proxy = Service(
        Command::new("socat")
            .arg(format!(
                "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
                pki.cert().display(),
                pki.key().display()
            ))
            .arg(format!("TCP:{upstream}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("socat (apt-get install socat)"),
    );
    wait_for_port("socat", port, None);
    let https = format!("https://127.0.0.1:{port}");

    let [untrusted, by_file, by_dir] = pki.trust();
    let out = tool::run(
        &fx.args(&["--rekor-address", &https, "--end", "49"]),
        &untrusted.1,
    );
    assert_untrusted(&out, untrusted.0, &[]);
    assert_eq!(fx.checkpoint(), None, "nothing written");
    assert!(fx.snapshot().is_empty());

    let out = tool::run(
        &fx.args(&["--rekor-address", &https, "--end", "49"]),
        &by_file.1,
    );
    out.expect_code(fx.expected_exit(0..50), by_file.0);
    assert_same(&fx.snapshot(), &fx.expected(0..50), by_file.0);

    let out = tool::run(
        &fx.args(&["--rekor-address", &https, "--end", "99"]),
        &by_dir.1,
    );
    out.expect_code(fx.expected_exit(50..100), by_dir.0);
    assert_eq!(out.resumed_from(), Some(49), "{}", out.stderr);
    assert_same(&fx.snapshot(), &fx.expected(0..100), by_dir.0);
}

#[test]
fn redis_tls_behind_a_private_ca() {
    const PASSWORD: &str = "Tls-redis-s3cret";
    let pki = Pki::new();
    let (plain, tls) = (free_port(), free_port());
    let _redis = Service(
        Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--port", &plain.to_string(), "--tls-port", &tls.to_string()])
            .args(["--tls-cert-file", &path_arg(pki.cert())])
            .args(["--tls-key-file", &path_arg(pki.key())])
            .args(["--tls-ca-cert-file", &path_arg(pki.ca())])
            .args(["--tls-auth-clients", "no", "--requirepass", PASSWORD])
            .arg("--dir")
            .arg(pki.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)"),
    );
    wait_for_port("redis-server", plain, None);
    wait_for_port("redis-server TLS", tls, None);
    let backend = RedisBackend {
        host: "127.0.0.1".to_string(),
        port: plain,
        password: PASSWORD.to_string(),
    };
    let fx = Fixture::on_backend("tls-redis", backend);
    let flags = vec![
        "--redis-hostname".to_string(),
        "127.0.0.1".to_string(),
        "--redis-port".to_string(),
        tls.to_string(),
        "--redis-password".to_string(),
        PASSWORD.to_string(),
        "--redis-enable-tls".to_string(),
    ];
    let url = vec![
        "--redis-url".to_string(),
        format!("rediss://:{PASSWORD}@127.0.0.1:{tls}/0"),
    ];

    let [untrusted, by_file, by_dir] = pki.trust();
    for backend_args in [&flags, &url] {
        let out = tool::run(
            &fx.args_with_backend(backend_args.clone(), &["--end", "49"]),
            &untrusted.1,
        );
        assert_untrusted(&out, untrusted.0, &[PASSWORD]);
        assert_eq!(fx.checkpoint(), None, "nothing written");
    }

    let out = tool::run(&fx.args_with_backend(flags, &["--end", "49"]), &by_file.1);
    out.expect_code(fx.expected_exit(0..50), by_file.0);
    assert!(out.stderr.contains(&format!("redis 127.0.0.1:{tls} (tls)")));
    assert_same(&fx.snapshot(), &fx.expected(0..50), by_file.0);

    let out = tool::run(&fx.args_with_backend(url, &["--end", "99"]), &by_dir.1);
    out.expect_code(fx.expected_exit(50..100), by_dir.0);
    assert_eq!(out.resumed_from(), Some(49), "{}", out.stderr);
    assert_same(&fx.snapshot(), &fx.expected(0..100), by_dir.0);
    fx.assert_no_secrets(&out, &[PASSWORD]);
}

/// A MariaDB of this test, started with a certificate of the private CA.
struct TlsMariaDb {
    _service: Service,
    backend: MysqlBackend,
}

impl TlsMariaDb {
    fn start(pki: &Pki) -> TlsMariaDb {
        let data = pki.path("mariadb");
        let socket = pki.path("mysql.sock");
        let log = pki.path("mariadb.log");
        // SAFETY: getuid has no preconditions.
        let is_root = unsafe { libc::getuid() } == 0;
        let mut install = Command::new("mariadb-install-db");
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=normal")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if is_root {
            install.arg("--user=root");
        }
        assert!(
            install
                .status()
                .expect("mariadb-install-db (apt-get install mariadb-server)")
                .success(),
            "mariadb-install-db failed"
        );
        let port = free_port();
        let mut server = Command::new("mariadbd");
        server
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg("--skip-log-bin")
            .arg(format!("--pid-file={}", pki.path("mariadb.pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--ssl-cert={}", pki.cert().display()))
            .arg(format!("--ssl-key={}", pki.key().display()))
            .arg(format!("--ssl-ca={}", pki.ca().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if is_root {
            server.arg("--user=root");
        }
        let service = Service(server.spawn().expect("mariadbd"));
        wait_for_port("mariadbd", port, Some(&log));
        let backend = MysqlBackend {
            user: "test".into(),
            password: "Tls-mysql-s3cret".into(),
            host: "127.0.0.1".into(),
            port,
            database: "test".into(),
            params: String::new(),
        };
        // The anonymous users of a fresh data directory would shadow
        // 'test'@'%' for local connections.
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        let sql = format!(
            "DROP USER IF EXISTS ''@'localhost'; DROP USER IF EXISTS ''@'{hostname}';
             CREATE DATABASE IF NOT EXISTS test;
             CREATE USER IF NOT EXISTS 'test'@'%' IDENTIFIED BY '{}';
             GRANT ALL ON test.* TO 'test'@'%'; FLUSH PRIVILEGES;",
            backend.password
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = Command::new("mariadb")
                .args(["--no-defaults", "-uroot"])
                .arg(format!("--socket={}", socket.display()))
                .args(["-e", &sql])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("the mariadb client");
            if status.success() {
                break;
            }
            assert!(Instant::now() < deadline, "creating the test user failed");
            std::thread::sleep(Duration::from_millis(100));
        }
        TlsMariaDb {
            _service: service,
            backend,
        }
    }
}

#[test]
fn mysql_tls_behind_a_private_ca() {
    let pki = Pki::new();
    let db = TlsMariaDb::start(&pki);
    let password = db.backend.password.clone();
    let fx = Fixture::on_backend("tls-mysql", db.backend.clone());
    let dsn = MysqlBackend {
        params: "tls=true".into(),
        ..db.backend.clone()
    }
    .dsn();
    let flags = vec!["--mysql-dsn".to_string(), dsn];

    let [untrusted, by_file, by_dir] = pki.trust();
    let out = tool::run(
        &fx.args_with_backend(flags.clone(), &["--end", "49"]),
        &untrusted.1,
    );
    assert_untrusted(&out, untrusted.0, &[&password]);
    assert_eq!(fx.checkpoint(), None, "nothing written");

    let out = tool::run(
        &fx.args_with_backend(flags.clone(), &["--end", "49"]),
        &by_file.1,
    );
    out.expect_code(fx.expected_exit(0..50), by_file.0);
    assert!(out.stderr.contains("(tls)"), "{}", out.stderr);
    assert_same(&fx.snapshot(), &fx.expected(0..50), by_file.0);

    let out = tool::run(&fx.args_with_backend(flags, &["--end", "99"]), &by_dir.1);
    out.expect_code(fx.expected_exit(50..100), by_dir.0);
    assert_eq!(out.resumed_from(), Some(49), "{}", out.stderr);
    assert_same(&fx.snapshot(), &fx.expected(0..100), by_dir.0);
    fx.assert_no_secrets(&out, &[&password]);
}
