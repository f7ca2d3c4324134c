/*
 * live_energy: the machine's measured energy, where it has a meter:
 * perf's `power` PMU (energy-pkg, energy-cores, energy-ram, ...), else
 * the powercap `intel-rapl` zones, else none ("measured energy
 * unavailable: REASON"). Used to show measured package power beside the
 * accounting; live mode works without it.
 */
#ifndef JV_LIVE_ENERGY_H
#define JV_LIVE_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#include "base/jv_err.h"

#define LENERGY_MAX_DOMAINS 16
#define LENERGY_REASON_MAX 256

struct lenergy;

/* Open the first source that works under sys_root ("/sys"). On failure
 * returns JV_ENOENT and writes why into reason (e.g. "no perf power PMU
 * (sys/bus/event_source/devices/power absent) and no powercap intel-rapl
 * zone (sys/class/powercap absent)"). */
int lenergy_open(const char *sys_root, struct lenergy **out, char *reason, size_t cap);
/* "perf power PMU" or "powercap intel-rapl". */
const char *lenergy_source(const struct lenergy *e);
int lenergy_n_domains(const struct lenergy *e);
const char *lenergy_domain_name(const struct lenergy *e, int i); /* "package-0", "pkg" */
/* Energy per domain since open, joules (powercap counters that wrapped
 * around max_energy_range_uj are unwrapped; read at least once per wrap
 * period, minutes at package power). */
int lenergy_read(struct lenergy *e, double *joules, struct jv_diag *d);
void lenergy_close(struct lenergy *e);

/* The wrap-around step on its own: energy between two readings of a
 * counter that wraps after max_uj (prev, cur, max in microjoules). */
uint64_t lenergy_delta_uj(uint64_t prev, uint64_t cur, uint64_t max_uj);

#endif
