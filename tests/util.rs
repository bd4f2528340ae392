//! Helpers every kind of integration test shares: the vendored corpus of
//! real entries, the hash and base64 forms expected keys are built from,
//! external tools (`openssl`, `ssh-keygen`) that must be present, free
//! loopback ports and sink entries.
//!
//! One copy of each, so that a test module never grows its own variant that
//! quietly behaves differently (a missing tool used to skip some tests and
//! fail others).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rekor_backfill::sink::IndexedEntry;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The corpus of real log entries (`{"body": base64, ...}` per line),
/// vendored with its provenance in `testdata/corpus/`.
pub const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/corpus/entries.jsonl");

/// The corpus records, one JSON value per line, read once per test binary.
pub fn corpus_records() -> &'static [Value] {
    static RECORDS: LazyLock<Vec<Value>> = LazyLock::new(|| {
        let text = std::fs::read_to_string(CORPUS)
            .unwrap_or_else(|e| panic!("reading the corpus {CORPUS}: {e}"));
        text.lines()
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("corpus line {}: not JSON: {e}", i + 1))
            })
            .collect()
    });
    &RECORDS
}

/// The decoded body of every corpus record, in corpus order.
pub fn corpus_bodies() -> &'static [Vec<u8>] {
    static BODIES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
        corpus_records()
            .iter()
            .enumerate()
            .map(|(i, record)| {
                let body = record["body"]
                    .as_str()
                    .unwrap_or_else(|| panic!("corpus line {}: no body", i + 1));
                STANDARD
                    .decode(body)
                    .unwrap_or_else(|e| panic!("corpus line {}: body is not base64: {e}", i + 1))
            })
            .collect()
    });
    &BODIES
}

/// Standard base64 with padding, as Go's `encoding/base64.StdEncoding`.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Lowercase hex SHA-256, the form of every hash key.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A loopback port nothing listens on (at the time of the call).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("finding a free loopback port")
        .port()
}

/// One entry for a sink: its UUID and index keys.
pub fn entry(uuid: &str, keys: &[String]) -> IndexedEntry {
    IndexedEntry {
        uuid: uuid.to_string(),
        keys: keys.to_vec(),
    }
}

/// Fails the test, with what to install, unless `program args` runs. A
/// test that needs a tool never passes without it.
#[track_caller]
pub fn require_tool(program: &str, args: &[&str], package: &str) {
    let ran = Command::new(program).args(args).output();
    assert!(
        ran.is_ok(),
        "this test needs `{program}`, which is not installed or not on PATH: \
         install the Debian package `{package}` (or run `make deps`)"
    );
}

/// [`require_tool`] for the `openssl` CLI.
#[track_caller]
pub fn require_openssl() {
    require_tool("openssl", &["version"], "openssl");
}

/// Runs `openssl args` in `dir`; fails the test with openssl's message
/// unless it succeeds.
#[track_caller]
pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    require_openssl();
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running openssl {args:?}: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
