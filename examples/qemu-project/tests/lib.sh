# check NAME EXPECTED ACTUAL: one TAP line; a failure makes the test file exit 1.
status=0
check() {
  if [ "$2" = "$3" ]; then
    echo "ok - $1"
  else
    echo "not ok - $1: expected '$2', got '$3'"
    status=1
  fi
}
