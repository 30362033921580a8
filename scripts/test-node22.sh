#!/usr/bin/env bash
# The second half of `npm test`: the suites whose behaviour depends on the Node version, run again
# on Node 22 (the current LTS; the machine's own Node is 20, past its end of life since April 2026).
# The binary comes from scripts/ensure-node22.sh (the official build, from the npm registry).
#
#   scripts/test-node22.sh      # writes vitest-node22.json next to vitest.json
#
# Run on Node 22: the core (scheduling, fibers, scopes, reports), real processes and signals, the
# worker threads, the terminal reporter, the HTML report's markup. Not run again here, and why:
# - durable*, cluster: @effect/sql-sqlite-node loads better-sqlite3, a native module that
#   `npm install` built for the Node that ran it (20); on Node 22 a user's install builds its own;
# - qemu/, html-browser, otel, package, cli, examples, docs, error-names: they drive qemu, Chromium,
#   an installed tarball, the type checker or tsx, whose Node-facing parts the suites above cover;
#   package.test.ts already runs the installed CLI on Node 22 (its compile cache).
set -uo pipefail
cd "$(dirname "$0")/.."
rm -f vitest-node22.json
node22="$(bash scripts/ensure-node22.sh)" || exit 1
echo "== the Node-dependent suites again on $("$node22" --version)"
exec "$node22" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile=vitest-node22.json \
  test/core \
  test/process.test.ts test/process-graph.test.ts test/process-pdeathsig.test.ts test/main-signals.test.ts \
  test/worker-pool.test.ts test/worker-bridge.test.ts test/worker-background.test.ts \
  test/reporter.test.ts test/reporter-nested.test.ts test/reporter-tmux.test.ts \
  test/html.test.ts
