//! Edge cases of index-key computation on constructed bodies: Go base64
//! quirks, envelope errors, certificate SAN rendering and OtherName rules
//! (certificates made with the `openssl` CLI), chains, the rekord key
//! formats, and in-toto digests recovered from an attestation.

use std::path::Path;
use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rekor_backfill::entry::{index_keys, keys_for_line, KeyError};
use serde_json::{json, Value};

use crate::util::{self, b64, openssl, sha256};

fn keys(body: &Value) -> Result<Vec<String>, KeyError> {
    index_keys(body.to_string().as_bytes(), None)
}

/// The first corpus body of a kind whose `publicKey.content` (hashedrekord)
/// satisfies `pick`.
fn corpus_body(kind: &str, pick: impl Fn(&Value) -> bool) -> Value {
    util::corpus_bodies()
        .iter()
        .map(|body| serde_json::from_slice::<Value>(body).unwrap())
        .find(|b| b["kind"] == kind && pick(b))
        .unwrap()
}

fn hashedrekord_with_padded_key() -> Value {
    corpus_body("hashedrekord", |b| {
        b["spec"]["signature"]["publicKey"]["content"]
            .as_str()
            .unwrap()
            .ends_with("==")
    })
}

#[test]
fn base64_cr_lf_and_trailing_bits_are_accepted_like_go() {
    let body = hashedrekord_with_padded_key();
    let expected = keys(&body).unwrap();
    let content = body["spec"]["signature"]["publicKey"]["content"]
        .as_str()
        .unwrap()
        .to_string();

    let mut with_newlines = body.clone();
    let wrapped: String = content
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    with_newlines["spec"]["signature"]["publicKey"]["content"] = json!(wrapped);
    assert_eq!(keys(&with_newlines).unwrap(), expected);

    // "xx==": the second character's low four bits are unused; set them.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let i = content.len() - 3;
    let value = alphabet
        .iter()
        .position(|&c| c == content.as_bytes()[i])
        .unwrap();
    let mut tweaked = content.clone().into_bytes();
    tweaked[i] = alphabet[value | 0x0f];
    assert_ne!(tweaked, content.as_bytes());
    let mut with_bits = body.clone();
    with_bits["spec"]["signature"]["publicKey"]["content"] =
        json!(String::from_utf8(tweaked).unwrap());
    assert_eq!(keys(&with_bits).unwrap(), expected);
}

#[test]
fn base64_missing_padding_and_url_safe_alphabet_are_errors() {
    let body = hashedrekord_with_padded_key();
    let content = body["spec"]["signature"]["publicKey"]["content"]
        .as_str()
        .unwrap();
    let mut unpadded = body.clone();
    unpadded["spec"]["signature"]["publicKey"]["content"] = json!(content.trim_end_matches('='));
    assert!(keys(&unpadded).unwrap_err().0.contains("base64"));
    let mut url_safe = body.clone();
    // `-` and `_` belong to the URL-safe alphabet only.
    url_safe["spec"]["signature"]["publicKey"]["content"] = json!(format!("-_{}", &content[2..]));
    assert!(keys(&url_safe).unwrap_err().0.contains("base64"));
}

#[test]
fn envelope_errors() {
    let body = hashedrekord_with_padded_key();
    let mut unknown_kind = body.clone();
    unknown_kind["kind"] = json!("hashedrekords");
    assert_eq!(
        keys(&unknown_kind).unwrap_err().0,
        "invalid kind value: \"hashedrekords\""
    );
    let mut unknown_version = body.clone();
    unknown_version["apiVersion"] = json!("0.0.9");
    assert!(keys(&unknown_version)
        .unwrap_err()
        .0
        .contains("version '0.0.9' not found"));
    let text = body.to_string();
    assert!(index_keys(&text.as_bytes()[..text.len() - 2], None).is_err());
    // Bytes after the first JSON value are not read (Go json.Decoder).
    let trailing = format!("{text} trailing");
    assert_eq!(
        index_keys(trailing.as_bytes(), None).unwrap(),
        keys(&body).unwrap()
    );
    // A known kind whose spec Go's validation rejects.
    let jar = json!({"apiVersion": "0.0.1", "kind": "jar", "spec": {}});
    assert_eq!(keys(&jar).unwrap_err().0, "archive in body is required");
}

#[test]
fn data_hash_key_is_lowercased() {
    let mut body = hashedrekord_with_padded_key();
    let value = body["spec"]["data"]["hash"]["value"]
        .as_str()
        .unwrap()
        .to_uppercase();
    body["spec"]["data"]["hash"]["value"] = json!(value);
    let k = keys(&body).unwrap();
    assert_eq!(
        k.last().unwrap(),
        &format!("sha256:{}", value.to_lowercase())
    );
}

// ---------------------------------------------------------------------------
// Certificates made with openssl, carried in dsse bodies (the stored dsse
// path has no signature verification, so any certificate can be used).

/// A self-signed P-256 certificate with the given subjectAltName (and
/// extra `-addext` values / serial), as PEM.
fn cert(dir: &Path, name: &str, san: &str, extra: &[&str], serial: Option<&str>) -> Vec<u8> {
    let key = format!("{name}.key");
    let pem = format!("{name}.pem");
    let subject = format!("/CN={name}");
    let san = format!("subjectAltName={san}");
    let mut args = vec![
        "req",
        "-x509",
        "-nodes",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-keyout",
        &key,
        "-out",
        &pem,
        "-subj",
        &subject,
        "-days",
        "1",
        "-addext",
        &san,
    ];
    for e in extra {
        args.extend(["-addext", e]);
    }
    if let Some(s) = serial {
        args.extend(["-set_serial", s]);
    }
    openssl(dir, &args);
    std::fs::read(dir.join(pem)).unwrap()
}

fn dsse_body(verifiers: &[&[u8]]) -> Value {
    let signatures: Vec<Value> = verifiers
        .iter()
        .map(|v| json!({"signature": "MEUCIQ==", "verifier": b64(v)}))
        .collect();
    json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
        "envelopeHash": {"algorithm": "sha256", "value": "aa".repeat(32)},
        "payloadHash": {"algorithm": "sha256", "value": "bb".repeat(32)},
        "signatures": signatures,
    }})
}

/// The subjects a dsse body with one verifier yields (its keys minus the key
/// hash and the two hash keys).
fn subjects_of(verifier: &[u8]) -> Result<Vec<String>, KeyError> {
    let k = keys(&dsse_body(&[verifier]))?;
    assert_eq!(
        k[0],
        format!("sha256:{}", sha256(verifier)),
        "openssl PEM is already canonical"
    );
    Ok(k[1..k.len() - 2].to_vec())
}

#[test]
fn san_kinds_are_ordered_rendered_by_go_rules_and_never_lowercased() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let pem = cert(
        dir.path(),
        "mixed",
        "URI:HTTPS://github.com/MyOrg/Repo/.github/workflows/x.yml@refs/heads/Main,\
         otherName:1.3.6.1.4.1.57264.1.7;UTF8:SomeUser,IP:2001:DB8:0:0:1:0:0:1,\
         email:Mixed.Case@Example.COM,DNS:Host.Example.COM,IP:10.0.0.1,URI:https://h/a{b}",
        &[],
        None,
    );
    assert_eq!(
        subjects_of(&pem).unwrap(),
        [
            "Host.Example.COM",
            "Mixed.Case@Example.COM",
            "2001:db8::1:0:0:1",
            "10.0.0.1",
            // url.Parse lowercases the scheme only; `{` `}` are re-escaped.
            "https://github.com/MyOrg/Repo/.github/workflows/x.yml@refs/heads/Main",
            "https://h/a%7Bb%7D",
            "SomeUser",
        ]
    );
}

#[test]
fn other_name_is_all_or_nothing() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let fulcio = "otherName:1.3.6.1.4.1.57264.1.7;UTF8:user";
    let single = cert(
        dir.path(),
        "one",
        &format!("email:a@b.c,{fulcio}"),
        &[],
        None,
    );
    assert_eq!(subjects_of(&single).unwrap(), ["a@b.c", "user"]);
    let twice = cert(dir.path(), "two", &format!("{fulcio},{fulcio}"), &[], None);
    assert!(subjects_of(&twice).unwrap().is_empty());
    let foreign = cert(
        dir.path(),
        "foreign",
        &format!("{fulcio},otherName:1.2.3.4;UTF8:x"),
        &[],
        None,
    );
    assert!(subjects_of(&foreign).unwrap().is_empty());
    let octets = cert(
        dir.path(),
        "octets",
        "otherName:1.3.6.1.4.1.57264.1.7;OCTETSTRING:x",
        &[],
        None,
    );
    assert!(subjects_of(&octets).unwrap().is_empty());
}

#[test]
fn chains_take_subjects_from_the_first_certificate_and_hash_all_of_them() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let leaf = cert(dir.path(), "leaf", "email:leaf@example.com", &[], None);
    let ca = cert(
        dir.path(),
        "ca",
        "email:ca@example.com",
        &["basicConstraints=critical,CA:TRUE"],
        None,
    );
    let chain = [leaf.clone(), ca.clone()].concat();
    let k = keys(&dsse_body(&[&chain])).unwrap();
    assert_eq!(k[0], format!("sha256:{}", sha256(&chain)));
    assert_eq!(k[1], "leaf@example.com");
    assert_eq!(k.len(), 4);
    // Junk between blocks is skipped, junk after the last one is an error,
    // and more than 10 certificates are refused.
    let with_junk = [leaf.as_slice(), b"junk\n", ca.as_slice()].concat();
    assert_eq!(keys(&dsse_body(&[&with_junk])).unwrap()[0], k[0]);
    assert!(keys(&dsse_body(&[&[chain.as_slice(), b"junk"].concat()])).is_err());
    assert!(keys(&dsse_body(&[&leaf.repeat(10)])).is_ok());
    assert!(keys(&dsse_body(&[&leaf.repeat(11)]))
        .unwrap_err()
        .0
        .contains("too many certificates"));
}

#[test]
fn certificates_go_rejects_are_errors() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let negative = cert(dir.path(), "neg", "email:n@x.com", &[], Some("-5"));
    assert!(subjects_of(&negative)
        .unwrap_err()
        .0
        .contains("negative serial"));
    let bad_uri = cert(dir.path(), "uri", "URI:https://h./x", &[], None);
    assert!(subjects_of(&bad_uri)
        .unwrap_err()
        .0
        .contains("invalid domain"));
    let non_ascii = cert(dir.path(), "mail", "email:Λ@x", &[], None);
    assert!(subjects_of(&non_ascii).is_err());
    // Trailing bytes after the certificate DER.
    let text = String::from_utf8(cert(dir.path(), "t", "email:t@x.com", &[], None)).unwrap();
    let der_b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut der = STANDARD.decode(der_b64).unwrap();
    der.push(0);
    let trailing = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        b64(&der)
    );
    assert!(subjects_of(trailing.as_bytes())
        .unwrap_err()
        .0
        .contains("trailing data"));
}

#[test]
fn bare_keys_have_no_subjects_and_dsa_cannot_be_canonicalised() {
    util::require_openssl();
    let dir = tempfile::tempdir().unwrap();
    openssl(
        dir.path(),
        &["genpkey", "-algorithm", "ed25519", "-out", "ed.key"],
    );
    openssl(
        dir.path(),
        &["pkey", "-in", "ed.key", "-pubout", "-out", "ed.pub"],
    );
    let ed = std::fs::read(dir.path().join("ed.pub")).unwrap();
    assert!(subjects_of(&ed).unwrap().is_empty());
    // openssl writes the same SPKI DER and PEM layout as Go, so these keys
    // are canonical as written (subjects_of checks the key hash).
    openssl(
        dir.path(),
        &[
            "ecparam",
            "-name",
            "secp384r1",
            "-genkey",
            "-noout",
            "-out",
            "ec.key",
        ],
    );
    openssl(
        dir.path(),
        &["ec", "-in", "ec.key", "-pubout", "-out", "ec.pub"],
    );
    assert!(
        subjects_of(&std::fs::read(dir.path().join("ec.pub")).unwrap())
            .unwrap()
            .is_empty()
    );
    openssl(dir.path(), &["genrsa", "-out", "rsa.key", "2048"]);
    openssl(
        dir.path(),
        &["rsa", "-in", "rsa.key", "-pubout", "-out", "rsa.spki"],
    );
    assert!(
        subjects_of(&std::fs::read(dir.path().join("rsa.spki")).unwrap())
            .unwrap()
            .is_empty()
    );

    openssl(dir.path(), &["dsaparam", "-out", "dsa.param", "1024"]);
    openssl(dir.path(), &["gendsa", "-out", "dsa.key", "dsa.param"]);
    openssl(
        dir.path(),
        &["dsa", "-in", "dsa.key", "-pubout", "-out", "dsa.pub"],
    );
    let dsa = std::fs::read(dir.path().join("dsa.pub")).unwrap();
    // dsse: a canonicalisation failure is an error…
    assert!(keys(&dsse_body(&[&dsa])).unwrap_err().0.contains("dsa"));
    // …rekord silently drops only the key hash.
    let rekord = json!({"apiVersion": "0.0.1", "kind": "rekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": "cc".repeat(32)}},
        "signature": {"content": "AAAA", "format": "x509", "publicKey": {"content": b64(&dsa)}},
    }});
    assert_eq!(
        keys(&rekord).unwrap(),
        [format!("sha256:{}", "cc".repeat(32))]
    );

    openssl(
        dir.path(),
        &[
            "rsa",
            "-in",
            "rsa.key",
            "-RSAPublicKey_out",
            "-out",
            "rsa.pub",
        ],
    );
    let pkcs1 = std::fs::read(dir.path().join("rsa.pub")).unwrap();
    assert!(keys(&dsse_body(&[&pkcs1]))
        .unwrap_err()
        .0
        .contains("RSA PUBLIC KEY"));
}

// ---------------------------------------------------------------------------
// rekord key formats.

fn rekord(format: &str, key: &[u8]) -> Value {
    json!({"apiVersion": "0.0.1", "kind": "rekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": "dd".repeat(32)}},
        "signature": {"content": "AAAA", "format": format, "publicKey": {"content": b64(key)}},
    }})
}

#[test]
fn rekord_minisign_spec_vector_in_all_stored_forms() {
    // docs/INDEX_KEYS.md §8: canonical line and its key hash.
    let line = "RWQ/VK4mEZOSnVFf2NhEt9WV8zE1RcN8mtKeOO7mVjj/MCDvb5tSV6RD";
    let expected = [
        "0f60040dac41a2a79009d34a53feb0dd03388259a618d731b033e4bc0b09aacf".to_string(),
        format!("sha256:{}", "dd".repeat(32)),
    ];
    let file = format!("untrusted comment: minisign public key\n{line}\n");
    assert_eq!(
        keys(&rekord("minisign", file.as_bytes())).unwrap(),
        expected
    );
    assert_eq!(
        keys(&rekord("minisign", line.as_bytes())).unwrap(),
        expected
    );
    // The legacy 32-byte form gets a zero key id, so a different hash.
    let raw = &STANDARD.decode(line).unwrap()[10..];
    let legacy = keys(&rekord("minisign", raw)).unwrap();
    let canon = b64(&[b"Ed".as_slice(), &[0; 8], raw].concat());
    assert_eq!(legacy[0], sha256(canon.as_bytes()));
}

#[test]
fn rekord_ssh_keys_drop_the_comment() {
    util::require_tool("ssh-keygen", &["-?"], "openssh-client");
    let dir = tempfile::tempdir().unwrap();
    for kind in ["ed25519", "rsa", "ecdsa"] {
        let path = dir.path().join(kind);
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", kind, "-N", "", "-C", "me@example.com", "-f"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
        let mut fields = public.split_whitespace();
        let canonical = format!("{} {}\n", fields.next().unwrap(), fields.next().unwrap());
        let k = keys(&rekord("ssh", public.as_bytes())).unwrap();
        // The comment is an e-mail address, so Go lists it as a subject.
        assert_eq!(
            k,
            [
                sha256(canonical.as_bytes()),
                "me@example.com".into(),
                format!("sha256:{}", "dd".repeat(32))
            ]
        );
        let with_options = format!("# keys\nno-pty,command=\"a b\" {public}");
        assert_eq!(keys(&rekord("ssh", with_options.as_bytes())).unwrap(), k);
    }
}

// ---------------------------------------------------------------------------
// In-toto digests recovered from the attestation (docs/INDEX_KEYS.md §10).

const STATEMENT: &str = r#"{"_type":"https://in-toto.io/Statement/v0.1",
  "predicateType":"https://slsa.dev/provenance/v0.2",
  "subject":[{"name":"a","digest":{"sha512":"BB","sha256":"AA"}}],
  "predicate":{"builder":{"id":"b"},"buildType":"t",
    "materials":[{"uri":"git+https://x","digest":{"sha1":"DeadBeef"}}]}}"#;
const STATEMENT_KEYS: [&str; 3] = ["sha256:AA", "sha512:BB", "sha1:DeadBeef"];

fn corpus_intoto_v2() -> Value {
    corpus_body("intoto", |b| {
        let envelope = &b["spec"]["content"]["envelope"];
        b["apiVersion"] == "0.0.2"
            && envelope.get("payload").is_none()
            && envelope["payloadType"] == "application/vnd.in-toto+json"
    })
}

#[test]
fn attestation_digests_are_appended_for_in_toto_payloads() {
    let body = corpus_intoto_v2();
    let text = body.to_string();
    let base = index_keys(text.as_bytes(), None).unwrap();
    let with = index_keys(text.as_bytes(), Some(STATEMENT.as_bytes())).unwrap();
    assert_eq!(with[..base.len()], base[..]);
    assert_eq!(with[base.len()..], STATEMENT_KEYS);

    // Another payload type: the server extracted nothing.
    let mut other = body.clone();
    other["spec"]["content"]["envelope"]["payloadType"] = json!("text/plain");
    let other_base = keys(&other).unwrap();
    assert_eq!(
        index_keys(other.to_string().as_bytes(), Some(STATEMENT.as_bytes())).unwrap(),
        other_base
    );

    // 0.0.2: a statement that does not decode made the server's IndexKeys
    // fail, so it wrote no key at all for the entry.
    assert!(index_keys(text.as_bytes(), Some(b"not json")).is_err());

    // The same through the `keys` command line format.
    let line =
        json!({"body": b64(text.as_bytes()), "attestation": b64(STATEMENT.as_bytes())}).to_string();
    let out: Value = serde_json::from_str(&keys_for_line(&line)).unwrap();
    assert_eq!(out["keys"], json!(with));
}

#[test]
fn attestation_digests_for_intoto_v001_and_dsse() {
    for kind in ["intoto", "dsse"] {
        let body = corpus_body(kind, |b| b["apiVersion"] == "0.0.1");
        let text = body.to_string();
        let base = index_keys(text.as_bytes(), None).unwrap();
        let with = index_keys(text.as_bytes(), Some(STATEMENT.as_bytes())).unwrap();
        assert_eq!(with[base.len()..], STATEMENT_KEYS, "{kind}");
        // An undecodable statement adds nothing (0.0.1 and dsse log and go on).
        assert_eq!(
            index_keys(text.as_bytes(), Some(b"[1]")).unwrap(),
            base,
            "{kind}"
        );
    }
}
