#!/usr/bin/env python3
"""Turns the kind scripts' output into OUT/generated.jsonl (corpus format).

Proposed entries go through `key-oracle -canonicalize` (one process for
all of them), hand-made stored bodies are taken as they are. A proposed
entry the server refuses is an error unless it is marked expect_reject,
and one marked expect_reject must be refused: the generator's cases are
checked, not assumed. Prints a per-file summary. Stdlib only.
"""

import argparse
import base64
import binascii
import glob
import json
import os
import subprocess
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def body_kind(body_b64, line):
    """kind/apiVersion of a stored body, or the line's when it is not JSON."""
    try:
        body = json.loads(base64.b64decode(body_b64, validate=False))
        if isinstance(body, dict) and isinstance(body.get("kind"), str):
            return body["kind"], str(body.get("apiVersion"))
    except (ValueError, binascii.Error):
        pass
    return line.get("kind", "unknown"), line.get("apiVersion", "unknown")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()

    names = sorted(
        {
            os.path.basename(p).split(".")[0]
            for p in glob.glob(os.path.join(args.dir, "*.jsonl"))
            if os.path.basename(p) != "generated.jsonl"
        }
    )
    proposed = []  # (name, line)
    for name in names:
        path = os.path.join(args.dir, name + ".jsonl")
        if os.path.exists(path):
            proposed += [(name, line) for line in load(path)]

    stdin = "".join(json.dumps(line["entry"]) + "\n" for _, line in proposed)
    run = subprocess.run([args.oracle, "-canonicalize"], input=stdin, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("assemble: key-oracle -canonicalize failed: " + run.stderr[-2000:])
    results = [json.loads(r) for r in run.stdout.splitlines()]
    if len(results) != len(proposed):
        sys.exit("assemble: %d results for %d proposed entries" % (len(results), len(proposed)))

    entries, problems = [], []
    summary = {}

    def add(name, label, body, line, origin):
        kind, version = body_kind(body, line)
        rec = {
            "uuid": None,
            "logIndex": len(entries),
            "integratedTime": None,
            "logID": None,
            "body": body,
            "kind": kind,
            "apiVersion": version,
            "source": "gen/%s/%s" % (name, label),
        }
        if line.get("attestation"):
            rec["attestation"] = line["attestation"]
        entries.append(rec)
        summary.setdefault(name, {"canonicalized": 0, "hand-made": 0, "refused as expected": 0})[origin] += 1

    for (name, line), res in zip(proposed, results):
        label = line["label"]
        if "body" in res:
            if line.get("expect_reject"):
                problems.append("%s/%s: expected the server to refuse it, but it was accepted" % (name, label))
            else:
                add(name, label, res["body"], line, "canonicalized")
        elif line.get("expect_reject"):
            summary.setdefault(name, {"canonicalized": 0, "hand-made": 0, "refused as expected": 0})[
                "refused as expected"
            ] += 1
        else:
            problems.append("%s/%s: refused by canonicalize: %s" % (name, label, res.get("error")))

    for name in names:
        stored = os.path.join(args.dir, name + ".stored.jsonl")
        if os.path.exists(stored):
            for line in load(stored):
                add(name, line["label"], line["body"], line, "hand-made")

    with open(os.path.join(args.dir, "generated.jsonl"), "w") as f:
        for rec in entries:
            f.write(json.dumps(rec) + "\n")

    print("generated set: %s" % os.path.join(args.dir, "generated.jsonl"))
    print("  %-14s %13s %9s %19s" % ("script", "canonicalized", "hand-made", "refused as expected"))
    for name in names:
        s = summary.get(name, {"canonicalized": 0, "hand-made": 0, "refused as expected": 0})
        print("  %-14s %13d %9d %19d" % (name, s["canonicalized"], s["hand-made"], s["refused as expected"]))
    print("  total entries: %d" % len(entries))
    if problems:
        print("\n".join(["generator problems:"] + ["  " + p for p in problems]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
