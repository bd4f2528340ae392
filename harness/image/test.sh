#!/usr/bin/env bash
# Tests the images of `make image` (harness/image/build.sh) from their own
# root filesystems: each tag is unpacked with umoci (no container runtime
# needed), its configuration and files checked (user 65532, entrypoint,
# backfill-redis, CA certificates; no shell and no libc in the static one),
# then harness/release/chroot-test.sh runs the demo's backfill inside it, as
# the image's user, against the local services; the operator variant also
# runs the RHTAS operator's CronJob command unchanged.
# Needs root, umoci and what chroot-test.sh needs.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
layout=${IMAGE_DIR:-$repo/target/image}/oci
work=${IMAGE_WORK_DIR:-$repo/.harness/image}/test
fail() { echo "image test: FAIL: $*" >&2; exit 1; }

[ -f "$layout/index.json" ] || fail "$layout: no OCI layout (make image)"
mapfile -t tags < <(umoci ls --layout "$layout")
((${#tags[@]} == 2)) || fail "want 2 tags, found: ${tags[*]}"

for tag in "${tags[@]}"; do
    echo "=== rekor-backfill:$tag"
    bundle=$work/$tag
    rm -rf "$bundle"
    mkdir -p "$work"
    umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
    rootfs=$bundle/rootfs
    # user, entrypoint and environment as the runtime would take them
    read -r uid gid exe < <(python3 - "$bundle/config.json" <<'PY'
import json, sys
process = json.load(open(sys.argv[1]))["process"]
print(process["user"]["uid"], process["user"]["gid"], process["args"][0])
PY
    )
    [ "$uid:$gid" = 65532:65532 ] || fail "$tag runs as $uid:$gid"
    [ "$exe" = /usr/local/bin/rekor-backfill ] || fail "$tag: entrypoint $exe"
    [ "$(readlink "$rootfs/usr/local/bin/backfill-redis")" = rekor-backfill ] ||
        fail "$tag: /usr/local/bin/backfill-redis is not the binary"
    [ "$(stat -c %s "$rootfs/etc/ssl/certs/ca-certificates.crt")" -gt 100000 ] ||
        fail "$tag: no CA certificates"
    grep -q '^nonroot:x:65532:65532:' "$rootfs/etc/passwd" || fail "$tag: no user 65532 in /etc/passwd"
    case $tag in
    *-operator)
        for tool in /bin/sh /usr/bin/curl /bin/sed; do
            [ -x "$rootfs$tool" ] || fail "$tag: $tool missing"
        done
        bash harness/release/chroot-test.sh --rootfs "$rootfs" --exe "$exe" --user "$uid:$gid" --operator
        ;;
    *)
        leftovers=$(cd "$rootfs" && find . \( -name sh -o -name 'libc.so*' -o -name 'ld-linux*' \) | head -3)
        [ -z "$leftovers" ] || fail "$tag is not minimal: $leftovers"
        echo "files: $(cd "$rootfs" && find . -type f -o -type l | sort | tr '\n' ' ')"
        bash harness/release/chroot-test.sh --rootfs "$rootfs" --exe "$exe" --user "$uid:$gid"
        ;;
    esac
done
echo "image test passed: ${tags[*]}"
