# fig5.gp: Figure 5 of Stoess et al. 2007 from `joulevisor reproduce` (fig5.csv):
# the disk driver VM's matrix of virtual-to-physical transactions (idle +
# active power per client and physical device, as the driver reports it) and,
# beside it, the driver VM's CPU in two views: the sum the driver reports over
# its clients and the hypervisor's own view (the paper's 6 + 12 W).
#   gnuplot -e "in='fig5.csv'; out='fig5.png'" plots/fig5.gp     (.svg: SVG)
if (!exists("in")) in = 'fig5.csv'
if (!exists("out")) out = 'fig5.png'
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

is_drv(x) = strcol("view") eq "driver"
is_cpu(x) = strcol("device")[1:3] eq "cpu"
# the driver's CPU, summed over its clients (its own classification)
stats in using (is_drv(0) && is_cpu(0) ? column("idle_w") : NaN) nooutput
drv_idle = STATS_sum
stats in using (is_drv(0) && is_cpu(0) ? column("active_w") : NaN) nooutput
drv_active = STATS_sum

# positions (fig5.csv lists the driver's rows by device, disk first, then the
# hypervisor's row): the disk's clients, a gap, the CPU's clients, a gap, the
# two views of the driver VM's CPU
stats in using (is_drv(0) && !is_cpu(0) ? 1 : NaN) nooutput
n_disk = STATS_records
stats in using (is_drv(0) && is_cpu(0) ? 1 : NaN) nooutput
n_cpu = STATS_records
gap = 0.8
x_cpu0 = n_disk + gap
x_views = x_cpu0 + n_cpu + gap
xpos(x) = !is_drv(0) ? x_views + 1 : (is_cpu(0) ? $0 + gap : $0)
hw = 0.32

set title "Figure 5: recursive accounting - what the disk driver VM reports per client and device"
set ylabel "mean power (W)"
set yrange [0:*]
set xrange [-0.7:x_views + 1.7]
set grid ytics lc rgb "#dddddd"
set key inside left top vertical Left reverse noautotitle samplen 1.5 spacing 1.2
set style fill solid 0.9 border lc rgb "#444444"
set tics nomirror
set border 3
set xtics scale 0
set bmargin 6
set label 1 "disk" at (n_disk - 1) / 2.0, graph -0.14 center font ",12"
set label 2 "CPU (driver VM)" at x_cpu0 + (n_cpu - 1) / 2.0, graph -0.14 center font ",12"
set label 3 "the driver VM's CPU in two views" at x_views + 0.5, graph -0.14 center font ",12"
set object 1 rect from x_views - hw, 0 to x_views + hw, drv_idle fc rgb "#f1ce63" fs solid 0.9 border lc rgb "#444444" behind
set object 2 rect from x_views - hw, drv_idle to x_views + hw, drv_idle + drv_active fc rgb "#f28e2b" fs solid 0.9 border lc rgb "#444444" behind
set label 4 sprintf("%.3g + %.3g W", drv_idle, drv_active) at x_views, drv_idle + drv_active center offset 0,0.8
set xtics ("driver's report\n(sum over clients)" x_views)
lbl(x) = is_drv(0) ? strcol("consumer") : "hypervisor's\nown view"

plot \
  in using (xpos(0)):(0):(xpos(0)-hw):(xpos(0)+hw):(0):(column("idle_w")):xtic(lbl(0)) \
     with boxxyerror lc rgb "#f1ce63" title "idle", \
  in using (xpos(0)):(0):(xpos(0)-hw):(xpos(0)+hw):(column("idle_w")):(column("idle_w") + column("active_w")) \
     with boxxyerror lc rgb "#f28e2b" title "active", \
  in using (xpos(0)):(column("idle_w") + column("active_w")):(sprintf("%.3g + %.3g W", column("idle_w"), column("active_w"))) \
     with labels offset 0,0.8 notitle
