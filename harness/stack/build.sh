#!/usr/bin/env bash
# Builds the real Rekor stack's binaries at pinned versions from the Go module
# proxy into $REPO/.harness/bin (git-ignored):
#   rekor-server, rekor-cli, backfill-index   github.com/sigstore/rekor v1.5.4
#   trillian_log_server, trillian_log_signer  github.com/google/trillian v1.7.3
# plus the Trillian MySQL schema next to them (.harness/share/trillian-storage.sql).
#
# Why `go install pkg@version`: it builds exactly the module's own go.mod
# requirements (no local go.mod, no replace directives), which is how the
# released binaries are built. A stamp file per binary records the package,
# version and Go toolchain; a binary whose stamp matches is not rebuilt.
#
# usage: harness/stack/build.sh [--force]
set -euo pipefail

REKOR_VERSION="${REKOR_VERSION:-v1.5.4}"
TRILLIAN_VERSION="${TRILLIAN_VERSION:-v1.7.3}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
bin="$repo/.harness/bin"
share="$repo/.harness/share"
force=0
[ "${1:-}" = "--force" ] && force=1

if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"
    else echo "build.sh: no Go toolchain found (need go >= 1.25.11)" >&2; exit 1; fi
fi
# Never fetch another toolchain behind our back; rekor's go.mod says go 1.25.11.
export GOTOOLCHAIN=local
# go install pkg@version ignores any local go.mod and resolves the module's
# own requirements; -mod=mod is what it does anyway and keeps an inherited
# GOFLAGS=-mod=vendor/readonly from breaking the build.
export GOFLAGS="-mod=mod -buildvcs=false -trimpath"
export GOBIN="$bin"
mkdir -p "$bin" "$share"
goversion="$(go env GOVERSION)"

# name package@version
targets=(
    "rekor-server github.com/sigstore/rekor/cmd/rekor-server@$REKOR_VERSION"
    "rekor-cli github.com/sigstore/rekor/cmd/rekor-cli@$REKOR_VERSION"
    "backfill-index github.com/sigstore/rekor/cmd/backfill-index@$REKOR_VERSION"
    "trillian_log_server github.com/google/trillian/cmd/trillian_log_server@$TRILLIAN_VERSION"
    "trillian_log_signer github.com/google/trillian/cmd/trillian_log_signer@$TRILLIAN_VERSION"
)

built=0
for t in "${targets[@]}"; do
    name="${t%% *}"; pkg="${t#* }"
    stamp="$bin/.$name.stamp"
    want="$pkg $goversion"
    if [ "$force" = 0 ] && [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        echo "up to date: $name ($pkg)"
        continue
    fi
    echo "building:   $name ($pkg)"
    start=$(date +%s)
    rm -f "$stamp"
    go install "$pkg"
    echo "$want" > "$stamp"
    echo "built:      $name in $(( $(date +%s) - start ))s"
    built=$((built + 1))
done

# Trillian's MySQL schema ships in its module; copy it so up.sh does not need Go.
schema="$share/trillian-storage.sql"
if [ ! -s "$schema" ] || [ "$force" = 1 ]; then
    dir="$(go mod download -json "github.com/google/trillian@$TRILLIAN_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -r "$dir/storage/mysql/schema/storage.sql" ] || { echo "build.sh: trillian schema not found under $dir" >&2; exit 1; }
    cp "$dir/storage/mysql/schema/storage.sql" "$schema"
    chmod 644 "$schema"
fi
echo "binaries in $bin ($built rebuilt)"
