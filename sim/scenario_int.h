/*
 * scenario_int: the parts of the scenario loader (sim/scenario.h) shared by
 * its files; not installed, included only by sim/scenario*.c. The loader's
 * theory of operation: the top of sim/scenario.c.
 *
 * Which file does what:
 *  - scenario.c: the theory of operation, helpers (strings, names, paths,
 *    suggestions), option slots and their origins, the public API
 *    (scn_load, scn_free, the index look-ups).
 *  - scenario_parse.c: parsing one value (numbers, ranges, enums, lists)
 *    and setting an option instance from its text (opt_set).
 *  - scenario_read.c: reading files (the line reader, section headers,
 *    includes) and applying defaults, the preset, entries and overrides.
 *  - scenario_final.c: finalize: values that depend on other options,
 *    cross-field checks, the weights file, the manager.
 *  - scenario_out.c: the resolved scenario (scn_write_resolved) and
 *    `joulevisor help scenario` (scn_print_help).
 *  - scenario_opts.c: the option table and the machine presets.
 *
 * Functions called from another file carry the prefix scn_int_ (they are
 * internal to the loader and declared only here); their prototypes below
 * are grouped by the file that defines them.
 */
#ifndef JV_SCENARIO_INT_H
#define JV_SCENARIO_INT_H

#include "sim/scenario.h"
#include "models/throttle.h"
#include "traces/trc_map.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "base/units.h"
#include "sim/scenario_opts.h"

#define SCN_LINE_MAX_B 199    /* longest accepted line, without CR LF */
#define SCN_MAX_INPUTS 64     /* size of scn.input[] */
#define SCN_QUOTE_MAX 60      /* longest offending text quoted in a message */
#define SCN_MSG_MAX 640       /* one message body */
#define SCN_UTF8_BOM "\xEF\xBB\xBF"

enum src { SRC_NONE = 0, SRC_DEFAULT, SRC_PRESET, SRC_FILE, SRC_SET };

/* Where an option instance got its value. */
struct origin {
	int src;
	const char *file;  /* SRC_FILE: file name as displayed */
	const char *dir;   /* SRC_FILE: directory for relative paths */
	long line;         /* SRC_FILE */
	const char *ovkey; /* SRC_SET: the --set key */
};

/* One file read (scenario or include). */
struct srcfile {
	char *name; /* as opened, used in messages */
	char *dir;  /* its directory, for includes and paths */
};

/* One `key = value` line, not yet interpreted. */
struct ent {
	int opt;
	int sec;  /* enum scn_sec */
	int inst; /* VM or container index, 0 otherwise */
	const struct srcfile *sf;
	long line;
	char *value;
};

struct pos {
	const char *file;
	long line;
};

struct ld {
	struct scn *s;
	struct jv_diag *d;
	const char *top; /* top file name for messages */
	struct srcfile **files;
	int n_files;
	struct ent *ents;
	int n_ents, cap_ents;
	int n_headers;                          /* section headers seen */
	struct pos cont_pos[SCN_MAX_CONTAINERS]; /* [container] headers */
	/* include stack for cycle detection */
	char *stack_real[SCN_MAX_INCLUDE_DEPTH + 1];
	const char *stack_name[SCN_MAX_INCLUDE_DEPTH + 1];
	int depth;
	/* per option instance: slot * scn_opt_count + opt */
	int n_slots;
	struct origin *org;
	char **raw;
};

/* One file being parsed: the reader's and the handler's state. */
struct fctx {
	struct ld *L;
	FILE *fp;
	const struct srcfile *sf;
	int depth;
	long line;
	int sec;  /* current section kind, -1 before the first header */
	int inst; /* current VM / container index */
	char key[SCN_LINE_MAX_B + 1];
};

/* A name:value item of a weight or rate list. */
struct pair {
	char name[SCN_NAME_MAX];
	double v;
};

#define FLD(base, off, T) ((T *)((char *)(base) + (off)))


/* scenario.c */
char *scn_int_xstrdup(const char *s);
const char *scn_int_skip_ws(const char *p);
int scn_int_trim_copy(const char *s, size_t len, char *buf, size_t n);
int scn_int_valid_name(const char *s);
void scn_int_consider(const char *word, const char *cand, const char **best,
		      size_t *best_d);
int scn_int_sec_by_name(const char *name);
const char *scn_int_sec_suggest(const char *word);
const char *scn_int_sec_display(int sec);
int scn_int_find_opt(int sec, const char *key);
void scn_int_key_hint(int sec, const char *key, char *buf, size_t n);
void scn_int_list_counters(const struct scn *s, char *buf, size_t n);
int scn_int_is_abs_or_stdin(const char *p);
char *scn_int_path_join(const char *dir, const char *p);
char *scn_int_dir_of(const char *path);
int scn_int_nomem(struct ld *L);
int scn_int_add_input(struct ld *L, const char *path);
int scn_int_slot_of(const struct ld *L, int sec, int inst);
/* The struct of section sec (instance inst of a vm or container). */
const void *scn_int_sec_base(const struct scn *s, int sec, int inst);
void *scn_int_slot_base(struct ld *L, const struct scn_opt *o, int slot);
struct origin *scn_int_org_at(struct ld *L, int opt, int slot);
char **scn_int_raw_at(struct ld *L, int opt, int slot);
int scn_int_explicit_src(const struct origin *o);
int scn_int_opt_err(struct ld *L, int err, int opt, int slot,
		    const struct origin *o, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
const struct origin *scn_int_blame(const struct origin *a, const struct origin *b);

/* scenario_parse.c */
int scn_int_parse_pairs(const char *text, int is_rate, struct pair *out, int *n,
			char *why, size_t whyn);
int scn_int_opt_set(struct ld *L, int opt, int slot, const char *value,
		    const struct origin *org);

/* scenario_read.c */
int scn_int_parse_file(struct ld *L, const char *path, const struct fctx *from,
		       int depth);
int scn_int_apply_defaults(struct ld *L);
int scn_int_apply_preset(struct ld *L, const struct scn_override *ov, int n_ov);
int scn_int_apply_entries(struct ld *L);
int scn_int_apply_overrides(struct ld *L, const struct scn_override *ov, int n_ov);

/* scenario_final.c */
int scn_int_finalize(struct ld *L);

#endif /* JV_SCENARIO_INT_H */
