#!/usr/bin/env bash
# Run the built-in hello-world image in a container: berth's image store (in a temporary
# data root) makes the image and mounts a container snapshot of it as the bundle's
# rootfs; berth-runtime runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

data=$(mktemp -d /var/tmp/berth-hello.XXXXXX)
cleanup() {
  node bin/berth-runtime.js --root "$data/state" delete --force hello >/dev/null 2>&1 || true
  umount "$data/bundle/rootfs" 2>/dev/null || true
  # Only remove the data root once nothing is mounted below it.
  if ! grep -q " $data/" /proc/self/mountinfo; then rm -rf "$data"; fi
}
trap cleanup EXIT

node scripts/hello-image.mjs "$data/root" "$data/bundle"
node bin/berth-runtime.js --root "$data/state" run --bundle "$data/bundle" hello
