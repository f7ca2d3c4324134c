# run_power.gp: `joulevisor plot`: the true power of every device over time
# (power.csv, one row per device and res_s seconds), binned to bin_s seconds
# (a multiple of res_s); CPUs in the top panel, disks below.
#   gnuplot -e "in='RUN/power.csv'; out='power.png'; devs='cpu0 disk0'; bin_s=0.1; res_s=0.001" plots/run_power.gp
if (!exists("in")) in = 'power.csv'
if (!exists("out")) out = 'power.png'
if (!exists("devs")) devs = 'cpu0 disk0'
if (!exists("bin_s")) bin_s = 0.1
if (strlen(out) > 4 && out[strlen(out)-3:] eq ".svg") {
	set terminal svg size 1000,650 dynamic enhanced font "DejaVu Sans,12" background rgb "white"
} else {
	if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
		set terminal pngcairo size 1000,650 enhanced font "DejaVu Sans,11" background rgb "white"
	} else {
		set terminal png size 1000,650
	}
}
set output out

set datafile separator comma
set datafile columnheaders
if (!exists("res_s")) res_s = 0.001
# a bin's mean power: the sum of its samples' energy (power x resolution) over
# the bin (smooth frequency sums the y of equal x); other devices' rows add 0
cpus = ""
disks = ""
do for [d in devs] {
	if (d[1:3] eq "cpu") { cpus = cpus." ".d } else { disks = disks." ".d }
}
binned(d) = strcol("device") eq d ? column("power_w") * res_s / bin_s : 0
bin(x) = floor(column("t_ns") / 1e9 / bin_s + 1e-9) * bin_s

array colour[6] = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2"]
panels = (words(cpus) > 0) + (words(disks) > 0)
set multiplot layout panels,1 title sprintf("true device power over time (mean over %g s)", bin_s)
set grid lc rgb "#dddddd"
set tics nomirror
set border 3
set key inside right top box lc rgb "#bbbbbb" opaque
set lmargin 10
set yrange [0:*]
if (words(cpus) > 0) {
	set ylabel "CPU power (W)"
	if (words(disks) == 0) { set xlabel "time (s)" }
	plot for [i=1:words(cpus)] in using (bin(0)):(binned(word(cpus,i))) smooth frequency \
		with lines lw 1.5 lc rgb colour[(i-1)%6+1] title word(cpus,i)
}
if (words(disks) > 0) {
	set ylabel "disk power (W)"
	set xlabel "time (s)"
	plot for [i=1:words(disks)] in using (bin(0)):(binned(word(disks,i))) smooth frequency \
		with lines lw 1.5 lc rgb colour[(i-1)%6+1] title word(disks,i)
}
unset multiplot
