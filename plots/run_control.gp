# run_control.gp: `joulevisor plot`: the host-level energy manager of a run
# (control.csv): per limited VM and device, the power measured at every step
# with its limit (dashed), and the actuator (the disk loop's request budget per
# shaping period, the CPU loop's stride) on a log scale below.
#   gnuplot -e "in='RUN/control.csv'; out='control.png'; keys='client1:disk0'" plots/run_control.gp
if (!exists("in")) in = 'control.csv'
if (!exists("out")) out = 'control.png'
if (!exists("keys")) keys = ''
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

cons(s) = s[1:strstrt(s, ":") - 1]
dev(s) = s[strstrt(s, ":") + 1:]
# one data block per vm:device: t, measured, limit, actuator value
do for [i=1:words(keys)] {
	k = word(keys, i)
	set datafile separator comma
	set datafile columnheaders
	eval sprintf('set table $C%d', i)
	plot in using (column("t_ns") / 1e9):(column("measured_w")):(column("limit_w")):(column("actuator_value")) \
		with table if (strcol("vm") eq cons(k) && strcol("device") eq dev(k))
	unset table
}
set datafile separator whitespace
set datafile nocolumnheaders

array colour[8] = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"]
act(k) = dev(k)[1:4] eq "disk" ? "budget (requests/period)" : "stride"
n = words(keys)
set multiplot layout 2,1 title "host-level energy manager: measured power, limits and actuators"
set grid lc rgb "#dddddd"
set tics nomirror
set border 3
set key outside right top Left reverse samplen 2
set lmargin 12
set rmargin 38
set ylabel "measured power (W)"
set yrange [0:*]
plot for [i=1:n] sprintf('$C%d', i) using 1:2 with steps lw 1.5 lc rgb colour[(i-1)%8+1] title word(keys,i), \
     for [i=1:n] sprintf('$C%d', i) using 1:3 with lines lw 1.5 dt (6,4) lc rgb colour[(i-1)%8+1] title word(keys,i)." limit"
set ylabel "actuator value"
set xlabel "time (s)"
set logscale y
set yrange [*:*]
plot for [i=1:n] sprintf('$C%d', i) using 1:4 with steps lw 1.5 lc rgb colour[(i-1)%8+1] title word(keys,i)." ".act(word(keys,i))
unset multiplot
