#!/usr/bin/env python3
"""Watches the checkpoint invariant while a backfill runs: every ~100 ms it
reads the stored checkpoint and the whole index in one consistent view
(store.py's snapshot) and checks that every log index the checkpoint covers
(firstIndex..=lastCompletedIndex) has all of its expected pairs present at
that moment. Standard library only.

Why sample from outside: the tool's own tests can only assert what the tool
believes; a crash, a kill or a restarted backend is where a checkpoint that
runs ahead of the writes would lose entries for good (a resumed run never
looks below it). The expected pairs per entry come from a clean run of the
same tool (the truth dump), so the check is exact on either backend.

A sample that cannot be taken (the backend is down) is counted, not fatal.
Runs until SIGTERM/SIGINT, then prints one JSON summary line:
  {"samples", "with_checkpoint", "unreadable", "max_covered", "violations": [...]}
(at most 20 violations listed, "violation_count" has them all). Every sample
is also written to --out as a JSON line (time, checkpoint, pair count).

usage: sampler.py --checkpoint NAME --entries ENTRIES.jsonl --truth TRUTH.tsv
                  --out SAMPLES.jsonl [--interval 0.1] [--target main|go]
"""

import argparse
import collections
import json
import signal
import sys
import time

import store


def load_expected(entries_path, truth_path):
    """{logIndex: set of (key, uuid)} from the entries and a counted truth dump."""
    index_of = {}
    with open(entries_path) as f:
        for line in f:
            e = json.loads(line)
            index_of[e["uuid"][-64:]] = e["logIndex"]
    expected = collections.defaultdict(set)
    for k, u in store.read_pairs(truth_path):
        if u[-64:] in index_of:
            expected[index_of[u[-64:]]].add((k, u))
    return expected


def check(cp, pairs, expected):
    """Violations of one sample: covered indices with pairs absent."""
    if not cp:
        return []
    first = cp.get("firstIndex") or 0
    last = cp["lastCompletedIndex"]
    present = set(pairs)
    out = []
    for idx in sorted(i for i in expected if first <= i <= last):
        missing = sorted(expected[idx] - present)
        if missing:
            out.append({"logIndex": idx, "missing": [k for k, _ in missing][:5],
                        "missing_count": len(missing)})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--entries", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--target", choices=["main", "go"], default="main")
    a = ap.parse_args(argv)

    expected = load_expected(a.entries, a.truth)
    st = store.Store(a.target)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    summary = {"samples": 0, "with_checkpoint": 0, "unreadable": 0, "max_covered": None,
               "violation_count": 0, "violations": []}
    with open(a.out, "w") as out:
        while not stop:
            t0 = time.monotonic()
            try:
                pairs, cps = st.snapshot([a.checkpoint])
            except Exception as e:  # the backend is restarting: count it, go on
                summary["unreadable"] += 1
                out.write(json.dumps({"t": time.time(), "error": str(e)[:200]}) + "\n")
                time.sleep(a.interval)
                continue
            cp = cps[a.checkpoint]
            summary["samples"] += 1
            bad = check(cp, pairs, expected)
            if cp:
                summary["with_checkpoint"] += 1
                last = cp["lastCompletedIndex"]
                if summary["max_covered"] is None or last > summary["max_covered"]:
                    summary["max_covered"] = last
            if bad:
                summary["violation_count"] += len(bad)
                for v in bad:
                    if len(summary["violations"]) < 20:
                        summary["violations"].append(dict(v, checkpoint=cp, t=time.time()))
            out.write(json.dumps({"t": time.time(), "checkpoint": cp, "pairs": len(pairs),
                                  "violations": len(bad)}) + "\n")
            out.flush()
            time.sleep(max(0.0, a.interval - (time.monotonic() - t0)))
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
