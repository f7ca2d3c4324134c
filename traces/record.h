/*
 * record: the typed records every trace source yields (design §2, §7).
 *
 * Sources (files, generators, the live machine) produce these in time
 * order; the core never knows where a record came from. VM names are
 * interned by the reader: a record's `vm` is an index into the reader's
 * name table (trc_reader_vm_name()), mapped onto scenario VMs by the runner.
 *
 * models/ may include this header (and only this one from traces/).
 */
#ifndef JV_RECORD_H
#define JV_RECORD_H

#include <stdint.h>

#define TRC_MAX_COUNTERS 16
#define TRC_NAME_MAX 64

enum trc_kind {
	TRC_PMC = 0,      /* `# joulevisor pmc v1` */
	TRC_PMC_INTERVAL, /* `# joulevisor pmc-interval v1` */
	TRC_BLK,          /* `# joulevisor blk v1` */
	TRC_BLK_INTERVAL, /* `# joulevisor blk-interval v1` */
	TRC_KIND_COUNT
};

enum trc_op { TRC_OP_READ = 0, TRC_OP_WRITE = 1 };

/* Cumulative counters read at a context switch on `cpu`; `vm` ran there
 * since the previous record on that CPU. */
struct trc_pmc {
	int64_t t_ns;
	int32_t cpu;
	int32_t vm;
	uint64_t ctr[TRC_MAX_COUNTERS];
};

/* Per-VM counter deltas over the interval ending at t_ns. */
struct trc_pmc_interval {
	int64_t t_ns;
	int32_t vm;
	uint64_t delta[TRC_MAX_COUNTERS];
};

/* One block request, t_ns its submission time. */
struct trc_blk {
	int64_t t_ns;
	int32_t vm;
	int32_t op;          /* trc_op */
	int64_t offset_b;
	int64_t size_b;
	int64_t latency_ns;  /* -1 when the trace has none */
	int32_t disk;        /* disk index (disk0 -> 0) */
};

/* Aggregate block statistics over the interval ending at t_ns. */
struct trc_blk_interval {
	int64_t t_ns;
	int32_t vm;
	int32_t disk;
	int64_t read_b, write_b;
	int64_t reads, writes;
};

struct trc_record {
	int kind;  /* trc_kind */
	long line; /* source line (1-based), or byte offset for binary */
	union {
		struct trc_pmc pmc;
		struct trc_pmc_interval pmci;
		struct trc_blk blk;
		struct trc_blk_interval blki;
	} u;
};

#endif
