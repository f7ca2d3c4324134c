#!/usr/bin/env bash
# Adversarial input: every case answers with the expected exit status and a
# message fragment, never a crash (exit >= 128) or a hang, and leaves no
# partial output behind.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
base='[global]
duration = 200ms
[vm drv]
kind = driver
[vm c]
'
TO="timeout 60"
# run_case NAME WANT_EXIT FRAGMENT SCENARIO_FILE [ARGS...]
run_case() {
  local name=$1 want=$2 frag=$3; shift 3
  $TO "$JV" run "$@" -o "out-$name" -q >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok; else bad "$name: exit $got (want $want): $(head -c 300 "$T/err")"; fi
  if [ -n "$frag" ]; then grep -qF -- "$frag" "$T/err" && ok || bad "$name: stderr lacks '$frag': $(head -c 300 "$T/err")"; fi
  if [ "$want" != 0 ]; then
    [ ! -e "out-$name" ] && ok || bad "$name: output written"
  fi
  ls -d out-$name.tmp-* >/dev/null 2>&1 && bad "$name: temporary dir left" || ok
}
# a trace case: the scenario replays FILE for VM c
trace_scn() { printf '%sworkload = trace\ntrace = %s\n' "$base" "$1" > "$2"; }
w() { printf '%b' "$2" > "$1"; }

# --- scenario files
w empty.ini ''
run_case empty 2 "empty" empty.ini
w header_only.ini '[global]\n'
run_case header_only 0 "" header_only.ini
head -c 4096 /dev/urandom > garbage.ini
run_case garbage 2 "garbage.ini" garbage.ini
w nul.ini '[global]\nduration = 1s\0\n'
run_case nul 2 "nul.ini" nul.ini
{ printf '[global]\nname = '; head -c 1048576 /dev/zero | tr '\0' a; printf '\n'; } > long.ini
run_case longline 2 "long.ini:2:" long.ini
w overflow.ini '[global]\nseed = 99999999999999999999999\n'
run_case overflow 2 "overflow.ini:2:" overflow.ini
w negsize.ini "${base}workload = disk-stress\nblock_size = -4KiB\n"
run_case negsize 2 "negsize.ini:7:" negsize.ini
w nan.ini '[global]\nduration = nan s\n'
run_case nan 2 "nan.ini:2:" nan.ini
w inf.ini "${base}[disk]\nidle_power = inf W\n"
run_case inf 2 "inf.ini:7:" inf.ini
w dupvm.ini "${base}[vm c]\n"
run_case dupvm 2 "duplicate VM 'c'" dupvm.ini
w self.ini '[global]\ninclude = self.ini\n'
run_case selfinclude 2 "include cycle" self.ini
printf '[global]\r\nduration = 100ms\r\n[vm a]\r\nworkload = cpu-hog\r\n' > crlf.ini
run_case crlf 0 "" crlf.ini
printf '\xef\xbb\xbf[global]\nduration = 100ms\n' > bom.ini
run_case bom 0 "" bom.ini
mkdir dir.ini
run_case directory 2 "dir.ini" dir.ini
w hidden.ini '[global]\nduration = 100ms\n'
chmod 000 hidden.ini
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chmod 755 "$T"
  setpriv --reuid=65534 --regid=65534 --clear-groups $TO "$JV" run hidden.ini -o /tmp/jv-unreadable-$$ -q \
    >"$T/out" 2>"$T/err"; got=$?
  [ $got = 2 ] && ok || bad "unreadable: exit $got: $(cat "$T/err")"
  grep -q "hidden.ini" "$T/err" && ok || bad "unreadable: message $(cat "$T/err")"
  rm -rf /tmp/jv-unreadable-$$
elif [ "$(id -u)" != 0 ]; then
  run_case unreadable 2 "hidden.ini" hidden.ini
fi
chmod 644 hidden.ini

# --- traces
w t_empty.csv ''
trace_scn t_empty.csv t_empty.ini; run_case t_empty 2 "t_empty.csv" t_empty.ini
w t_header.csv '# joulevisor blk v1\n'
trace_scn t_header.csv t_header.ini; run_case t_header 2 "t_header.csv" t_header.ini
head -c 8192 /dev/urandom > t_garbage.csv
trace_scn t_garbage.csv t_garbage.ini; run_case t_garbage 2 "t_garbage.csv" t_garbage.ini
w t_nul.csv '# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n0,c,R,0,4\0096\n'
trace_scn t_nul.csv t_nul.ini; run_case t_nul 2 "t_nul.csv:3:" t_nul.ini
{ printf '# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n0,c,R,0,'; head -c 1048576 /dev/zero | tr '\0' 9; printf '\n'; } > t_long.csv
trace_scn t_long.csv t_long.ini; run_case t_long 2 "t_long.csv:3:" t_long.ini
w t_over.csv '# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n99999999999999999999,c,R,0,4096\n'
trace_scn t_over.csv t_over.ini; run_case t_over 2 "t_over.csv:3:" t_over.ini
w t_neg.csv '# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n0,c,R,0,-4096\n'
trace_scn t_neg.csv t_neg.ini; run_case t_neg 2 "t_neg.csv:3:" t_neg.ini
w t_nan.csv '# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\nnan,c,R,0,4096\n'
trace_scn t_nan.csv t_nan.ini; run_case t_nan 2 "t_nan.csv:3:" t_nan.ini
w t_back.csv '# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n5000,c,R,0,4096\n10,c,R,0,4096\n'
trace_scn t_back.csv t_back.ini; run_case t_back 2 "t_back.csv:4:" t_back.ini
w t_ghost.csv '# joulevisor blk v1\nt_ns,vm,op,offset_b,size_b\n0,ghost,R,0,4096\n'
trace_scn t_ghost.csv t_ghost.ini; run_case t_ghost 2 "unknown VM 'ghost'" t_ghost.ini
printf '\xef\xbb\xbf# joulevisor blk v1\r\nt_ns,vm,op,offset_b,size_b\r\n0,c,R,0,4096\r\n' > t_bomcrlf.csv
trace_scn t_bomcrlf.csv t_bomcrlf.ini; run_case t_bomcrlf 0 "" t_bomcrlf.ini
mkdir t_dir.csv
trace_scn t_dir.csv t_dir.ini; run_case t_dir 2 "t_dir.csv" t_dir.ini

# --- outputs
w ok.ini '[global]\nduration = 100ms\n[vm a]\nworkload = cpu-hog\n'
run_case first 0 "" ok.ini
$TO "$JV" run ok.ini -o out-first -q >"$T/out" 2>"$T/err"; got=$?
[ $got = 2 ] && ok || bad "existing output dir: exit $got"
grep -q -- "--force" "$T/err" && ok || bad "existing output dir: message"
# a full disk: writes fail with EFBIG past a 64 KiB file size limit
( trap '' XFSZ; ulimit -f 64; exec $TO "$JV" run ok.ini -o out-full -q --set global.duration=10s \
  --db full.db ) >"$T/out" 2>"$T/err"; got=$?
[ $got = 1 ] && ok || bad "full disk: exit $got (want 1): $(cat "$T/err")"
[ ! -e out-full ] && ok || bad "full disk: partial output directory"
ls -d out-full.tmp-* >/dev/null 2>&1 && bad "full disk: temp dir left" || ok
if [ -e full.db ] && command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 full.db "select count(*) from run where status = 'complete'" 2>/dev/null || echo 0)" = 0 ] && ok ||
    bad "full disk: a run marked complete"
fi
finish
