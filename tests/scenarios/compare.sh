#!/usr/bin/env bash
# `joulevisor compare` and `joulevisor calib` through the CLI: a simulated
# run with phases against a synthetic meter with a known lag, the real
# paired Haswell data (RAPL and wall meter), the weights file loaded by a
# scenario, calib disk's disk.ini included by a scenario, and usage errors.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
PAIRED="$SRC/tests/fixtures/real/paired"

# --- a simulated run with phases (idle, a, a+b, b, idle) ---------------------------------
cat > phases.ini <<'EOF'
[global]
duration = 4s
[cpu]
counters = tsc,cycles,instructions
weights = tsc:10nJ,cycles:5nJ,instructions:3nJ
[vm a]
workload = cpu-hog
events = instructions:2e9
start = 0.5s
stop = 2.5s
[vm b]
workload = cpu-hog
events = instructions:1e9
start = 1.5s
stop = 3.2s
EOF
expect_exit 0 "$JV" run phases.ini -o run -q
# a 1 kHz meter of cpu0 + disk0 lagging the model by 313.7 ms, with noise and
# a sync pulse at model time 0; samples before and after the run read idle power
awk -F, -v lag=0.3137 'BEGIN { srand(7) }
  NR > 1 { p[int($1 / 1000000)] += $3; if ($1 / 1000000 > last) last = $1 / 1000000 }
  END {
    print "# synthetic meter"; print "watts,sync"
    for (i = 0; i < (last + 800); i++) {
      t = i / 1000 - lag; k = int(t * 1000 + 1e-9)
      w = (k >= 0 && k <= last) ? p[k] : 33.6
      printf "%.4f,%s\n", w + (rand() - 0.5), (t >= 0 && t < 0.05) ? 5 : -5
    }
  }' run/power.csv > meter.csv
expect_exit 0 "$JV" compare run --daq meter.csv --rate 1kHz --channel total=watts --max-lag 1s
off=$(awk '/^offset_s:/ { print $2 }' run/compare_summary.txt)
near "$off" 0.3137 0.001 "lag found by cross-correlation"
grep -q '^alignment: xcorr$' run/compare_summary.txt && ok || bad "alignment method"
grep -q '^phases: 5$' run/compare_summary.txt && ok || bad "phases from the scenario: $(grep phases run/compare_summary.txt)"
[ "$(head -1 run/compare.csv)" = "t_ns,channel,model_w,measured_w" ] && ok || bad "compare.csv header"
grep -q '^total,phase,a+b,1500000000,2500000000,10,' run/compare_metrics.csv && ok || bad "a+b phase row"
grep -q '^channel total: model devices cpu0+disk0$' "$T/out" && ok || bad "channel mapping: $(cat $T/out)"
corr=$(awk '/^total_correlation:/ { print $2 }' run/compare_summary.txt)
near "$corr" 1 0.01 "correlation after alignment"
ls run/.compare* 2>/dev/null | grep -q . && bad "temporary files left" || ok
# the sync pulse alone finds it within a sample too
expect_exit 0 "$JV" compare run --daq meter.csv --rate 1000 --channel total=watts --sync sync --threshold 4 -q
off=$(awk '/^offset_s:/ { print $2 }' run/compare_summary.txt)
near "$off" 0.3137 0.001 "lag from the sync pulse"
# gnuplot missing: a plain message, not an error
expect_exit 0 "$JV" compare run --daq meter.csv --rate 1000 --channel total=watts --offset 313.7ms --gnuplot /nonexistent/gnuplot -q
expect_err "gnuplot not found: figure skipped"
if command -v gnuplot >/dev/null; then
  expect_exit 0 "$JV" compare run --daq meter.csv --rate 1000 --channel total=watts --offset 313.7ms -q
  grep -q '<svg' run/compare.svg && ok || bad "compare.svg written"
fi
# a 1 Hz meter: the transient warning
awk -F, 'NR > 2 && (NR - 3) % 1000 == 0 { print $1 }' meter.csv > slow.csv
expect_exit 0 "$JV" compare run --daq slow.csv --rate 1Hz --channel total=c1 --offset 313.7ms --window 1s -q --no-plot
expect_err "(< 350 Hz)"

# --- errors ---------------------------------------------------------------------------------
expect_exit 2 "$JV" compare run --daq meter.csv --rate 1000 --channel 'total=(watts*2'
expect_err "at character 1: unclosed '('"
expect_exit 2 "$JV" compare run --daq meter.csv --rate 1000 --channel 'total=wats'
expect_err "unknown column 'wats' (columns: watts, sync"
expect_exit 2 "$JV" compare nowhere --daq meter.csv --rate 1000 --channel total=watts
expect_err "power.csv: cannot open"
expect_exit 2 "$JV" compare run --daq meter.csv --channel total=watts
expect_err "no time base"
expect_exit 2 "$JV" compare run --daq meter.csv --rate 1000 --channel total=watts --offset 1s --sync sync
expect_err "exclude each other"
expect_exit 2 "$JV" compare run --daq meter.csv --rate 1000 --channel total=watts --bogus
expect_err "unknown option '--bogus'"

# --- calib pmc on the real paired data -------------------------------------------------------------
expect_exit 0 "$JV" calib pmc --pmc "$PAIRED/stream.perf" --pmc "$PAIRED/sleep.perf" \
  --pmc "$PAIRED/hpl_mkl.perf" --target-event energy-pkg --tsc-freq 3.2GHz -o rapl
[ "$(head -1 rapl/weights.csv)" = "counter,weight_j" ] && ok || bad "weights.csv header"
grep -q '^uncore_imc_data_reads,' rapl/weights.csv && ok || bad "scenario-safe counter names"
grep -q '^tsc,' rapl/weights.csv && ok || bad "tsc row from --tsc-freq"
grep -q 'held out hpl_mkl ' rapl/report.txt && ok || bad "leave-one-run-out in the report"
grep -q '^kfold,5-fold,486,' rapl/calib_cv.csv && ok || bad "k-fold row"
# a scenario uses the weights file
cat > uses.ini <<'EOF'
[cpu]
freq = 3.2GHz
counters = tsc,cycles,instructions,cache-misses,cache-references,uncore_imc_data_reads,uncore_imc_data_writes
weights_file = rapl/weights.csv
EOF
expect_exit 0 "$JV" run uses.ini --parse-only
grep -q '^weights = .*,cycles:1003.4' "$T/out" && ok || bad "weights_file loaded: $(grep '^weights' $T/out)"
# wall meter: epoch times, lag search per run
expect_exit 0 "$JV" calib pmc --pmc "$PAIRED/stream.perf" --pmc "$PAIRED/sleep.perf" --pmc "$PAIRED/hpl_mkl.perf" \
  --meter "$PAIRED/stream.wup" --meter "$PAIRED/sleep.wup" --meter "$PAIRED/hpl_mkl.wup" \
  --channel wall=c2 --time c1 --time-unit epoch --max-lag 15s -o wall
grep -q '^windows: 1 s' wall/report.txt && ok || bad "1 s windows for a 1 Hz meter"
grep -q 'alignment xcorr' wall/report.txt && ok || bad "per-run alignment reported"
# the DAQ's CPU rail with the sync pulse (the pulse marks about 1 s into the log)
expect_exit 0 "$JV" calib pmc --pmc "$PAIRED/stream.perf" --meter "$PAIRED/stream.daq" --rate 2048 \
  --channel 'cpu=(c2-0.5)/0.133*12 + (c3-0.5)/0.133*12' --sync c4 --sync-at 1s --max-lag 0.5s -o daq -q
grep -q 'alignment sync+xcorr' daq/report.txt && ok || bad "sync+xcorr alignment"
expect_exit 2 "$JV" calib pmc --pmc "$PAIRED/stream.perf" --target-event energy-pkg
expect_err "no output directory"
expect_exit 2 "$JV" calib pmc --pmc "$PAIRED/stream.perf" --target-event cycles -o x
expect_err "not an energy event"
expect_exit 2 "$JV" calib pmc --pmc "$PAIRED/stream.perf" --target-event energy-pkg -o rapl
expect_err "output directory exists"
expect_exit 2 "$JV" calib pmc --pmc "$PAIRED/stream.perf" --pmc "$PAIRED/sleep.perf" --meter "$PAIRED/stream.wup" --channel w=c2 --time c1 -o y
expect_err "2 counter logs but 1 meter files"

# --- calib disk: a synthetic disk (idle 4 W, active 7.5 W, 80 MB/s) -----------------------------
awk 'BEGIN {
  srand(3); print "# joulevisor blk v1"; print "t_ns,vm,op,offset_b,size_b,latency_ns"
  t = 5000000
  while (t < 9000000000) {
    size = 65536 * (1 + int(15 * rand())); lat = int(size / 80e6 * 1e9 + 0.5)
    printf "%.0f,vm0,R,0,%.0f,%.0f\n", t, size, lat
    t += lat + (rand() < 0.3 ? int(2e8 * rand()) : int(1e6 * rand()))
  }
}' > disk.csv
awk -F, 'NR > 2 { for (ns = $1; ns < $1 + $6; ns += 10000) busy[int(ns / 1000000)] += 0.01 }
  END { print "ms,watts"; for (i = 0; i < 9200; i++) { b = busy[i] > 1 ? 1 : busy[i]; printf "%d,%.4f\n", i, 4 + 3.5 * b } }' disk.csv > dpower.csv
expect_exit 0 "$JV" calib disk --blk disk.csv --meter dpower.csv --channel disk=watts --time ms --time-unit ms -o dk
idle=$(awk '/^idle_power_w:/ { print $2 }' dk/report.txt)
act=$(awk '/^active_power_w:/ { print $2 }' dk/report.txt)
rate=$(awk '/^media_rate_bytes_per_s:/ { print $2 }' dk/report.txt)
near "$idle" 4 0.08 "disk idle power"
near "$act" 7.5 0.15 "disk active power"
near "$rate" 80000000 1600000 "disk transfer rate"
printf '[global]\ninclude = dk/disk.ini\n' > withdisk.ini
expect_exit 0 "$JV" run withdisk.ini --parse-only
grep -q '^idle_power = 4' "$T/out" && ok || bad "disk.ini included: $(grep power $T/out)"
expect_exit 2 "$JV" calib disk --blk disk.csv --meter dpower.csv --time ms --time-unit ms -o dk2
expect_err "exactly one --channel"
expect_exit 2 "$JV" calib bogus
expect_err "unknown subcommand 'bogus'"
finish
