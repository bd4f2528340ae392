#!/usr/bin/env python3
"""Direct access to the stack's search-index stores, for the scenarios: dump,
wipe, remove the pairs of some entries, read a checkpoint, wait for the
server's asynchronous index writes to settle. Standard library only.

Why not redis-cli/mariadb in shell loops: a dump must be one consistent view.
On Redis one EVAL returns every list (and the checkpoint) atomically; on
MySQL one client session reads both tables inside one consistent-snapshot
transaction. Redis is spoken directly (RESP over a socket, a few lines);
MySQL goes through the `mariadb` client over the server's unix socket as
root, with keys as HEX() so any byte survives.

Dumps are text, one index pair per line, `key<TAB>uuid`, with `\\`, TAB and
newline in keys escaped as `\\\\`, `\\t`, `\\n`. Redis lists come out in LRANGE
order, list by list in key order; MySQL rows in (key, uuid) order. A
"counted" dump (`--counted`) is sorted with a third column, how many times
the pair occurs (more than 1 only for a Redis list holding a uuid twice).

The store is chosen by the stack's env (stack.sh env): STACK_BACKEND,
REDIS_PORT / REDIS_GO_PORT, REDIS_PASSWORD, STACK_MYSQL_SOCKET,
INDEX_DB / INDEX_GO_DB. `--target go` selects the shadow store.

usage: store.py [--target main|go] COMMAND ...
  dump [--counted] [--checkpoint NAME] OUT   one consistent dump; with
                                           --checkpoint also OUT.checkpoint
  settle [--quiet-for S] [--timeout S] OUT  dump once two dumps S apart agree
  wipe [--keep-checkpoints]                every index pair (and checkpoint)
  remove-entries UUID...                   every pair of these entries
  checkpoint NAME                          the stored checkpoint JSON, or `none`
  restore DUMP                             wipe, then write DUMP back exactly
  diff A B                                 compare two dumps as counted pairs:
                                           prints `equal` (exit 0) or a summary
                                           of what differs (exit 1)
  select ENTRIES.jsonl DUMP OUT            the pairs of DUMP that belong to the
                                           entries of ENTRIES.jsonl (counted)
  subset A B                               exit 0 when every pair of A is in B
                                           as often
  pending-only FAILED.jsonl                exit 0 when every line of a
                                           --failed-entries file is pending
                                           (its error matches the failed_error
                                           of stack-rules.json's rule
                                           "not-implemented"), or it is empty
  pending-count FAILED.jsonl               how many lines are pending
"""

import argparse
import collections
import json
import os
import re
import socket
import subprocess
import sys
import time

CHECKPOINT_PREFIX = "rekor-backfill:checkpoint:"


# ------------------------------------------------------------------ text format

def esc(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def unesc(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "\\": "\\"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def read_pairs(path):
    """Ordered list of (key, uuid) from a dump; a counted dump is expanded."""
    pairs = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            n = int(parts[2]) if len(parts) > 2 else 1
            pairs.extend([(unesc(parts[0]), parts[1])] * n)
    return pairs


def counted(pairs):
    """{(key, uuid): occurrences}."""
    return collections.Counter(pairs)


def write_dump(path, pairs, with_counts):
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        if with_counts:
            for (k, u), n in sorted(counted(pairs).items()):
                f.write("%s\t%s\t%d\n" % (esc(k), u, n))
        else:
            for k, u in pairs:
                f.write("%s\t%s\n" % (esc(k), u))


# ------------------------------------------------------------------ Redis

class RedisError(Exception):
    pass


class Redis:
    """Just enough RESP2 for the harness."""

    def __init__(self, port, password, host="127.0.0.1", timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.f = self.sock.makefile("rb")
        if password:
            self.call("AUTH", password)

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode("utf-8", "surrogateescape")
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.f.readline()
        if not line:
            raise RedisError("connection closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RedisError(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode("utf-8", "surrogateescape")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RedisError("bad reply %r" % line)


# Every list as key/value pairs plus the named checkpoints, in one atomic call.
REDIS_DUMP_LUA = """
local out = {}
for i, name in ipairs(ARGV) do
    out[#out + 1] = redis.call('GET', name) or ''
end
local keys = redis.call('KEYS', '*')
table.sort(keys)
for _, k in ipairs(keys) do
    if redis.call('TYPE', k).ok == 'list' then
        for _, v in ipairs(redis.call('LRANGE', k, 0, -1)) do
            out[#out + 1] = k
            out[#out + 1] = v
        end
    end
end
return out
"""


# ------------------------------------------------------------------ the store

class Store:
    """One index store of the stack: main (what rekor-server searches) or go
    (the shadow store of STACK_SHADOW=1)."""

    def __init__(self, target="main", env=os.environ):
        self.backend = env["STACK_BACKEND"]
        self.env = env
        if self.backend == "redis":
            self.port = int(env["REDIS_GO_PORT"] if target == "go" else env["REDIS_PORT"])
            self.password = env.get("REDIS_PASSWORD", "")
        else:
            self.db = env["INDEX_GO_DB"] if target == "go" else env["INDEX_DB"]
            self.socket = env["STACK_MYSQL_SOCKET"]

    # -- MySQL through the client
    def sql(self, statements, force=False, timeout=30):
        cmd = ["mariadb", "--no-defaults", "--protocol=socket", "-uroot", "--socket=" + self.socket,
               "-N", "-B", "--raw", self.db]
        if force:
            cmd.append("--force")
        p = subprocess.run(cmd, input=statements.encode(), capture_output=True, timeout=timeout)
        if p.returncode != 0 and not force:
            raise RuntimeError("mariadb: %s" % p.stderr.decode(errors="replace").strip())
        return p.stdout.decode("utf-8", "surrogateescape")

    def redis(self):
        return Redis(self.port, self.password)

    def snapshot(self, checkpoint_names=()):
        """(pairs in order, {name: checkpoint dict or None}) in one consistent read."""
        if self.backend == "redis":
            r = self.redis()
            try:
                names = [CHECKPOINT_PREFIX + n for n in checkpoint_names]
                flat = r.call("EVAL", REDIS_DUMP_LUA, 0, *names)
            finally:
                r.close()
            cps = {n: (json.loads(v) if v else None) for n, v in zip(checkpoint_names, flat)}
            rest = flat[len(names):]
            return list(zip(rest[0::2], rest[1::2])), cps
        stmts = ["START TRANSACTION WITH CONSISTENT SNAPSHOT;"]
        for n in checkpoint_names:
            stmts.append("SELECT 'CP', CheckpointKey, IFNULL(FirstIndex, ''), LastCompletedIndex, "
                         "LastUpdated FROM BackfillCheckpoint WHERE CheckpointKey = '%s';" % n)
        stmts.append("SELECT 'IX', HEX(EntryKey), EntryUUID FROM EntryIndex ORDER BY EntryKey, EntryUUID;")
        stmts.append("COMMIT;")
        # --force: a table the tool has not created yet is simply absent.
        out = self.sql("\n".join(stmts), force=True)
        pairs, cps = [], {n: None for n in checkpoint_names}
        for line in out.splitlines():
            f = line.split("\t")
            if f[0] == "IX" and len(f) == 3:
                pairs.append((bytes.fromhex(f[1]).decode("utf-8", "surrogateescape"), f[2]))
            elif f[0] == "CP" and len(f) == 5:
                cps[f[1]] = {"firstIndex": int(f[2]) if f[2] else None,
                             "lastCompletedIndex": int(f[3]), "lastUpdated": f[4]}
        return pairs, cps

    def checkpoint(self, name):
        return self.snapshot([name])[1][name]

    def wipe(self, keep_checkpoints=False):
        if self.backend == "redis":
            r = self.redis()
            try:
                if keep_checkpoints:
                    for k in r.call("KEYS", "*"):
                        if not k.startswith(CHECKPOINT_PREFIX):
                            r.call("DEL", k)
                else:
                    r.call("FLUSHDB")
            finally:
                r.close()
        else:
            stmts = "DELETE FROM EntryIndex;"
            if not keep_checkpoints:
                stmts += "\nDELETE FROM BackfillCheckpoint;"
            self.sql(stmts, force=True)

    def remove_entries(self, uuids):
        """Removes every pair of these entries (full entry IDs or bare UUIDs)."""
        want = {u[-64:] for u in uuids}
        if self.backend == "redis":
            pairs, _ = self.snapshot()
            r = self.redis()
            try:
                for k, u in pairs:
                    if u[-64:] in want:
                        r.call("LREM", k, 0, u)
            finally:
                r.close()
        else:
            conds = " OR ".join("EntryUUID LIKE '%%%s'" % u for u in sorted(want))
            if conds:
                self.sql("DELETE FROM EntryIndex WHERE %s;" % conds)

    def restore(self, pairs):
        """Wipes the index (checkpoints kept) and writes the pairs back in the
        same order (Redis: RPUSH in LRANGE order)."""
        self.wipe(keep_checkpoints=True)
        if self.backend == "redis":
            r = self.redis()
            try:
                for k, u in pairs:
                    r.call("RPUSH", k, u)
            finally:
                r.close()
        else:
            stmts = ["INSERT IGNORE INTO EntryIndex (EntryKey, EntryUUID) VALUES "
                     "(CONVERT(X'%s' USING utf8mb4), '%s');"
                     % (k.encode("utf-8", "surrogateescape").hex(), u) for k, u in pairs]
            self.sql("\n".join(stmts))

    def settle(self, quiet_for=1.0, timeout=30.0):
        """The server indexes in a goroutine after answering an upload: wait
        until two dumps `quiet_for` seconds apart agree."""
        deadline = time.monotonic() + timeout
        prev = None
        while True:
            cur, _ = self.snapshot()
            if prev is not None and sorted(cur) == sorted(prev):
                return cur
            if time.monotonic() > deadline:
                raise RuntimeError("the index did not settle within %ss" % timeout)
            prev = cur
            time.sleep(quiet_for)


def diff_summary(a, b):
    """None when two counted dumps are equal, else one line on what differs."""
    missing = sorted(set(a) - set(b))
    extra = sorted(set(b) - set(a))
    counts = sorted(p for p in set(a) & set(b) if a[p] != b[p])
    if not (missing or extra or counts):
        return None
    parts = []
    for name, lst in (("missing", missing), ("extra", extra), ("with another count", counts)):
        if lst:
            k, u = lst[0]
            parts.append("%d pairs %s (e.g. %s %s)" % (len(lst), name, k[:60], u[-64:][:12]))
    return "; ".join(parts)


def pending_pattern():
    """The errors that mean "kind not implemented yet": one place, the rule."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "stack-rules.json")) as f:
        rule = next(r for r in json.load(f) if r["id"] == "not-implemented")
    return re.compile(rule["failed_error"])


def failed_lines(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def pending_count(path):
    pat = pending_pattern()
    return sum(1 for e in failed_lines(path) if pat.search(e.get("error") or ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", choices=["main", "go"], default="main")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--counted", action="store_true")
    d.add_argument("--checkpoint")
    d.add_argument("out")
    s = sub.add_parser("settle")
    s.add_argument("--quiet-for", type=float, default=1.0)
    s.add_argument("--timeout", type=float, default=30.0)
    s.add_argument("out")
    w = sub.add_parser("wipe")
    w.add_argument("--keep-checkpoints", action="store_true")
    r = sub.add_parser("remove-entries")
    r.add_argument("uuids", nargs="+")
    c = sub.add_parser("checkpoint")
    c.add_argument("name")
    rs = sub.add_parser("restore")
    rs.add_argument("dump")
    df = sub.add_parser("diff")
    df.add_argument("a")
    df.add_argument("b")
    se = sub.add_parser("select")
    se.add_argument("entries")
    se.add_argument("dump")
    se.add_argument("out")
    sb = sub.add_parser("subset")
    sb.add_argument("a")
    sb.add_argument("b")
    po = sub.add_parser("pending-only")
    po.add_argument("failed")
    pc = sub.add_parser("pending-count")
    pc.add_argument("failed")
    a = ap.parse_args(argv)

    if a.cmd == "diff":
        d = diff_summary(counted(read_pairs(a.a)), counted(read_pairs(a.b)))
        print(d or "equal")
        return 1 if d else 0
    if a.cmd == "select":
        with open(a.entries) as f:
            want = {json.loads(line)["uuid"][-64:] for line in f if line.strip()}
        write_dump(a.out, [p for p in read_pairs(a.dump) if p[1][-64:] in want], True)
        return 0
    if a.cmd == "subset":
        ca, cb = counted(read_pairs(a.a)), counted(read_pairs(a.b))
        return 0 if all(cb.get(p) == n for p, n in ca.items()) else 1
    if a.cmd == "pending-only":
        return 0 if pending_count(a.failed) == len(failed_lines(a.failed)) else 1
    if a.cmd == "pending-count":
        print(pending_count(a.failed))
        return 0

    st = Store(a.target)
    if a.cmd == "dump":
        pairs, cps = st.snapshot([a.checkpoint] if a.checkpoint else [])
        write_dump(a.out, pairs, a.counted)
        if a.checkpoint:
            with open(a.out + ".checkpoint", "w") as f:
                f.write(json.dumps(cps[a.checkpoint], sort_keys=True) + "\n")
    elif a.cmd == "settle":
        write_dump(a.out, st.settle(a.quiet_for, a.timeout), False)
    elif a.cmd == "wipe":
        st.wipe(a.keep_checkpoints)
    elif a.cmd == "remove-entries":
        st.remove_entries(a.uuids)
    elif a.cmd == "checkpoint":
        cp = st.checkpoint(a.name)
        print(json.dumps(cp, sort_keys=True) if cp else "none")
    elif a.cmd == "restore":
        st.restore(read_pairs(a.dump))
    return 0


if __name__ == "__main__":
    sys.exit(main())
