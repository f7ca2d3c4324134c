/*
 * reproduce: `joulevisor reproduce [fig5|fig7|fig8|fig9|all] [-o DIR] [-j N]
 * [--quick]`: run the bundled scenarios of the paper's figures, write one
 * CSV per figure (columns in docs/FORMATS.md), render them with gnuplot and
 * write DIR/report.md, the paper's numbers against the tool's.
 */
#ifndef JV_REPRODUCE_H
#define JV_REPRODUCE_H

#include <stdio.h>

enum repro_fig_bit {
	REPRO_FIG5 = 1u << 0,
	REPRO_FIG7 = 1u << 1,
	REPRO_FIG8 = 1u << 2,
	REPRO_FIG9 = 1u << 3,
	REPRO_ALL = REPRO_FIG5 | REPRO_FIG7 | REPRO_FIG8 | REPRO_FIG9,
};

struct repro_opts {
	unsigned figs;            /* REPRO_* bits; 0: all */
	const char *out_dir;      /* NULL: out/reproduce */
	const char *scenario_dir; /* NULL: the bundled scenarios */
	int jobs;                 /* worker processes; <= 0: online CPUs */
	int quick;                /* shorter runs (same checks) */
	int no_run;               /* reuse the runs already in DIR/runs */
	int progress;             /* 1: progress on err; 0: none; -1: when err is a terminal */
};

/* Returns a process exit code: 0 every check within tolerance; 1 a run
 * failed, a check is out of tolerance, gnuplot failed or a write failed;
 * 2 usage or missing inputs. */
int repro_main(const struct repro_opts *o, FILE *out, FILE *err);

/* The CLI: parses argv (argv[0] = "reproduce") and calls repro_main. */
int repro_cli(int argc, char **argv, FILE *out, FILE *err);

#endif
