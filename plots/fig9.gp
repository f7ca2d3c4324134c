# fig9.gp: Figure 9 of Stoess et al. 2007 from `joulevisor reproduce` (fig9.csv):
# two bzip2-like applications in one guest allotted 40 W of active CPU power,
# in an energy-unaware guest (the host throttles the VM) and an energy-aware
# guest (containers with 10 W and 30 W budgets). Top: active CPU power per
# application and for the whole VM (true, the guest's own view, the host's
# view); bottom: throughput relative to running alone unconstrained.
#   gnuplot -e "in='fig9.csv'; out='fig9.png'" plots/fig9.gp     (.svg: SVG)
if (!exists("in")) in = 'fig9.csv'
if (!exists("out")) out = 'fig9.png'
if (!exists("vm_limit_w")) vm_limit_w = 40
if (strlen(out) > 4 && out[strlen(out)-3:] eq ".svg") {
	set terminal svg size 1000,720 dynamic enhanced font "DejaVu Sans,12" background rgb "white"
} else {
	if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
		set terminal pngcairo size 1000,720 enhanced font "DejaVu Sans,11" background rgb "white"
	} else {
		set terminal png size 1000,720
	}
}
set output out
set datafile separator comma
set datafile columnheaders

# groups: the unaware guest's rows, a gap, the aware guest's rows
stats in using (strcol("guest") eq "unaware" ? 1 : NaN) nooutput
n_un = STATS_records
stats in using 0 nooutput
n_all = STATS_records
gap = 0.7
xpos(x) = $0 + (strcol("guest") eq "unaware" ? 0 : gap)
lbl(x) = strcol("app") eq "vm" ? "whole VM" : strcol("app")
w = 0.13   # half width of one bar
val(c) = column(c)   # an empty field (not applicable) is missing: no bar

set multiplot layout 2,1 title "Figure 9: guest-level vs host-level CPU energy management (VM allotted 40 W active CPU power)"
set grid ytics lc rgb "#dddddd"
set tics nomirror
set border 3
set xtics scale 0
set xrange [-0.6:n_all - 1 + gap + 0.6]
set style fill solid 0.9 border lc rgb "#444444"
set key outside top center horizontal Left reverse noautotitle samplen 1.5 maxrows 1 width 1
set lmargin 12
set rmargin 3

set ylabel "active CPU power (W)"
set yrange [0:vm_limit_w * 1.45]
set label 1 "energy-unaware guest" at (n_un - 1) / 2.0, graph 0.93 center font ",12"
set label 2 "energy-aware guest (budgets 10 W : 30 W)" at n_un + gap + (n_all - n_un - 1) / 2.0, graph 0.93 center font ",12"
set arrow 1 from graph 0, first vm_limit_w to graph 1, first vm_limit_w nohead dt (6,4) lc rgb "#222222" front
set label 3 sprintf("VM allotment %g W", vm_limit_w) at graph 0.01, first vm_limit_w left offset 0,0.7 font ",10"
plot \
  in using (xpos(0) - 2*w):(0):(xpos(0) - 3*w):(xpos(0) - w):(0):(val("true_w")):xtic(lbl(0)) \
     with boxxyerror lc rgb "#59a14f" title "true (simulated)", \
  in using (xpos(0)):(0):(xpos(0) - w):(xpos(0) + w):(0):(val("guest_view_w")) \
     with boxxyerror lc rgb "#f28e2b" title "guest's own view", \
  in using (xpos(0) + 2*w):(0):(xpos(0) + w):(xpos(0) + 3*w):(0):(val("host_view_w")) \
     with boxxyerror lc rgb "#4e79a7" title "host's view (VMs only)", \
  in using (xpos(0) - 2*w):(val("true_w")):(sprintf("%.1f", val("true_w"))) \
     with labels offset 0,0.7 font ",9" notitle

unset label 1
unset label 2
unset label 3
unset arrow 1
set ylabel "throughput relative to\nrunning alone unconstrained"
set yrange [0:1.1]
set key inside right top box lc rgb "#bbbbbb" opaque
plot \
  in using (xpos(0)):(0):(xpos(0) - 1.5*w):(xpos(0) + 1.5*w):(0):(val("throughput_rel")):xtic(lbl(0)) \
     with boxxyerror lc rgb "#b07aa1" title "CPU time / duration", \
  in using (xpos(0)):(val("throughput_rel")):(sprintf("%.2f", val("throughput_rel"))) \
     with labels offset 0,0.7 font ",9" notitle
unset multiplot
