//! Running the `rekor-backfill` binary: to completion with a deadline, or
//! in the background to be signalled or killed mid-run.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Longest a single run may take before the test fails.
pub const RUN_DEADLINE: Duration = Duration::from_secs(180);

pub const EXIT_OK: i32 = 0;
pub const EXIT_FATAL: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_ENTRY_FAILURES: i32 = 3;
/// SIGINT; SIGTERM is [`EXIT_TERMINATED`].
pub const EXIT_INTERRUPTED: i32 = 130;
pub const EXIT_TERMINATED: i32 = 143;

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status, `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// Panics with the whole stderr unless the run exited with `code`.
    pub fn expect_code(&self, code: i32, what: &str) -> &Outcome {
        assert_eq!(
            self.code,
            Some(code),
            "{what}: expected exit status {code}, got {:?}\n--- stderr ---\n{}",
            self.code,
            self.stderr
        );
        self
    }

    /// The `--summary json` line: the last stdout line that is a JSON
    /// object.
    #[track_caller]
    pub fn summary(&self) -> serde_json::Value {
        let line = self
            .stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("no summary on stdout\n--- stderr ---\n{}", self.stderr));
        serde_json::from_str(line).unwrap_or_else(|e| panic!("summary is not JSON ({e}): {line}"))
    }

    /// The stderr line containing `needle`, if any.
    pub fn line_with(&self, needle: &str) -> Option<&str> {
        self.stderr.lines().find(|l| l.contains(needle))
    }

    /// N from "Resuming from checkpoint: last completed index N".
    pub fn resumed_from(&self) -> Option<u64> {
        let line = self.line_with("Resuming from checkpoint: last completed index ")?;
        let tail = line.split("last completed index ").nth(1)?;
        tail.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    }
}

/// A background run whose output is collected as it comes.
pub struct Running {
    child: Child,
    started: Instant,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    stdout: Arc<Mutex<String>>,
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
}

/// Starts the tool with `args` and extra environment; stdin gets `input`.
pub fn spawn(args: &[String], env: &[(String, String)], input: Option<String>) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rekor-backfill"));
    cmd.args(args)
        .env_remove("REDIS_PASSWORD")
        .env_remove("MYSQL_DSN")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("starting rekor-backfill");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
    }
    let stderr = Arc::new(Mutex::new(String::new()));
    let stdout = Arc::new(Mutex::new(String::new()));
    let readers = vec![
        collect(child.stderr.take().expect("stderr"), stderr.clone()),
        collect(child.stdout.take().expect("stdout"), stdout.clone()),
    ];
    Running {
        child,
        started: Instant::now(),
        stderr,
        readers,
        stdout,
    }
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends a signal (SIGTERM, SIGINT, SIGKILL...).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill({}, {signal}) failed", self.pid());
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Polls `cond` while the tool runs; fails the test if the tool exits
    /// first (with what it printed) or after `timeout`.
    pub fn wait_until(&mut self, what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !cond() {
            assert!(
                self.is_running(),
                "rekor-backfill exited before {what}\n--- stderr ---\n{}",
                self.stderr_so_far()
            );
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn stderr_so_far(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits for the exit, at most `deadline`; on timeout kills the tool and
    /// fails the test with what it printed.
    pub fn wait_for(mut self, deadline: Duration) -> Outcome {
        let limit = Instant::now() + deadline;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("waiting for rekor-backfill") {
                break status;
            }
            if Instant::now() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "rekor-backfill did not finish within {deadline:?}\n--- stderr ---\n{}",
                    self.stderr_so_far()
                );
            }
            thread::sleep(Duration::from_millis(5));
        };
        let elapsed = self.started.elapsed();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let take = |s: &Arc<Mutex<String>>| s.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Outcome {
            code: status.code(),
            stdout: take(&self.stdout),
            stderr: take(&self.stderr),
            elapsed,
        }
    }

    pub fn wait(self) -> Outcome {
        self.wait_for(RUN_DEADLINE)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that panicked mid-run must not leave the tool behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the tool to completion.
pub fn run(args: &[String], env: &[(String, String)]) -> Outcome {
    spawn(args, env, None).wait()
}
