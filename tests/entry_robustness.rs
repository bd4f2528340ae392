//! Untrusted input never panics: arbitrary and mutated bodies, attestations,
//! PEM/DER, SSH and minisign keys and URIs all come back as values.

use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::prelude::*;
use rekor_backfill::entry::index_keys;
use rekor_backfill::pki::goname::GoUrl;
use rekor_backfill::pki::minisign::MinisignKey;
use rekor_backfill::pki::ssh::SshKey;
use rekor_backfill::pki::x509::X509Key;
use rekor_backfill::pki::PublicKey;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/entries.jsonl"
);

static BODIES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    std::fs::read_to_string(CORPUS)
        .unwrap()
        .lines()
        .map(|l| {
            let record: serde_json::Value = serde_json::from_str(l).unwrap();
            STANDARD.decode(record["body"].as_str().unwrap()).unwrap()
        })
        .collect()
});

/// Replaces, inserts or deletes bytes at the given positions.
fn mutate(mut data: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, op, byte) in edits {
        if data.is_empty() {
            break;
        }
        let i = pos % data.len();
        match op % 3 {
            0 => data[i] = byte,
            1 => data.insert(i, byte),
            _ => {
                data.remove(i);
            }
        }
    }
    data
}

proptest! {
    #[test]
    fn arbitrary_bodies_and_attestations(body in proptest::collection::vec(any::<u8>(), 0..512),
                                         att in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..256))) {
        let _ = index_keys(&body, att.as_deref());
    }

    #[test]
    fn mutated_corpus_bodies(index in 0usize..459,
                             edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let body = mutate(BODIES[index % BODIES.len()].clone(), &edits);
        let _ = index_keys(&body, Some(br#"{"subject":[{"digest":{"a":"b"}}]}"#));
    }

    #[test]
    fn arbitrary_der_in_pem(der in proptest::collection::vec(any::<u8>(), 0..600), kind in 0u8..3) {
        let label = ["CERTIFICATE", "PUBLIC KEY", "X"][usize::from(kind)];
        let pem = format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", STANDARD.encode(&der));
        if let Ok(key) = X509Key::parse(pem.as_bytes()) {
            let _ = (key.canonical_value(), key.subjects());
        }
    }

    #[test]
    fn arbitrary_ssh_minisign_and_uris(text in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(key) = SshKey::parse(&text) {
            let _ = key.canonical_value();
        }
        let _ = MinisignKey::parse(&text);
        if let Ok(url) = GoUrl::parse(&text) {
            let _ = url.render();
        }
    }

    #[test]
    fn structured_uris(scheme in "[a-zA-Z][a-zA-Z0-9+.-]{0,5}", rest in "[ -~]{0,40}") {
        if let Ok(url) = GoUrl::parse(format!("{scheme}:{rest}").as_bytes()) {
            let rendered = url.render();
            prop_assert!(rendered.is_ascii());
        }
    }
}
