# Scenario group 8 of harness/stack/scenarios.sh (sourced by it; uses its
# helpers rb_bg, rb_ok, rb_why, bad, verdict, start, st, has_log,
# proxy_start/stop, same_as_truth and its variables W, H, B, PROXY_PORT):
# outages survived with the default retry settings (issue #11).
#
#   8a-b backend-outage-5s/30s   the index backend (Redis or MariaDB) is
#                        stopped mid-run for 5 s / 30 s, then started
#                        again: the run waits it out (--backend-retry-max
#                        1m), reconnects (on Redis, which the stack runs
#                        without persistence, it finds its data gone and
#                        rewinds), ends with status 0, index equal to the
#                        truth
#   8c-d rekor-outage-5s/30s     rekor-server stopped mid-run for 5 s / 30 s:
#                        the Rekor retries (default 6, 1 s doubling to
#                        30 s) outlast it; status 0, index equal to the truth
#
# Each run goes through faultproxy with 0.3 s per request, so the outage
# lands in the middle of it; no other flag than the stack's is given.

# outage_mid_run ID NAME SERVICE PAUSE EVIDENCE: a slowed run with default
# retries; SERVICE stopped after 0.8 s and started again PAUSE s later.
# EVIDENCE: a pattern of the run's log that shows the outage was met.
outage_mid_run() {
    local id="$1" name="$2" service="$3" pause="$4" evidence="$5" rc t0 took
    start
    st wipe
    proxy_start "$name" ok 0.3
    t0="$(date +%s.%N)"
    RB_URL="http://127.0.0.1:$PROXY_PORT" rb_bg "$name" --concurrency 2 --checkpoint-interval 1
    sleep 0.8
    local alive=yes
    kill -0 "$RB_PID" 2>/dev/null || alive=no
    STACK_RESTART_PAUSE="$pause" "$H/stack.sh" restart "$service" >>"$W/logs/restarts.log" 2>&1 || bad "restarting $service failed"
    wait "$RB_PID"; rc=$?
    took="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
    proxy_stop
    [ "$alive" = yes ] || bad "the run ended before the outage"
    rb_ok "$name" "$rc" || bad "$(rb_why "$name" "$rc")"
    has_log "$name" "$evidence" || bad "the run's log shows no sign of the outage ($evidence)"
    same_as_truth "$name"
    local how
    how="$(grep -cE 'reconnecting|retry [0-9]+ of' "$W/logs/$name.log") retry/reconnect lines"
    has_log "$name" "rewinding" && how="$how, rewound $(grep -c 'rewinding (' "$W/logs/$name.log")x"
    verdict "$id" "$name" "$service down ${pause}s (+ restart) at 0.8s; run exit $rc after ${took}s; $how; index equals the truth"
}

s8_outages() {
    local backend_service=redis
    [ "$B" = mysql ] && backend_service=mariadb
    outage_mid_run 8a backend-outage-5s "$backend_service" 5 'reconnecting'
    outage_mid_run 8b backend-outage-30s "$backend_service" 30 'reconnecting'
    outage_mid_run 8c rekor-outage-5s rekor-server 5 'retry [0-9]* of'
    outage_mid_run 8d rekor-outage-30s rekor-server 30 'retry [0-9]* of'
}
