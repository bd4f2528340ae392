//! `--verify-log` end to end against the replay server, whose entries carry
//! `verification` fields that no key signed: every entry is refused with
//! kind `verification`, none is indexed, and the run exits 5. The checks
//! themselves are unit-tested in src/verify/ and run against the real
//! stack's signatures in harness/stack/scenarios_verify.sh (group 9).

use crate::support;

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use serde_json::Value;

use support::redis_backend::RedisBackend;
use support::tool::EXIT_USAGE;
use support::Fixture;

const EXIT_VERIFICATION_FAILED: i32 = 5;

/// A P-256 public key as Rekor's `publicKey` endpoint serves it.
fn p256_pem() -> Vec<u8> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let mut spki = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    spki.extend_from_slice(pair.public_key().as_ref());
    rekor_backfill::pki::pem::encode("PUBLIC KEY", &spki)
}

#[test]
fn unsigned_entries_are_refused_and_not_indexed() {
    let fx: Fixture<RedisBackend> = Fixture::new("verify-log-unsigned");
    let key = fx.dir.path().join("rekor.pub");
    std::fs::write(&key, p256_pem()).unwrap();
    let failed = fx.dir.path().join("failed.jsonl");
    let (key, failed_arg) = (key.to_str().unwrap(), failed.to_str().unwrap());
    let out = fx.run(&[
        "--verify-log",
        "--rekor-public-key",
        key,
        "--failed-entries",
        failed_arg,
        "--end",
        "9",
    ]);
    out.expect_code(EXIT_VERIFICATION_FAILED, "verify-log on unsigned entries");
    let lines = std::fs::read_to_string(&failed).unwrap();
    let records: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let indices: Vec<u64> = records
        .iter()
        .filter_map(|r| r["logIndex"].as_u64())
        .collect();
    assert_eq!(indices.len(), 10, "{lines}");
    assert!((0..10).all(|i| indices.contains(&i)), "{lines}");
    for r in &records {
        assert_eq!(r["kind"], "verification", "{r}");
        assert!(
            r["error"]
                .as_str()
                .unwrap_or_default()
                .contains("timestamp"),
            "{r}"
        );
    }
    assert!(fx.snapshot().0.is_empty(), "a refused entry was indexed");
}

#[test]
fn a_key_file_needs_the_flag_and_must_be_a_key() {
    let fx: Fixture<RedisBackend> = Fixture::new("verify-log-usage");
    let key = fx.dir.path().join("not-a-key.pem");
    std::fs::write(&key, b"hello").unwrap();
    let key = key.to_str().unwrap();
    fx.run(&["--rekor-public-key", key, "--end", "0"])
        .expect_code(EXIT_USAGE, "--rekor-public-key without --verify-log");
    let out = fx.run(&["--verify-log", "--rekor-public-key", key, "--end", "0"]);
    out.expect_code(EXIT_USAGE, "--rekor-public-key not a key");
    assert!(out.stderr.contains("--rekor-public-key"), "{}", out.stderr);
    assert!(fx.snapshot().0.is_empty());
}
