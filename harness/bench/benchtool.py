#!/usr/bin/env python3
"""Helpers for harness/bench/bench.sh (Python stdlib only; `populate` signs
with the `cryptography` package when it is installed, else with openssl).

Subcommands:
  record     one measured run -> one JSON line (GNU time -v output parsed)
  wrk        one wrk run's output -> one JSON line (replay server ceiling)
  gen-redis  the tool's Redis write mix (LREM+LPUSH per key) as raw RESP
  gen-mysql  the same rows as bulk INSERT IGNORE statements
  machine    the machine description as JSON
  populate   upload distinct hashedrekord entries to a real rekor-server
  report     results -> BENCHMARKS.md, chart data and a gnuplot script
  report-section  one section of the report, printed

Why a generator instead of redis-benchmark alone: the ceiling must be the
same key mix rekor-backfill writes (the corpus keys, repeated per cycle,
one distinct UUID per index), so lists grow exactly as they do in a run.
"""

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

TREE_ID = "24296fb24b8ad77a"

# ---------------------------------------------------------------- record


def parse_gnu_time(text):
    """The fields of `/usr/bin/time -v` that the report uses."""
    fields = {}
    for line in text.splitlines():
        line = line.strip()
        if ":" not in line:
            continue
        name, _, value = line.rpartition(": ")
        fields[name.strip()] = value.strip()
    out = {}
    try:
        out["user_s"] = float(fields["User time (seconds)"])
        out["sys_s"] = float(fields["System time (seconds)"])
        out["max_rss_kb"] = int(fields["Maximum resident set size (kbytes)"])
    except (KeyError, ValueError) as e:
        raise SystemExit(f"benchtool: not GNU time -v output ({e})")
    out["cpu_s"] = round(out["user_s"] + out["sys_s"], 3)
    out["vol_ctx"] = int(fields.get("Voluntary context switches", "0"))
    out["invol_ctx"] = int(fields.get("Involuntary context switches", "0"))
    return out


def typed(value):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def cmd_record(args):
    with open(args.time) as f:
        row = parse_gnu_time(f.read())
    for item in args.field:
        name, _, value = item.partition("=")
        row[name] = typed(value)
    if row.get("wall_s"):
        row["entries_per_s"] = round(row["size"] / row["wall_s"], 1)
    with open(args.out, "a") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
    print(
        f"  {row.get('phase')}: {row.get('tool')} {row.get('backend')} c={row.get('concurrency')} "
        f"n={row.get('size')}: {row.get('wall_s')} s, {row.get('entries_per_s')} entries/s, "
        f"cpu {row['cpu_s']} s, rss {row['max_rss_kb'] / 1024:.1f} MiB, exit {row.get('exit')}",
        file=sys.stderr,
    )


def cmd_wrk(args):
    with open(args.output) as f:
        text = f.read()
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if not m:
        raise SystemExit(f"benchtool: no Requests/sec in {args.output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    row = {
        "phase": "ceiling",
        "target": "replay",
        "endpoint": args.endpoint,
        "connections": args.connections,
        "entries_per_request": args.per_request,
        "requests_per_s": float(m.group(1)),
        "entries_per_s": round(float(m.group(1)) * args.per_request, 1),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
        "duration_s": args.duration,
        "server_cpu_s": args.server_cpu_s,
        "load": args.load,
    }
    with open(args.out, "a") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
    print(
        f"  ceiling replay {args.endpoint} c={args.connections}: {row['entries_per_s']} entries/s",
        file=sys.stderr,
    )


# ---------------------------------------------------------------- generators


def load_keys(path):
    """Per corpus entry, the keys a tool writes (`{"keys": [...]}` lines)."""
    keys = []
    with open(path) as f:
        for line in f:
            item = json.loads(line)
            keys.append(item.get("keys") or [])
    if not keys:
        raise SystemExit(f"benchtool: no entries in {path}")
    return keys


def uuid_for(index):
    return TREE_ID + hashlib.sha256(b"bench-%d" % index).hexdigest()


def stream_ranges(size, streams):
    step = -(-size // streams)
    return [(s, min(size, s + step)) for s in range(0, size, step)]


def resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


def cmd_gen_redis(args):
    keys = load_keys(args.keys)
    for n, (lo, hi) in enumerate(stream_ranges(args.size, args.streams)):
        with open(f"{args.out_prefix}.{n}.resp", "wb") as f:
            for i in range(lo, hi):
                uuid = uuid_for(i).encode()
                # The sink lowercases keys (Go strings.ToLower); str.lower
                # differs only for rare non-ASCII, irrelevant for cost.
                for key in keys[i % len(keys)]:
                    k = key.lower().encode()
                    f.write(resp(b"LREM", k, b"0", uuid))
                    f.write(resp(b"LPUSH", k, uuid))


def sql_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cmd_gen_mysql(args):
    keys = load_keys(args.keys)
    for n, (lo, hi) in enumerate(stream_ranges(args.size, args.streams)):
        with open(f"{args.out_prefix}.{n}.sql", "w") as f:
            rows = []

            def flush():
                if rows:
                    f.write(
                        "INSERT IGNORE INTO EntryIndex (EntryKey, EntryUUID) VALUES "
                        + ",".join(rows)
                        + ";\n"
                    )
                    rows.clear()

            for i in range(lo, hi):
                uuid = sql_quote(uuid_for(i))
                for key in keys[i % len(keys)]:
                    rows.append(f"({sql_quote(key)},{uuid})")
                    if len(rows) >= args.rows:
                        flush()
            flush()


# ---------------------------------------------------------------- machine


def run_text(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else ""
    except (OSError, subprocess.SubprocessError):
        return "(not available)"


def cmd_machine(args):
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    os_name = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": os_name,
        "versions": {
            "rekor-backfill": run_text([args.rust_bin, "--version"]),
            "rekor-backfill commit": run_text(["git", "-C", args.repo, "rev-parse", "--short", "HEAD"]),
            "backfill-index": run_text(["cat", args.go_stamp]),
            "rustc": run_text(["rustc", "--version"]),
            "go": run_text([args.go, "version"]),
            "redis-server": run_text(["redis-server", "--version"]),
            "mariadbd": run_text(["mariadbd", "--version"]),
            "wrk": run_text(["wrk", "-v"]),
            "gnuplot": run_text(["gnuplot", "--version"]),
            "python": platform.python_version(),
        },
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    with open(args.out, "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)


# ---------------------------------------------------------------- populate

# Why hashedrekord POSTed directly instead of rekor-cli: one process with a
# few dozen keep-alive connections uploads thousands of entries in seconds,
# where a rekor-cli process per entry takes minutes. Each upload returns only
# once Trillian has integrated the leaf, so throughput comes from parallel
# uploads sharing the signer's batches.


def p256_signer(workdir):
    """One P-256 key: (public key PEM, sign(sha256 digest) -> DER signature,
    what signs). The `cryptography` package (Debian python3-cryptography)
    when importable, else one `openssl pkeyutl` per signature."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        algo = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
        return pem, lambda digest: key.sign(digest, algo), "python cryptography"
    except ImportError:
        pass
    os.makedirs(workdir, exist_ok=True)
    key_path = os.path.join(workdir, "p256.key")
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key_path],
        check=True,
    )
    pem = subprocess.run(
        ["openssl", "ec", "-in", key_path, "-pubout"], check=True, capture_output=True
    ).stdout

    def sign(digest):
        # For an EC key, pkeyutl signs its input as the digest.
        return subprocess.run(
            ["openssl", "pkeyutl", "-sign", "-inkey", key_path],
            input=digest,
            check=True,
            capture_output=True,
        ).stdout

    return pem, sign, "openssl pkeyutl"


def hashedrekord(digest, signature, pem):
    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
            "signature": {
                "content": base64.b64encode(signature).decode(),
                "publicKey": {"content": base64.b64encode(pem).decode()},
            },
        },
    }


def tree_size(url):
    with urllib.request.urlopen(url + "/api/v1/log", timeout=30) as r:
        return int(json.load(r)["treeSize"])


def post_entry(url, body, tries=4):
    """POST one entry; retries server errors and dropped connections (the
    stack shares two cores with everything else). 409 counts as done: an
    earlier try was stored although its answer was lost."""
    for attempt in range(tries):
        req = urllib.request.Request(
            url + "/api/v1/log/entries",
            data=body,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                r.read()
                return r.status
        except urllib.error.HTTPError as e:
            detail = e.read()[:300].decode(errors="replace")
            if e.code == 409 and attempt:
                return 409
            if e.code < 500 or attempt == tries - 1:
                raise SystemExit(f"benchtool: POST entry: HTTP {e.code}: {detail}")
        except (urllib.error.URLError, OSError) as e:
            if attempt == tries - 1:
                raise SystemExit(f"benchtool: POST entry: {e}")
        time.sleep(0.5 * (attempt + 1))
    raise SystemExit("benchtool: POST entry: out of tries")


def cmd_populate(args):
    if args.count < 1 or args.workers < 1:
        raise SystemExit("benchtool: populate needs --count and --workers of at least 1")
    url = args.url.rstrip("/")
    before = tree_size(url)
    pem, sign, signer = p256_signer(args.workdir)
    nonce = base64.b32encode(os.urandom(10)).decode()
    t0 = time.time()
    # Bodies first (signing is CPU the server would otherwise compete with),
    # then the uploads alone are timed too.
    bodies = []
    for i in range(args.count):
        artifact = f"rekor-backfill bench artifact {nonce} {i}\n".encode()
        digest = hashlib.sha256(artifact).digest()
        bodies.append(json.dumps(hashedrekord(digest, sign(digest), pem)).encode())
    t1 = time.time()
    lock = threading.Lock()
    state = {"next": 0, "done": 0, "error": None}

    def worker():
        while True:
            with lock:
                i = state["next"]
                if i >= len(bodies) or state["error"]:
                    return
                state["next"] = i + 1
            try:
                post_entry(url, bodies[i])
            except SystemExit as e:
                with lock:
                    state["error"] = str(e)
                return
            with lock:
                state["done"] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if state["error"]:
        raise SystemExit(f"{state['error']} (after {state['done']} uploads)")
    t2 = time.time()
    # Every upload returned after integration; allow the signed tree head a
    # moment anyway before calling it a mismatch.
    want = before + args.count
    for _ in range(50):
        after = tree_size(url)
        if after >= want:
            break
        time.sleep(0.2)
    if after != want:
        raise SystemExit(f"benchtool: tree size {after} after uploading {args.count} entries to a log of {before}")
    row = {
        "phase": "stack-populate",
        "entries": args.count,
        "tree_size": after,
        "workers": args.workers,
        "signer": signer,
        "sign_s": round(t1 - t0, 3),
        "upload_s": round(t2 - t1, 3),
        "wall_s": round(time.time() - t0, 3),
        "entries_per_s": round(args.count / (t2 - t1), 1),
    }
    with open(args.out, "a") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
    print(
        f"  stack: {args.count} hashedrekord entries in {row['wall_s']} s "
        f"(signing {row['sign_s']} s, uploads {row['upload_s']} s = {row['entries_per_s']} entries/s "
        f"with {args.workers} uploaders); tree size {after}",
        file=sys.stderr,
    )


# ---------------------------------------------------------------- report

TOOL_LABEL = {
    "go": "Go backfill-index (keep-alives off, its default)",
    "go-ka": "Go backfill-index --rekor-disable-keepalives=false",
    "rust": "rekor-backfill",
    "rust-dry": "rekor-backfill --dry-run",
    "rust-trillian": "rekor-backfill --trillian-mysql-dsn (Trillian's database)",
}
SHORT = {
    "go": "Go",
    "go-ka": "Go+KA",
    "rust": "rekor-backfill",
    "rust-dry": "dry-run",
    "rust-trillian": "rekor-backfill, Trillian source",
}


def read_rows(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def best(rows):
    """Of repeated runs of one configuration, the one with the median wall
    time (the faster of the two middle ones for an even count)."""
    ok = sorted(rows, key=lambda r: r["wall_s"])
    return ok[(len(ok) - 1) // 2]


def group(rows, *keys):
    out = {}
    for r in rows:
        out.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return {k: best(v) for k, v in out.items()}


def fmt_int(x):
    return f"{x:,.0f}"


def mib(kb):
    return f"{kb / 1024:.1f}"


def us_per_entry(r):
    return r["cpu_s"] / r["size"] * 1e6


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def verdict(ok):
    return "met" if ok else "**missed**"


def cmd_report(args):
    """BENCHMARKS.md from a run's results: one function per section, each
    empty when its phase did not run."""
    rows = read_rows(args.results)
    with open(args.machine) as f:
        machine = json.load(f)
    with open(args.commands) as f:
        commands = f.read().strip()
    notes = ""
    if args.notes and os.path.exists(args.notes):
        with open(args.notes) as f:
            notes = f.read().strip()
    keys = json.loads(args.keys_per_entry) if args.keys_per_entry else {}

    ceilings = [r for r in rows if r["phase"] == "ceiling"]
    compare = group([r for r in rows if r["phase"] == "compare"], "backend", "concurrency", "tool")
    stack = group([r for r in rows if r["phase"] == "stack"], "backend", "concurrency", "tool")
    stack_populate = [r for r in rows if r["phase"] == "stack-populate"]
    scale = group([r for r in rows if r["phase"] == "scale"], "backend", "size")
    scale_skipped = [r for r in rows if r["phase"] == "scale-skipped"]
    ckpt_runs = [r for r in rows if r["phase"] == "checkpoint"]
    backend_ceiling, replay_ceiling = best_ceilings(ceilings)

    md = [
        header_section(),
        machine_section(args, machine, rows),
        setup_section(keys),
        ceilings_section(ceilings),
    ]
    if compare:
        md.append(compare_section(args, compare, keys))
    if stack:
        md.append(stack_section(stack, stack_populate))
    md.append("## Targets\n")
    md.append(targets_table(compare, stack, backend_ceiling, scale, ckpt_runs, replay_ceiling))
    md.append("")
    if scale or scale_skipped:
        md.append(scale_section(scale, scale_skipped))
    md.append(mix_section(rows))
    md.append(checkpoint_section(ckpt_runs))
    md.append(commands_section(commands))
    if args.profile_dir:
        md.append(profile_section(args.profile_dir))
    if notes:
        md.append(notes + "\n")

    with open(args.out, "w") as f:
        f.write("\n".join(part for part in md if part is not None))

    write_chart(args, compare, backend_ceiling)


def cmd_report_section(args):
    """One section, printed (e.g. to add a phase run on its own to an
    existing BENCHMARKS.md)."""
    rows = read_rows(args.results)

    def stack(rows):
        runs = group([r for r in rows if r["phase"] == "stack"], "backend", "concurrency", "tool")
        populate = [r for r in rows if r["phase"] == "stack-populate"]
        return stack_section(runs, populate) if runs else None

    def stack_targets(rows):
        runs = group([r for r in rows if r["phase"] == "stack"], "backend", "concurrency", "tool")
        return targets_table({}, runs, {}, {}, [], None)

    sections = {"mix": mix_section, "stack": stack, "stack-targets": stack_targets}
    print(sections[args.section](rows))


def best_ceilings(ceilings):
    """The best ceiling per backend, and the replay server's best."""
    backend_ceiling = {}
    for r in ceilings:
        if r["target"] in ("redis", "mysql"):
            b = backend_ceiling.get(r["target"])
            if b is None or r["entries_per_s"] > b["entries_per_s"]:
                backend_ceiling[r["target"]] = r
    replay_ceiling = max(
        (r for r in ceilings if r["target"] == "replay"),
        key=lambda r: r["entries_per_s"],
        default=None,
    )
    return backend_ceiling, replay_ceiling


def header_section():
    return (
        "# Benchmarks: rekor-backfill against Rekor's Go `backfill-index` v1.5.4\n\n"
        "Generated by `make bench` (`harness/bench/bench.sh`, reporter "
        "`harness/bench/benchtool.py`); do not edit by hand: edit "
        "`harness/bench/profile-notes.md` for the notes at the end, then "
        "`BENCH_REPORT_FROM=<the run's BENCH_OUT> make bench` renders it again.\n"
    )


def machine_section(args, machine, rows):
    v = machine["versions"]
    return "\n".join(
        [
            "## Machine\n",
            table(
                ["what", "value"],
                [
                    ["CPU", f"{machine['cpu']}, {machine['nproc']} cores (nproc)"],
                    ["memory", f"{machine['mem_gib']} GiB"],
                    ["OS / kernel", f"{machine['os']} / {machine['kernel']}"],
                    [
                        "mode",
                        f"{args.mode}: {args.size:,} indices per comparison, ceiling and checkpoint run; "
                        f"{args.repeat} run(s) per comparison, {args.checkpoint_repeat} per checkpoint interval (median reported)",
                    ],
                    ["started / finished", f"{machine['started']} / {args.finished}"],
                    ["load average (1 min) at run starts", load_summary(rows)],
                ]
                + [[k, f"`{val}`"] for k, val in sorted(v.items())],
            ),
            "\nEverything runs on this one machine: the replay server, Redis, MariaDB, the "
            "tool under test (and wrk or redis-cli for the ceilings) share its cores, so "
            "every number here is a whole-system number. The load average above shows how "
            "busy the machine was apart from the benchmark.\n",
        ]
    )


def setup_section(keys):
    kpe = ", ".join(f"{SHORT.get(t, t)} {k:.2f}" for t, k in sorted(keys.items()))
    return (
        "## Setup\n\n"
        "* Source: `harness/replay-rekor` serving `testdata/corpus/entries.jsonl` (459 real "
        "entries) at every index (index i serves entry i mod 459, made distinct), on loopback.\n"
        "* Backends: private `redis-server` and `mariadbd` (`harness/services.sh`), flushed "
        "before every run (`FLUSHALL`; `DROP TABLE EntryIndex, BackfillCheckpoint`).\n"
        "* Go and rekor-backfill runs alternate (per backend and concurrency: Go, Go with "
        "keep-alives, rekor-backfill).\n"
        "* entries/s = indices / wall time of the whole process (start-up, table creation "
        "and connection set-up included). CPU = user + sys of the tool process from "
        "`/usr/bin/time -v`; RSS = its peak resident set. Server and backend CPU are read "
        "from `/proc/PID/stat` before and after each run; `load` is the 1-minute load "
        "average when the run started (2 would mean both cores busy before it began).\n"
        "* rekor-backfill runs with `--checkpoint-interval 1000` (the default) unless "
        "stated; Go has no checkpoint.\n"
        f"* Keys written per entry on this corpus: {kpe}. The keys differ (§10 of "
        "docs/INDEX_KEYS.md, and kinds not yet supported here), so entries/s is the fair unit; "
        "keys/s are given too.\n"
    )


def ceilings_section(ceilings):
    crow = []
    for r in ceilings:
        if r["target"] == "replay":
            crow.append(
                [
                    "replay server",
                    f"wrk, {r['endpoint']} ({r['entries_per_request']} per request), {r['connections']} keep-alive connections, {r['duration_s']} s",
                    fmt_int(r["entries_per_s"]),
                    fmt_int(r["requests_per_s"]),
                    f"{r['server_cpu_s']:.1f}",
                ]
            )
        else:
            crow.append(
                [
                    r["target"],
                    r["how"],
                    fmt_int(r["entries_per_s"]),
                    f"{r['keys'] / r['wall_s']:,.0f} keys/s",
                    f"{r.get('backend_cpu_s', 0):.2f}",
                ]
            )
    return "\n".join(
        [
            "## Ceilings\n",
            table(["target", "load", "entries/s", "requests/s or keys/s", "server CPU s"], crow),
            "\nThe load generator shares the machine with the server, as the tools do. The "
            "backend ceilings write exactly the tool's key mix for the same indices "
            "(rekor-backfill's keys, lowercased for Redis, one distinct UUID per index) as fast "
            "as the client can send it: raw RESP through `redis-cli --pipe` (`LREM key 0 uuid` + "
            "`LPUSH key uuid` per key), and a `mariadb` client replaying multi-row `INSERT "
            "IGNORE` statements. The best of the stream counts is the ceiling.\n",
        ]
    )


def compare_section(args, compare, keys):
    return "\n".join(
        [
            f"## Go against rekor-backfill ({args.size:,} indices)\n",
            versus_table(compare, keys, "replay CPU s"),
            "\nGo = `backfill-index` as shipped (keep-alives disabled by default: one TCP "
            "connection per entry); Go+KA = with `--rekor-disable-keepalives=false`. Ratios "
            "are against Go in its default mode; against Go+KA they are in the target table. "
            "Go exits 1 whenever one entry fails to parse (one corpus entry does), "
            "rekor-backfill exits 3 when entries could not be keyed (see the keys per entry).\n",
            f"![entries/s by concurrency]({args.chart_name})\n",
        ]
    )


def scale_section(scale, scale_skipped):
    srow = []
    for backend in ("dry", "redis", "mysql"):
        sizes = sorted(k[1] for k in scale if k[0] == backend)
        base = scale.get((backend, sizes[0])) if sizes else None
        for size in sizes:
            r = scale[(backend, size)]
            per = r["wall_s"] / size * 1e5
            srow.append(
                [
                    backend,
                    fmt_int(size),
                    r["concurrency"],
                    f"{r['wall_s']:.1f}",
                    fmt_int(r["entries_per_s"]),
                    f"{per:.2f}",
                    f"{per / (base['wall_s'] / base['size'] * 1e5):.2f}",
                    f"{r['cpu_s']:.1f}",
                    f"{r.get('backend_cpu_s', 0):.1f}",
                    mib(r["max_rss_kb"]),
                    f"{r.get('load', 0):.1f}",
                    exit_note(r),
                ]
            )
    md = [
        "## Scale\n",
        table(
            [
                "backend",
                "indices",
                "concurrency",
                "wall s",
                "entries/s",
                "s per 100k",
                "vs smallest",
                "CPU s",
                "backend CPU s",
                "peak RSS MiB",
                "load",
                "exit",
            ],
            srow,
        ),
    ]
    for r in scale_skipped:
        md.append(
            f"\n* not run: {r['backend']} at {r['size']:,} indices, estimated {r['estimate_s']:,.0f} s "
            f"(budget {r['budget_s']:,} s per run, BENCH_SCALE_BUDGET)"
        )
    md.append(
        "\n`dry` is `--dry-run`: fetch, decode and key everything, write nothing, so it "
        "shows the tool's own cost without backend growth. A Redis run re-lists every "
        "corpus key once per 459 indices, so its lists grow with the run. Until 4 Dec "
        "2026 every write was an `LREM` over the whole list, so Redis' own work per "
        "entry grew with the range (the backend CPU column of runs from before then); "
        "since, a list of 1,000 UUIDs or more is read once per run instead "
        "(`src/sink/long_lists.rs`; see the key-mix table). MySQL slows down as the "
        "table outgrows the buffer pool (MariaDB's default 128 MiB).\n"
    )
    return "\n".join(md)


def checkpoint_section(ckpt_runs):
    ckpt = group(ckpt_runs, "backend", "checkpoint_interval")
    if not ckpt:
        return None
    krow = []
    for backend in ("redis", "mysql"):
        for interval in sorted(k[1] for k in ckpt if k[0] == backend):
            c = ckpt_cost(ckpt_runs, backend, interval)
            krow.append(
                [
                    backend,
                    c["concurrency"],
                    interval if interval else "0 (off)",
                    c["runs"],
                    fmt_int(c["entries_per_s"]),
                    f"{fmt_int(c['min'])}–{fmt_int(c['max'])}",
                    f"{c['cpu_s']:.2f}",
                    pct(c.get("wall_cost")),
                    pct(c.get("cpu_cost")),
                ]
            )
    return "\n".join(
        [
            "## Checkpoint overhead\n",
            table(
                [
                    "backend",
                    "concurrency",
                    "--checkpoint-interval",
                    "runs",
                    "entries/s (median)",
                    "entries/s range",
                    "tool + backend CPU s (median)",
                    "time vs off",
                    "CPU vs off",
                ],
                krow,
            ),
            "\nRounds interleave the intervals, so load changes hit them alike. Wall time on a "
            "shared machine moves by more than the effect measured here (see the range of the "
            "off runs); CPU (the tool's plus the backend server's) is the steadier measure of "
            "what checkpointing costs.\n",
        ]
    )


def commands_section(commands):
    return (
        "## Commands\n\n"
        "Reproduce with `make bench` (full) or `BENCH_MODE=quick make bench`; every knob is "
        "an environment variable documented at the top of `harness/bench/bench.sh`. The "
        "commands this run executed (passwords shown as variables):\n\n"
        "```\n" + commands + "\n```\n"
    )


MIX_LABEL = {
    "redis": "redis",
    "redis-hot": "redis, hot lists pre-filled",
    "mysql": "mysql",
}


def go_forecast(runs, size):
    """Go's time at `size` from its two largest measured runs, with the
    model its cost follows: per entry a constant part plus an LREM over a
    list that grows with the range, t(n) = a·n + b·n². None with fewer than
    two runs or a fit that does not grow."""
    runs = sorted(runs, key=lambda r: r["size"])[-2:]
    if len(runs) < 2:
        return None
    (n1, t1), (n2, t2) = ((r["size"], r["wall_s"]) for r in runs)
    b = (t2 / n2 - t1 / n1) / (n2 - n1)
    a = t1 / n1 - b * n1
    if b <= 0:
        return None
    return a, b, a * size + b * size * size


def mix_section(rows):
    """The scale phase on the synthetic key mix (harness/replay-rekor
    --key-mix): time per entry against the range size, Redis' slow log,
    peak RSS, and Go on the same mix."""
    runs = group([r for r in rows if r["phase"] == "mix"], "backend", "tool", "size")
    if not runs:
        return None
    slow = {(r["backend"], r["tool"], r["size"]): r for r in rows if r["phase"] == "mix-slowlog"}
    base = {}
    for (backend, tool, size), r in sorted(runs.items(), key=lambda kv: kv[0][2]):
        base.setdefault((backend if backend != "redis-hot" else "redis", tool), r)
    trow = []
    order = {"redis": 0, "redis-hot": 1, "mysql": 2}
    for key in sorted(runs, key=lambda k: (k[1] != "rust", order.get(k[0], 9), k[2])):
        backend, tool, size = key
        r = runs[key]
        first = base[(backend if backend != "redis-hot" else "redis", tool)]
        per = r["wall_s"] / size * 1e6
        s = slow.get(key)
        trow.append(
            [
                SHORT[tool],
                MIX_LABEL.get(backend, backend),
                fmt_int(size),
                f"{r['wall_s']:.1f}",
                fmt_int(r["entries_per_s"]),
                f"{per:.0f}",
                f"{per / (first['wall_s'] / first['size'] * 1e6):.2f}×",
                f"{r['cpu_s']:.1f}",
                f"{r.get('backend_cpu_s', 0):.1f}",
                mib(r["max_rss_kb"]),
                "" if s is None else (f"{s['count']}" + (f" (max {s['max_us'] / 1000:.0f} ms: {', '.join(s['commands'])})" if s["count"] else "")),
                f"{r.get('load', 0):.1f}",
                exit_note(r),
            ]
        )
    md = [
        "## Scale with a realistic key mix\n",
        "`harness/replay-rekor --key-mix` serves a synthetic log made of real corpus bodies "
        "(`rekord` entries, artifact hash replaced per index): one PGP key (key hash and "
        "e-mail) in 25% of the entries, four x509 signers in 5, 3, 2 and 1%, and the rest "
        "(64%) with keys of their own (an ssh-ed25519 key whose 32 bytes are replaced per "
        "index); which share an index falls in is a hash of the index "
        "(`harness/replay-rekor/src/mix.rs`). Every run starts on a flushed backend; "
        "\"hot lists pre-filled\" first lists other UUIDs under each of the two hot keys "
        "(`BENCH_MIX_HOT`, 10^6 in full mode; `RPUSH`, not timed), like the server's own "
        "index of a big log. The Redis "
        "slow log is set to 10 ms and emptied before each Redis run; its column counts "
        "the commands over 10 ms during the run (the bench issues none). The slow log "
        "times wall clock: on a loaded machine the OS can stall Redis inside any "
        "command, so an `LLEN` (O(1)) or an `LPUSH` of ten UUIDs over 10 ms is such a "
        "stall, not a cost of the command (`tests/redis_hot_keys.rs` times a slow read "
        "again to tell them apart).\n",
        table(
            [
                "tool",
                "backend",
                "indices",
                "wall s",
                "entries/s",
                "µs per entry",
                "vs smallest",
                "CPU s",
                "backend CPU s",
                "peak RSS MiB",
                "slow log > 10 ms",
                "load",
                "exit",
            ],
            trow,
        ),
    ]
    go = [r for (b, t, _), r in runs.items() if b == "redis" and t == "go"]
    forecast = go_forecast(go, 10_000_000)
    if forecast:
        a, b, t = forecast
        md.append(
            f"\nGo on Redis grows as a·n + b·n² (per entry a constant cost plus an `LREM` over "
            f"lists that grow with the range): its two runs give a = {a * 1e6:.0f} µs per entry "
            f"and b·1,000 = {b * 1e9:.1f} µs more per entry for every 1,000 indices of range, so "
            f"10,000,000 indices would take it about {t:,.0f} s ({t / 86400:.1f} days) at this "
            "concurrency; rekor-backfill's time per entry is in the rows above.\n"
        )
    return "\n".join(md)


def profile_section(folder):
    """The profile phase's output, if it ran: perf's top symbols and strace's
    syscall counts, as measured in this run."""
    path = lambda name: os.path.join(folder, name)
    if not os.path.exists(path("profile-size")):
        return ""
    with open(path("profile-size")) as f:
        n = int(f.read().strip())
    out = [
        "## Profile of this run\n",
        f"`BENCH_PHASES=profile`: rekor-backfill on {n:,} indices at --concurrency 5, "
        "under `perf record -e cpu-clock --call-graph dwarf` and `strace -f -c` "
        "(see Commands). Percentages are of the samples of the whole process.\n",
    ]
    for backend in ("dry", "redis"):
        for kind, title in (
            ("tree", "inclusive time of the tool's own functions (children included)"),
            ("self", "self time by symbol (≥ 0.7%)"),
        ):
            p = path(f"profile-{kind}-{backend}.txt")
            if os.path.exists(p) and os.path.getsize(p):
                with open(p) as f:
                    text = f.read().rstrip()
                out.append(f"{backend}: {title}\n\n```\n{text}\n```\n")
        p = path(f"strace-{backend}.txt")
        if os.path.exists(p):
            with open(p) as f:
                lines = [l.rstrip() for l in f if l.strip()][:14]
            out.append(
                f"{backend}: syscalls ({n // 10:,} chunks of 10 entries)\n\n```\n"
                + "\n".join(lines)
                + "\n```\n"
            )
    return "\n".join(out)


def load_summary(rows):
    loads = [r["load"] for r in rows if isinstance(r.get("load"), (int, float))]
    if not loads:
        return ""
    return f"min {min(loads):.2f}, median {statistics.median(loads):.2f}, max {max(loads):.2f}"


def exit_note(r):
    return str(r.get("exit", ""))


def pct(x):
    return "" if x is None else f"{x * 100:+.1f}%"


def ckpt_cost(runs, backend, interval):
    """Median throughput and costs of one checkpoint interval against off
    (interval 0): wall time and tool + backend CPU, medians over rounds."""

    def stats(i):
        rs = [r for r in runs if r["backend"] == backend and r["checkpoint_interval"] == i]
        if not rs:
            return None
        rates = [r["entries_per_s"] for r in rs]
        return {
            "runs": len(rs),
            "concurrency": rs[0]["concurrency"],
            "entries_per_s": statistics.median(rates),
            "min": min(rates),
            "max": max(rates),
            "wall_s": statistics.median(r["wall_s"] for r in rs),
            "cpu_s": statistics.median(r["cpu_s"] + r.get("backend_cpu_s", 0) for r in rs),
        }

    this, off = stats(interval), stats(0)
    if this and off:
        this["wall_cost"] = this["wall_s"] / off["wall_s"] - 1
        this["cpu_cost"] = this["cpu_s"] / off["cpu_s"] - 1
        this["off_spread"] = off["max"] / off["min"] - 1
    return this


def versus_table(runs, keys, server_cpu):
    """Go against rekor-backfill per backend and concurrency (the replay
    comparison and the real stack). keys: per-tool keys per entry for a
    keys/s column, None where the source is not the corpus."""
    trow = []
    db_column = any("source_db_cpu_s" in r for r in runs.values())
    for backend in ("redis", "mysql"):
        for conc in sorted({k[1] for k in runs if k[0] == backend}):
            go = runs.get((backend, conc, "go"))
            for tool in ("go", "go-ka", "rust", "rust-trillian"):
                r = runs.get((backend, conc, tool))
                if r is None:
                    continue
                ratio = (
                    f"{r['entries_per_s'] / go['entries_per_s']:.1f}× / {us_per_entry(r) / us_per_entry(go):.3f}×"
                    if go
                    else ""
                )
                kps = []
                if keys is not None:
                    kps = [fmt_int(r["entries_per_s"] * keys.get(tool.replace("-ka", ""), 0))]
                trow.append(
                    [backend, conc, SHORT[tool], fmt_int(r["entries_per_s"])]
                    + kps
                    + [
                        f"{r['cpu_s']:.2f}",
                        f"{us_per_entry(r):.0f}",
                        mib(r["max_rss_kb"]),
                        ratio,
                        f"{r.get('server_cpu_s', 0):.2f}",
                    ]
                    + ([f"{r.get('source_db_cpu_s', 0):.2f}"] if db_column else [])
                    + [
                        f"{r.get('backend_cpu_s', 0):.2f}",
                        f"{r.get('load', 0):.1f}",
                        exit_note(r),
                    ]
                )
    header = ["backend", "concurrency", "tool", "entries/s"]
    header += ["keys/s"] if keys is not None else []
    header += [
        "CPU s",
        "CPU µs/entry",
        "peak RSS MiB",
        "vs Go: speed / CPU per entry",
        server_cpu,
    ]
    header += ["of which its MariaDB"] if db_column else []
    header += [
        "backend CPU s",
        "load",
        "exit",
    ]
    return table(header, trow)


STACK_TOOLS = ("go", "rust", "rust-trillian")
STACK_COLUMN = {
    "go": "Go (API)",
    "rust": "rekor-backfill (API)",
    "rust-trillian": "rekor-backfill (Trillian source)",
}


def stack_pick(stack, backend, tool, conc=None):
    """A tool's run on one backend: at `conc`, or its fastest concurrency."""
    if conc is not None:
        return stack.get((backend, conc, tool))
    runs = [r for k, r in stack.items() if k[0] == backend and k[2] == tool]
    return max(runs, key=lambda r: r["entries_per_s"], default=None)


def stack_summary_table(stack):
    """Per backend, the three tools side by side at c=5 and each at its
    fastest concurrency: entries/s, CPU per entry, ratio to Go's entries/s
    (at c=5; at best c, to Go's best)."""
    rows = []
    for backend in ("redis", "mysql"):
        for label, conc in (("c=5", 5), ("fastest c", None)):
            go = stack_pick(stack, backend, "go", conc)
            cells = []
            for tool in STACK_TOOLS:
                r = stack_pick(stack, backend, tool, conc)
                if r is None:
                    cells += ["", "", ""] if tool != "go" else ["", ""]
                    continue
                at = "" if conc is not None else f" (c={r['concurrency']})"
                cells += [f"{fmt_int(r['entries_per_s'])}{at}", f"{us_per_entry(r):.0f}"]
                if tool != "go":
                    cells.append(f"**{r['entries_per_s'] / go['entries_per_s']:.1f}×**" if go else "")
            if any(cells):
                rows.append([backend, label] + cells)
    header = ["backend", "concurrency"]
    for tool in STACK_TOOLS:
        header += [f"{STACK_COLUMN[tool]} entries/s", "CPU µs/entry"]
        if tool != "go":
            header.append("vs Go")
    return table(header, rows)


def cpu_split(r):
    """CPU per entry (µs) of a real-stack run, by where it went, from the
    tool's GNU time and /proc (the stack's processes, its MariaDB on its own,
    the bench's backend, the whole machine)."""
    n = r["size"]
    per = lambda s: s / n * 1e6
    db = r.get("source_db_cpu_s", 0.0)
    split = {
        "tool": per(r["cpu_s"]),
        "source database": per(db),
        "rest of the stack": per(max(0.0, r.get("server_cpu_s", 0.0) - db)),
        "backend": per(r.get("backend_cpu_s", 0.0)),
    }
    measured = sum(split.values())
    machine = per(r["machine_cpu_s"]) if "machine_cpu_s" in r else None
    capacity = per(r["wall_s"] * r.get("nproc", 1))
    return split, measured, machine, capacity


SPLIT_NAME = {
    "tool": "rekor-backfill's own CPU (reading rows, decoding, key computation, writing)",
    "source database": "the stack's MariaDB serving the range queries",
    "rest of the stack": "the rest of the stack (rekor-server, Trillian; idle for this source)",
    "backend": "the backend storing the keys",
}


def stack_bounds(stack):
    """What bounds the Trillian source, per backend, from the measured CPU
    split of its fastest run: a paragraph per backend, nothing hard-coded."""
    out = []
    for backend in ("redis", "mysql"):
        r = stack_pick(stack, backend, "rust-trillian")
        if r is None:
            continue
        split, measured, machine, capacity = cpu_split(r)
        nproc = r.get("nproc", 1)
        parts = ", ".join(
            f"{name} {v:.1f} µs" for name, v in sorted(split.items(), key=lambda kv: -kv[1])
        )
        top = max(split, key=split.get)
        ceiling = nproc * 1e6 / measured if measured else 0
        text = (
            f"* **{backend}**, fastest at c={r['concurrency']}: {fmt_int(r['entries_per_s'])} "
            f"entries/s ({r['size']:,} entries in {r['wall_s']:.2f} s, load average "
            f"{r.get('load', 0):.1f} at the start). CPU per entry: {parts}; "
            f"{measured:.1f} µs in all, so {nproc} cores to itself would allow at most "
            f"{fmt_int(ceiling)} entries/s; the largest share, {split[top] / measured * 100:.0f}%, "
            f"is {SPLIT_NAME[top]}. The tool alone is "
            f"{fmt_int(1e6 / split['tool'])} entries/s per core."
        )
        if machine is not None and capacity:
            busy = min(1.0, machine / capacity)
            others = max(0.0, machine - measured)
            text += (
                f" The machine's {nproc} cores were {busy * 100:.0f}% busy during the run "
                f"({machine:.1f} µs per entry, of which {others:.1f} µs other work on "
                "the shared machine)"
            )
            if busy >= 0.85:
                text += (
                    f": the cores were the limit, and of what the run itself used, "
                    f"{SPLIT_NAME[top]} is the largest part."
                )
            else:
                text += (
                    f": {(1 - busy) * 100:.0f}% stayed idle, so waiting (statement round trips, "
                    "backend commits, start-up and connection set-up, which weigh more in a "
                    "run this short) bounds it as much as any CPU."
                )
        out.append(text)
    if not out:
        return None
    return (
        "What bounds the Trillian source (from each backend's fastest run; CPU from GNU "
        "time for the tool and `/proc/PID/stat` for the rest, the machine's busy time from "
        "`/proc/stat`; clock ticks are 10 ms, so in a run of half a second each figure is "
        "good to about ±0.5 µs per entry):\n\n" + "\n".join(out) + "\n"
    )


def stack_section(stack, populate):
    n = max(r["size"] for r in stack.values())
    out = [f"## Go against rekor-backfill on a real stack ({n:,} entries)\n"]
    how = ""
    if populate:
        p = populate[-1]
        how = (
            f" Populating it took {p['wall_s']:.1f} s: {p['entries']:,} distinct `hashedrekord` "
            f"entries (sha256 of a distinct artifact, ECDSA P-256 signature by one key, signed "
            f"with {p['signer']} in {p['sign_s']:.2f} s) POSTed to `/api/v1/log/entries` by "
            f"{p['workers']} parallel uploaders in {p['upload_s']:.1f} s ({fmt_int(p['entries_per_s'])} "
            f"entries/s); the log's tree size afterwards was {p['tree_size']:,}."
        )
    trillian = any(k[2] == "rust-trillian" for k in stack)
    out.append(
        "The same runs against a real rekor-server v1.5.4 with Trillian v1.7.3 and its own "
        "MariaDB and Redis (`harness/stack/stack.sh`, started fresh for this phase, on "
        "loopback) instead of the replay server: through the API every entry is read from "
        "Trillian's MySQL storage through `trillian_log_server` and rekor-server, which costs "
        f"far more per entry than the replay server, on the same cores.{how} Indices "
        f"0..{n - 1:,}; the tools write into the bench's private Redis and MariaDB (not the "
        "stack's), flushed before every run."
        + (
            " rekor-backfill's Trillian source (`--trillian-mysql-dsn` on the stack's "
            "MariaDB, the trees and sizes from the stack's `/api/v1/log`) reads the same "
            "leaves with one range query per chunk, without rekor-server or Trillian."
            if trillian
            else ""
        )
        + "\n"
    )
    if trillian:
        out.append(stack_summary_table(stack))
        out.append(
            "\nCPU µs/entry is the tool's own (user + sys). At c=5 the ratio is to Go at c=5; "
            "on the fastest-c row each tool runs at its own fastest concurrency and the ratio "
            "is to Go at its fastest. Every run:\n"
        )
    out.append(versus_table(stack, None, "stack CPU s"))
    out.append(
        "\nstack CPU s = rekor-server, trillian_log_server, trillian_log_signer and the "
        "stack's MariaDB and Redis together, during the run"
        + ("; \"of which its MariaDB\" is the stack's MariaDB alone" if trillian else "")
        + ". Every entry has the same "
        "kind and public key, so the key mix (one hash key per entry, one public-key key "
        "shared by all) differs from the corpus above.\n"
    )
    bounds = stack_bounds(stack)
    if bounds:
        out.append(bounds)
    return "\n".join(out)


def targets_table(compare, stack, backend_ceiling, scale, ckpt_runs, replay_ceiling):
    out = []
    for backend in ("redis", "mysql"):
        for conc in (5, 20):
            rust = compare.get((backend, conc, "rust"))
            for gomode in ("go", "go-ka"):
                go = compare.get((backend, conc, gomode))
                if not (rust and go):
                    continue
                speed = rust["entries_per_s"] / go["entries_per_s"]
                cpu = us_per_entry(rust) / us_per_entry(go)
                out.append(
                    [
                        f"≥5× {SHORT[gomode]} entries/s, {backend}, c={conc}",
                        f"{speed:.1f}×",
                        verdict(speed >= 5),
                    ]
                )
                out.append(
                    [
                        f"≤¼ {SHORT[gomode]} CPU/entry, {backend}, c={conc}",
                        f"{cpu:.3f}×",
                        verdict(cpu <= 0.25),
                    ]
                )
    for backend in ("redis", "mysql"):
        rust, go, goka = (stack.get((backend, 5, t)) for t in ("rust", "go", "go-ka"))
        if rust and go:
            speed = rust["entries_per_s"] / go["entries_per_s"]
            extra = f"; vs Go+KA {rust['entries_per_s'] / goka['entries_per_s']:.1f}×" if goka else ""
            out.append(
                [
                    f"≥2× Go entries/s, real stack, {backend}, c=5",
                    f"{speed:.1f}× ({fmt_int(rust['entries_per_s'])} vs {fmt_int(go['entries_per_s'])} entries/s{extra})",
                    verdict(speed >= 2),
                ]
            )
    for backend in ("redis", "mysql"):
        for label, conc in (("c=5", 5), ("each at its fastest c", None)):
            tr = stack_pick(stack, backend, "rust-trillian", conc)
            go = stack_pick(stack, backend, "go", conc)
            if tr and go:
                speed = tr["entries_per_s"] / go["entries_per_s"]
                at = "" if conc else f" at c={tr['concurrency']} vs Go at c={go['concurrency']}"
                out.append(
                    [
                        f"≥20× Go entries/s, real stack, Trillian source, {backend}, {label}",
                        f"{speed:.1f}× ({fmt_int(tr['entries_per_s'])} vs {fmt_int(go['entries_per_s'])} entries/s{at})",
                        verdict(speed >= 20),
                    ]
                )
    for backend in ("redis", "mysql"):
        ceiling = backend_ceiling.get(backend)
        runs = [r for k, r in compare.items() if k[0] == backend and k[2] == "rust"]
        if ceiling and runs:
            top = max(runs, key=lambda r: r["entries_per_s"])
            share = top["entries_per_s"] / ceiling["entries_per_s"]
            out.append(
                [
                    f"≥ ½ of the {backend} ceiling ({fmt_int(ceiling['entries_per_s'])} entries/s)",
                    f"{share * 100:.0f}% (c={top['concurrency']}, {fmt_int(top['entries_per_s'])} entries/s)",
                    verdict(share >= 0.5),
                ]
            )
    if replay_ceiling:
        runs = [r for k, r in compare.items() if k[2] == "rust"]
        if runs:
            top = max(runs, key=lambda r: r["entries_per_s"])
            out.append(
                [
                    f"(context) share of the replay ceiling ({fmt_int(replay_ceiling['entries_per_s'])} entries/s)",
                    f"{top['entries_per_s'] / replay_ceiling['entries_per_s'] * 100:.0f}%",
                    "",
                ]
            )
    rss = [r for r in scale.values()] + [r for k, r in compare.items() if k[2] == "rust"]
    if rss:
        top = max(rss, key=lambda r: r["max_rss_kb"])
        biggest = max(scale.values(), key=lambda r: r["size"], default=None)
        flat = ""
        if biggest:
            smallest = min(
                (r for r in scale.values() if r["backend"] == biggest["backend"]),
                key=lambda r: r["size"],
            )
            flat = (
                f"; {biggest['backend']} {fmt_int(smallest['size'])} → {fmt_int(biggest['size'])}: "
                f"{mib(smallest['max_rss_kb'])} → {mib(biggest['max_rss_kb'])} MiB"
            )
        out.append(
            [
                "peak RSS < 30 MiB, flat",
                f"max {mib(top['max_rss_kb'])} MiB ({top['backend']}, c={top['concurrency']}, n={fmt_int(top['size'])}){flat}",
                verdict(top["max_rss_kb"] < 30 * 1024),
            ]
        )
    for backend in ("redis", "mysql"):
        c = ckpt_cost(ckpt_runs, backend, 1)
        if c and "wall_cost" in c:
            out.append(
                [
                    f"--checkpoint-interval 1 costs < 10% ({backend})",
                    f"time {pct(c['wall_cost'])}, CPU {pct(c['cpu_cost'])} (median of {c['runs']}; "
                    f"the off runs alone spread by {c['off_spread'] * 100:.0f}%)",
                    verdict(c["wall_cost"] < 0.10),
                ]
            )
    return table(["target", "measured", "verdict"], out)


def write_chart(args, compare, backend_ceiling):
    """A gnuplot script and its data; bench.sh runs gnuplot on them. None
    without comparison runs (e.g. BENCH_PHASES=stack): nothing to plot."""
    if not compare:
        return
    # One panel per backend that was compared (BENCH_BACKENDS may name one).
    titles = {"redis": "Redis", "mysql": "MySQL (MariaDB)"}
    backends = [b for b in titles if any(k[0] == b for k in compare)]
    with open(args.chart_data, "w") as f:
        f.write("# backend concurrency go go-ka rust ceiling\n")
        for i, backend in enumerate(backends):
            if i:
                f.write("\n\n")
            for conc in sorted({k[1] for k in compare if k[0] == backend}):
                vals = []
                for tool in ("go", "go-ka", "rust"):
                    r = compare.get((backend, conc, tool))
                    vals.append(f"{r['entries_per_s']:.1f}" if r else "NaN")
                ceiling = backend_ceiling.get(backend)
                vals.append(f"{ceiling['entries_per_s']:.1f}" if ceiling else "NaN")
                f.write(f"{backend} {conc} {' '.join(vals)}\n")
    panels = "".join(
        f"""set title "{titles[b]}"
plot "{args.chart_data}" index {i} using 2:6 with lines dt 2 lw 1.5 lc rgb "#777777" title "backend ceiling", \\
     "" index {i} using 2:3 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "Go backfill-index", \\
     "" index {i} using 2:4 with linespoints lw 2 pt 5 lc rgb "#9ecae1" title "Go, keep-alives on", \\
     "" index {i} using 2:5 with linespoints lw 2 pt 9 lc rgb "#d62728" title "rekor-backfill"
"""
        for i, b in enumerate(backends)
    )
    with open(args.chart_script, "w") as f:
        f.write(
            f"""set terminal pngcairo size {550 * len(backends)},480 font ",10"
set output "{args.chart}"
set multiplot layout 1,{len(backends)} title "entries/s by concurrency ({args.size:,} indices, replay server on loopback)"
set logscale y
set xrange [0.7:30]
set logscale x
set xtics ("1" 1, "5" 5, "20" 20)
set xlabel "--concurrency"
set ylabel "entries/s"
set grid ytics
set key top left
# Headroom above the highest line for the key.
set offsets 0, 0, graph 0.35, 0
{panels}unset multiplot
"""
        )


# ---------------------------------------------------------------- main


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("record")
    r.add_argument("--time", required=True, help="GNU time -v output file")
    r.add_argument("--out", required=True)
    r.add_argument("field", nargs="*", help="name=value")
    r.set_defaults(func=cmd_record)

    w = sub.add_parser("wrk")
    w.add_argument("--output", required=True)
    w.add_argument("--endpoint", required=True)
    w.add_argument("--connections", type=int, required=True)
    w.add_argument("--per-request", type=int, required=True)
    w.add_argument("--duration", type=int, required=True)
    w.add_argument("--server-cpu-s", type=float, default=0.0)
    w.add_argument("--load", type=float, default=0.0)
    w.add_argument("--out", required=True)
    w.set_defaults(func=cmd_wrk)

    for name, func in (("gen-redis", cmd_gen_redis), ("gen-mysql", cmd_gen_mysql)):
        g = sub.add_parser(name)
        g.add_argument("--keys", required=True, help="JSON lines {keys:[...]} per corpus entry")
        g.add_argument("--size", type=int, required=True)
        g.add_argument("--streams", type=int, default=1)
        g.add_argument("--rows", type=int, default=1000, help="rows per INSERT (mysql)")
        g.add_argument("--out-prefix", required=True)
        g.set_defaults(func=func)

    m = sub.add_parser("machine")
    m.add_argument("--out", required=True)
    m.add_argument("--repo", required=True)
    m.add_argument("--rust-bin", required=True)
    m.add_argument("--go", default="go")
    m.add_argument("--go-stamp", required=True)
    m.set_defaults(func=cmd_machine)

    u = sub.add_parser("populate")
    u.add_argument("--url", required=True, help="rekor-server base URL")
    u.add_argument("--count", type=int, required=True)
    u.add_argument("--workers", type=int, default=32, help="parallel uploaders")
    u.add_argument("--workdir", required=True, help="where the openssl fallback keeps its key")
    u.add_argument("--out", required=True)
    u.set_defaults(func=cmd_populate)

    k = sub.add_parser("report")
    k.add_argument("--results", required=True)
    k.add_argument("--machine", required=True)
    k.add_argument("--commands", required=True)
    k.add_argument("--notes")
    k.add_argument("--finished", required=True, help="when the measurements ended")
    k.add_argument("--profile-dir", help="profile-*.txt and strace-*.txt of the profile phase")
    k.add_argument("--mode", required=True)
    k.add_argument("--size", type=int, required=True)
    k.add_argument("--repeat", type=int, default=1)
    k.add_argument("--checkpoint-repeat", type=int, default=1)
    k.add_argument("--keys-per-entry", help='JSON {"go": k, "rust": k}')
    k.add_argument("--out", required=True)
    k.add_argument("--chart", required=True, help="PNG path gnuplot writes")
    k.add_argument("--chart-name", required=True, help="PNG path as linked from the report")
    k.add_argument("--chart-data", required=True)
    k.add_argument("--chart-script", required=True)
    k.set_defaults(func=cmd_report)

    sec = sub.add_parser("report-section")
    sec.add_argument("--results", required=True)
    sec.add_argument("section", choices=["mix", "stack", "stack-targets"])
    sec.set_defaults(func=cmd_report_section)

    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
