#!/usr/bin/env bash
# The single entry point for the QEMU test guest: makes sure the host tools are installed
# (scripts/ensure-qemu-deps.sh), then builds the guest into the cache (scripts/build-guest.sh).
#
#   scripts/guest.sh            # prints the cache directory and the artefacts; guest.json is the manifest
#
# Idempotent and fast when everything is present (< 1 s).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/ensure-qemu-deps.sh"
exec "$here/build-guest.sh" "$@"
