#!/usr/bin/env bash
# `joulevisor reproduce` and `joulevisor plot` end to end: the paper's
# figures with --quick runs hold the issue's tolerances (checked here from the
# figure CSVs, independently of the tool's own report), every figure CSV has
# its exact header, every PNG is a valid PNG, an out-of-tolerance number or a
# failed run fails the command, figures are skipped (and said so) without
# gnuplot, and `plot` renders a run directory.
# Without gnuplot installed the figure checks cannot run: the rest runs and
# the test reports "skipped" (77).
source "$(dirname "$0")/lib.bash" "$@"
cd "$T"
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x != "" && x != "missing" && x + 0 >= lo && x + 0 <= hi) }'; }
get() { awk -v k="$2" -F': ' '$1 == k { print $2 + 0; f = 1 } END { if (!f) print "missing" }' "$1/summary.txt"; }
is_png() { [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
is_svg() { [ -s "$1" ] && grep -q '<svg' "$1"; }
HAVE_GP=1
command -v gnuplot >/dev/null 2>&1 || HAVE_GP=0

# ---- the whole reproduction, shortened ---------------------------------------
expect_exit 0 "$JV" reproduce all -o rep -j 2 --quick
cp "$T/err" rep.err
grep -q 'checks within tolerance' "$T/out" && ok || bad "no summary line: $(cat "$T/out")"

# exact headers
[ "$(head -1 rep/fig5.csv)" = "view,consumer,device,idle_w,active_w" ] && ok || bad "fig5.csv header"
[ "$(head -1 rep/fig7.csv)" = "block_size_b,base_cpu_w,client_cpu_active_w,driver_cpu_idle_w,driver_cpu_active_w,disk_idle_w,disk_active_w,true_cpu_w,true_disk_w" ] && ok || bad "fig7.csv header"
[ "$(head -1 rep/fig8.csv)" = "t_s,vm,driver_active_w,limit_w,throughput_bytes_per_s" ] && ok || bad "fig8.csv header"
[ "$(head -1 rep/fig9.csv)" = "guest,app,true_w,guest_view_w,host_view_w,throughput_rel" ] && ok || bad "fig9.csv header"

# Figure 5: every cell +-0.3 W
f5() { awk -F, -v v="$1" -v c="$2" -v d="$3" -v k="$4" 'NR > 1 && $1 == v && $2 == c && $3 == d { print (k == "idle" ? $4 : $5); f = 1 } END { if (!f) print "missing" }' rep/fig5.csv; }
for cell in "driver vdisk1 disk0 3 2" "driver vdisk2 disk0 3 3" "driver vdisk1 cpu0 4 4" \
            "driver vdisk2 cpu0 4 6" "hypervisor drv cpu0 6 12"; do
  set -- $cell
  near "$(f5 $1 $2 $3 idle)" "$4" 0.3 "fig5 $1 $2 $3 idle"
  near "$(f5 $1 $2 $3 active)" "$5" 0.3 "fig5 $1 $2 $3 active"
done

# Figure 7: seven block sizes, 512 B .. 32 KiB
[ "$(awk -F, 'NR > 1 { printf "%s ", $1 }' rep/fig7.csv)" = "512 1024 2048 4096 8192 16384 32768 " ] && ok || bad "fig7 block sizes"
awk -F, 'NR > 1 {
    if ($2 < 35.5 || $2 > 36.5) { print "base " $2 " at " $1; e = 1 }
    if ($4 < 7.5 || $4 > 8.5) { print "driver idle " $4 " at " $1; e = 1 }
    if ($6 < 3.3 || $6 > 3.7) { print "disk idle " $6 " at " $1; e = 1 }
    if ($7 < 1.7 || $7 > 2.3) { print "disk active " $7 " at " $1; e = 1 }
    if (!($3 < $5)) { print "client active " $3 " not below driver " $5 " at " $1; e = 1 }
    if (NR > 2 && !($5 < prev)) { print "driver active not falling at " $1; e = 1 }
    prev = $5
  } END { exit e }' rep/fig7.csv > f7.txt && ok || bad "fig7: $(cat f7.txt)"
between "$(awk -F, '$1 == 512 { print $5 }' rep/fig7.csv)" 7.5 10.5 && ok || bad "fig7 driver active at 512 B"
between "$(awk -F, '$1 == 32768 { print $5 }' rep/fig7.csv)" 0.5 1.5 && ok || bad "fig7 driver active at 32 KiB"

# Figure 8: per second; the limits hold (+-10%) over the second half of the limited period
[ "$(awk -F, 'NR > 1 { n[$2]++ } END { print n["client1"] " " n["client2"] }' rep/fig8.csv)" = "40 40" ] && ok || bad "fig8 rows per client"
for c in client1:1 client2:0.5; do
  vm=${c%%:*}; lim=${c##*:}
  on=$(awk -F, -v v="$vm" 'NR > 1 && $2 == v && $4 > 0 { print $1; exit }' rep/fig8.csv)
  [ "$on" = 15 ] && ok || bad "fig8 $vm limit from $on s (want 15 s with --quick)"
  [ "$(awk -F, -v v="$vm" 'NR > 1 && $2 == v && $1 >= 15 { print $4 }' rep/fig8.csv | sort -u)" = "$lim" ] && ok || bad "fig8 $vm limit_w column"
  m=$(awk -F, -v v="$vm" 'NR > 1 && $2 == v && $1 >= 27.5 { s += $3; n++ } END { if (n) print s / n }' rep/fig8.csv)
  between "$m" "$(awk -v l="$lim" 'BEGIN { print l * 0.9 }')" "$(awk -v l="$lim" 'BEGIN { print l * 1.1 }')" && ok || bad "fig8 $vm steady power $m W (limit $lim W)"
done
r=$(awk -F, 'NR > 1 && $1 >= 27.5 { s[$2] += $5 } END { print s["client1"] / s["client2"] }' rep/fig8.csv)
between "$r" 1.6 2.4 && ok || bad "fig8 throughput ratio $r"

# Figure 9
f9() { awk -F, -v g="$1" -v a="$2" -v k="$3" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } $1 == g && $2 == a { print $h[k]; f = 1 } END { if (!f) print "missing" }' rep/fig9.csv; }
[ "$(awk -F, 'NR > 1 { printf "%s/%s ", $1, $2 }' rep/fig9.csv)" = "unaware/bzip2-a unaware/bzip2-b unaware/vm aware/bzip2-a aware/bzip2-b aware/vm " ] && ok || bad "fig9 rows"
between "$(get rep/runs/fig9-unaware limit_guest_cpu_mean_after_w)" 38 42 && ok || bad "fig9 unaware VM not at 40 W +-5%"
r=$(awk -v a="$(f9 unaware bzip2-a throughput_rel)" -v b="$(f9 unaware bzip2-b throughput_rel)" 'BEGIN { print a / b }')
between "$r" 0.9 1.1 && ok || bad "fig9 unaware throughput ratio $r"
between "$(f9 aware bzip2-a true_w)" 9 11 && ok || bad "fig9 aware 10 W app: $(f9 aware bzip2-a true_w)"
between "$(f9 aware bzip2-b true_w)" 27 33 && ok || bad "fig9 aware 30 W app: $(f9 aware bzip2-b true_w)"
r=$(awk -v a="$(f9 aware bzip2-a throughput_rel)" -v b="$(f9 aware bzip2-b throughput_rel)" 'BEGIN { print b / a }')
between "$r" 2.7 3.3 && ok || bad "fig9 aware throughput ratio $r"
for a in bzip2-a bzip2-b; do
  awk -v g="$(f9 aware $a guest_view_w)" -v t="$(f9 aware $a true_w)" 'BEGIN { exit !(g > t && g < 1.02 * t) }' && ok || bad "fig9 guest view of $a not slightly above the truth"
done
[ -z "$(f9 unaware bzip2-a guest_view_w)" ] && [ -z "$(f9 aware bzip2-a host_view_w)" ] && ok || bad "fig9: not-applicable cells must be empty"
between "$(f9 aware vm host_view_w)" 36 44 && ok || bad "fig9 aware VM host view"

# the report: every row within tolerance, figures embedded, manager periods
grep -q '\*\*NO\*\*' rep/report.md && bad "report has rows out of tolerance: $(grep -F '**NO**' rep/report.md)" || ok
n=$(grep -c '| yes |$' rep/report.md)
[ "$n" -ge 60 ] && ok || bad "report: only $n rows within tolerance"
grep -q "^\*\*$n of $n checks within tolerance" rep/report.md && ok || bad "report summary line"
for row in "512B: driver VM's active CPU power" "32KiB: driver VM's active CPU power" \
           "hypervisor's view of the driver VM's CPU, active" "client2: driver's active power" \
           "aware guest: throughput bzip2-b : bzip2-a" "host manager's disk loop period" \
           "host manager's CPU loop period" "energy manager reads the PMC log every"; do
  grep -F "| $row" rep/report.md | grep -q '| yes |$' && ok || bad "report row '$row'"
done
for f in fig5 fig7 fig8 fig9; do
  if [ $HAVE_GP = 1 ]; then
    grep -q "](${f}.png)" rep/report.md && ok || bad "report does not embed $f.png"
    is_png rep/$f.png && ok || bad "$f.png is not a PNG"
    is_svg rep/$f.svg && ok || bad "$f.svg is not an SVG"
  fi
  [ -d rep/runs ] && ls -d rep/runs/$f-* >/dev/null 2>&1 && ok || bad "no run of $f in rep/runs"
done
[ "$(ls rep/runs/*.log 2>/dev/null | wc -l)" = 0 ] && ok || bad "empty run logs left behind"

# determinism: rebuilding from the runs, and other worker counts, give the same files
cp rep/fig7.csv fig7.first
expect_exit 0 "$JV" reproduce fig7 fig8 -o rep --no-run --quick
cmp -s fig7.first rep/fig7.csv && ok || bad "fig7.csv differs after --no-run"
expect_exit 0 "$JV" reproduce fig7 -o one -j 1 --quick
cmp -s fig7.first one/fig7.csv && ok || bad "fig7.csv differs with -j 1"
[ ! -e one/fig5.csv ] && ok || bad "reproduce fig7 wrote fig5.csv"

# an out-of-tolerance number fails the command and names the row
mkdir scn && cp "$SRC"/scenarios/*.ini scn/
sed -i 's/^idle_power = 6W/idle_power = 8W/' scn/fig5.ini
expect_exit 1 "$JV" reproduce fig5 -o bad --scenarios scn
expect_err "out of tolerance: fig5: vdisk1, disk, idle"
grep -qF '**NO**' bad/report.md && ok || bad "report does not mark the failing row"
# a failed run fails the command, naming the run and quoting its log
printf '[global]\nduration = banana\n' > scn/fig5.ini
expect_exit 1 "$JV" reproduce fig5 -o bad2 --scenarios scn
expect_err "run fig5-matrix failed"
expect_err "duration"

# usage errors
expect_exit 2 "$JV" reproduce fig6
expect_err "unknown figure 'fig6'"
expect_exit 2 "$JV" reproduce -j 0
expect_exit 2 "$JV" reproduce --frobnicate
expect_exit 0 "$JV" reproduce --help
grep -q 'usage: joulevisor reproduce' "$T/out" && ok || bad "reproduce --help"

# without gnuplot: the CSV files and the report, and a plain message
expect_exit 0 env PATH=/nonexistent "$JV" reproduce fig5 fig9 -o nogp --quick
expect_err "figures skipped: gnuplot was not found on PATH"
[ -s nogp/fig5.csv ] && [ -s nogp/fig9.csv ] && [ -s nogp/report.md ] && ok || bad "no-gnuplot: CSVs or report missing"
[ ! -e nogp/fig5.png ] && ok || bad "no-gnuplot: a PNG appeared"
grep -q 'figure skipped: gnuplot was not found' nogp/report.md && ok || bad "no-gnuplot: report does not say why"
expect_exit 0 env PATH=/nonexistent "$JV" plot rep/runs/fig5-matrix -o nogp-plot
expect_err "figures skipped: gnuplot was not found on PATH"

# joulevisor plot
expect_exit 2 "$JV" plot
expect_exit 2 "$JV" plot no-such-dir
expect_err "not a run directory"
if [ $HAVE_GP = 1 ]; then
  expect_exit 0 "$JV" plot rep/runs/fig8-limits -o p8
  for f in power vm_power matrix control; do
    is_png p8/$f.png && ok || bad "plot: $f.png is not a PNG"
    is_svg p8/$f.svg && ok || bad "plot: $f.svg is not an SVG"
  done
  # a run without limits has no controller figure, and the figures go beside the CSVs by default
  cp -r rep/runs/fig5-matrix r5
  expect_exit 0 "$JV" plot r5
  is_png r5/matrix.png && is_png r5/power.png && ok || bad "plot into the run directory"
  [ ! -e r5/control.png ] && ok || bad "plot: control.png without limits"
  grep -q 'no limit was in force' "$T/out" && ok || bad "plot does not say why there is no controller figure"
fi

finish || exit 1
if [ $HAVE_GP = 0 ]; then
  echo "gnuplot is not installed: the figure checks were skipped"
  exit 77
fi
