# Shared helpers for the CLI scenario tests: sourced, not run.
# Usage in a test: source "$(dirname "$0")/lib.bash" "$@"
JV=${1:?usage: test.sh JOULEVISOR SOURCE_DIR}
SRC=${2:?usage: test.sh JOULEVISOR SOURCE_DIR}
T=$(mktemp -d /tmp/jv-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
# expect_exit CODE CMD... : run, compare the exit status
expect_exit() {
  local want=$1; shift
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok; else bad "exit $got (want $want): $* :: $(cat "$T/err")"; fi
}
# expect_err FRAGMENT : the last command's stderr contains FRAGMENT
expect_err() {
  if grep -qF -- "$1" "$T/err"; then ok; else bad "stderr lacks '$1': $(cat "$T/err")"; fi
}
# csv_get FILE CONSUMER DEVICE VIA COLUMN : one value of a matrix-like CSV
csv_get() {
  awk -F, -v c="$2" -v d="$3" -v v="$4" -v col="$5" '
    NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
    $1 == c && $2 == d && $3 == v { print $h[col]; found = 1 }
    END { if (!found) print "missing" }' "$1"
}
# near VALUE EXPECTED TOL WHAT
near() {
  if awk -v x="$1" -v e="$2" -v t="$3" 'BEGIN { exit !(x != "missing" && x - e <= t && e - x <= t) }'; then
    ok
  else
    bad "$4: $1, expected $2 +- $3"
  fi
}
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" = 0 ]
}
