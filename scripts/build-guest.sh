#!/usr/bin/env bash
# Builds the tiny QEMU test guest from Debian packages only, into a cache directory.
#
#   scripts/build-guest.sh            # -> .cache/guest/ (or $GUEST_DIR)
#   GUEST_DIR=/tmp/g scripts/build-guest.sh
#   scripts/build-guest.sh --force    # rebuild even if the stamp is current
#
# Artefacts (all in the cache directory; their absolute paths are also in guest.json):
#   vmlinuz             Debian's cloud kernel (resolved from linux-image-cloud-amd64)
#   initramfs.cpio.gz   static busybox + dropbear + rsync + kernel modules + /init
#   base.qcow2          ext4 data disk (label "testdata", holds /base.txt), mounted on /mnt
#   id_ed25519(.pub)    client key pair, authorised for root in the guest
#   host_ed25519.pub    the guest's dropbear host key in OpenSSH format (pin it: no blind acceptance)
#   guest.json          the manifest: paths, kernel version, guest user
#
# Idempotent: a stamp (hash of this script + kernel package) makes a second run a no-op (< 1 s).
# Concurrent runs are serialised with flock. Needs no root once the tools are installed
# (scripts/ensure-qemu-deps.sh); root is only used to `apt-get update` when apt lists are empty.
set -euo pipefail
export LC_ALL=C PATH="$PATH:/usr/sbin:/sbin"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=${GUEST_DIR:-$root/.cache/guest}
kernel_meta=${GUEST_KERNEL_PACKAGE:-linux-image-cloud-amd64}
force=0
[ "${1:-}" = "--force" ] && force=1

mkdir -p "$out"
out=$(cd "$out" && pwd)
exec 9>"$out/.lock"
flock 9

artefacts=(vmlinuz initramfs.cpio.gz base.qcow2 id_ed25519 id_ed25519.pub host_ed25519.pub guest.json)
script_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)

report() {
  echo "guest: $out"
  local f
  for f in "${artefacts[@]}"; do echo "  $out/$f"; done
}

up_to_date() {
  [ "$force" -eq 0 ] || return 1
  [ -f "$out/stamp" ] || return 1
  [ "$(head -n1 "$out/stamp")" = "script=$script_hash meta=$kernel_meta" ] || return 1
  local f
  for f in "${artefacts[@]}"; do [ -s "$out/$f" ] || return 1; done
}

if up_to_date; then
  report
  exit 0
fi

t0=$(date +%s.%N)
log() { printf 'build-guest: %s\n' "$*" >&2; }

work=$(mktemp -d "$out/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------- 1. kernel
resolve_kernel() {
  apt-cache depends "$kernel_meta" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
kpkg=$(resolve_kernel || true)
if [ -z "$kpkg" ] && [ "$(id -u)" -eq 0 ]; then
  log "apt lists know no $kernel_meta: apt-get update"
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  kpkg=$(resolve_kernel || true)
fi
if [ -z "$kpkg" ]; then
  log "cannot resolve the kernel package from $kernel_meta (apt-cache depends found nothing)."
  log "run as root: apt-get update   (and check that Debian's main archive is in the apt sources)"
  exit 1
fi
kver=${kpkg#linux-image-}
mkdir -p "$out/debs"
deb=$(ls "$out/debs/${kpkg}_"*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
  log "downloading $kpkg"
  rm -f "$out/debs/"linux-image-*.deb
  # apt-get download as root warns that the _apt sandbox user cannot write here: harmless.
  (cd "$out/debs" && apt-get download -qq "$kpkg" 2>&1 | grep -v -e "^W: Download is performed unsandboxed" -e "^N: Download is performed unsandboxed" >&2 || true)
  deb=$(ls "$out/debs/${kpkg}_"*.deb 2>/dev/null | head -n1 || true)
  [ -n "$deb" ] || { log "apt-get download $kpkg produced no .deb"; exit 1; }
fi
log "kernel $kver ($(basename "$deb"))"
kroot=$work/kernel
mkdir -p "$kroot"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kroot" ./boot ./lib/modules
cp "$kroot/boot/vmlinuz-$kver" "$work/vmlinuz"
# The Debian kernel .deb ships no modules.dep: make one (host kmod may be absent; busybox has depmod).
busybox depmod -b "$kroot" "$kver"
moddir=$kroot/lib/modules/$kver

# ---------------------------------------------------------------- 2. staging root
rootfs=$work/root
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,mnt,root/.ssh,var/log,lib/modules,etc/dropbear,etc/acpi/PWRF}
chmod 700 "$rootfs/root" "$rootfs/root/.ssh"
chmod 1777 "$rootfs/tmp"

bb=$(command -v busybox)
if ldd "$bb" >/dev/null 2>&1; then
  log "$bb is not static: install busybox-static (scripts/ensure-qemu-deps.sh)"
  exit 1
fi
cp "$bb" "$rootfs/bin/busybox"
busybox --list-full | while read -r applet; do
  [ -e "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
done

# Dynamic binaries plus every library ldd names (including the ELF interpreter, which ldd prints
# without "=>"). No \s here: Debian's awk is mawk. Any absolute path among the fields is a file to copy.
copy_with_libs() {
  local bin=$1 dest=$2 lib
  install -D -m 755 "$bin" "$rootfs$dest"
  for lib in $(ldd "$bin" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
    [ -e "$rootfs$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$rootfs$lib"
  done
}
dropbear_bin=$(command -v dropbear || echo /usr/sbin/dropbear)
copy_with_libs "$dropbear_bin" /usr/sbin/dropbear
copy_with_libs "$(command -v rsync)" /usr/bin/rsync
[ -e "$rootfs/lib64/ld-linux-x86-64.so.2" ] || { log "the ELF interpreter was not copied (ldd parsing)"; exit 1; }

# ---------------------------------------------------------------- 3. kernel modules (dependency closure)
want="virtio_pci virtio_net virtio_blk virtio_rng button evdev"
# The generic kernel builds ext4 as a module and modules.dep misses its crc32c need.
find "$moddir" -name 'ext4.ko*' | grep -q . && want="crc32c_generic $want ext4"
declare -A seen=()
order=()
modpath() { # module name (dashes or underscores) -> path relative to moddir
  local n=${1//-/_} line
  while read -r line; do
    local p=${line%%:*} b
    b=$(basename "$p"); b=${b%%.ko*}; b=${b//-/_}
    [ "$b" = "$n" ] && { echo "$p"; return 0; }
  done <"$moddir/modules.dep"
  return 1
}
visit() { # depth-first: dependencies before the module itself
  local p=$1 deps d
  [ -n "${seen[$p]:-}" ] && return 0
  seen[$p]=1
  deps=$(awk -F': *' -v p="$p" '$1 == p { print $2 }' "$moddir/modules.dep")
  for d in $deps; do visit "$d"; done
  order+=("$p")
}
for m in $want; do
  p=$(modpath "$m") || { log "kernel $kver has no module $m"; exit 1; }
  visit "$p"
done
: >"$rootfs/etc/modules.order"
for p in "${order[@]}"; do
  case $p in *.ko) ;; *) log "compressed module $p: busybox insmod needs plain .ko"; exit 1 ;; esac
  cp "$moddir/$p" "$rootfs/lib/modules/"
  basename "$p" >>"$rootfs/etc/modules.order"
done
log "modules: $(tr '\n' ' ' <"$rootfs/etc/modules.order")"

# ---------------------------------------------------------------- 4. accounts and keys
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
echo '/bin/sh' >"$rootfs/etc/shells"
echo 'guest' >"$rootfs/etc/hostname"
ssh-keygen -q -t ed25519 -N '' -C 'effect-taskgraph test guest client' -f "$work/id_ed25519"
install -m 600 "$work/id_ed25519.pub" "$rootfs/root/.ssh/authorized_keys"
dropbearkey -t ed25519 -f "$rootfs/etc/dropbear/dropbear_ed25519_host_key" >/dev/null 2>&1
chmod 600 "$rootfs/etc/dropbear/dropbear_ed25519_host_key"
# The same host key in OpenSSH public format, for the client to pin (known_hosts / ssh2 hostVerifier).
dropbearkey -y -f "$rootfs/etc/dropbear/dropbear_ed25519_host_key" 2>/dev/null |
  awk '$1 == "ssh-ed25519" { print $1, $2 }' >"$work/host_ed25519.pub"
[ -s "$work/host_ed25519.pub" ] || { log "could not export the dropbear host key"; exit 1; }

# ---------------------------------------------------------------- 5. power button and /init
cat >"$rootfs/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
# ACPI power button (QMP system_powerdown): ask /init to shut down cleanly.
kill -USR2 1
EOF
chmod 755 "$rootfs/etc/acpi/PWRF/00000080"

cat >"$rootfs/init" <<'EOF'
#!/bin/sh
# PID 1 of the effect-taskgraph test guest.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
exec </dev/console >/dev/console 2>&1

shutdown_now() {
  echo "GUEST-POWEROFF"
  [ -f /run/dropbear.pid ] && kill "$(cat /run/dropbear.pid)" 2>/dev/null
  sync
  umount /mnt 2>/dev/null
  poweroff -f
}
trap shutdown_now USR2 TERM

while read -r m; do insmod "/lib/modules/$m" || echo "GUEST-WARN insmod $m failed"; done </etc/modules.order

i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
hostname -F /etc/hostname
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
ping -c 1 -W 1 10.0.2.2 >/dev/null 2>&1 &

if [ -b /dev/vda ]; then
  mount -t ext4 /dev/vda /mnt || echo "GUEST-WARN cannot mount /dev/vda"
fi

acpid -l /var/log/acpid.log
dropbear -s -p 22 -r /etc/dropbear/dropbear_ed25519_host_key -P /run/dropbear.pid
echo "GUEST-READY uptime=$(cut -d' ' -f1 /proc/uptime)"

# A root shell on the serial console: each line typed is run with eval, output goes back to the
# console. Not an interactive sh (it would print a prompt and send terminal queries for line
# editing); the tty still echoes what is typed. Restarted if it exits.
(
  while :; do
    setsid sh -c 'while IFS= read -r line; do eval "$line"; done' </dev/ttyS0 >/dev/ttyS0 2>&1
  done
) &

# Stay PID 1: wake up for traps, reap orphans.
while :; do
  sleep 3600 &
  wait $!
done
EOF
chmod 755 "$rootfs/init"

# ---------------------------------------------------------------- 6. initramfs
(cd "$rootfs" && find . | sort | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -6 -n) >"$work/initramfs.cpio.gz"

# ---------------------------------------------------------------- 7. base disk
content=$work/content
mkdir -p "$content"
echo "base image of the effect-taskgraph test guest" >"$content/base.txt"
truncate -s 64M "$work/base.raw"
mkfs.ext4 -q -F -L testdata -d "$content" "$work/base.raw"
qemu-img convert -q -f raw -O qcow2 "$work/base.raw" "$work/base.qcow2"

# ---------------------------------------------------------------- 8. manifest, publish, stamp
json_str() { printf '"%s"' "$1"; }
cat >"$work/guest.json" <<EOF
{
  "dir": $(json_str "$out"),
  "kernel": $(json_str "$out/vmlinuz"),
  "initrd": $(json_str "$out/initramfs.cpio.gz"),
  "baseImage": $(json_str "$out/base.qcow2"),
  "baseImageFormat": "qcow2",
  "privateKey": $(json_str "$out/id_ed25519"),
  "publicKey": $(json_str "$out/id_ed25519.pub"),
  "hostKey": $(json_str "$out/host_ed25519.pub"),
  "user": "root",
  "append": "console=ttyS0 quiet",
  "kernelVersion": $(json_str "$kver"),
  "readyLine": "GUEST-READY"
}
EOF
rm -f "$out/stamp"
for f in "${artefacts[@]}"; do mv -f "$work/$f" "$out/$f"; done
chmod 600 "$out/id_ed25519"
echo "script=$script_hash meta=$kernel_meta" >"$out/stamp"
echo "kernel=$kpkg" >>"$out/stamp"

log "built in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
report
