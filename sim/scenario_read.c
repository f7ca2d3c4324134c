/*
 * scenario_read: read scenario files and apply them: the line reader
 * driving libinih, section headers, includes, then defaults, the preset,
 * the entries in file order and the --set overrides.
 *
 * The loader's theory of operation: the top of sim/scenario.c; its
 * other files: sim/scenario_int.h.
 */
#include "sim/scenario_int.h"

/* ------------------------------------------------------------- reading */

static int file_err(struct fctx *f, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int file_err(struct fctx *f, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jv_diag_vset(f->L->d, err, f->sf->name, f->line, fmt, ap);
	va_end(ap);
	return err;
}

/* inih's find_chars_or_comment(): first of chars, or an inline ';'
 * comment (a ';' after white space), or the end. */
static char *find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;
	while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static int header_vm(struct fctx *f, const char *arg)
{
	/* consumers the ledger always has (design §4) */
	static const char *const reserved[] = { "hypervisor", "unattributed" };
	struct ld *L = f->L;
	struct scn *s = L->s;
	if (!scn_int_valid_name(arg))
		return file_err(f, JV_EPARSE,
				"bad VM name '%.*s' in [vm %.*s] (use A-Z a-z 0-9 "
				"_ . -, 1..63 characters, not . or ..)", SCN_QUOTE_MAX, arg,
				SCN_QUOTE_MAX, arg);
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (!strcmp(arg, reserved[i]))
			return file_err(f, JV_EINVAL,
					"VM name '%s' is reserved (it names a "
					"consumer in every output)", arg);
	for (int i = 0; i < s->n_vms; i++)
		if (!strcmp(s->vm[i].name, arg))
			return file_err(f, JV_EEXIST,
					"duplicate VM '%s', first defined at %s:%d",
					arg, s->vm[i].file, s->vm[i].line);
	if (s->n_vms >= SCN_MAX_VMS)
		return file_err(f, JV_ELIMIT, "too many VMs (max %d)", SCN_MAX_VMS);
	struct scn_vm *vm = &s->vm[s->n_vms];
	memcpy(vm->name, arg, strlen(arg) + 1); /* valid: < SCN_NAME_MAX */
	vm->file = scn_int_xstrdup(f->sf->name);
	if (!vm->file)
		return scn_int_nomem(L);
	vm->line = (int)f->line;
	f->inst = s->n_vms++;
	return 0;
}

static int header_container(struct fctx *f, const char *arg)
{
	struct ld *L = f->L;
	struct scn *s = L->s;
	const char *slash = strchr(arg, '/');
	char vmname[SCN_LINE_MAX_B + 1], cname[SCN_LINE_MAX_B + 1];
	if (!slash)
		return file_err(f, JV_EPARSE,
				"container '%.*s' must be named VM/NAME",
				SCN_QUOTE_MAX, arg);
	snprintf(vmname, sizeof vmname, "%.*s", (int)(slash - arg), arg);
	snprintf(cname, sizeof cname, "%s", slash + 1);
	if (!scn_int_valid_name(vmname) || !scn_int_valid_name(cname))
		return file_err(f, JV_EPARSE,
				"bad container name '%.*s' (VM/NAME, each of A-Z "
				"a-z 0-9 _ . -, 1..63 characters)", SCN_QUOTE_MAX,
				arg);
	for (int i = 0; i < s->n_containers; i++)
		if (!strcmp(s->container[i].name, arg))
			return file_err(f, JV_EEXIST,
					"duplicate container '%s', first defined "
					"at %s:%ld", arg, L->cont_pos[i].file,
					L->cont_pos[i].line);
	if (s->n_containers >= SCN_MAX_CONTAINERS)
		return file_err(f, JV_ELIMIT, "too many containers (max %d)",
				SCN_MAX_CONTAINERS);
	int i = s->n_containers++;
	/* both parts are valid names: at most 2 * 63 + 1 characters */
	memcpy(s->container[i].name, arg, strlen(arg) + 1);
	L->cont_pos[i].file = f->sf->name;
	L->cont_pos[i].line = f->line;
	f->inst = i;
	return 0;
}

/* A `[...]` line at p (not indented). */
static int parse_header(struct fctx *f, char *p)
{
	char *end = find_chars_or_comment(p + 1, "]");
	if (*end != ']')
		return file_err(f, JV_EPARSE, "missing ']' in section header '%.*s'",
				SCN_QUOTE_MAX, p);
	const char *after = scn_int_skip_ws(end + 1);
	if (*after && *after != ';' && *after != '#')
		return file_err(f, JV_EPARSE, "unexpected text '%.*s' after ']'",
				SCN_QUOTE_MAX, after);
	*end = '\0';
	char inner[SCN_LINE_MAX_B + 1], word[SCN_LINE_MAX_B + 1];
	scn_int_trim_copy(p + 1, strlen(p + 1), inner, sizeof inner);
	size_t wl = 0;
	while (inner[wl] && !isspace((unsigned char)inner[wl]))
		wl++;
	memcpy(word, inner, wl);
	word[wl] = '\0';
	const char *arg = scn_int_skip_ws(inner + wl);
	int sec = scn_int_sec_by_name(word);
	f->L->n_headers++;
	if (sec < 0) {
		const char *best = scn_int_sec_suggest(word);
		if (best)
			return file_err(f, JV_EUNKNOWN,
					"unknown section [%s] (did you mean [%s]?)",
					inner, scn_int_sec_display(scn_int_sec_by_name(best)));
		return file_err(f, JV_EUNKNOWN,
				"unknown section [%s] (valid: global machine cpu "
				"disk vm container manager output)", inner);
	}
	f->sec = sec;
	f->inst = 0;
	if (sec == SCN_SEC_VM || sec == SCN_SEC_CONTAINER) {
		if (!*arg)
			return file_err(f, JV_EPARSE, "section [%s] needs a name: [%s]",
					word, scn_int_sec_display(sec));
		return sec == SCN_SEC_VM ? header_vm(f, arg)
					 : header_container(f, arg);
	}
	if (*arg)
		return file_err(f, JV_EPARSE, "section [%s] takes no name ('[%s]')",
				word, inner);
	return 0;
}

/* A `key = value` line at p: check the separator and remember the key. */
static int check_key_line(struct fctx *f, char *p)
{
	char *sep = find_chars_or_comment(p, "=:");
	if (*sep != '=' && *sep != ':')
		return file_err(f, JV_EPARSE,
				"expected 'key = value', '[section]' or a comment, "
				"not '%.*s'", SCN_QUOTE_MAX, p);
	scn_int_trim_copy(p, (size_t)(sep - p), f->key, sizeof f->key);
	if (!f->key[0])
		return file_err(f, JV_EPARSE, "missing key before '%c'", *sep);
	return 0;
}

/* ini_reader: one line per call, like fgets, with our checks. Sections and
 * comments are handled here and handed to inih as blank lines. */
static char *rd_line(char *str, int num, void *stream)
{
	struct fctx *f = stream;
	char buf[SCN_LINE_MAX_B + 2]; /* content and a CR */
	size_t len = 0;
	int c, any = 0;

	if (f->L->d->err)
		return NULL;
	while ((c = getc(f->fp)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (c == '\0') {
			f->line++;
			file_err(f, JV_EPARSE, "NUL byte in the file");
			return NULL;
		}
		if (len >= sizeof buf - 1) {
			f->line++;
			file_err(f, JV_EPARSE, "line too long (max %d bytes)",
				 SCN_LINE_MAX_B);
			return NULL;
		}
		buf[len++] = (char)c;
	}
	if (!any)
		return NULL;
	f->line++;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > SCN_LINE_MAX_B) {
		file_err(f, JV_EPARSE, "line too long (max %d bytes)",
			 SCN_LINE_MAX_B);
		return NULL;
	}
	buf[len] = '\0';
	char *p = buf;
	if (f->line == 1 && !strncmp(p, SCN_UTF8_BOM, 3))
		p += 3;
	char *q = (char *)scn_int_skip_ws(p);
	if (!*q || *q == ';' || *q == '#') {
		str[0] = '\0';
		return str;
	}
	if (q != p) {
		file_err(f, JV_EPARSE, "indented line '%.*s': continuation lines "
			 "are not supported (remove the leading white space)",
			 SCN_QUOTE_MAX, q);
		return NULL;
	}
	if (*q == '[') {
		if (parse_header(f, q))
			return NULL;
		str[0] = '\0';
		return str;
	}
	if (check_key_line(f, q))
		return NULL;
	if ((int)(strlen(q) + 1) > num) {
		file_err(f, JV_EPARSE, "line too long (max %d bytes)", num - 1);
		return NULL;
	}
	memcpy(str, q, strlen(q) + 1);
	return str;
}

static int add_entry(struct fctx *f, int opt, const char *value)
{
	struct ld *L = f->L;
	if (L->n_ents == L->cap_ents) {
		int cap = L->cap_ents ? 2 * L->cap_ents : 64;
		struct ent *e = realloc(L->ents, (size_t)cap * sizeof *e);
		if (!e)
			return scn_int_nomem(L);
		L->ents = e;
		L->cap_ents = cap;
	}
	struct ent *e = &L->ents[L->n_ents];
	e->value = scn_int_xstrdup(value);
	if (!e->value)
		return scn_int_nomem(L);
	e->opt = opt;
	e->sec = f->sec;
	e->inst = f->inst;
	e->sf = f->sf;
	e->line = f->line;
	L->n_ents++;
	return 0;
}

/* ini_handler: section and name from inih are ignored (see rd_line). */
static int on_kv(void *user, const char *section, const char *name,
		 const char *value)
{
	struct fctx *f = user;
	struct ld *L = f->L;
	(void)section;
	(void)name;
	if (L->d->err)
		return 0;
	if (f->sec < 0) {
		file_err(f, JV_EPARSE, "key '%s' before any [section] header",
			 f->key);
		return 0;
	}
	int opt = scn_int_find_opt(f->sec, f->key);
	if (opt < 0) {
		char hint[SCN_MSG_MAX], lab[2 * SCN_NAME_MAX + 16];
		scn_int_key_hint(f->sec, f->key, hint, sizeof hint);
		if (f->sec == SCN_SEC_VM)
			snprintf(lab, sizeof lab, "vm %s", L->s->vm[f->inst].name);
		else if (f->sec == SCN_SEC_CONTAINER)
			snprintf(lab, sizeof lab, "container %s",
				 L->s->container[f->inst].name);
		else
			snprintf(lab, sizeof lab, "%s", scn_sec_names[f->sec]);
		file_err(f, JV_EUNKNOWN, "unknown key '%.*s' in [%s]%s",
			 SCN_QUOTE_MAX, f->key, lab, hint);
		return 0;
	}
	if (scn_opt_table[opt].type == SCN_T_INCLUDE) {
		char v[SCN_LINE_MAX_B + 1];
		scn_int_trim_copy(value, strlen(value), v, sizeof v);
		if (!v[0]) {
			file_err(f, JV_EPARSE, "include: empty file name");
			return 0;
		}
		char *path = scn_int_path_join(f->sf->dir, v);
		if (!path) {
			scn_int_nomem(L);
			return 0;
		}
		scn_int_parse_file(L, path, f, f->depth + 1);
		free(path);
		return L->d->err ? 0 : 1;
	}
	return add_entry(f, opt, value) ? 0 : 1;
}

static struct srcfile *new_srcfile(struct ld *L, const char *name)
{
	struct srcfile **v = realloc(L->files, (size_t)(L->n_files + 1) * sizeof *v);
	if (!v)
		return NULL;
	L->files = v;
	struct srcfile *sf = calloc(1, sizeof *sf);
	if (!sf)
		return NULL;
	sf->name = scn_int_xstrdup(name);
	sf->dir = scn_int_dir_of(name);
	L->files[L->n_files++] = sf;
	if (!sf->name || !sf->dir)
		return NULL;
	return sf;
}

/* Refuse an include of a file that is being parsed: a cycle. */
static int check_cycle(struct ld *L, const char *real, const char *path,
		       const struct fctx *from)
{
	for (int i = 0; i < L->depth; i++) {
		if (strcmp(L->stack_real[i], real))
			continue;
		char chain[SCN_MSG_MAX];
		size_t used = 0;
		for (int j = i; j < L->depth && used < sizeof chain; j++)
			used += (size_t)snprintf(chain + used, sizeof chain - used,
						 "%s -> ", L->stack_name[j]);
		if (used < sizeof chain)
			snprintf(chain + used, sizeof chain - used, "%s", path);
		return jv_diag_set(L->d, JV_ECYCLE, from->sf->name, from->line,
				   "include cycle: %s", chain);
	}
	return 0;
}

static int open_input(struct ld *L, const char *path, const struct fctx *from,
		      FILE **fp)
{
	const char *stdin_name = "-";
	if (!from && !strcmp(path, stdin_name)) {
		*fp = stdin;
		return 0;
	}
	*fp = fopen(path, "rb");
	struct stat st;
	int e = errno;
	if (*fp && fstat(fileno(*fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(*fp);
		*fp = NULL;
		e = EISDIR;
	}
	if (*fp)
		return 0;
	if (from)
		return jv_diag_set(L->d, JV_ENOENT, from->sf->name, from->line,
				   "include: cannot open '%s': %s", path,
				   strerror(e));
	return jv_diag_set(L->d, JV_ENOENT, path, 0, "cannot open: %s",
			   strerror(e));
}

/* Parse one file (top or include) into L's entry list. */
int scn_int_parse_file(struct ld *L, const char *path, const struct fctx *from,
		       int depth)
{
	FILE *fp = NULL;
	char *real = NULL;
	int rc = 0, is_stdin = !from && !strcmp(path, "-");
	const char *display = is_stdin ? "<stdin>" : path;

	if (depth > SCN_MAX_INCLUDE_DEPTH)
		return jv_diag_set(L->d, JV_ELIMIT, from->sf->name, from->line,
				   "include: nesting deeper than %d ('%s')",
				   SCN_MAX_INCLUDE_DEPTH, path);
	rc = open_input(L, path, from, &fp);
	if (rc)
		return rc;
	if (!is_stdin) {
		real = realpath(path, NULL);
		if (!real) {
			rc = jv_diag_set(L->d, JV_EIO, path, 0,
					 "cannot resolve path: %s", strerror(errno));
			goto fail;
		}
		if (from && (rc = check_cycle(L, real, path, from)))
			goto fail;
	}
	struct srcfile *sf = new_srcfile(L, display);
	if (!sf) {
		rc = scn_int_nomem(L);
		goto fail;
	}
	if ((rc = scn_int_add_input(L, path)))
		goto fail;
	if (!is_stdin) {
		L->stack_real[L->depth] = real;
		L->stack_name[L->depth] = sf->name;
		L->depth++;
	}
	struct fctx f = { .L = L, .fp = fp, .sf = sf, .depth = depth, .sec = -1 };
	int irc = ini_parse_stream(rd_line, &f, on_kv, &f);
	if (!is_stdin)
		L->depth--;
	if (L->d->err) {
		rc = L->d->err;
	} else if (ferror(fp)) {
		rc = jv_diag_set(L->d, JV_EIO, sf->name, 0, "read error: %s",
				 strerror(errno));
	} else if (irc == -2) {
		rc = scn_int_nomem(L);
	} else if (irc != 0) {
		rc = jv_diag_set(L->d, JV_EPARSE, sf->name, irc > 0 ? irc : 0,
				 "malformed line (inih error %d)", irc);
	}
fail:
	free(real);
	if (fp && fp != stdin)
		fclose(fp);
	return rc;
}

/* --------------------------------------------------------------- apply */

static int slot_matches(const struct ld *L, const struct scn_opt *o, int slot)
{
	if (slot == 0)
		return o->sec != SCN_SEC_VM && o->sec != SCN_SEC_CONTAINER;
	if (slot <= L->s->n_vms)
		return o->sec == SCN_SEC_VM;
	return o->sec == SCN_SEC_CONTAINER;
}

/* Default run name: file name without directory and .ini. */
static void default_name(const char *file, char *out, size_t n)
{
	if (!strcmp(file, "-")) {
		snprintf(out, n, "stdin");
		return;
	}
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	size_t len = strlen(b);
	if (len > 4 && !strcmp(b + len - 4, ".ini"))
		len -= 4;
	if (len >= n)
		len = n - 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)b[i];
		out[i] = (isalnum(c) || c == '_' || c == '.' || c == '-') ? (char)c
									  : '_';
	}
	out[len] = '\0';
	if (!out[0])
		snprintf(out, n, "scenario");
}

int scn_int_apply_defaults(struct ld *L)
{
	struct origin org = { .src = SRC_DEFAULT };
	char name[SCN_NAME_MAX];
	default_name(L->s->file, name, sizeof name);
	for (int slot = 0; slot < L->n_slots; slot++)
		for (int i = 0; i < scn_opt_count; i++) {
			const struct scn_opt *o = &scn_opt_table[i];
			if (!slot_matches(L, o, slot) || o->type == SCN_T_INCLUDE)
				continue;
			const char *def = o->def;
			if (o->sec == SCN_SEC_GLOBAL && !strcmp(o->key, "name"))
				def = name;
			int rc = scn_int_opt_set(L, i, slot, def, &org);
			if (rc)
				return rc;
		}
	return 0;
}

int scn_int_apply_preset(struct ld *L, const struct scn_override *ov, int n_ov)
{
	int popt = scn_int_find_opt(SCN_SEC_MACHINE, "preset");
	const struct ent *last = NULL;
	for (int i = 0; i < L->n_ents; i++)
		if (L->ents[i].opt == popt)
			last = &L->ents[i];
	int rc = 0;
	if (last) {
		struct origin org = { .src = SRC_FILE, .file = last->sf->name,
				      .dir = last->sf->dir, .line = last->line };
		rc = scn_int_opt_set(L, popt, 0, last->value, &org);
	}
	for (int i = 0; !rc && i < n_ov; i++)
		if (ov[i].key && ov[i].value &&
		    !strcmp(ov[i].key, "machine.preset")) {
			struct origin org = { .src = SRC_SET, .ovkey = ov[i].key };
			rc = scn_int_opt_set(L, popt, 0, ov[i].value, &org);
		}
	if (rc)
		return rc;
	const struct scn_preset *p = NULL;
	for (int i = 0; i < scn_preset_count; i++)
		if (!strcmp(scn_presets[i].name, L->s->machine.preset))
			p = &scn_presets[i];
	if (!p)
		return jv_diag_set(L->d, JV_EINVARIANT, L->top, 0,
				   "preset '%s' has no table", L->s->machine.preset);
	struct origin org = { .src = SRC_PRESET };
	for (int v = 0; v < p->n_vals; v++) {
		const struct scn_preset_val *pv = &p->vals[v];
		int opt = scn_int_find_opt(pv->sec, pv->key);
		if (opt < 0)
			return jv_diag_set(L->d, JV_EINVARIANT, L->top, 0,
					   "preset '%s': no option [%s] %s", p->name,
					   scn_sec_names[pv->sec], pv->key);
		for (int slot = 0; slot < L->n_slots; slot++) {
			if (!slot_matches(L, &scn_opt_table[opt], slot))
				continue;
			if ((rc = scn_int_opt_set(L, opt, slot, pv->value, &org)))
				return rc;
		}
	}
	return 0;
}

int scn_int_apply_entries(struct ld *L)
{
	for (int i = 0; i < L->n_ents; i++) {
		const struct ent *e = &L->ents[i];
		struct origin org = { .src = SRC_FILE, .file = e->sf->name,
				      .dir = e->sf->dir, .line = e->line };
		int rc = scn_int_opt_set(L, e->opt, scn_int_slot_of(L, e->sec, e->inst), e->value,
					 &org);
		if (rc)
			return rc;
	}
	return 0;
}

static int set_err(struct ld *L, int err, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int set_err(struct ld *L, int err, const char *key, const char *fmt, ...)
{
	char body[SCN_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	return jv_diag_set(L->d, err, NULL, 0, "--set %s: %s", key, body);
}

/* Find the option instance an override key names. */
static int override_target(struct ld *L, const char *key, int *opt, int *slot)
{
	struct scn *s = L->s;
	const char *dot = strchr(key, '.');
	if (!dot)
		return set_err(L, JV_EUSAGE, key, "expected SECTION.KEY, "
			       "vm.NAME.KEY or container.VM/NAME.KEY");
	char secname[SCN_NAME_MAX];
	snprintf(secname, sizeof secname, "%.*s", (int)(dot - key), key);
	int sec = scn_int_sec_by_name(secname);
	if (sec < 0) {
		const char *best = scn_int_sec_suggest(secname);
		if (best)
			return set_err(L, JV_EUNKNOWN, key,
				       "unknown section '%s' (did you mean '%s'?)",
				       secname, best);
		return set_err(L, JV_EUNKNOWN, key, "unknown section '%s'", secname);
	}
	const char *k = dot + 1;
	*slot = 0;
	if (sec == SCN_SEC_VM || sec == SCN_SEC_CONTAINER) {
		const char *last = strrchr(key, '.');
		if (last == dot)
			return set_err(L, JV_EUSAGE, key, "expected %s.%s.KEY",
				       secname, sec == SCN_SEC_VM ? "NAME" : "VM/NAME");
		char inst[2 * SCN_NAME_MAX];
		snprintf(inst, sizeof inst, "%.*s", (int)(last - dot - 1), dot + 1);
		k = last + 1;
		int idx = -1;
		if (sec == SCN_SEC_VM) {
			idx = scn_vm_index(s, inst);
		} else {
			for (int i = 0; i < s->n_containers; i++)
				if (!strcmp(s->container[i].name, inst))
					idx = i;
		}
		if (idx < 0)
			return set_err(L, JV_EUNKNOWN, key,
				       "no [%s %s] section in the scenario", secname,
				       inst);
		*slot = scn_int_slot_of(L, sec, idx);
	}
	*opt = scn_int_find_opt(sec, k);
	if (*opt < 0) {
		char hint[SCN_MSG_MAX];
		scn_int_key_hint(sec, k, hint, sizeof hint);
		return set_err(L, JV_EUNKNOWN, key, "unknown key '%s' in [%s]%s", k,
			       scn_int_sec_display(sec), hint);
	}
	return 0;
}

int scn_int_apply_overrides(struct ld *L, const struct scn_override *ov, int n_ov)
{
	for (int i = 0; i < n_ov; i++) {
		if (!ov[i].key || !ov[i].key[0])
			return jv_diag_set(L->d, JV_EUSAGE, NULL, 0,
					   "--set: empty key");
		if (!ov[i].value)
			return set_err(L, JV_EUSAGE, ov[i].key, "missing value");
		int opt = 0, slot = 0;
		int rc = override_target(L, ov[i].key, &opt, &slot);
		if (rc)
			return rc;
		struct origin org = { .src = SRC_SET, .ovkey = ov[i].key };
		if ((rc = scn_int_opt_set(L, opt, slot, ov[i].value, &org)))
			return rc;
	}
	return 0;
}
