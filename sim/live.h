/*
 * live: `joulevisor live`: feed the accounting core from the running Linux
 * machine (design §1 mode 3), record native traces for replay, show a live
 * table, export Prometheus metrics, and optionally enforce limits through
 * cgroups. docs/LIVE.md describes the command; sim/live.c its operation.
 */
#ifndef JV_LIVE_H
#define JV_LIVE_H

#include <stdio.h>

/* argv[0] is "live". Returns the process exit code (0; 1 runtime failure,
 * e.g. no CPU-time source; 2 usage or input error; 130/143 after SIGINT or
 * SIGTERM, once everything was restored and the recording accounted). */
int live_main(int argc, char **argv, FILE *out, FILE *err, const char *cmdline);

/* `joulevisor help live` / `live --help`. */
void live_usage(FILE *f);

#endif
