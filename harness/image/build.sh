#!/usr/bin/env bash
# `make image`: two OCI images around the release binary (target/dist, from
# `make release`), assembled with umoci into one OCI layout, pulled from no
# container registry:
#   rekor-backfill:VERSION           the static binary, CA certificates,
#       /etc/passwd and /etc/group with the non-root user 65532, nsswitch.conf:
#       no shell, no libc (the binary needs none), entrypoint rekor-backfill,
#       backfill-redis beside it (a symlink: the binary answers to that name).
#   rekor-backfill:VERSION-operator  the same on a Debian 12 root filesystem
#       (mmdebstrap, variant essential, plus curl and ca-certificates) so the
#       RHTAS operator's CronJob command (/bin/sh -c 'curl … | sed …;
#       backfill-redis …') runs unchanged. Those Debian packages are the only
#       reason this variant has a libc: sh, sed and curl need one.
# Output: target/image/oci (an OCI layout: `skopeo copy oci:target/image/oci:TAG
# docker://…`, `podman pull oci:target/image/oci:TAG`) and
# target/image/rekor-backfill-oci.tar (the same, archived). The Debian root
# filesystem is cached in .harness/image/ (keyed by the package list).
# Needs root, umoci, mmdebstrap (bash harness/install-deps.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
dist=${DIST_DIR:-$repo/target/dist}
out=${IMAGE_DIR:-$repo/target/image}
work=${IMAGE_WORK_DIR:-$repo/.harness/image}
suite=bookworm
packages=curl,ca-certificates
uid=65532

for tool in umoci mmdebstrap; do
    command -v "$tool" >/dev/null || { echo "image: $tool not found (bash harness/install-deps.sh)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "image: needs root (mmdebstrap, file ownership)" >&2; exit 2; }
[ -x "$dist/rekor-backfill" ] || { echo "image: $dist/rekor-backfill missing: run make release first" >&2; exit 2; }
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || { echo "image: $dist does not match its SHA256SUMS" >&2; exit 1; }

version=$("$dist/rekor-backfill" --version | sed -n '1s/^rekor-backfill //p')
commit=$("$dist/rekor-backfill" --version | sed -n 's/^commit: //p')
created=$("$dist/rekor-backfill" --version | sed -n 's/^built: //p')
epoch=$(date -d "$created" +%s)
export SOURCE_DATE_EPOCH=$epoch

# Files of both images' last layer: the binary and its second name.
app=$work/app
rm -rf "$app"
mkdir -p "$app/usr/local/bin"
cp "$dist/rekor-backfill" "$app/usr/local/bin/rekor-backfill"
ln -s rekor-backfill "$app/usr/local/bin/backfill-redis"

# The Debian root filesystem (operator variant), rebuilt when its recipe changes.
debian=$work/debian-$suite
recipe="mmdebstrap --variant=essential --include=$packages $suite (man, doc, locale, info excluded)"
if [ "$(cat "$debian.recipe" 2>/dev/null)" != "$recipe" ]; then
    rm -rf "$debian" "$debian.recipe"
    mmdebstrap --quiet --variant=essential --include="$packages" \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        "$suite" "$debian"
    echo "nonroot:x:$uid:$uid:nonroot:/home/nonroot:/usr/sbin/nologin" >>"$debian/etc/passwd"
    echo "nonroot:x:$uid:" >>"$debian/etc/group"
    echo "nonroot:!*:0:0:99999:7:::" >>"$debian/etc/shadow"
    install -d -o "$uid" -g "$uid" -m 0750 "$debian/home/nonroot"
    echo "$recipe" >"$debian.recipe"
fi

# The static variant's base: what a program needs from /etc, nothing else.
base=$work/static-base
rm -rf "$base"
install -d -m 0755 "$base/etc/ssl/certs"
install -d -m 1777 "$base/tmp"
install -d -o "$uid" -g "$uid" -m 0750 "$base/home/nonroot"
cp "$debian/etc/ssl/certs/ca-certificates.crt" "$base/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/nonroot:/sbin/nologin\n' "$uid" "$uid" >"$base/etc/passwd"
printf 'root:x:0:\nnonroot:x:%s:\n' "$uid" >"$base/etc/group"
echo 'hosts: files dns' >"$base/etc/nsswitch.conf"

# Same bytes from the same inputs: every mtime is the build date.
for tree in "$app" "$base"; do
    find "$tree" -exec touch -h -d "@$epoch" {} +
done

rm -rf "$out/oci"
mkdir -p "$out"
umoci init --layout "$out/oci"
history=(--history.created "$created" --history.author rekor-backfill)
# build TAG BASE_DIR: a new image of two layers, BASE_DIR then the app.
build() {
    local tag=$1 base_dir=$2 ref="$out/oci:$1"
    umoci new --image "$ref"
    umoci insert --image "$ref" "${history[@]}" --history.comment "base" "$base_dir" /
    umoci insert --image "$ref" "${history[@]}" --history.comment "rekor-backfill $version" "$app" /
    umoci config --image "$ref" "${history[@]}" --created "$created" --author rekor-backfill \
        --config.user "$uid:$uid" --config.workingdir /home/nonroot \
        --config.entrypoint /usr/local/bin/rekor-backfill \
        --config.env PATH=/usr/local/bin:/usr/bin:/bin \
        --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
        --config.label org.opencontainers.image.title=rekor-backfill \
        --config.label "org.opencontainers.image.version=$version" \
        --config.label "org.opencontainers.image.revision=$commit" \
        --config.label "org.opencontainers.image.created=$created" \
        --config.label org.opencontainers.image.licenses=Apache-2.0
}
build "$version" "$base"
build "$version-operator" "$debian"
umoci gc --layout "$out/oci"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    -C "$out/oci" -cf "$out/rekor-backfill-oci.tar" .

# Sizes: compressed (what a registry stores and a node pulls) and unpacked.
for tag in "$version" "$version-operator"; do
    python3 - "$out/oci" "$tag" <<'PY'
import json, os, sys
layout, tag = sys.argv[1:]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":"))
index = json.load(open(os.path.join(layout, "index.json")))
desc = next(m for m in index["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
manifest = json.load(open(blob(desc["digest"])))
packed = sum(l["size"] for l in manifest["layers"])
print(f"image rekor-backfill:{tag}: {len(manifest['layers'])} layers, "
      f"{packed / 2**20:.1f} MiB compressed, manifest {desc['digest']}")
PY
done
