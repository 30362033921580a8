# Tiny arithmetic library (POSIX sh).
add() { echo $(($1 + $2)); }
mul() { echo $(($1 * $2)); }
factorial() {
  n=$1 r=1
  while [ "$n" -gt 1 ]; do r=$((r * n)); n=$((n - 1)); done
  echo "$r"
}
