#!/usr/bin/env bash
# The "run tests once" cycle as a plain shell script, the way one would write
# it without effect-taskgraph: overlay, QEMU in the background, an ssh retry
# loop until the guest answers, rsync, the tests over ssh, QMP power-down.
# The baseline of bench/qemu.ts (same guest, same options, same project).
#
#   bash bench/qemu-shell.sh GUEST_DIR PROJECT_DIR
#
# Prints "T <step> <epoch ms>" lines (start, overlay, qemu, guest-ready, ssh,
# rsync, tests, down, end); guest-ready is when GUEST-READY reached the serial
# log (seen with tail -F, inotify). Exit code: the tests' (0 = passed).
set -euo pipefail
G=$(cd "${1:?guest dir}" && pwd)
P=$(cd "${2:?project dir}" && pwd)
t() { echo "T $1 $(date +%s%3N)"; }

t start
D=$(mktemp -d /tmp/qsh-XXXXXX)
QPID=
TAILPID=
cleanup() {
  [ -n "$TAILPID" ] && kill "$TAILPID" 2>/dev/null || true
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT

qemu-img create -q -f qcow2 -F qcow2 -b "$G/base.qcow2" "$D/overlay.qcow2"
t overlay

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: >"$D/serial.log"
# when GUEST-READY reaches the serial log (the guest's sshd has been started)
( set +o pipefail; tail -F --pid=$$ -s 0.05 -n +1 "$D/serial.log" 2>/dev/null | grep -m1 -q GUEST-READY && t guest-ready ) &
TAILPID=$!
qemu-system-x86_64 -name shell -nodefaults -display none -no-reboot -accel tcg -cpu max -m 256 -smp 1 \
  -serial "file:$D/serial.log" -qmp "unix:$D/qmp.sock,server=on,wait=off" \
  -kernel "$G/vmlinuz" -initrd "$G/initramfs.cpio.gz" -append "console=ttyS0 quiet" \
  -drive "file=$D/overlay.qcow2,if=virtio,format=qcow2" \
  -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$PORT-:22" &
QPID=$!
t qemu

echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$G/host_ed25519.pub")" >"$D/known_hosts"
SSH="ssh -i $G/id_ed25519 -p $PORT -o UserKnownHostsFile=$D/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR -o ConnectTimeout=5"
deadline=$(($(date +%s) + 120))
until $SSH root@127.0.0.1 true 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "ssh not ready after 120 s" >&2; exit 1; }
  sleep 0.2
done
t ssh

rsync -a --delete -e "$SSH" "$P/" root@127.0.0.1:/root/project/
t rsync

set +e
$SSH root@127.0.0.1 'cd /root/project && sh run-tests.sh' >"$D/tests.out" 2>&1
status=$?
set -e
t tests

python3 - "$D/qmp.sock" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", "system_powerdown"):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush(); f.readline()
EOF
wait "$QPID" || true
QPID=
t down
kill "$TAILPID" 2>/dev/null || true
TAILPID=
t end
exit "$status"
