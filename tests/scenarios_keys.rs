//! The corpus through `rekor-backfill keys`: the index scenarios can only
//! check what this computes, so every real entry must have keys, and the
//! replay server's synthetic copies must have the same keys as the
//! originals (benchmarks rely on that). Needs no services.

use crate::support;

use replay_rekor::Log;
use support::keys::keys_of;

/// The one corpus entry Rekor's own Go code rejects too (the key parity
/// run shows it as "both fail"): a sigstore-conformance negative fixture
/// whose stored in-toto payload is base64 of base64 text.
const REJECTED_BY_GO_TOO: (usize, &str) = (128, "base64");

#[test]
fn every_corpus_entry_has_keys() {
    let log = Log::new(support::corpus());
    let bodies: Vec<String> = (0..log.size())
        .map(|i| log.served(i).expect("in range").body_b64)
        .collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let results = keys_of(&refs);
    let failures: Vec<(usize, &String)> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e)))
        .collect();
    let (rejected, reason) = REJECTED_BY_GO_TOO;
    assert!(
        failures.len() == 1 && failures[0].0 == rejected && failures[0].1.contains(reason),
        "expected only corpus entry {rejected} to fail; {} of {} corpus entries have no keys; first: {:?}",
        failures.len(),
        results.len(),
        &failures[..failures.len().min(5)]
    );
    for (i, keys) in results.iter().enumerate() {
        if let Ok(keys) = keys {
            assert!(!keys.is_empty(), "entry {i} has no keys");
        }
    }
}

#[test]
fn synthetic_copies_have_the_original_keys() {
    let n = support::corpus().len() as u64;
    let log = Log::new(support::corpus()).with_size(3 * n);
    let mut compared = 0;
    for i in 0..n {
        let copies: Vec<String> = [i, i + n, i + 2 * n]
            .iter()
            .map(|&index| log.served(index).expect("in range").body_b64)
            .collect();
        assert_ne!(copies[0], copies[1]);
        let refs: Vec<&str> = copies.iter().map(String::as_str).collect();
        let keys = keys_of(&refs);
        // Entries without keys are every_corpus_entry_has_keys' business.
        if keys[0].is_ok() {
            assert_eq!(keys[0], keys[1], "entry {i}: cycle 1 changes the keys");
            assert_eq!(keys[0], keys[2], "entry {i}: cycle 2 changes the keys");
            compared += 1;
        }
    }
    assert!(
        compared * 2 >= n,
        "only {compared} of {n} entries have keys to compare"
    );
}
