#!/usr/bin/env bash
# Run the built-in hello payload in a container through berth-runtime: a bundle in
# a temporary directory whose rootfs holds only the static hello binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=$(mktemp -d /tmp/berth-hello.XXXXXX)
root=$(mktemp -d /tmp/berth-hello-state.XXXXXX)
cleanup() { node bin/berth-runtime.js --root "$root" delete --force hello >/dev/null 2>&1 || true; rm -rf "$bundle" "$root"; }
trap cleanup EXIT

mkdir -p "$bundle/rootfs"
cp build/native/hello "$bundle/rootfs/hello"
node bin/berth-runtime.js spec --bundle "$bundle"
node -e '
  const fs = require("node:fs");
  const path = process.argv[1] + "/config.json";
  const spec = JSON.parse(fs.readFileSync(path, "utf8"));
  spec.process.terminal = false;
  spec.process.args = ["/hello"];
  fs.writeFileSync(path, JSON.stringify(spec, null, 2));
' "$bundle"
node bin/berth-runtime.js --root "$root" run --bundle "$bundle" hello
