/*
 * fmt_blktrace: reader of blktrace binary traces (per-CPU files written
 * by `blktrace -d DEV`, named DEV.blktrace.CPU, or one stream from
 * `blktrace -o -`).
 *
 * Problem: each CPU's file is a sequence of events, each a 48-byte
 * `struct blk_io_trace` followed by pdu_len payload bytes, written in the
 * host's byte order: u32 magic (0x65617400 | version 7), u32 sequence, u64
 * time (ns, kernel clock), u64 sector, u32 bytes, u32 action (low 16 bits
 * the action code, __BLK_TA_CGROUP = 0x100 flags a cgroup id at the start
 * of the payload; high 16 bits the category mask: read, write, flush,
 * sync, queue, ..., pass-through 0x200, notify 0x400, discard 0x2000),
 * u32 pid, u32 device (major << 20 | minor), u32 cpu, u16 error, u16
 * pdu_len. The files must be merged by time and turned into requests.
 *
 * Strategy: every input file has a buffered reader (the trace reader's
 * own for the file trc_open opened, 64 KiB ones for its siblings) and one
 * decoded look-ahead event; a binary min-heap of files ordered by
 * (look-ahead time, file index) yields the next event: a k-way merge in
 * O(files) memory. Byte order is detected per file from the first magic
 * (host or swapped) and must stay the same. Notify records (category
 * notify, action 0 = process) give pid -> command name (trc_blk_comm);
 * other notify records (timestamps, messages, cgroups) and the actions
 * other than Q (1), R (6), D (7), C (8) are checked and dropped. The
 * shared engine (fmt_blk.c) reorders within the window, attributes
 * requests (Q, else D, else C) and matches completions.
 *
 * Per-CPU files (the rule trc_open and this reader share, through
 * trc_blktrace_first()): a path P that names no file stands for the files
 * P.blktrace.N when P.blktrace.0 exists, else P.N when P.0 exists; a path
 * that names an existing file ending in ".blktrace.N" stands for it and its
 * siblings. The siblings are every existing BASE.N for N = 0 .. 1023
 * (gaps allowed); any other path (and "-") is one input. trc_open opens the
 * first non-empty sibling (so that probing sees data); this reader opens
 * the others and recognises that one by device and inode.
 *
 * Classification of an event: pass-through (category 0x200) -> skipped;
 * discard (0x2000) -> skipped; flush (0x4) without data -> skipped (a
 * flush that carries data is its read or write); write (0x2) -> write;
 * else bytes > 0 -> read; else no-data -> skipped. Skips are counted.
 *
 * Limits: pdu_len <= BT_PDU_MAX_B (4096, as blkparse's own pdu buffers);
 * time <= INT64_MAX ns; files <= TRC_MAX_CPUS; memory 64 KiB per sibling
 * file plus the engine's bounded tables. Positions in records and messages
 * are byte offsets within the event's own file ("FILE: byte offset N").
 */
#include "traces/fmt_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BT_MAGIC 0x65617400u
#define BT_MAGIC_MASK 0xffffff00u
#define BT_VERSION 7u
#define BT_HDR_B 48
#define BT_PDU_MAX_B 4096
#define BT_SIB_BUF_B (64 * 1024) /* read buffer per sibling file */
#define BT_SUFFIX ".blktrace."
#define BT_PATH_B 4096           /* PATH_MAX on Linux */
#define BT_SIB_PATH_B (BT_PATH_B + 8) /* BASE + ".1023" */

/* action: low 16 bits */
#define BT_TA_CODE_MASK 0xffu
#define BT_TA_CGROUP 0x100u
#define BT_CGROUP_PDU_B 8
#define BT_TA_QUEUE 1u
#define BT_TA_REQUEUE 6u
#define BT_TA_ISSUE 7u
#define BT_TA_COMPLETE 8u
#define BT_TN_PROCESS 0u
/* action: category mask, high 16 bits */
#define BT_TC_SHIFT 16
#define BT_TC_WRITE 0x2u
#define BT_TC_FLUSH 0x4u
#define BT_TC_PC 0x200u
#define BT_TC_NOTIFY 0x400u
#define BT_TC_DISCARD 0x2000u

/* Header field offsets in struct blk_io_trace. */
enum {
	OFF_MAGIC = 0, OFF_SEQ = 4, OFF_TIME = 8, OFF_SECTOR = 16,
	OFF_BYTES = 24, OFF_ACTION = 28, OFF_PID = 32, OFF_DEVICE = 36,
	OFF_CPU = 40, OFF_ERROR = 44, OFF_PDU_LEN = 46,
};

struct bt_file {
	char *name;            /* for messages */
	int fd;                /* owned, or -1 when reading through r->lines */
	struct trc_lines own;  /* buffer of an owned fd */
	struct trc_lines *in;
	int swap;              /* -1 unknown, 0 host order, 1 swapped */
	uint64_t off;          /* byte offset of the next unread event */
	struct blk_ev head;    /* look-ahead event */
	int live;              /* head is valid */
};

struct bt_src {
	int n;
	struct bt_file *f;
	int *heap;             /* file indices by (head.t, index) */
	int heap_n;
};

/* ---- per-CPU file names (shared with trc_open) -------------------------- */

static int is_file(const char *p, off_t *size)
{
	struct stat st;
	if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (size)
		*size = st.st_size;
	return 1;
}

/* BASE of path's per-CPU files into base (see the rule above): 1, or 0
 * when path is one input. */
static int bt_base(const char *path, char *base, size_t base_b)
{
	size_t n = strlen(path);
	char probe[BT_PATH_B];
	if (strcmp(path, "-") == 0 || n + sizeof BT_SUFFIX + 8 > BT_PATH_B ||
	    n >= base_b)
		return 0;
	if (is_file(path, NULL)) {
		size_t i = n;
		while (i > 0 && path[i - 1] >= '0' && path[i - 1] <= '9')
			i--;
		size_t sl = sizeof BT_SUFFIX - 1;
		if (i == n || i < sl + 1 || n - i > 4 ||
		    memcmp(path + i - sl, BT_SUFFIX, sl) != 0)
			return 0;
		memcpy(base, path, i - 1); /* without ".N" */
		base[i - 1] = '\0';
		return 1;
	}
	snprintf(probe, sizeof probe, "%s.blktrace.0", path);
	if (is_file(probe, NULL)) {
		snprintf(base, base_b, "%s.blktrace", path);
		return 1;
	}
	snprintf(probe, sizeof probe, "%s.0", path);
	if (is_file(probe, NULL)) {
		snprintf(base, base_b, "%s", path);
		return 1;
	}
	return 0;
}

const char *trc_blktrace_first(const char *path, char *out, size_t out_b)
{
	char base[BT_PATH_B];
	off_t size;
	if (!bt_base(path, base, sizeof base))
		return path;
	if (is_file(path, &size) && size > 0)
		return path;
	const char *first = NULL;
	for (int i = 0; i < TRC_MAX_CPUS; i++) {
		char p[BT_SIB_PATH_B];
		snprintf(p, sizeof p, "%s.%d", base, i);
		if (!is_file(p, &size))
			continue;
		if (size > 0 || !first) {
			if ((size_t)snprintf(out, out_b, "%s", p) >= out_b)
				return path;
			first = out;
		}
		if (size > 0)
			break;
	}
	return first ? first : path;
}

/* ---- decoding ------------------------------------------------------------ */

static uint32_t rd32(const unsigned char *p, int swap)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return swap ? __builtin_bswap32(v) : v;
}

static uint64_t rd64(const unsigned char *p, int swap)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return swap ? __builtin_bswap64(v) : v;
}

static uint16_t rd16(const unsigned char *p, int swap)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return swap ? __builtin_bswap16(v) : v;
}

static int bt_err(const struct bt_file *f, struct jv_diag *d, int err,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int bt_err(const struct bt_file *f, struct jv_diag *d, int err,
		  const char *fmt, ...)
{
	char msg[JV_DIAG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return jv_diag_set(d, err, f->name, 0, "byte offset %" PRIu64 ": %s",
			   f->off, msg);
}

/* Magic and version of the event at p; sets f->swap on the first one. */
static int check_magic(struct bt_file *f, const unsigned char *p,
		       struct jv_diag *d)
{
	uint32_t host = rd32(p, 0), sw = rd32(p, 1);
	int swap;
	if ((host & BT_MAGIC_MASK) == BT_MAGIC)
		swap = 0;
	else if ((sw & BT_MAGIC_MASK) == BT_MAGIC)
		swap = 1;
	else
		return bt_err(f, d, JV_EPARSE,
			      "bad magic 0x%08" PRIx32 ": not a blktrace event "
			      "(expected 0x%08x in either byte order)", host,
			      BT_MAGIC | BT_VERSION);
	if (f->swap >= 0 && swap != f->swap)
		return bt_err(f, d, JV_EPARSE,
			      "magic 0x%08" PRIx32 " changes the byte order "
			      "within the file", host);
	f->swap = swap;
	uint32_t ver = (swap ? sw : host) & ~BT_MAGIC_MASK;
	if (ver != BT_VERSION)
		return bt_err(f, d, JV_EPARSE,
			      "unsupported blktrace version %" PRIu32
			      " (supported: %u)", ver, BT_VERSION);
	return 0;
}

static int classify(uint32_t cat, uint32_t bytes)
{
	if (cat & BT_TC_PC)
		return BLK_OP_PC;
	if (cat & BT_TC_DISCARD)
		return BLK_OP_DISCARD;
	if ((cat & BT_TC_FLUSH) && bytes == 0)
		return BLK_OP_FLUSH;
	if (bytes == 0)
		return BLK_OP_NODATA;
	return cat & BT_TC_WRITE ? BLK_OP_WRITE : BLK_OP_READ;
}

static int notify(struct trc_reader *r, uint32_t action, uint32_t pid,
		  const unsigned char *pdu, size_t pdu_len)
{
	if ((action & BT_TA_CODE_MASK) != BT_TN_PROCESS)
		return 0; /* timestamp, message, cgroup notes */
	if (action & BT_TA_CGROUP) {
		if (pdu_len < BT_CGROUP_PDU_B)
			return 0;
		pdu += BT_CGROUP_PDU_B;
		pdu_len -= BT_CGROUP_PDU_B;
	}
	const unsigned char *z = memchr(pdu, '\0', pdu_len);
	return trc_blk_comm(r, pid, (const char *)pdu,
			    z ? (size_t)(z - pdu) : pdu_len);
}

/* Next Q/D/C/R event of f into f->head: 1, 0 at end, < 0. */
static int file_next(struct trc_reader *r, struct bt_file *f, int idx,
		     struct jv_diag *d)
{
	for (;;) {
		long got = trc_lines_fill(f->in, BT_HDR_B, d);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return 0;
		if (got < BT_HDR_B)
			return bt_err(f, d, JV_EPARSE,
				      "truncated event: %ld of %d header bytes",
				      got, BT_HDR_B);
		size_t n;
		const unsigned char *p =
			(const unsigned char *)trc_lines_peek(f->in, &n);
		int rc = check_magic(f, p, d);
		if (rc < 0)
			return rc;
		int sw = f->swap;
		uint16_t pdu_len = rd16(p + OFF_PDU_LEN, sw);
		if (pdu_len > BT_PDU_MAX_B)
			return bt_err(f, d, JV_ELIMIT,
				      "pdu_len %u too large (at most %d)",
				      pdu_len, BT_PDU_MAX_B);
		size_t ev_b = BT_HDR_B + (size_t)pdu_len;
		got = trc_lines_fill(f->in, ev_b, d);
		if (got < 0)
			return (int)got;
		if ((size_t)got < ev_b)
			return bt_err(f, d, JV_EPARSE,
				      "truncated event: pdu_len %u needs %zu "
				      "bytes, %ld present", pdu_len, ev_b, got);
		p = (const unsigned char *)trc_lines_peek(f->in, &n);
		uint64_t t = rd64(p + OFF_TIME, sw);
		uint32_t action = rd32(p + OFF_ACTION, sw);
		uint32_t cat = action >> BT_TC_SHIFT;
		uint32_t code = action & BT_TA_CODE_MASK;
		uint32_t pid = rd32(p + OFF_PID, sw);
		if (t > INT64_MAX)
			return bt_err(f, d, JV_ERANGE,
				      "time %" PRIu64 " ns out of range (max %"
				      PRId64 ")", t, INT64_MAX);
		int64_t pos = (int64_t)f->off;
		if (cat & BT_TC_NOTIFY) {
			rc = notify(r, action, pid, p + BT_HDR_B, pdu_len);
			if (rc < 0)
				return jv_diag_set(d, rc, f->name, 0,
						   "out of memory");
		}
		trc_lines_skip(f->in, ev_b);
		f->off += ev_b;
		int act = (cat & BT_TC_NOTIFY) ? -1
			  : code == BT_TA_QUEUE ? BLK_ACT_Q
			  : code == BT_TA_ISSUE ? BLK_ACT_D
			  : code == BT_TA_COMPLETE ? BLK_ACT_C
			  : code == BT_TA_REQUEUE ? BLK_ACT_R : -1;
		if (act < 0)
			continue;
		struct blk_ev *ev = &f->head;
		memset(ev, 0, sizeof *ev);
		ev->t = (int64_t)t;
		ev->sector = rd64(p + OFF_SECTOR, sw);
		ev->bytes = rd32(p + OFF_BYTES, sw);
		ev->pid = pid;
		ev->dev = rd32(p + OFF_DEVICE, sw);
		ev->pos = pos;
		ev->src = (uint16_t)idx;
		ev->act = (uint8_t)act;
		ev->op = (uint8_t)classify(cat, ev->bytes);
		return 1;
	}
}

/* ---- k-way merge --------------------------------------------------------- */

static int file_less(const struct bt_src *s, int a, int b)
{
	const struct blk_ev *x = &s->f[a].head, *y = &s->f[b].head;
	return x->t < y->t || (x->t == y->t && a < b);
}

static void merge_down(struct bt_src *s, int i)
{
	int x = s->heap[i];
	for (;;) {
		int c = 2 * i + 1;
		if (c >= s->heap_n)
			break;
		if (c + 1 < s->heap_n && file_less(s, s->heap[c + 1], s->heap[c]))
			c++;
		if (!file_less(s, s->heap[c], x))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	s->heap[i] = x;
}

static void merge_up(struct bt_src *s, int i)
{
	int x = s->heap[i];
	while (i > 0) {
		int p = (i - 1) / 2;
		if (!file_less(s, x, s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = x;
}

static int bt_next(struct trc_reader *r, void *src, struct blk_ev *ev,
		   struct jv_diag *d)
{
	struct bt_src *s = src;
	if (s->heap_n == 0)
		return 0;
	int i = s->heap[0];
	*ev = s->f[i].head;
	int rc = file_next(r, &s->f[i], i, d);
	if (rc < 0)
		return rc;
	if (rc == 0)
		s->heap[0] = s->heap[--s->heap_n];
	if (s->heap_n)
		merge_down(s, 0);
	return 1;
}

/* ---- open / close ------------------------------------------------------ */

/* Add input file `name`; it is the file trc_open opened (read through
 * r->lines) when `own` is 0 or when its inode is *mine. */
static int add_file(struct trc_reader *r, struct bt_src *s, const char *name,
		    int own, const struct stat *mine, struct jv_diag *d)
{
	struct bt_file *f = &s->f[s->n];
	memset(f, 0, sizeof *f);
	f->fd = -1;
	f->swap = -1;
	f->name = strdup(name);
	if (!f->name)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	s->n++;
	struct stat st;
	if (!own || (mine && stat(name, &st) == 0 && st.st_dev == mine->st_dev &&
		     st.st_ino == mine->st_ino)) {
		f->in = &r->lines; /* the file trc_open opened and probed */
		return 0;
	}
	int fd;
	do
		fd = open(name, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return jv_diag_set(d, errno == ENOENT ? JV_ENOENT : JV_EIO, name,
				   0, "cannot open: %s", strerror(errno));
	f->fd = fd;
	if (trc_lines_init(&f->own, fd, f->name, BT_SIB_BUF_B) < 0)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	f->in = &f->own;
	return 0;
}

static int open_files(struct trc_reader *r, struct bt_src *s, struct jv_diag *d)
{
	char base[BT_PATH_B], p[BT_SIB_PATH_B];
	struct stat mine;
	int have_mine = r->own_fd && fstat(r->fd, &mine) == 0;
	if (!bt_base(r->path, base, sizeof base)) {
		s->f = calloc(1, sizeof *s->f);
		if (!s->f)
			return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
		return add_file(r, s, r->name, 0, NULL, d);
	}
	int n = 0;
	for (int i = 0; i < TRC_MAX_CPUS; i++) {
		snprintf(p, sizeof p, "%s.%d", base, i);
		n += is_file(p, NULL);
	}
	s->f = calloc(n ? (size_t)n : 1, sizeof *s->f);
	if (!s->f)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	for (int i = 0; i < TRC_MAX_CPUS && s->n < n; i++) {
		snprintf(p, sizeof p, "%s.%d", base, i);
		if (!is_file(p, NULL))
			continue;
		int rc = add_file(r, s, p, 1, have_mine ? &mine : NULL, d);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void bt_close(void *src)
{
	struct bt_src *s = src;
	for (int i = 0; i < s->n; i++) {
		struct bt_file *f = &s->f[i];
		if (f->fd >= 0) {
			trc_lines_free(&f->own);
			close(f->fd);
		}
		free(f->name);
	}
	free(s->f);
	free(s->heap);
	free(s);
}

static int bt_open(struct trc_reader *r, void **out, struct jv_diag *d)
{
	struct bt_src *s = calloc(1, sizeof *s);
	if (!s)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	*out = s;
	int rc = open_files(r, s, d);
	if (rc < 0)
		return rc;
	s->heap = malloc((size_t)(s->n ? s->n : 1) * sizeof *s->heap);
	if (!s->heap)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	for (int i = 0; i < s->n; i++) {
		rc = file_next(r, &s->f[i], i, d);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			s->heap[s->heap_n] = i;
			merge_up(s, s->heap_n++);
		}
	}
	return 0;
}

static size_t bt_mem_b(const void *src)
{
	const struct bt_src *s = src;
	size_t n = sizeof *s + (size_t)s->n * (sizeof *s->f + sizeof *s->heap);
	for (int i = 0; i < s->n; i++)
		if (s->f[i].fd >= 0)
			n += s->f[i].own.cap + 1;
	return n;
}

static const char *bt_file_name(const void *src, int idx)
{
	const struct bt_src *s = src;
	return idx >= 0 && idx < s->n ? s->f[idx].name : "?";
}

static const struct blk_src_ops bt_ops = {
	bt_open, bt_next, bt_close, bt_mem_b, bt_file_name, 1,
};

/* ---- format table entry ------------------------------------------------- */

static int probe_blktrace(const char *head, size_t len)
{
	if (len < BT_HDR_B)
		return 0;
	const unsigned char *p = (const unsigned char *)head;
	return (rd32(p, 0) & BT_MAGIC_MASK) == BT_MAGIC ||
	       (rd32(p, 1) & BT_MAGIC_MASK) == BT_MAGIC;
}

static int open_blktrace(struct trc_reader *r, struct jv_diag *d)
{
	return trc_blk_open(r, &bt_ops, d);
}

const struct trc_format trc_fmt_blktrace = {
	"blktrace", TRC_BLK, probe_blktrace, open_blktrace, trc_blk_next,
	trc_blk_close, trc_blk_mem_b,
};
