"""Turns pgp.sh's output (pgp.jsonl: proposed entries, pgp.labels: one
label per line) into the generator's line format (genlib.py) for run.sh.

Some cases are made to be refused by the server (keys it cannot use for
the signature); they are marked expect_reject, so assemble.py checks that
the server does refuse them. Their key parsing is still compared through
pgp.sh's pgp.raw.jsonl (see the script's header).
"""

import json
import re
import sys

# Label patterns of cases rekor-server refuses at upload, with why.
EXPECT_REJECT = [
    (r"^rekord: revoked, ", "signature made by a revoked key"),
    (r"^rekord: armored private key$", "a private key block holds no public key Rekor reads"),
    (r"^rekord: armored key with text around it$", "Rekor's armor detection needs the block first"),
    (r"^rekord: fixture valid_(armored|binary)_complex_public, ", "fixture signature by another key"),
    (r"^rekord: fixture (armored|binary)_private, ", "private key fixtures"),
]


def main(src_dir, target):
    with open(src_dir + "/pgp.jsonl") as f:
        entries = [json.loads(line) for line in f]
    with open(src_dir + "/pgp.labels") as f:
        labels = [line.rstrip("\n") for line in f]
    if len(entries) != len(labels):
        raise SystemExit("pgp_genlib: %d entries but %d labels" % (len(entries), len(labels)))
    seen = set()
    with open(target, "w") as out:
        for label, entry in zip(labels, entries):
            if label in seen:
                raise SystemExit("pgp_genlib: duplicate label %r" % label)
            seen.add(label)
            line = {"label": label, "entry": entry}
            if any(re.search(p, label) for p, _ in EXPECT_REJECT):
                line["expect_reject"] = True
            out.write(json.dumps(line, separators=(",", ":"), sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
