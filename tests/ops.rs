//! What operators and their schedulers see (issue #10): the exit statuses
//! on real causes, JSON logs and the JSON summary, Prometheus metrics in a
//! textfile and at a real Pushgateway (built from its Go module, checked
//! with Prometheus' own text parser), and the `keys` command on Rekor's
//! API responses. Needs the test services (Redis) and Go.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use replay_rekor::{Fault, FaultTarget, Log, Malformation};
use serde_json::{json, Value};

use crate::support::redis_backend::RedisBackend;
use crate::support::tool::{self, Outcome};
use crate::support::{self, Fixture};

const PATIENCE: Duration = Duration::from_secs(60);

/// Runs, checks the status, and that the summary reports the same one.
fn expect_status(out: &Outcome, code: i32, what: &str) -> Value {
    out.expect_code(code, what);
    let s = out.summary();
    assert_eq!(s["exitStatus"], code, "{what}: summary {s}");
    s
}

#[test]
fn exit_statuses_on_real_causes() {
    let fx = Fixture::<RedisBackend>::new("ops-exit-statuses");
    let with_summary = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["--summary", "json"]);
        fx.run(&args)
    };

    // 0: complete (entries 0..=99 all have keys).
    assert!(fx.expected_failures(0..100).is_empty());
    let s = expect_status(&with_summary(&["--end", "99"]), 0, "complete");
    assert_eq!(s["range"], json!({"start": 0, "end": 99}));
    assert_eq!(
        (s["indexed"].as_u64(), s["failed"].as_u64()),
        (Some(100), Some(0))
    );
    assert_eq!(s["checkpoint"]["lastCompletedIndex"], 99);
    assert_eq!(s["watermark"], 100);
    // 0: nothing to do.
    let s = expect_status(&with_summary(&["--end", "99"]), 0, "nothing to do");
    assert_eq!(s["range"], Value::Null);

    // 2: --end beyond the log; nothing written, the checkpoint unchanged.
    let beyond = (fx.size() + 5).to_string();
    expect_status(
        &with_summary(&["--end", &beyond]),
        2,
        "--end beyond the log",
    );
    // 2: a flag that does not parse into a configuration.
    expect_status(&with_summary(&["--concurrency", "0"]), 2, "--concurrency 0");
    assert_eq!(fx.checkpoint().map(|c| c.last_completed_index), Some(99));

    // 3: entries that cannot be indexed, recorded.
    fx.server.set_malformed(105, Malformation::BadJson);
    let failures = fx.expected_failures(100..200);
    assert!(failures.contains(&105));
    let s = expect_status(&with_summary(&["--end", "199"]), 3, "malformed entries");
    assert_eq!(s["failed"].as_u64(), Some(failures.len() as u64));
    assert_eq!(s["indexed"].as_u64(), Some(100 - failures.len() as u64));

    // 1: Rekor answering 503 for good: transient, checkpoint kept.
    fx.server
        .inject(FaultTarget::Any, Fault::status(503), u64::MAX / 2);
    let s = expect_status(
        &with_summary(&["--rekor-retry-count", "1"]),
        1,
        "Rekor unreachable after retries",
    );
    assert_eq!(s["status"], "transient-failure");
    fx.server.clear_faults();
    assert_eq!(fx.checkpoint().map(|c| c.last_completed_index), Some(199));

    // 130 / 143: the signal's own status, after the final save.
    fx.server.set_delay(Duration::from_millis(50));
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        fx.server.reset_stats();
        let mut running = fx.spawn(&["--concurrency", "1", "--summary", "json"]);
        running.wait_until("entries served", PATIENCE, || {
            fx.server.stats().entries_served >= 30
        });
        running.signal(signal);
        let out = running.wait_for(PATIENCE);
        let s = expect_status(&out, code, &format!("signal {signal}"));
        let saved = fx.checkpoint().map(|c| c.last_completed_index);
        assert_eq!(s["checkpoint"]["lastCompletedIndex"].as_u64(), saved);
        assert!(
            saved < Some(fx.size() - 1),
            "signal {signal}: the run was not interrupted"
        );
    }
}

#[test]
fn json_logs_carry_fields_and_progress() {
    let fx = Fixture::<RedisBackend>::new("ops-json-logs");
    fx.server.set_malformed(7, Malformation::BadJson);
    // 20 requests of 300 ms: long enough for a progress line (every 5 s).
    fx.server.set_delay(Duration::from_millis(300));
    let out = fx.run(&["--end", "199", "--concurrency", "1", "--log-format", "json"]);
    let s = expect_status(&out, 3, "JSON run over a malformed entry");
    assert_eq!(
        s["failed"].as_u64(),
        Some(fx.expected_failures(0..200).len() as u64)
    );
    let lines: Vec<Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for line in &lines {
        for key in ["ts", "level", "msg"] {
            assert!(line[key].is_string(), "no {key}: {line}");
        }
    }
    let uuid = fx.entry(7).uuid;
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "warn" && l["logIndex"] == 7 && l["uuid"] == uuid.as_str()),
        "no warning with logIndex and uuid:\n{}",
        out.stderr
    );
    let progress = lines
        .iter()
        .find(|l| l["msg"].as_str().is_some_and(|m| m.starts_with("Progress")))
        .unwrap_or_else(|| panic!("no progress line:\n{}", out.stderr));
    for key in ["rate", "watermark", "remaining", "etaSeconds"] {
        assert!(
            progress[key].is_number(),
            "progress without {key}: {progress}"
        );
    }
    assert!(progress["remaining"].as_u64() < Some(200));
    let done = lines
        .iter()
        .find(|l| {
            l["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("Backfill complete"))
        })
        .unwrap_or_else(|| panic!("no summary line:\n{}", out.stderr));
    assert_eq!(done["watermark"], 200);
    assert_eq!(done["keysWritten"], s["keysWritten"]);
}

/// A Go tool, built once per test process into target/go-tools: the
/// metrics checker from harness/metrics-check, or the Pushgateway from its
/// Go module. Fails the test when Go is missing.
fn go_tool(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = BUILT
        .get_or_init(|| {
            let bin = root.join("target/go-tools");
            let build = |what: &str, mut cmd: Command| {
                let status = cmd
                    .env("GOBIN", &bin)
                    .env("GOFLAGS", "-mod=mod")
                    .status()
                    .unwrap_or_else(|e| panic!("running go for {what} (is Go installed?): {e}"));
                assert!(status.success(), "building {what} failed: {status}");
            };
            let mut checker = Command::new("go");
            checker
                .current_dir(root.join("harness/metrics-check"))
                .args(["install", "."]);
            build("harness/metrics-check", checker);
            if !bin.join("pushgateway").exists() {
                let mut gateway = Command::new("go");
                gateway.args(["install", "github.com/prometheus/pushgateway@v1.11.5"]);
                build("the Pushgateway", gateway);
            }
            bin
        })
        .join(name);
    assert!(bin.exists(), "{} was not built", bin.display());
    bin
}

/// Metrics as Prometheus' text parser reads them (`metrics-check`).
pub(crate) fn parse_metrics(source: &str) -> Result<Value, String> {
    let out = Command::new(go_tool("metrics-check"))
        .arg(source)
        .output()
        .expect("running metrics-check");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

/// The value of `family`'s sample whose labels include `labels`.
pub(crate) fn sample(metrics: &Value, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics[family]["samples"]
        .as_array()?
        .iter()
        .find(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .and_then(|s| s["value"].as_f64())
}

struct Pushgateway {
    child: Child,
    url: String,
}

impl Pushgateway {
    fn start() -> Pushgateway {
        let port = std::env::var("REKOR_BACKFILL_TEST_PUSHGATEWAY_PORT")
            .ok()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
                listener.local_addr().expect("its address").port()
            });
        let address = format!("127.0.0.1:{port}");
        let child = Command::new(go_tool("pushgateway"))
            .arg(format!("--web.listen-address={address}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the Pushgateway");
        let gateway = Pushgateway {
            child,
            url: format!("http://{address}"),
        };
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(Instant::now() < deadline, "the Pushgateway did not start");
            thread::sleep(Duration::from_millis(50));
        }
        gateway
    }

    fn metrics(&self) -> Value {
        parse_metrics(&format!("{}/metrics", self.url)).expect("the Pushgateway's metrics")
    }
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn metrics_textfile_and_pushgateway() {
    let gateway = Pushgateway::start();
    let fx = Fixture::<RedisBackend>::new("ops-metrics");
    let textfile = fx.dir.path().join("rekor-backfill.prom");
    let textfile_arg = textfile.to_str().expect("utf-8 path");
    let job = "rekor-backfill-test";
    let group = [("job", job), ("checkpoint", fx.name.as_str())];
    let args = [
        "--end",
        "199",
        "--concurrency",
        "1",
        "--checkpoint-interval",
        "10",
        "--summary",
        "json",
        "--metrics-textfile",
        textfile_arg,
        "--pushgateway",
        &gateway.url,
        "--pushgateway-job",
        job,
        "--pushgateway-interval",
        "200ms",
    ];

    // During the run: pushes on the timer, the textfile at checkpoints.
    fx.server.set_delay(Duration::from_millis(100));
    let mut running = fx.spawn(&args);
    running.wait_until("a push during the run", PATIENCE, || {
        sample(
            &gateway.metrics(),
            "rekor_backfill_entries_indexed_total",
            &group,
        )
        .is_some_and(|v| v > 0.0)
    });
    running.wait_until("the textfile after a checkpoint", PATIENCE, || {
        textfile.exists()
    });
    let during = parse_metrics(textfile_arg).expect("the textfile, mid-run");
    assert!(
        during.get("rekor_backfill_exit_status").is_none(),
        "{during}"
    );
    let out = running.wait_for(PATIENCE);
    fx.server.set_delay(Duration::ZERO);
    let s = expect_status(&out, fx.expected_exit(0..200), "run with metrics");

    let expected = [
        (
            "rekor_backfill_entries_indexed_total",
            "COUNTER",
            &s["indexed"],
        ),
        (
            "rekor_backfill_entries_failed_total",
            "COUNTER",
            &s["failed"],
        ),
        (
            "rekor_backfill_keys_written_total",
            "COUNTER",
            &s["keysWritten"],
        ),
        (
            "rekor_backfill_failures_retried_total",
            "COUNTER",
            &s["retried"]["entries"],
        ),
        (
            "rekor_backfill_failures_cleared_total",
            "COUNTER",
            &s["retried"]["cleared"],
        ),
        ("rekor_backfill_watermark_index", "GAUGE", &s["watermark"]),
        (
            "rekor_backfill_target_end_index",
            "GAUGE",
            &s["range"]["end"],
        ),
        ("rekor_backfill_exit_status", "GAUGE", &s["exitStatus"]),
    ];
    let file = parse_metrics(textfile_arg).expect("the textfile");
    let pushed = gateway.metrics();
    let file_labels = [("checkpoint", fx.name.as_str())];
    for (family, kind, value) in expected {
        let value = value.as_f64();
        assert!(value.is_some(), "summary without {family}: {s}");
        assert_eq!(file[family]["type"], kind, "{family}: {file}");
        assert_eq!(
            sample(&file, family, &file_labels),
            value,
            "textfile {family}"
        );
        assert_eq!(sample(&pushed, family, &group), value, "pushed {family}");
    }
    // One series per kind, every kind listed, each equal to the summary's
    // failedByKind (absent there: 0).
    let by_kind = "rekor_backfill_entries_failed_by_kind_total";
    for kind in rekor_backfill::error::ErrorKind::ALL.map(|k| k.as_str()) {
        let expected = s["failedByKind"][kind].as_f64().unwrap_or(0.0);
        let mut labels = file_labels.to_vec();
        labels.push(("kind", kind));
        assert_eq!(
            sample(&file, by_kind, &labels),
            Some(expected),
            "textfile {kind}"
        );
        let mut labels = group.to_vec();
        labels.push(("kind", kind));
        assert_eq!(
            sample(&pushed, by_kind, &labels),
            Some(expected),
            "pushed {kind}"
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    let success = "rekor_backfill_last_success_timestamp_seconds";
    for (what, metrics, labels) in [
        ("textfile", &file, &file_labels[..]),
        ("pushed", &pushed, &group[..]),
    ] {
        let at = sample(metrics, success, labels).unwrap_or_else(|| panic!("{what}: no {success}"));
        assert!(
            (now - at).abs() < 120.0,
            "{what}: {success} {at}, now {now}"
        );
        let duration = sample(metrics, "rekor_backfill_duration_seconds", labels);
        assert!(
            duration.is_some_and(|d| d > 0.0),
            "{what}: duration {duration:?}"
        );
    }

    // A failing run reports its status and keeps the last success.
    let last_success = sample(&file, success, &file_labels);
    fx.server
        .inject(FaultTarget::Any, Fault::status(503), u64::MAX / 2);
    let mut failing = args.to_vec();
    failing[1] = "299";
    failing.extend(["--rekor-retry-count", "0"]);
    expect_status(&fx.run(&failing), 1, "run against a failing Rekor");
    fx.server.clear_faults();
    let file = parse_metrics(textfile_arg).expect("the textfile after a failure");
    let pushed = gateway.metrics();
    assert_eq!(
        sample(&file, "rekor_backfill_exit_status", &file_labels),
        Some(1.0)
    );
    assert_eq!(
        sample(&pushed, "rekor_backfill_exit_status", &group),
        Some(1.0)
    );
    assert_eq!(sample(&file, success, &file_labels), last_success, "{file}");
    assert!(sample(&pushed, success, &group).is_some(), "{pushed}");
}

#[test]
fn metrics_checker_rejects_bad_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.prom");
    std::fs::write(&bad, "rekor_backfill_x{a=\"1\" 2\n").expect("writing");
    assert!(parse_metrics(bad.to_str().expect("utf-8")).is_err());
}

/// An in-toto statement as Rekor stores it for an entry (`attestation`).
const STATEMENT: &str = r#"{"_type":"https://in-toto.io/Statement/v0.1",
  "predicateType":"https://slsa.dev/provenance/v0.2",
  "subject":[{"name":"a","digest":{"sha256":"aa"}}],"predicate":{}}"#;

/// A corpus dsse 0.0.1 entry (the server adds the statement's subject
/// digests to its keys), with `STATEMENT` as its attestation.
fn entry_with_attestation() -> (replay_rekor::ServedEntry, String) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let log = Log::new(support::corpus());
    let entry = (0..log.size())
        .filter_map(|i| log.served(i))
        .find(|e| {
            let body: Value = b64
                .decode(&e.body_b64)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            body["kind"] == "dsse" && body["apiVersion"] == "0.0.1"
        })
        .expect("a dsse 0.0.1 entry in the corpus");
    (entry, b64.encode(STATEMENT))
}

fn keys(input: &str) -> Outcome {
    tool::spawn(&["keys".to_string()], &[], Some(input.to_string())).wait()
}

#[test]
fn keys_reads_rekor_api_responses() {
    let (e, attestation) = entry_with_attestation();
    let plain = keys(&format!(
        "{}\n",
        json!({"body": e.body_b64, "attestation": attestation})
    ));
    plain.expect_code(0, "keys of a plain line");
    let expected: Value = serde_json::from_str(plain.stdout.trim()).expect("JSON");
    assert!(
        expected["keys"].as_array().is_some_and(|k| !k.is_empty()),
        "{expected}"
    );
    let without: Value = serde_json::from_str(
        keys(&format!("{}\n", json!({"body": e.body_b64})))
            .stdout
            .trim(),
    )
    .expect("JSON");
    assert_eq!(
        expected["keys"].as_array().and_then(|k| k.last()),
        Some(&json!("sha256:aa")),
        "the attestation's subject digest is not among the keys: {expected} (without: {without})"
    );

    // The API's entry shape, a whole response (pretty-printed over many
    // lines, as `jq .` shows it), and a retrieve response of two.
    let api_entry = json!({
        "body": e.body_b64,
        "integratedTime": e.integrated_time,
        "logID": e.log_id,
        "logIndex": e.log_index,
        "attestation": {"data": attestation},
    });
    let mut response = serde_json::Map::new();
    response.insert(e.uuid.clone(), api_entry.clone());
    let response = Value::Object(response);
    let input = format!(
        "{}\n{}\n{}\n",
        json!(api_entry),
        serde_json::to_string_pretty(&response).expect("JSON"),
        json!([response, response])
    );
    let out = keys(&input);
    out.expect_code(0, "keys of API responses");
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 4, "{}", out.stdout);
    assert_eq!(lines[0], expected);
    for line in &lines[1..] {
        assert_eq!(line["keys"], expected["keys"], "{line}");
        assert_eq!(line["uuid"], e.uuid.as_str());
        assert_eq!(line["logIndex"], e.log_index);
    }
}

#[test]
fn keys_ends_quietly_when_stdout_closes() {
    let body = Log::new(support::corpus())
        .served(0)
        .expect("entry 0")
        .body_b64;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rekor-backfill"))
        .arg("keys")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting keys");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = thread::spawn(move || {
        let line = format!("{body}\n");
        for _ in 0..200_000 {
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    // `| head -1`: read one line, then close the pipe.
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a first line");
    assert!(first.contains("\"keys\""), "{first}");
    let out = child.wait_with_output().expect("waiting for keys");
    let _ = writer.join();
    assert_eq!(
        out.status.code(),
        Some(0),
        "exit status after a closed stdout"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "stderr after a closed stdout"
    );
}

#[test]
fn help_texts_print_no_doubled_braces() {
    for args in [&["--help"][..], &["keys", "--help"][..]] {
        let out = tool::spawn(
            &args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &[],
            None,
        )
        .wait();
        out.expect_code(0, "help");
        assert!(out.stdout.contains("keys"), "{}", out.stdout);
        assert!(!out.stdout.contains("{{"), "{}", out.stdout);
    }
}
