#!/usr/bin/env python3
"""Compares search indexes entry by entry, per kind: the index the Rekor server
wrote at upload time (the ground truth) against the ones the Go backfill-index
and rekor-backfill rebuilt from the log. Used by ground-truth.sh. Standard
library only.

usage: gt_compare.py --entries ENTRIES.jsonl [--labels RESULTS.tsv]
                     [--probes-dir DIR] [--details OUT.txt]
                     server=DUMP.tsv go=DUMP.tsv [rust=DUMP.tsv]

DUMP.tsv: one line per index pair, `key<TAB>entryUUID<TAB>count` (count > 1:
the same uuid appears several times in one Redis list). ENTRIES.jsonl: one
line per log entry {"uuid", "logIndex", "kind", "apiVersion"}.
RESULTS.tsv: populate.sh's results (label, type, status, logIndex, uuid) to
name entries in the details. probes-DIR/probes-NAME.tsv: `label<TAB>hits<TAB>uuids`.

For every index other than `server`, per kind/apiVersion:
  same       pairs identical to the server's
  case-only  pairs that differ from a server pair only by the key's case
             (counted once per pair on each side)
  missing    server pairs the index lacks (case-only ones excluded)
  extra      pairs the server never wrote (case-only ones excluded)
  no-keys    entries with server pairs but no pair at all in this index
  dup        pairs listed more than once in one Redis list
Exit status 0; the numbers are the result.
"""

import argparse
import collections
import json
import os
import sys


def short(uuid):
    """Entry IDs are tree ID (16 hex) + UUID (64 hex); compare by the UUID."""
    return uuid[-64:]


def load_dump(path):
    pairs = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, uuid, count = line.split("\t")
            pairs[(key, short(uuid))] = int(count)
    return pairs


def compare(server, other):
    s, o = set(server), set(other)
    only_s, only_o = s - o, o - s
    lower_o = collections.defaultdict(set)
    for k, u in only_o:
        lower_o[(k.lower(), u)].add((k, u))
    case_s, case_o = set(), set()
    for k, u in only_s:
        match = lower_o.get((k.lower(), u))
        if match:
            case_s.add((k, u))
            case_o |= match
    return {
        "same": s & o,
        "case_s": case_s,
        "case_o": case_o,
        "missing": only_s - case_s,
        "extra": only_o - case_o,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--probes-dir")
    ap.add_argument("--details")
    ap.add_argument("dumps", nargs="+", help="NAME=DUMP.tsv, the first must be server=")
    args = ap.parse_args()

    dumps = collections.OrderedDict()
    for d in args.dumps:
        name, path = d.split("=", 1)
        dumps[name] = load_dump(path)
    if list(dumps)[0] != "server":
        sys.exit("gt_compare: the first dump must be server=...")
    server = dumps["server"]
    others = [n for n in dumps if n != "server"]

    entries = {}
    with open(args.entries) as f:
        for line in f:
            e = json.loads(line)
            entries[short(e["uuid"])] = e
    labels = {}
    if args.labels and os.path.exists(args.labels):
        with open(args.labels) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 5 and parts[2] == "ok":
                    labels[short(parts[4])] = parts[0]

    def kind_of(uuid):
        e = entries.get(uuid)
        return "%s %s" % (e["kind"], e["apiVersion"]) if e else "(not in log)"

    kinds = collections.Counter(kind_of(u) for u in entries)
    by_kind = collections.defaultdict(lambda: collections.defaultdict(set))
    for name, pairs in dumps.items():
        for k, u in pairs:
            by_kind[kind_of(u)][name].add((k, u))

    results = {n: compare(server, dumps[n]) for n in others}

    def count(name, field, kind):
        return sum(1 for _, u in results[name][field] if kind_of(u) == kind)

    all_kinds = sorted(set(kinds) | set(by_kind))
    print("Index pairs per kind (key, entry) — server = written by rekor-server at upload")
    hdr = "%-18s %7s %7s" % ("kind", "entries", "server")
    for n in others:
        hdr += " | %-6s %5s %5s %5s %5s %5s %7s %4s" % (n, "pairs", "same", "case", "miss", "extra", "no-keys", "dup")
    print(hdr)
    totals = collections.Counter()
    for kind in all_kinds:
        srv = by_kind[kind]["server"]
        row = "%-18s %7d %7d" % (kind, kinds.get(kind, 0), len(srv))
        totals["entries"] += kinds.get(kind, 0)
        totals["server"] += len(srv)
        srv_uuids = {u for _, u in srv}
        for n in others:
            pairs = by_kind[kind][n]
            uuids = {u for _, u in pairs}
            nokeys = len(srv_uuids - uuids)
            dup = sum(1 for p in pairs if dumps[n][p] > 1)
            vals = (len(pairs), count(n, "same", kind), count(n, "case_o", kind),
                    count(n, "missing", kind), count(n, "extra", kind), nokeys, dup)
            for f, v in zip(("pairs", "same", "case", "miss", "extra", "nokeys", "dup"), vals):
                totals[n + f] += v
            row += " | %-6s %5d %5d %5d %5d %5d %7d %4d" % ("", *vals)
        print(row)
    row = "%-18s %7d %7d" % ("TOTAL", totals["entries"], totals["server"])
    for n in others:
        row += " | %-6s %5d %5d %5d %5d %5d %7d %4d" % (
            "", *(totals[n + f] for f in ("pairs", "same", "case", "miss", "extra", "nokeys", "dup")))
    print(row)
    sdup = sum(1 for c in server.values() if c > 1)
    if sdup:
        print("server: %d pairs listed more than once in their Redis list" % sdup)

    if args.details:
        with open(args.details, "w", encoding="utf-8", errors="surrogateescape") as out:
            for n in dumps:
                dups = sorted(p for p, c in dumps[n].items() if c > 1)
                if dups:
                    out.write("=== %s: pairs listed more than once in one Redis list\n" % n)
                    for k, u in dups:
                        e = entries.get(u, {})
                        out.write("    x%d #%s %s [%s] %s\n" % (dumps[n][(k, u)], e.get("logIndex", "?"),
                                                              e.get("kind", "?"), labels.get(u, "-"), k))
            for n in others:
                r = results[n]
                per_entry = collections.defaultdict(list)
                for tag, field in (("missing", "missing"), ("extra", "extra"),
                                   ("case: server", "case_s"), ("case: " + n, "case_o")):
                    for k, u in r[field]:
                        per_entry[u].append((tag, k))
                out.write("=== %s vs server: %d entries differ\n" % (n, len(per_entry)))
                for u in sorted(per_entry, key=lambda u: entries.get(u, {}).get("logIndex", -1)):
                    e = entries.get(u, {})
                    out.write("#%s %s %s [%s] %s\n" % (e.get("logIndex", "?"), e.get("kind", "?"),
                                                       e.get("apiVersion", ""), labels.get(u, "-"), u))
                    for tag, k in sorted(per_entry[u]):
                        out.write("    %-14s %s\n" % (tag, k))
        print("details: %s" % args.details)

    if args.probes_dir:
        probes = collections.OrderedDict()
        for n in dumps:
            path = os.path.join(args.probes_dir, "probes-%s.tsv" % n)
            if not os.path.exists(path):
                continue
            with open(path) as f:
                for line in f:
                    label, hits, _ = (line.rstrip("\n").split("\t") + ["", ""])[:3]
                    probes.setdefault(label, {})[n] = hits
        if probes:
            names = [n for n in dumps if any(n in v for v in probes.values())]
            print()
            print("Searches (rekor-cli search), hits per index:")
            print("%-30s" % "probe" + "".join(" %7s" % n for n in names))
            for label, hits in probes.items():
                mark = "" if len({hits.get(n) for n in names}) == 1 else "   <- differs"
                print("%-30s" % label + "".join(" %7s" % hits.get(n, "-") for n in names) + mark)


if __name__ == "__main__":
    main()
