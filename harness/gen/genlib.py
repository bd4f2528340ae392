"""Helpers for the kind scripts in harness/gen/kinds/: each script writes
proposed entries (what rekor-cli would POST) and, where a case cannot come
out of the server's canonicalization, hand-made stored bodies.

Line formats (one JSON object per line):
  <name>.jsonl         {"label": L, "entry": {kind, apiVersion, spec}}
                       optional "expect_reject": true when the server must
                       refuse it (checked by run.sh, then left out)
                       optional "attestation": base64 (kept with the entry)
  <name>.stored.jsonl  {"label": L, "body": base64 of the stored bytes,
                        "kind": K, "apiVersion": V}

Stdlib only.
"""

import base64
import json
import os


def read(path):
    with open(path, "rb") as f:
        return f.read()


def b64(data):
    """Standard padded base64 of bytes, or of a file's contents."""
    if isinstance(data, str):
        data = read(data)
    return base64.b64encode(data).decode()


def _append(path, obj):
    with open(path, "a") as f:
        f.write(json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n")


class Out:
    """Where one kind script writes: OUT.jsonl and OUT.stored.jsonl."""

    def __init__(self, proposed_path):
        self.proposed_path = proposed_path
        base = proposed_path[: -len(".jsonl")] if proposed_path.endswith(".jsonl") else proposed_path
        self.stored_path = base + ".stored.jsonl"
        self.labels = set()

    def _label(self, label):
        if label in self.labels:
            raise SystemExit("genlib: duplicate label %r" % label)
        self.labels.add(label)

    def proposed(self, label, kind, api_version, spec, expect_reject=False, attestation=None):
        self._label(label)
        line = {"label": label, "entry": {"kind": kind, "apiVersion": api_version, "spec": spec}}
        if expect_reject:
            line["expect_reject"] = True
        if attestation is not None:
            line["attestation"] = b64(attestation)
        _append(self.proposed_path, line)

    def stored(self, label, body, kind, api_version):
        """A stored body: bytes as they are, or a dict written as canonical JSON."""
        self._label(label)
        if isinstance(body, dict):
            body = canonical_json(body)
        _append(self.stored_path, {"label": label, "body": b64(body), "kind": kind, "apiVersion": api_version})


def canonical_json(obj):
    """JCS for the values used here (ASCII-sortable names, integers, plain
    strings): sorted members, no whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def from_env():
    """The Out for the path given as the script's first argument."""
    import sys

    if len(sys.argv) < 2:
        raise SystemExit("usage: <kind script> OUT.jsonl")
    return Out(sys.argv[1])


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit("genlib: %s is not set (run through harness/gen/run.sh)" % name)
    return value
