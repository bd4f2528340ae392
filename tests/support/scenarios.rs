//! The scenarios, written once for any backend. Each compares the index
//! after a run with what an uninterrupted run writes (the keys
//! `rekor-backfill keys` computes for the very bodies served, or the
//! reference run), and checks the checkpoint invariant wherever a run can be
//! cut short.

use std::collections::{BTreeMap, BTreeSet};
use std::thread;
use std::time::{Duration, Instant};

use replay_rekor::{Fault, FaultTarget, Malformation, RetrieveMode};

use super::backend::{assert_same, Checkpoint, IndexBackend};
use super::tool::{self, EXIT_FATAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE};
use super::{contiguous_from, Fixture, Rng};

/// Long enough for any wait on the tool in a healthy run.
const PATIENCE: Duration = Duration::from_secs(60);

/// Per-answer delay that stretches a run over the corpus to about half a
/// second with batches of 10 (several seconds with single fetches), so that
/// kills, signals and failures land mid-run.
const SLOW: Duration = Duration::from_millis(20);

fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

fn range(r: std::ops::Range<u64>) -> Vec<u64> {
    r.collect()
}

fn summary_line<'a>(out: &'a tool::Outcome, verb: &str) -> &'a str {
    out.line_with(&format!("Backfill {verb}:"))
        .unwrap_or_else(|| {
            panic!(
                "no \"Backfill {verb}:\" summary line in stderr:\n{}",
                out.stderr
            )
        })
}

/// Scenario 1: From scratch: every entry's UUID is found under each of its keys, and
/// the index holds nothing else.
pub fn from_scratch<B: IndexBackend>() {
    let fx = Fixture::<B>::new("from-scratch");
    let size = fx.size();
    let out = fx.run(&[]);
    out.expect_code(fx.expected_exit(0..size), "run from scratch");
    summary_line(&out, "complete");
    fx.assert_no_secrets(&out, &[]);

    let snapshot = fx.snapshot();
    assert!(
        snapshot.duplicates().is_empty(),
        "{}",
        snapshot.diff(&fx.expected(0..size))
    );
    for (index, pairs) in fx.expected_by_index(0..size) {
        for (key, uuid) in pairs.unwrap_or_default() {
            assert!(
                snapshot.contains(&key, &uuid),
                "entry {index} ({uuid}) is not found under its key {key}"
            );
        }
    }
    assert_same(&snapshot, &fx.expected(0..size), "after a run from scratch");
    assert_eq!(
        fx.checkpoint(),
        Some(Checkpoint {
            first_index: 0,
            last_completed_index: size - 1
        })
    );
    assert_eq!(
        sorted(fx.server.served_indices()),
        range(0..size),
        "every index fetched exactly once"
    );
}

/// Scenario 2: The upper half's keys removed; a rerun from the middle restores them.
pub fn upper_half_restored<B: IndexBackend>() {
    let fx = Fixture::<B>::new("upper-half");
    let size = fx.size();
    let half = size / 2;
    fx.run(&[])
        .expect_code(fx.expected_exit(0..size), "first run");
    let full = fx.snapshot();
    assert_same(&full.leaf_view(), fx.reference(), "first run");

    for (_, pairs) in fx.expected_by_index(half..size) {
        for (key, uuid) in pairs.unwrap_or_default() {
            fx.backend.remove(&key, &uuid);
        }
    }
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..half),
        "after removing the upper half",
    );

    let start = half.to_string();
    let out = fx.run(&["--reset-checkpoint", "--start", &start]);
    out.expect_code(fx.expected_exit(half..size), "rerun over the upper half");
    assert_same(&fx.snapshot(), &full, "after the rerun");
    assert_eq!(
        fx.checkpoint(),
        Some(Checkpoint {
            first_index: half,
            last_completed_index: size - 1
        })
    );
}

/// Scenario 3: Random pairs removed all over; a full rerun restores exactly them.
pub fn sparse_removal_restored<B: IndexBackend>() {
    let fx = Fixture::<B>::new("sparse");
    let size = fx.size();
    fx.run(&[])
        .expect_code(fx.expected_exit(0..size), "first run");
    let full = fx.snapshot();
    assert_same(&full.leaf_view(), fx.reference(), "first run");

    let mut rng = Rng::new("sparse removal");
    let mut removed = 0;
    for (key, uuid) in full.pairs() {
        if rng.below(100) < 15 {
            fx.backend.remove(key, uuid);
            removed += 1;
        }
    }
    assert!(removed > 0);
    assert_eq!(fx.snapshot().len(), full.len() - removed);

    fx.run(&["--reset-checkpoint"])
        .expect_code(fx.expected_exit(0..size), "rerun");
    assert_same(&fx.snapshot(), &full, "after the rerun");
}

/// Scenario 4: A rerun over a complete index changes nothing, whatever the
/// concurrency; a rerun with the checkpoint at the end fetches nothing.
pub fn rerun_changes_nothing<B: IndexBackend>() {
    let fx = Fixture::<B>::new("rerun");
    let size = fx.size();
    fx.run(&["--concurrency", "1"])
        .expect_code(fx.expected_exit(0..size), "first run");
    let first = fx.snapshot();
    assert_same(&first.leaf_view(), fx.reference(), "first run");

    fx.run(&[
        "--reset-checkpoint",
        "--concurrency",
        "16",
        "--rekor-disable-keepalives",
    ])
    .expect_code(fx.expected_exit(0..size), "rerun");
    assert_same(&fx.snapshot(), &first, "after a rerun");

    fx.server.reset_stats();
    let out = fx.run(&[]);
    out.expect_code(EXIT_OK, "rerun with a complete checkpoint");
    assert!(out.line_with("Nothing to do").is_some(), "{}", out.stderr);
    assert_eq!(
        sorted(fx.server.served_indices()),
        fx.fetched_by_resume(size, size..size),
        "nothing fetched but the recorded failures (retried on every run)"
    );
    assert_same(&fx.snapshot(), &first, "after a rerun with nothing to do");
}

/// Scenario 5: The checkpoint reaches --end; a rerun resumes from it and reaches the
/// end of a grown log; --reset-checkpoint starts over.
pub fn checkpoint_resume_and_growth<B: IndexBackend>() {
    let fx = Fixture::<B>::new("resume");
    let size = fx.size();
    let cp = |last| {
        Some(Checkpoint {
            first_index: 0,
            last_completed_index: last,
        })
    };
    fx.server.set_size(300);

    let out = fx.run(&["--end", "199"]);
    out.expect_code(fx.expected_exit(0..200), "run to --end 199");
    assert_eq!(fx.checkpoint(), cp(199), "the checkpoint equals --end");
    assert_eq!(out.resumed_from(), None);
    assert_eq!(sorted(fx.server.served_indices()), range(0..200));

    fx.server.reset_stats();
    let out = fx.run(&[]);
    out.expect_code(fx.expected_exit(200..300), "run to the end of the log");
    assert_eq!(out.resumed_from(), Some(199), "{}", out.stderr);
    assert_eq!(fx.checkpoint(), cp(299));
    assert_eq!(
        sorted(fx.server.served_indices()),
        fx.fetched_by_resume(200, 200..300)
    );

    fx.server.set_size(size);
    fx.server.reset_stats();
    let out = fx.run(&[]);
    out.expect_code(fx.expected_exit(300..size), "run after the log grew");
    assert_eq!(out.resumed_from(), Some(299), "{}", out.stderr);
    assert_eq!(fx.checkpoint(), cp(size - 1));
    assert_eq!(
        sorted(fx.server.served_indices()),
        fx.fetched_by_resume(300, 300..size)
    );
    let complete = fx.snapshot();
    assert_same(&complete.leaf_view(), fx.reference(), "after growth");

    fx.server.reset_stats();
    let out = fx.run(&["--reset-checkpoint"]);
    out.expect_code(fx.expected_exit(0..size), "run with --reset-checkpoint");
    assert_eq!(out.resumed_from(), None, "{}", out.stderr);
    assert_eq!(
        sorted(fx.server.served_indices()),
        fx.fetched_by_resume(size, 0..size),
        "started over (after retrying the recorded failures)"
    );
    assert_eq!(fx.checkpoint(), cp(size - 1));
    assert_same(&fx.snapshot(), &complete, "after starting over");
}

/// Scenario 6: SIGKILL at random moments: the stored checkpoint never claims an
/// unwritten entry, never goes back, and the final index is identical to
/// an uninterrupted run's.
pub fn sigkill_at_random_moments<B: IndexBackend>() {
    const KILLS: u32 = 6;
    let fx = Fixture::<B>::new("sigkill");
    let size = fx.size();
    fx.server.set_delay(SLOW);
    let mut rng = Rng::new("sigkill");
    let (mut kills, mut rounds) = (0, 0);
    let mut previous: Option<Checkpoint> = None;
    while kills < KILLS {
        rounds += 1;
        assert!(
            rounds <= 40,
            "only {kills} of {rounds} runs were still running at the kill"
        );
        fx.server.reset_stats();
        let mut running = fx.spawn(&["--checkpoint-interval", "3", "--concurrency", "2"]);
        let after = Duration::from_millis(30 + rng.below(400));
        thread::sleep(after);
        let killed = running.is_running();
        if killed {
            running.signal(libc::SIGKILL);
            kills += 1;
        }
        let out = running.wait();
        if killed {
            fx.backend.drop_lease(&fx.name);
        }
        let when = format!("after round {rounds} (killed: {killed})");
        if !killed {
            // A resumed run only reports the failures of the indices it
            // processed itself; none when the previous run was killed after
            // its final checkpoint save (nothing to do).
            let from = match out.line_with("Nothing to do") {
                Some(_) => size,
                None => out.resumed_from().map_or(0, |n| n + 1),
            };
            out.expect_code(fx.expected_exit(from..size), &when);
        }
        if let (Some(n), Some(p)) = (out.resumed_from(), previous) {
            assert_eq!(
                n, p.last_completed_index,
                "{when}: resumed from the wrong index"
            );
        }
        let cp = fx.assert_checkpoint_sound(&when);
        eprintln!(
            "round {rounds}: killed {killed} after {after:?}, {} entries served, checkpoint {cp:?}",
            fx.server.stats().entries_served
        );
        if let (Some(p), Some(c)) = (previous, cp) {
            assert!(
                c.last_completed_index >= p.last_completed_index,
                "{when}: went back"
            );
            assert_eq!(c.first_index, 0, "{when}");
        }
        previous = cp;
        if !killed {
            // Complete: start over to have more runs to kill.
            fx.backend.delete_checkpoint(&fx.name);
            previous = None;
        }
    }
    fx.server.set_delay(Duration::ZERO);
    let out = fx.run(&[]);
    // The last run killed may have been killed after its final save.
    let from = match out.line_with("Nothing to do") {
        Some(_) => size,
        None => out.resumed_from().map_or(0, |n| n + 1),
    };
    out.expect_code(fx.expected_exit(from..size), "final run");
    fx.assert_index_is_reference("after the kills");
    assert_eq!(
        fx.checkpoint().map(|c| c.last_completed_index),
        Some(size - 1)
    );
}

/// Scenario 7: SIGTERM, then SIGINT on the resumed run: in-flight work
/// finishes, exit 143 and 130 (the signal's own status), the checkpoint is
/// saved and covers everything served before the signal; a last rerun
/// completes.
pub fn signals_stop_gracefully<B: IndexBackend>() {
    let fx = Fixture::<B>::new("signals");
    let size = fx.size();
    fx.server.set_delay(SLOW);
    let mut resumed: Option<u64> = None;
    for (signal, name, status) in [
        (libc::SIGTERM, "SIGTERM", EXIT_TERMINATED),
        (libc::SIGINT, "SIGINT", EXIT_INTERRUPTED),
    ] {
        fx.server.reset_stats();
        // No periodic save within the run: the checkpoint can only come
        // from the save on shutdown.
        let mut running = fx.spawn(&["--checkpoint-interval", "100000", "--concurrency", "2"]);
        running.wait_until("60 entries served", PATIENCE, || {
            fx.server.stats().entries_served >= 60
        });
        let served_before = fx.server.served_indices();
        running.signal(signal);
        let out = running.wait_for(PATIENCE);
        out.expect_code(status, name);
        assert_eq!(out.resumed_from(), resumed, "{name}: {}", out.stderr);
        summary_line(&out, "stopped");
        let cp = fx
            .assert_checkpoint_sound(&format!("after {name}"))
            .unwrap_or_else(|| panic!("no checkpoint saved on {name}"));
        let from = resumed.map_or(0, |n| n + 1);
        let reached = contiguous_from(&served_before, from);
        assert!(
            cp.last_completed_index + 1 >= reached,
            "{name}: entries {from}..{reached} were served before the signal, \
             but the checkpoint stops at {cp:?}"
        );
        assert!(
            cp.last_completed_index < size - 1,
            "{name}: the run was not interrupted"
        );
        resumed = Some(cp.last_completed_index);
    }

    fx.server.set_delay(Duration::ZERO);
    let out = fx.run(&[]);
    let from = resumed.map_or(0, |n| n + 1);
    out.expect_code(fx.expected_exit(from..size), "rerun after the signals");
    assert_eq!(out.resumed_from(), resumed);
    fx.assert_index_is_reference("after the rerun");
}

/// Scenario 7b: A second signal exits at once, without waiting for in-flight work.
pub fn second_signal_exits_at_once<B: IndexBackend>() {
    let fx = Fixture::<B>::new("second-signal");
    let mut running = fx.spawn(&["--concurrency", "2"]);
    running.wait_until("the log info request", PATIENCE, || {
        fx.server.stats().log_info_requests >= 1
    });
    // Every answer from now on takes 3 s: whatever is in flight stays so.
    fx.server.set_delay(Duration::from_secs(3));
    running.wait_until("an entry request", PATIENCE, || {
        let s = fx.server.stats();
        s.entry_requests + s.retrieve_requests >= 1
    });
    running.signal(libc::SIGTERM);
    thread::sleep(Duration::from_millis(200));
    running.signal(libc::SIGTERM);
    let second = Instant::now();
    let out = running.wait_for(PATIENCE);
    out.expect_code(EXIT_TERMINATED, "second SIGTERM");
    assert!(
        second.elapsed() < Duration::from_millis(1500),
        "took {:?} to exit after the second signal",
        second.elapsed()
    );
    fx.assert_checkpoint_sound("after two signals");
}

/// Scenario 8: The backend dies mid-run for longer than --backend-retry-max: a clear
/// error, exit 1, a sound checkpoint;
/// after a restart the rerun completes.
pub fn backend_stopped_mid_run<B: IndexBackend>() {
    let (mut service, backend) = B::launch_private();
    let fx = Fixture::on_backend("backend-stopped", backend);
    let size = fx.size();
    // Computed now, while the backend is up.
    fx.reference();

    fx.server.set_delay(SLOW);
    let mut running = fx.spawn(&[
        "--checkpoint-interval",
        "10",
        "--concurrency",
        "2",
        "--backend-retry-max",
        "2s",
    ]);
    running.wait_until("100 entries served", PATIENCE, || {
        fx.server.stats().entries_served >= 100
    });
    service.stop();
    let stopped = Instant::now();
    let out = running.wait_for(Duration::from_secs(120));
    out.expect_code(EXIT_FATAL, "backend stopped mid-run");
    // Waited out for --backend-retry-max, then given up on.
    assert!(
        stopped.elapsed() < Duration::from_secs(30),
        "the run took {:?} to give up",
        stopped.elapsed()
    );
    assert!(
        out.stderr.to_lowercase().contains(B::NAME),
        "the error does not name the {} backend:\n{}",
        B::NAME,
        out.stderr
    );
    assert!(
        out.stderr.contains("longer than --backend-retry-max 2s"),
        "the error does not say the outage outlasted --backend-retry-max:\n{}",
        out.stderr
    );
    summary_line(&out, "stopped");
    fx.assert_no_secrets(&out, &[]);

    service.start();
    // The run could not release its lease with the backend down.
    fx.backend.drop_lease(&fx.name);
    let cp = fx.assert_checkpoint_sound("after the backend came back");
    if let Some(cp) = cp {
        assert!(
            cp.last_completed_index < size - 1,
            "the run was not cut short"
        );
    }
    fx.server.set_delay(Duration::ZERO);
    let out = fx.run(&[]);
    let from = out.resumed_from().map_or(0, |n| n + 1);
    out.expect_code(fx.expected_exit(from..size), "rerun after the restart");
    assert_eq!(out.resumed_from(), cp.map(|c| c.last_completed_index));
    fx.assert_index_is_reference("after the rerun");
}

/// Scenario 9: Rekor answers 503/502/429 for a while: the run retries and completes.
pub fn rekor_errors_are_retried<B: IndexBackend>() {
    let fx = Fixture::<B>::new("rekor-errors");
    let size = fx.size();
    fx.server
        .inject(FaultTarget::LogInfo, Fault::status(503), 2);
    fx.server
        .inject(FaultTarget::Entries, Fault::status_retry_after(429, "0"), 5);
    fx.server
        .inject(FaultTarget::Entries, Fault::status(503), 5);
    fx.server
        .inject(FaultTarget::Entries, Fault::status(502), 3);
    let out = fx.run(&["--rekor-retry-count", "20"]);
    out.expect_code(fx.expected_exit(0..size), "run through Rekor errors");
    assert_eq!(fx.server.pending_faults(), 0, "every fault was met");
    assert_eq!(fx.server.stats().faults_applied, 15);
    fx.assert_index_is_reference("after the errors");
}

/// Scenario 9b: Retry-After is honoured even above --rekor-retry-wait-max.
pub fn retry_after_is_honoured<B: IndexBackend>() {
    let fx = Fixture::<B>::new("retry-after");
    fx.server
        .inject(FaultTarget::LogInfo, Fault::status_retry_after(429, "1"), 1);
    let out = fx.run(&["--end", "9"]);
    out.expect_code(fx.expected_exit(0..10), "run with a Retry-After");
    assert_eq!(fx.server.pending_faults(), 0);
    assert!(
        out.elapsed >= Duration::from_secs(1),
        "Retry-After: 1 not honoured ({:?})",
        out.elapsed
    );
}

/// Scenario 9c: Connections closed without an answer or cut mid-answer are retried.
pub fn dropped_connections_are_retried<B: IndexBackend>() {
    let fx = Fixture::<B>::new("dropped-connections");
    let size = fx.size();
    fx.server.inject(FaultTarget::LogInfo, Fault::Drop, 1);
    fx.server.inject(FaultTarget::Entries, Fault::Drop, 3);
    fx.server.inject(FaultTarget::Entries, Fault::Truncate, 3);
    let out = fx.run(&["--rekor-retry-count", "10"]);
    out.expect_code(fx.expected_exit(0..size), "run through dropped connections");
    assert_eq!(fx.server.pending_faults(), 0);
    fx.assert_index_is_reference("after dropped connections");
}

/// Scenario 9d: Rekor gone for good: exit 1 after the retries, a sound checkpoint
/// below the failure, and a rerun completes.
pub fn rekor_gone_is_fatal<B: IndexBackend>() {
    let fx = Fixture::<B>::new("rekor-gone");
    let size = fx.size();
    fx.server.set_delay(SLOW);
    let mut running = fx.spawn(&[
        "--rekor-retry-count",
        "2",
        "--checkpoint-interval",
        "10",
        "--concurrency",
        "2",
    ]);
    running.wait_until("100 entries served", PATIENCE, || {
        fx.server.stats().entries_served >= 100
    });
    fx.server
        .inject(FaultTarget::Any, Fault::status(503), u64::MAX / 2);
    let out = running.wait_for(PATIENCE);
    out.expect_code(EXIT_FATAL, "Rekor answering 503 for good");
    assert!(
        out.stderr.contains("503"),
        "the error does not say what Rekor answered:\n{}",
        out.stderr
    );
    summary_line(&out, "stopped");
    let cp = fx.assert_checkpoint_sound("after Rekor went away");
    if let Some(cp) = cp {
        assert!(cp.last_completed_index < size - 1);
    }

    fx.server.clear_faults();
    fx.server.set_delay(Duration::ZERO);
    let out = fx.run(&[]);
    out.expect_code(fx.expected_exit(0..size), "rerun once Rekor is back");
    assert_eq!(out.resumed_from(), cp.map(|c| c.last_completed_index));
    fx.assert_index_is_reference("after the rerun");
}

/// Scenario 10: Malformed entries are reported, counted and listed; the others are
/// indexed; exit 3.
pub fn malformed_entries_are_reported<B: IndexBackend>() {
    let fx = Fixture::<B>::new("malformed");
    let size = fx.size();
    let broken = [
        (5, Malformation::BadBase64),
        (77, Malformation::BadJson),
        (150, Malformation::UnknownKind),
        (301, Malformation::UuidMismatch),
    ];
    for (index, how) in broken {
        fx.server.set_malformed(index, how);
    }
    let failed_path = fx.dir.path().join("failed.jsonl");
    let failed_arg = failed_path.to_str().expect("utf-8 path");
    let out = fx.run(&["--failed-entries", failed_arg]);
    out.expect_code(tool::EXIT_ENTRY_FAILURES, "run over malformed entries");
    summary_line(&out, "complete");

    let expected_failures = fx.expected_failures(0..size);
    let text = std::fs::read_to_string(&failed_path).expect("the --failed-entries file");
    let mut listed = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("bad failed-entries line ({e}): {line}"));
        let index = v["logIndex"].as_u64().expect("logIndex");
        assert!(
            v["error"].as_str().is_some_and(|e| !e.is_empty()),
            "no error for {index}: {line}"
        );
        assert_eq!(
            v["uuid"].as_str(),
            Some(fx.entry(index).uuid.as_str()),
            "{line}"
        );
        assert!(
            listed.insert(index, line.to_string()).is_none(),
            "listed twice: {line}"
        );
    }
    assert_eq!(
        listed.keys().copied().collect::<BTreeSet<_>>(),
        expected_failures
    );
    // Each broken entry is reported with its index and UUID, and the summary
    // counts every failure.
    let tokens = |line: &str| -> BTreeSet<String> {
        line.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (index, how) in broken {
        let uuid = fx.entry(index).uuid;
        assert!(
            out.stderr.lines().any(|line| {
                let t = tokens(line);
                t.contains(&index.to_string()) && t.contains(&uuid)
            }),
            "entry {index} ({}) is not reported with its index and UUID:\n{}",
            how.name(),
            out.stderr
        );
    }
    let summary = summary_line(&out, "complete");
    assert!(
        tokens(summary).contains(&expected_failures.len().to_string()),
        "the summary does not count {} failures: {summary}",
        expected_failures.len()
    );
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..size),
        "after malformed entries",
    );
    fx.assert_checkpoint_sound("after malformed entries");
}

/// The batch endpoint refused (as a server without it, or with it
/// disabled, answers): the run falls back to single fetches.
pub fn retrieve_refused_falls_back<B: IndexBackend>() {
    let fx = Fixture::<B>::new("retrieve-refused");
    let size = fx.size();
    for status in [404, 405, 501] {
        fx.server.set_retrieve(RetrieveMode::Disabled { status });
        fx.server.reset_stats();
        let out = fx.run(&["--reset-checkpoint"]);
        out.expect_code(
            fx.expected_exit(0..size),
            &format!("retrieve answering {status}"),
        );
        assert!(
            fx.server.stats().entry_requests >= size,
            "with retrieve answering {status}, entries must come from single GETs"
        );
        fx.assert_index_is_reference(&format!("retrieve {status}"));
    }
}

/// A sharded log: the end is active + inactive size - 1, UUIDs carry each
/// shard's tree ID.
pub fn sharded_log<B: IndexBackend>() {
    let fx = Fixture::<B>::sharded("sharded", 100);
    let size = fx.size();
    assert_eq!(size, 459);
    let out = fx.run(&[]);
    out.expect_code(fx.expected_exit(0..size), "run over two shards");
    assert_same(&fx.snapshot(), &fx.expected(0..size), "sharded log");
    fx.assert_index_is_reference("sharded log vs reference");
    assert_eq!(
        fx.checkpoint().map(|c| c.last_completed_index),
        Some(size - 1)
    );
}

/// --dry-run writes nothing: no index, no checkpoint, and an existing
/// checkpoint survives even --reset-checkpoint.
pub fn dry_run_writes_nothing<B: IndexBackend>() {
    let fx = Fixture::<B>::new("dry-run");
    let size = fx.size();
    let out = fx.run(&["--dry-run"]);
    out.expect_code(fx.expected_exit(0..size), "dry run");
    assert_eq!(
        sorted(fx.server.served_indices()),
        range(0..size),
        "a dry run still fetches"
    );
    assert!(fx.snapshot().is_empty(), "a dry run wrote index entries");
    assert_eq!(fx.checkpoint(), None, "a dry run saved a checkpoint");

    fx.run(&["--end", "99"])
        .expect_code(fx.expected_exit(0..100), "real run");
    let before = (fx.snapshot(), fx.checkpoint());
    for extra in [&["--dry-run"][..], &["--dry-run", "--reset-checkpoint"]] {
        fx.run(extra)
            .expect_code(fx.expected_exit(100..size), &format!("{extra:?}"));
        assert_eq!(
            (fx.snapshot(), fx.checkpoint()),
            before,
            "{extra:?} changed the backend"
        );
    }
}

/// Flag sets that must be refused with exit 2 before anything happens.
fn usage_errors<B: IndexBackend>(fx: &Fixture<B>) -> Vec<(String, Vec<String>)> {
    let other_backend: Vec<String> = if B::NAME == "redis" {
        vec!["--mysql-dsn".into(), "test:x@tcp(127.0.0.1:1)/test".into()]
    } else {
        vec![
            "--redis-hostname".into(),
            "127.0.0.1".into(),
            "--redis-port".into(),
            "1".into(),
        ]
    };
    let with = |extra: &[&str]| fx.args(extra);
    let mut cases = vec![
        ("two backends".to_string(), {
            let mut a = fx.args(&[]);
            a.extend(other_backend);
            a
        }),
        (
            "no backend".to_string(),
            fx.args_with_backend(Vec::new(), &[]),
        ),
        (
            "bad checkpoint key".to_string(),
            with(&["--checkpoint-key", "bad key!"]),
        ),
        (
            "long checkpoint key".to_string(),
            with(&["--checkpoint-key", &"k".repeat(129)]),
        ),
        (
            "bad duration".to_string(),
            with(&["--rekor-retry-wait-min", "soon"]),
        ),
        (
            "header without =".to_string(),
            with(&["--rekor-header", "novalue"]),
        ),
        (
            "start beyond end".to_string(),
            with(&["--start", "300", "--end", "200"]),
        ),
        (
            "zero concurrency".to_string(),
            with(&["--concurrency", "0"]),
        ),
        ("unknown flag".to_string(), with(&["--frobnicate"])),
    ];
    let mut no_address = fx.args(&[]);
    let at = no_address
        .iter()
        .position(|a| a == "--rekor-address")
        .expect("address flag");
    no_address.drain(at..at + 2);
    cases.push(("no --rekor-address".to_string(), no_address));
    cases
}

/// Conflicting or bad flags: exit 2, nothing fetched, nothing written.
pub fn usage_errors_exit_2<B: IndexBackend>() {
    let fx = Fixture::<B>::new("usage-errors");
    for (what, args) in usage_errors(&fx) {
        fx.server.reset_stats();
        let out = tool::run(&args, &[]);
        out.expect_code(EXIT_USAGE, &what);
        assert_eq!(
            fx.server.stats().entries_served,
            0,
            "{what}: entries fetched"
        );
        assert!(fx.snapshot().is_empty(), "{what}: index written");
        assert_eq!(fx.checkpoint(), None, "{what}: checkpoint written");
        fx.assert_no_secrets(&out, &[]);
    }
}

/// --end beyond the log, and a --start that would leave a gap after the
/// checkpoint: exit 2 before any write.
pub fn bad_ranges_exit_2_before_writing<B: IndexBackend>() {
    let fx = Fixture::<B>::new("bad-ranges");
    let size = fx.size();
    let end = size.to_string();
    let out = fx.run(&["--end", &end]);
    out.expect_code(EXIT_USAGE, "--end beyond the log");
    assert!(
        out.stderr.contains(&end),
        "the error does not name --end {end}:\n{}",
        out.stderr
    );
    assert_eq!(fx.server.stats().entries_served, 0);
    assert!(fx.snapshot().is_empty());
    assert_eq!(fx.checkpoint(), None);

    fx.run(&["--end", "99"])
        .expect_code(fx.expected_exit(0..100), "run to 99");
    let before = (fx.snapshot(), fx.checkpoint());
    fx.server.reset_stats();
    let out = fx.run(&["--start", "200"]);
    out.expect_code(EXIT_USAGE, "--start leaving a gap after the checkpoint");
    assert_eq!(fx.server.stats().entries_served, 0);
    assert_eq!((fx.snapshot(), fx.checkpoint()), before);
}

/// Secrets never reach stderr: wrong passwords, a failing Rekor with a
/// secret header, and a successful run at debug level.
pub fn secrets_stay_out_of_output<B: IndexBackend>() {
    let fx = Fixture::<B>::new("secrets");
    let wrong = "Wr0ng-pw-s3cret-4711";
    let out = tool::run(
        &fx.args_with_backend(fx.backend.with_wrong_password(wrong), &[]),
        &[],
    );
    assert!(
        matches!(out.code, Some(EXIT_FATAL | EXIT_USAGE)),
        "a wrong password must fail the run: {out:?}"
    );
    fx.assert_no_secrets(&out, &[wrong]);

    let header_value = "Bearer hdr-s3cret-0815";
    let header = format!("Authorization={header_value}");
    let out = tool::run(
        &fx.args(&["--rekor-header", &header, "--end", "20"]),
        &[("RUST_LOG".into(), "debug".into())],
    );
    out.expect_code(fx.expected_exit(0..21), "run with a header at debug level");
    fx.assert_no_secrets(&out, &[header_value, "hdr-s3cret-0815"]);
    assert!(
        fx.server
            .last_headers()
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("authorization") && v == header_value),
        "the --rekor-header was not sent: {:?}",
        fx.server.last_headers()
    );

    fx.server
        .inject(FaultTarget::Any, Fault::status(503), u64::MAX / 2);
    for level in ["info", "debug"] {
        let out = tool::run(
            &fx.args(&[
                "--rekor-header",
                &header,
                "--rekor-retry-count",
                "1",
                "--reset-checkpoint",
            ]),
            &[("RUST_LOG".into(), level.into())],
        );
        out.expect_code(EXIT_FATAL, &format!("Rekor failing, log level {level}"));
        fx.assert_no_secrets(&out, &[header_value, "hdr-s3cret-0815"]);
    }
}
