/*
 * cli_trace: theory of operation.
 *
 * `joulevisor trace` reads any format of the reader registry
 * (traces/trc.c) and writes the native formats (CSV, or the binary form
 * when the output name ends in .jvt), streaming: one record in flight
 * (head/tail: a ring of N), so traces of any length import in O(1) memory.
 *
 *   trace import --from FORMAT IN -o OUT [--vm NAME | --match NAME:KEY=VALUE[,..]]...
 *                [--unmapped=error|skip] [--time-unit T] [--reorder-window T]
 *   trace convert IN OUT [--from FORMAT]       (no mapping)
 *   trace cat FILE [--from FORMAT]             (native CSV on stdout)
 *   trace head|tail [-n N] FILE [--from FORMAT]
 *   trace info FILE [--from FORMAT]            (format, records, span, VMs, bytes, rate, counters)
 *
 * Mapping: without one, each record's VM is the reader's source name
 * (MSR `hm_0`, SPC `asu0`, DiskSim `dev0`, blktrace pid, fio file name,
 * vSCSI `vm0`). `--vm NAME` maps every record to NAME; `--match` rules map
 * records whose source keys match (traces/trc_map.h); with a mapping,
 * unmapped records are an error listing their source names and record
 * counts, unless --unmapped=skip (then they are counted in the summary).
 * Exit codes: 0, 1 (write error), 2 (bad input or usage).
 */
#include "sim/cli_trace.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/units.h"
#include "traces/trc.h"
#include "traces/trc_map.h"

#define TRACE_MAX_RULES 64
#define TRACE_TAIL_MAX 10000000   /* records kept by tail -n */
#define TRACE_DEFAULT_LINES 10
#define TRACE_PROGRESS_EVERY 262144 /* records between progress checks */

struct topts {
	const char *from;       /* format name or NULL (auto) */
	const char *in, *out;
	const char *vm;         /* --vm */
	struct trc_map_rule rules[TRACE_MAX_RULES];
	char rule_vm[TRACE_MAX_RULES][64];
	int n_rules;
	int skip_unmapped;
	long n;                 /* head/tail */
	struct trc_open_opts oo;
};

static void usage(FILE *f)
{
	fputs("usage: joulevisor trace import --from FORMAT IN -o OUT [--vm NAME]\n"
	      "                              [--match NAME:KEY=VALUE[,KEY=VALUE...]]...\n"
	      "                              [--unmapped=error|skip] [--time-unit T]\n"
	      "                              [--reorder-window T]\n"
	      "       joulevisor trace convert IN OUT [--from FORMAT]\n"
	      "       joulevisor trace cat FILE [--from FORMAT]\n"
	      "       joulevisor trace head|tail [-n N] FILE [--from FORMAT]\n"
	      "       joulevisor trace info FILE [--from FORMAT]\n"
	      "\n"
	      "FORMAT: auto (native formats and those with a signature), pmc, pmc-interval,\n"
	      "blk, blk-interval, bin, blktrace, blkparse, msr, spc, disksim, fio, vscsi,\n"
	      "perf-stat, perf-script. `-` reads stdin or writes stdout. An output ending in\n"
	      ".jvt is written in the native binary format, otherwise native CSV.\n"
	      "Match keys: " TRC_MAP_KEYS "\n",
	      f);
}

static int parse_args(int argc, char **argv, struct topts *o, int want_out, FILE *err)
{
	const char *pos[3] = {0};
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
#define VAL()                                                                          \
	do {                                                                           \
		if (i + 1 >= argc) {                                                   \
			fprintf(err, "joulevisor: trace: option %s needs a value\n", a); \
			return 2;                                                      \
		}                                                                      \
		v = argv[++i];                                                         \
	} while (0)
		if (!strcmp(a, "--from") || !strcmp(a, "-f")) {
			VAL();
			o->from = v;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			VAL();
			o->out = v;
		} else if (!strcmp(a, "--vm")) {
			VAL();
			o->vm = v;
		} else if (!strcmp(a, "--match")) {
			VAL();
			const char *colon = strchr(v, ':');
			if (!colon || colon == v || (size_t)(colon - v) >= 64) {
				fprintf(err, "joulevisor: trace: --match expects NAME:KEY=VALUE[,...], "
					"got '%s'\n", v);
				return 2;
			}
			if (o->n_rules >= TRACE_MAX_RULES) {
				fprintf(err, "joulevisor: trace: too many --match (max %d)\n",
					TRACE_MAX_RULES);
				return 2;
			}
			char why[160];
			snprintf(o->rule_vm[o->n_rules], 64, "%.*s", (int)(colon - v), v);
			if (trc_map_parse(colon + 1, o->n_rules, &o->rules[o->n_rules], why)) {
				fprintf(err, "joulevisor: trace: --match %s: %s\n", v, why);
				return 2;
			}
			o->n_rules++;
		} else if (!strcmp(a, "--unmapped=skip")) {
			o->skip_unmapped = 1;
		} else if (!strcmp(a, "--unmapped=error")) {
			o->skip_unmapped = 0;
		} else if (!strcmp(a, "-n")) {
			VAL();
			char *end;
			o->n = strtol(v, &end, 10);
			if (*end || o->n < 0 || o->n > TRACE_TAIL_MAX) {
				fprintf(err, "joulevisor: trace: -n: '%s' is not a count in [0, %d]\n",
					v, TRACE_TAIL_MAX);
				return 2;
			}
		} else if (!strcmp(a, "--time-unit") || !strcmp(a, "--reorder-window")) {
			VAL();
			int64_t ns;
			char why[UNITS_WHY_MAX];
			if (units_parse_time_ns(v, &ns, why) || ns <= 0) {
				fprintf(err, "joulevisor: trace: %s: '%s': %s\n", a, v,
					ns <= 0 ? "must be positive" : why);
				return 2;
			}
			if (a[2] == 't')
				o->oo.time_unit_ns = ns;
			else
				o->oo.reorder_window_ns = ns;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return -1;
		} else if (a[0] == '-' && a[1]) {
			fprintf(err, "joulevisor: trace: unknown option '%s'\n", a);
			return 2;
		} else if (npos < 3) {
			pos[npos++] = a;
		} else {
			fprintf(err, "joulevisor: trace: too many arguments\n");
			return 2;
		}
#undef VAL
	}
	if (npos < 1) {
		fprintf(err, "joulevisor: trace: no input file given\n");
		return 2;
	}
	o->in = pos[0];
	if (npos >= 2 && !o->out)
		o->out = pos[1];
	if (want_out && !o->out) {
		fprintf(err, "joulevisor: trace: no output given (-o OUT)\n");
		return 2;
	}
	if (o->vm && o->n_rules) {
		fprintf(err, "joulevisor: trace: give --vm or --match, not both\n");
		return 2;
	}
	return 0;
}

static int64_t rec_time(const struct trc_record *r)
{
	switch (r->kind) {
	case TRC_PMC: return r->u.pmc.t_ns;
	case TRC_PMC_INTERVAL: return r->u.pmci.t_ns;
	case TRC_BLK: return r->u.blk.t_ns;
	default: return r->u.blki.t_ns;
	}
}

static int rec_vm(const struct trc_record *r)
{
	switch (r->kind) {
	case TRC_PMC: return r->u.pmc.vm;
	case TRC_PMC_INTERVAL: return r->u.pmci.vm;
	case TRC_BLK: return r->u.blk.vm;
	default: return r->u.blki.vm;
	}
}

static int write_rec(struct trc_writer *w, const struct trc_record *r, const char *vm)
{
	switch (r->kind) {
	case TRC_PMC: return trc_write_pmc(w, &r->u.pmc, vm);
	case TRC_PMC_INTERVAL: return trc_write_pmci(w, &r->u.pmci, vm);
	case TRC_BLK: return trc_write_blk(w, &r->u.blk, vm);
	default: return trc_write_blki(w, &r->u.blki, vm);
	}
}

static int open_in(const struct topts *o, struct trc_reader **r, FILE *err)
{
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = trc_open_opts(o->in, o->from ? o->from : "auto", &o->oo, r, &d);
	if (rc) {
		fprintf(err, "joulevisor: %s\n", d.msg);
		return jv_exit_code(rc);
	}
	return 0;
}

static int open_out(const char *path, struct trc_reader *r, struct trc_writer **w, FILE *err)
{
	const char *ctr[TRC_MAX_COUNTERS];
	int n = trc_n_counters(r);
	for (int i = 0; i < n; i++)
		ctr[i] = trc_counter_name(r, i);
	struct jv_diag d;
	jv_diag_clear(&d);
	int rc = trc_writer_open(path, trc_kind(r), ctr, n, w, &d);
	if (rc) {
		fprintf(err, "joulevisor: %s\n", d.msg);
		return jv_exit_code(rc);
	}
	return 0;
}

/* The VM name a record maps to, or NULL when unmapped. */
static const char *map_vm(const struct topts *o, struct trc_reader *r, int vm)
{
	const char *name = trc_vm_name(r, vm);
	if (o->vm)
		return o->vm;
	if (!o->n_rules)
		return name;
	const char *attrs = trc_vm_attrs(r, vm);
	for (int i = 0; i < o->n_rules; i++)
		if (trc_map_matches(&o->rules[i], name, attrs))
			return o->rule_vm[i];
	return NULL;
}

/* import / convert / cat: stream in -> out with the mapping. */
static int cmd_copy(const struct topts *o, FILE *out, FILE *err)
{
	struct trc_reader *r = NULL;
	struct trc_writer *w = NULL;
	uint64_t *unmapped = NULL;
	int nun = 0, rc = open_in(o, &r, err);
	if (rc)
		return rc;
	if ((rc = open_out(o->out, r, &w, err))) {
		trc_close(r);
		return rc;
	}
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	uint64_t n_in = 0, n_out = 0, n_unmapped = 0;
	int tty = isatty(2) && strcmp(o->out, "-") != 0;
	time_t last = time(NULL);
	int st;
	while ((st = trc_next(r, &rec, &d)) == 1) {
		n_in++;
		int vm = rec_vm(&rec);
		const char *name = map_vm(o, r, vm);
		if (!name) {
			n_unmapped++;
			if (vm >= nun) {
				int cap = nun ? nun : 16;
				while (cap <= vm)
					cap *= 2;
				uint64_t *nu = realloc(unmapped, (size_t)cap * sizeof *nu);
				if (!nu) {
					st = JV_ENOMEM;
					break;
				}
				memset(nu + nun, 0, (size_t)(cap - nun) * sizeof *nu);
				unmapped = nu;
				nun = cap;
			}
			unmapped[vm]++;
			continue;
		}
		if (write_rec(w, &rec, name)) {
			jv_diag_clear(&d);
			d = *trc_writer_diag(w);
			st = d.err ? d.err : JV_EIO;
			break;
		}
		n_out++;
		if (tty && (n_in % TRACE_PROGRESS_EVERY) == 0 && time(NULL) != last) {
			last = time(NULL);
			fprintf(err, "\rtrace: %" PRIu64 " records, %.1f MB read", n_in,
				(double)trc_bytes_read(r) / 1e6);
		}
	}
	if (tty)
		fputs("\r\033[K", err);
	if (st < 0) {
		fprintf(err, "joulevisor: %s\n", d.msg[0] ? d.msg : jv_strerror(st));
		trc_writer_abort(w);
		trc_close(r);
		free(unmapped);
		return jv_exit_code(st);
	}
	if (n_unmapped && !o->skip_unmapped) {
		fprintf(err, "joulevisor: %s: %" PRIu64 " record(s) match no --match rule "
			"(use --unmapped=skip to drop them):\n", o->in, n_unmapped);
		for (int i = 0; i < nun; i++)
			if (unmapped[i])
				fprintf(err, "  %s%s%s%s: %" PRIu64 " records\n", trc_vm_name(r, i),
					trc_vm_attrs(r, i)[0] ? " [" : "", trc_vm_attrs(r, i),
					trc_vm_attrs(r, i)[0] ? "]" : "", unmapped[i]);
		trc_writer_abort(w);
		trc_close(r);
		free(unmapped);
		return 2;
	}
	jv_diag_clear(&d);
	if (trc_writer_close(w, &d)) {
		fprintf(err, "joulevisor: %s\n", d.msg);
		trc_close(r);
		free(unmapped);
		return 1;
	}
	const char *why = "";
	uint64_t skipped = trc_skipped(r, &why);
	if (strcmp(o->out, "-") != 0)
		fprintf(out, "trace: %s (%s) -> %s: %" PRIu64 " records read, %" PRIu64
			" written, %" PRIu64 " skipped%s%s%s, %" PRIu64 " unmapped skipped\n",
			o->in, trc_format_name(r), o->out, n_in, n_out, skipped,
			skipped ? " (" : "", skipped ? why : "", skipped ? ")" : "", n_unmapped);
	trc_close(r);
	free(unmapped);
	return 0;
}

/* head / tail: the first or last N records as native CSV on stdout. */
static int cmd_ends(const struct topts *o, int tail, FILE *err)
{
	struct trc_reader *r = NULL;
	struct trc_writer *w = NULL;
	int rc = open_in(o, &r, err);
	if (rc)
		return rc;
	if ((rc = open_out("-", r, &w, err))) {
		trc_close(r);
		return rc;
	}
	long n = o->n >= 0 ? o->n : TRACE_DEFAULT_LINES;
	struct trc_record *ring = NULL;
	if (tail && n > 0 && !(ring = malloc((size_t)n * sizeof *ring))) {
		fprintf(err, "joulevisor: trace tail: out of memory for %ld records\n", n);
		trc_writer_abort(w);
		trc_close(r);
		return 1;
	}
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	long seen = 0;
	int st;
	while ((st = trc_next(r, &rec, &d)) == 1) {
		if (!tail) {
			if (seen >= n)
				break;
			write_rec(w, &rec, trc_vm_name(r, rec_vm(&rec)));
		} else if (n > 0) {
			ring[seen % n] = rec;
		}
		seen++;
	}
	if (st < 0) {
		fprintf(err, "joulevisor: %s\n", d.msg);
		trc_writer_abort(w);
		trc_close(r);
		free(ring);
		return jv_exit_code(st);
	}
	if (tail)
		for (long i = seen > n ? seen - n : 0; i < seen; i++)
			write_rec(w, &ring[i % n], trc_vm_name(r, rec_vm(&ring[i % n])));
	jv_diag_clear(&d);
	rc = trc_writer_close(w, &d) ? 1 : 0;
	if (rc)
		fprintf(err, "joulevisor: %s\n", d.msg);
	trc_close(r);
	free(ring);
	return rc;
}

static int cmd_info(const struct topts *o, FILE *out, FILE *err)
{
	struct trc_reader *r = NULL;
	int rc = open_in(o, &r, err);
	if (rc)
		return rc;
	struct trc_record rec;
	struct jv_diag d;
	jv_diag_clear(&d);
	uint64_t n = 0, reads = 0, writes = 0, *per_vm = NULL;
	int64_t t0 = 0, t1 = 0, bytes = 0, rbytes = 0, wbytes = 0;
	int nvm = 0, st;
	while ((st = trc_next(r, &rec, &d)) == 1) {
		int64_t t = rec_time(&rec);
		if (n == 0 || t < t0)
			t0 = t;
		if (n == 0 || t > t1)
			t1 = t;
		n++;
		int vm = rec_vm(&rec);
		if (vm >= nvm) {
			int cap = nvm ? nvm : 16;
			while (cap <= vm)
				cap *= 2;
			uint64_t *nv = realloc(per_vm, (size_t)cap * sizeof *nv);
			if (!nv) {
				st = JV_ENOMEM;
				break;
			}
			memset(nv + nvm, 0, (size_t)(cap - nvm) * sizeof *nv);
			per_vm = nv;
			nvm = cap;
		}
		per_vm[vm]++;
		if (rec.kind == TRC_BLK) {
			bytes += rec.u.blk.size_b;
			if (rec.u.blk.op == TRC_OP_READ) {
				reads++;
				rbytes += rec.u.blk.size_b;
			} else {
				writes++;
				wbytes += rec.u.blk.size_b;
			}
		} else if (rec.kind == TRC_BLK_INTERVAL) {
			reads += (uint64_t)rec.u.blki.reads;
			writes += (uint64_t)rec.u.blki.writes;
			rbytes += rec.u.blki.read_b;
			wbytes += rec.u.blki.write_b;
			bytes += rec.u.blki.read_b + rec.u.blki.write_b;
		}
	}
	if (st < 0) {
		fprintf(err, "joulevisor: %s\n", d.msg[0] ? d.msg : jv_strerror(st));
		trc_close(r);
		free(per_vm);
		return jv_exit_code(st);
	}
	double span_s = (double)(t1 - t0) * 1e-9;
	const char *why = "";
	uint64_t skipped = trc_skipped(r, &why);
	fprintf(out, "file: %s\n", o->in);
	fprintf(out, "format: %s\n", trc_format_name(r));
	fprintf(out, "kind: %s\n", trc_kind_name(trc_kind(r)));
	fprintf(out, "records: %" PRIu64 "\n", n);
	fprintf(out, "skipped: %" PRIu64 "%s%s%s\n", skipped, skipped ? " (" : "",
		skipped ? why : "", skipped ? ")" : "");
	fprintf(out, "file_bytes: %" PRIu64 "\n", trc_bytes_read(r));
	fprintf(out, "first_t_ns: %" PRId64 "\nlast_t_ns: %" PRId64 "\nspan_ns: %" PRId64 "\n",
		t0, t1, t1 - t0);
	fprintf(out, "rate_records_per_s: %.6g\n", span_s > 0 ? (double)n / span_s : 0.0);
	if (trc_kind(r) == TRC_BLK || trc_kind(r) == TRC_BLK_INTERVAL) {
		fprintf(out, "reads: %" PRIu64 "\nwrites: %" PRIu64 "\n", reads, writes);
		fprintf(out, "read_b: %" PRId64 "\nwrite_b: %" PRId64 "\ntransferred_b: %" PRId64 "\n",
			rbytes, wbytes, bytes);
		fprintf(out, "throughput_bytes_per_s: %.6g\n", span_s > 0 ? (double)bytes / span_s : 0.0);
	}
	fprintf(out, "counters: %d\n", trc_n_counters(r));
	for (int i = 0; i < trc_n_counters(r); i++)
		fprintf(out, "counter: %s\n", trc_counter_name(r, i));
	fprintf(out, "vms: %d\n", trc_n_vms(r));
	for (int i = 0; i < trc_n_vms(r); i++) {
		const char *attrs = trc_vm_attrs(r, i);
		fprintf(out, "vm: %s records=%" PRIu64 "%s%s\n", trc_vm_name(r, i),
			i < nvm ? per_vm[i] : 0, attrs[0] ? " " : "", attrs);
	}
	trc_close(r);
	free(per_vm);
	return 0;
}

int cli_trace_main(int argc, char **argv, FILE *out, FILE *err)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? err : out);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1];
	struct topts o;
	memset(&o, 0, sizeof o);
	o.n = -1;
	int want_out = !strcmp(sub, "import") || !strcmp(sub, "convert");
	if (!strcmp(sub, "import") || !strcmp(sub, "convert") || !strcmp(sub, "cat") ||
	    !strcmp(sub, "info") || !strcmp(sub, "head") || !strcmp(sub, "tail")) {
		int rc = parse_args(argc - 1, argv + 1, &o, want_out, err);
		if (rc)
			return rc < 0 ? 0 : rc;
	} else {
		fprintf(err, "joulevisor: trace: unknown subcommand '%s'\n", sub);
		usage(err);
		return 2;
	}
	if (!strcmp(sub, "import") && !o.from) {
		fprintf(err, "joulevisor: trace import: --from FORMAT is required\n");
		return 2;
	}
	if (!strcmp(sub, "convert") && (o.vm || o.n_rules)) {
		fprintf(err, "joulevisor: trace convert does not map VMs (use import)\n");
		return 2;
	}
	if (!strcmp(sub, "info"))
		return cmd_info(&o, out, err);
	if (!strcmp(sub, "head") || !strcmp(sub, "tail"))
		return cmd_ends(&o, sub[0] == 't', err);
	if (!strcmp(sub, "cat"))
		o.out = "-";
	return cmd_copy(&o, out, err);
}
