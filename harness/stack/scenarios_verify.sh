# Scenario group 9 of harness/stack/scenarios.sh (sourced by it; uses its
# helpers rb, bad, verdict, start, proxy_start/stop and its variables W, H,
# END, REKOR_URL, PROXY_PORT): `--verify-log` on the real stack.
#
#   9a verify-log        the real server's entries all verify (exit 0); then
#                        through faultproxy --tamper, one entry with an
#                        altered body, one with an altered inclusion proof
#                        hash, one with an altered SET and one with an
#                        altered checkpoint signature: exactly those four
#                        fail with kind verification (exit 5); the same run
#                        without the flag notices only the body (the UUID
#                        check: kind mismatch, exit 3)
#   9t verify-log-trillian  the Trillian source (--trillian-mysql-dsn) with
#                        --verify-log: every tree's root, recomputed from
#                        Trillian's database, is the one the real server's
#                        signed tree head signs (exit 0, the logged root is
#                        GET /api/v1/log's rootHash); with another P-256 key
#                        as --rekor-public-key the head does not verify
#                        (exit 5, nothing processed)
#
# The runs are --dry-run with checkpointing off: nothing is written or
# resumed, so every run covers 0..END and the other groups' index and
# checkpoint are untouched.

# failed_kinds NAME: "INDEX:KIND ..." of the run's --failed-entries, sorted.
failed_kinds() {
    python3 -c 'import json,sys
r = [json.loads(l) for l in open(sys.argv[1])] if __import__("os").path.exists(sys.argv[1]) else []
print(" ".join("%d:%s" % (x["logIndex"], x["kind"]) for x in sorted(r, key=lambda x: x["logIndex"])))' "$W/$1.failed.jsonl"
}

s9_verify() {
    s9a_verify
    s9t_verify_trillian
}

s9a_verify() {
    start
    local rc want got
    # Untampered: every entry the real rekor-server serves verifies, with
    # the key fetched from the server.
    rb verify-clean --dry-run --checkpoint-interval 0 --verify-log --start 0 --end "$END" --concurrency 4; rc=$?
    [ "$rc" = 0 ] || bad "$(rb_why verify-clean "$rc")"
    grep -q 'Verifying entries with the log key [0-9a-f]\{64\}' "$W/logs/verify-clean.log" \
        || bad "verify-clean: no log key fingerprint logged"
    grep -q 'Nothing to do' "$W/logs/verify-clean.log" && bad "verify-clean: processed nothing"
    # Tampered, one index per check.
    proxy_start verify-tamper ok 0 --tamper 1=body --tamper 3=hash --tamper 5=set --tamper 7=checkpoint
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb verify-tamper --dry-run --checkpoint-interval 0 --verify-log --start 0 --end "$END" --concurrency 4; rc=$?
    [ "$rc" = 5 ] || bad "verify-tamper exited $rc, expected 5"
    want="1:verification 3:verification 5:verification 7:verification"
    got="$(failed_kinds verify-tamper)"
    [ "$got" = "$want" ] || bad "verify-tamper failed [$got], expected [$want]"
    # The flag off: as before, only the altered body is noticed.
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb verify-off --dry-run --checkpoint-interval 0 --start 0 --end "$END" --concurrency 4; rc=$?
    proxy_stop
    [ "$rc" = 3 ] || bad "verify-off exited $rc, expected 3"
    got="$(failed_kinds verify-off)"
    [ "$got" = "1:mismatch" ] || bad "verify-off failed [$got], expected [1:mismatch]"
    verdict 9a verify-log "$((END + 1)) real entries verify; tampered body/hash/SET/checkpoint at 1/3/5/7 caught (exit 5); flag off: only the body (exit 3)"
}

s9t_verify_trillian() {
    start
    local rc dsn root tree other
    dsn="$STACK_MYSQL_USER:$STACK_MYSQL_PASSWORD@tcp(127.0.0.1:$STACK_MYSQL_PORT)/$TRILLIAN_DB"
    read -r tree root < <(curl -fsS "$REKOR_URL/api/v1/log" |
        python3 -c 'import json,sys; i=json.load(sys.stdin); print(i["treeID"], i["rootHash"])')
    rb verify-trillian --dry-run --checkpoint-interval 0 --verify-log --start 0 --end "$END" \
        --concurrency 4 --trillian-mysql-dsn "$dsn"; rc=$?
    rb_ok verify-trillian "$rc" || bad "$(rb_why verify-trillian "$rc")"
    has_log verify-trillian "Verified tree $tree: .* hash to root $root" \
        || bad "verify-trillian: no 'Verified tree $tree ... root $root' line"
    # Another key: the real head does not verify, nothing is processed.
    other="$W/other.pub"
    openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl ec -pubout -out "$other" 2>/dev/null \
        || bad "openssl could not make a P-256 key"
    rb verify-trillian-key --dry-run --checkpoint-interval 0 --verify-log --rekor-public-key "$other" \
        --start 0 --end "$END" --concurrency 4 --trillian-mysql-dsn "$dsn"; rc=$?
    [ "$rc" = 5 ] || bad "verify-trillian-key exited $rc, expected 5"
    has_log verify-trillian-key "signed tree head of tree $tree does not verify" \
        || bad "verify-trillian-key: no 'does not verify' message"
    has_log verify-trillian-key "Indexing log entries" && bad "verify-trillian-key processed entries"
    verdict 9t verify-log-trillian "tree $tree: root ${root:0:12}… recomputed from Trillian's database; a foreign key refused (exit 5)"
}
