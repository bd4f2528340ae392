//! No failure is forgotten: entries that cannot be indexed are recorded in
//! the backend before the checkpoint passes them, retried first by every
//! later run (and removed once they succeed); an entry the server answers
//! 500 for is recorded as `unreadable` and the run goes on; a panic on one
//! entry is recorded as `internal`; `--failed-entries` is complete after a
//! SIGKILL. On both backends (real Redis and MariaDB of harness/services.sh).

use std::collections::BTreeSet;
use std::time::Duration;

use replay_rekor::Malformation;

use crate::support;
use support::backend::IndexBackend;
use support::mysql_backend::MysqlBackend;
use support::redis_backend::RedisBackend;
use support::tool::{self, Outcome, EXIT_ENTRY_FAILURES, EXIT_FATAL, EXIT_OK};
use support::Fixture;

/// The run's `--summary json` line.
fn summary(out: &Outcome) -> serde_json::Value {
    let line = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no summary line on stdout:\n{}", out.stdout));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("summary is not JSON ({e}): {line}"))
}

/// A record for an entry the server broke, then serves fine again: the
/// rerun (nothing new to do) retries every record, removes that one and
/// indexes the entry; the corpus's own failures stay, one attempt more.
fn records_retried_and_cleared<B: IndexBackend>() {
    let fx = Fixture::<B>::new("failures-cleared");
    let size = fx.size();
    let broken = 5;
    fx.server.set_malformed(broken, Malformation::BadJson);
    let out = fx.run(&["--summary", "json"]);
    out.expect_code(EXIT_ENTRY_FAILURES, "first run");
    let mut failing = fx.expected_failures(0..size);
    assert!(failing.contains(&broken));
    let records = fx.failures();
    assert_eq!(
        records.keys().copied().collect::<BTreeSet<_>>(),
        failing,
        "one record per failed entry"
    );
    assert_eq!(records[&broken].kind, "decode");
    assert_eq!(records[&broken].uuid, fx.entry(broken).uuid);
    assert!(records.values().all(|r| r.attempts == 1), "{records:?}");
    assert_eq!(
        summary(&out)["failedByKind"]["decode"],
        records.values().filter(|r| r.kind == "decode").count()
    );

    fx.server.update_log(|log| log.clear_overrides());
    fx.server.reset_stats();
    let out = fx.run(&["--summary", "json"]);
    out.expect_code(EXIT_OK, "rerun: the range is done, the records retried");
    assert!(out.line_with("Nothing to do").is_some(), "{}", out.stderr);
    let retried = &summary(&out)["retried"];
    let n = failing.len() as u64;
    assert_eq!(
        (
            retried["entries"].as_u64(),
            retried["cleared"].as_u64(),
            retried["stillFailing"].as_u64()
        ),
        (Some(n), Some(1), Some(n - 1)),
        "{retried}"
    );
    let served: BTreeSet<u64> = fx.server.served_indices().into_iter().collect();
    assert_eq!(served, failing, "only the recorded indices are fetched");
    failing.remove(&broken);
    let records = fx.failures();
    assert_eq!(records.keys().copied().collect::<BTreeSet<_>>(), failing);
    assert!(records.values().all(|r| r.attempts == 2), "{records:?}");
    support::backend::assert_same(&fx.snapshot(), &fx.expected(0..size), "after the rerun");
}

/// An index that answers 500 for ever: recorded as unreadable, every other
/// index indexed, status 3; once served again, the next run clears it.
fn unreadable_index_recorded<B: IndexBackend>() {
    let fx = Fixture::<B>::new("failures-unreadable");
    let size = fx.size();
    let bad = 17;
    fx.server.set_unreadable(bad, true);
    let out = fx.run(&["--summary", "json", "--rekor-retry-count", "2"]);
    out.expect_code(EXIT_ENTRY_FAILURES, "run with an unreadable index");
    let records = fx.failures();
    assert_eq!(records[&bad].kind, "unreadable", "{records:?}");
    assert!(records[&bad].error.contains("500"), "{:?}", records[&bad]);
    assert_eq!(summary(&out)["failedByKind"]["unreadable"], 1);
    assert_eq!(
        fx.checkpoint().map(|c| c.last_completed_index),
        Some(size - 1)
    );
    let others = (0..size).filter(|&i| i != bad);
    support::backend::assert_same(
        &fx.snapshot(),
        &fx.expected(others),
        "all but the unreadable",
    );

    fx.server.set_unreadable(bad, false);
    let out = fx.run(&["--summary", "json"]);
    out.expect_code(EXIT_OK, "rerun");
    assert!(!fx.failures().contains_key(&bad));
    assert_eq!(summary(&out)["retried"]["cleared"], 1);
    support::backend::assert_same(&fx.snapshot(), &fx.expected(0..size), "after the rerun");
}

/// Rekor down is not an unreadable entry: status 1, nothing recorded.
fn rekor_down_is_transient<B: IndexBackend>() {
    let fx = Fixture::<B>::new("failures-down");
    let address = format!("http://127.0.0.1:{}", crate::util::free_port());
    let out = fx.run(&["--rekor-address", &address, "--rekor-retry-count", "1"]);
    out.expect_code(EXIT_FATAL, "Rekor unreachable");
    assert!(fx.failures().is_empty());
}

/// The test-only hook panics on one index: recorded as internal with the
/// panic message, the run ends (no hang) with status 3, and with JSON logs
/// every stderr line is still a JSON object.
fn panic_recorded_as_internal<B: IndexBackend>() {
    let fx = Fixture::<B>::new("failures-panic");
    let size = fx.size();
    let at = 23;
    let env = [(
        rekor_backfill::panics::TEST_PANIC_AT_INDEX.to_string(),
        at.to_string(),
    )];
    let out = tool::run(&fx.args(&["--log-format", "json"]), &env);
    out.expect_code(EXIT_ENTRY_FAILURES, "run with a panic");
    assert!(
        out.elapsed < Duration::from_secs(60),
        "took {:?}",
        out.elapsed
    );
    for line in out.stderr.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not a JSON log line: {line}"
        );
    }
    assert!(out.line_with("panic").is_some(), "{}", out.stderr);
    let records = fx.failures();
    assert_eq!(records[&at].kind, "internal", "{records:?}");
    assert!(records[&at].error.contains("panic"), "{:?}", records[&at]);
    assert_eq!(
        fx.checkpoint().map(|c| c.last_completed_index),
        Some(size - 1)
    );
}

/// SIGKILL once the checkpoint passed failed entries: the export and the
/// records hold every failure below the checkpoint.
fn failures_complete_after_sigkill<B: IndexBackend>() {
    let fx = Fixture::<B>::new("failures-sigkill");
    let broken: Vec<u64> = (0..fx.size()).step_by(37).collect();
    for &i in &broken {
        fx.server.set_malformed(i, Malformation::UnknownKind);
    }
    fx.server.set_delay(Duration::from_millis(20));
    let file = fx.dir.path().join("failed.jsonl");
    let file_arg = file.to_string_lossy().to_string();
    let mut running = fx.spawn(&[
        "--failed-entries",
        &file_arg,
        "--checkpoint-interval",
        "3",
        "--concurrency",
        "2",
    ]);
    running.wait_until(
        "the checkpoint past index 200",
        Duration::from_secs(60),
        || {
            fx.checkpoint()
                .is_some_and(|c| c.last_completed_index >= 200)
        },
    );
    running.signal(libc::SIGKILL);
    let _ = running.wait();
    fx.backend.drop_lease(&fx.name);
    let cp = fx.checkpoint().expect("a checkpoint").last_completed_index;
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let exported: BTreeSet<u64> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("torn --failed-entries line ({e}): {l:?}"));
            v["logIndex"].as_u64().expect("logIndex")
        })
        .collect();
    let recorded: BTreeSet<u64> = fx.failures().keys().copied().collect();
    for i in fx.expected_failures(0..=cp) {
        assert!(
            exported.contains(&i),
            "index {i} <= checkpoint {cp} missing from the export"
        );
        assert!(
            recorded.contains(&i),
            "index {i} <= checkpoint {cp} has no record"
        );
    }
}

#[test]
fn redis_records_retried_and_cleared() {
    records_retried_and_cleared::<RedisBackend>();
}

#[test]
fn mysql_records_retried_and_cleared() {
    records_retried_and_cleared::<MysqlBackend>();
}

#[test]
fn redis_unreadable_index_recorded() {
    unreadable_index_recorded::<RedisBackend>();
}

#[test]
fn mysql_unreadable_index_recorded() {
    unreadable_index_recorded::<MysqlBackend>();
}

#[test]
fn redis_rekor_down_is_transient() {
    rekor_down_is_transient::<RedisBackend>();
}

#[test]
fn redis_panic_recorded_as_internal() {
    panic_recorded_as_internal::<RedisBackend>();
}

#[test]
fn mysql_panic_recorded_as_internal() {
    panic_recorded_as_internal::<MysqlBackend>();
}

#[test]
fn redis_failures_complete_after_sigkill() {
    failures_complete_after_sigkill::<RedisBackend>();
}

#[test]
fn mysql_failures_complete_after_sigkill() {
    failures_complete_after_sigkill::<MysqlBackend>();
}
