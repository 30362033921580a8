. tests/lib.sh
. src/calc.sh
check "add" 5 "$(add 2 3)"
check "mul" 42 "$(mul 6 7)"
check "factorial 5" 120 "$(factorial 5)"
check "factorial 0" 1 "$(factorial 0)"
exit $status
