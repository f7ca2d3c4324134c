/*
 * live_cgroup: cgroup hierarchies of the live machine, resolving an
 * entity's directories, creating and removing joulevisor's own cgroups,
 * and the enforcement writes (cpu and io limits) with save and restore.
 *
 * On hybrid hosts one entity has several directories: perf_event may be
 * bound to the cgroup2 mount while cpu, cpuacct and blkio are cgroup v1
 * controllers; each need is resolved in the hierarchy that owns it.
 */
#ifndef JV_LIVE_CGROUP_H
#define JV_LIVE_CGROUP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/jv_err.h"

#define LCG_PATH_MAX 1024

/* What an entity needs a directory for. */
enum lcg_need {
	LCG_PERF = 0, /* perf_event: counting by cgroup */
	LCG_CPU,      /* cpu: quota and weight (enforcement) */
	LCG_CPUACCT,  /* CPU usage statistics (v1 cpuacct, v2 cpu.stat) */
	LCG_IO,       /* blkio (v1) / io (v2): statistics and limits */
	LCG_N_NEEDS
};

const char *lcg_need_name(int need); /* "perf_event", "cpu", "cpuacct", "io" */

struct lcg_mounts {
	char v2[LCG_PATH_MAX];          /* cgroup2 mount point, "" if none */
	char v1[LCG_N_NEEDS][LCG_PATH_MAX]; /* v1 mount owning the need, "" if none */
	int v2_has[LCG_N_NEEDS];        /* the need is served by the cgroup2 mount */
};

/* Scan a mountinfo file (/proc/self/mountinfo). prefix is prepended to
 * every mount point (fixture trees; "" for the real machine). A need is
 * served by v1 when a v1 mount lists the controller, else by v2 when the
 * v2 mount's cgroup.controllers lists it (perf_event: whenever no v1
 * mount has it; v2 `cpu` serves both LCG_CPU and LCG_CPUACCT). */
int lcg_mounts_scan(const char *mountinfo, const char *prefix, struct lcg_mounts *m,
		    struct jv_diag *d);
/* Directory serving need for the cgroup path (relative to the hierarchy
 * roots, e.g. "/machine.slice/x"), "" if no hierarchy serves it or the
 * directory does not exist. *is_v2 tells which kind it is. */
int lcg_dir(const struct lcg_mounts *m, int need, const char *cgpath, char *out, size_t cap,
	    int *is_v2);
/* The cgroup path of an argument: a path under one of the mounts (its
 * mount prefix is stripped) or a hierarchy-relative path ("/a/b", "a/b"). */
void lcg_normalize(const struct lcg_mounts *m, const char *arg, char *out, size_t cap);
/* libvirt/QEMU scopes: names of machine-qemu*.scope directories under
 * machine.slice of the perf or cpu hierarchy. Writes up to cap paths
 * (hierarchy-relative) and VM names; returns their number. */
int lcg_find_vms(const struct lcg_mounts *m, char (*paths)[LCG_PATH_MAX], char (*names)[64],
		 int cap);

/* Save/restore log of every file enforcement or cgroup creation changed. */
struct lcg_enf;
/* dry_run: log the writes to log instead of doing them (log may be NULL:
 * stderr). */
int lcg_enf_new(int dry_run, FILE *log, struct lcg_enf **out);
/* Create cgroup path (hierarchy-relative) in every hierarchy that serves a
 * need; remembered for removal. */
int lcg_create(struct lcg_enf *e, const struct lcg_mounts *m, const char *cgpath,
	       struct jv_diag *d);
/* Move pid into cgpath in each hierarchy where the directory exists; the
 * pid's previous cgroups are remembered and restored by lcg_restore(). */
int lcg_attach(struct lcg_enf *e, const struct lcg_mounts *m, const char *cgpath, pid_t pid,
	       const char *proc_root, struct jv_diag *d);
/* CPU limit: quota in CPUs (0 < cpus; <= 0 means none) and a weight
 * (1..10000 as cgroup v2 cpu.weight, 0 leaves it), written as v2 cpu.max
 * "QUOTA PERIOD" / cpu.weight or v1 cpu.cfs_quota_us (with
 * cpu.cfs_period_us) / cpu.shares (weight x 1024 / 100). */
int lcg_set_cpu(struct lcg_enf *e, const char *dir, int is_v2, double cpus, unsigned weight,
		struct jv_diag *d);
/* Disk limit on device maj:min in bytes per second (0: none) for reads
 * and writes: v2 io.max "MAJ:MIN rbps=R wbps=W", v1 blkio.throttle.
 * read_bps_device / write_bps_device "MAJ:MIN BPS". */
int lcg_set_io(struct lcg_enf *e, const char *dir, int is_v2, unsigned maj, unsigned min,
	       uint64_t rbps, uint64_t wbps, struct jv_diag *d);
/* Undo everything, newest first: saved values written back, pids moved
 * back, created cgroups emptied and removed. Safe to call more than once,
 * and from a signal path's normal flow. Returns the first error. */
int lcg_restore(struct lcg_enf *e, struct jv_diag *d);
/* Number of writes done (or logged in dry-run) so far. */
int lcg_n_writes(const struct lcg_enf *e);
void lcg_enf_free(struct lcg_enf *e);

#define LCG_CPU_PERIOD_US 100000 /* cfs period used for quotas (100 ms) */

#endif
