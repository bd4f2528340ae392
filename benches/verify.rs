//! `--verify-log`'s cost per entry on one thread: `LogVerifier::verify` on
//! a valid entry of a 2^20-leaf tree (20 proof hashes), its checkpoint
//! already verified once (the steady state of a run: many entries share a
//! checkpoint), so one ECDSA P-256 verification (the SET) and 21 SHA-256
//! per entry. Run with `cargo bench --bench verify`.

use std::hint::black_box;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use sha2::{Digest, Sha256};

use rekor_backfill::rekor::{FetchedEntry, LogEvidence};
use rekor_backfill::verify::key::LogKey;
use rekor_backfill::verify::{inclusion, set, LogVerifier};

const DEPTH: u32 = 20;
const LOG_ID: &str = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";

fn entry() -> (LogVerifier, FetchedEntry) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let mut spki = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    spki.extend_from_slice(pair.public_key().as_ref());
    let key = LogKey::from_spki(&spki).unwrap();
    let sign = |m: &[u8]| pair.sign(&rng, m).unwrap().as_ref().to_vec();

    // Leaf 0 of a full tree: every sibling is on the right.
    let body = br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#;
    let siblings: Vec<[u8; 32]> = (0..DEPTH)
        .map(|i| Sha256::digest([i as u8]).into())
        .collect();
    let mut root = inclusion::leaf_hash(body);
    for s in &siblings {
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(root);
        h.update(s);
        root = h.finalize().into();
    }
    let size = 1u64 << DEPTH;
    let note = format!("bench - 1\n{size}\n{}\n", STANDARD.encode(root));
    let mut sig = key.note_hint().to_vec();
    sig.extend(sign(note.as_bytes()));
    let checkpoint = format!("{note}\n\u{2014} bench {}\n", STANDARD.encode(sig));
    let body_b64 = STANDARD.encode(body);
    let set = sign(set::payload(&body_b64, 1700000000, LOG_ID, 0).as_bytes());
    let verification = serde_json::json!({
        "inclusionProof": {
            "logIndex": 0, "rootHash": hex::encode(root), "treeSize": size,
            "hashes": siblings.iter().map(hex::encode).collect::<Vec<_>>(),
            "checkpoint": checkpoint,
        },
        "signedEntryTimestamp": STANDARD.encode(set),
    });
    let fetched = FetchedEntry {
        log_index: 0,
        uuid: hex::encode(inclusion::leaf_hash(body)),
        body: body_b64.into(),
        attestation: None,
        evidence: Some(Box::new(LogEvidence {
            integrated_time: 1700000000.into(),
            log_id: LOG_ID.into(),
            verification: serde_json::value::RawValue::from_string(verification.to_string())
                .unwrap(),
        })),
    };
    (LogVerifier::new(key), fetched)
}

fn verify(c: &mut Criterion) {
    let (verifier, fetched) = entry();
    verifier.verify(&fetched).expect("the bench entry verifies");
    let mut group = c.benchmark_group("verify-log");
    group.throughput(Throughput::Elements(1));
    group.bench_function("entry", |b| {
        b.iter(|| verifier.verify(black_box(&fetched)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
