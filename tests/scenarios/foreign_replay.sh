#!/usr/bin/env bash
# Real and documented foreign traces replayed through a scenario end to end:
# the CloudPhysics vSCSI sample (open mode through the driver and disk),
# an MSR Cambridge trace mapped onto two VMs with match rules, and an
# import to the native binary form replayed in accounting mode.
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
get() { awk -v k="$2" -F': ' '$1 == k { print $2 + 0; f = 1 } END { if (!f) print "missing" }' "$1/summary.txt"; }
VS="$SRC/tests/fixtures/real/blockio/cloudphysics_sample.vscsi"
MSR="$SRC/tests/fixtures/fmt/msr_hm_web.csv"

# vSCSI: 2 h of real requests, accounting mode (fast), every request counted
cat > vs.ini <<INI
[global]
duration = 7300s
replay_mode = accounting
[output]
interval = 10s
power_resolution = 1s
; the driver's background runs every 100 us: off, to keep 2 h cheap
[vm drv]
kind = driver
bg_duty = 0
idle_cpu_power = 8W
[vm guest]
trace = $VS
trace_format = vscsi
INI
expect_exit 0 "$JV" run vs.ini -o vs -q
[ "$(get vs vm_guest_requests)" = 113872 ] && ok || bad "vscsi requests $(get vs vm_guest_requests)"
grep -q '^vm_guest_bytes: 4205978112$' vs/summary.txt && ok || bad "vscsi bytes $(grep vm_guest_bytes vs/summary.txt)"
grep -q '^conservation: ok$' vs/summary.txt && ok || bad "vscsi conservation"
# the first 10 minutes in open mode, through the simulated driver and disk
expect_exit 0 "$JV" run vs.ini -o vs-open -q --set global.duration=120s --set global.replay_mode=open
r=$(get vs-open vm_guest_requests)
awk -v r="$r" 'BEGIN { exit !(r > 100) }' && ok || bad "vscsi open-mode requests $r"
[ -s vs-open/truth.csv ] && ok || bad "open mode has a truth ledger"

# MSR: two VMs take their records by match rules
cat > msr.ini <<INI
[global]
duration = 60s
replay_mode = open
[vm drv]
kind = driver
[vm a]
trace = $MSR
trace_format = msr
match = host=hm,disk=0
driver = drv
[vm b]
match = host=hm,disk=1
[vm c]
match = host=web
INI
# (b and c name no driver: a VM with a match rule may receive block
# records, so it gets the scenario's only driver VM like a trace owner)
expect_exit 0 "$JV" run msr.ini -o msr -q
ra=$(get msr vm_a_requests); rb=$(get msr vm_b_requests)
"$JV" trace import --from msr "$MSR" -o all.csv >/dev/null
n0=$(awk -F, 'NR > 2 && $2 == "hm_0"' all.csv | wc -l); n1=$(awk -F, 'NR > 2 && $2 == "hm_1"' all.csv | wc -l)
[ "$ra" = "$n0" ] && [ "$rb" = "$n1" ] && ok || bad "msr mapping: a $ra (want $n0), b $rb (want $n1)"
# a record no rule takes is an error naming it
cat > msr-bad.ini <<INI
[global]
duration = 60s
[vm drv]
kind = driver
[vm a]
trace = $MSR
trace_format = msr
match = host=hm,disk=0
INI
expect_exit 2 "$JV" run msr-bad.ini -o msr-bad -q
expect_err "hm_1"

# import to the binary form and replay it
expect_exit 0 "$JV" trace import --from vscsi "$VS" -o vs.jvt --vm guest
sed "s|trace = $VS|trace = $T/vs.jvt|; s|trace_format = vscsi|trace_format = auto|" vs.ini > vsb.ini
expect_exit 0 "$JV" run vsb.ini -o vsb -q
cmp -s vs/matrix.csv vsb/matrix.csv && ok || bad "binary replay differs from the vscsi replay"
finish
