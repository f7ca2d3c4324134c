/* fmt_perf_stat: placeholder until the perf-stat reader lands (it claims no file). */
#include "traces/trc_impl.h"

static int probe_none(const char *head, size_t len)
{
	(void)head;
	(void)len;
	return 0;
}

static int open_none(struct trc_reader *r, struct jv_diag *d)
{
	return jv_diag_set(d, JV_EUNKNOWN, r->name, 0, "format 'perf-stat' is not available yet");
}

static int next_none(struct trc_reader *r, struct trc_record *rec, struct jv_diag *d)
{
	(void)rec;
	return jv_diag_set(d, JV_EUNKNOWN, r->name, 0, "format 'perf-stat' is not available yet");
}

static void close_none(struct trc_reader *r) { (void)r; }
static size_t mem_none(const struct trc_reader *r) { (void)r; return 0; }

const struct trc_format trc_fmt_perf_stat = {
	"perf-stat", TRC_PMC_INTERVAL, probe_none, open_none, next_none, close_none, mem_none,
};
