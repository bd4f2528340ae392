//! OpenPGP keys made by `gpg` in the test, through `rekord`, `rpm` and
//! `helm` bodies. Expectations are computed independently here: GnuPG 2.2
//! exports packets with old-format headers, so the canonical packet stream
//! must be gpg's export with each header rewritten in the new format (bodies
//! untouched); the armor is checked line by line with its own CRC-24; user
//! IDs are read with `gpg --list-packets`. When the Go key oracle has been
//! built (`harness/key-oracle/build.sh`, or `KEY_ORACLE=path`), the keys are
//! also compared with Rekor's own Go code.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::sha256;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rekor_backfill::entry::index_keys;
use rekor_backfill::pki::pgp::PgpKey;
use rekor_backfill::pki::PublicKey;
use serde_json::{json, Value};

/// A throw-away GnuPG home.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        let found = Command::new("gpg").arg("--version").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "these tests need GnuPG: install it with `apt-get install gpg` (or `make deps`)"
        );
        Gpg {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
        let mut child = Command::new("gpg")
            .args([
                "--batch",
                "--yes",
                "--no-tty",
                "--pinentry-mode",
                "loopback",
            ])
            .args(["--passphrase", ""])
            .args(args)
            .env("GNUPGHOME", self.home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(data) = stdin {
            std::io::Write::write_all(&mut input, data).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A new key with a signing primary of `algo`; returns its fingerprint.
    fn key(&self, uid: &str, algo: &str) -> String {
        self.run(&["--quick-gen-key", uid, algo, "sign", "0"], None);
        let listing = self.run(&["--with-colons", "--list-keys", uid], None);
        String::from_utf8(listing)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("fpr:::::::::"))
            .map(|f| f.trim_end_matches(':').to_string())
            .unwrap()
    }

    fn export(&self, fpr: &str, armor: bool) -> Vec<u8> {
        if armor {
            self.run(&["--armor", "--export", fpr], None)
        } else {
            self.run(&["--export", fpr], None)
        }
    }

    fn sign(&self, fpr: &str, data: &[u8]) -> Vec<u8> {
        let fpr = format!("{fpr}!");
        self.run(&["-u", &fpr, "--armor", "--detach-sign"], Some(data))
    }

    /// The user IDs gpg sees in a key, in packet order.
    fn user_ids(&self, key: &[u8]) -> Vec<String> {
        let text = String::from_utf8(self.run(&["--list-packets"], Some(key))).unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix(":user ID packet: \""))
            .map(|l| l.trim_end_matches('"').to_string())
            .collect()
    }
}

/// Packets of a binary stream, each as (tag, body), from either header form.
fn packets(mut data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(&b) = data.first() {
        assert!(b & 0x80 != 0, "not a packet header");
        let (tag, header, len) = if b & 0x40 == 0 {
            let n = 1usize << (b & 3);
            let len = data[1..=n]
                .iter()
                .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
            ((b & 0x3f) >> 2, 1 + n, len)
        } else {
            match data[1] {
                l @ 0..=191 => (b & 0x3f, 2, usize::from(l)),
                l @ 192..=223 => (
                    b & 0x3f,
                    3,
                    ((usize::from(l) - 192) << 8) + usize::from(data[2]) + 192,
                ),
                _ => (
                    b & 0x3f,
                    6,
                    u32::from_be_bytes(data[2..6].try_into().unwrap()) as usize,
                ),
            }
        };
        out.push((tag, data[header..header + len].to_vec()));
        data = &data[header + len..];
    }
    out
}

/// The same packets with new-format headers and shortest lengths.
fn new_format(packets: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (tag, body) in packets {
        out.push(0xc0 | tag);
        let n = body.len();
        if n < 192 {
            out.push(n as u8);
        } else if n < 8384 {
            out.push((((n - 192) >> 8) + 192) as u8);
            out.push((n - 192) as u8);
        } else {
            out.push(0xff);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        out.extend_from_slice(body);
    }
    out
}

fn crc24(data: &[u8]) -> u32 {
    let mut crc = 0xb7_04ce_u32;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x100_0000 != 0 {
                crc ^= 0x186_4cfb;
            }
        }
    }
    crc & 0xff_ffff
}

/// Checks the armor layout and returns the binary packets inside.
fn unarmor(canonical: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(canonical).unwrap();
    assert!(!text.ends_with('\n'), "no newline after the END line");
    let lines: Vec<&str> = text.split('\n').collect();
    let n = lines.len();
    assert_eq!(lines[0], "-----BEGIN PGP PUBLIC KEY BLOCK-----");
    assert_eq!(lines[1], "", "no armor headers, then a blank line");
    assert_eq!(lines[n - 1], "-----END PGP PUBLIC KEY BLOCK-----");
    let body = &lines[2..n - 2];
    assert!(body[..body.len() - 1].iter().all(|l| l.len() == 64));
    assert!(!body.last().unwrap().is_empty() && body.last().unwrap().len() <= 64);
    let binary = STANDARD.decode(body.concat()).unwrap();
    let crc = crc24(&binary).to_be_bytes();
    assert_eq!(lines[n - 2], format!("={}", STANDARD.encode(&crc[1..])));
    binary
}

fn body_line(body: &Value) -> String {
    json!({ "body": STANDARD.encode(body.to_string()) }).to_string()
}

fn rekord(key: &[u8], sig: &[u8], data: &[u8]) -> Value {
    json!({"apiVersion":"0.0.1","kind":"rekord","spec":{
        "data":{"hash":{"algorithm":"sha256","value":sha256(data)}},
        "signature":{"content":STANDARD.encode(sig),"format":"pgp",
            "publicKey":{"content":STANDARD.encode(key)}}}})
}

fn keys_of(body: &Value) -> Vec<String> {
    index_keys(body.to_string().as_bytes(), None).unwrap_or_else(|e| panic!("{e}"))
}

fn oracle() -> Option<PathBuf> {
    let path = std::env::var_os("KEY_ORACLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".harness/bin/key-oracle"));
    path.is_file().then_some(path)
}

/// Rekor's Go code on the same bodies, if the oracle is built.
fn go_keys(bodies: &[Value]) -> Option<Vec<Value>> {
    let Some(path) = oracle() else {
        eprintln!("key oracle not built: skipping the comparison with Go");
        return None;
    };
    let input: String = bodies.iter().map(|b| body_line(b) + "\n").collect();
    let mut child = Command::new(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    )
}

#[test]
fn canonical_value_is_gpg_export_with_new_format_headers() {
    let gpg = Gpg::new();
    let mut bodies = Vec::new();
    for (uid, algo, sub) in [
        ("Ed <ed@example.com>", "ed25519", "cv25519"),
        ("Rsa <rsa@example.com>", "rsa2048", "rsa2048"),
        ("P256 <p256@example.com>", "nistp256", "nistp256"),
        ("Dsa <dsa@example.com>", "dsa2048", "elg2048"),
    ] {
        let fpr = gpg.key(uid, algo);
        gpg.run(&["--quick-add-key", &fpr, sub, "encr", "0"], None);
        let binary = gpg.export(&fpr, false);
        let armored = gpg.export(&fpr, true);
        let expected = new_format(&packets(&binary));
        for input in [&binary, &armored] {
            let key = PgpKey::parse(input).unwrap();
            let canonical = key.canonical_value().unwrap();
            assert_eq!(unarmor(&canonical), expected, "{algo}");
            assert_eq!(
                key.subjects(),
                vec![uid[uid.find('<').unwrap() + 1..uid.len() - 1].to_string()]
            );
        }
        // Canonicalising the canonical value changes nothing.
        let canonical = PgpKey::parse(&armored).unwrap().canonical_value().unwrap();
        let again = PgpKey::parse(&canonical)
            .unwrap()
            .canonical_value()
            .unwrap();
        assert_eq!(again, canonical);

        let data = format!("artifact for {algo}").into_bytes();
        let sig = gpg.sign(&fpr, &data);
        let body = rekord(&canonical, &sig, &data);
        let keys = keys_of(&body);
        assert_eq!(keys[0], sha256(&canonical));
        assert_eq!(keys[2], format!("sha256:{}", sha256(&data)));
        // The binary upload gives the same key hash.
        assert_eq!(keys_of(&rekord(&binary, &sig, &data)), keys);
        bodies.push(body);
    }
    if let Some(go) = go_keys(&bodies) {
        for (body, go) in bodies.iter().zip(go) {
            assert_eq!(go["keys"], json!(keys_of(body)));
        }
    }
}

#[test]
fn several_user_ids_keep_stored_order_and_case() {
    let gpg = Gpg::new();
    let fpr = gpg.key("First <first@example.com>", "ed25519");
    gpg.run(&["--quick-add-uid", &fpr, "No e-mail (comment only)"], None);
    gpg.run(
        &["--quick-add-uid", &fpr, "Mixed <Mixed.Case@Example.COM>"],
        None,
    );
    gpg.run(&["--quick-add-uid", &fpr, "bare.address@example.net"], None);
    gpg.run(&["--quick-add-uid", &fpr, "Gone <gone@example.com>"], None);
    gpg.run(
        &["--quick-revoke-uid", &fpr, "Gone <gone@example.com>"],
        None,
    );
    let armored = gpg.export(&fpr, true);
    let uids = gpg.user_ids(&armored);
    assert_eq!(uids.len(), 5);
    let key = PgpKey::parse(&armored).unwrap();
    // All five user IDs have valid self-signatures (a revocation is one),
    // so all are kept, in the order of the input.
    let kept: Vec<String> = key
        .user_ids()
        .map(|u| String::from_utf8(u.to_vec()).unwrap())
        .collect();
    assert_eq!(kept, uids);
    assert_eq!(
        key.subjects(),
        [
            "first@example.com",
            "Mixed.Case@Example.COM",
            "bare.address@example.net",
            "gone@example.com"
        ]
    );
    let canonical = key.canonical_value().unwrap();
    assert_eq!(gpg.user_ids(&canonical), uids);

    // Go's order is random: compare sets, and the key hash only after
    // checking that Go's canonical value holds the same packets.
    let data = b"multi".to_vec();
    let body = rekord(&canonical, &gpg.sign(&fpr, &data), &data);
    if let Some(go) = go_keys(std::slice::from_ref(&body)) {
        let mut go: Vec<String> = serde_json::from_value(go[0]["keys"].clone()).unwrap();
        let mut ours = keys_of(&body);
        go.remove(0);
        ours.remove(0);
        go.sort();
        ours.sort();
        assert_eq!(go, ours);
    }
}

#[test]
fn revoked_and_signing_subkeys_and_revoked_keys() {
    let gpg = Gpg::new();
    let fpr = gpg.key("Subs <subs@example.com>", "ed25519");
    gpg.run(&["--quick-add-key", &fpr, "cv25519", "encr", "0"], None);
    gpg.run(&["--quick-add-key", &fpr, "ed25519", "sign", "0"], None);
    gpg.run(&["--quick-add-key", &fpr, "ed25519", "sign", "0"], None);
    // Revoke subkey 3 through the edit menu.
    gpg.run(
        &["--command-fd", "0", "--edit-key", &fpr],
        Some(b"key 3\nrevkey\ny\n0\n\ny\nsave\n"),
    );
    let binary = gpg.export(&fpr, false);
    let in_packets = packets(&binary);
    let revocations = in_packets
        .iter()
        .filter(|(t, b)| *t == 2 && b[1] == 0x28)
        .count();
    assert_eq!(revocations, 1);
    let key = PgpKey::parse(&binary).unwrap();
    let canonical = unarmor(&key.canonical_value().unwrap());
    let out_packets = packets(&canonical);
    // Every packet is kept: three subkeys, the revocation before the
    // binding signature of its subkey (go-crypto's order).
    assert_eq!(out_packets.iter().filter(|(t, _)| *t == 14).count(), 3);
    let last_subkey = out_packets.iter().rposition(|(t, _)| *t == 14).unwrap();
    assert_eq!(out_packets[last_subkey + 1].1[1], 0x28);
    assert_eq!(out_packets[last_subkey + 2].1[1], 0x18);
    assert_eq!(out_packets.len(), in_packets.len());

    // A revoked primary key keeps its revocation right after the key.
    let rfpr = gpg.key("Revoked <revoked@example.com>", "rsa2048");
    let rev = std::fs::read_to_string(gpg.home.path().join(format!("openpgp-revocs.d/{rfpr}.rev")))
        .unwrap()
        .replace("\n:-----", "\n-----");
    gpg.run(&["--import"], Some(rev.as_bytes()));
    let key = PgpKey::parse(&gpg.export(&rfpr, true)).unwrap();
    let out = packets(&unarmor(&key.canonical_value().unwrap()));
    assert_eq!((out[0].0, out[1].0, out[1].1[1]), (6, 2, 0x20));
    assert_eq!(key.subjects(), ["revoked@example.com"]);

    let data = b"subkeys".to_vec();
    let bodies = [rekord(&binary, &gpg.sign(&fpr, &data), &data)];
    if let Some(go) = go_keys(&bodies) {
        assert_eq!(go[0]["keys"], json!(keys_of(&bodies[0])));
    }
}

#[test]
fn rpm_and_helm_bodies_use_the_same_key_hash() {
    let gpg = Gpg::new();
    let fpr = gpg.key("Charts <charts@example.com>", "nistp384");
    let canonical = PgpKey::parse(&gpg.export(&fpr, true))
        .unwrap()
        .canonical_value()
        .unwrap();
    let key_hash = sha256(&canonical);
    let content = STANDARD.encode(&canonical);
    let chart_hash = "6dec7ea21e655d5796c1e214cfb75b73428b2abfa2e66c8f7bc64ff4a7b3b29f";
    let helm = json!({"apiVersion":"0.0.1","kind":"helm","spec":{
        "chart":{"hash":{"algorithm":"sha256","value":chart_hash},
                 "provenance":{"signature":{"content":STANDARD.encode(b"sig")}}},
        "publicKey":{"content":content}}});
    assert_eq!(
        keys_of(&helm),
        [
            key_hash.clone(),
            "charts@example.com".into(),
            format!("sha256:{chart_hash}")
        ]
    );
    let rpm = json!({"apiVersion":"0.0.1","kind":"rpm","spec":{
        "package":{"hash":{"algorithm":"sha256","value":chart_hash.to_uppercase()},
                   "headers":{"Name":"x"}},
        "publicKey":{"content":content}}});
    assert_eq!(
        keys_of(&rpm),
        [
            key_hash,
            "charts@example.com".into(),
            format!("sha256:{chart_hash}")
        ]
    );
    if let Some(go) = go_keys(std::slice::from_ref(&rpm)) {
        assert_eq!(go[0]["keys"], json!(keys_of(&rpm)));
    }
    // A key Go cannot read makes the whole rpm/helm entry an error.
    let mut bad = rpm.clone();
    bad["spec"]["publicKey"]["content"] = json!(STANDARD.encode(b"-----BEGIN PGP nothing"));
    assert!(index_keys(bad.to_string().as_bytes(), None).is_err());
}
