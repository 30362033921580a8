#!/usr/bin/env bash
# Makes sure the host tools of the QEMU test guest are present.
#
#   scripts/ensure-qemu-deps.sh          # quiet when everything is there
#
# Checks: qemu-system-x86_64, qemu-img, a static busybox, dropbear + dropbearkey,
# rsync, ssh-keygen, gzip, cpio (busybox's applet is enough), mkfs.ext4, and the
# Debian tools the guest build uses (apt-get, apt-cache, dpkg).
# When something is missing:
#   - as root: `apt-get update` once, then `apt-get install -y --no-install-recommends` the packages;
#   - otherwise: prints the exact apt command to run and exits 1.
# Idempotent; exits 0 without output when nothing is missing.
set -euo pipefail

missing_pkgs=()
missing_what=()
need() { # need <package> <what> : record a missing Debian package
  local pkg=$1 what=$2 p
  for p in "${missing_pkgs[@]:-}"; do [ "$p" = "$pkg" ] && { missing_what+=("$what"); return 0; }; done
  missing_pkgs+=("$pkg")
  missing_what+=("$what")
}
has() { command -v "$1" >/dev/null 2>&1; }

# A static busybox: Debian's busybox-static installs /bin/busybox as a static ELF.
static_busybox() {
  local bb
  bb=$(command -v busybox 2>/dev/null) || return 1
  # `ldd` (libc-bin, always there on Debian) says "not a dynamic executable" for a static ELF.
  ! ldd "$bb" >/dev/null 2>&1
}

check() {
  missing_pkgs=()
  missing_what=()
  has qemu-system-x86_64 || need qemu-system-x86 qemu-system-x86_64
  has qemu-img || need qemu-utils qemu-img
  static_busybox || need busybox-static "busybox (static)"
  has dropbear || [ -x /usr/sbin/dropbear ] || need dropbear-bin dropbear
  has dropbearkey || need dropbear-bin dropbearkey
  has rsync || need rsync rsync
  has ssh-keygen || need openssh-client ssh-keygen
  has ssh || need openssh-client ssh
  has gzip || need gzip gzip
  has cpio || static_busybox || need cpio cpio
  has mkfs.ext4 || [ -x /sbin/mkfs.ext4 ] || [ -x /usr/sbin/mkfs.ext4 ] || need e2fsprogs mkfs.ext4
  has setpriv || need util-linux setpriv
  has apt-get && has apt-cache && has dpkg || {
    echo "ensure-qemu-deps: apt-get/apt-cache/dpkg not found: the test guest is built from Debian packages (Debian or a derivative is required)." >&2
    exit 1
  }
}

export PATH="$PATH:/usr/sbin:/sbin"
check
[ ${#missing_pkgs[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing_pkgs[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-qemu-deps: missing: ${missing_what[*]}" >&2
  echo "ensure-qemu-deps: run as root:  apt-get update && $cmd" >&2
  exit 1
fi

# Parallel callers (test files run in parallel) install once: the others wait, then re-check.
lockdir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache"
mkdir -p "$lockdir"
exec 8>"$lockdir/ensure-qemu-deps.lock"
flock 8
check
[ ${#missing_pkgs[@]} -eq 0 ] && exit 0

echo "ensure-qemu-deps: installing ${missing_pkgs[*]} (missing: ${missing_what[*]})" >&2
export DEBIAN_FRONTEND=noninteractive
# Other users of the machine may hold the dpkg lock for a while: wait for it instead of failing.
log=$(mktemp /tmp/ensure-qemu-deps.XXXXXX.log)
trap 'rm -f "$log"' EXIT
if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
       apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing_pkgs[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "ensure-qemu-deps: apt-get failed (output above); try by hand: apt-get update && $cmd" >&2
  exit 1
fi

check
if [ ${#missing_pkgs[@]} -ne 0 ]; then
  echo "ensure-qemu-deps: still missing after install: ${missing_what[*]}" >&2
  exit 1
fi
