# Facts about the machine the tests run in: the test guest, booted from an overlay of its base disk.
. tests/lib.sh
check "kernel" "Linux" "$(uname -s)"
check "data disk mounted" "yes" "$(grep -q ' /mnt ' /proc/mounts && echo yes || echo no)"
check "base image content" "base image of the effect-taskgraph test guest" "$(cat /mnt/base.txt)"
echo "overlay write" >/mnt/written-by-tests.txt
check "overlay is writable" "overlay write" "$(cat /mnt/written-by-tests.txt)"
exit $status
