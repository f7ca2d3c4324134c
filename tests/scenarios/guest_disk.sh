#!/usr/bin/env bash
# Disk-stress resource containers (paper §3.4) through the CLI, with the
# bundled scenarios/guest-disk.ini: an energy-aware guest with a CPU
# container (20 W) and a disk container (4 W). Each container holds its
# limit (truth, +-10%); the guest's view is near the truth; the disk
# container's throughput falls with its limit as its power does; the
# guest's per-container disk-path rows add up to the host's charge to the
# VM; throughput.csv has the container's requests and bytes; bad disk
# container settings are FILE:LINE errors.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
get() { awk -v k="$2" -F': ' '$1 == k { print $2 + 0; f = 1 } END { if (!f) print "missing" }' "$1/summary.txt"; }
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "missing" && x >= lo && x <= hi) }'; }
# relnear A B REL WHAT: |A - B| <= REL x |B|
relnear() {
  awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b
    exit !(a != "missing" && b != "missing" && d <= r * m) }' && ok || bad "$4: $1 vs $2 (rel $3)"
}

expect_exit 0 "$JV" run "$SRC/scenarios/guest-disk.ini" -o gd -q
grep -q '^conservation: ok' gd/summary.txt && ok || bad "conservation"
tb=$(get gd container_guest/batch_true_active_w)
td=$(get gd container_guest/db_true_active_w)
between "$tb" 18 22 && ok || bad "batch container: $tb W (limit 20 W +-10%)"
between "$td" 3.6 4.4 && ok || bad "db container: $td W (limit 4 W +-10%)"
[ "$(get gd container_guest/db_budget_w)" = 4 ] && ok || bad "db budget"
for c in batch db; do
  gv=$(get gd container_guest/${c}_guest_view_active_w)
  tv=$(get gd container_guest/${c}_true_active_w)
  # the guest's clock runs slow: its view reads high, but by under 2%
  awk -v g="$gv" -v t="$tv" 'BEGIN { exit !(g >= t && g < 1.02 * t) }' && ok ||
    bad "$c: guest view $gv W not near the truth $tv W"
done
# the disk path dominates db's power; its own CPU is a small part
p=$(get gd container_guest/db_true_disk_path_active_w)
cpu=$(get gd container_guest/db_true_cpu_active_w)
awk -v p="$p" -v c="$cpu" -v t="$td" 'BEGIN { d = p + c - t; exit !(p > 3 * c && d < 1e-4 && d > -1e-4) }' &&
  ok || bad "db power split: disk path $p W + CPU $cpu W != $td W"

# without its limit db draws more and does proportionally more requests
expect_exit 0 "$JV" run "$SRC/scenarios/guest-disk.ini" -o free -q --set container.guest/db.power_limit=0W
tf=$(get free container_guest/db_true_active_w)
awk -v f="$tf" 'BEGIN { exit !(f > 4.8) }' && ok || bad "unlimited db only $tf W: the limit does not bind"
rl=$(get gd container_guest/db_requests); rf=$(get free container_guest/db_requests)
r=$(awk -v a="$rl" -v b="$rf" 'BEGIN { print a / b }')
pr=$(awk -v a="$td" -v b="$tf" 'BEGIN { print a / b }')
relnear "$r" "$pr" 0.1 "db throughput ratio (limited/unlimited) vs power ratio"
[ "$(get gd container_guest/db_bytes)" = "$((rl * 4096))" ] && ok || bad "db bytes"

# guest view: db's rows via the driver add up to the host's charge to the VM
for dev in disk0 cpu0; do
  g=$(csv_get gd/guest_matrix.csv guest/db $dev drv total_j)
  h=$(csv_get gd/matrix.csv guest $dev drv total_j)
  relnear "$g" "$h" 1e-8 "guest_matrix guest/db,$dev,drv vs matrix guest,$dev,drv"
  ga=$(csv_get gd/guest_matrix.csv guest/db $dev drv active_j)
  ta=$(csv_get gd/guest_truth.csv guest/db $dev drv active_j)
  relnear "$ga" "$ta" 0.02 "db $dev active: reply costs vs truth"
done
[ "$(grep -c '^guest/batch,' gd/guest_matrix.csv)" = 1 ] && ok || bad "batch has disk rows"
# host view: the guest's direct CPU is both containers' slices
hc=$(csv_get gd/matrix.csv guest cpu0 direct active_j)
gb=$(csv_get gd/guest_matrix.csv guest/batch cpu0 direct active_j)
gdc=$(csv_get gd/guest_matrix.csv guest/db cpu0 direct active_j)
relnear "$(awk -v a="$gb" -v b="$gdc" 'BEGIN { print a + b }')" "$hc" 0.01 "containers' CPU vs the host's"
grep -q 'guest/' gd/matrix.csv && bad "containers in matrix.csv" || ok
# throughput.csv: db's requests and bytes per interval add up
awk -F, -v n="$rl" '$2 == "guest/db" { r += $3; b += $4 }
  END { exit !(r == n && b == n * 4096) }' gd/throughput.csv && ok || bad "throughput.csv db rows"
awk -F, '$2 == "guest/batch" && ($3 != 0 || $4 != 0) { x = 1 } END { exit x }' gd/throughput.csv &&
  ok || bad "batch has requests"

# bad disk container settings
printf '[global]\nduration = 1s\n[vm g]\nenergy_aware = yes\n[container g/db]\nworkload = disk-stress\n' > bad1.ini
expect_exit 2 "$JV" run bad1.ini -o b1 -q
expect_err "bad1.ini:6: [container g/db] workload"
expect_err "no driver VM"
printf '[global]\nduration = 1s\n[vm d]\nkind = driver\n[vm g]\n[container g/db]\nworkload = trace\n' > bad2.ini
expect_exit 2 "$JV" run bad2.ini -o b2 -q
expect_err "disk-stress"
printf '[global]\nduration = 1s\n[vm d]\nkind = driver\n[vm g]\n[container g/db]\nworkload = disk-stress\nqueue_depth = 0\n' > bad3.ini
expect_exit 2 "$JV" run bad3.ini -o b3 -q
expect_err "bad3.ini:8: [container g/db] queue_depth"
finish
