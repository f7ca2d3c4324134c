# run_vm_power.gp: `joulevisor plot`: the accounted power of every consumer on
# every device over time (series.csv: idle + active energy of all `via` rows
# of an interval, over bins of bin_s seconds); CPUs on top, disks below.
#   gnuplot -e "in='RUN/series.csv'; out='vm_power.png'; keys='client:cpu0 client:disk0'; interval_s=0.1; bin_s=0.1" plots/run_vm_power.gp
if (!exists("in")) in = 'series.csv'
if (!exists("out")) out = 'vm_power.png'
if (!exists("keys")) keys = ''
if (!exists("interval_s")) interval_s = 0.1
if (!exists("bin_s")) bin_s = interval_s
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

cons(s) = s[1:strstrt(s, ":") - 1]
dev(s) = s[strstrt(s, ":") + 1:]
# a bin's mean power: the sum of its rows' idle + active energy over the bin
# (smooth frequency sums the y of equal x; other rows add 0)
set datafile separator comma
set datafile columnheaders
cpu_keys = ""
disk_keys = ""
do for [k in keys] {
	if (dev(k)[1:3] eq "cpu") { cpu_keys = cpu_keys." ".k } else { disk_keys = disk_keys." ".k }
}
binned(k) = strcol("consumer") eq cons(k) && strcol("device") eq dev(k) ? (column("idle_j") + column("active_j")) / bin_s : 0
bin(x) = floor((column("t_ns") / 1e9 - interval_s) / bin_s + 1e-9) * bin_s

array colour[8] = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"]
panels = (words(cpu_keys) > 0) + (words(disk_keys) > 0)
set multiplot layout panels,1 title sprintf("accounted power per consumer and device (matrix over time, mean over %g s)", bin_s)
set grid lc rgb "#dddddd"
set tics nomirror
set border 3
set key outside right top Left reverse samplen 2
set lmargin 10
set rmargin 24
if (words(cpu_keys) > 0) {
	set ylabel "CPU power (W)"
	if (words(disk_keys) == 0) { set xlabel "time (s)" }
	plot for [i=1:words(cpu_keys)] in using (bin(0)):(binned(word(cpu_keys,i))) smooth frequency \
		with lines lw 1.5 lc rgb colour[(i-1)%8+1] title word(cpu_keys,i)
}
if (words(disk_keys) > 0) {
	set ylabel "disk power (W)"
	set xlabel "time (s)"
	plot for [i=1:words(disk_keys)] in using (bin(0)):(binned(word(disk_keys,i))) smooth frequency \
		with lines lw 1.5 lc rgb colour[(i-1)%8+1] title word(disk_keys,i)
}
unset multiplot
