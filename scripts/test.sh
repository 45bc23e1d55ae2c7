#!/usr/bin/env bash
# The one test entry (npm test, .ci/run): install what the tests need, build, run
# every test with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
if [ ! -d node_modules/typescript ]; then
  npm ci --no-audit --no-fund </dev/null
else
  npm run -s build
fi
# Unit tests first (fast, no root needed), then integration (root, real kernel).
node --test --test-reporter=spec dist/test/unit/ dist/test/integration/
