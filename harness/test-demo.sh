#!/usr/bin/env bash
# The demo under test (a stage of harness/test.sh): `make demo`'s script must
# pass on a working tree, and must fail loudly — non-zero status and a
# `FAILED: <step>` line naming the step — when a step does not do what it
# says, whether the tool itself fails or only the index is wrong:
#   1. as is: exit 0, last line "demo: all steps passed";
#   2. a wrong Redis password for the tool (DEMO_REDIS_PASSWORD): the tool
#      exits 1, so the Redis backfill step fails;
#   3. every backfill with --dry-run (DEMO_BACKFILL_ARGS): the tool exits as
#      usual but writes nothing, which only the demo's index check can see.
# Ports: DEMO_REDIS_PORT and DEMO_MYSQL_PORT (demo.sh's defaults otherwise).
# About 30 s each on 2 cores, once the release build exists.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
logs=${TEST_DEMO_LOGS:-$repo/.harness/test-demo}
mkdir -p "$logs"
failed=0

# demo NAME [VAR=value ...]: runs the demo with those variables, log in $logs.
demo() {
    local name=$1
    shift
    env "$@" bash harness/demo.sh >"$logs/$name.log" 2>&1
}

verdict() {
    local ok=$1 name=$2 what=$3
    if [ "$ok" = yes ]; then
        echo "PASS demo $name: $what"
    else
        echo "FAIL demo $name: $what; last lines of $logs/$name.log:"
        tail -n 15 "$logs/$name.log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}

expect_pass() {
    local status=0
    demo "$1" || status=$?
    local ok=no
    [ "$status" = 0 ] && [ "$(tail -n 1 "$logs/$1.log")" = "demo: all steps passed" ] && ok=yes
    verdict "$ok" "$1" "exit $status, expected 0 and \"demo: all steps passed\""
}

# expect_fail NAME STEP VAR=value...: non-zero, and a FAILED line for STEP.
expect_fail() {
    local name=$1 step=$2 status=0
    shift 2
    demo "$name" "$@" || status=$?
    local ok=no
    [ "$status" != 0 ] && grep -q "^FAILED: $step" "$logs/$name.log" && ok=yes
    verdict "$ok" "$name" "exit $status with $*, expected non-zero and \"FAILED: $step…\""
}

expect_pass as-is
expect_fail wrong-password "Backfill into Redis" DEMO_REDIS_PASSWORD=not-the-password
expect_fail writes-nothing "Backfill into Redis.*: the Redis index is not" DEMO_BACKFILL_ARGS=--dry-run
((failed == 0))
