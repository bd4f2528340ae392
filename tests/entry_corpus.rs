//! Index keys of every corpus entry of the kinds implemented so far
//! (hashedrekord, rekord x509/ssh/pgp, intoto 0.0.1/0.0.2, dsse, jar), checked
//! against properties computed independently here: the body is read with
//! `serde_json` and the strict `base64` engine, hashes with `sha2`, SANs with
//! `x509-parser` (and, for a sample, with the `openssl` CLI), PGP user IDs
//! with `gpg --list-packets`, in-toto digests straight from the statement
//! JSON.

use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rekor_backfill::entry::index_keys;
use serde_json::Value;
use x509_parser::extensions::{GeneralName, ParsedExtension};

use crate::util::{self, sha256};

const FULCIO_USERNAME_OID: &str = "1.3.6.1.4.1.57264.1.7";

struct Entry {
    line: usize,
    body: Vec<u8>,
    json: Value,
}

fn corpus() -> Vec<Entry> {
    util::corpus_bodies()
        .iter()
        .enumerate()
        .map(|(i, body)| Entry {
            line: i + 1,
            body: body.clone(),
            json: serde_json::from_slice(body).unwrap(),
        })
        .collect()
}

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

/// The stored PEM re-encoded the way Go writes PEM (64-character lines,
/// every line newline-terminated): the canonical value of a certificate, and
/// of a bare key whose DER is already Go's.
fn canonical_pem(stored: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(stored) {
        let pem = pem.unwrap();
        out.push_str(&format!("-----BEGIN {}-----\n", pem.label));
        for line in STANDARD.encode(&pem.contents).as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap());
            out.push('\n');
        }
        out.push_str(&format!("-----END {}-----\n", pem.label));
    }
    out.into_bytes()
}

fn hash_key(h: &Value) -> String {
    format!(
        "{}:{}",
        h["algorithm"].as_str().unwrap(),
        h["value"].as_str().unwrap()
    )
    .to_lowercase()
}

/// SANs of the first certificate in a PEM text, in Sigstore's order, read
/// with x509-parser. Empty for a bare public key.
fn independent_subjects(pem_text: &[u8]) -> Vec<String> {
    let Some(pem) = x509_parser::pem::Pem::iter_from_buffer(pem_text).next() else {
        return Vec::new();
    };
    let pem = pem.unwrap();
    if pem.label != "CERTIFICATE" {
        return Vec::new();
    }
    let cert = pem.parse_x509().unwrap();
    let (mut dns, mut email, mut ip, mut uri, mut other) = (vec![], vec![], vec![], vec![], vec![]);
    for ext in cert.extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
            for name in &san.general_names {
                match name {
                    GeneralName::DNSName(s) => dns.push(s.to_string()),
                    GeneralName::RFC822Name(s) => email.push(s.to_string()),
                    GeneralName::URI(s) => uri.push(s.to_string()),
                    GeneralName::IPAddress(b) => ip.push(match b.len() {
                        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
                        _ => {
                            std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).unwrap()).to_string()
                        }
                    }),
                    GeneralName::OtherName(oid, value)
                        if oid.to_id_string() == FULCIO_USERNAME_OID =>
                    {
                        // [0] EXPLICIT UTF8String
                        let (_, inner) = x509_parser::der_parser::parse_der(value).unwrap();
                        let (_, s) =
                            x509_parser::der_parser::parse_der(inner.as_slice().unwrap()).unwrap();
                        other.push(s.as_str().unwrap().to_string());
                    }
                    _ => {}
                }
            }
        }
    }
    [dns, email, ip, uri, other].concat()
}

#[derive(Default)]
struct Tally {
    checked: usize,
    with_subjects: usize,
    pgp: usize,
}

/// The e-mails (`<…>` parts) of the user IDs `gpg --list-packets` finds in
/// an armored key, cached per key.
fn gpg_emails(
    armored: &[u8],
    cache: &mut std::collections::HashMap<Vec<u8>, Vec<String>>,
) -> Vec<String> {
    if let Some(found) = cache.get(armored) {
        return found.clone();
    }
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new("gpg")
        .args(["--batch", "--list-packets"])
        .env("GNUPGHOME", home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("gpg is needed for the PGP corpus checks (apt-get install gpg)");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), armored).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let emails: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix(":user ID packet: \""))
        .filter_map(|uid| Some(uid[uid.find('<')? + 1..uid.find('>')?].to_string()))
        .collect();
    assert!(!emails.is_empty(), "gpg found no user ID e-mail in {text}");
    cache.insert(armored.to_vec(), emails.clone());
    emails
}

#[test]
fn every_implemented_corpus_entry_has_the_expected_keys() {
    let mut tally = Tally::default();
    let mut gpg_cache = std::collections::HashMap::new();
    for e in corpus() {
        let kind = e.json["kind"].as_str().unwrap();
        let version = e.json["apiVersion"].as_str().unwrap();
        let spec = &e.json["spec"];
        let result = index_keys(&e.body, None);
        let ctx = format!("corpus line {} ({kind} {version})", e.line);
        match (kind, version) {
            ("hashedrekord", _) => {
                let keys = result.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                let pk = b64(&spec["signature"]["publicKey"]["content"]);
                let subjects = independent_subjects(&pk);
                let mut expected = vec![sha256(&pk)];
                expected.extend(subjects.iter().cloned());
                expected.push(hash_key(&spec["data"]["hash"]));
                assert_eq!(keys, expected, "{ctx}");
                tally.with_subjects += usize::from(!subjects.is_empty());
            }
            ("rekord", _) => {
                let format = spec["signature"]["format"].as_str().unwrap();
                if format == "pgp" {
                    // A stored key is go-crypto's own serialisation, so its
                    // canonical value is the stored bytes again.
                    let keys = result.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                    let pk = b64(&spec["signature"]["publicKey"]["content"]);
                    let mut expected = vec![sha256(&pk)];
                    expected.extend(gpg_emails(&pk, &mut gpg_cache));
                    expected.push(hash_key(&spec["data"]["hash"]));
                    assert_eq!(keys, expected, "{ctx}");
                    tally.pgp += 1;
                    continue;
                }
                let keys = result.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                let pk = b64(&spec["signature"]["publicKey"]["content"]);
                let mut expected = vec![if format == "x509" {
                    sha256(&canonical_pem(&pk))
                } else {
                    sha256(&pk)
                }];
                if format == "x509" {
                    expected.extend(independent_subjects(&pk));
                }
                expected.push(hash_key(&spec["data"]["hash"]));
                assert_eq!(keys, expected, "{ctx}");
            }
            ("intoto", "0.0.1") => {
                let keys = result.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                let pk = b64(&spec["publicKey"]);
                let mut expected = vec![
                    hash_key(&spec["content"]["hash"]),
                    format!("sha256:{}", sha256(&canonical_pem(&pk))),
                ];
                expected.extend(independent_subjects(&pk));
                if !spec["content"]["payloadHash"].is_null() {
                    expected.push(hash_key(&spec["content"]["payloadHash"]));
                }
                assert_eq!(keys, expected, "{ctx}");
            }
            ("intoto", "0.0.2") => {
                let envelope = &spec["content"]["envelope"];
                let mut expected = Vec::new();
                for sig in envelope["signatures"].as_array().unwrap() {
                    let pk = b64(&sig["publicKey"]);
                    expected.push(format!("sha256:{}", sha256(&canonical_pem(&pk))));
                    expected.extend(independent_subjects(&pk));
                }
                match envelope.get("payload") {
                    None => expected.push(hash_key(&spec["content"]["payloadHash"])),
                    Some(payload) => {
                        // Early servers stored the (double-base64) payload;
                        // Go then re-derives the payload hash and reads the
                        // statement from it.
                        let once = b64(payload);
                        let Ok(statement) = STANDARD.decode(&once) else {
                            panic!("{ctx}: payload not double base64");
                        };
                        let sig_texts_decode =
                            envelope["signatures"].as_array().unwrap().iter().all(|s| {
                                let text = b64(&s["sig"]);
                                STANDARD.decode(&text).is_ok()
                            });
                        if !sig_texts_decode {
                            // The DSSE verifier cannot decode the signature
                            // text: Go rejects the entry before any key.
                            assert!(result.is_err(), "{ctx}");
                            continue;
                        }
                        expected.push(format!("sha256:{}", sha256(&statement)));
                        expected.extend(statement_digests(
                            &serde_json::from_slice(&statement).unwrap(),
                        ));
                    }
                }
                let keys = result.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                assert_eq!(keys, expected, "{ctx}");
            }
            ("dsse", _) => {
                let keys = result.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                let mut expected = Vec::new();
                for sig in spec["signatures"].as_array().unwrap() {
                    let verifier = b64(&sig["verifier"]);
                    expected.push(format!("sha256:{}", sha256(&canonical_pem(&verifier))));
                    expected.extend(independent_subjects(&verifier));
                }
                expected.push(hash_key(&spec["payloadHash"]));
                expected.push(hash_key(&spec["envelopeHash"]));
                assert_eq!(keys, expected, "{ctx}");
            }
            ("jar", _) => {
                // The stored signature is already Go's canonical PEM, so
                // canonicalising it again must give the same bytes.
                let keys = result.unwrap_or_else(|err| panic!("{ctx}: {err}"));
                let stored = b64(&spec["signature"]["content"]);
                let expected = vec![sha256(&stored), hash_key(&spec["archive"]["hash"])];
                assert_eq!(keys, expected, "{ctx}");
            }
            _ => {
                let err = result.unwrap_err().0;
                assert!(err.contains("not implemented yet"), "{ctx}: {err}");
                continue;
            }
        }
        tally.checked += 1;
    }
    // The corpus README counts: 75 hashedrekord, 49 rekord x509/ssh, 123
    // rekord pgp, 14 + 134 intoto, 63 dsse (one intoto 0.0.2 entry is a Go
    // parse error), 1 jar.
    assert_eq!(tally.checked, 75 + 49 + 14 + 133 + 63 + 1);
    assert_eq!(tally.pgp, 123);
    assert!(
        tally.with_subjects >= 60,
        "certificate-based hashedrekord entries with SANs"
    );
}

/// Subject digests of an in-toto statement (each digest map sorted by
/// algorithm), then SLSA v0.2 material digests.
fn statement_digests(statement: &Value) -> Vec<String> {
    let digests = |items: &Value| -> Vec<String> {
        let mut out = Vec::new();
        for item in items.as_array().into_iter().flatten() {
            let mut pairs: Vec<(String, String)> = item["digest"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            pairs.sort();
            out.extend(pairs.into_iter().map(|(k, v)| format!("{k}:{v}")));
        }
        out
    };
    let mut keys = digests(&statement["subject"]);
    keys.extend(digests(&statement["predicate"]["materials"]));
    keys
}

#[test]
fn certificate_subjects_match_openssl_for_a_sample() {
    util::require_openssl();
    let mut compared = 0;
    for e in corpus() {
        if e.json["kind"] != "hashedrekord" || compared >= 8 {
            continue;
        }
        let pk = b64(&e.json["spec"]["signature"]["publicKey"]["content"]);
        if !pk.starts_with(b"-----BEGIN CERTIFICATE") {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        std::fs::write(&path, &pk).unwrap();
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let mut from_openssl: Vec<String> = text
            .lines()
            .skip(1)
            .flat_map(|l| l.trim().split(", ").map(str::to_string).collect::<Vec<_>>())
            .filter_map(|item| {
                let (kind, value) = item.split_once(':')?;
                match kind {
                    "email" | "URI" | "DNS" => Some(value.to_string()),
                    "IP Address" => Some(value.to_lowercase()),
                    // "othername: 1.3.6.1.4.1.57264.1.7::value" (format varies by version)
                    "othername" => value.rsplit("::").next().map(str::to_string),
                    _ => None,
                }
            })
            .collect();
        let keys = index_keys(&e.body, None).unwrap();
        let mut ours: Vec<String> = keys[1..keys.len() - 1].to_vec();
        ours.sort();
        from_openssl.sort();
        assert_eq!(ours, from_openssl, "corpus line {}", e.line);
        compared += 1;
    }
    assert_eq!(compared, 8);
}

/// When the Go key oracle's output for the corpus is available (one line per
/// corpus line, `{"keys":[…]}` or `{"error":…}`), every entry of an
/// implemented kind must match it exactly. Set `KEY_ORACLE_CORPUS_KEYS` to
/// that file to run this check.
#[test]
fn matches_go_oracle_output_when_available() {
    let Ok(path) = std::env::var("KEY_ORACLE_CORPUS_KEYS") else {
        eprintln!("KEY_ORACLE_CORPUS_KEYS not set: skipping the Go oracle comparison");
        return;
    };
    let oracle = std::fs::read_to_string(path).unwrap();
    let mut compared = 0;
    for (e, go) in corpus().iter().zip(oracle.lines()) {
        let kind = e.json["kind"].as_str().unwrap();
        if !matches!(kind, "hashedrekord" | "rekord" | "intoto" | "dsse") {
            continue;
        }
        let go: Value = serde_json::from_str(go).unwrap();
        match index_keys(&e.body, None) {
            Ok(keys) => assert_eq!(
                go["keys"],
                serde_json::json!(keys),
                "corpus line {}",
                e.line
            ),
            Err(err) => assert!(
                go.get("error").is_some(),
                "corpus line {}: we fail ({err}), Go does not",
                e.line
            ),
        }
        compared += 1;
    }
    assert_eq!(compared, 335);
}
