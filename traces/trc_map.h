/*
 * trc_map: mapping trace records onto scenario VMs by their source keys
 * ([vm NAME] match = KEY=VALUE[,KEY=VALUE...]; trace import --match).
 * A rule matches a record's VM name when every KEY=VALUE of the rule is
 * among the source keys the reader recorded for it (trc_vm_attrs), or, for
 * the key `name`, equals the name itself.
 */
#ifndef JV_TRC_MAP_H
#define JV_TRC_MAP_H

#define TRC_MAP_MAX_PAIRS 8
#define TRC_MAP_KEY_MAX 16
#define TRC_MAP_VAL_MAX 64

struct trc_map_rule {
	int target;            /* caller's index of the VM the rule maps to */
	int n;
	char key[TRC_MAP_MAX_PAIRS][TRC_MAP_KEY_MAX];
	char val[TRC_MAP_MAX_PAIRS][TRC_MAP_VAL_MAX];
};

/* The keys a rule may use. */
#define TRC_MAP_KEYS "host, disk, device, asu, pid, comm, cgroup, file, name"

/* Parse "host=hm,disk=0". Returns 0 or JV_EPARSE with a reason in why
 * (>= 160 bytes). */
int trc_map_parse(const char *spec, int target, struct trc_map_rule *out, char *why);
/* 1 when the rule matches a VM name with these source keys. */
int trc_map_matches(const struct trc_map_rule *r, const char *name, const char *attrs);

#endif
