#!/usr/bin/env bash
# Energy-aware guests (paper §3.4, Figure 9) through the CLI: the host holds
# an unaware guest at its limit with equal throughput; an aware guest splits
# its limit 10 W : 30 W with about 3x the throughput, its own view slightly
# above the truth; guest_matrix.csv and guest_truth.csv; container rows in
# throughput.csv; bad container settings are errors.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
get() { awk -v k="$2" -F': ' '$1 == k { print $2 + 0; f = 1 } END { if (!f) print "missing" }' "$1/summary.txt"; }
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "missing" && x >= lo && x <= hi) }'; }

expect_exit 0 "$JV" run "$SRC/scenarios/fig9-unaware.ini" -o un -q
w=$(get un limit_guest_cpu_mean_after_w)
between "$w" 38 42 && ok || bad "unaware VM power $w W (limit 40 W +-5%)"
a=$(get un container_guest/bzip2-a_cpu_ns); b=$(get un container_guest/bzip2-b_cpu_ns)
r=$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')
between "$r" 0.9 1.1 && ok || bad "unaware throughput ratio $r"
[ "$(wc -l < un/guest_matrix.csv)" = 1 ] && ok || bad "unaware guest has no own view"
[ "$(wc -l < un/guest_truth.csv)" = 3 ] && ok || bad "guest_truth rows"

expect_exit 0 "$JV" run "$SRC/scenarios/fig9-aware.ini" -o aw -q
ta=$(get aw container_guest/bzip2-a_true_active_w)
tb=$(get aw container_guest/bzip2-b_true_active_w)
between "$ta" 9 11 && ok || bad "aware 10 W container: $ta W"
between "$tb" 27 33 && ok || bad "aware 30 W container: $tb W"
a=$(get aw container_guest/bzip2-a_cpu_ns); b=$(get aw container_guest/bzip2-b_cpu_ns)
r=$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')
between "$r" 2.7 3.3 && ok || bad "aware throughput ratio $r (want 2.7-3.3)"
for c in a b; do
  gv=$(get aw container_guest/bzip2-${c}_guest_view_active_w)
  tv=$(get aw container_guest/bzip2-${c}_true_active_w)
  awk -v g="$gv" -v t="$tv" 'BEGIN { exit !(g > t && g < 1.02 * t) }' && ok ||
    bad "guest view $gv W not slightly above the truth $tv W"
done
w=$(get aw limit_guest_cpu_mean_after_w)
between "$w" 36 42 && ok || bad "aware VM power $w W"
[ "$(head -1 aw/guest_matrix.csv)" = "consumer,device,via,idle_j,active_j,total_j,mean_w" ] && ok || bad "guest_matrix header"
grep -q '^guest/bzip2-b,cpu0,direct,' aw/guest_matrix.csv && ok || bad "guest_matrix rows"
grep -q ',guest/bzip2-a,0,0,' aw/throughput.csv && ok || bad "container rows in throughput.csv"
# matrix.csv stays the host view: VMs only
grep -q 'bzip2' aw/matrix.csv && bad "containers in matrix.csv" || ok

# bad container settings
printf '[global]\nduration = 1s\n[vm g]\nworkload = cpu-hog\n[container g/x]\n' > bad1.ini
expect_exit 2 "$JV" run bad1.ini -o b1 -q
expect_err "has its own workload"
printf '[global]\nduration = 1s\n[vm drv]\nkind = driver\n[container drv/x]\n' > bad2.ini
expect_exit 2 "$JV" run bad2.ini -o b2 -q
expect_err "containers live in guests"
printf '[global]\nduration = 1s\n[container nope/x]\n' > bad3.ini
expect_exit 2 "$JV" run bad3.ini -o b3 -q
expect_err "no [vm nope]"
finish
