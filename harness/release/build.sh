#!/usr/bin/env bash
# `make release`: the binary an operator copies onto any x86-64 Linux host,
# into target/dist/:
#   rekor-backfill        statically linked (glibc, crt-static), stripped
#   rekor-backfill.debug  its debug information (gdb/addr2line find it
#                         through the binary's .gnu_debuglink)
#   SHA256SUMS            for `sha256sum -c`
# Static glibc rather than musl: the musl target's standard library comes
# only from rustup's servers, which are out of reach here and in CI; glibc's
# libc.a is in Debian's libc6-dev, and since glibc 2.34 its getaddrinfo has
# the `files` and `dns` lookups built in, so host names resolve without any
# shared library (harness/release/chroot-test.sh proves it in a chroot).
#
# Reproducible: SOURCE_DATE_EPOCH defaults to the commit's date (it is the
# build date `--version` prints) and paths are remapped, so two builds of one
# commit give the same bytes.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
target=x86_64-unknown-linux-gnu
out=${DIST_DIR:-$repo/target/dist}

[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || {
    echo "release: /usr/lib/x86_64-linux-gnu/libc.a missing (apt-get install libc6-dev)" >&2
    exit 2
}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
cargo_home=${CARGO_HOME:-$HOME/.cargo}
# --target keeps these flags off build scripts and proc macros, which cannot
# be static executables.
export RUSTFLAGS="-C target-feature=+crt-static --remap-path-prefix=$repo=. --remap-path-prefix=$cargo_home=/cargo"
# ring's C and assembly files: the same remapping in the debug information.
export CFLAGS_x86_64_unknown_linux_gnu="-ffile-prefix-map=$repo=. -ffile-prefix-map=$cargo_home=/cargo"
cargo build --release --locked --target "$target" -p rekor-backfill --bin rekor-backfill

built=target/$target/release/rekor-backfill
if ! file -b "$built" | grep -Eq 'static(-pie)? linked|statically linked'; then
    echo "release: $built is not statically linked: $(file -b "$built")" >&2
    exit 1
fi
mkdir -p "$out"
rm -f "$out/rekor-backfill" "$out/rekor-backfill.debug" "$out/SHA256SUMS"
objcopy --only-keep-debug "$built" "$out/rekor-backfill.debug"
objcopy --strip-all --add-gnu-debuglink="$out/rekor-backfill.debug" "$built" "$out/rekor-backfill"
chmod 0755 "$out/rekor-backfill"
chmod 0644 "$out/rekor-backfill.debug"
(cd "$out" && sha256sum rekor-backfill rekor-backfill.debug >SHA256SUMS)

"$out/rekor-backfill" --version
echo "$out/rekor-backfill: $(stat -c %s "$out/rekor-backfill") bytes ($(file -b "$out/rekor-backfill" | cut -d, -f1-2))"
cat "$out/SHA256SUMS"
