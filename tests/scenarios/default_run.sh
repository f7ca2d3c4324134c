#!/usr/bin/env bash
# The bundled default scenario through the CLI: every output file, the
# expected figures, conservation, determinism, --force, --db, --parse-only.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
expect_exit 0 "$JV" run "$SRC/scenarios/default.ini" -o run1 -q
for f in matrix.csv truth.csv error.csv series.csv power.csv summary.txt \
         scenario.resolved.ini manifest.txt; do
  if [ -s "run1/$f" ]; then ok; else bad "run1/$f missing or empty"; fi
done
[ "$(head -1 run1/matrix.csv)" = "consumer,device,via,idle_j,active_j,total_j,mean_w" ] && ok || bad "matrix header"
[ "$(head -1 run1/truth.csv)" = "consumer,device,via,idle_j,active_j,total_j,mean_w" ] && ok || bad "truth header"
[ "$(head -1 run1/error.csv)" = "consumer,device,accounted_j,true_j,error_j,error_pct" ] && ok || bad "error header"
[ "$(head -1 run1/series.csv)" = "t_ns,consumer,device,via,idle_j,active_j" ] && ok || bad "series header"
[ "$(head -1 run1/power.csv)" = "t_ns,device,power_w" ] && ok || bad "power header"
grep -q '^conservation: ok$' run1/summary.txt && ok || bad "conservation not ok"
# expected figures (paper-2007, 4 KiB reads, equal idle policy, 10 s):
# the client carries the disk's whole idle power and ~1.87 W active
near "$(csv_get run1/matrix.csv client disk0 drv mean_w)" 5.47 0.05 "client disk0 mean_w"
near "$(csv_get run1/matrix.csv client disk0 drv idle_j)" 36.0 0.01 "client disk idle_j"
# half of the 36 W base directly (equal over two VMs), the driver's idle via drv
near "$(csv_get run1/matrix.csv client cpu0 direct idle_j)" 180.0 0.01 "client cpu idle_j"
# the driver's idle CPU: its 18 W base share + 8 W background = 26 W
near "$(csv_get run1/matrix.csv client cpu0 drv idle_j)" 260.0 1.5 "client cpu via drv idle_j"
# accounting within 1% of the truth for every row of error.csv with energy
awk -F, 'NR > 1 && $6 != "" && ($6 > 1 || $6 < -1) { print "error over 1%: " $0; bad = 1 } END { exit bad }' run1/error.csv && ok || bad "error.csv over 1%"
# power.csv: 1 ms rows for cpu0 and disk0 over 10 s
rows=$(($(wc -l < run1/power.csv) - 1))
[ "$rows" = 20000 ] && ok || bad "power.csv rows $rows (want 20000)"
# series intervals sum to the matrix (client disk0 via drv)
sum=$(awk -F, '$2 == "client" && $3 == "disk0" { s += $5 + $6 } END { printf "%.6f", s }' run1/series.csv)
near "$sum" "$(csv_get run1/matrix.csv client disk0 drv total_j)" 1e-6 "series sum"

# determinism: the same run again is byte-identical
expect_exit 0 "$JV" run "$SRC/scenarios/default.ini" -o run2 -q
for f in matrix.csv truth.csv error.csv series.csv power.csv summary.txt scenario.resolved.ini; do
  cmp -s "run1/$f" "run2/$f" && ok || bad "run1/$f and run2/$f differ"
done

# an existing directory is refused without --force, replaced with it
expect_exit 2 "$JV" run "$SRC/scenarios/default.ini" -o run1 -q
expect_err "use --force"
expect_exit 0 "$JV" run "$SRC/scenarios/default.ini" -o run1 -q --force --set global.duration=1s
grep -q '^duration_ns: 1000000000$' run1/summary.txt && ok || bad "--force did not replace"
ls -d run1.tmp-* run1.old-* >/dev/null 2>&1 && bad "temporary directories left" || ok

# --db: the same tables in SQLite
expect_exit 0 "$JV" run "$SRC/scenarios/default.ini" -o run3 -q --set global.duration=1s --db runs.db
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 runs.db "select status from run")" = complete ] && ok || bad "db run status"
  n_csv=$(($(wc -l < run3/matrix.csv) - 1))
  [ "$(sqlite3 runs.db "select count(*) from matrix")" = "$n_csv" ] && ok || bad "db matrix rows"
  [ "$(sqlite3 runs.db "select overrides from run")" = "global.duration=1s" ] && ok \
    || bad "run --db did not store its overrides"
  [ "$(sqlite3 runs.db "select out_dir from run")" = run3 ] && ok || bad "run --db out_dir"
  # the same run again: a second row (point_key stays NULL, so no clash)
  expect_exit 0 "$JV" run "$SRC/scenarios/default.ini" -o run3 -q --force --set global.duration=1s --db runs.db
  [ "$(sqlite3 runs.db "select count(*) from run where point_key is null")" = 2 ] && ok || bad "second run --db"
fi

# --parse-only prints the resolved scenario and writes nothing
expect_exit 0 "$JV" run "$SRC/scenarios/default.ini" --parse-only -o run4
grep -q '^\[vm client\]' "$T/out" && ok || bad "parse-only output"
[ ! -e run4 ] && ok || bad "parse-only wrote run4"

# stdout matrix
expect_exit 0 "$JV" run "$SRC/scenarios/default.ini" -o run5 --set global.duration=500ms
grep -q "^client .*disk0" "$T/out" && ok || bad "matrix not printed"
grep -q "outputs in run5" "$T/out" && ok || bad "output dir not printed"
finish
