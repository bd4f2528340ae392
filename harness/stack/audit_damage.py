#!/usr/bin/env python3
"""Helpers of scenario 7 (harness/stack/scenarios_audit.sh): damage an index
in a known way and predict what `rekor-backfill audit` must report, and
compare rekor-cli probes before and after `rekor-backfill fix-case`.
Standard library only (and store.py beside it).

  audit_damage.py damage --truth TRUTH.tsv --seed N --share 0.1 --mis-case 3 --out EXPECTED.json
      reads the store's index (the server's own, restored by the caller),
      removes a seeded random SHARE of the pairs that rekor-backfill also
      writes (TRUTH, its own index of the same log), moves every pair of
      MIS_CASE keys (Redis only) under the key's upper-case spelling, as the
      Go backfill-index writes keys with capitals, writes the result back
      (store.py restore) and the audit figures it implies to EXPECTED.json:
      pairsExpected (TRUTH), present, missing (also pairs TRUTH has and the
      server never wrote), misCased.
  audit_damage.py probes --server S.json --go G.json --fixed F.json --classified GO.json
      the probes that lost entries on the Go index (G vs the server's S)
      must find them after fix-case (F), except entries the Go tool never
      indexed under any spelling (documented "missing" differences of
      GO.json); prints a summary, exit status 1 when one does not.
"""

import argparse
import json
import random
import sys

import store


def damage(a):
    st = store.Store()
    pairs, _ = st.snapshot()
    truth = set(store.read_pairs(a.truth))
    shared = sorted(set(pairs) & truth)
    rng = random.Random(a.seed)
    wiped = set(rng.sample(shared, round(a.share * len(shared))))
    moved = set()
    if st.backend == "redis":
        keys = sorted({k for k, _ in shared if k.isascii() and k != k.upper()})
        moved = set(rng.sample(keys, min(a.mis_case, len(keys))))
    damaged = [(k.upper() if k in moved else k, u) for k, u in pairs if (k, u) not in wiped]
    st.restore(damaged)
    after = set(damaged)
    counts = {"present": 0, "missing": 0, "misCased": 0}
    for k, u in truth:
        if (k, u) in after:
            counts["present"] += 1
        elif (k.upper(), u) in after:
            counts["misCased"] += 1
        else:
            counts["missing"] += 1
    counts.update(pairsExpected=len(truth), wiped=len(wiped), misCasedKeys=len(moved),
                  neverWritten=len(truth - set(pairs)), seed=a.seed)
    with open(a.out, "w") as f:
        json.dump(counts, f, indent=1, sort_keys=True)
    print(json.dumps(counts, sort_keys=True))
    return 0


def probes(a):
    short = lambda u: u[-64:]
    load = lambda p: {label: {short(u) for u in hits} for label, hits in json.load(open(p)).items()}
    server, go, fixed = load(a.server), load(a.go), load(a.fixed)
    with open(a.classified) as f:
        rows = json.load(f)["rows"]
    never = {short(r["uuid"]) for r in rows if r["class"] == "documented" and r["diff"] == "missing"}
    failed = [label for label in server if server[label] - go.get(label, set())]
    repaired, still = [], []
    for label in failed:
        lost = server[label] - fixed.get(label, set()) - never
        (still if lost else repaired).append(label)
    case_only = [label for label in failed if not (server[label] - go.get(label, set())) <= never]
    out = {"probes": len(server), "failed_with_go": len(failed), "case_related": len(case_only),
           "repaired": len([label for label in case_only if label in repaired]), "still_failing": still}
    print(json.dumps(out, sort_keys=True))
    return 1 if still or not case_only else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("damage")
    d.add_argument("--truth", required=True)
    d.add_argument("--seed", type=int, required=True)
    d.add_argument("--share", type=float, default=0.1)
    d.add_argument("--mis-case", type=int, default=3)
    d.add_argument("--out", required=True)
    p = sub.add_parser("probes")
    p.add_argument("--server", required=True)
    p.add_argument("--go", required=True)
    p.add_argument("--fixed", required=True)
    p.add_argument("--classified", required=True)
    a = ap.parse_args(argv)
    return damage(a) if a.cmd == "damage" else probes(a)


if __name__ == "__main__":
    sys.exit(main())
