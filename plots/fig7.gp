# fig7.gp: Figure 7 of Stoess et al. 2007 from `joulevisor reproduce` (fig7.csv):
# the accounted power of a disk stress test per block size, stacked (base CPU,
# client CPU, the driver VM's CPU idle and active, the disk idle and active),
# with the simulated physical power (CPU + disk) as a thin bar beside each
# stack, as the paper shows its DAQ measurement.
#   gnuplot -e "in='fig7.csv'; out='fig7.png'" plots/fig7.gp     (.svg: SVG)
if (!exists("in")) in = 'fig7.csv'
if (!exists("out")) out = 'fig7.png'
if (strlen(out) > 4 && out[strlen(out)-3:] eq ".svg") {
	set terminal svg size 1000,620 dynamic enhanced font "DejaVu Sans,12" background rgb "white"
} else {
	if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
		set terminal pngcairo size 1000,620 enhanced font "DejaVu Sans,11" background rgb "white"
	} else {
		set terminal png size 1000,620
	}
}
set output out
set datafile separator comma
set datafile columnheaders

set title "Figure 7: accounted power of a disk stress test per block size (paper-2007, idle policy base)"
set xlabel "block size of the client's sequential raw reads"
set ylabel "mean power (W)"
set yrange [0:*]
set grid ytics lc rgb "#dddddd"
set key outside right top vertical Left reverse noautotitle samplen 1.5 spacing 1.2 width -2
set style fill solid 0.9 border lc rgb "#444444"
set tics nomirror
set border 3

bs_label(b) = b < 1024 ? sprintf("%d B", b) : sprintf("%d KiB", b / 1024)
# the stack: cumulative sums, bottom to top
s1(x) = column("base_cpu_w")
s2(x) = s1(x) + column("client_cpu_active_w")
s3(x) = s2(x) + column("driver_cpu_idle_w")
s4(x) = s3(x) + column("driver_cpu_active_w")
s5(x) = s4(x) + column("disk_idle_w")
s6(x) = s5(x) + column("disk_active_w")
t1(x) = column("true_cpu_w")
t2(x) = t1(x) + column("true_disk_w")
hw = 0.28      # half width of a stack
c(x) = x - 0.08 # its centre
tc(x) = x + 0.31 # the thin bar's centre
tw = 0.045     # its half width

stats in using 0 nooutput
set xrange [-0.6:STATS_records - 0.4]

plot \
  in using (c($0)):(0):(c($0)-hw):(c($0)+hw):(0):(s1(0)):xtic(bs_label(column("block_size_b"))) \
     with boxxyerror lc rgb "#c8c8c8" title "base CPU (hypervisor, VMM)", \
  in using (c($0)):(0):(c($0)-hw):(c($0)+hw):(s1(0)):(s2(0)) \
     with boxxyerror lc rgb "#4e79a7" title "client CPU, active", \
  in using (c($0)):(0):(c($0)-hw):(c($0)+hw):(s2(0)):(s3(0)) \
     with boxxyerror lc rgb "#f1ce63" title "driver VM CPU, idle", \
  in using (c($0)):(0):(c($0)-hw):(c($0)+hw):(s3(0)):(s4(0)) \
     with boxxyerror lc rgb "#f28e2b" title "driver VM CPU, active", \
  in using (c($0)):(0):(c($0)-hw):(c($0)+hw):(s4(0)):(s5(0)) \
     with boxxyerror lc rgb "#a0d993" title "disk, idle", \
  in using (c($0)):(0):(c($0)-hw):(c($0)+hw):(s5(0)):(s6(0)) \
     with boxxyerror lc rgb "#3b8c3b" title "disk, active", \
  in using (tc($0)):(0):(tc($0)-tw):(tc($0)+tw):(0):(t1(0)) \
     with boxxyerror lc rgb "#555555" title "simulated CPU power (the DAQ bar)", \
  in using (tc($0)):(0):(tc($0)-tw):(tc($0)+tw):(t1(0)):(t2(0)) \
     with boxxyerror lc rgb "#c03030" title "simulated disk power (the DAQ bar)", \
  in using (c($0)):(s4(0) - column("driver_cpu_active_w") / 2):(sprintf("%.1f", column("driver_cpu_active_w"))) \
     with labels font ",9" tc rgb "#222222" notitle
