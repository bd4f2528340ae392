//! One run per checkpoint (the lease), a checkpoint bound to its log, and
//! sharded first fills, against real Redis and MySQL (the test services of
//! `harness/services.sh`) and the replay Rekor server.

use std::thread;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use redis::Commands;
use replay_rekor::{Log, ReplayServer};

use crate::support::backend::{assert_same, IndexBackend, Snapshot};
use crate::support::mysql_backend::MysqlBackend;
use crate::support::redis_backend::RedisBackend;
use crate::support::tool::{self, Outcome, Running, EXIT_FATAL, EXIT_OK, EXIT_USAGE};
use crate::support::{corpus, Fixture};

const EXIT_LEASE_HELD: i32 = 4;

/// Slows every answer so that a run over the corpus lasts seconds.
const SLOW: Duration = Duration::from_millis(20);
const PATIENCE: Duration = Duration::from_secs(60);
/// The lease's time to live (`lease::LEASE_TTL`) and some slack.
const LEASE_EXPIRY: Duration = Duration::from_secs(35);

/// What the lease tests need from a backend beyond the scenarios' adapter.
trait Leases: IndexBackend + Sized {
    /// Whether some run holds the lease of checkpoint `name`.
    fn lease_held(&self, name: &str) -> bool;
    /// Takes the lease away from the run holding it, as another run would
    /// after it expired; the returned guard keeps holding it.
    fn steal_lease(&self, name: &str) -> Box<dyn std::any::Any>;
    /// Makes the stored checkpoint look as an older version wrote it: no
    /// log binding.
    fn strip_binding(&self, name: &str);
    /// The stored log binding, as JSON.
    fn binding(&self, name: &str) -> Option<serde_json::Value>;
}

impl Leases for RedisBackend {
    fn lease_held(&self, name: &str) -> bool {
        let held: bool = redis_connection(self)
            .exists(format!("rekor-backfill:lock:{name}"))
            .expect("EXISTS");
        held
    }

    fn steal_lease(&self, name: &str) -> Box<dyn std::any::Any> {
        let key = format!("rekor-backfill:lock:{name}");
        let _: () = redis_connection(self)
            .set_ex(&key, "thief/1/000000@2026-01-01T00:00:00Z", 600)
            .expect("SET");
        Box::new(RedisThief {
            backend: self.clone(),
            key,
        })
    }

    fn strip_binding(&self, name: &str) {
        let key = format!("rekor-backfill:checkpoint:{name}");
        let mut conn = redis_connection(self);
        let text: String = conn.get(&key).expect("GET checkpoint");
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("checkpoint JSON");
        v.as_object_mut().expect("object").remove("log");
        let _: () = conn.set(&key, v.to_string()).expect("SET checkpoint");
    }

    fn binding(&self, name: &str) -> Option<serde_json::Value> {
        let text: Option<String> = redis_connection(self)
            .get(format!("rekor-backfill:checkpoint:{name}"))
            .expect("GET checkpoint");
        let v: serde_json::Value = serde_json::from_str(&text?).expect("checkpoint JSON");
        v.get("log").cloned()
    }
}

/// A stolen Redis lease, given back when the test ends (pass or fail), so
/// a rerun within its time to live does not find it.
struct RedisThief {
    backend: RedisBackend,
    key: String,
}

impl Drop for RedisThief {
    fn drop(&mut self) {
        let _: redis::RedisResult<()> = redis_connection(&self.backend).del(&self.key);
    }
}

fn redis_connection(b: &RedisBackend) -> redis::Connection {
    redis::Client::open(format!("redis://:{}@{}:{}/0", b.password, b.host, b.port))
        .and_then(|c| c.get_connection())
        .expect("connecting to Redis")
}

impl Leases for MysqlBackend {
    fn lease_held(&self, name: &str) -> bool {
        let used: Option<Option<i64>> = self
            .connection()
            .exec_first(
                "SELECT IS_USED_LOCK(?)",
                (format!("rekor-backfill:{name}"),),
            )
            .expect("IS_USED_LOCK");
        used.flatten().is_some()
    }

    fn steal_lease(&self, name: &str) -> Box<dyn std::any::Any> {
        let lock = format!("rekor-backfill:{name}");
        let mut conn = self.connection();
        let holder: Option<Option<i64>> = conn
            .exec_first("SELECT IS_USED_LOCK(?)", (&lock,))
            .expect("IS_USED_LOCK");
        let holder = holder.flatten().expect("the lock is held");
        // The holder's connection dies (as in a network partition) and the
        // lock goes to another session at once.
        conn.query_drop(format!("KILL {holder}")).expect("KILL");
        let got: Option<Option<i64>> = conn
            .exec_first("SELECT GET_LOCK(?, 10)", (&lock,))
            .expect("GET_LOCK");
        assert_eq!(got.flatten(), Some(1), "the test could not take the lock");
        Box::new(conn)
    }

    fn strip_binding(&self, name: &str) {
        self.connection()
            .exec_drop(
                "UPDATE BackfillCheckpoint SET LogShards = NULL WHERE CheckpointKey = ?",
                (name,),
            )
            .expect("UPDATE BackfillCheckpoint");
    }

    fn binding(&self, name: &str) -> Option<serde_json::Value> {
        let row: Option<Option<String>> = self
            .connection()
            .exec_first(
                "SELECT LogShards FROM BackfillCheckpoint WHERE CheckpointKey = ?",
                (name,),
            )
            .expect("SELECT LogShards");
        row.flatten()
            .map(|text| serde_json::from_str(&text).expect("LogShards JSON"))
    }
}

/// Waits until the running tool holds its lease.
fn wait_for_lease<B: Leases>(fx: &Fixture<B>, running: &mut Running) {
    wait_for_line(running, "Lease on checkpoint");
    assert!(fx.backend.lease_held(&fx.name), "no lease in the backend");
}

/// Waits until the running tool printed `needle`.
fn wait_for_line(running: &mut Running, needle: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !running.stderr_so_far().contains(needle) {
        assert!(
            running.is_running(),
            "rekor-backfill exited before printing {needle:?}:\n{}",
            running.stderr_so_far()
        );
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {needle:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// A second run with the same checkpoint name exits 4 at once and writes
/// nothing; a dry run takes no lease; the lease is released at the end.
fn second_run_exits_4<B: Leases>() {
    let fx = Fixture::<B>::new("lease-held");
    let size = fx.size();
    // About 10 s over the corpus with two workers: long enough that the
    // first run still holds the lease after the second run and the dry run
    // on a loaded machine (at 200 ms it sometimes ended first).
    fx.server.set_delay(Duration::from_millis(400));
    let mut first = fx.spawn(&["--checkpoint-interval", "5", "--concurrency", "2"]);
    wait_for_lease(&fx, &mut first);

    // The second run reads another server (its own tree, so its own UUIDs):
    // anything it wrote would show under that tree's prefix.
    let other_tree = 0x0123_4567_89ab_cdef_u64;
    let other = ReplayServer::start(Log::new(corpus()).with_tree_id(other_tree))
        .expect("second replay server");
    let other_prefix = vec![format!("{other_tree:016x}")];
    fx.backend.purge(&other_prefix);
    let checkpoint_before = fx.checkpoint();
    let started = Instant::now();
    let mut args = fx.args(&[]);
    let address = args
        .iter()
        .position(|a| a == "--rekor-address")
        .expect("--rekor-address");
    args[address + 1] = other.url();
    let second = tool::run(&args, &[]);
    second.expect_code(EXIT_LEASE_HELD, "second run with the same checkpoint");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the second run did not exit at once"
    );
    let line = second
        .line_with("another run holds checkpoint")
        .unwrap_or_else(|| panic!("no clear message:\n{}", second.stderr));
    assert!(
        line.contains(&format!("checkpoint {} since 20", fx.name)),
        "the message does not name the checkpoint and the time: {line}"
    );
    assert_eq!(
        other.stats().entries_served,
        0,
        "the second run fetched entries"
    );
    assert!(
        fx.backend.snapshot(&other_prefix).is_empty(),
        "the second run wrote index entries"
    );
    let checkpoint_after = fx.checkpoint();
    if let (Some(before), Some(after)) = (checkpoint_before, checkpoint_after) {
        assert!(
            after.last_completed_index >= before.last_completed_index,
            "the checkpoint went back"
        );
    }
    // A dry run takes no lease.
    let dry = tool::run(&fx.args(&["--dry-run", "--end", "20"]), &[]);
    assert_ne!(
        dry.code,
        Some(EXIT_LEASE_HELD),
        "a dry run was refused:\n{}",
        dry.stderr
    );
    assert!(
        first.is_running(),
        "the first run ended too early to prove anything"
    );

    fx.server.set_delay(Duration::ZERO);
    let out = first.wait();
    out.expect_code(fx.expected_exit(0..size), "the first run");
    fx.assert_index_is_reference("after the first run");
    assert!(
        !fx.backend.lease_held(&fx.name),
        "the lease was not released"
    );
    // Released: the next run goes ahead at once.
    fx.run(&[]).expect_code(EXIT_OK, "a run after the first");
}

/// A run whose lease is taken away stops with status 1 and does not give
/// back (or delete) the other holder's lease.
fn lost_lease_stops_the_run<B: Leases>() {
    let fx = Fixture::<B>::new("lease-lost");
    // About 28 s over the corpus with one worker: longer than a renewal
    // period (10 s).
    fx.server.set_delay(Duration::from_millis(600));
    let mut running = fx.spawn(&["--checkpoint-interval", "1", "--concurrency", "1"]);
    wait_for_lease(&fx, &mut running);
    let thief = fx.backend.steal_lease(&fx.name);
    let stolen = Instant::now();
    let out = running.wait_for(Duration::from_secs(60));
    out.expect_code(EXIT_FATAL, "a run whose lease was taken");
    assert!(
        stolen.elapsed() < Duration::from_secs(25),
        "the run went on for {:?} after losing its lease",
        stolen.elapsed()
    );
    assert!(
        out.stderr.contains("lease on checkpoint") && out.stderr.contains("lost"),
        "the error does not say the lease was lost:\n{}",
        out.stderr
    );
    assert!(
        fx.backend.lease_held(&fx.name),
        "the run released a lease that was not its own"
    );
    fx.assert_checkpoint_sound("after the lost lease");
    drop(thief);
}

/// A SIGKILLed run gives its lease up by itself: at once on MySQL (the
/// server drops the lock with the connection), within the time to live on
/// Redis. Returns how long it took.
fn killed_runs_lease_expires<B: Leases>() -> Duration {
    let fx = Fixture::<B>::new("lease-killed");
    let size = fx.size();
    fx.server.set_delay(SLOW);
    let mut running = fx.spawn(&["--checkpoint-interval", "3", "--concurrency", "2"]);
    wait_for_lease(&fx, &mut running);
    running.signal(libc::SIGKILL);
    let _ = running.wait();
    let killed = Instant::now();
    fx.server.set_delay(Duration::ZERO);
    let out = rerun_until_lease_free(&fx.args(&[]), &[]);
    let waited = killed.elapsed();
    let from = out.resumed_from().map_or(0, |n| n + 1);
    out.expect_code(fx.expected_exit(from..size), "rerun after the kill");
    fx.assert_index_is_reference("after the rerun");
    waited
}

/// Reruns while the tool exits 4 (a SIGKILLed run's lease not expired yet),
/// at most [`LEASE_EXPIRY`].
fn rerun_until_lease_free(args: &[String], env: &[(String, String)]) -> Outcome {
    let deadline = Instant::now() + LEASE_EXPIRY;
    loop {
        let out = tool::run(args, env);
        if out.code != Some(EXIT_LEASE_HELD) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "the lease of a killed run did not expire within {LEASE_EXPIRY:?}:\n{}",
            out.stderr
        );
        thread::sleep(Duration::from_millis(500));
    }
}

/// A resume against a new tree (the log was reset, or another server) is
/// refused with status 2, nothing written; --reset-checkpoint proceeds.
fn resume_refused_after_reset<B: Leases>() {
    let mut fx = Fixture::<B>::new("bound-reset");
    let size = fx.size();
    fx.run(&["--end", "99"])
        .expect_code(fx.expected_exit(0..100), "first run");
    let binding = fx.backend.binding(&fx.name).expect("a binding is stored");
    let old_tree = fx.server.update_log(|log| log.active_shard().tree_id);
    assert_eq!(binding[0]["treeID"], old_tree.to_string(), "{binding}");
    assert_eq!(binding[0]["startIndex"], 0, "{binding}");

    let new_tree = old_tree ^ 0x5a5a;
    fx.prefixes.push(format!("{new_tree:016x}"));
    fx.backend.purge(&fx.prefixes[1..]);
    // Reset to a new, empty tree: refused at once, not only once it grows.
    fx.server.update_log(|log| {
        log.set_tree_id(new_tree);
        log.set_size(0);
    });
    let before = (fx.snapshot(), fx.checkpoint());
    let out = fx.run(&[]);
    out.expect_code(EXIT_USAGE, "resume against a new, empty tree");
    assert!(
        out.stderr.contains("belongs to another log"),
        "{}",
        out.stderr
    );
    fx.server.update_log(|log| log.set_size(size));
    fx.server.reset_stats();
    let out = fx.run(&[]);
    out.expect_code(EXIT_USAGE, "resume against a new tree");
    let line = out
        .line_with("belongs to another log")
        .unwrap_or_else(|| panic!("no clear refusal:\n{}", out.stderr));
    assert!(
        line.contains("--reset-checkpoint"),
        "no way out named: {line}"
    );
    assert!(line.contains(&old_tree.to_string()), "{line}");
    assert_eq!(fx.server.stats().entries_served, 0, "entries were fetched");
    assert_eq!(
        (fx.snapshot(), fx.checkpoint()),
        before,
        "something was written"
    );
    assert!(!fx.backend.lease_held(&fx.name), "the lease was kept");

    let out = fx.run(&["--reset-checkpoint"]);
    out.expect_code(fx.expected_exit(0..size), "--reset-checkpoint");
    let new: Snapshot = fx.backend.snapshot(&fx.prefixes[1..]);
    assert_same(&new, &fx.expected(0..size), "the new tree's index");
    let binding = fx.backend.binding(&fx.name).expect("a binding is stored");
    assert_eq!(binding[0]["treeID"], new_tree.to_string(), "{binding}");
}

/// A shard rotation keeps the global indices: the run resumes, and the new
/// active tree's entries are indexed under their own tree ID.
fn rotation_resumes<B: Leases>() {
    let mut fx = Fixture::<B>::new("bound-rotation");
    let size = fx.size();
    fx.run(&["--end", "199"])
        .expect_code(fx.expected_exit(0..200), "first run");
    let new_tree = fx.server.update_log(|log| log.active_shard().tree_id) ^ 0xa5a5;
    fx.prefixes.push(format!("{new_tree:016x}"));
    fx.backend.purge(&fx.prefixes[1..]);
    fx.server.update_log(|log| {
        log.rotate(new_tree).expect("rotation");
        log.set_size(size + 41);
    });
    let out = fx.run(&[]);
    out.expect_code(fx.expected_exit(200..size + 41), "resume after a rotation");
    assert_eq!(out.resumed_from(), Some(199), "{}", out.stderr);
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..size + 41),
        "after the rotation",
    );
    let binding = fx.backend.binding(&fx.name).expect("binding");
    let trees: Vec<&str> = binding
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["treeID"].as_str())
        .collect();
    assert_eq!(trees.len(), 2, "both trees are recorded: {binding}");
    assert_eq!(trees[1], new_tree.to_string());
}

/// A checkpoint without a binding (an older version's) is accepted once
/// and upgraded; after that a reset log is refused.
fn old_checkpoint_upgraded<B: Leases>() {
    let fx = Fixture::<B>::new("bound-upgrade");
    fx.run(&["--end", "99"])
        .expect_code(fx.expected_exit(0..100), "first run");
    fx.backend.strip_binding(&fx.name);
    assert_eq!(fx.backend.binding(&fx.name), None);
    // Nothing to do, but the checkpoint is upgraded all the same.
    let out = fx.run(&["--end", "99"]);
    out.expect_code(EXIT_OK, "run over an old checkpoint");
    assert!(
        out.stderr.contains("did not name its log"),
        "no note of the upgrade:\n{}",
        out.stderr
    );
    let binding = fx.backend.binding(&fx.name).expect("upgraded");
    let tree = fx.server.update_log(|log| log.active_shard().tree_id);
    assert_eq!(binding[0]["treeID"], tree.to_string(), "{binding}");
    assert_eq!(fx.checkpoint().map(|c| c.last_completed_index), Some(99));
    fx.server.update_log(|log| log.set_tree_id(tree ^ 1));
    fx.run(&[])
        .expect_code(EXIT_USAGE, "a reset log after the upgrade");
}

/// Four shards in parallel, one SIGKILLed and started again (as a Job
/// replaces the pod): the union of their index is the single run's, and
/// each shard's checkpoint covers its own part.
fn four_shards<B: Leases>() {
    let fx = Fixture::<B>::new("shards");
    let size = fx.size();
    let end = (size - 1).to_string();
    let shard_names: Vec<String> = (0..4)
        .map(|i| format!("{}:shard-{i}-of-4", fx.name))
        .collect();
    for name in &shard_names {
        fx.backend.delete_checkpoint(name);
    }
    fx.reference();
    // One worker each, 0.1 s per batch of 10: about 1.2 s per shard.
    fx.server.set_delay(Duration::from_millis(100));
    let args = |i: u64| {
        let mut extra = vec![
            "--shard-count",
            "4",
            "--end",
            &end,
            "--checkpoint-interval",
            "3",
            "--concurrency",
            "1",
        ];
        let index = i.to_string();
        // Shard 3 gets its index as a Kubernetes Indexed Job gives it.
        if i != 3 {
            extra.extend(["--shard-index", &index]);
        }
        (
            fx.args(&extra),
            if i == 3 {
                vec![("JOB_COMPLETION_INDEX".to_string(), "3".to_string())]
            } else {
                Vec::new()
            },
        )
    };
    let mut runs: Vec<Running> = (0..4)
        .map(|i| {
            let (a, e) = args(i);
            tool::spawn(&a, &e, None)
        })
        .collect();
    wait_for_line(&mut runs[1], "Indexing log entries");
    thread::sleep(Duration::from_millis(400));
    let killed = runs[1].is_running();
    if killed {
        runs[1].signal(libc::SIGKILL);
    }
    let parts = [(0u64, 114u64), (115, 229), (230, 344), (345, 458)];
    for (i, run) in runs.into_iter().enumerate() {
        let out = run.wait();
        if i == 1 && killed {
            continue;
        }
        let (a, b) = parts[i];
        out.expect_code(fx.expected_exit(a..b + 1), &format!("shard {i}"));
        assert!(
            out.stderr.contains(&format!(
                "Shard {i} of 4 (0-based) over 0..={end}: indices {a}..={b}"
            )),
            "shard {i} does not say its part:\n{}",
            out.stderr
        );
    }
    fx.server.set_delay(Duration::ZERO);
    assert!(killed, "shard 1 finished before the kill");
    let saved = fx.backend.checkpoint(&shard_names[1]);
    let (a, e) = args(1);
    let out = rerun_until_lease_free(&a, &e);
    let from = saved.map_or(115, |c| c.last_completed_index + 1);
    out.expect_code(fx.expected_exit(from..230), "shard 1 again");
    assert_eq!(
        out.resumed_from(),
        saved.map(|c| c.last_completed_index),
        "shard 1 did not resume its own checkpoint"
    );
    for (i, name) in shard_names.iter().enumerate() {
        let cp = fx.backend.checkpoint(name).expect("a shard checkpoint");
        assert_eq!(
            (cp.first_index, cp.last_completed_index),
            parts[i],
            "checkpoint {name}"
        );
    }
    fx.assert_index_is_reference("union of the four shards");
    for name in &shard_names {
        fx.backend.delete_checkpoint(name);
    }
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod redis_backend_tests {
            use super::*;
            $(#[test] fn $name() { super::$name::<RedisBackend>(); })*
        }
        mod mysql_backend_tests {
            use super::*;
            $(#[test] fn $name() { super::$name::<MysqlBackend>(); })*
        }
    };
}

both_backends!(
    second_run_exits_4,
    lost_lease_stops_the_run,
    resume_refused_after_reset,
    rotation_resumes,
    old_checkpoint_upgraded,
    four_shards,
);

#[test]
fn redis_killed_runs_lease_expires_within_its_ttl() {
    let waited = killed_runs_lease_expires::<RedisBackend>();
    assert!(waited <= LEASE_EXPIRY, "{waited:?}");
}

#[test]
fn mysql_killed_runs_lock_goes_with_its_connection() {
    let waited = killed_runs_lease_expires::<MysqlBackend>();
    assert!(
        waited < Duration::from_secs(10),
        "the lock of a killed run was held for {waited:?}"
    );
}
