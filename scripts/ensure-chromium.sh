#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed at /usr/bin/chromium, for the browser tests of the
# HTML report (test/html-browser.test.ts drives it headless with playwright-core; nothing is
# downloaded at run time: the browser comes from Debian's packages).
#
#   scripts/ensure-chromium.sh        # quiet and instant when /usr/bin/chromium is there
#
# When it is missing:
#   - as root: `apt-get update` once, then `apt-get install -y --no-install-recommends chromium`;
#   - otherwise: prints the exact apt command to run and exits 1.
# Idempotent; parallel callers install once (a lock in .cache/).
set -euo pipefail

browser=/usr/bin/chromium
[ -x "$browser" ] && exit 0

cmd="apt-get install -y --no-install-recommends chromium"
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: $browser is missing (the browser tests need it)" >&2
  echo "ensure-chromium: run as root:  apt-get update && $cmd" >&2
  exit 1
fi
has() { command -v "$1" >/dev/null 2>&1; }
has apt-get || {
  echo "ensure-chromium: apt-get not found: install Chromium at $browser by hand (Debian or a derivative is expected)." >&2
  exit 1
}

lockdir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache"
mkdir -p "$lockdir"
exec 9>"$lockdir/ensure-chromium.lock"
flock 9
[ -x "$browser" ] && exit 0

echo "ensure-chromium: installing chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/ensure-chromium.XXXXXX.log)
trap 'rm -f "$log"' EXIT
# Other users of the machine may hold the dpkg lock for a while: wait for it instead of failing.
if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
       apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "ensure-chromium: apt-get failed (output above); try by hand: apt-get update && $cmd" >&2
  exit 1
fi
[ -x "$browser" ] || { echo "ensure-chromium: $browser still missing after install" >&2; exit 1; }
