#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, postgres, pg_ctl) are installed, for the durable
# tests, which start a private server of their own (test/helpers/postgres.ts) on 127.0.0.1.
#
#   scripts/ensure-postgres.sh     # quiet when PostgreSQL is there; prints its bin directory with -v
#
# When missing:
#   - as root: `apt-get update` once, then `apt-get install -y --no-install-recommends postgresql`
#     (Debian's package; its own cluster service is not needed and is left alone);
#   - otherwise: prints the exact apt command to run and exits 1.
# Idempotent; exits 0 without output when nothing is missing.
set -euo pipefail

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  done
  return 1
}

if bin=$(find_bin); then
  [ "${1:-}" = "-v" ] && echo "$bin"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL is missing (needed by the durable tests). Install it with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends postgresql" >&2
  exit 1
fi
echo "installing PostgreSQL (Debian's postgresql package)…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
bin=$(find_bin) || { echo "PostgreSQL was installed but no initdb was found under /usr/lib/postgresql" >&2; exit 1; }
[ "${1:-}" = "-v" ] && echo "$bin"
exit 0
