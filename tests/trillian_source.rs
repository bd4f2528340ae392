//! The Trillian source (`--trillian-mysql-dsn`): the corpus log of a
//! replay server copied into Trillian's own schema (testdata/trillian) in
//! a scratch database of the test MariaDB, then indexed from there. The
//! index must be the one the API source writes from the same entries, on
//! both backends, without reading one entry through Rekor; a hole in a
//! tree and a wrong Merkle leaf hash fail their own index only; a run
//! killed at any moment resumes to the same index.

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mysql::prelude::Queryable;
use sha2::{Digest, Sha256};

use crate::support;
use support::backend::{assert_same, IndexBackend};
use support::mysql_backend::MysqlBackend;
use support::redis_backend::RedisBackend;
use support::tool::{self, EXIT_ENTRY_FAILURES, EXIT_OK};
use support::{require_env, Fixture, Rng};

const SCHEMA: &str = include_str!("../testdata/trillian/storage.sql");

/// Entries in the fixture's inactive shard (the rest is the active one).
const INACTIVE: u64 = 100;

/// `TreeId, SequenceNumber, LeafIdentityHash, MerkleLeafHash, LeafValue`.
type Leaf = (u64, u64, Vec<u8>, Vec<u8>, Vec<u8>);

/// A Trillian database holding the fixture's log, tree by tree.
struct TrillianDb {
    db: MysqlBackend,
    /// Tree IDs, oldest first.
    trees: Vec<u64>,
}

impl TrillianDb {
    /// Creates `test_trillian_<name>` with Trillian's schema and copies
    /// every entry the fixture's server holds into it.
    fn of<B: IndexBackend>(fx: &Fixture<B>, name: &str) -> TrillianDb {
        let server = MysqlBackend::parse_dsn(&require_env(
            "REKOR_BACKFILL_TEST_MYSQL_DSN",
            "test:zaphod@tcp(127.0.0.1:13306)/test",
        ));
        let db = server.fresh_database(&format!("test_trillian_{name}"));
        let mut conn = db.connection();
        for statement in schema_statements() {
            conn.query_drop(&statement)
                .unwrap_or_else(|e| panic!("creating Trillian's schema: {e}\n{statement}"));
        }
        let entries: Vec<_> = (0..fx.size()).map(|i| fx.entry(i)).collect();
        let mut trees: Vec<u64> = Vec::new();
        for e in &entries {
            if !trees.contains(&e.tree_id) {
                trees.push(e.tree_id);
            }
        }
        conn.exec_batch(
            "INSERT INTO Trees (TreeId, TreeState, TreeType, HashStrategy, HashAlgorithm, \
             SignatureAlgorithm, CreateTimeMillis, UpdateTimeMillis, MaxRootDurationMillis, \
             PrivateKey, PublicKey) \
             VALUES (?, 'ACTIVE', 'LOG', 'RFC6962_SHA256', 'SHA256', 'ECDSA', 0, 0, 0, '', '')",
            trees.iter().map(|t| (t,)),
        )
        .expect("inserting the trees");
        let leaves: Vec<Leaf> = entries
            .iter()
            .map(|e| {
                let value = STANDARD
                    .decode(&e.body_b64)
                    .expect("corpus bodies are base64");
                let identity = Sha256::digest(&value).to_vec();
                let merkle = hex::decode(&e.uuid[16..]).expect("UUIDs are hex");
                (e.tree_id, e.shard_index, identity, merkle, value)
            })
            .collect();
        conn.exec_batch(
            "INSERT INTO LeafData (TreeId, LeafIdentityHash, LeafValue, QueueTimestampNanos) \
             VALUES (?, ?, ?, 0)",
            leaves.iter().map(|(t, _, id, _, v)| (t, id, v)),
        )
        .expect("inserting LeafData");
        conn.exec_batch(
            "INSERT INTO SequencedLeafData (TreeId, SequenceNumber, LeafIdentityHash, \
             MerkleLeafHash, IntegrateTimestampNanos) VALUES (?, ?, ?, ?, 0)",
            leaves.iter().map(|(t, seq, id, m, _)| (t, seq, id, m)),
        )
        .expect("inserting SequencedLeafData");
        TrillianDb { db, trees }
    }

    /// `--trillian-mysql-dsn` of this database.
    fn flags(&self) -> Vec<String> {
        vec!["--trillian-mysql-dsn".to_string(), self.db.dsn()]
    }

    /// `--trillian-tree-ids` as the operator gives it.
    fn tree_ids(&self) -> String {
        let ids: Vec<String> = self.trees.iter().map(u64::to_string).collect();
        ids.join(",")
    }

    /// Runs `statement` with the (tree, sequence number) of log index
    /// `index` of `fx`.
    fn at_index<B: IndexBackend>(&self, fx: &Fixture<B>, index: u64, statement: &str) {
        let e = fx.entry(index);
        self.db
            .connection()
            .exec_drop(statement, (e.tree_id, e.shard_index))
            .unwrap_or_else(|err| panic!("{statement}: {err}"));
    }
}

impl Drop for TrillianDb {
    fn drop(&mut self) {
        if !thread::panicking() {
            self.db.drop_database();
        }
    }
}

/// The schema file's statements (it has `#` and `--` comment lines).
fn schema_statements() -> Vec<String> {
    let code: String = SCHEMA
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim_start().starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    code.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn args<B: IndexBackend>(fx: &Fixture<B>, trillian: &TrillianDb, extra: &[&str]) -> Vec<String> {
    let own = trillian.flags();
    let mut all: Vec<&str> = own.iter().map(String::as_str).collect();
    all.extend_from_slice(extra);
    fx.args(&all)
}

/// The whole log from the database: the same index as the API source
/// (the expected keys of the served entries), the layout from one
/// `GET /api/v1/log` and no entry read through Rekor; again with the
/// tree IDs given, which needs no Rekor at all.
fn same_index_as_the_api<B: IndexBackend>() {
    let fx = Fixture::<B>::sharded("trillian-same", INACTIVE);
    let trillian = TrillianDb::of(&fx, B::NAME);
    let size = fx.size();
    let out = tool::run(&args(&fx, &trillian, &[]), &[]);
    out.expect_code(fx.expected_exit(0..size), "run from Trillian's database");
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..size),
        "index from the database",
    );
    fx.assert_index_is_reference("Trillian source vs the API source's reference run");
    assert_eq!(
        fx.server.served_indices(),
        Vec::<u64>::new(),
        "entries read through Rekor"
    );
    assert!(
        out.line_with("Trillian database mysql").is_some(),
        "the run names its source:\n{}",
        out.stderr
    );
    fx.assert_no_secrets(&out, &[&trillian.db.password]);

    fx.purge();
    let ids = trillian.tree_ids();
    let mut no_rekor: Vec<String> = trillian.flags();
    no_rekor.extend(fx.backend.tool_args());
    no_rekor.extend(
        [
            "--trillian-tree-ids",
            &ids,
            "--checkpoint-key",
            &fx.name,
            "--concurrency",
            "3",
        ]
        .map(String::from),
    );
    let out = tool::run(&no_rekor, &[]);
    out.expect_code(
        fx.expected_exit(0..size),
        "run with --trillian-tree-ids, no Rekor",
    );
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..size),
        "index from the tree IDs",
    );
    assert_eq!(
        fx.checkpoint().map(|c| c.last_completed_index),
        Some(size - 1)
    );
}

/// A sequence number missing from a tree (not yet integrated) fails that
/// index (`unreadable`, recorded, retried) and nothing else; once the leaf
/// is there, the next run indexes it and clears the record.
fn missing_leaf_fails_its_index<B: IndexBackend>() {
    let fx = Fixture::<B>::sharded("trillian-hole", INACTIVE);
    let trillian = TrillianDb::of(&fx, &format!("{}_hole", B::NAME));
    let size = fx.size();
    let hole = INACTIVE + 7;
    let entry = fx.entry(hole);
    trillian.at_index(
        &fx,
        hole,
        "DELETE FROM SequencedLeafData WHERE TreeId = ? AND SequenceNumber = ?",
    );
    let out = tool::run(&args(&fx, &trillian, &[]), &[]);
    out.expect_code(EXIT_ENTRY_FAILURES, "run with a hole in the active tree");
    let others: Vec<u64> = (0..size).filter(|&i| i != hole).collect();
    assert_same(
        &fx.snapshot(),
        &fx.expected(others.iter().copied()),
        "index with a hole",
    );
    let failures = fx.failures();
    let record = failures
        .get(&hole)
        .unwrap_or_else(|| panic!("no failure record at {hole}: {failures:?}"));
    assert_eq!(record.kind, "unreadable", "{record:?}");
    assert!(
        record.error.contains("no leaf at sequence number 7"),
        "{record:?}"
    );
    assert_eq!(
        fx.checkpoint().map(|c| c.last_completed_index),
        Some(size - 1),
        "the hole is a recorded failure, not a stop"
    );

    let value = STANDARD.decode(&entry.body_b64).expect("base64");
    trillian
        .db
        .connection()
        .exec_drop(
            "INSERT INTO SequencedLeafData (TreeId, SequenceNumber, LeafIdentityHash, \
             MerkleLeafHash, IntegrateTimestampNanos) VALUES (?, ?, ?, ?, 0)",
            (
                entry.tree_id,
                entry.shard_index,
                Sha256::digest(&value).to_vec(),
                hex::decode(&entry.uuid[16..]).expect("hex"),
            ),
        )
        .expect("integrating the leaf");
    let out = tool::run(&args(&fx, &trillian, &[]), &[]);
    out.expect_code(
        EXIT_OK,
        "rerun once the leaf is there: only the records retried",
    );
    assert!(out.line_with("Nothing to do").is_some(), "{}", out.stderr);
    let failures = fx.failures();
    assert!(!failures.contains_key(&hole), "the record is cleared");
    let others_failing = fx.expected_failures(0..size);
    assert_eq!(
        failures.keys().copied().collect::<BTreeSet<_>>(),
        others_failing,
        "the corpus's own failures stay recorded"
    );
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..size),
        "index after the rerun",
    );
}

/// A stored Merkle leaf hash that is not SHA256(0x00 || LeafValue) fails
/// that index as a `mismatch`; its entry is not indexed under a UUID that
/// does not name it.
fn wrong_leaf_hash_fails_its_index<B: IndexBackend>() {
    let fx = Fixture::<B>::sharded("trillian-leafhash", INACTIVE);
    let trillian = TrillianDb::of(&fx, &format!("{}_leafhash", B::NAME));
    let size = fx.size();
    let bad = 3;
    trillian.at_index(
        &fx,
        bad,
        "UPDATE SequencedLeafData SET MerkleLeafHash = UNHEX(REPEAT('ab', 32)) \
         WHERE TreeId = ? AND SequenceNumber = ?",
    );
    let out = tool::run(&args(&fx, &trillian, &[]), &[]);
    out.expect_code(EXIT_ENTRY_FAILURES, "run with a wrong leaf hash");
    let record = fx.failures().remove(&bad).expect("a failure record");
    assert_eq!(record.kind, "mismatch", "{record:?}");
    assert!(record.uuid.ends_with(&"ab".repeat(32)), "{record:?}");
    let others: Vec<u64> = (0..size).filter(|&i| i != bad).collect();
    assert_same(
        &fx.snapshot(),
        &fx.expected(others.iter().copied()),
        "index with a wrong leaf hash",
    );
}

/// Runs SIGKILLed at random moments (within the time a whole run takes),
/// each resumed from its checkpoint: the checkpoint never claims an index
/// whose keys are not written, never goes back, and the last run completes
/// the same index.
fn killed_and_resumed<B: IndexBackend>() {
    const KILLS: u32 = 3;
    let fx = Fixture::<B>::sharded("trillian-kill", INACTIVE);
    let trillian = TrillianDb::of(&fx, &format!("{}_kill", B::NAME));
    let size = fx.size();
    let flags = ["--checkpoint-interval", "1", "--concurrency", "1"];
    let whole = tool::run(&args(&fx, &trillian, &flags), &[]).elapsed;
    fx.purge();
    let mut rng = Rng::new("trillian-kill");
    let (mut kills, mut previous) = (0, None);
    for round in 1.. {
        assert!(
            round <= 40,
            "only {kills} of {round} runs were still running at the kill"
        );
        let mut running = tool::spawn(&args(&fx, &trillian, &flags), &[], None);
        thread::sleep(Duration::from_micros(rng.below(whole.as_micros() as u64)));
        let killed = running.is_running();
        if killed {
            running.signal(libc::SIGKILL);
            kills += 1;
        }
        let _ = running.wait();
        fx.backend.drop_lease(&fx.name);
        let when = format!("after round {round} (killed: {killed})");
        let cp = fx.assert_checkpoint_sound(&when);
        eprintln!("{when}: checkpoint {cp:?} (a whole run takes {whole:?})");
        if let (Some(p), Some(c)) = (previous, cp.map(|c| c.last_completed_index)) {
            assert!(
                c >= p,
                "{when}: the checkpoint went back from {p:?} to {c:?}"
            );
        }
        previous = cp.map(|c| c.last_completed_index);
        if kills == KILLS {
            break;
        }
        if !killed {
            // Complete: start over to have more runs to kill.
            fx.backend.delete_checkpoint(&fx.name);
            previous = None;
        }
    }
    let out = tool::run(&args(&fx, &trillian, &[]), &[]);
    let from = match out.line_with("Nothing to do") {
        Some(_) => size,
        None => out.resumed_from().map_or(0, |n| n + 1),
    };
    out.expect_code(fx.expected_exit(from..size), "final run");
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..size),
        "index after the kills",
    );
    assert_eq!(
        fx.checkpoint().map(|c| c.last_completed_index),
        Some(size - 1)
    );
}

/// `--shard-count 2` over the database: each process reads its own part
/// (one of them across the tree boundary's far side), under its own
/// checkpoint, and the union is the whole index.
fn shards_split_the_database<B: IndexBackend>() {
    let fx = Fixture::<B>::sharded("trillian-shards", INACTIVE);
    let trillian = TrillianDb::of(&fx, &format!("{}_shards", B::NAME));
    let size = fx.size();
    let end = (size - 1).to_string();
    for index in ["0", "1"] {
        let flags = ["--shard-count", "2", "--shard-index", index, "--end", &end];
        let out = tool::run(&args(&fx, &trillian, &flags), &[]);
        let part = if index == "0" {
            0..size.div_ceil(2)
        } else {
            size.div_ceil(2)..size
        };
        out.expect_code(fx.expected_exit(part.clone()), &format!("shard {index}"));
        let line = format!("indices {}..={}", part.start, part.end - 1);
        assert!(
            out.line_with(&line).is_some(),
            "shard {index} logs {line:?}:\n{}",
            out.stderr
        );
        let name = format!("{}:shard-{index}-of-2", fx.name);
        assert_eq!(
            fx.backend.checkpoint(&name).map(|c| c.last_completed_index),
            Some(part.end - 1)
        );
        fx.backend.delete_checkpoint(&name);
        fx.backend.delete_failures(&name);
    }
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..size),
        "union of the two shards",
    );
}

#[test]
fn redis_shards_split_the_database() {
    shards_split_the_database::<RedisBackend>();
}

#[test]
fn mysql_shards_split_the_database() {
    shards_split_the_database::<MysqlBackend>();
}

/// An in-toto statement as Rekor stores it (`attestation`); its subject
/// digest becomes a key of the entry.
const STATEMENT: &str = r#"{"_type":"https://in-toto.io/Statement/v0.1",
  "predicateType":"https://slsa.dev/provenance/v0.2",
  "subject":[{"name":"a","digest":{"sha256":"aa"}}],"predicate":{}}"#;

/// The metric of the entries indexed without their attestation.
const NOT_FETCHED: &str = "rekor_backfill_attestations_not_fetched_total";

/// Trillian holds no attestations: the summary (and the metric) count the intoto entries
/// read without one and their attestation keys are missing; with
/// `--attestations-from-rekor` exactly those entries are read through the
/// API and the keys are there.
fn attestations_counted_or_fetched<B: IndexBackend>() {
    let fx = Fixture::<B>::sharded("trillian-attestations", INACTIVE);
    let size = fx.size();
    let intoto: Vec<u64> = (0..size)
        .filter(|&i| {
            let body = STANDARD.decode(fx.entry(i).body_b64).expect("base64");
            serde_json::from_slice::<serde_json::Value>(&body).is_ok_and(|v| v["kind"] == "intoto")
        })
        .collect();
    assert!(!intoto.is_empty(), "the corpus has intoto entries");
    let with = *intoto
        .iter()
        .find(|&&i| i >= INACTIVE)
        .expect("one in the active tree");
    let body = STANDARD.decode(fx.entry(with).body_b64).expect("base64");
    fx.server.update_log(|log| {
        log.put(
            with,
            replay_rekor::Entry::new(body).with_attestation(STATEMENT),
        )
    });
    let trillian = TrillianDb::of(&fx, &format!("{}_attestations", B::NAME));
    let (key, uuid) = (fx.backend.stored_key("sha256:aa"), fx.entry(with).uuid);

    let textfile = fx.dir.path().join("backfill.prom");
    let textfile_arg = textfile.to_str().expect("utf-8 path");
    let metric_flags = ["--summary", "json", "--metrics-textfile", textfile_arg];
    let out = tool::run(&args(&fx, &trillian, &metric_flags), &[]);
    out.expect_code(fx.expected_exit(0..size), "without attestations");
    assert_eq!(out.summary()["attestationsNotFetched"], intoto.len());
    // The metric says the same as the summary, as Prometheus reads it.
    let metrics = crate::ops::parse_metrics(textfile_arg).expect("the textfile");
    assert_eq!(metrics[NOT_FETCHED]["type"], "COUNTER", "{metrics}");
    assert_eq!(
        crate::ops::sample(&metrics, NOT_FETCHED, &[("checkpoint", &fx.name)]),
        Some(intoto.len() as f64),
        "{metrics}"
    );
    assert!(
        !fx.snapshot().contains(&key, &uuid),
        "no attestation, no key"
    );
    assert_eq!(fx.server.served_indices(), Vec::<u64>::new());

    fx.purge();
    let flags = ["--summary", "json", "--attestations-from-rekor"];
    let out = tool::run(&args(&fx, &trillian, &flags), &[]);
    out.expect_code(fx.expected_exit(0..size), "with --attestations-from-rekor");
    assert_eq!(out.summary()["attestationsNotFetched"], 0);
    let snapshot = fx.snapshot();
    assert!(
        snapshot.contains(&key, &uuid),
        "the attestation's key is indexed"
    );
    let mut served = fx.server.served_indices();
    served.sort_unstable();
    assert_eq!(
        served, intoto,
        "only the intoto entries are read through Rekor"
    );
    fx.purge();
    let api = tool::run(&fx.args(&metric_flags), &[]);
    api.expect_code(fx.expected_exit(0..size), "the API source");
    assert!(
        api.summary().get("attestationsNotFetched").is_none(),
        "{}",
        api.stdout
    );
    let metrics = crate::ops::parse_metrics(textfile_arg).expect("the textfile");
    assert!(
        metrics.get(NOT_FETCHED).is_none(),
        "the API serves attestations: {metrics}"
    );
    assert_same(
        &fx.snapshot(),
        &snapshot,
        "API source vs --attestations-from-rekor",
    );
}

#[test]
fn redis_attestations_counted_or_fetched() {
    attestations_counted_or_fetched::<RedisBackend>();
}

#[test]
fn mysql_attestations_counted_or_fetched() {
    attestations_counted_or_fetched::<MysqlBackend>();
}

/// A Trillian database that refuses the password stops the run before
/// anything is written (status 1), naming the database, never the
/// password.
fn refused_password_is_fatal_and_secret<B: IndexBackend>() {
    let fx = Fixture::<B>::new("trillian-refused");
    let trillian = TrillianDb::of(&fx, &format!("{}_refused", B::NAME));
    let wrong = "Wr0ng-Trillian-Pw";
    let mut db = trillian.db.clone();
    db.password = wrong.to_string();
    let dsn = db.dsn();
    let out = tool::run(&fx.args(&["--trillian-mysql-dsn", &dsn]), &[]);
    out.expect_code(tool::EXIT_FATAL, "wrong Trillian password");
    assert!(
        out.stderr.contains("Trillian database mysql"),
        "{}",
        out.stderr
    );
    fx.assert_no_secrets(&out, &[wrong]);
    assert!(fx.snapshot().is_empty(), "nothing written");
    assert_eq!(fx.checkpoint(), None);
}

#[test]
fn redis_refused_password_is_fatal_and_secret() {
    refused_password_is_fatal_and_secret::<RedisBackend>();
}

#[test]
fn mysql_refused_password_is_fatal_and_secret() {
    refused_password_is_fatal_and_secret::<MysqlBackend>();
}

#[test]
fn redis_same_index_as_the_api() {
    same_index_as_the_api::<RedisBackend>();
}

#[test]
fn mysql_same_index_as_the_api() {
    same_index_as_the_api::<MysqlBackend>();
}

#[test]
fn redis_missing_leaf_fails_its_index() {
    missing_leaf_fails_its_index::<RedisBackend>();
}

#[test]
fn mysql_missing_leaf_fails_its_index() {
    missing_leaf_fails_its_index::<MysqlBackend>();
}

#[test]
fn redis_wrong_leaf_hash_fails_its_index() {
    wrong_leaf_hash_fails_its_index::<RedisBackend>();
}

#[test]
fn mysql_wrong_leaf_hash_fails_its_index() {
    wrong_leaf_hash_fails_its_index::<MysqlBackend>();
}

#[test]
fn redis_killed_and_resumed() {
    killed_and_resumed::<RedisBackend>();
}

#[test]
fn mysql_killed_and_resumed() {
    killed_and_resumed::<MysqlBackend>();
}
