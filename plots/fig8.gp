# fig8.gp: Figure 8 of Stoess et al. 2007 from `joulevisor reproduce` (fig8.csv):
# per second, the active power the disk driver VM spends for each client
# (disk + the driver's CPU) with its limit (dashed, from when it is in force),
# and each client's disk throughput below.
#   gnuplot -e "in='fig8.csv'; out='fig8.png'; vms='client1 client2'" plots/fig8.gp
if (!exists("in")) in = 'fig8.csv'
if (!exists("out")) out = 'fig8.png'
if (!exists("vms")) vms = 'client1 client2'
if (strlen(out) > 4 && out[strlen(out)-3:] eq ".svg") {
	set terminal svg size 1000,700 dynamic enhanced font "DejaVu Sans,12" background rgb "white"
} else {
	if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
		set terminal pngcairo size 1000,700 enhanced font "DejaVu Sans,11" background rgb "white"
	} else {
		set terminal png size 1000,700
	}
}
set output out
set datafile separator comma
set datafile columnheaders

array colour[6] = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2"]
is(v) = strcol("vm") eq v
n = words(vms)
stats in using 1 nooutput
t_max = STATS_max + 1

set multiplot layout 2,1 title "Figure 8: disk power limits enforced by the host-level energy manager (driver shapes requests)"
set grid lc rgb "#dddddd"
set tics nomirror
set border 3
set xrange [0:t_max]
set key inside right top vertical Left reverse samplen 3 spacing 1.2 box lc rgb "#bbbbbb" opaque
set lmargin 12
set rmargin 3
lw(i) = i == 1 ? 3.5 : 1.8   # the first VM wider: equal before the limits

set ylabel "driver's active power\nfor the client (W)"
set yrange [0:*]
set format x ""
plot for [i=1:n] in using 1:(is(word(vms,i)) ? column("driver_active_w") : NaN) \
       with steps lw lw(i) lc rgb colour[(i-1)%6+1] title word(vms,i), \
     for [i=1:n] in using 1:(is(word(vms,i)) && column("limit_w") > 0 ? column("limit_w") : NaN) \
       with steps lw 1.5 dt (6,4) lc rgb "#222222" title (i == 1 ? "limits" : "")

set format x "%g"
set xlabel "time (s)"
set ylabel "disk throughput (MB/s)"
plot for [i=1:n] in using 1:(is(word(vms,i)) ? column("throughput_bytes_per_s") / 1e6 : NaN) \
       with steps lw lw(i) lc rgb colour[(i-1)%6+1] title word(vms,i)
unset multiplot
