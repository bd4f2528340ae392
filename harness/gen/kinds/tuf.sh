#!/usr/bin/env bash
# tuf 0.0.1: a repository made by harness/stack/artifacts.py (root,
# timestamp, snapshot, targets and a mixed-case `Targets` role, expiring in
# 2100) and rekor's unexpired fixture root as its own metadata. Refused at
# upload and hand-made as stored bodies: the expired fixture root (Go's
# expiry check, §10) and a root whose signature does not verify (not
# re-verified, §10). Hand-made, same keys on both sides expected: metadata
# that is not in canonical form (whitespace, UPPERCASE signature hex, extra
# fields that data.Signed drops, HTML characters and escapes) and contents
# stored as JSON objects instead of base64 strings; refused by both: a
# fractional version and a number beyond float64 in the metadata.
set -euo pipefail
python3 "$ARTIFACTS" tuf repo "$GEN_KEYS/ed25519.key" --targets-role Targets
python3 - "$1" <<'PY'
import copy, json, sys
from genlib import Out, b64, canonical_json, read, env
out = Out(sys.argv[1])
F = env("REKOR_MOD") + "/pkg/pki/tuf/testdata"
load = lambda p: json.loads(read(p))

def proposed(label, metadata, root, **kw):
    out.proposed(label, "tuf", "0.0.1", {"metadata": {"content": load(metadata)}, "root": {"content": load(root)}}, **kw)

for m in ["root", "timestamp", "snapshot", "targets", "Targets"]:
    proposed("repo-" + m, "repo/%s.json" % m, "repo/root.json")
proposed("fixture-other-root", F + "/other_root.json", F + "/other_root.json")
proposed("fixture-expired-root-refused", F + "/timestamp.json", F + "/1.root.json", expect_reject=True)

def stored(label, metadata_content, root_content, spec_version="1.0"):
    spec = {"metadata": {"content": metadata_content}, "root": {"content": root_content},
            "spec_version": spec_version}
    out.stored(label, {"apiVersion": "0.0.1", "kind": "tuf", "spec": spec}, "tuf", "0.0.1")

jcs64 = lambda obj: b64(canonical_json(obj))
root, ts = load("repo/root.json"), load("repo/timestamp.json")
stored("fixture-expired-root", jcs64(load(F + "/timestamp.json")), jcs64(load(F + "/1.root.json")))
stored("fixture-expired-root-as-metadata", jcs64(load(F + "/1.root.json")), jcs64(load(F + "/1.root.json")))
bad = copy.deepcopy(root)
sig = bad["signatures"][0]["sig"]
bad["signatures"][0]["sig"] = ("0" if sig[0] != "0" else "1") + sig[1:]
stored("root-signature-does-not-verify", jcs64(ts), jcs64(bad))

messy = copy.deepcopy(ts)
messy["signatures"][0]["sig"] = messy["signatures"][0]["sig"].upper()
messy["signatures"][0]["method"] = "dropped by data.Signature"
messy["dropped"] = {"by": "data.Signed"}
messy["signed"]["custom"] = {"note": "<b> & \u00e9 \u2028 \"q\"", "n": [1.0, 1e3, -0.0, 12345678901234567890]}
text = json.dumps(messy, indent=3, ensure_ascii=True).encode()
stored("metadata-not-canonical", b64(text), jcs64(root))
stored("contents-as-json-objects", messy, root)
frac = copy.deepcopy(ts)
frac["signed"]["version"] = 1.5
stored("metadata-fractional-version", jcs64(frac), jcs64(root))
huge = b'{"signatures":[],"signed":{"_type":"timestamp","version":1,"x":1e400}}'
stored("metadata-number-beyond-float64", b64(huge), jcs64(root))
PY
