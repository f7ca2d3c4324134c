# run_matrix.gp: `joulevisor plot`: the accounted matrix of a run (matrix.csv):
# idle and active mean power stacked for every consumer, device and via.
#   gnuplot -e "in='RUN/matrix.csv'; out='matrix.png'; dur_s=10" plots/run_matrix.gp
if (!exists("in")) in = 'matrix.csv'
if (!exists("out")) out = 'matrix.png'
if (!exists("dur_s")) dur_s = 1
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

stats in using 0 nooutput
n = STATS_records
idle(x) = column("idle_j") / dur_s
act(x) = column("active_j") / dur_s
lbl(x) = strcol("consumer")."\n".strcol("device").(strcol("via") eq "direct" ? "" : "\nvia ".strcol("via"))
hw = 0.32

set title sprintf("accounted energy matrix: mean power over the run (%g s)", dur_s)
set ylabel "mean power (W)"
set xrange [-0.6:n - 0.4]
set grid ytics lc rgb "#dddddd"
set tics nomirror
set border 3
set xtics scale 0 font ",9"
set key inside right top Left reverse noautotitle samplen 1.5 box lc rgb "#bbbbbb" opaque
set style fill solid 0.9 border lc rgb "#444444"
set bmargin 6
plot \
  in using 0:(0):($0 - hw):($0 + hw):(0):(idle(0)):xtic(lbl(0)) with boxxyerror lc rgb "#f1ce63" title "idle", \
  in using 0:(0):($0 - hw):($0 + hw):(idle(0)):(idle(0) + act(0)) with boxxyerror lc rgb "#f28e2b" title "active", \
  in using 0:(idle(0) + act(0)):(sprintf("%.3g W", idle(0) + act(0))) with labels offset 0,0.7 font ",9" notitle
