#!/usr/bin/env python3
"""Compare the index keys of the Go oracle and of `rekor-backfill keys`.

Why this exists: rekor-backfill must produce the keys Rekor's own Go code
produces, except where the project deliberately differs (docs/INDEX_KEYS.md §10).
This program lines up three line-aligned JSONL files (the input entries, the
Go oracle's output, the Rust output), classifies every entry, and checks that
every entry that is not identical is covered by an explanation rule. It exits
1 when some difference is unexplained, so it can gate a merge.

Output line format (both tools): {"keys": [...]} or {"error": "..."}; other
fields are ignored. Keys are compared as ordered lists. A rule with outcome
"set_equal" is the hook for Go-map-order cases: for the entries it matches,
lists that hold the same keys in another order count as agreeing.

Rules file: a JSON list of objects, each with
  "outcome":  "set_equal" | "differing" | "go_only_failure" | "rust_only_failure"
  "why":      required; the reason, ideally citing the spec section
and optional filters, all of which must match:
  "kind", "apiVersion":   exact match on the entry
  "where":     {"dotted.path": value} equality tests on the decoded body JSON
  "go_error", "rust_error":      regex searched in the error message
  "go_only_keys", "rust_only_keys": regex every key present only on that
               side must fully match ("differing" rules)
  "multi_uid_pgp_key": dotted path of a base64 PGP public key in the body;
               matches only when some key in it has two or more distinct
               user IDs, the only case where Go's order is random
Stdlib only (Python >= 3.9).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

# Entry classes. IDENTICAL, SET_EQUAL and BOTH_FAILED agree on what gets
# indexed (both failures write no key); the other three need a rule.
IDENTICAL = "identical"
SET_EQUAL = "set_equal"
DIFFERING = "differing"
GO_ONLY_FAILURE = "go_only_failure"
RUST_ONLY_FAILURE = "rust_only_failure"
BOTH_FAILED = "both_failed"

NEEDS_EXPLANATION = (DIFFERING, GO_ONLY_FAILURE, RUST_ONLY_FAILURE)
RULE_OUTCOMES = (SET_EQUAL,) + NEEDS_EXPLANATION
RULE_FIELDS = {
    "outcome", "why", "kind", "apiVersion", "where",
    "go_error", "rust_error", "go_only_keys", "rust_only_keys",
    "multi_uid_pgp_key",
}


class InputError(Exception):
    """Malformed input files or rules: the comparison itself is impossible."""


@dataclass(frozen=True)
class Outcome:
    """One tool's result for one entry: keys, or an error message."""

    keys: Optional[tuple[str, ...]]
    error: Optional[str]

    @staticmethod
    def parse(line: str, where: str) -> "Outcome":
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{where}: not JSON: {e}") from None
        if not isinstance(obj, dict):
            raise InputError(f"{where}: not a JSON object")
        if "error" in obj and obj["error"] is not None:
            return Outcome(None, str(obj["error"]))
        keys = obj.get("keys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise InputError(f"{where}: neither a string list \"keys\" nor an \"error\"")
        return Outcome(tuple(keys), None)


@dataclass
class Entry:
    """One input line with what is needed to classify and report it."""

    line_no: int
    kind: str
    api_version: str
    body: Any  # decoded body JSON, or None when it does not decode
    label: str  # how to find the entry again (uuid, logIndex, source)


@dataclass
class Rule:
    outcome: str
    why: str
    kind: Optional[str] = None
    api_version: Optional[str] = None
    where: dict = field(default_factory=dict)
    go_error: Optional[re.Pattern] = None
    rust_error: Optional[re.Pattern] = None
    go_only_keys: Optional[re.Pattern] = None
    rust_only_keys: Optional[re.Pattern] = None
    multi_uid_pgp_key: Optional[str] = None

    @staticmethod
    def from_json(obj: Any, index: int) -> "Rule":
        where = f"rule {index}"
        if not isinstance(obj, dict):
            raise InputError(f"{where}: not an object")
        unknown = set(obj) - RULE_FIELDS
        if unknown:
            raise InputError(f"{where}: unknown fields {sorted(unknown)}")
        if obj.get("outcome") not in RULE_OUTCOMES:
            raise InputError(f"{where}: outcome must be one of {RULE_OUTCOMES}")
        if not isinstance(obj.get("why"), str) or not obj["why"].strip():
            raise InputError(f"{where}: \"why\" is required")
        if not isinstance(obj.get("where", {}), dict):
            raise InputError(f"{where}: \"where\" must be an object")
        if not isinstance(obj.get("multi_uid_pgp_key", ""), str):
            raise InputError(f"{where}: \"multi_uid_pgp_key\" must be a dotted path")

        def regex(name: str) -> Optional[re.Pattern]:
            if name not in obj:
                return None
            try:
                return re.compile(obj[name])
            except (re.error, TypeError) as e:
                raise InputError(f"{where}: bad {name} regex: {e}") from None

        return Rule(
            outcome=obj["outcome"],
            why=obj["why"],
            kind=obj.get("kind"),
            api_version=obj.get("apiVersion"),
            where=obj.get("where", {}),
            go_error=regex("go_error"),
            rust_error=regex("rust_error"),
            go_only_keys=regex("go_only_keys"),
            rust_only_keys=regex("rust_only_keys"),
            multi_uid_pgp_key=obj.get("multi_uid_pgp_key"),
        )

    def matches(self, outcome: str, entry: Entry, go: Outcome, rust: Outcome) -> bool:
        if self.outcome != outcome:
            return False
        if self.kind is not None and self.kind != entry.kind:
            return False
        if self.api_version is not None and self.api_version != entry.api_version:
            return False
        for path, want in self.where.items():
            if lookup(entry.body, path) != want:
                return False
        if self.multi_uid_pgp_key is not None:
            key = lookup(entry.body, self.multi_uid_pgp_key)
            if not isinstance(key, str) or max_pgp_user_ids(key) < 2:
                return False
        if not error_matches(self.go_error, go.error):
            return False
        if not error_matches(self.rust_error, rust.error):
            return False
        if go.keys is not None and rust.keys is not None:
            go_only = Counter(go.keys) - Counter(rust.keys)
            rust_only = Counter(rust.keys) - Counter(go.keys)
            if not all_match(self.go_only_keys, go_only):
                return False
            if not all_match(self.rust_only_keys, rust_only):
                return False
        return True


def error_matches(pattern: Optional[re.Pattern], error: Optional[str]) -> bool:
    return pattern is None or (error is not None and pattern.search(error) is not None)


def all_match(pattern: Optional[re.Pattern], keys: Iterable[str]) -> bool:
    return pattern is None or all(pattern.fullmatch(k) for k in keys)


_MISSING = object()


def lookup(obj: Any, dotted: str) -> Any:
    """Follows a dotted path through nested objects; _MISSING if absent."""
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


def pgp_binary(data: bytes) -> bytes:
    """Returns the packet bytes of a binary or ASCII-armored PGP block."""
    if not data.lstrip().startswith(b"-----BEGIN PGP"):
        return data
    lines = data.decode("ascii", errors="replace").splitlines()
    body: list[str] = []
    state = "begin"  # begin -> headers -> body
    for raw in lines:
        line = raw.strip()
        if state == "begin":
            if line.startswith("-----BEGIN PGP"):
                state = "headers"
        elif state == "headers":
            if line == "":
                state = "body"
            elif ":" not in line:  # no header block at all
                state = "body"
                body.append(line)
        elif line.startswith("=") or line.startswith("-----END"):
            break
        else:
            body.append(line)
    return base64.b64decode("".join(body), validate=False)


def pgp_packets(data: bytes) -> Iterable[tuple[int, bytes]]:
    """Yields (tag, body) for each OpenPGP packet (RFC 4880 §4.2); stops at
    the first malformed header."""
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        i += 1
        if not b & 0x80:
            return
        if b & 0x40:  # new format
            tag = b & 0x3F
            chunks = []
            while True:
                if i >= n:
                    return
                l1 = data[i]
                if l1 < 192:
                    length, i = l1, i + 1
                elif l1 < 224:
                    if i + 1 >= n:
                        return
                    length, i = ((l1 - 192) << 8) + data[i + 1] + 192, i + 2
                elif l1 == 255:
                    if i + 4 >= n:
                        return
                    length, i = int.from_bytes(data[i + 1:i + 5], "big"), i + 5
                else:  # partial body length: more chunks follow
                    length = 1 << (l1 & 0x1F)
                    chunks.append(data[i + 1:i + 1 + length])
                    i += 1 + length
                    continue
                chunks.append(data[i:i + length])
                i += length
                break
            yield tag, b"".join(chunks)
        else:  # old format
            tag = (b >> 2) & 0x0F
            size = {0: 1, 1: 2, 2: 4}.get(b & 3)
            if size is None:  # indeterminate length: rest of the data
                yield tag, data[i:]
                return
            length = int.from_bytes(data[i:i + size], "big")
            i += size
            yield tag, data[i:i + length]
            i += length


def max_pgp_user_ids(b64_key: str) -> int:
    """Largest number of distinct user IDs on one primary key in the block.

    Go keeps identities in a map keyed by the user ID string, so only keys
    with two or more distinct user IDs have a random serialization order.
    Raw user ID packets are counted (Go may drop some, e.g. without a valid
    self-signature), so this errs towards "random"."""
    try:
        data = pgp_binary(base64.b64decode(b64_key, validate=False))
    except (binascii.Error, ValueError):
        return 0
    best, current = 0, None
    for tag, body in pgp_packets(data):
        if tag == 6:  # public key: a new entity starts
            current = set()
        elif tag == 13 and current is not None:  # user ID
            current.add(body)
            best = max(best, len(current))
    return best


def parse_entry(line: str, line_no: int) -> Entry:
    """Reads kind/apiVersion (given, or decoded from the body) for grouping."""
    text = line.strip()
    wrapper: dict = {}
    body_b64 = text
    if text.startswith("{"):
        try:
            wrapper = json.loads(text)
        except json.JSONDecodeError:
            wrapper = {}
        body_b64 = wrapper.get("body") if isinstance(wrapper, dict) else None
        if not isinstance(wrapper, dict):
            wrapper = {}
    body = None
    if isinstance(body_b64, str):
        try:
            body = json.loads(base64.b64decode(body_b64, validate=False))
        except (binascii.Error, ValueError):
            body = None
    decoded = body if isinstance(body, dict) else {}
    kind = wrapper.get("kind", decoded.get("kind", "?"))
    api_version = wrapper.get("apiVersion", decoded.get("apiVersion", "?"))
    label_parts = [f"line {line_no}"]
    for name in ("uuid", "logIndex", "source"):
        if wrapper.get(name) is not None:
            label_parts.append(f"{name}={wrapper[name]}")
    return Entry(line_no, str(kind), str(api_version), body, " ".join(label_parts))


def classify(go: Outcome, rust: Outcome) -> str:
    if go.error is not None and rust.error is not None:
        return BOTH_FAILED
    if go.error is not None:
        return GO_ONLY_FAILURE
    if rust.error is not None:
        return RUST_ONLY_FAILURE
    if go.keys == rust.keys:
        return IDENTICAL
    return DIFFERING


@dataclass
class Verdict:
    entry: Entry
    go: Outcome
    rust: Outcome
    outcome: str
    rule: Optional[Rule]

    @property
    def explained(self) -> bool:
        return self.outcome not in NEEDS_EXPLANATION or self.rule is not None


def judge(entry: Entry, go: Outcome, rust: Outcome, rules: list[Rule]) -> Verdict:
    outcome = classify(go, rust)
    if outcome == DIFFERING and Counter(go.keys) == Counter(rust.keys):
        for rule in rules:
            if rule.matches(SET_EQUAL, entry, go, rust):
                return Verdict(entry, go, rust, SET_EQUAL, rule)
    if outcome in NEEDS_EXPLANATION:
        for rule in rules:
            if rule.matches(outcome, entry, go, rust):
                return Verdict(entry, go, rust, outcome, rule)
    return Verdict(entry, go, rust, outcome, None)


def read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read().splitlines()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e}") from None


def load_rules(path: Optional[str]) -> list[Rule]:
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot load rules {path}: {e}") from None
    if not isinstance(raw, list):
        raise InputError(f"rules {path}: must be a JSON list")
    return [Rule.from_json(obj, i) for i, obj in enumerate(raw)]


def compare(input_path: str, go_path: str, rust_path: str, rules: list[Rule]) -> list[Verdict]:
    inputs = read_lines(input_path)
    gos = read_lines(go_path)
    rusts = read_lines(rust_path)
    if not (len(inputs) == len(gos) == len(rusts)):
        raise InputError(
            f"line counts differ: input {len(inputs)}, go {len(gos)}, rust {len(rusts)}"
            " (each tool must print exactly one line per input line)")
    verdicts = []
    for i, (line, go_line, rust_line) in enumerate(zip(inputs, gos, rusts), start=1):
        entry = parse_entry(line, i)
        go = Outcome.parse(go_line, f"{go_path}:{i}")
        rust = Outcome.parse(rust_line, f"{rust_path}:{i}")
        verdicts.append(judge(entry, go, rust, rules))
    return verdicts


COLUMNS = ("entries", IDENTICAL, SET_EQUAL, DIFFERING, GO_ONLY_FAILURE,
           RUST_ONLY_FAILURE, BOTH_FAILED, "unexplained")
HEADERS = ("entries", "identical", "set-equal", "differing", "go-only-fail",
           "rust-only-fail", "both-fail", "UNEXPLAINED")


def table(verdicts: list[Verdict]) -> str:
    rows: dict[tuple[str, str], Counter] = {}
    for v in verdicts:
        row = rows.setdefault((v.entry.kind, v.entry.api_version), Counter())
        row["entries"] += 1
        row[v.outcome] += 1
        if not v.explained:
            row["unexplained"] += 1
    total = sum(rows.values(), Counter())
    lines = []
    widths = [len(h) + 2 for h in HEADERS]

    def cells(values) -> str:
        return "".join(f"{v:>{w}}" for v, w in zip(values, widths))

    head = f"{'kind':<14}{'apiVersion':<11}" + cells(HEADERS)
    lines.append(head)
    lines.append("-" * len(head))
    for (kind, version), row in sorted(rows.items()):
        lines.append(f"{kind:<14}{version:<11}" + cells(row[c] for c in COLUMNS))
    lines.append("-" * len(head))
    lines.append(f"{'TOTAL':<25}" + cells(total[c] for c in COLUMNS))
    return "\n".join(lines)


def describe(v: Verdict) -> str:
    """Human-readable detail of one non-identical entry."""
    out = [f"{v.entry.label} [{v.entry.kind} {v.entry.api_version}] {v.outcome}"]
    if v.rule is not None:
        out.append(f"  explained: {v.rule.why}")
    if v.go.error is not None:
        out.append(f"  go error:   {v.go.error}")
    if v.rust.error is not None:
        out.append(f"  rust error: {v.rust.error}")
    if v.go.keys is not None and v.rust.keys is not None:
        go_only = Counter(v.go.keys) - Counter(v.rust.keys)
        rust_only = Counter(v.rust.keys) - Counter(v.go.keys)
        for k in go_only.elements():
            out.append(f"  only go:    {k}")
        for k in rust_only.elements():
            out.append(f"  only rust:  {k}")
        if not go_only and not rust_only:
            out.append(f"  same keys, other order:\n    go:   {list(v.go.keys)}\n"
                       f"    rust: {list(v.rust.keys)}")
    elif v.go.keys is not None:
        out.append(f"  go keys:    {list(v.go.keys)}")
    elif v.rust.keys is not None:
        out.append(f"  rust keys:  {list(v.rust.keys)}")
    return "\n".join(out)


def verdict_json(v: Verdict) -> dict:
    return {
        "line": v.entry.line_no, "label": v.entry.label, "kind": v.entry.kind,
        "apiVersion": v.entry.api_version, "outcome": v.outcome,
        "explained": v.explained, "why": v.rule.why if v.rule else None,
        "go": {"keys": list(v.go.keys)} if v.go.keys is not None else {"error": v.go.error},
        "rust": {"keys": list(v.rust.keys)} if v.rust.keys is not None else {"error": v.rust.error},
    }


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--input", required=True, help="input JSONL both tools read")
    p.add_argument("--go", required=True, help="key-oracle output")
    p.add_argument("--rust", required=True, help="rekor-backfill keys output")
    p.add_argument("--rules", help="JSON rules that explain deliberate differences")
    p.add_argument("--report", help="write every non-identical entry as JSONL here")
    p.add_argument("--show-explained", action="store_true",
                   help="also print details of explained differences")
    args = p.parse_args(argv)
    try:
        rules = load_rules(args.rules)
        verdicts = compare(args.input, args.go, args.rust, rules)
    except InputError as e:
        print(f"parity: {e}", file=sys.stderr)
        return 2

    print(table(verdicts))
    notable = [v for v in verdicts if v.outcome not in (IDENTICAL, BOTH_FAILED)]
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            for v in notable:
                f.write(json.dumps(verdict_json(v), ensure_ascii=False) + "\n")
    unexplained = [v for v in notable if not v.explained]
    shown = notable if args.show_explained else unexplained
    if shown:
        print()
        for v in shown:
            print(describe(v))
    if unexplained:
        print(f"\nparity: FAIL: {len(unexplained)} unexplained difference(s)", file=sys.stderr)
        return 1
    print(f"\nparity: OK: {len(verdicts)} entries, "
          f"{len(notable)} explained difference(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
