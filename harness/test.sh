#!/usr/bin/env bash
# The whole test suite (what `make test` and CI run):
#   1. private Redis and MariaDB on loopback (harness/services.sh),
#   2. cargo test over the workspace: unit tests, sink tests and the
#      end-to-end scenarios against the real services,
#   3. key parity: rekor-backfill against Rekor v1.5.4's own Go code
#      (harness/key-oracle) over the corpus and over a set generated from
#      real tool output (harness/gen), plus the oracle's own tests,
#   4. the demo (harness/demo.sh, `make demo`) as a newcomer runs it, and
#      proof that it fails loudly when a step fails (harness/test-demo.sh),
#   5. the release binary (make release), run in a chroot that holds nothing
#      else (harness/release/chroot-test.sh), the OCI images around it
#      (make image, harness/image/test.sh) and the Kubernetes manifests
#      (deploy/kubernetes, harness/k8s-manifests),
#   6. the real Rekor stack (harness/stack, `make harness`): rekor-server,
#      Trillian, Redis and MariaDB on loopback; ground truth, upstream,
#      checkpoint and fault scenarios on both backends.
# Services are stopped on exit, also on failure. Ports: REDIS_PORT and
# MYSQL_PORT (defaults 16379 and 13306); the demo's own services use
# DEMO_REDIS_PORT and DEMO_MYSQL_PORT (defaults 16479 and 13406).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
state=${TEST_SERVICES_DIR:-$repo/.harness/test-services}
passed=0 failed=0 failures=()

stage() {
    local name=$1
    shift
    echo
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

cleanup() { harness/services.sh stop "$state" >/dev/null 2>&1 || true; }
trap cleanup EXIT

[ -r "$repo/testdata/corpus/entries.jsonl" ] || {
    echo "test.sh: testdata/corpus/entries.jsonl is missing (a partial checkout?)" >&2
    exit 2
}
harness/services.sh start "$state" || { echo "test.sh: services did not start" >&2; exit 1; }
eval "$(harness/services.sh env "$state")"

stage "cargo build --release" cargo build --release --workspace --quiet
stage "cargo test (unit, sinks, scenarios)" cargo test --workspace --release --no-fail-fast
stage "key oracle tests (go test)" bash -c 'cd harness/key-oracle && go test ./...'
# Every shell script parses: a script broken by a merge fails here, in
# seconds, not at the end of the stage that runs it.
stage "shell scripts parse (bash -n)" bash -c \
    'status=0; for f in $(git ls-files "*.sh") .ci/run; do bash -n "$f" || status=1; done; exit $status'
stage "harness helper tests (python)" bash -c \
    'python3 harness/key-oracle/test_parity_compare.py && python3 -m unittest discover -s harness/stack -p "test_*.py"'
stage "key parity vs Rekor's Go code (corpus)" harness/parity.sh target/release/rekor-backfill
gen_dir=${TEST_GEN_DIR:-$repo/.harness/gen}
stage "key parity (generated set)" bash -c \
    'harness/gen/run.sh "$1" && harness/parity.sh target/release/rekor-backfill "$1/generated.jsonl"' \
    _ "$gen_dir"

stage "make demo, and the demo failing loudly when a step fails" bash harness/test-demo.sh

stage "release binary (make release)" make release
stage "release binary in a bare chroot (names from /etc/hosts and DNS)" \
    bash harness/release/chroot-test.sh target/dist/rekor-backfill
stage "images (make image), run from their own root filesystems" \
    bash -c 'bash harness/image/build.sh && bash harness/image/test.sh'
stage "Kubernetes manifests: strict decoding into k8s.io/api types (go test)" \
    bash -c 'cd harness/k8s-manifests && go test -count=1 ./...'

stage "real Rekor stack scenarios (make harness)" bash -c \
    'bash harness/stack/build.sh && HARNESS_PENDING=fail bash harness/stack/scenarios.sh'

echo
if ((failed)); then
    printf 'failed stage: %s\n' "${failures[@]}"
fi
echo "stages: $passed passed, $failed failed"
((failed == 0))
