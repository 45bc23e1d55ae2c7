#!/usr/bin/env bash
# Install from Debian what berth's tests need, skipping what is already there.
# Runs as root, without standard input (CI).
set -euo pipefail

packages=(
  busybox-static   # fixture rootfs for containers
  runc             # the reference runtime the conformance suite compares against
  golang-1.19-go   # builds the OCI runtime-tools validation suite offline
  podman           # drives berth-runtime as its OCI runtime
  iproute2         # ip: bridges, veths and network namespaces (berthd's networks and their tests)
  nftables         # nft: berthd's NAT, published ports and isolation rules
  iptables         # the other firewall backend, tested beside nftables
  uidmap           # newuidmap/newgidmap for podman
  procps           # ps, used by tests that inspect processes
  musl-tools       # builds berth-shim against musl: faster start-up (falls back to glibc)
  zstd             # zstd-compressed layers (Node 20 has no zstd in zlib)
  skopeo           # reads and writes docker-archive / OCI archives to check berth's save and load
                   # and copies images into and out of berth's registry
  docker-registry  # Docker's distribution 2.8: the reference registry berth's client pulls from and pushes to
  openssl          # makes the test CA and certificates for registry TLS tests
  docker.io        # the docker CLI (/usr/bin/docker, API 1.41) driven against berthd; dockerd for benches
  python3-docker   # docker-py (/usr/bin/python3) driven against berthd
  tar              # archives for docker import / cp in the end-to-end tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
