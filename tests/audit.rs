//! `rekor-backfill audit` and `fix-case` against the replay server and the
//! real Redis and MariaDB: a complete index audits clean (0); pairs taken
//! out are counted exactly (5); pairs moved under a mis-cased Redis key
//! are counted as such, `fix-case` moves them back, and a backfill
//! restores the rest, after which the audit is clean again.

use crate::support;

use redis::Commands;
use serde_json::Value;

use support::backend::{IndexBackend, Snapshot};
use support::mysql_backend::MysqlBackend;
use support::redis_backend::RedisBackend;
use support::tool::{self, Outcome, EXIT_OK};
use support::{Fixture, Rng};

const EXIT_VERIFICATION_FAILED: i32 = 5;

/// Runs an audit and checks its status and pair counts.
#[track_caller]
fn audit<B: IndexBackend>(fx: &Fixture<B>, code: i32, missing: u64, mis_cased: u64) -> Value {
    let out = fx.run(&["audit", "--summary", "json"]);
    out.expect_code(code, "audit");
    let v = out.summary();
    assert_eq!(
        (v["missing"].as_u64(), v["misCased"].as_u64()),
        (Some(missing), Some(mis_cased)),
        "audit summary {v}\n--- stderr ---\n{}",
        out.stderr
    );
    let size = fx.size();
    let expected = fx.expected(0..size);
    assert_eq!(v["entries"].as_u64(), Some(size), "{v}");
    assert_eq!(
        v["pairsExpected"].as_u64(),
        Some(expected.len() as u64),
        "{v}"
    );
    assert_eq!(
        v["present"].as_u64(),
        Some(expected.len() as u64 - missing - mis_cased),
        "{v}"
    );
    assert_eq!(
        v["notKeyable"].as_u64(),
        Some(fx.expected_failures(0..size).len() as u64),
        "{v}"
    );
    assert!(
        out.line_with("Audit ").is_some() && out.line_with("not-recoverable").is_some(),
        "no table or verdict in stderr:\n{}",
        out.stderr
    );
    v
}

/// A backfill of the whole log (checkpoint reset), as an operator repairs.
fn backfill<B: IndexBackend>(fx: &Fixture<B>) {
    let out = fx.run(&["--reset-checkpoint"]);
    out.expect_code(fx.expected_exit(0..fx.size()), "repairing backfill");
}

/// `count` distinct pairs of `snapshot`, chosen at random, that satisfy
/// `fits`.
fn pick(
    snapshot: &Snapshot,
    rng: &mut Rng,
    count: usize,
    fits: impl Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = snapshot
        .pairs()
        .filter(|(k, _)| fits(k))
        .map(|(k, u)| (k.to_string(), u.to_string()))
        .collect();
    assert!(pairs.len() >= count, "only {} pairs fit", pairs.len());
    let mut chosen = Vec::new();
    for _ in 0..count {
        let i = rng.below(pairs.len() as u64) as usize;
        chosen.push(pairs.swap_remove(i));
    }
    chosen
}

fn fix_case(backend: &RedisBackend, extra: &[&str]) -> Outcome {
    let mut args = backend.tool_args();
    args.extend(extra.iter().map(|s| s.to_string()));
    tool::run(&args, &[])
}

#[test]
fn redis_audit_counts_missing_and_mis_cased_pairs_and_fix_case_repairs() {
    let fx = Fixture::<RedisBackend>::new("audit");
    backfill(&fx);
    let clean = audit(&fx, EXIT_OK, 0, 0);
    assert!(clean["pairsExpected"].as_u64() > Some(100), "{clean}");

    let mut rng = Rng::new("redis audit");
    let snapshot = fx.snapshot();
    let removed = pick(&snapshot, &mut rng, 17, |_| true);
    for (key, uuid) in &removed {
        fx.backend.remove(key, uuid);
    }
    // Mis-cased: moved under the key's upper-case spelling, as the Go
    // tool writes a key with capitals.
    let rest = Snapshot::from_pairs(
        snapshot
            .pairs()
            .filter(|p| !removed.iter().any(|(k, u)| (k.as_str(), u.as_str()) == *p))
            .map(|(k, u)| (k.to_string(), u.to_string())),
    );
    let moved = pick(&rest, &mut rng, 5, |k| {
        k.is_ascii() && k.bytes().any(|b| b.is_ascii_lowercase())
    });
    let mut con = fx.backend.connection();
    for (key, uuid) in &moved {
        fx.backend.remove(key, uuid);
        let _: i64 = con.lpush(key.to_ascii_uppercase(), uuid).unwrap();
    }
    // A string and a hash with capitals: fix-case must leave them alone.
    let _: () = con.set("Audit:NotAList", "x").unwrap();
    let _: () = con.hset("Audit:AHash", "f", "v").unwrap();

    let found = audit(&fx, EXIT_VERIFICATION_FAILED, 17, 5);
    assert!(found["exitStatus"] == 5 && found["status"] == "verification-failed");

    // Dry run: says what it would do, changes nothing.
    let dry = fix_case(&fx.backend, &["fix-case", "--dry-run"]);
    dry.expect_code(EXIT_OK, "fix-case --dry-run");
    for (key, _) in &moved {
        let upper = key.to_ascii_uppercase();
        assert!(
            dry.stdout.contains("would merge") && dry.stdout.contains(&upper),
            "dry run does not mention {upper}:\n{}",
            dry.stdout
        );
    }
    audit(&fx, EXIT_VERIFICATION_FAILED, 17, 5);

    let fixed = fix_case(&fx.backend, &["fix-case"]);
    fixed.expect_code(EXIT_OK, "fix-case");
    for (key, uuid) in &moved {
        let upper = key.to_ascii_uppercase();
        let exists: bool = con.exists(&upper).unwrap();
        assert!(!exists, "{upper} still exists after fix-case");
        assert!(
            fx.snapshot().contains(key, uuid),
            "{key} -> {uuid} not merged back"
        );
    }
    let kept: String = con.get("Audit:NotAList").unwrap();
    let hash: String = con.hget("Audit:AHash", "f").unwrap();
    assert_eq!((kept.as_str(), hash.as_str()), ("x", "v"));
    let _: () = con.del(&["Audit:NotAList", "Audit:AHash"]).unwrap();
    audit(&fx, EXIT_VERIFICATION_FAILED, 17, 0);
    // A rerun has nothing left to do.
    let again = fix_case(&fx.backend, &["fix-case"]);
    again.expect_code(EXIT_OK, "fix-case rerun");
    assert!(!again.stdout.contains("merge"), "{}", again.stdout);

    backfill(&fx);
    audit(&fx, EXIT_OK, 0, 0);
    assert!(fx.snapshot().duplicates().is_empty());
}

#[test]
fn mysql_audit_counts_missing_pairs() {
    let fx = Fixture::<MysqlBackend>::new("audit");
    backfill(&fx);
    audit(&fx, EXIT_OK, 0, 0);
    let mut rng = Rng::new("mysql audit");
    let removed = pick(&fx.snapshot(), &mut rng, 23, |_| true);
    for (key, uuid) in &removed {
        fx.backend.remove(key, uuid);
    }
    audit(&fx, EXIT_VERIFICATION_FAILED, 23, 0);
    backfill(&fx);
    audit(&fx, EXIT_OK, 0, 0);
}

#[test]
fn fix_case_refuses_mysql_and_audit_refuses_writing_flags() {
    let mysql = MysqlBackend::from_env();
    let mut args = mysql.tool_args();
    args.push("fix-case".into());
    let out = tool::run(&args, &[]);
    out.expect_code(tool::EXIT_USAGE, "fix-case on MySQL");
    assert!(out.stderr.contains("Redis only"), "{}", out.stderr);

    let redis = RedisBackend::from_env();
    let mut args = redis.tool_args();
    args.extend(
        [
            "audit",
            "--rekor-address",
            "http://127.0.0.1:9",
            "--reset-checkpoint",
        ]
        .map(String::from),
    );
    let out = tool::run(&args, &[]);
    out.expect_code(tool::EXIT_USAGE, "audit --reset-checkpoint");
    assert!(out.stderr.contains("writes nothing"), "{}", out.stderr);
}
