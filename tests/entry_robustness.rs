//! Untrusted input never panics: arbitrary and mutated bodies, attestations,
//! PEM/DER, SSH and minisign keys and URIs all come back as values.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::prelude::*;
use rekor_backfill::entry::index_keys;
use rekor_backfill::pki::goname::GoUrl;
use rekor_backfill::pki::minisign::MinisignKey;
use rekor_backfill::pki::pgp::PgpKey;
use rekor_backfill::pki::ssh::SshKey;
use rekor_backfill::pki::x509::X509Key;
use rekor_backfill::pki::PublicKey;

use crate::util::corpus_bodies;

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
        let bodies = corpus_bodies();
        let body = mutate(bodies[index % bodies.len()].clone(), &edits);
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

/// A body of `len` bytes: an envelope Go decodes (the first JSON value),
/// padded with spaces after it.
fn padded_body(len: usize) -> Vec<u8> {
    let mut body = br#"{"kind":"nope","apiVersion":"0.0.1","spec":{}}"#.to_vec();
    body.resize(len, b' ');
    body
}

#[test]
fn body_size_limit() {
    use rekor_backfill::entry::MAX_BODY_BYTES;
    let at = index_keys(&padded_body(MAX_BODY_BYTES), None).unwrap_err();
    assert_eq!(at.0, "invalid kind value: \"nope\"");
    let over = index_keys(&padded_body(MAX_BODY_BYTES + 1), None).unwrap_err();
    assert_eq!(
        over.0,
        format!(
            "entry body is {} bytes, over the limit of {MAX_BODY_BYTES} bytes",
            MAX_BODY_BYTES + 1
        )
    );
}

#[test]
fn attestation_size_limit() {
    use rekor_backfill::entry::MAX_ATTESTATION_BYTES;
    let body = corpus_bodies()
        .iter()
        .find(|b| b.windows(14).any(|w| w == b"\"hashedrekord\""))
        .unwrap();
    let plain = index_keys(body, None).unwrap();
    // Up to the limit an attestation is accepted (hashedrekord ignores it).
    let at = vec![b'x'; MAX_ATTESTATION_BYTES];
    assert_eq!(index_keys(body, Some(&at)).unwrap(), plain);
    let over = vec![b'x'; MAX_ATTESTATION_BYTES + 1];
    let err = index_keys(body, Some(&over)).unwrap_err();
    assert!(err.0.starts_with("attestation is "), "{err}");
    assert!(err
        .0
        .ends_with(&format!("over the limit of {MAX_ATTESTATION_BYTES} bytes")));
}

/// A v4 public-key packet (new-format header) of `algorithm` with the given
/// MPIs, each `(bits, bytes)`.
fn pgp_key_packet(algorithm: u8, mpis: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![4, 0x5f, 0, 0, 0, algorithm];
    for (bits, bytes) in mpis {
        body.extend_from_slice(&bits.to_be_bytes());
        body.extend_from_slice(bytes);
    }
    let len = body.len();
    assert!((192..8384).contains(&len));
    let mut packet = vec![0xc6, ((len - 192) >> 8) as u8 + 192, (len - 192) as u8];
    packet.extend_from_slice(&body);
    packet
}

/// An MPI of exactly `bits` bits (top bit set, odd).
fn mpi(bits: u16) -> (u16, Vec<u8>) {
    let mut bytes = vec![0xffu8; usize::from(bits).div_ceil(8)];
    bytes[0] = 0xff >> ((8 - bits % 8) % 8);
    (bits, bytes)
}

fn pgp_error(packet: &[u8]) -> String {
    match PgpKey::parse(packet) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn pgp_key_material_limits() {
    use rekor_backfill::pki::pgp::{MAX_DSA_P_BITS, MAX_DSA_Q_BITS, MAX_RSA_BITS};
    let rsa = |bits: u64| pgp_key_packet(1, &[mpi(bits as u16), mpi(17)]);
    assert!(!pgp_error(&rsa(MAX_RSA_BITS)).contains("limit"));
    assert_eq!(
        pgp_error(&rsa(MAX_RSA_BITS + 1)),
        format!(
            "error reading binary PGP public key: RSA modulus of {} bits is over the limit of {MAX_RSA_BITS} bits",
            MAX_RSA_BITS + 1
        )
    );
    let dsa =
        |p: u64, q: u64| pgp_key_packet(17, &[mpi(p as u16), mpi(q as u16), mpi(1024), mpi(1024)]);
    assert!(!pgp_error(&dsa(MAX_DSA_P_BITS, MAX_DSA_Q_BITS)).contains("limit"));
    assert!(pgp_error(&dsa(MAX_DSA_P_BITS + 1, 256)).ends_with(&format!(
        "DSA prime of {} bits is over the limit of {MAX_DSA_P_BITS} bits",
        MAX_DSA_P_BITS + 1
    )));
    assert!(
        pgp_error(&dsa(2048, MAX_DSA_Q_BITS + 1)).ends_with(&format!(
            "DSA subgroup order of {} bits is over the limit of {MAX_DSA_Q_BITS} bits",
            MAX_DSA_Q_BITS + 1
        ))
    );
}
