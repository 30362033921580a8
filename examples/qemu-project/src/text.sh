# Tiny text library (POSIX sh).
greet() { echo "hello, $1"; }
shout() { echo "$1" | tr 'a-z' 'A-Z'; }
words() { set -- $1; echo $#; }
