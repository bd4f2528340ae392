//! The Trillian source (`--trillian-mysql-dsn`): the corpus log of a
//! replay server copied into Trillian's own schema (testdata/trillian) in
//! a scratch database of the test MariaDB, then indexed from there. The
//! index must be the one the API source writes from the same entries, on
//! both backends, without reading one entry through Rekor; a hole in a
//! tree and a wrong Merkle leaf hash fail their own index only; a run
//! killed at any moment resumes to the same index. With `--verify-log`
//! each tree's root, recomputed from the database, must be the one its
//! signed tree head (served by the replay server, signed by a test key)
//! signs.

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mysql::prelude::Queryable;
use ring::rand::SystemRandom;
use ring::signature::EcdsaKeyPair;
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
/// tree IDs given, which needs no Rekor at all (in batches of 7, which
/// cross the tree boundary).
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
            "--trillian-batch-size",
            "7",
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
    // Batches of 10, so that a kill can land between checkpoints of a
    // fixture that is only two default batches long.
    let flags = [
        "--checkpoint-interval",
        "1",
        "--concurrency",
        "1",
        "--trillian-batch-size",
        "10",
    ];
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

/// The log key of a test: signs tree heads as Rekor does (a signed note,
/// ECDSA P-256), its public key in a PEM file for `--rekor-public-key`.
struct LogSigner {
    pair: EcdsaKeyPair,
    /// SHA-256 of the SubjectPublicKeyInfo: the log ID, whose first four
    /// bytes are the note's key hint.
    id: [u8; 32],
    pem: std::path::PathBuf,
}

impl LogSigner {
    fn new(dir: &std::path::Path) -> LogSigner {
        let (pair, spki) = support::p256::key_pair(&SystemRandom::new());
        let pem = dir.join("rekor.pub");
        std::fs::write(&pem, rekor_backfill::pki::pem::encode("PUBLIC KEY", &spki))
            .expect("writing the key");
        LogSigner {
            pair,
            id: Sha256::digest(&spki).into(),
            pem,
        }
    }

    /// A signed tree head as Rekor's `GET /api/v1/log` serves it.
    fn head(&self, size: u64, root: &[u8]) -> String {
        let note = format!("rekor.test - 4242\n{size}\n{}\n", STANDARD.encode(root));
        let sig = self
            .pair
            .sign(&SystemRandom::new(), note.as_bytes())
            .expect("signing");
        let mut hint_sig = self.id[..4].to_vec();
        hint_sig.extend_from_slice(sig.as_ref());
        format!(
            "{note}\n\u{2014} rekor.test {}\n",
            STANDARD.encode(hint_sig)
        )
    }

    fn flags(&self) -> [String; 3] {
        [
            "--verify-log".to_string(),
            "--rekor-public-key".to_string(),
            self.pem.to_str().expect("utf-8 path").to_string(),
        ]
    }
}

/// RFC 6962's Merkle tree hash, recursively as the RFC defines it (the
/// tool streams it; src/verify/merkle.rs has the test vectors).
fn mth(leaf_hashes: &[Vec<u8>]) -> Vec<u8> {
    match leaf_hashes.len() {
        0 => Sha256::digest([]).to_vec(),
        1 => leaf_hashes[0].clone(),
        n => {
            let k = n.next_power_of_two() / 2;
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(mth(&leaf_hashes[..k]));
            h.update(mth(&leaf_hashes[k..]));
            h.finalize().to_vec()
        }
    }
}

/// The fixture's trees as `(tree ID, global indices)`, oldest first.
fn trees_of<B: IndexBackend>(fx: &Fixture<B>) -> Vec<(u64, std::ops::Range<u64>)> {
    vec![
        (fx.entry(0).tree_id, 0..INACTIVE),
        (fx.entry(INACTIVE).tree_id, INACTIVE..fx.size()),
    ]
}

/// Serves, for each tree, the head `signer` signs over its real root.
fn serve_signed_heads<B: IndexBackend>(fx: &Fixture<B>, signer: &LogSigner) {
    for (tree, range) in trees_of(fx) {
        let hashes: Vec<Vec<u8>> = range
            .clone()
            .map(|i| hex::decode(&fx.entry(i).uuid[16..]).expect("hex"))
            .collect();
        let root = mth(&hashes);
        let head = signer.head(range.end - range.start, &root);
        fx.server
            .update_log(|log| log.set_tree_head(tree, &hex::encode(&root), &head));
    }
}

/// `--verify-log` with the Trillian source: every tree's root recomputed
/// from the database must be the one its signed tree head signs. Signed
/// heads → verified, logged, indexed as without the flag; a leaf altered
/// consistently in the database (value and Merkle leaf hash, so the
/// per-entry check passes) or a head with a bad signature → status 5,
/// nothing indexed, no checkpoint; without the flag the altered log is
/// indexed as before.
fn verify_log_checks_the_signed_roots<B: IndexBackend>() {
    let fx = Fixture::<B>::sharded("trillian-verify", INACTIVE);
    let trillian = TrillianDb::of(&fx, &format!("{}_verify", B::NAME));
    let size = fx.size();
    let signer = LogSigner::new(fx.dir.path());
    serve_signed_heads(&fx, &signer);
    let verify = signer.flags();
    let verify: Vec<&str> = verify.iter().map(String::as_str).collect();

    let out = tool::run(&args(&fx, &trillian, &verify), &[]);
    out.expect_code(fx.expected_exit(0..size), "signed heads, --verify-log");
    for (tree, range) in trees_of(&fx) {
        let line = out
            .line_with(&format!("Verified tree {tree}:"))
            .unwrap_or_else(|| panic!("tree {tree} verified:\n{}", out.stderr));
        assert!(
            line.contains(&format!(
                "its {} leaves in the database (global indices {}..={})",
                range.end - range.start,
                range.start,
                range.end - 1
            )),
            "{line}"
        );
    }
    assert_same(
        &fx.snapshot(),
        &fx.expected(0..size),
        "index with --verify-log",
    );
    fx.purge();

    // A range that does not start at 0: the trees it touches are verified
    // whole all the same, the others are not read.
    let start = (INACTIVE + 10).to_string();
    let mut from_start = verify.clone();
    from_start.extend(["--start", &start]);
    let out = tool::run(&args(&fx, &trillian, &from_start), &[]);
    out.expect_code(
        fx.expected_exit(INACTIVE + 10..size),
        "--start in the active tree",
    );
    let [(inactive, _), (active, _)] = [trees_of(&fx)[0].clone(), trees_of(&fx)[1].clone()];
    assert!(
        out.line_with(&format!("Verified tree {active}:")).is_some(),
        "{}",
        out.stderr
    );
    assert!(
        out.line_with(&format!("Verified tree {inactive}:"))
            .is_none(),
        "{}",
        out.stderr
    );
    fx.purge();

    // A head whose signature another key made.
    let (tree, range) = trees_of(&fx)[1].clone();
    let elsewhere = fx.dir.path().join("stranger");
    std::fs::create_dir_all(&elsewhere).expect("a directory for the other key");
    let stranger = LogSigner::new(&elsewhere);
    let hashes: Vec<Vec<u8>> = range
        .clone()
        .map(|i| hex::decode(&fx.entry(i).uuid[16..]).expect("hex"))
        .collect();
    let root = mth(&hashes);
    let forged = stranger.head(range.end - range.start, &root);
    fx.server
        .update_log(|log| log.set_tree_head(tree, &hex::encode(&root), &forged));
    let out = tool::run(&args(&fx, &trillian, &verify), &[]);
    out.expect_code(5, "a head with a foreign signature");
    assert!(
        out.stderr.contains(&format!(
            "the signed tree head of tree {tree} does not verify"
        )),
        "{}",
        out.stderr
    );
    assert!(fx.snapshot().is_empty(), "nothing indexed");
    assert_eq!(fx.checkpoint(), None);
    serve_signed_heads(&fx, &signer);

    // A leaf of the active tree replaced consistently: the per-entry check
    // passes, the root does not.
    let altered = INACTIVE + 5;
    let entry = fx.entry(altered);
    let value = STANDARD.decode(&entry.body_b64).expect("base64");
    let mut other = value.clone();
    other.push(b' ');
    let mut leaf = Sha256::new();
    leaf.update([0u8]);
    leaf.update(&other);
    let mut conn = trillian.db.connection();
    conn.exec_drop(
        "UPDATE LeafData SET LeafValue = ? WHERE TreeId = ? AND LeafIdentityHash = ?",
        (&other, entry.tree_id, Sha256::digest(&value).to_vec()),
    )
    .expect("altering the leaf value");
    conn.exec_drop(
        "UPDATE SequencedLeafData SET MerkleLeafHash = ? WHERE TreeId = ? AND SequenceNumber = ?",
        (leaf.finalize().to_vec(), entry.tree_id, entry.shard_index),
    )
    .expect("altering the leaf hash");
    let failed = fx.dir.path().join("failed.jsonl");
    let mut flags = verify.clone();
    flags.extend(["--failed-entries", failed.to_str().expect("utf-8")]);
    let out = tool::run(&args(&fx, &trillian, &flags), &[]);
    out.expect_code(5, "a leaf altered consistently");
    let n = size - INACTIVE;
    for needle in [
        format!("tree {tree}: the {n} leaf hashes in Trillian's database"),
        format!(
            "the signed tree head of size {n} signs root {}",
            hex::encode(&root)
        ),
    ] {
        assert!(
            out.stderr.contains(&needle),
            "{needle:?} in:\n{}",
            out.stderr
        );
    }
    assert!(fx.snapshot().is_empty(), "nothing indexed");
    assert_eq!(fx.checkpoint(), None);
    assert!(fx.failures().is_empty(), "no failure records");
    fx.assert_no_secrets(&out, &[&trillian.db.password]);

    // Without the flag the altered log is indexed as before: the check is
    // what refuses it.
    let out = tool::run(&args(&fx, &trillian, &[]), &[]);
    out.expect_code(
        fx.expected_exit(0..size),
        "the altered log without the flag",
    );
    assert!(out.line_with("Verified tree").is_none(), "{}", out.stderr);

    // --reset-checkpoint on a log that fails verification: refused before
    // the checkpoint is deleted, so the operator loses nothing.
    let before = fx.checkpoint();
    assert!(
        before.is_some(),
        "the run without the flag saved a checkpoint"
    );
    let mut reset = verify.clone();
    reset.push("--reset-checkpoint");
    let out = tool::run(&args(&fx, &trillian, &reset), &[]);
    out.expect_code(5, "--reset-checkpoint on the altered log");
    assert_eq!(
        fx.checkpoint(),
        before,
        "the checkpoint survives a refused reset"
    );
}

#[test]
fn redis_verify_log_checks_the_signed_roots() {
    verify_log_checks_the_signed_roots::<RedisBackend>();
}

#[test]
fn mysql_verify_log_checks_the_signed_roots() {
    verify_log_checks_the_signed_roots::<MysqlBackend>();
}

/// The database failing mid-run (a table gone after the layout is read)
/// stops the run with status 1, the error naming the database (never its
/// password), the tree and the sequence numbers, tagged kind `trillian`
/// (not `rekor`) in the JSON log.
fn database_failure_names_the_source<B: IndexBackend>() {
    let fx = Fixture::<B>::sharded("trillian-dbfail", INACTIVE);
    let trillian = TrillianDb::of(&fx, &format!("{}_dbfail", B::NAME));
    trillian
        .db
        .connection()
        .query_drop("RENAME TABLE LeafData TO LeafDataGone")
        .expect("hiding LeafData");
    let out = tool::run(
        &args(&fx, &trillian, &["--log-format", "json", "--end", "9"]),
        &[],
    );
    out.expect_code(tool::EXIT_FATAL, "LeafData gone");
    let last = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .rfind(|l| l["level"] == "error")
        .unwrap_or_else(|| panic!("an error line:\n{}", out.stderr));
    assert_eq!(last["kind"], "trillian", "{last}");
    let tree = fx.entry(0).tree_id;
    let msg = last["msg"].as_str().unwrap_or_default();
    for needle in [
        format!(
            "Trillian database mysql {}@{}:{}/{}",
            trillian.db.user, trillian.db.host, trillian.db.port, trillian.db.database
        ),
        format!("tree {tree}, sequence numbers 0..=9"),
        "LeafData".to_string(),
    ] {
        assert!(msg.contains(&needle), "{needle:?} in {msg:?}");
    }
    assert!(!msg.contains("from Rekor"), "{msg}");
    fx.assert_no_secrets(&out, &[&trillian.db.password]);
    assert!(fx.snapshot().is_empty(), "nothing written");
    // --trillian-batch-size sets the statement's range.
    let out = tool::run(
        &args(
            &fx,
            &trillian,
            &[
                "--end",
                "9",
                "--concurrency",
                "1",
                "--trillian-batch-size",
                "4",
            ],
        ),
        &[],
    );
    out.expect_code(tool::EXIT_FATAL, "LeafData gone, batches of 4");
    let range = format!("tree {tree}, sequence numbers 0..=3:");
    assert!(out.stderr.contains(&range), "{range:?} in:\n{}", out.stderr);
    assert!(fx.snapshot().is_empty(), "nothing written");
    trillian
        .db
        .connection()
        .query_drop("RENAME TABLE LeafDataGone TO LeafData")
        .expect("restoring LeafData");
}

#[test]
fn redis_database_failure_names_the_source() {
    database_failure_names_the_source::<RedisBackend>();
}

#[test]
fn mysql_database_failure_names_the_source() {
    database_failure_names_the_source::<MysqlBackend>();
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
