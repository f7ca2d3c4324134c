/*
 * live_proc: block I/O and CPU statistics of the live machine from /proc,
 * /sys and cgroup files (design §7: aggregate statistics that become
 * `blk-interval` records).
 *
 * Every function takes the root it reads (proc_root "/proc", sys_root
 * "/sys", or a cgroup directory) so tests run on fixture trees. Values are
 * cumulative counters as the kernel keeps them; callers take differences.
 */
#ifndef JV_LIVE_PROC_H
#define JV_LIVE_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/jv_err.h"

#define LPROC_NAME_MAX 32
#define LPROC_MAX_DISKS 16 /* as SCN_MAX_DISKS */
#define LPROC_SECTOR_B 512 /* /proc/diskstats sectors are 512 bytes */

/* One line of /proc/diskstats. */
struct lproc_disk {
	char name[LPROC_NAME_MAX];
	unsigned maj, min;
	uint64_t reads, writes;   /* completed requests */
	uint64_t read_b, write_b; /* sectors x 512 */
	uint64_t io_ms;           /* time spent doing I/O */
};

/* Whole, physical disks of proc_root/diskstats (those with a directory
 * sys_root/block/NAME, except loop, ram, zram, nbd and dm devices), in the
 * file's order, at most cap. *n is their number. */
int lproc_disks(const char *proc_root, const char *sys_root, struct lproc_disk *out, int cap,
		int *n, struct jv_diag *d);
/* Every line of a diskstats file (no filtering). */
int lproc_diskstats(const char *path, struct lproc_disk *out, int cap, int *n,
		    struct jv_diag *d);

/* proc_root/PID/io: storage-layer bytes of the process (its threads and
 * reaped children). */
struct lproc_io {
	uint64_t rchar, wchar, syscr, syscw, read_b, write_b, cancelled_write_b;
};
int lproc_pid_io(const char *proc_root, pid_t pid, struct lproc_io *out, struct jv_diag *d);

/* Per-device I/O of a cgroup. */
struct lproc_devio {
	unsigned maj, min;
	uint64_t read_b, write_b, reads, writes;
};
/* cgroup v2 DIR/io.stat ("MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.."). */
int lproc_cgroup_io_v2(const char *dir, struct lproc_devio *out, int cap, int *n,
		       struct jv_diag *d);
/* cgroup v1 DIR/blkio.throttle.io_service_bytes_recursive and
 * io_serviced_recursive ("MAJ:MIN Read N" lines); falls back to the
 * non-recursive files. The v1 throttle statistics count only devices that
 * have a throttle rule in the cgroup. */
int lproc_cgroup_io_v1(const char *dir, struct lproc_devio *out, int cap, int *n,
		       struct jv_diag *d);
/* CPU time of a cgroup, ns: v1 DIR/cpuacct.usage, v2 DIR/cpu.stat
 * usage_usec x 1000. */
int lproc_cgroup_cpu_ns(const char *dir, int v2, uint64_t *ns, struct jv_diag *d);
/* Online CPUs from sys_root/devices/system/cpu/online ("0-3,6"). */
int lproc_online_cpus(const char *sys_root, int *cpus, int cap, int *n, struct jv_diag *d);
/* CPU time of a process from proc_root/PID/stat: utime + stime of its
 * threads plus cutime + cstime of its reaped children, ns (clock-tick
 * resolution: the fallback when perf_event_open is unavailable). */
int lproc_pid_cpu_ns(const char *proc_root, pid_t pid, uint64_t *ns, struct jv_diag *d);
/* snprintf for paths under the roots; returns -1 (and an empty string)
 * when cut (also used by live_energy.c). */
int lproc_pathf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A pid's command name (proc_root/PID/comm), "" if unknown. */
void lproc_comm(const char *proc_root, pid_t pid, char *buf, size_t cap);

#endif
