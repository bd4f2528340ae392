#!/usr/bin/env python3
"""Makes the signed artifacts that rekor-cli cannot make by itself, for
harness/stack/populate.sh: DSSE envelopes (in-toto statements), COSE_Sign1
messages and TUF metadata.

Python standard library only; every signature is made by the `openssl`
command line tool, so nothing beyond what populate.sh already needs is
required. Keys are PEM private keys made by populate.sh.

usage:
  artifacts.py statement OUT SUBJECT_FILE... [--material URI=ALG:HEX]...
      in-toto v0.1 statement with a SLSA v0.2 provenance predicate; one
      subject per file (sha256 + sha512 of its bytes), plus one subject whose
      sha256 digest is written in UPPERCASE hex (the server indexes payload
      digests without lowercasing them).
  artifacts.py dsse OUT PAYLOAD_FILE PAYLOAD_TYPE KEY... [--urlsafe]
      DSSE envelope signed by every KEY (ECDSA or RSA PKCS#1 v1.5, SHA-256).
      --urlsafe writes the signatures in URL-safe base64 (accepted at upload,
      stored verbatim; docs/INDEX_KEYS.md §4.11).
  artifacts.py cose OUT PAYLOAD_FILE KEY [--content-type T] [--aad B64]
      COSE_Sign1 (tag 18), ES256 with a P-256 KEY; the content type goes in
      the protected header (label 3).
  artifacts.py tuf OUTDIR KEY [--targets-role NAME] [--expires RFC3339]
      root.json (every role held by the one Ed25519 KEY), and timestamp.json,
      snapshot.json, targets.json signed by it. --targets-role adds a role
      NAME to the root and a metadata file NAME.json whose _type is NAME.
      go-tuf lets a role that is not a top-level one sign only metadata
      whose _type is "targets" case-insensitively, so NAME=Targets gives a
      mixed-case role key.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile


def die(msg):
    sys.stderr.write("artifacts.py: %s\n" % msg)
    sys.exit(2)


def openssl(*args, data=None):
    res = subprocess.run(["openssl", *args], input=data, capture_output=True)
    if res.returncode != 0:
        die("openssl %s failed: %s" % (" ".join(args), res.stderr.decode(errors="replace")))
    return res.stdout


def key_type(key_path):
    text = openssl("pkey", "-in", key_path, "-noout", "-text").decode()
    first = text.splitlines()[0] if text else ""
    if "ED25519" in first:
        return "ed25519"
    if "modulus:" in text:
        return "rsa"
    if "ASN1 OID" in text:
        return "ec"
    die("unknown key type in %s: %s" % (key_path, first))


def sign_digest_sha256(key_path, message):
    """ECDSA (DER) or RSA PKCS#1 v1.5 over SHA-256 of message."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(message)
        f.flush()
        return openssl("dgst", "-sha256", "-sign", key_path, f.name)


def sign_ed25519(key_path, message):
    with tempfile.NamedTemporaryFile() as f:
        f.write(message)
        f.flush()
        return openssl("pkeyutl", "-sign", "-inkey", key_path, "-rawin", "-in", f.name)


def der_ecdsa_to_raw(der, size):
    """ASN.1 SEQUENCE { INTEGER r, INTEGER s } -> r || s, each `size` bytes."""

    def read_len(buf, i):
        n = buf[i]
        i += 1
        if n < 0x80:
            return n, i
        k = n & 0x7F
        return int.from_bytes(buf[i:i + k], "big"), i + k

    if der[0] != 0x30:
        die("not an ECDSA DER signature")
    _, i = read_len(der, 1)
    out = b""
    for _ in range(2):
        if der[i] != 0x02:
            die("not an ECDSA DER signature")
        n, i = read_len(der, i + 1)
        out += int.from_bytes(der[i:i + n], "big").to_bytes(size, "big")
        i += n
    return out


# ---------------------------------------------------------------- in-toto

def file_digests(path):
    data = open(path, "rb").read()
    return {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


def cmd_statement(args):
    out, rest = args[0], args[1:]
    subjects, materials = [], []
    it = iter(rest)
    for a in it:
        if a == "--material":
            uri, dig = next(it).split("=", 1)
            alg, hexd = dig.split(":", 1)
            materials.append({"uri": uri, "digest": {alg: hexd}})
        else:
            subjects.append({"name": os.path.basename(a), "digest": file_digests(a)})
    upper = hashlib.sha256(b"uppercase subject " + out.encode()).hexdigest().upper()
    subjects.append({"name": "Uppercase-Digest.bin", "digest": {"sha256": upper}})
    stmt = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": subjects,
        "predicate": {
            "builder": {"id": "https://github.com/MyOrg/Builder/.github/workflows/Build.yml@refs/heads/main"},
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
            "invocation": {"configSource": {"uri": "git+https://github.com/MyOrg/Repo@refs/heads/main"}},
            "materials": materials,
        },
    }
    with open(out, "w") as f:
        json.dump(stmt, f, indent=2)


def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def cmd_dsse(args):
    urlsafe = "--urlsafe" in args
    args = [a for a in args if a != "--urlsafe"]
    out, payload_file, payload_type, keys = args[0], args[1], args[2], args[3:]
    payload = open(payload_file, "rb").read()
    sigs = []
    for key in keys:
        for _ in range(64):
            raw = sign_digest_sha256(key, pae(payload_type, payload))
            b64 = base64.b64encode(raw).decode()
            # For --urlsafe, sign again until the URL-safe form differs.
            if not urlsafe or "+" in b64 or "/" in b64:
                break
        if urlsafe:
            b64 = base64.urlsafe_b64encode(raw).decode()
        sigs.append({"keyid": "", "sig": b64})
    env = {"payloadType": payload_type, "payload": base64.b64encode(payload).decode(), "signatures": sigs}
    with open(out, "w") as f:
        json.dump(env, f)


# ---------------------------------------------------------------- COSE

def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    die("CBOR length too large")


def cbor(v):
    if isinstance(v, bool) or v is None:
        die("unsupported CBOR value")
    if isinstance(v, int):
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return cbor_head(3, len(b)) + b
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    die("unsupported CBOR value %r" % (v,))


def cmd_cose(args):
    out, payload_file, key = args[0], args[1], args[2]
    content_type, aad = None, b""
    i = 3
    while i < len(args):
        if args[i] == "--content-type":
            content_type = args[i + 1]
        elif args[i] == "--aad":
            aad = base64.b64decode(args[i + 1])
        else:
            die("unknown option %s" % args[i])
        i += 2
    payload = open(payload_file, "rb").read()
    prot = {1: -7}  # alg: ES256
    if content_type:
        prot[3] = content_type
    prot_b = cbor(prot)
    to_sign = cbor(["Signature1", prot_b, aad, payload])
    sig = der_ecdsa_to_raw(sign_digest_sha256(key, to_sign), 32)
    msg = b"\xd2" + cbor([prot_b, {}, payload, sig])  # tag 18 = COSE_Sign1
    with open(out, "wb") as f:
        f.write(msg)


# ---------------------------------------------------------------- TUF

def cjson(v):
    """securesystemslib canonical JSON (what go-tuf signs): sorted keys, no
    whitespace, strings escape only backslash and double quote."""
    if isinstance(v, dict):
        return "{" + ",".join(cjson(k) + ":" + cjson(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(cjson(x) for x in v) + "]"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if v is None:
        return "null"
    die("canonical JSON cannot encode %r" % (v,))


def cmd_tuf(args):
    outdir, key = args[0], args[1]
    extra_role, expires = None, "2100-01-01T00:00:00Z"
    i = 2
    while i < len(args):
        if args[i] == "--targets-role":
            extra_role = args[i + 1]
        elif args[i] == "--expires":
            expires = args[i + 1]
        else:
            die("unknown option %s" % args[i])
        i += 2
    if key_type(key) != "ed25519":
        die("tuf needs an Ed25519 key")
    pub = openssl("pkey", "-in", key, "-pubout", "-outform", "DER")[-32:]
    tuf_key = {"keytype": "ed25519", "scheme": "ed25519", "keyid_hash_algorithms": ["sha256", "sha512"],
               "keyval": {"public": pub.hex()}}
    keyid = hashlib.sha256(cjson(tuf_key).encode()).hexdigest()
    os.makedirs(outdir, exist_ok=True)

    def write(name, signed):
        sig = sign_ed25519(key, cjson(signed).encode())
        doc = {"signatures": [{"keyid": keyid, "sig": sig.hex()}], "signed": signed}
        with open(os.path.join(outdir, name), "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)

    roles = {r: {"keyids": [keyid], "threshold": 1} for r in ("root", "targets", "snapshot", "timestamp")}
    if extra_role:
        roles[extra_role] = {"keyids": [keyid], "threshold": 1}
    write("root.json", {"_type": "root", "spec_version": "1.0", "version": 1, "expires": expires,
                        "consistent_snapshot": True, "keys": {keyid: tuf_key}, "roles": roles})
    meta = {"targets.json": {"version": 1}}
    write("targets.json", {"_type": "targets", "spec_version": "1.0", "version": 1, "expires": expires,
                           "targets": {"hello.txt": {"length": 6, "hashes": {
                               "sha256": hashlib.sha256(b"hello\n").hexdigest()}}}})
    write("snapshot.json", {"_type": "snapshot", "spec_version": "1.0", "version": 3, "expires": expires,
                            "meta": meta})
    write("timestamp.json", {"_type": "timestamp", "spec_version": "1.0", "version": 7, "expires": expires,
                             "meta": {"snapshot.json": {"version": 3}}})
    if extra_role:
        write(extra_role + ".json", {"_type": extra_role, "spec_version": "1.0", "version": 2,
                                     "expires": expires, "targets": {}})


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds = {"statement": cmd_statement, "dsse": cmd_dsse, "cose": cmd_cose, "tuf": cmd_tuf}
    cmd = cmds.get(sys.argv[1])
    if cmd is None:
        die("unknown command %s" % sys.argv[1])
    cmd(sys.argv[2:])


if __name__ == "__main__":
    main()
