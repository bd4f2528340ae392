#!/usr/bin/env python3
"""Seed inputs for the fuzz targets, from entry JSON lines.

usage: seeds.py OUT_DIR JSONL...

Writes OUT_DIR/{index_keys,keys_for_line,pki}/<sha1>: each body (with its
attestation, in the index_keys layout), each input line, and every base64
field inside a body that decodes to a key, signature, timestamp, JSON
document or COSE message, prefixed with the pki target's selector byte.
"""

import base64
import binascii
import hashlib
import json
import os
import struct
import sys

# The pki target's selector bytes (fuzz_targets/pki.rs).
X509, PGP, SSH, MINISIGN, PKCS7, TIMESTAMP, JCS, COSE = range(8)
FORMATS = {"x509": X509, "pgp": PGP, "ssh": SSH, "minisign": MINISIGN, "pkcs7": PKCS7}


def write(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def b64(s):
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None


def selector(data, hint):
    """The pki parser for a decoded field, or None."""
    if hint is not None:
        return hint
    head = data[:40]
    if head.startswith(b"-----BEGIN PGP") or head[:1] in (b"\x99", b"\xc6"):
        return PGP
    if head.startswith(b"-----BEGIN PKCS7"):
        return PKCS7
    if head.startswith(b"-----BEGIN"):
        return X509
    if head.startswith(b"ssh-") or head.startswith(b"ecdsa-"):
        return SSH
    if head.startswith(b"untrusted comment") or head.startswith(b"RWQ"):
        return MINISIGN
    if head.startswith(b"\xd2\x84"):
        return COSE
    if head.lstrip().startswith(b"{"):
        return JCS
    return None


def walk(value, hint, found):
    """Every decodable base64 string in a spec, with a format hint."""
    if isinstance(value, dict):
        h = FORMATS.get(value.get("format"), hint) if isinstance(value.get("format"), str) else hint
        for k, v in value.items():
            walk(v, TIMESTAMP if k == "tsr" else h, found)
    elif isinstance(value, list):
        for v in value:
            walk(v, hint, found)
    elif isinstance(value, str) and len(value) >= 24:
        data = b64(value)
        if data:
            found.append((data, hint))


def candidates(value, found, depth=0):
    """Byte strings in a proposed entry that may be a stored attestation:
    base64 and JSON-string contents, decoded up to three levels deep."""
    if depth > 3:
        return
    if isinstance(value, dict):
        for v in value.values():
            candidates(v, found, depth)
    elif isinstance(value, list):
        for v in value:
            candidates(v, found, depth)
    elif isinstance(value, str) and len(value) >= 16:
        for data in (b64(value), value.encode()):
            if data is None:
                continue
            found[hashlib.sha256(data).hexdigest()] = data
            try:
                candidates(json.loads(data), found, depth + 1)
            except ValueError:
                pass


def hash_values(value, found):
    """Every string in a stored spec (hash values among them)."""
    if isinstance(value, dict):
        for v in value.values():
            hash_values(v, found)
    elif isinstance(value, list):
        for v in value:
            hash_values(v, found)
    elif isinstance(value, str):
        found.add(value.lower())


def main():
    out, inputs = sys.argv[1], sys.argv[2:]
    records, attestations = [], {}
    for path in inputs:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                record = json.loads(line)
                if "entry" in record:  # a proposed entry (harness/gen)
                    candidates(record["entry"].get("spec"), attestations)
                elif "body" in record:
                    records.append((line, record))
    for line, record in records:
        write(out, "keys_for_line", line.encode())
        body = b64(record["body"])
        if body is None:
            continue
        att = b64(record["attestation"]) if record.get("attestation") else None
        if att is None:
            try:
                values = set()
                hash_values(json.loads(body).get("spec"), values)
                att = next((attestations[v] for v in sorted(values) if v in attestations), None)
            except (ValueError, AttributeError):
                pass
        if att is None:
            write(out, "index_keys", b"\x00" + body)
        else:
            write(out, "index_keys", b"\x01" + struct.pack("<I", len(att)) + body + att)
            if (s := selector(att, None)) is not None:
                write(out, "pki", bytes([s]) + att)
        try:
            spec = json.loads(body).get("spec")
        except (ValueError, AttributeError):
            continue
        found = []
        walk(spec, None, found)
        for data, hint in found:
            if (s := selector(data, hint)) is not None:
                write(out, "pki", bytes([s]) + data)
                # A PEM certificate's DER too, for the raw-DER paths.
                if s == X509 and data.startswith(b"-----BEGIN"):
                    lines = data.decode(errors="replace").splitlines()
                    inner = "".join(l for l in lines if not l.startswith("-----"))
                    der = b64(inner)
                    if der:
                        write(out, "pki", bytes([X509]) + der)


if __name__ == "__main__":
    main()
