#!/usr/bin/env bash
# bench/run.sh: joulevisor's benchmark suite (issue 10; docs/PERFORMANCE.md).
#
# Builds the project (default: cmake -S . -B build-bench, the project's
# default RelWithDebInfo flags), runs the fidelity check first (no speed
# figure counts without it), then every benchmark, each with the machine's
# reference figure measured in the same run, and prints one table:
# benchmark | figure | reference | ratio | target | met.
#
# Usage: bench/run.sh [--build DIR] [--no-build] [--smoke] [--no-callgrind] [--out FILE]
#   --build DIR     use (and build) DIR instead of build-bench
#   --no-build      use the binaries in DIR as they are
#   --smoke         tiny inputs, no timing claims, no callgrind: checks that
#                   every benchmark still runs (the CTest `bench_smoke`)
#   --no-callgrind  skip the instruction counts
#   --out FILE      also write the raw key=value figures to FILE
# Environment: TMPDIR for the temporary traces (several hundred MB).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
smoke=0
callgrind=1
raw_out=""
nobuild=0
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--smoke) smoke=1; callgrind=0; shift ;;
	--no-callgrind) callgrind=0; shift ;;
	--no-build) nobuild=1; shift ;;
	--out) raw_out=$2; shift 2 ;;
	*) echo "usage: bench/run.sh [--build DIR] [--no-build] [--smoke] [--no-callgrind] [--out FILE]" >&2; exit 2 ;;
	esac
done

if [ "$nobuild" = 0 ] && { [ "$smoke" = 0 ] || [ ! -x "$build/bench/bench_sim" ]; }; then
	cmake -S "$src" -B "$build" >/dev/null
	cmake --build "$build" -j2 >/dev/null
fi
B="$build/bench"
tool="$build/joulevisor"
work=$(mktemp -d "${TMPDIR:-/tmp}/jvbench-run-XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work"
raw="$work/raw.txt"
: >"$raw"

# sizes: full run / smoke
if [ "$smoke" = 1 ]; then
	REPLAY_N=20000 CSV_N=20000 METER_N=20000 SIM_S=2 SG_S=2 DISK_S=2 DISK_L=4 MEM_N=2000 REPS=1
else
	REPLAY_N=10000000 CSV_N=2000000 METER_N=1000000 SIM_S=1000 SG_S=100 DISK_S=100 DISK_L=1000
	MEM_N=1000000 REPS=5
fi

# run PREFIX CMD...: key=value lines of CMD, each key prefixed, into $raw
run() {
	local prefix=$1; shift
	"$@" 2>>"$work/stderr.txt" | sed "s/^/$prefix/" >>"$raw"
}
kv() { sed -n "s/^$1=//p" "$raw" | tail -1; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "== machine"
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
echo "$machine"
echo "compiler: $(${CC:-cc} --version | head -1)"
[ -x "$B/bench_simgrid" ] && echo "simgrid: $(pkg-config --modversion simgrid 2>/dev/null || echo unknown)"

echo "== fidelity (4 VMs, tickets 1:2:3:4, 10 s at 1 ms)"
if ! "$B/bench_sim" --fidelity >"$work/fid.txt"; then
	cat "$work/fid.txt"
	echo "bench/run.sh: the fidelity check failed: no speed figure counts" >&2
	exit 1
fi
cat "$work/fid.txt" >>"$raw"
grep -E "quanta=|energy_j=|fidelity=" "$work/fid.txt" | tr '\n' ' '; echo
if [ -x "$B/bench_simgrid" ]; then
	"$B/bench_simgrid" --fidelity >>"$raw"
	echo "simgrid: $(kv simgrid_fidelity) (host energy $(kv simgrid_fidelity_host_energy_j) J)"
fi

echo "== 1 replay"
for v in 4 64; do
	run "v$v." "$B/bench_replay" -n "$REPLAY_N" -v "$v" -r "$REPS"
done
echo "== 2 csv"
run "" "$B/bench_csv" -n "$CSV_N" -m "$METER_N" -r "$REPS"
echo "== 3 simulation"
for v in 4 16 64; do
	run "v$v." "$B/bench_sim" -v "$v" -s "$SIM_S" -r 3
	if [ -x "$B/bench_simgrid" ]; then
		for k in 1 2 3; do
			"$B/bench_simgrid" -v "$v" -s "$SG_S" 2>>"$work/stderr.txt" |
				sed -n 's/^simgrid_quanta_per_s=//p'
		done | median | sed "s/^/v$v.simgrid_quanta_per_s=/" >>"$raw"
	fi
done
echo "== 4 disk path"
run "" "$B/bench_disk" -s "$DISK_S" -l "$DISK_L" -r 3
echo "== 5 memory"
run "" "$B/bench_mem" "$tool" -n "$MEM_N"

if [ "$callgrind" = 1 ] && command -v valgrind >/dev/null; then
	echo "== 6 callgrind (instructions per record)"
	# ir REGION N CMD...: instructions inside bench_region_REGION per unit
	ir() {
		local region=$1 n=$2; shift 2
		local f="$work/cg.$region.$n"
		valgrind --tool=callgrind --callgrind-out-file="$f" --collect-atstart=no \
			--toggle-collect="bench_region_$region*" "$@" >/dev/null 2>>"$work/stderr.txt"
		local total
		total=$(sed -n 's/^totals: *//p; s/^summary: *//p' "$f" | head -1 | awk '{print $1}')
		awk -v t="$total" -v n="$n" 'BEGIN {printf "%.1f\n", t / n}'
	}
	echo "ir_read_loop=$(ir read_loop 200000 "$B/bench_replay" -n 200000 --only read_loop)" >>"$raw"
	echo "ir_replay_reader=$(ir reader 200000 "$B/bench_replay" -n 200000 --only reader)" >>"$raw"
	echo "ir_replay_batch=$(ir batch 200000 "$B/bench_replay" -n 200000 --only batch)" >>"$raw"
	echo "ir_replay=$(ir replay 200000 "$B/bench_replay" -n 200000 --only replay)" >>"$raw"
	echo "ir_replay_ceiling=$(ir ceiling 200000 "$B/bench_replay" -n 200000 --only ceiling)" >>"$raw"
	echo "ir_libcsv=$(ir libcsv 100000 "$B/bench_csv" -n 100000 --only libcsv)" >>"$raw"
	echo "ir_csv_reader=$(ir reader 100000 "$B/bench_csv" -n 100000 --only reader)" >>"$raw"
	echo "ir_csv_replay=$(ir replay 100000 "$B/bench_csv" -n 100000 --only replay)" >>"$raw"
	echo "ir_sim_v4=$(ir sim 20000 "$B/bench_sim" -v 4 -s 20 --only)" >>"$raw"
	echo "ir_sim_v64=$(ir sim 20000 "$B/bench_sim" -v 64 -s 20 --only)" >>"$raw"
	# disk path: instructions per event at DISK_S and at 10x as long
	# simulated (deterministic: a per-event cost growing with simulated
	# time shows here whatever the machine's load)
	ir_events() {
		local s=$1 f="$work/cg.disk.$1" ev total
		ev=$(valgrind --tool=callgrind --callgrind-out-file="$f" --collect-atstart=no \
			--toggle-collect='bench_region_disk*' "$B/bench_disk" -s "$s" --only \
			2>>"$work/stderr.txt" | sed -n 's/^disk_short_events=//p')
		total=$(sed -n 's/^totals: *//p; s/^summary: *//p' "$f" | head -1 | awk '{print $1}')
		awk -v t="$total" -v n="$ev" 'BEGIN {printf "%.1f\n", t / n}'
	}
	echo "ir_disk_short=$(ir_events "$DISK_S")" >>"$raw"
	echo "ir_disk_long=$(ir_events "$DISK_L")" >>"$raw"
fi
[ -n "$raw_out" ] && cp "$raw" "$raw_out"

# ---- the table -------------------------------------------------------------
fmt() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else if (x+0 >= 1e6) printf "%.2f M", x/1e6; else if (x+0 >= 1e3) printf "%.1f k", x/1e3; else printf "%.3g", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b+0 == 0) print "-"; else printf "%.3f", a/b }'; }
ok() { awk -v c="$1" 'BEGIN { print (c ? "yes" : "NO") }'; }
row() { printf '| %-34s | %12s | %-28s | %7s | %-22s | %-4s |\n' "$@"; }

echo
echo "machine: $machine"
[ "$smoke" = 1 ] && echo "(smoke run: tiny inputs, the figures mean nothing)"
row "benchmark" "figure" "reference (same run)" "ratio" "target" "met"
row "----------------------------------" "------------" "----------------------------" "-------" "----------------------" "----"
q="$(kv fidelity_v0_quanta)/$(kv fidelity_v1_quanta)/$(kv fidelity_v2_quanta)/$(kv fidelity_v3_quanta)"
row "0 fidelity: quanta, 1:2:3:4" "$q" "SimGrid fidelity: $(kv simgrid_fidelity)" "" "1000/2000/3000/4000" "$(kv fidelity)"
row "  CPU energy (J)" "$(kv fidelity_cpu0_energy_j)" "models: $(kv fidelity_cpu0_energy_expected_j)" "" "+-1e-9 rel." ""
for v in 4 64; do
	a=$(kv "v$v.replay_records_per_s"); r=$(kv "v$v.replay_read_loop_records_per_s")
	q=$(ratio "$a" "$r")
	row "1 bin replay, $v VMs (records/s)" "$(fmt "$a")" "read() loop $(fmt "$r")" "$q" ">=100 M and >=0.70" \
		"$(ok "$(awk -v a="$a" -v q="$q" 'BEGIN{print (a>=1e8 && q>=0.7)}')")"
	row "  reader alone (records/s)" "$(fmt "$(kv "v$v.replay_reader_records_per_s")")" "" \
		"$(ratio "$(kv "v$v.replay_reader_records_per_s")" "$r")" "" ""
	row "  batch reader alone (records/s)" "$(fmt "$(kv "v$v.replay_batch_reader_records_per_s")")" "" \
		"$(ratio "$(kv "v$v.replay_batch_reader_records_per_s")" "$r")" "" ""
	row "  minimal fused loop (ceiling)" "$(fmt "$(kv "v$v.replay_ceiling_records_per_s")")" "" \
		"$(ratio "$(kv "v$v.replay_ceiling_records_per_s")" "$r")" "" ""
done
a=$(kv csv_reader_mb_per_s); l=$(kv csv_libcsv_mb_per_s)
row "2 native CSV reader (MB/s)" "$(fmt "$a")" "libcsv alone $(fmt "$l")" "$(ratio "$a" "$l")" ">=500 MB/s" \
	"$(ok "$(awk -v a="$a" 'BEGIN{print (a>=500)}')")"
row "  rows/s" "$(fmt "$(kv csv_reader_rows_per_s)")" "libcsv $(fmt "$(kv csv_libcsv_rows_per_s)")" "" "" ""
a=$(kv csv_replay_mb_per_s)
row "  CSV ingest + accounting (MB/s)" "$(fmt "$a")" "libcsv alone $(fmt "$l")" "$(ratio "$a" "$l")" "" ""
a=$(kv csv_meter_mb_per_s); l=$(kv csv_meter_libcsv_mb_per_s)
row "  meter log via libcsv (MB/s)" "$(fmt "$a")" "libcsv alone $(fmt "$l")" "$(ratio "$a" "$l")" ">=0.90 of libcsv" \
	"$(ok "$(awk -v a="$a" -v l="$l" 'BEGIN{print (a>=0.9*l)}')")"
for v in 4 16 64; do
	a=$(kv "v$v.sim_quanta_per_s"); s=$(kv "v$v.simgrid_quanta_per_s")
	case $v in 4) t=30000000 ;; 64) t=10000000 ;; *) t=0 ;; esac
	tgt=">=20x SimGrid"; [ "$t" != 0 ] && tgt=">=$(fmt $t) and >=20x"
	row "3 simulation, N=$v (quanta/s)" "$(fmt "$a")" "SimGrid $(fmt "$s")" "$(ratio "$a" "$s")" "$tgt" \
		"$(ok "$(awk -v a="$a" -v s="$s" -v t="$t" 'BEGIN{print (a>=t && (s=="" || a>=20*s))}')")"
done
a=$(kv disk_long_events_per_s); s=$(kv disk_short_events_per_s)
row "4 disk path, ${DISK_L} s (events/s)" "$(fmt "$a")" "${DISK_S} s: $(fmt "$s")" "$(ratio "$a" "$s")" ">=0.90" \
	"$(ok "$(awk -v q="$(ratio "$a" "$s")" 'BEGIN{print (q>=0.9)}')")"
a=$(kv mem_peak_rss_kib_10x); s=$(kv mem_peak_rss_kib_1x)
row "5 peak RSS, 10x trace (KiB)" "$a" "1x trace: $s" "$(ratio "$a" "$s")" "<1.10" \
	"$(ok "$(awk -v q="$(ratio "$a" "$s")" 'BEGIN{print (q<1.1)}')")"
a=$(kv v64.sim_state_bytes_end)
row "  simulator state, N=64 (bytes)" "$(fmt "$a")" "" "" "<=16 MiB" "$(ok "$(awk -v a="$a" 'BEGIN{print (a<=16777216)}')")"
if grep -q '^ir_' "$raw"; then
	row "6 instructions per record: replay" "$(kv ir_replay)" "read loop $(kv ir_read_loop)" "" "" ""
	row "  bin reader alone" "$(kv ir_replay_reader)" "" "" "" ""
	row "  bin batch reader alone" "$(kv ir_replay_batch)" "" "" "" ""
	row "  minimal fused loop (ceiling)" "$(kv ir_replay_ceiling)" "" "" "" ""
	row "  CSV reader / CSV replay" "$(kv ir_csv_reader) / $(kv ir_csv_replay)" "libcsv $(kv ir_libcsv)" "" "" ""
	row "  per quantum, N=4 / N=64" "$(kv ir_sim_v4) / $(kv ir_sim_v64)" "" "" "" ""
	a=$(kv ir_disk_long); s=$(kv ir_disk_short)
	row "  per disk-path event, ${DISK_L} s" "$a" "${DISK_S} s: $s" "$(ratio "$s" "$a")" ">=0.90" \
		"$(ok "$(awk -v q="$(ratio "$s" "$a")" 'BEGIN{print (q>=0.9)}')")"
fi
if [ "$smoke" = 1 ]; then
	# every benchmark must have produced its figures
	for k in v4.replay_records_per_s csv_reader_mb_per_s csv_meter_mb_per_s v64.sim_quanta_per_s \
		disk_long_events_per_s mem_peak_rss_kib_10x fidelity; do
		[ -n "$(kv "$k")" ] || { echo "bench/run.sh: no figure $k" >&2; exit 1; }
	done
	echo "bench smoke: ok"
fi
