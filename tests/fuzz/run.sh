#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run each: first over its
# checked-in corpus (tests/fuzz/corpus/<target>/, else the native-format
# corpus), then fuzzing with a fixed seed for a bounded number of runs and
# seconds, so CI is deterministic and a failure is reproducible.
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [RUNS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-20}
runs=${2:-2000000}
build=build-fuzz
if ! command -v clang >/dev/null; then
  echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
cmake -S . -B $build -DCMAKE_C_COMPILER=clang -DJV_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $build -j 2 >/dev/null
work=$(mktemp -d /tmp/jv-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
total=0
for bin in $build/fuzz_*; do
  t=$(basename "$bin"); t=${t#fuzz_}; name=${t//_/-}
  corpus=tests/fuzz/corpus/$name
  [ -d "$corpus" ] || corpus=tests/fuzz/corpus/native
  mkdir -p "$work/$t"
  cp -r "$corpus"/. "$work/$t"/ 2>/dev/null || true
  start=$(date +%s)
  if ! "$bin" -seed=1 -runs="$runs" -max_total_time="$secs" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/crash-$t-" \
      "$work/$t" > "$work/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; last lines:" >&2
    tail -40 "$work/$t.log" >&2
    mkdir -p fuzz-artifacts && cp "$work"/crash-$t-* fuzz-artifacts/ 2>/dev/null || true
    exit 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo 0)
  total=$((total + execs))
  printf 'fuzz: %-14s %10s executions in %3d s, corpus %s\n' "$t" "$execs" "$(( $(date +%s) - start ))" "$corpus"
done
echo "fuzz: all targets clean, $total executions"
