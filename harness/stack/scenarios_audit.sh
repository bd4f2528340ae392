# Scenario group 7 of harness/stack/scenarios.sh (sourced by it; uses its
# helpers st, rb, bad, verdict, start and its variables B, W, H, END,
# REKOR_URL, REDIS_PORT, RUST_BIN): `rekor-backfill audit` and `fix-case`
# on the real stack.
#
#   7a audit-repair      the server's own index, restored; a seeded random
#                        10% of the pairs rekor-backfill writes wiped and 3
#                        keys moved to their upper-case spelling (Redis):
#                        audit reports exactly those figures (exit 5), a
#                        backfill repairs, audit reports 0 (exit 0)
#   7b fix-case-go       (Redis, after 5) the Go backfill-index's index:
#                        audit counts its mis-cased pairs, fix-case merges
#                        them, audit counts none, and every rekor-cli probe
#                        that lost entries to the Go tool's capitals finds
#                        them again
#
# AUDIT_SEED (default 7) chooses the wiped pairs and the mis-cased keys.

# rb_audit NAME [PORT] [ARGS...]: an audit of the stack's index (the Redis on
# PORT, default the main one); the JSON summary in $W/NAME.json, the log in
# $W/logs/NAME.log; returns its exit status.
rb_audit() {
    local name="$1" port="${2:-$REDIS_PORT}" cmd=(env)
    shift; [ $# -gt 0 ] && shift
    if [ "$B" = redis ]; then
        cmd+=(REDIS_PASSWORD="$REDIS_PASSWORD" "$RUST_BIN" audit --redis-hostname 127.0.0.1 --redis-port "$port")
    else
        cmd+=(MYSQL_DSN="$INDEX_DSN" "$RUST_BIN" audit)
    fi
    cmd+=(--rekor-address "$REKOR_URL" --start 0 --end "$END" --concurrency 4 --summary json)
    RUST_LOG=info "${cmd[@]}" "$@" >"$W/$name.json" 2>"$W/logs/$name.log"
}

# audit_expect NAME RC FIELD=VALUE...: the audit NAME exited RC and its
# summary has these figures.
audit_expect() {
    local name="$1" want_rc="$2" rc="$3"; shift 3
    [ "$rc" = "$want_rc" ] || bad "$name exited $rc, expected $want_rc: $(grep -m1 -E 'ERROR|Audit' "$W/logs/$name.log" | cut -c1-200)"
    local why
    why="$(python3 - "$W/$name.json" "$@" <<'PY'
import json, sys
try:
    s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except (ValueError, IndexError):
    print("no JSON summary"); sys.exit()
wrong = ["%s %s, expected %s" % (f, s.get(f), v) for f, v in (a.split("=") for a in sys.argv[2:])
         if str(s.get(f)) != v]
print("; ".join(wrong))
PY
)"
    [ -z "$why" ] || bad "$name: $why"
}

# figure NAME FIELD: one number of an audit summary.
figure() {
    python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]).get(sys.argv[2]))' "$W/$1.json" "$2"
}

expected() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

s7a_audit_repair() {
    start
    local rc seed="${AUDIT_SEED:-7}" exp="$W/audit-expected.json" f
    st restore "$W/server.raw"
    rb_audit audit-server; rc=$?
    python3 "$H/audit_damage.py" damage --truth "$W/truth.tsv" --seed "$seed" --share 0.1 \
        --mis-case 3 --out "$exp" >"$W/logs/audit-damage.log" 2>&1 || bad "damaging the index failed"
    local want=() never
    for f in pairsExpected present missing misCased; do want+=("$f=$(expected "$exp" "$f")"); done
    # The server's own index, before the damage: what rekor-backfill
    # writes and the server never did is all that is missing.
    never="$(expected "$exp" neverWritten)"
    audit_expect audit-server "$([ "$never" = 0 ] && echo 0 || echo 5)" "$rc" "missing=$never" misCased=0
    rb_audit audit-damaged; rc=$?
    audit_expect audit-damaged 5 "$rc" "${want[@]}"
    rb audit-repair --start 0 --end "$END" --concurrency 4 --reset-checkpoint; rc=$?
    rb_ok audit-repair "$rc" || bad "$(rb_why audit-repair "$rc")"
    rb_audit audit-repaired; rc=$?
    audit_expect audit-repaired 0 "$rc" missing=0 misCased=0 "${want[0]}"
    st restore "$W/truth.tsv"
    verdict 7a audit-repair "$(python3 - "$exp" "$W/audit-damaged.json" "$W/audit-repaired.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
last = lambda p: json.loads(open(p).read().strip().splitlines()[-1])
d, r = last(sys.argv[2]), last(sys.argv[3])
print("seed %d: %d pairs expected; server's own index %d missing; %d wiped (10%%) and %d keys mis-cased -> "
      "audit %d missing, %d mis-cased (exit 5, as predicted); after a backfill %d missing, %d mis-cased (exit 0); "
      "audit %.2fs" % (e["seed"], e["pairsExpected"], e["neverWritten"], e["wiped"], e["misCasedKeys"],
                       d.get("missing"), d.get("misCased"), r.get("missing"), r.get("misCased"),
                       r.get("durationSeconds") or 0))
PY
)"
}

s7b_fix_case_go() {
    start
    local rc before after
    [ -s "$W/hits-go.json" ] || { bad "scenario 5 did not leave the Go index's probes"; verdict 7b fix-case-go ""; return; }
    rb_audit audit-go "$REDIS_GO_PORT"; rc=$?
    before="$(figure audit-go misCased)"
    [ "$rc" = 5 ] && [ "${before:-0}" -gt 0 ] || bad "the Go index audited with exit $rc and ${before:-no} mis-cased pairs; expected 5 and some"
    env REDIS_PASSWORD="$REDIS_PASSWORD" RUST_LOG=info "$RUST_BIN" fix-case --redis-hostname 127.0.0.1 \
        --redis-port "$REDIS_GO_PORT" >"$W/fix-case.out" 2>"$W/logs/fix-case.log"; rc=$?
    [ "$rc" = 0 ] || bad "fix-case exited $rc: $(grep -m1 ERROR "$W/logs/fix-case.log" | cut -c1-200)"
    rb_audit audit-go-fixed "$REDIS_GO_PORT"; rc=$?
    after="$(figure audit-go-fixed misCased)"
    [ "$after" = 0 ] || bad "after fix-case the Go index still has $after mis-cased pairs"
    [ "$(figure audit-go-fixed missing)" = "$(figure audit-go missing)" ] || bad "fix-case changed the missing pairs"
    env REDIS_PASSWORD="$REDIS_PASSWORD" "$RUST_BIN" fix-case --redis-hostname 127.0.0.1 \
        --redis-port "$REDIS_GO_PORT" >"$W/fix-case-again.out" 2>"$W/logs/fix-case-again.log" \
        && [ ! -s "$W/fix-case-again.out" ] || bad "a second fix-case still had work: $(head -n 1 "$W/fix-case-again.out")"
    python3 "$H/searches.py" probes --url "$REKOR_GO_URL" --probes "$STACK_DIR/populate/probes.tsv" \
        --out "$W/hits-go-fixed.json" 2>"$W/logs/probes-go-fixed.err" || bad "rekor-cli search (fixed Go index) failed"
    python3 "$H/audit_damage.py" probes --server "$W/hits-server.json" --go "$W/hits-go.json" \
        --fixed "$W/hits-go-fixed.json" --classified "$W/go.json" >"$W/fix-case-probes.json" \
        || bad "probes after fix-case: $(cat "$W/fix-case-probes.json")"
    verdict 7b fix-case-go "$(python3 - "$W/fix-case-probes.json" "$W/audit-go.json" "$W/fix-case.out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
a = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
merged = sum(1 for l in open(sys.argv[3]) if l.startswith("merge "))
print("Go index: %d pairs mis-cased, %d missing; fix-case merged %d lists, then 0 mis-cased; "
      "%d of %d probes failed with the Go index, %d for case: all %d found again" % (
      a["misCased"], a["missing"], merged, p["failed_with_go"], p["probes"], p["case_related"], p["repaired"]))
PY
)"
}

s7_audit() {
    s7a_audit_repair
    [ "$B" = redis ] && want 5 && s7b_fix_case_go
}
