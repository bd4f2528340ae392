#!/usr/bin/env python3
"""The checks behind `make demo` (harness/demo.sh): what the index must hold
after each backfill, against what Redis and MySQL actually hold.

Expectations come from the corpus and `rekor-backfill keys` over it: the
replay server serves corpus line `i % n` at log index `i` (same keys, its own
UUID), so the keys of every index, the entries that cannot be indexed and
the UUIDs a search must return are all known in advance. Each command prints
what it found; on any difference it prints one line saying what differs and
exits 1, and the demo turns that into its `FAILED: <step>` line.

usage (KEYS: the `keys` output over the corpus, one line per corpus line;
CORPUS: testdata/corpus/entries.jsonl; REKOR: the replay server's URL):
  demo_check.py admin REKOR PATH JSON
      POST JSON to the replay server's /__admin/PATH (harness/replay-rekor)
  demo_check.py served REKOR FIRST LAST [CORPUS KEYS BELOW]
      the replay server handed out exactly the indices FIRST..LAST (none
      when FIRST > LAST) since the last admin reset-stats, and with CORPUS,
      KEYS and BELOW also the indices under BELOW whose entry has no keys:
      the failure records every run retries first
  demo_check.py failed CORPUS KEYS FIRST LAST FAILED_JSONL
      --failed-entries lists exactly the indices whose entry has no keys
  demo_check.py redis CORPUS KEYS SIZE REKOR PORT PASSWORD [--searches]
  demo_check.py mysql CORPUS KEYS SIZE REKOR PORT USER PASSWORD DATABASE [--searches]
      the index holds every (key, entry) pair of indices 0..SIZE-1 and
      nothing else, and the example searches return exactly the right UUIDs
      (--searches: print each search)
  demo_check.py explain CORPUS KEYS
      which corpus entries have no keys, and why
  demo_check.py redis-checkpoint PORT PASSWORD NAME FIRST LAST
  demo_check.py mysql-checkpoint PORT USER PASSWORD DATABASE NAME FIRST LAST
      the checkpoint NAME says FIRST..LAST are complete
"""

import json
import subprocess
import sys
import urllib.request


class CheckFailed(Exception):
    pass


def ensure(condition, message):
    if not condition:
        raise CheckFailed(message)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Corpus:
    """Corpus lines with their keys, as the replay server serves them."""

    def __init__(self, corpus_path, keys_path):
        self.entries = read_jsonl(corpus_path)
        self.keys = read_jsonl(keys_path)
        ensure(
            len(self.keys) == len(self.entries),
            f"`keys` printed {len(self.keys)} lines for {len(self.entries)} corpus entries",
        )

    def line(self, index):
        return index % len(self.entries)

    def indexable(self, index):
        return "keys" in self.keys[self.line(index)]

    def keys_of(self, index, fold):
        """The distinct keys of an index, as the backend folds them."""
        return {fold(k) for k in self.keys[self.line(index)].get("keys", [])}

    def pairs(self, size, fold):
        """Every (key, index) pair of log indices 0..size-1."""
        return {(k, i) for i in range(size) for k in self.keys_of(i, fold)}

    def examples(self):
        """Searches worth showing: the most shared key of each sort."""
        sorts = [
            ("e-mail (rekor-cli search --email)", lambda k, kind: "@" in k and "://" not in k),
            ("CI workflow identity (certificate URI)", lambda k, kind: k.startswith("https://github.com/")),
            ("artifact digest (rekor-cli search --sha)",
             lambda k, kind: kind == "hashedrekord" and k.startswith("sha256:")),
            ("public key hash (rekor-cli search --public-key)",
             lambda k, kind: kind == "hashedrekord" and len(k) == 64
             and all(c in "0123456789abcdef" for c in k)),
        ]
        found = []
        for label, wanted in sorts:
            lines = {}
            for n, (entry, keys) in enumerate(zip(self.entries, self.keys)):
                for key in keys.get("keys", []):
                    if wanted(key.lower(), entry.get("kind")):
                        lines.setdefault(key.lower(), set()).add(n)
            ensure(lines, f"the corpus has no key for the example search '{label}'")
            key = max(sorted(lines), key=lambda k: len(lines[k]))
            found.append((label, key))
        return found


def redis_fold(key):
    # Rekor's Redis index holds keys lowercased (docs/INDEX_KEYS.md §6);
    # the corpus keys are ASCII, where Python's lower() is Go's ToLower.
    return key.lower()


def mysql_fold(key):
    # EntryKey is varchar(512) with utf8mb4_general_ci: case and trailing
    # spaces do not make another row.
    return key[:512].lower().rstrip(" ")


def fetch_json(url, data=None):
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def uuid_at(rekor, index):
    entry = fetch_json(f"{rekor}/api/v1/log/entries?logIndex={index}")
    ensure(len(entry) == 1, f"the replay server returned {len(entry)} entries for index {index}")
    return next(iter(entry))


def check_served(rekor, first, last, corpus=None, retried_below=0):
    """The backfill fetched FIRST..LAST once each, and before them the
    recorded failures (the corpus entries that cannot be indexed) below
    RETRIED_BELOW: every run retries the stored failure records first."""
    served = fetch_json(f"{rekor}/__admin/served")
    retried = [i for i in range(retried_below) if not corpus.indexable(i)] if corpus else []
    wanted = retried + list(range(first, last + 1))
    if not wanted:
        ensure(not served, f"the backfill fetched {len(served)} entries ({span(served)}), expected none")
        print("fetched from Rekor: nothing")
        return
    ensure(
        sorted(served) == sorted(wanted),
        f"the backfill fetched {len(served)} entries ({span(served)}), expected "
        + (f"the recorded failures {retried} and " if retried else "")
        + (f"each of {first}..{last} once" if first <= last else "nothing else"),
    )
    if retried:
        print(f"fetched from Rekor: the recorded failures {', '.join(map(str, retried))} (retried first)")
    if first <= last:
        print(f"fetched from Rekor: log indices {first}..{last}, each once ({last - first + 1:,} entries)")


def span(indices):
    return f"{min(indices)}..{max(indices)}" if indices else "none"


def check_failed(corpus, first, last, failed_path):
    try:
        recorded = sorted(r["logIndex"] for r in read_jsonl(failed_path))
    except FileNotFoundError:
        recorded = []
    wanted = [i for i in range(first, last + 1) if not corpus.indexable(i)]
    ensure(
        recorded == wanted,
        f"--failed-entries lists log indices {recorded}, expected {wanted} "
        "(the corpus entries whose keys cannot be computed)",
    )
    print(f"not indexable, as expected: log indices {', '.join(map(str, wanted)) or 'none'}")


def run(argv):
    done = subprocess.run(argv, capture_output=True, text=True)
    ensure(done.returncode == 0, f"{argv[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


class Redis:
    name = "Redis"
    fold = staticmethod(redis_fold)

    def __init__(self, port, password):
        self.base = ["redis-cli", "-h", "127.0.0.1", "-p", port, "-a", password,
                     "--no-auth-warning", "--raw"]

    def query(self, *args):
        out = run(self.base + list(args))
        ensure(not out.startswith(("ERR", "NOAUTH", "WRONGPASS")), f"redis: {out.strip()}")
        return out

    def totals(self):
        # Lists only: the checkpoint (and any other bookkeeping) is a string.
        script = (
            "local n, s = 0, 0 "
            "for _, k in ipairs(redis.call('KEYS', '*')) do "
            "if redis.call('TYPE', k).ok == 'list' then n = n + 1; s = s + redis.call('LLEN', k) end "
            "end return {n, s}"
        )
        keys, pairs = self.query("EVAL", script, "0").split()
        return int(keys), int(pairs)

    def search(self, key):
        return self.query("LRANGE", key, "0", "-1").split()

    def checkpoint(self, name):
        record = self.query("GET", f"rekor-backfill:checkpoint:{name}").strip()
        ensure(record, f"Redis has no checkpoint rekor-backfill:checkpoint:{name}")
        record = json.loads(record)
        return record.get("firstIndex"), record.get("lastCompletedIndex"), json.dumps(record)


class Mysql:
    name = "MySQL"
    fold = staticmethod(mysql_fold)

    def __init__(self, port, user, password, database):
        self.base = ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{port}", f"-u{user}",
                     f"-p{password}", database, "-N", "-B", "-e"]

    def query(self, sql):
        return run(self.base + [sql])

    def totals(self):
        keys, pairs = self.query(
            "SELECT COUNT(DISTINCT EntryKey), COUNT(*) FROM EntryIndex").split()
        return int(keys), int(pairs)

    def search(self, key):
        literal = key.replace("\\", "\\\\").replace("'", "\\'")
        return self.query(f"SELECT EntryUUID FROM EntryIndex WHERE EntryKey = '{literal}'").split()

    def checkpoint(self, name):
        row = self.query(
            "SELECT FirstIndex, LastCompletedIndex, LastUpdated FROM BackfillCheckpoint "
            f"WHERE CheckpointKey = '{name}'").strip()
        ensure(row, f"MySQL has no BackfillCheckpoint row {name!r}")
        first, last, updated = row.split("\t")
        shown = f"FirstIndex {first}, LastCompletedIndex {last}, LastUpdated {updated} UTC"
        return int(first), int(last), shown


def check_index(backend, corpus, size, rekor, show_searches):
    wanted = corpus.pairs(size, backend.fold)
    wanted_keys = {k for k, _ in wanted}
    keys, pairs = backend.totals()
    ensure(
        (keys, pairs) == (len(wanted_keys), len(wanted)),
        f"{backend.name} holds {keys:,} keys and {pairs:,} (key, entry) pairs, "
        f"expected {len(wanted_keys):,} keys and {len(wanted):,} pairs",
    )
    indexed = sum(corpus.indexable(i) for i in range(size))
    print(f"{backend.name}: {indexed:,} of {size:,} entries indexed under {keys:,} keys "
          f"({pairs:,} key -> entry pairs), as the corpus gives")
    examples = corpus.examples()
    for label, key in examples:
        indices = sorted(i for k, i in wanted if k == backend.fold(key))
        uuids = sorted(uuid_at(rekor, i) for i in indices)
        got = sorted(backend.search(backend.fold(key)))
        ensure(got == uuids, f"{backend.name} search {key!r} returned {len(got)} entries, "
               f"expected {len(uuids)} (log indices {indices})")
        if show_searches:
            shown = ", ".join(map(str, indices[:6])) + (", …" if len(indices) > 6 else "")
            print(f"  {label}:\n    {key}\n    -> {len(got)} entries, log indices {shown}")
    if not show_searches:
        print(f"{backend.name}: {len(examples)} example searches return exactly the expected entries")


def explain_failures(corpus):
    """Why the corpus entries without keys have none."""
    for n, (entry, keys) in enumerate(zip(corpus.entries, corpus.keys)):
        if "keys" not in keys:
            print(f"corpus line {n + 1} ({entry.get('kind')} {entry.get('apiVersion')}, "
                  f"{entry.get('source')}):\n  {keys.get('error')}")


def check_checkpoint(backend, name, first, last):
    got_first, got_last, shown = backend.checkpoint(name)
    ensure(
        (got_first, got_last) == (first, last),
        f"the {backend.name} checkpoint {name!r} covers {got_first}..{got_last}, "
        f"expected {first}..{last}",
    )
    print(f"checkpoint ({backend.name}, {name!r}): {shown}")


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "admin":
        rekor, path, body = args
        fetch_json(f"{rekor}/__admin/{path}", data=body.encode())
    elif command == "served":
        rekor, first, last, *recorded = args
        corpus = Corpus(recorded[0], recorded[1]) if recorded else None
        retried_below = int(recorded[2]) if recorded else 0
        check_served(rekor, int(first), int(last), corpus, retried_below)
    elif command == "failed":
        check_failed(Corpus(args[0], args[1]), int(args[2]), int(args[3]), args[4])
    elif command == "explain":
        explain_failures(Corpus(args[0], args[1]))
    elif command in ("redis", "mysql"):
        show = "--searches" in args
        args = [a for a in args if a != "--searches"]
        corpus, keys, size, rekor, *backend = args
        backend = Redis(*backend) if command == "redis" else Mysql(*backend)
        check_index(backend, Corpus(corpus, keys), int(size), rekor, show)
    elif command == "redis-checkpoint":
        port, password, name, first, last = args
        check_checkpoint(Redis(port, password), name, int(first), int(last))
    elif command == "mysql-checkpoint":
        port, user, password, database, name, first, last = args
        check_checkpoint(Mysql(port, user, password, database), name, int(first), int(last))
    else:
        raise CheckFailed(f"unknown command {command!r}")


if __name__ == "__main__":
    try:
        main(sys.argv)
    except CheckFailed as e:
        print(f"check failed: {e}", file=sys.stderr)
        sys.exit(1)
    except (OSError, ValueError, KeyError, IndexError) as e:
        print(f"check failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
