#!/usr/bin/env bash
# Every class of bad input: exit 2, `joulevisor: FILE:LINE: ...` naming the
# field, and no output directory left behind.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
base='[global]
duration = 1s
[vm drv]
kind = driver
[vm c]
workload = disk-stress
'
# case NAME FILE-CONTENT EXPECTED-FRAGMENT
case_scn() {
  printf '%s' "$2" > "$1.ini"
  expect_exit 2 "$JV" run "$1.ini" -o "out-$1" -q
  expect_err "$3"
  [ ! -e "out-$1" ] && ok || bad "$1: output written"
  ls out-$1.tmp-* >/dev/null 2>&1 && bad "$1: temporary dir left" || ok
}
case_scn unknown_key "$base
quantm = 5ms
" "unknown_key.ini:8:"
grep -q "did you mean 'queue_depth'\|quantm" "$T/err" && ok || bad "unknown key suggestion"
case_scn unknown_section "$base[cpuu]
count = 1
" "unknown_section.ini:7:"
case_scn bad_unit "[global]
duration = 10xs
" "bad_unit.ini:2:"
expect_err "unknown unit"
case_scn out_of_range "$base[disk]
rate_window = 0
" "out_of_range.ini:8:"
expect_err "out of range"
case_scn empty ""  "empty.ini"
# one trace file under two VMs (another path to the same file): replayed twice
printf 't_ns,vm,cpu,cycles\n' > one.csv; mkdir -p sub
case_scn trace_twice "$base[vm a]
trace = one.csv
[vm b]
trace = sub/../one.csv
" "trace_twice.ini:10:"
expect_err "already listed under vm 'a'"
printf '[global]\ninclude = b.ini\n' > a.ini; printf '[global]\ninclude = a.ini\n' > b.ini
expect_exit 2 "$JV" run a.ini -o out-cycle -q
expect_err "include cycle"
expect_exit 2 "$JV" run missing.ini -o out-missing -q
expect_err "missing.ini"
# traces: non-monotonic time, wrong column count, unknown VM
trace_case() {
  printf '%s' "$2" > "$1.csv"
  printf '%s[vm c]\ntrace = %s.csv\n' "${base%workload = disk-stress
}" "$1" > "$1.ini"
  printf '[global]\nduration = 1s\n[vm drv]\nkind = driver\n[vm c]\ntrace = %s.csv\n' "$1" > "$1.ini"
  expect_exit 2 "$JV" run "$1.ini" -o "out-$1" -q
  expect_err "$3"
  [ ! -e "out-$1" ] && ok || bad "$1: output written"
}
trace_case backwards '# joulevisor blk v1
t_ns,vm,op,offset_b,size_b
2000,c,R,0,4096
1000,c,R,4096,4096
' "backwards.csv:4: t_ns"
trace_case columns '# joulevisor blk v1
t_ns,vm,op,offset_b,size_b
1000,c,R,0
' "columns.csv:3:"
trace_case unknown_vm '# joulevisor blk v1
t_ns,vm,op,offset_b,size_b
1000,ghost,R,0,4096
' "unknown_vm.csv:3: vm: unknown VM 'ghost'"
trace_case empty_trace '' "empty_trace.csv"
# usage errors
expect_exit 2 "$JV" run
expect_exit 2 "$JV" run a.ini --bogus
expect_err "unknown option"
expect_exit 2 "$JV" frobnicate
expect_exit 0 "$JV" --version
expect_exit 0 "$JV" help scenario
grep -q "quantum" "$T/out" && ok || bad "help scenario lacks quantum"
finish
