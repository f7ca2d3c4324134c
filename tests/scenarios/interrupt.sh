#!/usr/bin/env bash
# SIGINT/SIGTERM during a run: it stops within a second, writes what is
# complete (marked incomplete, in the db too), exits 130/143.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
printf '[global]\nduration = 3600s\n[vm drv]\nkind = driver\n[vm c]\nworkload = disk-stress\n' > long.ini
for sig in INT TERM; do
  "$JV" run long.ini -o run-$sig -q --db runs.db 2>err-$sig & pid=$!
  sleep 1
  kill -$sig $pid
  start=$(date +%s%N)
  wait $pid; rc=$?
  took=$(( ($(date +%s%N) - start) / 1000000 ))
  want=130; [ $sig = TERM ] && want=143
  [ $rc = $want ] && ok || bad "SIG$sig: exit $rc (want $want)"
  [ $took -lt 1000 ] && ok || bad "SIG$sig: took $took ms to stop"
  grep -q '^interrupted: yes' run-$sig/summary.txt && ok || bad "SIG$sig: summary not marked"
  grep -q '^conservation: ok$' run-$sig/summary.txt && ok || bad "SIG$sig: conservation"
  [ -s run-$sig/matrix.csv ] && ok || bad "SIG$sig: matrix missing"
  ls -d run-$sig.tmp-* >/dev/null 2>&1 && bad "SIG$sig: temp dir left" || ok
done
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 runs.db "select count(*) from run where status = 'incomplete'")" = 2 ] && ok ||
    bad "db runs not marked incomplete: $(sqlite3 runs.db 'select id, status from run')"
fi
finish
