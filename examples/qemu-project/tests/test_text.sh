. tests/lib.sh
. src/text.sh
check "greet" "hello, vm" "$(greet vm)"
check "shout" "QEMU" "$(shout qemu)"
check "words" 3 "$(words 'a b  c')"
exit $status
