//! Dedicated Redis / MariaDB instances for scenarios that stop the backend
//! in the middle of a run: own port, own data directory, stopped by PID,
//! data kept across a stop/start (Redis with an fsync'ed append-only file,
//! MariaDB with InnoDB), so that what the tool saved before the crash can be
//! checked afterwards.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::mysql_backend::MysqlBackend;
use super::redis_backend::RedisBackend;
use crate::util::free_port;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

fn is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// Runs `check` until it succeeds or the timeout passes.
fn wait_until(what: &str, log: &Path, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + READY_TIMEOUT;
    while !check() {
        if Instant::now() > deadline {
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} not ready after {READY_TIMEOUT:?}; log:\n{tail}");
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn kill(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// A service that can be crashed and restarted with its data.
pub trait PrivateService {
    /// Kills the server (SIGKILL: no chance to flush anything more).
    fn stop(&mut self);
    /// Starts it again on the same port with the same data.
    fn start(&mut self);
}

pub struct PrivateRedis {
    dir: tempfile::TempDir,
    pub backend: RedisBackend,
    child: Option<Child>,
}

impl PrivateRedis {
    pub fn launch() -> PrivateRedis {
        let mut redis = PrivateRedis {
            dir: tempfile::tempdir().expect("temp dir"),
            backend: RedisBackend {
                host: "127.0.0.1".into(),
                port: free_port(),
                password: "private-redis-pw".into(),
            },
            child: None,
        };
        redis.start();
        redis
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// Kills the server and starts it again without its data, as a Redis
    /// without persistence comes back after a restart.
    pub fn restart_empty(&mut self) {
        self.stop();
        for entry in std::fs::read_dir(self.dir.path()).expect("reading the redis dir") {
            let path = entry.expect("a redis dir entry").path();
            if path != self.log() {
                let removed = match path.is_dir() {
                    true => std::fs::remove_dir_all(&path),
                    false => std::fs::remove_file(&path),
                };
                removed.expect("removing redis data");
            }
        }
        self.start();
    }
}

impl PrivateService for PrivateRedis {
    fn stop(&mut self) {
        kill(&mut self.child);
    }

    fn start(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.backend.port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args(["--requirepass", &self.backend.password])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(self.log())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting redis-server (apt-get install redis-server)");
        self.child = Some(child);
        let url = format!(
            "redis://:{}@127.0.0.1:{}/0",
            self.backend.password, self.backend.port
        );
        wait_until("private redis-server", &self.log(), || {
            redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok()
        });
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

pub struct PrivateMariaDb {
    dir: tempfile::TempDir,
    pub backend: MysqlBackend,
    child: Option<Child>,
}

impl PrivateMariaDb {
    pub fn launch() -> PrivateMariaDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut install = Command::new("mariadb-install-db");
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.path().join("data").display()))
            .arg("--auth-root-authentication-method=normal")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if is_root() {
            install.arg("--user=root");
        }
        let status = install
            .status()
            .expect("running mariadb-install-db (apt-get install mariadb-server)");
        assert!(status.success(), "mariadb-install-db failed");
        let mut db = PrivateMariaDb {
            dir,
            backend: MysqlBackend {
                user: "test".into(),
                password: "private-mysql-pw".into(),
                host: "127.0.0.1".into(),
                port: free_port(),
                database: "test".into(),
                params: "parseTime=true".into(),
            },
            child: None,
        };
        db.start();
        let sql = format!(
            "DROP USER IF EXISTS ''@'localhost'; DROP USER IF EXISTS ''@'{host}';
             CREATE DATABASE IF NOT EXISTS test;
             CREATE USER IF NOT EXISTS 'test'@'%' IDENTIFIED BY '{pw}';
             GRANT ALL ON test.* TO 'test'@'%'; FLUSH PRIVILEGES;",
            host = hostname(),
            pw = db.backend.password
        );
        let status = Command::new("mariadb")
            .args(["--no-defaults", "-uroot"])
            .arg(format!("--socket={}", db.socket().display()))
            .args(["-e", &sql])
            .status()
            .expect("running the mariadb client");
        assert!(status.success(), "creating the test user failed");
        db
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("mysql.sock")
    }

    /// Runs `sql` as root (e.g. `SET GLOBAL`, which the test user may not).
    pub fn as_root(&self, sql: &str) {
        let status = Command::new("mariadb")
            .args(["--no-defaults", "-uroot"])
            .arg(format!("--socket={}", self.socket().display()))
            .args(["-e", sql])
            .status()
            .expect("running the mariadb client");
        assert!(status.success(), "{sql} failed");
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("mariadb.log")
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

impl PrivateService for PrivateMariaDb {
    fn stop(&mut self) {
        kill(&mut self.child);
    }

    fn start(&mut self) {
        let mut cmd = Command::new("mariadbd");
        cmd.arg("--no-defaults")
            .arg(format!(
                "--datadir={}",
                self.dir.path().join("data").display()
            ))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--port={}", self.backend.port))
            .arg("--bind-address=127.0.0.1")
            .arg("--skip-log-bin")
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("mariadb.pid").display()
            ))
            .arg(format!("--log-error={}", self.log().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if is_root() {
            cmd.arg("--user=root");
        }
        self.child = Some(cmd.spawn().expect("starting mariadbd"));
        let socket = self.socket();
        wait_until("private mariadbd", &self.log(), || {
            Command::new("mariadb")
                .args(["--no-defaults", "-uroot"])
                .arg(format!("--socket={}", socket.display()))
                .args(["-e", "SELECT 1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    }
}

impl Drop for PrivateMariaDb {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}
