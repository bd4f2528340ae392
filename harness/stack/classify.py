#!/usr/bin/env python3
"""Compares a rebuilt index with the one rekor-server wrote at upload time,
pair by pair, and puts every difference in a class: documented (a rule of
stack-rules.json explains it, citing docs/INDEX_KEYS.md), pending (the tool said
the entry's kind is not implemented yet) or unexplained. Standard library
only; the PGP user-ID counting is parity_compare.py's.

Why rules instead of a hand-kept expected dump: the log is made fresh on
every run (new keys, new signatures), so only the reason for a difference
is stable, not the difference itself.

A pair is (key, entry ID) exactly as stored, so a tool that wrote the bare
UUID where the server wrote the entry ID (tree ID + UUID) differs on every
pair. Per pair of the union:
  same      in both, as often in both
  dup       in both, the server lists it more often than the tool (Redis)
  tool-dup  the tool lists it more than once (never explained)
  case      the tool has it only with another case of the key
  missing   only the server has it
  extra     only the tool has it

usage: classify.py --entries ENTRIES.jsonl --backend redis|mysql --tool go|rust
                   [--rules stack-rules.json] [--failed FAILED.jsonl]
                   [--json OUT.json] SERVER.tsv TOOL.tsv
(dumps as store.py writes them, counted or not). Prints a per-kind table;
exit status 1 when a difference is unexplained, 0 otherwise.
"""

import argparse
import base64
import collections
import json
import os
import re
import sys

import store

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "key-oracle"))
from parity_compare import lookup, max_pgp_user_ids  # noqa: E402

DIFFS = ("same", "dup", "tool-dup", "case", "missing", "extra")


def short(uuid):
    return uuid[-64:]


def load_entries(path):
    """{short uuid: entry} with the decoded body under "doc"."""
    entries = {}
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            try:
                e["doc"] = json.loads(base64.b64decode(e.get("body") or ""))
            except ValueError:
                e["doc"] = {}
            e["body_text"] = json.dumps(e["doc"]).lower()
            entries[short(e["uuid"])] = e
    return entries


def load_failed(path):
    """{short uuid: error} from a --failed-entries file."""
    out = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    e = json.loads(line)
                    out[short(e.get("uuid", ""))] = e.get("error", "")
    return out


def as_list(v):
    return v if isinstance(v, list) else [v]


class Rule:
    def __init__(self, obj):
        self.id = obj["id"]
        self.why = obj["why"]
        self.klass = obj.get("class", "documented")
        self.tools = obj.get("tools")
        self.backend = obj.get("backend")
        self.kinds = as_list(obj["kind"]) if "kind" in obj else None
        self.diffs = as_list(obj["diff"])
        self.key = re.compile(obj["key"]) if "key" in obj else None
        self.key_not_in_body = obj.get("key_not_in_body", False)
        self.pgp_paths = obj.get("multi_uid_pgp_key")
        self.failed_error = re.compile(obj["failed_error"]) if "failed_error" in obj else None

    def matches(self, diff, key, entry, tool, backend, failed_error):
        if diff not in self.diffs:
            return False
        if self.tools and tool not in self.tools:
            return False
        if self.backend and backend != self.backend:
            return False
        if self.kinds and (entry or {}).get("kind") not in self.kinds:
            return False
        if self.key and not self.key.search(key):
            return False
        if self.key_not_in_body:
            value = key.split(":", 1)[-1].lower()
            if entry is None or value in entry["body_text"]:
                return False
        if self.pgp_paths is not None:
            if entry is None:
                return False
            pubs = [lookup(entry["doc"], p) for p in self.pgp_paths]
            if not any(isinstance(p, str) and max_pgp_user_ids(p) >= 2 for p in pubs):
                return False
        if self.failed_error is not None:
            if failed_error is None or not self.failed_error.search(failed_error):
                return False
        return True


def load_rules(path):
    with open(path) as f:
        return [Rule(o) for o in json.load(f)]


def diff_pairs(server, tool):
    """[(diff, key, uuid)] over the union of two counted dumps."""
    out = []
    only_s = {p for p in server if p not in tool}
    only_t = {p for p in tool if p not in server}
    for p in set(server) & set(tool):
        s, t = server[p], tool[p]
        if t > 1:
            out.append(("tool-dup", p[0], p[1]))
        elif s == t:
            out.append(("same", p[0], p[1]))
        else:
            out.append(("dup", p[0], p[1]))
    for p in only_t:
        if tool[p] > 1:
            out.append(("tool-dup", p[0], p[1]))
    lower_t = collections.defaultdict(set)
    for k, u in only_t:
        lower_t[(k.lower(), u)].add((k, u))
    case_t = set()
    for k, u in only_s:
        match = lower_t.get((k.lower(), u))
        if match:
            out.append(("case", k, u))
            case_t |= match
        else:
            out.append(("missing", k, u))
    for k, u in only_t - case_t:
        out.append(("extra", k, u))
    return out


def classify(entries, rules, server, tool, tool_name, backend, failed):
    """[(diff, key, uuid, class, rule id or None)]"""
    out = []
    for diff, key, uuid in diff_pairs(server, tool):
        if diff == "same":
            out.append((diff, key, uuid, "same", None))
            continue
        entry = entries.get(short(uuid))
        err = failed.get(short(uuid))
        rule = next((r for r in rules if r.matches(diff, key, entry, tool_name, backend, err)), None)
        out.append((diff, key, uuid, rule.klass if rule else "unexplained", rule.id if rule else None))
    return out


def kind_of(entries, uuid):
    e = entries.get(short(uuid))
    return "%s %s" % (e["kind"], e["apiVersion"]) if e else "(not in log)"


def summarize(entries, rows, server, tool):
    """Per kind: entries, server pairs, tool pairs, counts per class and per rule."""
    kinds = collections.OrderedDict()
    for k in sorted({kind_of(entries, u) for u in entries}):
        kinds[k] = {"entries": 0, "server": 0, "tool": 0, "same": 0, "documented": 0,
                    "pending": 0, "unexplained": 0, "rules": collections.Counter()}
    for u in entries:
        kinds[kind_of(entries, u)]["entries"] += 1

    def row(uuid):
        k = kind_of(entries, uuid)
        if k not in kinds:
            kinds[k] = {"entries": 0, "server": 0, "tool": 0, "same": 0, "documented": 0,
                        "pending": 0, "unexplained": 0, "rules": collections.Counter()}
        return kinds[k]

    for (_, u), n in server.items():
        row(u)["server"] += n
    for (_, u), n in tool.items():
        row(u)["tool"] += n
    for diff, _, uuid, klass, rule in rows:
        r = row(uuid)
        r[klass] += 1
        if rule:
            r["rules"][rule] += 1
    return kinds


def print_table(kinds, tool_name, out=sys.stdout):
    out.write("%-18s %7s %7s %7s %6s %10s %8s %11s  %s\n" % (
        "kind", "entries", "server", tool_name, "same", "documented", "pending", "unexplained", "rules"))
    tot = collections.Counter()
    for k, r in kinds.items():
        rules = ", ".join("%s %d" % (i, n) for i, n in sorted(r["rules"].items()))
        out.write("%-18s %7d %7d %7d %6d %10d %8d %11d  %s\n" % (
            k, r["entries"], r["server"], r["tool"], r["same"], r["documented"], r["pending"],
            r["unexplained"], rules))
        for f in ("entries", "server", "tool", "same", "documented", "pending", "unexplained"):
            tot[f] += r[f]
    out.write("%-18s %7d %7d %7d %6d %10d %8d %11d\n" % (
        "TOTAL", tot["entries"], tot["server"], tot["tool"], tot["same"], tot["documented"],
        tot["pending"], tot["unexplained"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", required=True)
    ap.add_argument("--backend", choices=["redis", "mysql"], required=True)
    ap.add_argument("--tool", choices=["go", "rust"], required=True)
    ap.add_argument("--rules", default=os.path.join(HERE, "stack-rules.json"))
    ap.add_argument("--failed")
    ap.add_argument("--json")
    ap.add_argument("server")
    ap.add_argument("tool_dump")
    a = ap.parse_args(argv)

    entries = load_entries(a.entries)
    server = store.counted(store.read_pairs(a.server))
    tool = store.counted(store.read_pairs(a.tool_dump))
    failed = load_failed(a.failed)
    rows = classify(entries, load_rules(a.rules), server, tool, a.tool, a.backend, failed)
    kinds = summarize(entries, rows, server, tool)
    print_table(kinds, a.tool)
    unexplained = [r for r in rows if r[3] == "unexplained"]
    for diff, key, uuid, _, _ in sorted(unexplained, key=lambda r: (r[2], r[1]))[:40]:
        e = entries.get(short(uuid), {})
        print("UNEXPLAINED %-8s #%s %s %s %s" % (diff, e.get("logIndex", "?"), kind_of(entries, uuid),
                                                 uuid[-64:][:16], key))
    if a.json:
        with open(a.json, "w", encoding="utf-8", errors="surrogateescape") as f:
            json.dump({
                "tool": a.tool, "backend": a.backend,
                "kinds": {k: dict(v, rules=dict(v["rules"])) for k, v in kinds.items()},
                "rows": [{"diff": d, "key": k, "uuid": u, "class": c, "rule": r,
                          "logIndex": entries.get(short(u), {}).get("logIndex"),
                          "kind": kind_of(entries, u)}
                         for d, k, u, c, r in rows if c != "same"],
                "failed": failed,
            }, f, indent=1, sort_keys=True)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
