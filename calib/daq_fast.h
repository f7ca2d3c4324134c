/*
 * daq_fast: the meter importer's own splitter for plain lines (private to
 * calib/daq.c and its tests; see the theory of operation in daq_fast.c).
 */
#ifndef JV_CAL_DAQ_FAST_H
#define JV_CAL_DAQ_FAST_H

#include <stddef.h>

#include "calib/daq.h"

/* What the importer reads from a field index: up to DAQ_NEED_TIME the
 * number fast paths apply; DAQ_NEED_LIMIT marks the first field index past
 * the allowed count. */
enum { DAQ_NEED_NONE = 0, DAQ_NEED_NUM, DAQ_NEED_TIME, DAQ_NEED_ISO, DAQ_NEED_LIMIT };

/* One line's outcome (cal_daq_split_line()). */
enum {
	DAQ_SPLIT_ROW = 0, /* a row: its needed numbers stored, nf and all_empty set */
	DAQ_SPLIT_BLANK,   /* no field at all (libcsv: an empty row): skip the line */
	DAQ_SPLIT_DECLINE, /* anything else: the line must go to libcsv */
};

/* Byte classes of the splitter (cls[]). */
enum { DAQ_C_OTHER = 0, DAQ_C_BLANK, DAQ_C_DELIM, DAQ_C_CR, DAQ_C_LF };

struct cal_daq_split {
	unsigned char cls[256];     /* DAQ_C_* per byte */
	const unsigned char *need;  /* DAQ_NEED_* per field index, DAQ_NEED_LIMIT at the limit */
	double *const *dst;         /* where field k's number goes (need NUM or TIME) */
	int nf;                     /* fields of the last row (a trailing empty one dropped) */
	int all_empty;              /* every field of the last row was empty */
};

/* Whether the splitter can stand in for libcsv with delimiter delim
 * (not white-space mode, not a byte a number is made of). */
int cal_daq_split_usable(int delim, int ws_mode);
/* Set up s for delimiter delim, field kinds need[] and destinations dst[]
 * (both kept by pointer). */
void cal_daq_split_init(struct cal_daq_split *s, int delim, const unsigned char *need,
			double *const *dst);
/* One line starting at p; the caller guarantees a '\n' in [p, e) and no
 * quote character or NUL byte before it. Returns DAQ_SPLIT_* and sets *next
 * to the byte after the line's '\n'. On DAQ_SPLIT_DECLINE, values of dst[]
 * may have been written (the caller rereads the line through libcsv). */
int cal_daq_split_line(struct cal_daq_split *s, const char *p, const char *e,
		       const char **next);

/* Internal variants of cal_meter_load() for tests and benchmarks. */
#define CAL_DAQ_NO_SPLIT 1 /* every line through libcsv (the reference path) */
/* buf_b: starting read-buffer size in bytes (0: the default); small ones
 * put buffer boundaries inside lines. */
int cal_daq_load(const char *path, const struct cal_meter_opts *o, int flags, size_t buf_b,
		 struct cal_meter **out, struct jv_diag *d);

#endif
