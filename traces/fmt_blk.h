/*
 * fmt_blk: the block-event engine shared by the blktrace (binary) and
 * blkparse (text) readers (traces/ only; private to fmt_blk*.c,
 * fmt_blktrace.c and fmt_blkparse.c). See fmt_blk.c for the theory of
 * operation: reorder window, attribution class (Q, else D, else C),
 * completion matching and the VM names (process ids).
 *
 * A reader supplies a source (struct blk_src_ops) that yields the Q, D, C
 * and R events of its input in input order; the engine turns them into
 * TRC_BLK records. trc_blk_open/next/close/mem_b are the reader's
 * trc_format hooks.
 */
#ifndef JV_FMT_BLK_H
#define JV_FMT_BLK_H

#include <stdint.h>

#include "traces/trc_impl.h"

#define BLK_SECTOR_B 512                       /* blktrace sector size */
#define BLK_WINDOW_DEFAULT_NS 1000000000LL     /* reorder window: 1 s */

/* Block-layer actions the engine uses (others are dropped by the source). */
enum blk_act {
	BLK_ACT_Q = 0, /* queued (bio entered the block layer) */
	BLK_ACT_D,     /* issued to the driver */
	BLK_ACT_C,     /* completed */
	BLK_ACT_R,     /* requeued (will be issued again) */
	BLK_ACT_COUNT
};

/* What an event's request does. */
enum blk_op {
	BLK_OP_READ = 0,
	BLK_OP_WRITE,
	BLK_OP_DISCARD, /* skipped and counted */
	BLK_OP_FLUSH,   /* flush without data: skipped and counted */
	BLK_OP_NODATA,  /* no sectors: skipped and counted */
	BLK_OP_PC,      /* SCSI pass-through command: skipped and counted */
	BLK_OP_COUNT
};

/* One event as a source yields it. */
struct blk_ev {
	int64_t t;       /* ns in the source's clock, >= 0 */
	uint64_t sector; /* 512-byte sectors */
	uint64_t seq;    /* arrival number (set by the engine) */
	int64_t pos;     /* line (text) or byte offset (binary) */
	uint32_t bytes;
	uint32_t pid;
	uint32_t dev;    /* major << 20 | minor */
	uint16_t src;    /* input file index (binary sources) */
	uint8_t act;     /* blk_act */
	uint8_t op;      /* blk_op */
};

struct blk_src_ops {
	/* Open the input(s) behind r; *src is the source state (freed by
	 * close even when open fails half way). May call trc_blk_comm(). */
	int (*open)(struct trc_reader *r, void **src, struct jv_diag *d);
	/* Next Q/D/C/R event in input order: 1 filled, 0 end, < 0 error. */
	int (*next)(struct trc_reader *r, void *src, struct blk_ev *ev,
		    struct jv_diag *d);
	void (*close)(void *src);
	size_t (*mem_b)(const void *src);
	/* Name of input file idx for messages. */
	const char *(*file)(const void *src, int idx);
	int binary; /* 1: positions are byte offsets ("FILE: byte offset N") */
};

int trc_blk_open(struct trc_reader *r, const struct blk_src_ops *ops,
		 struct jv_diag *d);
int trc_blk_next(struct trc_reader *r, struct trc_record *rec,
		 struct jv_diag *d);
void trc_blk_close(struct trc_reader *r);
size_t trc_blk_mem_b(const struct trc_reader *r);
/* A source learned the command name of pid (blktrace notify record,
 * blkparse [process]): kept for the VM's attrs "pid=P,comm=NAME,...".
 * "(null)" and "" are ignored. Returns 0 or JV_ENOMEM. */
int trc_blk_comm(struct trc_reader *r, uint32_t pid, const char *comm,
		 size_t len);

#endif
