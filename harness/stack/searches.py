#!/usr/bin/env python3
"""Searches through rekor-server, the way users find entries: `rekor-cli
search --sha/--email/--public-key` (populate.sh's probes) and POST
/api/v1/index/retrieve for every key of the index. Standard library only.

Why through the server and not by reading the store: the server lowercases
(Redis) or compares case-insensitively (MySQL) and looks up entry IDs as
stored; only its answer says whether a rebuilt index is usable.

  searches.py probes --url URL --probes PROBES.tsv --out HITS.json
      runs every probe with rekor-cli, writes {label: [entry IDs]}
  searches.py check --url URL --server SERVER.tsv --tool TOOL.tsv
                    --classified TOOL.json [--server-hits S.json --tool-hits T.json]
      1. every key of both dumps, searched by {"subject": key}, returns at
         least the entries the tool wrote for it and the entries the server
         wrote for it, except pairs classified documented/pending;
      2. each probe returns what it returned on the server's own index,
         except entries with a documented/pending difference.
      Prints a summary line; exit status 1 on any unexpected miss.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import urllib.request

import store


def short(u):
    return u[-64:]


def rekor_cli(url, args):
    env = dict(os.environ, HOME=os.environ.get("STACK_DIR", "/nonexistent") + "/home")
    p = subprocess.run([os.path.join(os.environ["STACK_BIN"], "rekor-cli"), "--rekor_server", url,
                        "--store_tree_state=false", "--format", "json"] + args,
                       capture_output=True, env=env, timeout=60)
    out = p.stdout.decode().strip()
    if p.returncode != 0 or not out.startswith("{"):
        err = (p.stderr.decode() + out).strip()
        if "no matching entries found" in err:
            return []
        raise RuntimeError("rekor-cli %s: %s" % (" ".join(args), err[:300]))
    return json.loads(out).get("UUIDs") or []


def run_probes(url, probes_path):
    hits = collections.OrderedDict()
    with open(probes_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            label, flag, value = parts[:3]
            args = ["search", "--" + flag, value]
            if len(parts) > 3 and parts[3]:
                args += ["--pki-format", parts[3]]
            hits[label] = sorted(rekor_cli(url, args))
    return hits


def retrieve(url, query):
    req = urllib.request.Request(url + "/api/v1/index/retrieve", data=json.dumps(query).encode(),
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r) or []


def check(a):
    server = store.counted(store.read_pairs(a.server))
    tool = store.counted(store.read_pairs(a.tool))
    with open(a.classified) as f:
        classified = json.load(f)
    # Pairs the tool is allowed not to have (documented or pending).
    excused = {(r["key"], r["uuid"]) for r in classified["rows"]
               if r["class"] in ("documented", "pending") and r["diff"] in ("missing", "case")}
    excused_uuids = collections.defaultdict(set)  # diff -> uuids with an excused difference
    for r in classified["rows"]:
        if r["class"] in ("documented", "pending"):
            excused_uuids[r["diff"]].add(short(r["uuid"]))

    expected = collections.defaultdict(set)
    for (k, u) in tool:
        expected[k].add(u)
    for (k, u) in server:
        if (k, u) not in excused:
            expected[k].add(u)
    problems, searched, skipped = [], 0, 0
    for key in sorted(expected):
        if len(key) > 512:
            skipped += 1
            continue
        got = {short(u) for u in retrieve(a.url, {"subject": key})}
        searched += 1
        lost = {short(u) for u in expected[key]} - got
        if lost:
            problems.append("search subject %r: %d of %d entries not found (%s)"
                            % (key, len(lost), len(expected[key]), ", ".join(sorted(lost))[:80]))

    probes_checked = 0
    if a.server_hits and a.tool_hits:
        with open(a.server_hits) as f:
            before = json.load(f)
        with open(a.tool_hits) as f:
            after = json.load(f)
        for label, hits in before.items():
            probes_checked += 1
            want, got = {short(u) for u in hits}, {short(u) for u in after.get(label, [])}
            lost = want - got - excused_uuids["missing"] - excused_uuids["case"]
            new = got - want - excused_uuids["extra"]
            if lost or new:
                problems.append("probe %s: %d hits on the server's index, %d now (%d lost, %d new, unexplained)"
                                % (label, len(want), len(got), len(lost), len(new)))
    print(json.dumps({"keys_searched": searched, "keys_skipped_over_512": skipped,
                      "probes": probes_checked, "problems": problems}, indent=1))
    return 1 if problems else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probes")
    p.add_argument("--url", required=True)
    p.add_argument("--probes", required=True)
    p.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--url", required=True)
    c.add_argument("--server", required=True)
    c.add_argument("--tool", required=True)
    c.add_argument("--classified", required=True)
    c.add_argument("--server-hits")
    c.add_argument("--tool-hits")
    a = ap.parse_args(argv)
    if a.cmd == "probes":
        hits = run_probes(a.url, a.probes)
        with open(a.out, "w") as f:
            json.dump(hits, f, indent=1)
        return 0
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
