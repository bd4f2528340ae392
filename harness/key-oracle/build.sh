#!/usr/bin/env bash
# Builds the Go key oracle into $REPO/.harness/bin/key-oracle.
#
# Uses the normal Go module and build caches (go env GOMODCACHE / GOCACHE),
# so only the first build downloads and compiles rekor's dependency tree;
# later builds take seconds. -mod=readonly makes the committed go.sum the
# only source of truth for dependency versions (they equal rekor v1.5.4's
# go.mod requirements).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
out="$repo/.harness/bin/key-oracle"

if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then
        PATH="/usr/local/go/bin:$PATH"
    else
        echo "build.sh: no Go toolchain found (need go >= 1.25.11)" >&2
        exit 1
    fi
fi

mkdir -p "$(dirname "$out")"
cd "$here"
# GOTOOLCHAIN=local: never fetch another toolchain behind our back.
GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath -o "$out" .
echo "$out"
