/*
 * scenario_out: print a scenario: the resolved file (scn_write_resolved,
 * values in their exact shortest form) and `joulevisor help scenario`
 * (scn_print_help).
 *
 * The loader's theory of operation: the top of sim/scenario.c; its
 * other files: sim/scenario_int.h.
 */
#include "sim/scenario_int.h"

/* ------------------------------------------------------ resolved output */

struct unit_fmt {
	const char *sfx;
	double mult;
};

static const struct unit_fmt fmt_energy[] = {
	{ "J", 1 }, { "mJ", 1e-3 }, { "uJ", 1e-6 }, { "nJ", 1e-9 }, { "pJ", 1e-12 },
	{ NULL, 0 } };
static const struct unit_fmt fmt_power[] = {
	{ "W", 1 }, { "mW", 1e-3 }, { "kW", 1e3 }, { NULL, 0 } };
static const struct unit_fmt fmt_rate[] = {
	{ "B/s", 1 }, { "KB/s", 1e3 }, { "MB/s", 1e6 }, { "GB/s", 1e9 },
	{ "KiB/s", 1024.0 }, { "MiB/s", 1048576.0 }, { NULL, 0 } };
static const struct unit_fmt fmt_freq[] = {
	{ "Hz", 1 }, { "kHz", 1e3 }, { "MHz", 1e6 }, { "GHz", 1e9 }, { NULL, 0 } };
static const struct unit_fmt fmt_plain[] = { { "", 1 }, { NULL, 0 } };

typedef int (*dbl_parser)(const char *, double *, char *);

/* "4e+09" -> "4e9", "1.5e-05" -> "1.5e-5": same value, easier to read. */
static void tidy_exponent(char *num)
{
	char *e = strchr(num, 'e');
	if (!e)
		return;
	char *src = e + 1, *dst = e + 1;
	if (*src == '+')
		src++;
	else if (*src == '-')
		*dst++ = *src++;
	while (*src == '0' && isdigit((unsigned char)src[1]))
		src++;
	memmove(dst, src, strlen(src) + 1);
}

/* Length of a candidate, exponents counting extra: prefer "100nJ" to
 * "1e2nJ". */
static size_t fmt_cost(const char *c)
{
	return strlen(c) + (strchr(c, 'e') ? 2 : 0);
}

/* Keep cand in best if it reads back as exactly v and is shorter; returns
 * whether it reads back exactly. */
static int fmt_try(const char *cand, double v, dbl_parser parse, char *best,
		   size_t n)
{
	double back;
	char why[UNITS_WHY_MAX];
	if (parse(cand, &back, why) || back != v || signbit(back) != signbit(v))
		return 0;
	if (!best[0] || fmt_cost(cand) < fmt_cost(best))
		snprintf(best, n, "%s", cand);
	return 1;
}

/* Shortest text in one of the units that parses back to exactly v. */
static void fmt_exact(double v, const struct unit_fmt *u, dbl_parser parse,
		      char *buf, size_t n)
{
	enum { EXACT_INT_MAX = 1000000000000000 }; /* 1e15: %.0f is exact */
	char best[64] = "", cand[64], num[48];
	for (; u->sfx; u++) {
		double x = v / u->mult;
		if (fabs(x) < (double)EXACT_INT_MAX) {
			snprintf(cand, sizeof cand, "%.0f%s", x, u->sfx);
			fmt_try(cand, v, parse, best, sizeof best);
		}
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(num, sizeof num, "%.*g", prec, x);
			tidy_exponent(num);
			snprintf(cand, sizeof cand, "%s%s", num, u->sfx);
			if (fmt_try(cand, v, parse, best, sizeof best))
				break; /* more digits only get longer */
		}
	}
	if (!best[0]) /* cannot happen for finite v; keep it loadable anyway */
		snprintf(best, sizeof best, "%.17g", v);
	snprintf(buf, n, "%s", best);
}

static void fmt_size(int64_t b, char *buf, size_t n)
{
	static const struct {
		int64_t div;
		const char *sfx;
	} u[] = { { 1073741824, "GiB" }, { 1048576, "MiB" }, { 1024, "KiB" } };
	for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
		if (b != 0 && b % u[i].div == 0) {
			snprintf(buf, n, "%" PRId64 "%s", b / u[i].div, u[i].sfx);
			return;
		}
	snprintf(buf, n, "%" PRId64 "B", b);
}

static void fmt_pairs(const struct scn *s, const double *v, int is_rate,
		      char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < s->cpu.n_counters && used < n; i++) {
		if (v[i] == 0.0)
			continue;
		char num[64];
		if (is_rate)
			fmt_exact(v[i], fmt_plain, units_parse_double, num, sizeof num);
		else
			fmt_exact(v[i], fmt_energy, units_parse_energy_j, num,
				  sizeof num);
		used += (size_t)snprintf(buf + used, n - used, "%s%s:%s",
					 used ? "," : "", s->cpu.counter[i], num);
	}
}

static void fmt_path(const char *p, char *buf, size_t n)
{
	char cwd[PATH_MAX];
	if (!p) {
		buf[0] = '\0';
	} else if (scn_int_is_abs_or_stdin(p) || !getcwd(cwd, sizeof cwd)) {
		snprintf(buf, n, "%s", p);
	} else {
		size_t lc = strlen(cwd), lp = strlen(p);
		if (lc + 1 + lp >= n) {
			snprintf(buf, n, "%s", p); /* cannot grow: keep as given */
			return;
		}
		memcpy(buf, cwd, lc);
		buf[lc] = '/';
		memcpy(buf + lc + 1, p, lp + 1);
	}
}

static int put_line(FILE *f, const char *key, const char *value)
{
	size_t len = strlen(key) + 3 + strlen(value);
	if (len > SCN_LINE_MAX_B)
		fprintf(f, "; the next line is longer than %d bytes and will not "
			"reload\n", SCN_LINE_MAX_B);
	return fprintf(f, "%s =%s%s\n", key, value[0] ? " " : "", value) < 0
		       ? JV_EIO
		       : 0;
}

/* Text of one option instance of a loaded scenario. */
static void fmt_value(const struct scn *s, const struct scn_opt *o,
		      const void *base, char *buf, size_t n)
{
	switch (o->type) {
	case SCN_T_TIME:
		units_fmt_time_ns(*FLD(base, o->off, int64_t), buf);
		break;
	case SCN_T_SIZE:
		fmt_size(*FLD(base, o->off, int64_t), buf, n);
		break;
	case SCN_T_POWER:
		fmt_exact(*FLD(base, o->off, double), fmt_power,
			  units_parse_power_w, buf, n);
		break;
	case SCN_T_POWER_AUTO:
		if (*FLD(base, o->off2, int))
			snprintf(buf, n, "auto");
		else
			fmt_exact(*FLD(base, o->off, double), fmt_power,
				  units_parse_power_w, buf, n);
		break;
	case SCN_T_ENERGY:
		fmt_exact(*FLD(base, o->off, double), fmt_energy,
			  units_parse_energy_j, buf, n);
		break;
	case SCN_T_RATE:
		fmt_exact(*FLD(base, o->off, double), fmt_rate,
			  units_parse_rate_bps, buf, n);
		break;
	case SCN_T_FREQ:
		fmt_exact(*FLD(base, o->off, double), fmt_freq,
			  units_parse_freq_hz, buf, n);
		break;
	case SCN_T_DOUBLE:
		fmt_exact(*FLD(base, o->off, double), fmt_plain,
			  units_parse_double, buf, n);
		break;
	case SCN_T_INT:
		snprintf(buf, n, "%d", *FLD(base, o->off, int));
		break;
	case SCN_T_UINT32:
		snprintf(buf, n, "%" PRIu32, *FLD(base, o->off, uint32_t));
		break;
	case SCN_T_UINT64:
		snprintf(buf, n, "%" PRIu64, *FLD(base, o->off, uint64_t));
		break;
	case SCN_T_ENUM:
		if (o->flags & SCN_F_ENUM_STR)
			snprintf(buf, n, "%s", FLD(base, o->off, char));
		else
			snprintf(buf, n, "%s",
				 o->allowed[*FLD(base, o->off, int) - o->enum_base]);
		break;
	case SCN_T_STRING:
		snprintf(buf, n, "%s", FLD(base, o->off, char));
		break;
	case SCN_T_PATH:
		fmt_path(*FLD(base, o->off, char *), buf, n);
		break;
	case SCN_T_COUNTER_LIST: {
		size_t used = 0;
		buf[0] = '\0';
		for (int i = 0; i < s->cpu.n_counters && used < n; i++)
			used += (size_t)snprintf(buf + used, n - used, "%s%s",
						 i ? "," : "", s->cpu.counter[i]);
		break;
	}
	case SCN_T_WEIGHT_LIST:
	case SCN_T_RATE_LIST:
		fmt_pairs(s, FLD(base, o->off, double),
			  o->type == SCN_T_RATE_LIST, buf, n);
		break;
	case SCN_T_COUNTER: {
		int idx = *FLD(base, o->off, int);
		snprintf(buf, n, "%s", idx < 0 ? "none" : s->cpu.counter[idx]);
		break;
	}
	case SCN_T_DISK:
		snprintf(buf, n, "disk%d", *FLD(base, o->off, int));
		break;
	case SCN_T_PATH_LIST:
	case SCN_T_INCLUDE:
		buf[0] = '\0';
		break;
	}
}

static int write_section(const struct scn *s, FILE *f, int sec, int inst)
{
	enum { VALUE_MAX = 2048 };
	char buf[VALUE_MAX];
	const void *base = scn_int_sec_base(s, sec, inst);
	int rc = 0;
	if (sec == SCN_SEC_VM)
		fprintf(f, "\n[vm %s]\n", s->vm[inst].name);
	else if (sec == SCN_SEC_CONTAINER)
		fprintf(f, "\n[container %s]\n", s->container[inst].name);
	else
		fprintf(f, "%s[%s]\n", sec == SCN_SEC_GLOBAL ? "" : "\n",
			scn_sec_names[sec]);
	for (int i = 0; i < scn_opt_count && !rc; i++) {
		const struct scn_opt *o = &scn_opt_table[i];
		if ((int)o->sec != sec || (o->flags & SCN_F_NO_WRITE))
			continue;
		if (sec == SCN_SEC_VM) {
			int drv = s->vm[inst].kind == SCN_VM_DRIVER;
			if (((o->flags & SCN_F_DRIVER_ONLY) && !drv) ||
			    ((o->flags & SCN_F_GUEST_ONLY) && drv))
				continue;
		}
		if (o->type == SCN_T_PATH_LIST) {
			char *const *list = FLD(base, o->off, char *const);
			int n = *FLD(base, o->off2, const int);
			for (int t = 0; t < n && !rc; t++) {
				fmt_path(list[t], buf, sizeof buf);
				rc = put_line(f, o->key, buf);
			}
			continue;
		}
		fmt_value(s, o, base, buf, sizeof buf);
		rc = put_line(f, o->key, buf);
	}
	return rc;
}

int scn_write_resolved(const struct scn *s, FILE *f)
{
	int rc = 0;
	fputs("; joulevisor scenario.resolved.ini: every option after defaults, "
	      "preset, file and --set\n", f);
	static const int order[] = { SCN_SEC_GLOBAL, SCN_SEC_MACHINE, SCN_SEC_CPU,
				     SCN_SEC_DISK };
	for (size_t i = 0; i < sizeof order / sizeof order[0] && !rc; i++)
		rc = write_section(s, f, order[i], 0);
	for (int i = 0; i < s->n_vms && !rc; i++)
		rc = write_section(s, f, SCN_SEC_VM, i);
	for (int i = 0; i < s->n_containers && !rc; i++)
		rc = write_section(s, f, SCN_SEC_CONTAINER, i);
	if (!rc)
		rc = write_section(s, f, SCN_SEC_MANAGER, 0);
	if (!rc)
		rc = write_section(s, f, SCN_SEC_OUTPUT, 0);
	if (!rc && (ferror(f) || fflush(f)))
		rc = JV_EIO;
	return rc;
}

/* ------------------------------------------------------------------ help */

static const char *type_name(int t)
{
	static const char *const names[] = {
		[SCN_T_TIME] = "time",          [SCN_T_POWER] = "power",
		[SCN_T_ENERGY] = "energy",      [SCN_T_SIZE] = "size",
		[SCN_T_RATE] = "rate",          [SCN_T_FREQ] = "freq",
		[SCN_T_DOUBLE] = "double",      [SCN_T_INT] = "int",
		[SCN_T_UINT32] = "int",         [SCN_T_UINT64] = "uint64",
		[SCN_T_ENUM] = "enum",          [SCN_T_STRING] = "string",
		[SCN_T_PATH] = "path",          [SCN_T_PATH_LIST] = "path-list",
		[SCN_T_COUNTER_LIST] = "counter-list",
		[SCN_T_WEIGHT_LIST] = "weight-list",
		[SCN_T_RATE_LIST] = "rate-list",
		[SCN_T_POWER_AUTO] = "power|auto", [SCN_T_COUNTER] = "counter",
		[SCN_T_DISK] = "disk",          [SCN_T_INCLUDE] = "path",
	};
	return names[t];
}

/* The preset values that replace option (sec, key)'s default. */
static void preset_defaults(const struct scn_opt *o, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int p = 0; p < scn_preset_count; p++)
		for (int v = 0; v < scn_presets[p].n_vals; v++) {
			const struct scn_preset_val *pv = &scn_presets[p].vals[v];
			if (pv->sec == o->sec && !strcmp(pv->key, o->key) && used < n)
				used += (size_t)snprintf(buf + used, n - used,
							 " (%s: %s)",
							 scn_presets[p].name,
							 pv->value);
		}
}

void scn_print_help(FILE *f)
{
	fputs("Scenario files (INI). Syntax: `[section]` headers, `key = value` "
	      "lines,\n"
	      "comments start with ; or # (also `value ; comment`). Lines are at "
	      "most 199 bytes;\n"
	      "indented (continuation) lines are errors. Values take unit "
	      "suffixes:\n"
	      "  time ns us ms s min h; energy J mJ uJ nJ pJ kJ; power W mW uW kW;"
	      "\n  size B KiB MiB GiB KB MB GB (K M G = KiB MiB GiB); rate B/s KB/s "
	      "MB/s GB/s KiB/s MiB/s GiB/s;\n  freq Hz kHz MHz GHz; a bare "
	      "number is in the base unit.\n"
	      "Precedence, lowest first: default < [machine] preset < file < "
	      "--set.\n"
	      "[global] include = FILE reads FILE in place (relative to the "
	      "including file).\n"
	      "--set KEY=VALUE: KEY is section.key, vm.NAME.key or "
	      "container.VM/NAME.key.\n"
	      "Lists: counter-list `a,b,c`; weight-list `name:energy,...` "
	      "(J/event);\n"
	      "rate-list `name:number,...` (events per CPU second; not the TSC)."
	      "\n\nPresets:\n", f);
	for (int p = 0; p < scn_preset_count; p++)
		fprintf(f, "  %-11s %s\n", scn_presets[p].name, scn_presets[p].help);
	fputs("\nOptions:\n", f);
	for (int i = 0; i < scn_opt_count; i++) {
		const struct scn_opt *o = &scn_opt_table[i];
		char def[512], range[256] = "", presets[512];
		if (o->def_help)
			snprintf(def, sizeof def, "%s", o->def_help);
		else
			snprintf(def, sizeof def, "%s", o->def[0] ? o->def : "(none)");
		preset_defaults(o, presets, sizeof presets);
		if (o->allowed) {
			size_t used = (size_t)snprintf(range, sizeof range, "allowed:");
			for (int a = 0; o->allowed[a] && used < sizeof range; a++)
				used += (size_t)snprintf(range + used,
							 sizeof range - used, "%s%s",
							 a ? "|" : " ", o->allowed[a]);
		} else if (o->min || o->max) {
			snprintf(range, sizeof range, "%c%s, %s%c",
				 (o->flags & SCN_F_MIN_EXCL) ? '(' : '[',
				 o->min ? o->min : "-inf", o->max ? o->max : "inf",
				 (o->flags & SCN_F_MAX_EXCL) || !o->max ? ')' : ']');
		}
		fprintf(f, "[%s] %s  %s  default=%s%s%s%s  %s%s%s\n",
			scn_int_sec_display(o->sec), o->key, type_name(o->type), def,
			presets, range[0] ? "  " : "", range, o->help,
			(o->flags & SCN_F_REPEATABLE) ? " (repeatable)" : "",
			(o->flags & SCN_F_DRIVER_ONLY) ? " (driver VMs only)"
			: (o->flags & SCN_F_GUEST_ONLY) ? " (guest VMs only)" : "");
	}
	fputs("[manager]  (no keys yet)\n", f);
}
