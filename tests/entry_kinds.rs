//! Index keys of the kinds added after the first milestone — jar, alpine,
//! rfc3161, tuf, cose — on bodies built here from `openssl` output and
//! hand-written JSON. Expected keys are computed independently: hashes with
//! `sha2`, canonical JSON with `serde_json` (sorted maps, which equals RFC
//! 8785 for the ASCII names and integers used here), PKCS #7 checked by
//! `openssl cms -verify` and by parsing the output with `x509-parser`'s DER
//! reader. Test names carry the docs/INDEX_KEYS.md §10 decision they check.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rekor_backfill::entry::{index_keys, KeyError};
use serde_json::{json, Value};

use crate::util::{self, b64, openssl, sha256};

fn body(kind: &str, spec: Value) -> Value {
    json!({"apiVersion": "0.0.1", "kind": kind, "spec": spec})
}

fn keys(body: &Value) -> Result<Vec<String>, KeyError> {
    index_keys(body.to_string().as_bytes(), None)
}

fn keys_with(body: &Value, attestation: &[u8]) -> Result<Vec<String>, KeyError> {
    index_keys(body.to_string().as_bytes(), Some(attestation))
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// A P-256 key and a self-signed certificate with `san`, in `dir` as
/// NAME.key / NAME.pub / NAME.crt.
fn key_and_cert(dir: &Path, name: &str, san: &str) {
    let key = format!("{name}.key");
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &key,
        ],
    );
    openssl(
        dir,
        &[
            "pkey",
            "-in",
            &key,
            "-pubout",
            "-out",
            &format!("{name}.pub"),
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &key,
            "-subj",
            &format!("/CN={name}"),
            "-days",
            "30",
            "-addext",
            &format!("subjectAltName={san}"),
            "-out",
            &format!("{name}.crt"),
        ],
    );
}

fn dsa_key(dir: &Path) -> Vec<u8> {
    openssl(
        dir,
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:1024",
            "-out",
            "dsa.param",
        ],
    );
    openssl(
        dir,
        &["genpkey", "-paramfile", "dsa.param", "-out", "dsa.key"],
    );
    openssl(
        dir,
        &["pkey", "-in", "dsa.key", "-pubout", "-out", "dsa.pub"],
    );
    read(dir, "dsa.pub")
}

// ------------------------------------------------------------------ jar

/// One DER element at the start of `b`: (tag, header length, total length).
fn der_element(b: &[u8]) -> (u8, usize, usize) {
    let (len, header) = match b[1] {
        n if n < 0x80 => (usize::from(n), 2),
        n => {
            let k = usize::from(n & 0x7f);
            (
                b[2..2 + k]
                    .iter()
                    .fold(0, |a, &x| (a << 8) | usize::from(x)),
                2 + k,
            )
        }
    };
    (b[0], header, header + len)
}

/// The DER elements (tag, full bytes) directly inside a constructed one.
fn children(der: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let (_, header, total) = der_element(der);
    let mut rest = &der[header..total];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (tag, _, len) = der_element(rest);
        out.push((tag, rest[..len].to_vec()));
        rest = &rest[len..];
    }
    out
}

/// The PEM body of a `PKCS7` block.
fn pkcs7_der(pem: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(pem.to_vec()).unwrap();
    assert!(text.starts_with("-----BEGIN PKCS7-----\n"), "{text}");
    assert!(text.ends_with("-----END PKCS7-----\n"));
    let b64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .inspect(|l| assert!(l.len() <= 64))
        .collect();
    STANDARD.decode(b64).unwrap()
}

fn jar_body(signature: &[u8]) -> Value {
    body(
        "jar",
        json!({
            "archive": {"hash": {"algorithm": "sha256", "value": "AB".repeat(32)}},
            "signature": {"content": b64(signature), "publicKey": {"content": b64(b"unused")}},
        }),
    )
}

#[test]
fn jar_key_is_the_detached_signature_still_verifiable_and_idempotent() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    key_and_cert(d, "one", "email:One@Example.COM");
    key_and_cert(d, "two", "email:Two@Example.COM");
    std::fs::write(d.join("content.txt"), b"signed content\n").unwrap();
    // Embedded content, two signers.
    openssl(
        d,
        &[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-in",
            "content.txt",
            "-outform",
            "DER",
            "-out",
            "attached.p7",
            "-signer",
            "one.crt",
            "-inkey",
            "one.key",
            "-signer",
            "two.crt",
            "-inkey",
            "two.key",
        ],
    );
    let attached = read(d, "attached.p7");
    let keys = keys(&jar_body(&attached)).unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    // The archive hash is lowercased; there are no subjects.
    assert_eq!(keys[1], format!("sha256:{}", "ab".repeat(32)));

    // Recompute the canonical PEM through the public PKCS #7 API and check
    // it independently: it hashes to the key, it is detached, the signers
    // still verify against the external content, and it is a fixed point.
    let canonical = rekor_backfill::pki::pkcs7::Pkcs7Signature::parse(&attached)
        .unwrap()
        .canonical_value();
    assert_eq!(keys[0], sha256(&canonical));
    let der = pkcs7_der(&canonical);
    assert!(der.len() < attached.len());
    std::fs::write(d.join("detached.der"), &der).unwrap();
    openssl(
        d,
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "detached.der",
            "-content",
            "content.txt",
            "-noverify",
            "-out",
            "/dev/null",
        ],
    );
    // ContentInfo → [0] → SignedData: its encapsulated content info now
    // holds only the content type, and the signer infos are sorted.
    let signed_data = &children(&children(&children(&der)[1].1)[0].1);
    let encap = children(&signed_data[2].1);
    assert_eq!(encap.len(), 1, "content type only");
    let signer_infos: Vec<Vec<u8>> = children(&signed_data.last().unwrap().1)
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    assert_eq!(signer_infos.len(), 2);
    assert!(signer_infos[0] <= signer_infos[1]);
    for info in &signer_infos {
        assert!(
            attached.windows(info.len()).any(|w| w == info.as_slice()),
            "signer info copied verbatim"
        );
    }
    // Stored (canonical) content gives the same key: idempotent.
    assert_eq!(keys_of_signature(&canonical), keys[0]);
    // Raw DER and PEM of the same structure agree too.
    assert_eq!(keys_of_signature(&der), keys[0]);
}

fn keys_of_signature(signature: &[u8]) -> String {
    keys(&jar_body(signature)).unwrap()[0].clone()
}

#[test]
fn jar_signature_errors_drop_the_entry() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    key_and_cert(d, "one", "email:One@Example.COM");
    std::fs::write(d.join("content.txt"), b"x").unwrap();
    openssl(
        d,
        &[
            "cms",
            "-sign",
            "-binary",
            "-in",
            "content.txt",
            "-outform",
            "DER",
            "-out",
            "sig.p7",
            "-signer",
            "one.crt",
            "-inkey",
            "one.key",
        ],
    );
    let der = read(d, "sig.p7");
    let good = keys_of_signature(&der);
    // Trailing zero bytes are accepted (relic trims them), other bytes not.
    let mut zeros = der.clone();
    zeros.extend_from_slice(&[0, 0]);
    assert_eq!(keys_of_signature(&zeros), good);
    let mut garbage = der.clone();
    garbage.push(1);
    assert!(keys(&jar_body(&garbage))
        .unwrap_err()
        .0
        .contains("trailing"));
    assert!(keys(&jar_body(&der[..der.len() - 5])).is_err());
    let cms_pem = format!("-----BEGIN CMS-----\n{}\n-----END CMS-----\n", b64(&der));
    assert!(keys(&jar_body(cms_pem.as_bytes()))
        .unwrap_err()
        .0
        .contains("unknown PEM block type CMS"));
    // Without a signature only the archive hash is indexed.
    let unsigned = body(
        "jar",
        json!({"archive": {"hash": {"algorithm": "sha256", "value": "ab".repeat(32)}, "content": b64(b"jar")}}),
    );
    assert_eq!(
        keys(&unsigned).unwrap(),
        [format!("sha256:{}", "ab".repeat(32))]
    );
}

// ------------------------------------------------------------------ alpine

fn alpine_body(key: &[u8], hash: Value) -> Value {
    body(
        "alpine",
        json!({"package": {"hash": hash, "pkginfo": {"pkgname": "x", "size": 3}},
               "publicKey": {"content": b64(key)}}),
    )
}

#[test]
fn alpine_key_hash_subjects_and_package_hash() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    key_and_cert(
        dir.path(),
        "apk",
        "DNS:Build.Example.COM,email:Carol@EXAMPLE.org",
    );
    let cert = read(dir.path(), "apk.crt");
    let digest = "CD".repeat(32);
    let keys = keys(&alpine_body(
        &cert,
        json!({"algorithm": "sha256", "value": digest}),
    ))
    .unwrap();
    // openssl writes PEM exactly as Go does, so the certificate is canonical.
    assert_eq!(
        keys,
        [
            sha256(&cert),
            "Build.Example.COM".to_string(),
            "Carol@EXAMPLE.org".to_string(),
            format!("sha256:{}", digest.to_lowercase()),
        ]
    );
    let bare = read(dir.path(), "apk.pub");
    let keys = self::keys(&alpine_body(
        &bare,
        json!({"algorithm": "sha256", "value": "cd".repeat(32)}),
    ))
    .unwrap();
    assert_eq!(keys, [sha256(&bare), format!("sha256:{}", "cd".repeat(32))]);
}

#[test]
fn alpine_dsa_key_is_an_error_unlike_rekord_and_cose() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let dsa = dsa_key(dir.path());
    let err = keys(&alpine_body(
        &dsa,
        json!({"algorithm": "sha256", "value": "cd".repeat(32)}),
    ))
    .unwrap_err();
    assert!(err.0.contains("dsa"), "{err}");
    // cose: the same key only loses its key hash.
    let cose = cose_body(&dsa, &"11".repeat(32), &"22".repeat(32));
    assert_eq!(
        keys(&cose).unwrap(),
        [
            format!("sha256:{}", "11".repeat(32)),
            format!("sha256:{}", "22".repeat(32))
        ]
    );
}

#[test]
fn alpine_validation_follows_go() {
    // A hash object with neither field is not created; without package
    // content that is an error, as is a short hash value.
    let key = b"not parsed before validation";
    assert!(keys(&alpine_body(key, json!({"other": 1})))
        .unwrap_err()
        .0
        .contains("'content' must be specified for package"));
    assert!(keys(&alpine_body(
        key,
        json!({"algorithm": "sha256", "value": "ab"})
    ))
    .unwrap_err()
    .0
    .contains("invalid value for hash"));
    assert!(keys(&alpine_body(
        key,
        json!({"algorithm": "sha1", "value": "ab"})
    ))
    .unwrap_err()
    .0
    .contains("should be one of"));
}

// ------------------------------------------------------------------ rfc3161

/// A TSA in `dir` (RSA key, timeStamping certificate, config) and a
/// response for `data` with `digest`; `extra` goes into the TSA config.
fn timestamp(dir: &Path, digest: &str, extra: &str) -> Vec<u8> {
    if !dir.join("tsa.key").exists() {
        openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "tsa.key",
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "tsa.key",
                "-subj",
                "/CN=Test TSA",
                "-days",
                "30",
                "-addext",
                "extendedKeyUsage=critical,timeStamping",
                "-out",
                "tsa.crt",
            ],
        );
        std::fs::write(dir.join("serial"), "01\n").unwrap();
        std::fs::write(dir.join("data.txt"), "timestamped\n").unwrap();
    }
    let config = format!(
        "[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = {}\ncrypto_device = builtin\nsigner_digest = sha256\n\
         default_policy = 1.2.3.4.1\ndigests = sha256, sha512\ness_cert_id_alg = sha256\n{extra}\n",
        dir.join("serial").display()
    );
    std::fs::write(dir.join("ts.cnf"), config).unwrap();
    openssl(
        dir,
        &[
            "ts",
            "-query",
            "-data",
            "data.txt",
            &format!("-{digest}"),
            "-cert",
            "-out",
            "q.tsq",
        ],
    );
    openssl(
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            "ts.cnf",
            "-queryfile",
            "q.tsq",
            "-signer",
            "tsa.crt",
            "-inkey",
            "tsa.key",
            "-out",
            "r.tsr",
        ],
    );
    read(dir, "r.tsr")
}

fn tsr_keys(tsr: &[u8]) -> Result<Vec<String>, KeyError> {
    keys(&body("rfc3161", json!({"tsr": {"content": b64(tsr)}})))
}

#[test]
fn rfc3161_key_is_the_hash_of_the_response() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let tsr = timestamp(dir.path(), "sha256", "");
    assert_eq!(
        tsr_keys(&tsr).unwrap(),
        [format!("sha256:{}", sha256(&tsr))]
    );
    // Bytes after the response are ignored by the parser but hashed.
    let mut trailing = tsr.clone();
    trailing.extend_from_slice(b"junk");
    assert_eq!(
        tsr_keys(&trailing).unwrap(),
        [format!("sha256:{}", sha256(&trailing))]
    );
}

#[test]
fn rfc3161_rejection_status_is_indexed_per_section_10() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    // sha1 is not among the TSA's digests: a "rejection" response.
    let tsr = timestamp(dir.path(), "sha1", "");
    assert_eq!(
        tsr_keys(&tsr).unwrap(),
        [format!("sha256:{}", sha256(&tsr))]
    );
}

#[test]
fn rfc3161_over_10_kib_and_bad_signature_are_indexed_per_section_10() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = timestamp(d, "sha256", "");
    let cert = read(d, "tsa.crt");
    std::fs::write(d.join("many.pem"), cert.repeat(12)).unwrap();
    let big = timestamp(
        d,
        "sha256",
        &format!("certs = {}", d.join("many.pem").display()),
    );
    assert!(big.len() > 10 * 1024);
    assert_eq!(
        tsr_keys(&big).unwrap(),
        [format!("sha256:{}", sha256(&big))]
    );
    let mut broken = first.clone();
    *broken.last_mut().unwrap() ^= 1;
    assert_eq!(
        tsr_keys(&broken).unwrap(),
        [format!("sha256:{}", sha256(&broken))]
    );
}

#[test]
fn rfc3161_what_is_not_a_response_is_still_an_error() {
    assert!(tsr_keys(b"\x30\x03\x02\x01")
        .unwrap_err()
        .0
        .contains("not a timestamp response"));
    assert!(tsr_keys(b"not DER at all").is_err());
    let not_base64 = body("rfc3161", json!({"tsr": {"content": "a-b_"}}));
    assert!(keys(&not_base64).unwrap_err().0.contains("base64"));
    assert!(keys(&body("rfc3161", json!({"tsr": {}})))
        .unwrap_err()
        .0
        .contains("required"));
}

// ------------------------------------------------------------------ tuf

/// serde_json's sorted, compact form: RFC 8785 for these values.
fn canonical(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn root_doc(expires: &str, sig_hex: &str) -> Value {
    json!({
        "signatures": [{"keyid": "k1", "sig": sig_hex}],
        "signed": {
            "_type": "root", "spec_version": "1.0", "version": 3, "expires": expires,
            "consistent_snapshot": true,
            "keys": {"k1": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "00"}}},
            "roles": {"root": {"keyids": ["k1"], "threshold": 1}},
        },
    })
}

fn tuf_body(metadata: Value, root: Value) -> Value {
    body(
        "tuf",
        json!({"metadata": {"content": metadata}, "root": {"content": root}, "spec_version": "1.0"}),
    )
}

fn b64_canonical(v: &Value) -> Value {
    json!(b64(&canonical(v)))
}

#[test]
fn tuf_expired_root_is_indexed_per_section_10() {
    // Expired in 2000 and signed by nobody: Go refuses it, the log did not.
    let root = root_doc("2000-01-01T00:00:00Z", "abcd");
    let metadata = json!({
        "signatures": [{"keyid": "k1", "sig": "0102"}],
        "signed": {"_type": "Targets", "spec_version": "1.0", "version": 42,
                   "expires": "2001-01-01T00:00:00Z", "targets": {}},
    });
    let keys = keys(&tuf_body(b64_canonical(&metadata), b64_canonical(&root))).unwrap();
    assert_eq!(
        keys,
        [
            sha256(&canonical(&metadata)),
            "Targets".to_string(),
            "42".to_string(),
            sha256(&canonical(&root)),
        ]
    );
}

#[test]
fn tuf_root_signatures_are_not_reverified_per_section_10() {
    // Same structure, any signature bytes: same keys shape, no error.
    let root = root_doc("2100-01-01T00:00:00Z", "00ff");
    let keys = keys(&tuf_body(b64_canonical(&root), b64_canonical(&root))).unwrap();
    let h = sha256(&canonical(&root));
    assert_eq!(keys, [h.clone(), "root".into(), "3".into(), h]);
}

#[test]
fn tuf_canonical_form_drops_unknown_fields_and_lowercases_sig_hex() {
    let root = root_doc("2100-01-01T00:00:00Z", "00");
    let messy = json!({
        "signatures": [{"keyid": "k1", "sig": "ABCDEF", "method": "dropped"}],
        "signed": {"_type": "timestamp", "version": 7, "expires": "2100-01-01T00:00:00Z",
                   "note": "<&> \u{e9}"},
        "extra": "dropped",
    });
    let clean = json!({
        "signatures": [{"keyid": "k1", "sig": "abcdef"}],
        "signed": {"_type": "timestamp", "version": 7, "expires": "2100-01-01T00:00:00Z",
                   "note": "<&> \u{e9}"},
    });
    // Pretty-printed with ASCII escapes, as a metadata file might be.
    let pretty = serde_json::to_string_pretty(&messy)
        .unwrap()
        .replace('\u{e9}', "\\u00e9")
        .replace('<', "\\u003c");
    let from_text = keys(&tuf_body(
        json!(b64(pretty.as_bytes())),
        b64_canonical(&root),
    ))
    .unwrap();
    assert_eq!(from_text[0], sha256(&canonical(&clean)));
    assert_eq!(&from_text[1..3], ["timestamp", "7"]);
    // Contents stored as JSON objects are re-encoded the way Go does.
    let from_objects = keys(&tuf_body(messy, root.clone())).unwrap();
    assert_eq!(from_objects, from_text);
}

#[test]
fn tuf_metadata_errors_and_root_canonicalization_failure() {
    let root = root_doc("2100-01-01T00:00:00Z", "00");
    let fractional = json!({"signatures": [], "signed": {"_type": "x", "version": 1.5}});
    assert!(keys(&tuf_body(b64_canonical(&fractional), b64_canonical(&root))).is_err());
    let no_signed = json!({"signatures": []});
    assert!(keys(&tuf_body(b64_canonical(&no_signed), b64_canonical(&root))).is_err());
    let bad_hex = json!({"signatures": [{"keyid": "k", "sig": "xyz1"}], "signed": {}});
    assert!(keys(&tuf_body(b64_canonical(&bad_hex), b64_canonical(&root))).is_err());
    // A root Go can decode but the canonicalizer refuses (a repeated name):
    // only the root hash is left out.
    let text = String::from_utf8(canonical(&root)).unwrap();
    let duplicated = text.replacen(
        "\"_type\":\"root\"",
        "\"_type\":\"root\",\"_type\":\"root\"",
        1,
    );
    let metadata = json!({"signatures": [], "signed": {"_type": "snapshot", "version": 2}});
    let keys = keys(&tuf_body(
        b64_canonical(&metadata),
        json!(b64(duplicated.as_bytes())),
    ))
    .unwrap();
    assert_eq!(
        keys,
        [sha256(&canonical(&metadata)), "snapshot".into(), "2".into()]
    );
}

// ------------------------------------------------------------------ cose

fn cose_body(key: &[u8], envelope_hex: &str, payload_hex: &str) -> Value {
    body(
        "cose",
        json!({
            "data": {"envelopeHash": {"algorithm": "sha256", "value": envelope_hex},
                     "payloadHash": {"algorithm": "sha256", "value": payload_hex}},
            "publicKey": b64(key),
        }),
    )
}

/// A tagged COSE_Sign1 with `protected` header bytes and `payload` (the
/// signature is not checked by anything here).
fn sign1(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    fn bstr(out: &mut Vec<u8>, b: &[u8]) {
        match b.len() {
            n if n < 24 => out.push(0x40 | n as u8),
            n if n < 256 => out.extend_from_slice(&[0x58, n as u8]),
            n => {
                out.push(0x59);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(b);
    }
    let mut m = vec![0xd2, 0x84];
    bstr(&mut m, protected);
    m.push(0xa0);
    bstr(&mut m, payload);
    bstr(&mut m, &[0x55; 64]);
    m
}

fn protected_with_content_type(content_type: &str) -> Vec<u8> {
    let mut p = vec![0xa2, 0x01, 0x26, 0x03, 0x78, content_type.len() as u8];
    p.extend_from_slice(content_type.as_bytes());
    p
}

const STATEMENT: &str = r#"{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"a","digest":{"sha512":"BB","sha256":"AA"}}],"predicateType":"x","predicate":{"materials":[{"digest":{"sha1":"cc"}}]}}"#;

#[test]
fn cose_writes_stored_envelope_and_payload_hashes_per_section_10() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    key_and_cert(dir.path(), "cose", "email:Cose.Signer@Example.COM");
    let cert = read(dir.path(), "cose.crt");
    let keys = keys(&cose_body(&cert, &"AA".repeat(32), &"bb".repeat(32))).unwrap();
    // Not Go's constant hash of the empty message: the stored hashes,
    // lowercased, after the key hash and the subjects.
    assert_eq!(
        keys,
        [
            sha256(&cert),
            "Cose.Signer@Example.COM".to_string(),
            format!("sha256:{}", "aa".repeat(32)),
            format!("sha256:{}", "bb".repeat(32)),
        ]
    );
    assert!(!keys.contains(&format!("sha256:{}", sha256(b""))));
}

#[test]
fn cose_attestation_in_toto_subjects_are_recovered_per_section_10() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    key_and_cert(dir.path(), "cose", "email:X@Example.COM");
    let key = read(dir.path(), "cose.pub");
    let message = sign1(
        &protected_with_content_type("application/vnd.in-toto+json"),
        STATEMENT.as_bytes(),
    );
    let stored = cose_body(&key, &sha256(&message), &sha256(STATEMENT.as_bytes()));
    let with = keys_with(&stored, &message).unwrap();
    let without = keys(&stored).unwrap();
    assert_eq!(without.len(), 3);
    assert_eq!(&with[..3], &without[..]);
    // Subject digests, not lowercased, sorted by algorithm; no materials.
    assert_eq!(&with[3..], ["sha256:AA", "sha512:BB"]);

    // Another content type, or none: no subjects.
    for protected in [
        protected_with_content_type("text/plain"),
        vec![0xa1, 0x01, 0x26],
    ] {
        let message = sign1(&protected, STATEMENT.as_bytes());
        let stored = cose_body(&key, &sha256(&message), &sha256(STATEMENT.as_bytes()));
        assert_eq!(keys_with(&stored, &message).unwrap().len(), 3);
    }
    // A payload that is not a statement adds nothing (Go only warns).
    let message = sign1(
        &protected_with_content_type("application/vnd.in-toto+json"),
        b"[1,2]",
    );
    let stored = cose_body(&key, &sha256(&message), &sha256(b"[1,2]"));
    assert_eq!(keys_with(&stored, &message).unwrap().len(), 3);
}

#[test]
fn cose_attestation_that_is_not_the_message_is_an_error() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    key_and_cert(dir.path(), "cose", "email:X@Example.COM");
    let key = read(dir.path(), "cose.pub");
    let message = sign1(&[], b"payload");
    let stored = cose_body(&key, &"00".repeat(32), &sha256(b"payload"));
    assert!(keys_with(&stored, &message)
        .unwrap_err()
        .0
        .contains("not this entry's COSE message"));
    // Matching hash but not a COSE_Sign1 message.
    let stored = cose_body(&key, &sha256(b"junk"), &sha256(b"payload"));
    assert!(keys_with(&stored, b"junk").unwrap_err().0.contains("COSE"));
}

#[test]
fn cose_validation_follows_go() {
    // The envelope hash must be present and hex when there is no message.
    let no_hash = body("cose", json!({"publicKey": b64(b"k"), "data": {}}));
    assert!(keys(&no_hash).is_err());
    let no_key = body("cose", json!({"data": {}}));
    assert!(keys(&no_key).unwrap_err().0.contains("publicKey"));
}

// ------------------------------------------------------------------ robustness

mod robustness {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use rekor_backfill::pki::{cose, jcs, pkcs7};

    use super::*;

    /// The DER of the corpus jar entry's PKCS #7 signature.
    static JAR_DER: LazyLock<Vec<u8>> = LazyLock::new(|| {
        let body: Value = util::corpus_bodies()
            .iter()
            .map(|b| serde_json::from_slice::<Value>(b).unwrap())
            .find(|b| b["kind"] == "jar")
            .unwrap();
        let pem = STANDARD
            .decode(body["spec"]["signature"]["content"].as_str().unwrap())
            .unwrap();
        pkcs7_der(&pem)
    });

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
        /// Whatever relic-style re-encoding accepts, its output is a fixed
        /// point: canonicalizing a canonical signature changes nothing.
        #[test]
        fn pkcs7_reencoding_is_idempotent_on_mutated_signatures(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6)
        ) {
            let der = mutate(JAR_DER.clone(), &edits);
            if let Ok(sig) = pkcs7::Pkcs7Signature::parse(&der) {
                let again = pkcs7::Pkcs7Signature::parse(sig.der()).unwrap();
                prop_assert_eq!(again.der(), sig.der());
            }
            let _ = pkcs7::check_timestamp_response(&der);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = pkcs7::Pkcs7Signature::parse(&bytes);
            let _ = pkcs7::check_timestamp_response(&bytes);
            let _ = cose::parse_sign1(&bytes);
            let mut tagged = vec![0xd2, 0x84];
            tagged.extend_from_slice(&bytes);
            let _ = cose::parse_sign1(&tagged);
            let _ = jcs::transform(&bytes);
            let tuf = tuf_body(json!(b64(&bytes)), json!(b64(&bytes)));
            let _ = keys(&tuf);
        }

        #[test]
        fn canonical_json_is_a_fixed_point(text in "[\\[\\]{}\",:0-9a-z.eE+\\- \\\\u]{0,60}") {
            if let Ok(once) = jcs::transform(text.as_bytes()) {
                prop_assert_eq!(jcs::transform(&once).unwrap(), once);
            }
        }
    }

    #[test]
    fn deeply_nested_tuf_content_is_an_error_not_a_crash() {
        let depth = 9_000;
        let signed = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let metadata =
            format!(r#"{{"signatures":[],"signed":{{"_type":"x","version":1,"deep":{signed}}}}}"#);
        let root = root_doc("2100-01-01T00:00:00Z", "00");
        let result = keys(&tuf_body(
            json!(b64(metadata.as_bytes())),
            b64_canonical(&root),
        ));
        assert!(result.unwrap_err().0.contains("nesting"));
        // The same value stored as a JSON object is re-encoded first.
        let object: Value =
            serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100))).unwrap();
        assert!(keys(&tuf_body(
            json!({"signatures": [], "signed": {"deep": object}}),
            root
        ))
        .is_ok());
    }
}
