#!/usr/bin/env python3
"""Writes the three-way report (server / Go backfill-index / rekor-backfill)
of the scenarios as Markdown: per backend and kind, the index pairs each
wrote and how every difference from the server is classified, the rules
that explain them, what populate.sh's searches find through the server on
each index, and which searches fail on Go's index. Standard library only.

Reads what scenarios.sh leaves in each backend directory: rust.json and
go.json (classify.py --json), hits-{server,go,rust}.json (searches.py
probes), search-{go,rust}.json (searches.py check), go.rc. A missing file
leaves its columns empty.

usage: report.py --out REPORT.md SCENARIOS_DIR
"""

import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def section(d, backend, rules):
    out = []
    go, rust = load(os.path.join(d, "go.json")), load(os.path.join(d, "rust.json"))
    kinds = sorted(set((go or {}).get("kinds", {})) | set((rust or {}).get("kinds", {})))
    rc = open(os.path.join(d, "go.rc")).read().strip() if os.path.exists(os.path.join(d, "go.rc")) else "?"
    out.append("## %s\n" % backend)
    out.append("Index pairs (key, entry) per kind. *same*: identical to the pair the server wrote at upload; "
               "*doc*: a documented difference (rules below); *pend*: the tool reported the kind as not "
               "implemented yet; *unexpl*: unexplained. Go `backfill-index` exit status: %s.\n" % rc)
    out.append("| kind | entries | server | Go pairs | Go same | Go doc | Go unexpl | rb pairs | rb same | rb doc | rb pend | rb unexpl |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    tot = collections.Counter()
    for k in kinds:
        g = (go or {}).get("kinds", {}).get(k, {})
        r = (rust or {}).get("kinds", {}).get(k, {})
        base = g or r
        cells = [base.get("entries", 0), base.get("server", 0), g.get("tool", ""), g.get("same", ""),
                 g.get("documented", ""), g.get("unexplained", ""), r.get("tool", ""), r.get("same", ""),
                 r.get("documented", ""), r.get("pending", ""), r.get("unexplained", "")]
        names = ["entries", "server", "gt", "gs", "gd", "gu", "rt", "rs", "rd", "rp", "ru"]
        for n, v in zip(names, cells):
            if isinstance(v, int):
                tot[n] += v
        out.append("| %s | %s |" % (k, " | ".join(str(c) for c in cells)))
    out.append("| **total** | %s |\n" % " | ".join(str(tot[n]) for n in
                                                 ["entries", "server", "gt", "gs", "gd", "gu", "rt", "rs", "rd", "rp", "ru"]))

    counts = collections.defaultdict(collections.Counter)
    for name, c in (("Go", go), ("rekor-backfill", rust)):
        for row in (c or {}).get("rows", []):
            if row["rule"]:
                counts[row["rule"]][name] += 1
    if counts:
        out.append("Documented differences from the server's index (pairs):\n")
        out.append("| rule | Go | rekor-backfill | why |")
        out.append("|---|---|---|---|")
        for rid in [r["id"] for r in rules if r["id"] in counts]:
            out.append("| `%s` | %d | %d | %s |" % (rid, counts[rid]["Go"], counts[rid]["rekor-backfill"],
                                                     next(r["why"] for r in rules if r["id"] == rid)))
        out.append("")
    for name, c in (("Go", go), ("rekor-backfill", rust)):
        un = [r for r in (c or {}).get("rows", []) if r["class"] == "unexplained"]
        if un:
            out.append("Unexplained differences, %s (%d):\n" % (name, len(un)))
            for r in un[:30]:
                out.append("* %s #%s %s `%s`" % (r["diff"], r["logIndex"], r["kind"], r["key"]))
            out.append("")

    hits = {n: load(os.path.join(d, "hits-%s.json" % n)) for n in ("server", "go", "rust")}
    if hits["server"]:
        out.append("Searches through rekor-server (`rekor-cli search`), hits per index:\n")
        out.append("| probe | server | Go | rekor-backfill |")
        out.append("|---|---|---|---|")
        for label, h in hits["server"].items():
            cells = [len(h)] + [len(hits[n][label]) if hits[n] and label in hits[n] else "" for n in ("go", "rust")]
            mark = "" if len({str(c) for c in cells}) == 1 else " ←"
            out.append("| %s%s | %s |" % (label, mark, " | ".join(str(c) for c in cells)))
        out.append("")
    for name, f in (("Go", "search-go.json"), ("rekor-backfill", "search-rust.json")):
        s = load(os.path.join(d, f))
        if s:
            out.append("Every key searched through the server (`POST /api/v1/index/retrieve`, by subject), %s's "
                       "index: %d keys, %d problems%s\n" % (name, s["keys_searched"], len(s["problems"]),
                                                           ":" if s["problems"] else "."))
            for p in s["problems"]:
                out.append("* %s" % p)
            if s["problems"]:
                out.append("")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("dir")
    a = ap.parse_args(argv)
    with open(os.path.join(HERE, "stack-rules.json")) as f:
        rules = json.load(f)
    lines = ["# Three-way report: rekor-server, Go backfill-index v1.5.4, rekor-backfill\n",
             "Written by `harness/stack/scenarios.sh` (scenarios 1 and 5) from a freshly populated log; "
             "see harness/README.md, \"Real Rekor stack\".\n"]
    results = os.path.join(a.dir, "results.tsv")
    for backend in ("redis", "mysql"):
        d = os.path.join(a.dir, backend)
        if os.path.exists(os.path.join(d, "go.json")) or os.path.exists(os.path.join(d, "rust.json")):
            lines += section(d, backend, rules)
    if os.path.exists(results):
        lines.append("## Scenarios\n")
        lines.append("| status | backend | id | scenario | seconds | details |")
        lines.append("|---|---|---|---|---|---|")
        with open(results) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) == 6:
                    lines.append("| %s |" % " | ".join(x.replace("|", "\\|") for x in p))
        lines.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
