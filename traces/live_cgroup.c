/*
 * live_cgroup: theory of operation.
 *
 * Problem: an entity named by a cgroup path lives in several hierarchies
 * on hybrid hosts (here: perf_event on the cgroup2 mount, cpu, cpuacct and
 * blkio as v1 controllers), and enforcement must write the right file of
 * the right hierarchy, then leave the machine exactly as it found it.
 *
 * Strategy:
 *  - Mounts: /proc/self/mountinfo gives every cgroup (v1, with its
 *    controllers in the super options) and cgroup2 mount; a need (perf,
 *    cpu, cpuacct, io) goes to the v1 mount listing its controller, else
 *    to the v2 mount if its cgroup.controllers lists it (perf_event is
 *    implicit in v2; v2's cpu.stat always has usage_usec).
 *  - Entity directories: mount point + the hierarchy-relative path, for
 *    each need separately.
 *  - Enforcement: every change is an entry of a log (write with the
 *    value to restore, mkdir, attach of a pid with its former cgroup);
 *    lcg_restore() undoes the log newest first: values written back, pids
 *    moved back, created cgroups emptied (their tasks moved to the
 *    parent) and removed. Dry-run logs "would write" lines instead.
 *  - Files: v2 cpu.max "QUOTA PERIOD", cpu.weight, io.max "MAJ:MIN
 *    rbps=R wbps=W" ("max" for no limit); v1 cpu.cfs_quota_us (period
 *    read from cpu.cfs_period_us), cpu.shares (weight x 1024 / 100),
 *    blkio.throttle.read_bps_device / write_bps_device "MAJ:MIN BPS" (0
 *    removes the rule).
 *
 * Parameters: LCG_CPU_PERIOD_US (100 ms) when a v2 cpu.max has no period;
 * LCG_MIN_QUOTA_US (1 ms, the kernel's minimum quota).
 *
 * Limits: restore writes back what was read when the change was made;
 * someone else's change to the same file in between is overwritten.
 */
#include "traces/live_cgroup.h"
#include "traces/live_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LCG_MIN_QUOTA_US 1000
#define LCG_VAL_MAX 256
#define LCG_RMDIR_TRIES 50 /* x 10 ms: tasks leaving a cgroup take a moment */

static const char *const NEED_NAMES[LCG_N_NEEDS] = {"perf_event", "cpu", "cpuacct", "io"};
static const char *const V1_CTL[LCG_N_NEEDS] = {"perf_event", "cpu", "cpuacct", "blkio"};
static const char *const V2_CTL[LCG_N_NEEDS] = {"perf_event", "cpu", "cpu", "io"};

const char *lcg_need_name(int need)
{
	return need >= 0 && need < LCG_N_NEEDS ? NEED_NAMES[need] : "?";
}

static int has_token(const char *list, const char *tok, const char *seps)
{
	size_t n = strlen(tok);
	const char *p = list;
	while (*p) {
		size_t len = strcspn(p, seps);
		if (len == n && strncmp(p, tok, n) == 0)
			return 1;
		p += len;
		if (*p)
			p++;
	}
	return 0;
}

static int read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int lcg_mounts_scan(const char *mountinfo, const char *prefix, struct lcg_mounts *m,
		    struct jv_diag *d)
{
	memset(m, 0, sizeof *m);
	FILE *f = fopen(mountinfo, "r");
	if (!f)
		return jv_diag_set(d, JV_ENOENT, mountinfo, 0, "cannot open: %s", strerror(errno));
	char line[4096];
	while (fgets(line, sizeof line, f)) {
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char mnt[LCG_PATH_MAX], fstype[64], src[256], opts[1024];
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %255s %1023s", fstype, src, opts) != 3)
			continue;
		char full[LCG_PATH_MAX];
		if (lproc_pathf(full, sizeof full, "%s%s", prefix, mnt))
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && !m->v2[0]) {
			memcpy(m->v2, full, sizeof full);
		} else if (strcmp(fstype, "cgroup") == 0) {
			for (int k = 0; k < LCG_N_NEEDS; k++)
				if (!m->v1[k][0] && has_token(opts, V1_CTL[k], ","))
					memcpy(m->v1[k], full, sizeof full);
		}
	}
	fclose(f);
	if (m->v2[0]) {
		char path[LCG_PATH_MAX + 32], ctl[512] = "";
		lproc_pathf(path, sizeof path, "%s/cgroup.controllers", m->v2);
		read_small(path, ctl, sizeof ctl);
		for (int k = 0; k < LCG_N_NEEDS; k++) {
			if (m->v1[k][0])
				continue; /* a controller is in one hierarchy only */
			if (k == LCG_PERF || k == LCG_CPUACCT || has_token(ctl, V2_CTL[k], " "))
				m->v2_has[k] = 1;
		}
		if (m->v1[LCG_CPU][0] && !m->v1[LCG_CPUACCT][0])
			m->v2_has[LCG_CPUACCT] = 1; /* v2 cpu.stat usage_usec is core */
	}
	return 0;
}

int lcg_dir(const struct lcg_mounts *m, int need, const char *cgpath, char *out, size_t cap,
	    int *is_v2)
{
	out[0] = '\0';
	if (is_v2)
		*is_v2 = 0;
	if (need < 0 || need >= LCG_N_NEEDS)
		return -1;
	const char *base = m->v1[need][0] ? m->v1[need] : m->v2_has[need] ? m->v2 : "";
	if (!base[0])
		return -1;
	if (lproc_pathf(out, cap, "%s%s%s", base, cgpath[0] == '/' ? "" : "/", cgpath))
		return -1;
	size_t n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	struct stat st;
	if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
		out[0] = '\0';
		return -1;
	}
	if (is_v2)
		*is_v2 = !m->v1[need][0];
	return 0;
}

void lcg_normalize(const struct lcg_mounts *m, const char *arg, char *out, size_t cap)
{
	const char *mounts[LCG_N_NEEDS + 1];
	mounts[0] = m->v2;
	for (int k = 0; k < LCG_N_NEEDS; k++)
		mounts[k + 1] = m->v1[k];
	for (int i = 0; i <= LCG_N_NEEDS; i++) {
		size_t n = strlen(mounts[i]);
		if (n && strncmp(arg, mounts[i], n) == 0 && (arg[n] == '/' || arg[n] == '\0')) {
			lproc_pathf(out, cap, "%s", arg[n] ? arg + n : "/");
			return;
		}
	}
	lproc_pathf(out, cap, "%s%s", arg[0] == '/' ? "" : "/", arg);
}

/* "machine-qemu\x2d1\x2dweb.scope" -> "web" */
static void scope_vm_name(const char *scope, char *out, size_t cap)
{
	char un[256];
	size_t k = 0;
	for (const char *p = scope; *p && k + 1 < sizeof un; p++) {
		if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
			char hex[3] = {p[2], p[3], 0};
			un[k++] = (char)strtol(hex, NULL, 16);
			p += 3;
		} else {
			un[k++] = *p;
		}
	}
	un[k] = '\0';
	char *s = un;
	if (strncmp(s, "machine-qemu-", 13) == 0) {
		s += 13;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == '-')
			s++;
	} else if (strncmp(s, "machine-", 8) == 0) {
		s += 8;
	}
	char *dot = strstr(s, ".scope");
	if (dot)
		*dot = '\0';
	size_t j = 0;
	for (; *s && j + 1 < cap && j < 63; s++) {
		char c = *s;
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		out[j++] = ok ? c : '_';
	}
	out[j] = '\0';
	if (!j)
		lproc_pathf(out, cap, "vm");
}

int lcg_find_vms(const struct lcg_mounts *m, char (*paths)[LCG_PATH_MAX], char (*names)[64],
		 int cap)
{
	static const int needs[] = {LCG_PERF, LCG_CPU, LCG_CPUACCT};
	for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++) {
		char dir[LCG_PATH_MAX];
		if (lcg_dir(m, needs[i], "/machine.slice", dir, sizeof dir, NULL))
			continue;
		DIR *dd = opendir(dir);
		if (!dd)
			continue;
		int n = 0;
		struct dirent *de;
		while ((de = readdir(dd)) && n < cap) {
			size_t len = strlen(de->d_name);
			if (strncmp(de->d_name, "machine-qemu", 12) != 0 || len < 6 ||
			    strcmp(de->d_name + len - 6, ".scope") != 0)
				continue;
			lproc_pathf(paths[n], LCG_PATH_MAX, "/machine.slice/%s", de->d_name);
			scope_vm_name(de->d_name, names[n], 64);
			n++;
		}
		closedir(dd);
		return n;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* enforcement log                                                          */

enum op_kind { OP_WRITE, OP_MKDIR, OP_ATTACH };

struct lcg_op {
	int kind;
	char path[LCG_PATH_MAX];    /* file written / dir created / dir attached to */
	char restore[LCG_PATH_MAX]; /* value to write back / former cgroup dir */
	pid_t pid;
	int done;
};

struct lcg_enf {
	int dry_run;
	FILE *log;
	struct lcg_op *op;
	int n, cap;
	int writes;
};

int lcg_enf_new(int dry_run, FILE *log, struct lcg_enf **out)
{
	struct lcg_enf *e = calloc(1, sizeof *e);
	if (!e)
		return JV_ENOMEM;
	e->dry_run = dry_run;
	e->log = log;
	*out = e;
	return 0;
}

int lcg_n_writes(const struct lcg_enf *e)
{
	return e->writes;
}

static struct lcg_op *op_add(struct lcg_enf *e, int kind, const char *path)
{
	if (e->n == e->cap) {
		int cap = e->cap ? 2 * e->cap : 16;
		struct lcg_op *n = realloc(e->op, (size_t)cap * sizeof *n);
		if (!n)
			return NULL;
		e->op = n;
		e->cap = cap;
	}
	struct lcg_op *o = &e->op[e->n++];
	memset(o, 0, sizeof *o);
	o->kind = kind;
	lproc_pathf(o->path, sizeof o->path, "%s", path);
	return o;
}

static FILE *logf_(const struct lcg_enf *e)
{
	return e->log ? e->log : stderr;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = strlen(val);
	ssize_t w = write(fd, val, n);
	int e = errno;
	if (close(fd) != 0 && w == (ssize_t)n)
		return -errno;
	if (w != (ssize_t)n)
		return w < 0 ? -e : -EIO;
	return 0;
}

/* Write val to path, remembering restore (NULL: the file's current content). */
static int enf_write(struct lcg_enf *e, const char *path, const char *val, const char *restore,
		     struct jv_diag *d)
{
	e->writes++;
	if (e->dry_run) {
		fprintf(logf_(e), "joulevisor: dry-run: would write '%s' to %s\n", val, path);
		return 0;
	}
	char old[LCG_VAL_MAX] = "";
	if (!restore) {
		int rc = read_small(path, old, sizeof old);
		if (rc)
			return jv_diag_set(d, JV_EIO, path, 0, "cannot read before changing it: %s",
					   strerror(-rc));
		restore = old;
	}
	struct lcg_op *o = op_add(e, OP_WRITE, path);
	if (!o)
		return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	lproc_pathf(o->restore, sizeof o->restore, "%s", restore);
	int rc = write_file(path, val);
	if (rc) {
		e->n--; /* nothing changed */
		return jv_diag_set(d, JV_EIO, path, 0, "cannot write '%s': %s", val, strerror(-rc));
	}
	return 0;
}

int lcg_create(struct lcg_enf *e, const struct lcg_mounts *m, const char *cgpath,
	       struct jv_diag *d)
{
	const char *done[LCG_N_NEEDS + 1];
	int nd = 0;
	for (int k = 0; k < LCG_N_NEEDS; k++) {
		const char *base = m->v1[k][0] ? m->v1[k] : m->v2_has[k] ? m->v2 : "";
		int dup = !base[0];
		for (int i = 0; i < nd && !dup; i++)
			dup = strcmp(done[i], base) == 0;
		if (dup)
			continue;
		done[nd++] = base;
		char dir[LCG_PATH_MAX];
		if (lproc_pathf(dir, sizeof dir, "%s%s", base, cgpath))
			return jv_diag_set(d, JV_ELIMIT, base, 0, "cgroup path too long");
		if (e->dry_run) {
			fprintf(logf_(e), "joulevisor: dry-run: would create cgroup %s\n", dir);
			continue;
		}
		if (mkdir(dir, 0755) != 0)
			return jv_diag_set(d, errno == EEXIST ? JV_EEXIST : JV_EIO, dir, 0,
					   "cannot create the cgroup: %s", strerror(errno));
		if (!op_add(e, OP_MKDIR, dir))
			return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
	}
	return 0;
}

/* The pid's cgroup in the hierarchy mounted at base, as a directory. */
static int pid_cgroup_dir(const struct lcg_mounts *m, int need, pid_t pid,
			  const char *proc_root, char *out, size_t cap)
{
	char path[LCG_PATH_MAX], line[LCG_PATH_MAX + 64];
	lproc_pathf(path, sizeof path, "%s/%d/cgroup", proc_root, (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int found = -1;
	int v2 = !m->v1[need][0];
	while (found && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctls = c1 + 1, *cg = c2 + 1;
		int match = v2 ? (strncmp(line, "0", 1) == 0 && !*ctls)
			       : has_token(ctls, V1_CTL[need], ",");
		if (match)
			found = lproc_pathf(out, cap, "%s%s", v2 ? m->v2 : m->v1[need],
				      strcmp(cg, "/") ? cg : "");
	}
	fclose(f);
	return found;
}

int lcg_attach(struct lcg_enf *e, const struct lcg_mounts *m, const char *cgpath, pid_t pid,
	       const char *proc_root, struct jv_diag *d)
{
	const char *done[LCG_N_NEEDS + 1];
	int nd = 0;
	for (int k = 0; k < LCG_N_NEEDS; k++) {
		const char *base = m->v1[k][0] ? m->v1[k] : m->v2_has[k] ? m->v2 : "";
		int dup = !base[0];
		for (int i = 0; i < nd && !dup; i++)
			dup = strcmp(done[i], base) == 0;
		if (dup)
			continue;
		done[nd++] = base;
		char dir[LCG_PATH_MAX], procs[LCG_PATH_MAX + 32], pidbuf[32];
		lproc_pathf(dir, sizeof dir, "%s%s", base, cgpath);
		lproc_pathf(procs, sizeof procs, "%s/cgroup.procs", dir);
		snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
		if (e->dry_run) {
			fprintf(logf_(e), "joulevisor: dry-run: would move pid %d into %s\n",
				(int)pid, dir);
			continue;
		}
		char former[LCG_PATH_MAX];
		if (pid_cgroup_dir(m, k, pid, proc_root, former, sizeof former))
			lproc_pathf(former, sizeof former, "%s", base);
		struct lcg_op *o = op_add(e, OP_ATTACH, dir);
		if (!o)
			return jv_diag_set(d, JV_ENOMEM, NULL, 0, "out of memory");
		o->pid = pid;
		lproc_pathf(o->restore, sizeof o->restore, "%s", former);
		int rc = write_file(procs, pidbuf);
		if (rc) {
			e->n--;
			return jv_diag_set(d, JV_EIO, procs, 0, "cannot move pid %d: %s", (int)pid,
					   strerror(-rc));
		}
	}
	return 0;
}

int lcg_set_cpu(struct lcg_enf *e, const char *dir, int is_v2, double cpus, unsigned weight,
		struct jv_diag *d)
{
	char path[LCG_PATH_MAX + 32], val[LCG_VAL_MAX], cur[LCG_VAL_MAX];
	int rc = 0;
	if (cpus > 0) {
		long long period = LCG_CPU_PERIOD_US;
		if (is_v2) {
			lproc_pathf(path, sizeof path, "%s/cpu.max", dir);
			long long p2;
			if (read_small(path, cur, sizeof cur) == 0 &&
			    sscanf(cur, "%*s %lld", &p2) == 1 && p2 > 0)
				period = p2;
		} else {
			lproc_pathf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
			long long p1;
			if (read_small(path, cur, sizeof cur) == 0 && sscanf(cur, "%lld", &p1) == 1 &&
			    p1 > 0)
				period = p1;
			lproc_pathf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
		}
		long long quota = (long long)(cpus * (double)period + 0.5);
		if (quota < LCG_MIN_QUOTA_US)
			quota = LCG_MIN_QUOTA_US;
		if (is_v2)
			snprintf(val, sizeof val, "%lld %lld", quota, period);
		else
			snprintf(val, sizeof val, "%lld", quota);
		rc = enf_write(e, path, val, NULL, d);
	}
	if (!rc && weight > 0) {
		if (weight > 10000)
			weight = 10000;
		if (is_v2) {
			lproc_pathf(path, sizeof path, "%s/cpu.weight", dir);
			snprintf(val, sizeof val, "%u", weight);
		} else {
			lproc_pathf(path, sizeof path, "%s/cpu.shares", dir);
			unsigned long shares = (unsigned long)weight * 1024UL / 100UL;
			snprintf(val, sizeof val, "%lu", shares < 2 ? 2UL : shares);
		}
		rc = enf_write(e, path, val, NULL, d);
	}
	return rc;
}

/* The current limit of maj:min in a v1 throttle file ("0" if none) or the
 * current rbps/wbps of a v2 io.max line ("max" if none). */
static void io_current(const char *path, unsigned maj, unsigned min, const char *key,
		       char *out, size_t cap)
{
	char buf[4096];
	lproc_pathf(out, cap, "%s", key ? "max" : "0");
	if (read_small(path, buf, sizeof buf))
		return;
	char *save = NULL;
	for (char *ln = strtok_r(buf, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		unsigned a, b;
		int off = 0;
		if (sscanf(ln, "%u:%u%n", &a, &b, &off) != 2 || a != maj || b != min)
			continue;
		if (!key) {
			char v[64];
			if (sscanf(ln + off, "%63s", v) == 1)
				lproc_pathf(out, cap, "%s", v);
			return;
		}
		char *p = strstr(ln + off, key);
		char v[64];
		if (p && sscanf(p + strlen(key), "%63s", v) == 1)
			lproc_pathf(out, cap, "%s", v);
		return;
	}
}

int lcg_set_io(struct lcg_enf *e, const char *dir, int is_v2, unsigned maj, unsigned min,
	       uint64_t rbps, uint64_t wbps, struct jv_diag *d)
{
	char path[LCG_PATH_MAX + 48], val[LCG_VAL_MAX], restore[LCG_VAL_MAX];
	if (!rbps && !wbps)
		return 0;
	if (is_v2) {
		char r[64], w[64], oldr[64], oldw[64];
		lproc_pathf(path, sizeof path, "%s/io.max", dir);
		io_current(path, maj, min, "rbps=", oldr, sizeof oldr);
		io_current(path, maj, min, "wbps=", oldw, sizeof oldw);
		if (rbps)
			snprintf(r, sizeof r, "%llu", (unsigned long long)rbps);
		else
			snprintf(r, sizeof r, "%s", oldr);
		if (wbps)
			snprintf(w, sizeof w, "%llu", (unsigned long long)wbps);
		else
			snprintf(w, sizeof w, "%s", oldw);
		snprintf(val, sizeof val, "%u:%u rbps=%s wbps=%s", maj, min, r, w);
		snprintf(restore, sizeof restore, "%u:%u rbps=%s wbps=%s", maj, min, oldr, oldw);
		return enf_write(e, path, val, restore, d);
	}
	static const char *const files[2] = {"blkio.throttle.read_bps_device",
					     "blkio.throttle.write_bps_device"};
	uint64_t lim[2] = {rbps, wbps};
	for (int k = 0; k < 2; k++) {
		if (!lim[k])
			continue;
		char old[64];
		lproc_pathf(path, sizeof path, "%s/%s", dir, files[k]);
		io_current(path, maj, min, NULL, old, sizeof old);
		snprintf(val, sizeof val, "%u:%u %llu", maj, min, (unsigned long long)lim[k]);
		snprintf(restore, sizeof restore, "%u:%u %s", maj, min, old);
		int rc = enf_write(e, path, val, restore, d);
		if (rc)
			return rc;
	}
	return 0;
}

/* Move every task of dir to to_dir; returns how many were moved. */
static int move_tasks(const char *dir, const char *to_dir)
{
	char path[LCG_PATH_MAX + 32], to[LCG_PATH_MAX + 32];
	lproc_pathf(path, sizeof path, "%s/cgroup.procs", dir);
	lproc_pathf(to, sizeof to, "%s/cgroup.procs", to_dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = 0;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1) {
		char buf[32];
		snprintf(buf, sizeof buf, "%ld", pid);
		if (write_file(to, buf) == 0)
			n++;
	}
	fclose(f);
	return n;
}

static int rm_cgroup(const char *dir)
{
	char parent[LCG_PATH_MAX];
	lproc_pathf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	for (int i = 0; i < LCG_RMDIR_TRIES; i++) {
		move_tasks(dir, parent);
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return -EBUSY;
}

int lcg_restore(struct lcg_enf *e, struct jv_diag *d)
{
	int first = 0;
	if (!e)
		return 0;
	for (int i = e->n - 1; i >= 0; i--) {
		struct lcg_op *o = &e->op[i];
		if (o->done)
			continue;
		o->done = 1;
		int rc = 0;
		if (o->kind == OP_WRITE) {
			rc = write_file(o->path, o->restore);
			if (rc && !first)
				first = jv_diag_set(d, JV_EIO, o->path, 0, "cannot restore '%s': %s",
						    o->restore, strerror(-rc));
		} else if (o->kind == OP_ATTACH) {
			char procs[LCG_PATH_MAX + 32], pidbuf[32];
			lproc_pathf(procs, sizeof procs, "%s/cgroup.procs", o->restore);
			snprintf(pidbuf, sizeof pidbuf, "%d", (int)o->pid);
			rc = write_file(procs, pidbuf);
			if (rc && rc != -ESRCH && !first && kill(o->pid, 0) == 0)
				first = jv_diag_set(d, JV_EIO, procs, 0, "cannot move pid %d back: %s",
						    (int)o->pid, strerror(-rc));
		} else {
			rc = rm_cgroup(o->path);
			if (rc && !first)
				first = jv_diag_set(d, JV_EIO, o->path, 0,
						    "cannot remove the cgroup: %s", strerror(-rc));
		}
	}
	return first;
}

void lcg_enf_free(struct lcg_enf *e)
{
	if (!e)
		return;
	free(e->op);
	free(e);
}
