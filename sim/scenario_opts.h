/*
 * scenario_opts: the option table and machine presets behind scenario.c
 * (private to sim/scenario*.c). One table drives parsing, defaults,
 * validation, --set, help and scenario.resolved.ini.
 */
#ifndef JV_SCENARIO_OPTS_H
#define JV_SCENARIO_OPTS_H

#include <stddef.h>

/* Section kinds, in the order scn_write_resolved() prints them. */
enum scn_sec {
	SCN_SEC_GLOBAL = 0,
	SCN_SEC_MACHINE,
	SCN_SEC_CPU,
	SCN_SEC_DISK,
	SCN_SEC_VM,        /* [vm NAME] */
	SCN_SEC_CONTAINER, /* [container VM/NAME] */
	SCN_SEC_MANAGER,
	SCN_SEC_OUTPUT,
	SCN_SEC_COUNT
};

enum scn_opt_type {
	SCN_T_TIME,         /* int64_t ns */
	SCN_T_POWER,        /* double W */
	SCN_T_ENERGY,       /* double J */
	SCN_T_SIZE,         /* int64_t B */
	SCN_T_RATE,         /* double B/s */
	SCN_T_FREQ,         /* double Hz */
	SCN_T_DOUBLE,       /* double */
	SCN_T_INT,          /* int */
	SCN_T_UINT32,       /* uint32_t (shown as int) */
	SCN_T_UINT64,       /* uint64_t */
	SCN_T_ENUM,         /* int = index in allowed[] + enum_base; or string */
	SCN_T_STRING,       /* char[size] */
	SCN_T_PATH,         /* malloc'd char *, NULL when empty */
	SCN_T_PATH_LIST,    /* char *[SCN_MAX_TRACES] at off, int count at off2 */
	SCN_T_COUNTER_LIST, /* cpu.counter[][] and cpu.n_counters */
	SCN_T_WEIGHT_LIST,  /* double[SCN_MAX_COUNTERS] J/event, resolved late */
	SCN_T_RATE_LIST,    /* struct scn_rates, resolved late */
	SCN_T_POWER_AUTO,   /* `auto` or a power: double W at off, int auto at off2 */
	SCN_T_COUNTER,      /* a counter name, resolved late to an index at off */
	SCN_T_DISK,         /* `diskN` -> int N */
	SCN_T_INCLUDE,      /* [global] include: handled by the loader */
};

/* flags */
#define SCN_F_REPEATABLE  0x0001u /* each occurrence appends */
#define SCN_F_DRIVER_ONLY 0x0002u /* [vm] key for kind = driver only */
#define SCN_F_GUEST_ONLY  0x0004u /* [vm] key for kind = guest only */
#define SCN_F_MIN_EXCL    0x0008u /* min is exclusive: (min, ... */
#define SCN_F_MAX_EXCL    0x0010u /* max is exclusive: ..., max) */
#define SCN_F_NAME        0x0020u /* string: [A-Za-z0-9_.-]+ */
#define SCN_F_EMPTY_OK    0x0040u /* string: "" allowed */
#define SCN_F_NONE_OK     0x0080u /* counter: `none` -> -1 */
#define SCN_F_ENUM_STR    0x0100u /* enum stored as its name in char[size] */
#define SCN_F_PRESET      0x0200u /* a machine preset sets this option */
#define SCN_F_NO_WRITE    0x0400u /* not written to scenario.resolved.ini */

struct scn_opt {
	enum scn_sec sec;
	const char *key;
	enum scn_opt_type type;
	size_t off;   /* offset in the section's struct */
	size_t off2;  /* second field (PATH_LIST count, POWER_AUTO flag) */
	size_t size;  /* char[] size for STRING and ENUM_STR */
	const char *def; /* default, parsed like a user value ("" = empty) */
	const char *min, *max; /* numeric range, parsed like a value; NULL = open */
	const char *const *allowed; /* ENUM: NULL-terminated names */
	int enum_base; /* ENUM: value of allowed[0] */
	unsigned flags;
	const char *help;
	const char *def_help; /* help's default text when def does not say it */
};

extern const struct scn_opt scn_opt_table[];
extern const int scn_opt_count;

/* section names as written in headers: "global", "vm", ... */
extern const char *const scn_sec_names[SCN_SEC_COUNT];

/* One preset value: option (sec, key) gets value. SCN_SEC_VM and
 * SCN_SEC_CONTAINER values apply to every such section. */
struct scn_preset_val {
	enum scn_sec sec;
	const char *key;
	const char *value;
};

struct scn_preset {
	const char *name;
	const struct scn_preset_val *vals;
	int n_vals;
	const char *help;
};

extern const struct scn_preset scn_presets[];
extern const int scn_preset_count;

#endif
