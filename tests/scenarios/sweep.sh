#!/usr/bin/env bash
# Sweeps, shards, merges and regressions end to end through the CLI on a
# tiny scenario: many workers, resumption after SIGKILL of the whole sweep
# and after SIGTERM, shards merged equal one process point for point, the
# db tools, regress with thresholds, reports and figures, bad input.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
cat > tiny.ini <<'INI'
[global]
duration = 600ms
[vm drv]
kind = driver
[vm c]
workload = disk-stress
disk_limit = 1W
limit_from = 100ms
INI
GRID=(--grid manager.disk_controller=paper,pi --grid vm.c.disk_limit=0.5W,1W,1.5W --seeds 1-2)
runs() { "$JV" db ls "$1" | tail -1 | awk '{ print $1 }'; }
# metrics of every run without the run id, sorted: equal databases give equal text
metrics() { "$JV" db export "$1" --metrics | tail -n +2 | cut -d, -f2- | sort; }
distinct_points() { "$JV" db export "$1" --metrics | tail -n +2 | cut -d, -f5 | sort -u | wc -l; }

# 12 points, 6 workers, one database
expect_exit 0 "$JV" sweep tiny.ini "${GRID[@]}" --db one.db -j 6 --out-dir runs
grep -q 'sweep: tiny: 12 point(s) in shard 1/1 of 12: 12 run, 0 already complete, 0 failed' "$T/out" &&
  ok || bad "summary: $(cat "$T/out")"
[ "$(grep -c '^sweep: \[[0-9]*/12\] ok' "$T/err")" = 12 ] && ok || bad "progress lines: $(cat "$T/err")"
[ "$(runs one.db)" = 12 ] && ok || bad "runs: $(runs one.db)"
[ "$(distinct_points one.db)" = 12 ] && ok || bad "distinct points: $(distinct_points one.db)"
# resumption: nothing left to do
expect_exit 0 "$JV" sweep tiny.ini "${GRID[@]}" --db one.db -j 6 --out-dir runs
grep -q '0 run, 12 already complete' "$T/out" && ok || bad "rerun: $(cat "$T/out")"
expect_exit 0 "$JV" sweep tiny.ini "${GRID[@]}" --db one.db --list
[ "$(grep -c $'\tcomplete\t' "$T/out")" = 12 ] && ok || bad "list: $(cat "$T/out")"
# a run's tables come back as its run directory wrote them
dir=$("$JV" db show one.db 3 | awk -F': ' '$1 == "out_dir" { print $2 }')
expect_exit 0 "$JV" db export one.db 3 -o exp3
for f in series control throughput matrix error; do
  cmp -s "$dir/$f.csv" "exp3/$f.csv" && ok || bad "export of $f differs from $dir/$f.csv"
done
[ ! -e exp3/power.csv ] && [ -s "$dir/power.csv" ] && ok || bad "power should stay CSV-only"

# shards merged equal the single process, point for point
for k in 1 2 3; do
  expect_exit 0 "$JV" sweep tiny.ini "${GRID[@]}" --db shard$k.db --shard $k/3 -j 2 --out-dir sruns -q
done
expect_exit 0 "$JV" db merge merged.db shard1.db shard2.db shard3.db
grep -q 'merged 12 run(s) from 3 database(s)' "$T/out" && ok || bad "merge: $(cat "$T/out")"
[ "$(metrics one.db | md5sum)" = "$(metrics merged.db | md5sum)" ] && ok ||
  bad "merged shards differ from one process: $(diff <(metrics one.db) <(metrics merged.db) | head -5)"
expect_exit 2 "$JV" db merge merged.db shard2.db
expect_err "4 duplicate point(s)"
expect_exit 0 "$JV" regress --baseline one.db --candidate merged.db
grep -q '0 regression(s), 0 improvement(s), 0 change(s)' "$T/out" && ok || bad "regress: $(tail -2 "$T/out")"

# SIGKILL of the whole sweep (parent and workers) at some moment, then resume
setsid "$JV" sweep tiny.ini "${GRID[@]}" --grid manager.t_init=50,100,200 --db kill.db -j 4 \
  --out-dir kruns -q >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  [ -s kill.db ] && [ "$("$JV" db ls kill.db 2>/dev/null | tail -1 | awk '{ print $1 }')" -ge 3 ] 2>/dev/null && break
  sleep 0.05
done
kill -9 -- -"$pid" 2>/dev/null
wait "$pid" 2>/dev/null
before=$(runs kill.db)
[ "$before" -lt 36 ] && ok || bad "the sweep finished before it was killed ($before runs)"
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 kill.db 'PRAGMA integrity_check')" = ok ] && ok || bad "integrity after SIGKILL"
fi
expect_exit 0 "$JV" sweep tiny.ini "${GRID[@]}" --grid manager.t_init=50,100,200 --db kill.db -j 4 --out-dir kruns
grep -q "$((36 - before)) run, $before already complete, 0 failed" "$T/out" && ok || bad "resume: $(cat "$T/out")"
[ "$(runs kill.db)" = 36 ] && [ "$(distinct_points kill.db)" = 36 ] && ok || bad "after resume: $(runs kill.db)"
ls -a kruns | grep -q rundb && bad "temporary databases left: $(ls -a kruns | grep rundb)" || ok

# a worker killed inside its copy transaction (test hook): point failed, rerun completes
JV_SWEEP_TEST_CRASH=2 "$JV" sweep tiny.ini --grid vm.c.disk_limit=0.7W,0.8W,0.9W --db crash.db \
  --out-dir cruns -j 2 >"$T/out" 2>"$T/err"
[ $? = 1 ] && ok || bad "crashed worker: exit not 1"
expect_err "worker killed by signal 9; the database is unchanged for this point"
[ "$(runs crash.db)" = 2 ] && ok || bad "crash.db runs: $(runs crash.db)"
expect_exit 0 "$JV" sweep tiny.ini --grid vm.c.disk_limit=0.7W,0.8W,0.9W --db crash.db --out-dir cruns
grep -q '1 run, 2 already complete' "$T/out" && ok || bad "crash resume: $(cat "$T/out")"

# SIGTERM: workers stop, exit 143, resumable
"$JV" sweep tiny.ini "${GRID[@]}" --grid manager.t_init=70,90 --db term.db -j 2 --out-dir truns \
  -q >/dev/null 2>"$T/err" &
pid=$!
sleep 0.4
kill -TERM "$pid"
wait "$pid"
rc=$?
{ [ $rc = 143 ] || [ $rc = 0 ]; } && ok || bad "SIGTERM exit $rc"
expect_exit 0 "$JV" sweep tiny.ini "${GRID[@]}" --grid manager.t_init=70,90 --db term.db -j 2 --out-dir truns -q
[ "$(runs term.db)" = 24 ] && [ "$(distinct_points term.db)" = 24 ] && ok || bad "term.db: $(runs term.db)"

# regress between databases across a gain change, with a report and figures
mkdir -p rep
expect_exit 0 "$JV" sweep tiny.ini --grid manager.disk_controller=paper --set manager.disk_gain_amp=2 \
  --set manager.disk_gain_damp=0.5 --set vm.c.disk_limit=0.5W --set global.duration=3s --db worse.db -q --out-dir wruns
expect_exit 0 "$JV" sweep tiny.ini --grid manager.disk_controller=paper --set vm.c.disk_limit=0.5W \
  --set global.duration=3s --db good.db -q --out-dir wruns
expect_exit 3 "$JV" regress --baseline good.db --candidate worse.db --ignore-override manager.disk_gain_amp \
  --ignore-override manager.disk_gain_damp --report rep/worse.md
grep -q '^REGRESSION' "$T/out" && ok || bad "no regression flagged: $(head -4 "$T/out")"
grep -q '^## Regressions' rep/worse.md && ok || bad "report: $(head -20 rep/worse.md)"
if command -v gnuplot >/dev/null; then
  [ -s rep/worse.md-fig1.png ] && grep -q '!\[limit_c_disk' rep/worse.md && ok || bad "figure missing: $(grep -A3 '## Figures' rep/worse.md)"
else
  grep -q 'gnuplot is not on PATH' rep/worse.md && ok || bad "figure note missing"
fi
# the other way round it is an improvement, exit 0
expect_exit 0 "$JV" regress --baseline worse.db --candidate good.db --ignore-override manager.disk_gain_amp \
  --ignore-override manager.disk_gain_damp
grep -q '^improved' "$T/out" && ok || bad "no improvement: $(head -3 "$T/out")"
# CSV baseline equals the database it came from
"$JV" db export good.db --metrics -o good.csv
expect_exit 0 "$JV" regress --baseline good.csv --candidate good.db
grep -q '1 point(s) matched' "$T/out" && ok || bad "csv baseline: $(tail -2 "$T/out")"

# bad input: exit 2 and a message, nothing run
expect_exit 2 "$JV" sweep tiny.ini --grid manager.nope=1,2 --db bad.db
expect_err "--grid manager.nope=1:"
[ ! -e bad.db ] && ok || bad "bad.db created"
expect_exit 2 "$JV" sweep tiny.ini --grid vm.c.disk_limit=1W,lots --db bad.db
expect_err "--grid vm.c.disk_limit=lots"
expect_exit 2 "$JV" sweep tiny.ini --shard 4/3 --db bad.db
expect_err "--shard expects K/N"
expect_exit 2 "$JV" sweep tiny.ini
expect_err "--db FILE is required"
expect_exit 2 "$JV" sweep no-such.ini --db bad.db
printf 'limit_* lowest abs=1\n' > thr.txt
expect_exit 2 "$JV" regress --baseline one.db --candidate one.db --thresholds thr.txt
expect_err "thr.txt:1: better: unknown direction 'lowest'"
expect_exit 2 "$JV" regress --baseline missing.db --candidate one.db
expect_err "missing.db: cannot open"
printf 'not,a,metrics,file\n' > junk.csv
expect_exit 2 "$JV" regress --baseline junk.csv --candidate one.db
expect_err "junk.csv:1: expected 9 fields"
expect_exit 2 "$JV" db ls junk.csv
expect_err "junk.csv: not an SQLite database"
expect_exit 0 "$JV" db ls one.db --scenario nothing
grep -q '^0 run(s)' "$T/out" && ok || bad "filter: $(cat "$T/out")"
finish
