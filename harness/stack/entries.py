#!/usr/bin/env python3
"""Reads every entry of the log (every shard) straight from rekor-server (GET
/api/v1/log/entries?logIndex=N) into JSON lines: uuid (the entry ID as the
server names it), logIndex, kind, apiVersion, body (base64, as stored) and
whether the server returned attestation data. The scenarios key their
per-entry and per-kind reports on this file. Standard library only.

An entry the server cannot return (HTTP error) is written with kind
"UNREADABLE" rather than stopping the listing.

usage: entries.py REKOR_URL OUT.jsonl [--from N]
"""

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request


def total_size(info):
    """The log's size over all its shards: GET /api/v1/log's treeSize is the
    active tree's only; inactiveShards (oldest first) hold the indices before
    it."""
    return info["treeSize"] + sum(s["treeSize"] for s in info.get("inactiveShards") or [])


def tree_size(url):
    with urllib.request.urlopen(url + "/api/v1/log", timeout=30) as r:
        return total_size(json.load(r))


def fetch(url, index):
    try:
        with urllib.request.urlopen("%s/api/v1/log/entries?logIndex=%d" % (url, index), timeout=30) as r:
            (uuid, e), = json.load(r).items()
    except urllib.error.HTTPError as err:
        return {"uuid": "unreadable-%d" % index, "logIndex": index, "kind": "UNREADABLE",
                "apiVersion": "http-%d" % err.code}
    body = json.loads(base64.b64decode(e["body"]))
    return {"uuid": uuid, "logIndex": e["logIndex"], "kind": body.get("kind"),
            "apiVersion": body.get("apiVersion"), "body": e["body"],
            "attestation": bool((e.get("attestation") or {}).get("data"))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url")
    ap.add_argument("out")
    ap.add_argument("--from", dest="start", type=int, default=0)
    a = ap.parse_args(argv)
    size = tree_size(a.url)
    with open(a.out, "w") as f:
        for i in range(a.start, size):
            f.write(json.dumps(fetch(a.url, i), sort_keys=True) + "\n")
    print(size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
