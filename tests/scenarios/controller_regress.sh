#!/usr/bin/env bash
# Controller regression suite: the bundled scenarios with both disk
# controllers (and the CPU loop of Figure 9), shortened, swept into a
# database and compared with the checked-in baseline tests/regress/baseline.csv
# under tests/regress/thresholds.txt. A change that makes a controller
# settle later, overshoot more, sit above its limit longer, lose throughput
# or account worse fails here (regress exits 3; its table says what).
#
# Update the baseline after an intended change (and review the diff):
#   bash tests/scenarios/controller_regress.sh build/joulevisor . --update
source "$(dirname "$0")/lib.bash" "$@"
UPDATE=${3:-}
cd "$T"
BASE="$SRC/tests/regress/baseline.csv"
THR="$SRC/tests/regress/thresholds.txt"
FIG8_SHORT=(--set global.duration=20s --set vm.client1.limit_from=5s --set vm.client2.limit_from=5s)

# the suite: every point goes to cand.db
suite() { # DB [extra sweep args for fig8]
  local db=$1; shift
  expect_exit 0 "$JV" sweep "$SRC/scenarios/fig8.ini" "${FIG8_SHORT[@]}" \
    --grid manager.disk_controller=paper,pi "$@" --db "$db" --out-dir runs -q --discard-dirs
  expect_exit 0 "$JV" sweep "$SRC/scenarios/fig9-aware.ini" --set global.duration=6s \
    --db "$db" --out-dir runs -q --discard-dirs
  expect_exit 0 "$JV" sweep "$SRC/scenarios/default.ini" --set global.duration=3s \
    --db "$db" --out-dir runs -q --discard-dirs
}
suite cand.db

if [ "$UPDATE" = --update ]; then
  "$JV" db export cand.db --metrics -o "$BASE" && echo "wrote $BASE"
  finish
  exit
fi

# the candidate (this build) against the checked-in baseline
expect_exit 0 "$JV" regress --baseline "$BASE" --candidate cand.db --thresholds "$THR" \
  --report report.md
grep -q 'regress: ok' "$T/out" && ok || bad "regress did not say ok: $(cat "$T/out")"
grep -q '4 point(s) matched (0 only in the baseline, 0 only in the candidate)' "$T/out" && ok ||
  bad "not every point matched: $(tail -2 "$T/out")"
grep -q 'result: no regression' report.md && ok || bad "report: $(head -12 report.md)"

# the suite catches a worse controller: the paper law with gains that
# limit-cycle (compared across the gain change with --ignore-override)
"$JV" sweep "$SRC/scenarios/fig8.ini" "${FIG8_SHORT[@]}" --grid manager.disk_controller=paper \
  --set manager.disk_gain_amp=2 --set manager.disk_gain_damp=0.5 --db worse.db --out-dir runs \
  -q --discard-dirs 2>/dev/null
expect_exit 3 "$JV" regress --baseline "$BASE" --candidate worse.db --thresholds "$THR" \
  --ignore-override manager.disk_gain_amp --ignore-override manager.disk_gain_damp \
  --allow-missing --report worse.md
grep -q '^REGRESSION .*limit_client1_disk_overshoot_pct' "$T/out" && ok ||
  bad "worse gains not flagged: $(head -5 "$T/out")"
grep -q '## Regressions' worse.md && ok || bad "worse.md lacks the regressions"
# a regression is the first line of the table (sorted by severity)
[ "$(sed -n 2p "$T/out" | cut -c1-10)" = "REGRESSION" ] && ok || bad "table not sorted: $(head -3 "$T/out")"
finish
