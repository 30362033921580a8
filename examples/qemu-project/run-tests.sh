#!/bin/sh
# Runs every tests/test_*.sh (or only the files given, e.g. `sh run-tests.sh
# tests/test_calc.sh`: one shard) with the guest's busybox sh and prints TAP-like
# lines. Exit code: the number of failed checks (0 = all passed), capped at 100.
# Run by examples/qemu-test.ts inside the VM: `cd /root/project && sh run-tests.sh`,
# and per shard by examples/sharded-tests.ts.
cd "$(dirname "$0")" || exit 100
[ "$#" -gt 0 ] || set -- tests/test_*.sh
failed=0
passed=0
for t in "$@"; do
  echo "# $t"
  out=$(sh "$t" 2>&1)
  status=$?
  [ -n "$out" ] && printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | grep -c '^ok ')
  f=$(printf '%s\n' "$out" | grep -c '^not ok ')
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - $t exited with $status"
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
done
echo "# $passed passed, $failed failed"
[ "$failed" -gt 100 ] && failed=100
exit "$failed"
