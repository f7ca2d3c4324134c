/*
 * trc_map: theory of operation.
 *
 * Problem: real traces name their sources their own way (MSR `hm_0`,
 * blktrace pids, fio file names); a scenario names VMs. Readers record,
 * per source name, key=value pairs (traces/trc_impl.h); a rule of the
 * scenario or of `trace import --match` says which keys make up a VM.
 *
 * Strategy: a rule is up to 8 KEY=VALUE pairs, all of which must match
 * (AND); rules are tried in order and the first match wins. Values are
 * compared as strings. Keys are checked when the rule is parsed so a typo
 * is an error at load time, not a silent non-match.
 *
 * Worked example: attrs "host=hm,disk=0": rule "host=hm" matches, rule
 * "host=hm,disk=1" does not, rule "name=hm_0" matches the name `hm_0`.
 */
#include "traces/trc_map.h"

#include <stdio.h>
#include <string.h>

#include "base/jv_err.h"

static const char *const valid_keys[] = {"host", "disk", "device", "asu", "pid",
					 "comm", "cgroup", "file", "name", NULL};

int trc_map_parse(const char *spec, int target, struct trc_map_rule *out, char *why)
{
	memset(out, 0, sizeof *out);
	out->target = target;
	const char *p = spec;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (!eq || eq == p || eq == p + len - 1) {
			snprintf(why, 160, "expected KEY=VALUE, got '%.*s'", (int)len, p);
			return JV_EPARSE;
		}
		size_t kl = (size_t)(eq - p), vl = len - kl - 1;
		if (out->n >= TRC_MAP_MAX_PAIRS) {
			snprintf(why, 160, "at most %d KEY=VALUE pairs", TRC_MAP_MAX_PAIRS);
			return JV_EPARSE;
		}
		if (kl >= TRC_MAP_KEY_MAX || vl >= TRC_MAP_VAL_MAX) {
			snprintf(why, 160, "key or value too long in '%.*s'", (int)len, p);
			return JV_EPARSE;
		}
		memcpy(out->key[out->n], p, kl);
		memcpy(out->val[out->n], eq + 1, vl);
		int ok = 0;
		for (int i = 0; valid_keys[i]; i++)
			if (strcmp(valid_keys[i], out->key[out->n]) == 0)
				ok = 1;
		if (!ok) {
			snprintf(why, 160, "unknown key '%s' (valid: %s)", out->key[out->n],
				 TRC_MAP_KEYS);
			return JV_EPARSE;
		}
		out->n++;
		p = end ? end + 1 : p + len;
	}
	if (out->n == 0) {
		snprintf(why, 160, "empty rule (expected KEY=VALUE[,KEY=VALUE...])");
		return JV_EPARSE;
	}
	return 0;
}

/* Is "key=val" one of the comma-separated pairs of attrs? */
static int has_pair(const char *attrs, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val);
	const char *p = attrs;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == kl + 1 + vl && memcmp(p, key, kl) == 0 && p[kl] == '=' &&
		    memcmp(p + kl + 1, val, vl) == 0)
			return 1;
		p = end ? end + 1 : p + len;
	}
	return 0;
}

int trc_map_matches(const struct trc_map_rule *r, const char *name, const char *attrs)
{
	for (int i = 0; i < r->n; i++) {
		if (strcmp(r->key[i], "name") == 0) {
			if (strcmp(r->val[i], name) != 0)
				return 0;
		} else if (!has_pair(attrs ? attrs : "", r->key[i], r->val[i])) {
			return 0;
		}
	}
	return 1;
}
