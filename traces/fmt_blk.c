/*
 * fmt_blk: from block-layer events (blktrace / blkparse) to TRC_BLK
 * requests, shared by fmt_blktrace.c and fmt_blkparse.c.
 *
 * Problem: blktrace logs several events per request (queue Q, get-request
 * G, issue D, complete C, ...), per CPU, so the input is only roughly in
 * time order; captures may hold only some actions (`blktrace -a issue`,
 * `-a complete`). A record must be one request with its submission time,
 * its size, its process and, when the trace allows, its latency.
 *
 * Strategy, three stages behind the source (the reader's file parser):
 * 1. Reorder window. Events enter a min-heap ordered by (time, arrival).
 *    With W the window (trc_open_opts.reorder_window_ns, default 1 s) and
 *    t_max the latest time seen so far, an event is released once
 *    t_max - t >= W (no later event may precede it), when the heap holds
 *    BLK_HEAP_MAX events, or at end of input. An event more than W before
 *    t_max is an error (JV_EORDER), and so is one earlier than an event
 *    already released (possible only after the heap was full). Released
 *    events are in time order.
 * 2. Attribution class. A request is the first event of one class per
 *    request: Q when the trace has queue events, else D, else C. The class
 *    is chosen before anything is released, from the events buffered so
 *    far: Q as soon as a Q event arrives, otherwise when the heap is full
 *    (BLK_HEAP_MAX events) or at end of input, D if any D was seen, else C.
 *    Events of the other classes only serve completion matching. D and C
 *    attribution print a warning with the request count at end of input.
 *    Requests that are not reads or writes (discard, flush without data,
 *    no-data, SCSI pass-through) are skipped and counted (trc_skipped).
 * 3. Completion matching. A request waits in a FIFO (attribution order)
 *    while its (device, sector) sits in an in-flight hash table. A C event
 *    for (device, sector, bytes) completes the request at that sector and,
 *    following the chain of requests that start where the previous one
 *    ends, the requests merged into it; latency_ns = C time - attribution
 *    time. The FIFO head is yielded once completed, or without latency
 *    (-1) when BLK_COMPLETION_TIMEOUT_NS passed without completion, when
 *    BLK_INFLIGHT_MAX requests wait (counted, warned), or at end of input.
 *    A new request at a (device, sector) already in flight displaces the
 *    older one (yielded without latency); with D attribution, a D after a
 *    requeue (R) of the same request is its re-issue, not a new request.
 *    With C attribution records have no latency.
 *
 * Records: t_ns = attribution time - attribution time of the first record
 * (the first record has t_ns 0); offset_b = sector * 512; size_b = bytes;
 * vm = the process id of the attribution event as a decimal name, with
 * attrs "pid=P[,comm=NAME],device=MAJ:MIN" (comm from blktrace notify
 * records or blkparse's [process], ',' '=' and control bytes shown as '_';
 * device of the pid's first request); disk = index of the device in order
 * of first appearance (disk0 = the first device).
 *
 * Parameters: reorder window (default 1 s, trc_open_opts); constants
 * below. Limits: BLK_HEAP_MAX buffered events, BLK_INFLIGHT_MAX waiting
 * requests, TRC_MAX_DISKS devices, TRC_MAX_VMS process ids, sector <=
 * 2^54 - 1 (offset_b fits int64). Memory: O(BLK_HEAP_MAX +
 * BLK_INFLIGHT_MAX + pids), never O(trace length); tables grow by doubling.
 *
 * Example: events Q(t=100, sector 8, 4096 B, pid 7), D(t=150), C(t=900)
 * yield one record {t_ns 0, vm "7", READ, offset 4096, size 4096,
 * latency 800}.
 */
#include "traces/fmt_blk.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK_HEAP_MAX 65536             /* events in the reorder window */
#define BLK_INFLIGHT_MAX 16384         /* requests waiting for completion */
#define BLK_COMPLETION_TIMEOUT_NS 30000000000LL /* 30 s (SCSI default) */
#define BLK_SECTOR_MAX (INT64_MAX / BLK_SECTOR_B)
#define BLK_MIN_CAP 64                 /* first allocation of each table */
#define BLK_PID_COMM_MAX TRC_MAX_VMS   /* pids known only by their comm */
#define BLK_PID_MAX (2 * TRC_MAX_VMS)  /* pid table entries */
#define BLK_COMM_B 32                  /* comm kept: 31 bytes + NUL */
#define BLK_ATTRS_B 96
#define BLK_SKIP_REASON_B 160
#define NS_PER_S 1000000000LL

/* A request waiting in the FIFO. */
struct req {
	int64_t t;       /* attribution time, source clock */
	int64_t pos;
	uint64_t sector;
	int64_t latency; /* -1 until completed */
	uint32_t dev;
	uint32_t bytes;
	int32_t vm, disk;
	uint8_t op, done, requeued, hashed;
};

/* In-flight table slot: (dev, sector) -> FIFO sequence number. */
struct slot {
	uint64_t sector;
	uint64_t seq;
	uint32_t dev;
	uint32_t used;
};

struct pid_ent {
	uint32_t pid;
	int32_t vm;   /* interned name, -1 before the first request */
	uint32_t dev; /* device of the first request */
	uint8_t used, has_comm;
	char comm[BLK_COMM_B];
};

struct blk_engine {
	const struct blk_src_ops *ops;
	void *src;
	int64_t window_ns;
	/* stage 1: reorder heap */
	struct blk_ev *heap;
	size_t heap_n, heap_cap;
	uint64_t next_seq;
	struct blk_ev max_ev; /* the event with the latest time so far */
	int have_max;
	int64_t t_rel;        /* time of the last released event */
	int have_rel;
	int src_eof;
	/* stage 2: attribution */
	int mode;             /* -1 undecided, else BLK_ACT_Q/D/C */
	uint64_t seen[BLK_ACT_COUNT];
	uint64_t skip[BLK_OP_COUNT];
	char skip_buf[BLK_SKIP_REASON_B];
	/* stage 3: FIFO and in-flight table */
	struct req *ring;
	size_t ring_cap;      /* power of two */
	uint64_t head, tail;  /* FIFO sequence numbers */
	struct slot *slots;
	size_t slot_cap;      /* power of two, 2 * ring_cap */
	int64_t epoch;
	int have_epoch;
	/* names */
	struct pid_ent *pids;
	size_t pid_cap, pid_n, pid_comm_n;
	uint32_t devs[TRC_MAX_DISKS];
	int n_devs, last_dev;
	/* counts */
	uint64_t n_req, n_lat, n_overflow, n_timeout, n_displaced, n_open_end;
	int finished;
};

/* ---- messages ------------------------------------------------------------ */

/* "12.000000345" for ns */
static const char *fmt_s(char *out, size_t out_b, int64_t ns)
{
	snprintf(out, out_b, "%" PRId64 ".%09" PRId64, (int64_t)(ns / NS_PER_S),
		 (int64_t)(ns % NS_PER_S));
	return out;
}

static int ev_diag(const struct blk_engine *e, const struct trc_reader *r,
		   const struct blk_ev *ev, struct jv_diag *d, int err,
		   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* An error at ev: "FILE:LINE: msg" or "FILE: byte offset N: msg". */
static int ev_diag(const struct blk_engine *e, const struct trc_reader *r,
		   const struct blk_ev *ev, struct jv_diag *d, int err,
		   const char *fmt, ...)
{
	char msg[JV_DIAG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!e->ops->binary)
		return jv_diag_set(d, err, r->name, (long)ev->pos, "%s", msg);
	return jv_diag_set(d, err, e->ops->file(e->src, ev->src), 0,
			   "byte offset %" PRId64 ": %s", ev->pos, msg);
}

/* Where ev is, for the text of a message: "line 12" / "F byte offset 96". */
static const char *ev_where(const struct blk_engine *e, const struct blk_ev *ev,
			    char *out, size_t out_b)
{
	if (!e->ops->binary)
		snprintf(out, out_b, "line %" PRId64, ev->pos);
	else
		snprintf(out, out_b, "%s byte offset %" PRId64,
			 e->ops->file(e->src, ev->src), ev->pos);
	return out;
}

/* ---- open / close ------------------------------------------------------- */

int trc_blk_open(struct trc_reader *r, const struct blk_src_ops *ops,
		 struct jv_diag *d)
{
	int64_t w = r->opts.reorder_window_ns;
	if (w < 0)
		return jv_diag_set(d, JV_EINVAL, r->name, 0,
				   "reorder window: must be >= 0 ns, found %" PRId64,
				   w);
	struct blk_engine *e = calloc(1, sizeof *e);
	if (!e)
		return jv_diag_set(d, JV_ENOMEM, r->name, 0, "out of memory");
	e->ops = ops;
	e->window_ns = w ? w : BLK_WINDOW_DEFAULT_NS;
	e->mode = -1;
	e->last_dev = -1;
	r->priv = e;
	return ops->open(r, &e->src, d);
}

void trc_blk_close(struct trc_reader *r)
{
	struct blk_engine *e = r->priv;
	if (!e)
		return;
	if (e->src)
		e->ops->close(e->src);
	free(e->heap);
	free(e->ring);
	free(e->slots);
	free(e->pids);
	free(e);
	r->priv = NULL;
}

size_t trc_blk_mem_b(const struct trc_reader *r)
{
	const struct blk_engine *e = r->priv;
	if (!e)
		return 0;
	return sizeof *e + e->heap_cap * sizeof *e->heap +
	       e->ring_cap * sizeof *e->ring + e->slot_cap * sizeof *e->slots +
	       e->pid_cap * sizeof *e->pids +
	       (e->src && e->ops->mem_b ? e->ops->mem_b(e->src) : 0);
}

/* ---- process ids: VM names and attrs ------------------------------------ */

static uint32_t pid_hash(uint32_t pid)
{
	uint32_t x = pid * 0x9E3779B1u;
	return x ^ (x >> 15);
}

static int pids_grow(struct blk_engine *e)
{
	size_t cap = e->pid_cap ? 2 * e->pid_cap : BLK_MIN_CAP;
	struct pid_ent *t = calloc(cap, sizeof *t);
	if (!t)
		return JV_ENOMEM;
	for (size_t i = 0; i < e->pid_cap; i++) {
		if (!e->pids[i].used)
			continue;
		size_t k = pid_hash(e->pids[i].pid) & (cap - 1);
		while (t[k].used)
			k = (k + 1) & (cap - 1);
		t[k] = e->pids[i];
	}
	free(e->pids);
	e->pids = t;
	e->pid_cap = cap;
	return 0;
}

/* The entry of pid; created when `create` (NULL when absent, at the limit,
 * or *rc = JV_ENOMEM). */
static struct pid_ent *pid_get(struct blk_engine *e, uint32_t pid, int create,
			       int *rc)
{
	*rc = 0;
	if (e->pid_cap) {
		size_t k = pid_hash(pid) & (e->pid_cap - 1);
		while (e->pids[k].used) {
			if (e->pids[k].pid == pid)
				return &e->pids[k];
			k = (k + 1) & (e->pid_cap - 1);
		}
	}
	if (!create || e->pid_n >= BLK_PID_MAX)
		return NULL;
	if ((e->pid_n + 1) * 2 > e->pid_cap && (*rc = pids_grow(e)) < 0)
		return NULL;
	size_t k = pid_hash(pid) & (e->pid_cap - 1);
	while (e->pids[k].used)
		k = (k + 1) & (e->pid_cap - 1);
	struct pid_ent *p = &e->pids[k];
	memset(p, 0, sizeof *p);
	p->used = 1;
	p->pid = pid;
	p->vm = -1;
	e->pid_n++;
	return p;
}

static int set_attrs(struct trc_reader *r, const struct pid_ent *p)
{
	char a[BLK_ATTRS_B];
	unsigned maj = p->dev >> 20, min = p->dev & 0xfffffu;
	if (p->has_comm)
		snprintf(a, sizeof a, "pid=%" PRIu32 ",comm=%s,device=%u:%u",
			 p->pid, p->comm, maj, min);
	else
		snprintf(a, sizeof a, "pid=%" PRIu32 ",device=%u:%u", p->pid,
			 maj, min);
	return trc_names_set_attrs(&r->vms, p->vm, a);
}

int trc_blk_comm(struct trc_reader *r, uint32_t pid, const char *comm,
		 size_t len)
{
	struct blk_engine *e = r->priv;
	while (len && comm[len - 1] == '\0')
		len--;
	if (len == 0 || (len == 6 && memcmp(comm, "(null)", 6) == 0))
		return 0;
	if (len >= BLK_COMM_B)
		len = BLK_COMM_B - 1;
	char c[BLK_COMM_B];
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)comm[i];
		c[i] = ch < 0x20 || ch >= 0x7f || ch == ',' || ch == '=' ? '_'
									: (char)ch;
	}
	c[len] = '\0';
	int rc;
	struct pid_ent *p = pid_get(e, pid, 0, &rc);
	if (!p) {
		if (e->pid_comm_n >= BLK_PID_COMM_MAX)
			return 0; /* documented: comm of further pids dropped */
		p = pid_get(e, pid, 1, &rc);
		if (!p)
			return rc;
		e->pid_comm_n++;
	}
	if (p->has_comm && strcmp(p->comm, c) == 0)
		return 0;
	memcpy(p->comm, c, len + 1);
	p->has_comm = 1;
	return p->vm >= 0 ? set_attrs(r, p) : 0;
}

/* VM index of ev's process, interned with its attrs on first use. */
static int vm_of(struct blk_engine *e, struct trc_reader *r,
		 const struct blk_ev *ev, struct jv_diag *d)
{
	int rc;
	struct pid_ent *p = pid_get(e, ev->pid, 1, &rc);
	if (!p && rc == 0)
		rc = JV_ELIMIT;
	if (p && p->vm >= 0)
		return p->vm;
	if (p) {
		char nm[16];
		int n = snprintf(nm, sizeof nm, "%" PRIu32, ev->pid);
		rc = trc_names_intern(&r->vms, nm, (size_t)n,
				      trc_names_hash(nm, (size_t)n));
		if (rc >= 0) {
			p->vm = rc;
			p->dev = ev->dev;
			int arc = set_attrs(r, p);
			if (arc < 0)
				rc = arc;
		}
	}
	if (rc == JV_ELIMIT)
		return ev_diag(e, r, ev, d, JV_ELIMIT,
			       "pid: too many distinct process ids (more than "
			       "%d) at %" PRIu32, TRC_MAX_VMS, ev->pid);
	if (rc < 0)
		return ev_diag(e, r, ev, d, JV_ENOMEM, "out of memory");
	return p->vm;
}

static int disk_of(struct blk_engine *e, struct trc_reader *r,
		   const struct blk_ev *ev, struct jv_diag *d)
{
	if (e->last_dev >= 0 && e->devs[e->last_dev] == ev->dev)
		return e->last_dev;
	for (int i = 0; i < e->n_devs; i++)
		if (e->devs[i] == ev->dev)
			return e->last_dev = i;
	if (e->n_devs >= TRC_MAX_DISKS)
		return ev_diag(e, r, ev, d, JV_ELIMIT,
			       "device: too many devices (more than %d) at %u,%u",
			       TRC_MAX_DISKS, ev->dev >> 20, ev->dev & 0xfffffu);
	e->devs[e->n_devs] = ev->dev;
	return e->last_dev = e->n_devs++;
}

/* ---- stage 1: reorder heap ---------------------------------------------- */

static inline int ev_less(const struct blk_ev *a, const struct blk_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_up(struct blk_ev *h, size_t i)
{
	struct blk_ev x = h[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_less(&x, &h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = x;
}

static void heap_down(struct blk_ev *h, size_t n, size_t i)
{
	struct blk_ev x = h[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && ev_less(&h[c + 1], &h[c]))
			c++;
		if (!ev_less(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static void decide_mode(struct blk_engine *e)
{
	if (e->mode >= 0)
		return;
	e->mode = e->seen[BLK_ACT_Q] ? BLK_ACT_Q
		  : e->seen[BLK_ACT_D] ? BLK_ACT_D : BLK_ACT_C;
}

static int heap_push(struct blk_engine *e, struct trc_reader *r,
		     struct blk_ev *ev, struct jv_diag *d)
{
	char a[32], b[32], m[32], w[32], where[300];
	if (e->have_max && e->max_ev.t - ev->t > e->window_ns)
		return ev_diag(e, r, ev, d, JV_EORDER,
			       "time: %s s is %s s before the latest event "
			       "(%s s at %s), beyond the reorder window of %s s "
			       "(a larger window accepts it)",
			       fmt_s(a, sizeof a, ev->t),
			       fmt_s(b, sizeof b, e->max_ev.t - ev->t),
			       fmt_s(m, sizeof m, e->max_ev.t),
			       ev_where(e, &e->max_ev, where, sizeof where),
			       fmt_s(w, sizeof w, e->window_ns));
	if (e->have_rel && ev->t < e->t_rel)
		return ev_diag(e, r, ev, d, JV_EORDER,
			       "time: %s s is before %s s, an event already "
			       "released because the reorder buffer was full "
			       "(%d events)", fmt_s(a, sizeof a, ev->t),
			       fmt_s(b, sizeof b, e->t_rel), BLK_HEAP_MAX);
	if (e->heap_n == e->heap_cap) {
		if (e->heap_cap >= BLK_HEAP_MAX) /* callers release first */
			return ev_diag(e, r, ev, d, JV_EINVARIANT,
				       "reorder buffer overrun");
		size_t cap = e->heap_cap ? 2 * e->heap_cap : BLK_MIN_CAP;
		struct blk_ev *h = realloc(e->heap, cap * sizeof *h);
		if (!h)
			return ev_diag(e, r, ev, d, JV_ENOMEM, "out of memory");
		e->heap = h;
		e->heap_cap = cap;
	}
	ev->seq = e->next_seq++;
	e->heap[e->heap_n] = *ev;
	heap_up(e->heap, e->heap_n++);
	if (!e->have_max || ev->t > e->max_ev.t) {
		e->max_ev = *ev;
		e->have_max = 1;
	}
	e->seen[ev->act]++;
	if (ev->act == BLK_ACT_Q)
		decide_mode(e); /* Q: nothing better can come */
	else if (e->heap_n >= BLK_HEAP_MAX)
		decide_mode(e);
	return 0;
}

static void heap_pop(struct blk_engine *e, struct blk_ev *out)
{
	*out = e->heap[0];
	e->heap[0] = e->heap[--e->heap_n];
	if (e->heap_n)
		heap_down(e->heap, e->heap_n, 0);
}

/* ---- stage 3: FIFO and in-flight table ---------------------------------- */

static inline struct req *ring_at(const struct blk_engine *e, uint64_t seq)
{
	return &e->ring[seq & (e->ring_cap - 1)];
}

static inline size_t ring_count(const struct blk_engine *e)
{
	return (size_t)(e->tail - e->head);
}

static inline uint64_t key_hash(uint32_t dev, uint64_t sector)
{
	uint64_t x = sector ^ ((uint64_t)dev * 0x9E3779B97F4A7C15ull);
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static long slot_find(const struct blk_engine *e, uint32_t dev, uint64_t sector)
{
	if (!e->slot_cap)
		return -1;
	size_t mask = e->slot_cap - 1, k = key_hash(dev, sector) & mask;
	while (e->slots[k].used) {
		if (e->slots[k].sector == sector && e->slots[k].dev == dev)
			return (long)k;
		k = (k + 1) & mask;
	}
	return -1;
}

static void slot_put(struct slot *s, size_t cap, uint32_t dev, uint64_t sector,
		     uint64_t seq)
{
	size_t mask = cap - 1, k = key_hash(dev, sector) & mask;
	while (s[k].used)
		k = (k + 1) & mask;
	s[k].used = 1;
	s[k].dev = dev;
	s[k].sector = sector;
	s[k].seq = seq;
}

/* Remove slot i (linear probing, backward-shift deletion). */
static void slot_del(struct blk_engine *e, size_t i)
{
	size_t mask = e->slot_cap - 1, j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!e->slots[j].used)
			break;
		size_t k = key_hash(e->slots[j].dev, e->slots[j].sector) & mask;
		/* the entry at j may move to i unless k lies cyclically in (i, j] */
		int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			e->slots[i] = e->slots[j];
			i = j;
		}
	}
	e->slots[i].used = 0;
}

/* Double the FIFO (and the table) while it is below BLK_INFLIGHT_MAX. */
static int ring_grow(struct blk_engine *e)
{
	size_t cap = e->ring_cap ? 2 * e->ring_cap : BLK_MIN_CAP;
	struct req *q = malloc(cap * sizeof *q);
	struct slot *s = calloc(2 * cap, sizeof *s);
	if (!q || !s) {
		free(q);
		free(s);
		return JV_ENOMEM;
	}
	for (uint64_t i = e->head; i < e->tail; i++)
		q[i & (cap - 1)] = *ring_at(e, i);
	for (size_t i = 0; i < e->slot_cap; i++)
		if (e->slots[i].used)
			slot_put(s, 2 * cap, e->slots[i].dev, e->slots[i].sector,
				 e->slots[i].seq);
	free(e->ring);
	free(e->slots);
	e->ring = q;
	e->ring_cap = cap;
	e->slots = s;
	e->slot_cap = 2 * cap;
	return 0;
}

/* Stop waiting for q's completion (it is yielded without latency). */
static void req_unhash(struct blk_engine *e, struct req *q)
{
	if (!q->hashed)
		return;
	long k = slot_find(e, q->dev, q->sector);
	if (k >= 0)
		slot_del(e, (size_t)k);
	q->hashed = 0;
}

/* ---- stage 2: attribution ----------------------------------------------- */

static const char *const op_names[BLK_OP_COUNT] = {
	[BLK_OP_READ] = "read",
	[BLK_OP_WRITE] = "write",
	[BLK_OP_DISCARD] = "discard",
	[BLK_OP_FLUSH] = "flush",
	[BLK_OP_NODATA] = "no-data",
	[BLK_OP_PC] = "pass-through",
};

static void count_skip(struct blk_engine *e, struct trc_reader *r, int op)
{
	e->skip[op]++;
	r->skipped++;
	size_t n = 0;
	e->skip_buf[0] = '\0';
	for (int i = BLK_OP_DISCARD; i < BLK_OP_COUNT; i++)
		if (e->skip[i] && n < sizeof e->skip_buf)
			n += (size_t)snprintf(e->skip_buf + n,
					      sizeof e->skip_buf - n,
					      "%s%s %" PRIu64, n ? ", " : "",
					      op_names[i], e->skip[i]);
	r->skip_reason = e->skip_buf;
}

static int new_request(struct blk_engine *e, struct trc_reader *r,
		       const struct blk_ev *ev, struct jv_diag *d)
{
	if (ev->op != BLK_OP_READ && ev->op != BLK_OP_WRITE) {
		count_skip(e, r, ev->op);
		return 0;
	}
	if (ev->sector > (uint64_t)BLK_SECTOR_MAX)
		return ev_diag(e, r, ev, d, JV_ERANGE,
			       "sector: out of range %" PRIu64 " (max %" PRId64 ")",
			       ev->sector, (int64_t)BLK_SECTOR_MAX);
	long k = e->mode == BLK_ACT_C ? -1 : slot_find(e, ev->dev, ev->sector);
	if (k >= 0) {
		struct req *old = ring_at(e, e->slots[k].seq);
		if (e->mode == BLK_ACT_D && old->requeued &&
		    old->bytes == ev->bytes) {
			old->requeued = 0; /* re-issue after a requeue */
			return 0;
		}
		req_unhash(e, old);
		old->done = 1;
		e->n_displaced++;
	}
	int vm = vm_of(e, r, ev, d);
	if (vm < 0)
		return vm;
	int disk = disk_of(e, r, ev, d);
	if (disk < 0)
		return disk;
	if (ring_count(e) == e->ring_cap && ring_grow(e) < 0)
		return ev_diag(e, r, ev, d, JV_ENOMEM, "out of memory");
	if (!e->have_epoch) {
		e->epoch = ev->t;
		e->have_epoch = 1;
	}
	uint64_t seq = e->tail++;
	struct req *q = ring_at(e, seq);
	memset(q, 0, sizeof *q);
	q->t = ev->t;
	q->pos = ev->pos;
	q->sector = ev->sector;
	q->latency = -1;
	q->dev = ev->dev;
	q->bytes = ev->bytes;
	q->vm = vm;
	q->disk = disk;
	q->op = ev->op;
	e->n_req++;
	if (e->mode == BLK_ACT_C) {
		q->done = 1;
		return 0;
	}
	slot_put(e->slots, e->slot_cap, ev->dev, ev->sector, seq);
	q->hashed = 1;
	return 0;
}

/* A C event completes the request at its sector and the requests merged
 * behind it (each starting where the previous one ends). */
static void complete(struct blk_engine *e, const struct blk_ev *ev)
{
	if (ev->op != BLK_OP_READ && ev->op != BLK_OP_WRITE)
		return;
	uint64_t s = ev->sector, left = ev->bytes / BLK_SECTOR_B;
	for (;;) {
		long k = slot_find(e, ev->dev, s);
		if (k < 0)
			return;
		struct req *q = ring_at(e, e->slots[k].seq);
		slot_del(e, (size_t)k);
		q->hashed = 0;
		q->done = 1;
		q->latency = ev->t - q->t;
		e->n_lat++;
		uint64_t n = q->bytes / BLK_SECTOR_B;
		if (n == 0 || n >= left)
			return; /* the completion ends here (or inside q) */
		left -= n;
		s += n; /* unsigned: a wrap finds nothing */
	}
}

static void requeue(struct blk_engine *e, const struct blk_ev *ev)
{
	long k = slot_find(e, ev->dev, ev->sector);
	if (k >= 0)
		ring_at(e, e->slots[k].seq)->requeued = 1;
}

static int attribute(struct blk_engine *e, struct trc_reader *r,
		     const struct blk_ev *ev, struct jv_diag *d)
{
	e->t_rel = ev->t;
	e->have_rel = 1;
	if (ev->act == e->mode)
		return new_request(e, r, ev, d);
	if (ev->act == BLK_ACT_C)
		complete(e, ev);
	else if (ev->act == BLK_ACT_R && e->mode == BLK_ACT_D)
		requeue(e, ev);
	return 0;
}

/* ---- the reader's next() ------------------------------------------------ */

/* The FIFO head may be yielded now. */
static int head_ready(const struct blk_engine *e)
{
	if (ring_count(e) == 0)
		return 0;
	const struct req *q = ring_at(e, e->head);
	return q->done || ring_count(e) >= BLK_INFLIGHT_MAX ||
	       e->t_rel - q->t >= BLK_COMPLETION_TIMEOUT_NS ||
	       (e->src_eof && e->heap_n == 0);
}

static void emit(struct blk_engine *e, struct trc_record *rec)
{
	struct req *q = ring_at(e, e->head);
	if (!q->done) {
		if (e->src_eof && e->heap_n == 0)
			e->n_open_end++;
		else if (e->t_rel - q->t >= BLK_COMPLETION_TIMEOUT_NS)
			e->n_timeout++;
		else
			e->n_overflow++;
		req_unhash(e, q);
	}
	e->head++;
	rec->kind = TRC_BLK;
	rec->line = (long)q->pos;
	struct trc_blk *b = &rec->u.blk;
	b->t_ns = q->t - e->epoch;
	b->vm = q->vm;
	b->op = q->op == BLK_OP_WRITE ? TRC_OP_WRITE : TRC_OP_READ;
	b->offset_b = (int64_t)(q->sector * BLK_SECTOR_B);
	b->size_b = q->bytes;
	b->latency_ns = q->latency;
	b->disk = q->disk;
}

static int can_release(const struct blk_engine *e)
{
	if (e->heap_n == 0 || e->mode < 0 || ring_count(e) >= BLK_INFLIGHT_MAX)
		return 0;
	return e->src_eof || e->heap_n >= BLK_HEAP_MAX ||
	       e->max_ev.t - e->heap[0].t >= e->window_ns;
}

static void finish(struct blk_engine *e, struct trc_reader *r)
{
	if (e->finished)
		return;
	e->finished = 1;
	if (e->mode == BLK_ACT_D && e->n_req)
		jv_warn(r->name, 0,
			"no queue (Q) events: %" PRIu64 " requests attributed "
			"at their issue (D) events", e->n_req);
	if (e->mode == BLK_ACT_C && e->n_req)
		jv_warn(r->name, 0,
			"only completion (C) events: %" PRIu64 " requests "
			"attributed at their completions, latency unknown",
			e->n_req);
	if (e->n_overflow)
		jv_warn(r->name, 0,
			"%" PRIu64 " requests without latency: more than %d "
			"requests waited for completion", e->n_overflow,
			BLK_INFLIGHT_MAX);
	if (e->n_timeout)
		jv_warn(r->name, 0,
			"%" PRIu64 " requests without latency: no completion "
			"within %lld s", e->n_timeout,
			BLK_COMPLETION_TIMEOUT_NS / NS_PER_S);
}

/* One step: release an event, or read one. 0 or < 0. */
static int step(struct blk_engine *e, struct trc_reader *r, struct jv_diag *d)
{
	struct blk_ev ev;
	if (can_release(e)) {
		heap_pop(e, &ev);
		return attribute(e, r, &ev, d);
	}
	if (e->src_eof)
		return 0;
	int rc = e->ops->next(r, e->src, &ev, d);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		e->src_eof = 1;
		decide_mode(e);
		return 0;
	}
	return heap_push(e, r, &ev, d);
}

int trc_blk_next(struct trc_reader *r, struct trc_record *rec,
		 struct jv_diag *d)
{
	struct blk_engine *e = r->priv;
	for (;;) {
		if (head_ready(e)) {
			emit(e, rec);
			return 1;
		}
		if (e->src_eof && e->heap_n == 0) {
			finish(e, r);
			return 0;
		}
		int rc = step(e, r, d);
		if (rc < 0)
			return rc;
	}
}
