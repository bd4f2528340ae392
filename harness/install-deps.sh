#!/usr/bin/env bash
# Installs the system packages the tests, the demo and the harness need
# (Debian 12). Idempotent: does nothing when everything is present.
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v minisign >/dev/null || need+=(minisign)
command -v openssl >/dev/null || need+=(openssl)
command -v socat >/dev/null || need+=(socat) # TLS proxy in tests/tls_trust.rs
command -v gpg >/dev/null || need+=(gnupg)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v python3 >/dev/null || need+=(python3)
# make release and its chroot test (harness/release/)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
command -v objcopy >/dev/null || need+=(binutils)
command -v file >/dev/null || need+=(file)
command -v ip >/dev/null || need+=(iproute2)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
# make image and its test (harness/image/)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v umoci >/dev/null || need+=(umoci)

if ((${#need[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "cargo (Rust toolchain) is required" >&2; exit 1; }
