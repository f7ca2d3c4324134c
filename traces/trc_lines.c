/*
 * trc_lines: a streaming line reader for the text trace formats.
 *
 * Problem: trace files are large (GB) and are read once, front to back, at
 * hundreds of MB/s; lines must be validated (length, NUL bytes) without a
 * second pass per line and without allocation per line.
 *
 * Strategy: one fixed buffer (TRC_READ_BUF_B = 1 MiB by default) filled
 * with read(2). The next line is found with memchr from where the previous
 * search stopped; the line is returned in place, NUL-terminated over its
 * '\n' (or over the CR of a CRLF pair), so parsers can stop at '\0'. When
 * the buffer holds no complete line, the partial line (< TRC_LINE_MAX_B
 * bytes, else "line too long") is moved to the front and the rest of the
 * buffer is refilled. NUL bytes are searched once per read(2) chunk (one
 * memchr over the new bytes), remembering the first one's file offset; the
 * line that contains it is rejected when it is returned: one compare per
 * line instead of a scan.
 *
 * Limits: lines up to TRC_LINE_MAX_B (64 KiB) bytes without CR/LF; the
 * last line may lack its '\n'. Memory: the buffer only (O(1) in the file's
 * length).
 */
#include "traces/trc_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int trc_lines_init(struct trc_lines *l, int fd, const char *name, size_t buf_b)
{
	memset(l, 0, sizeof *l);
	l->fd = fd;
	l->name = name;
	l->cap = buf_b ? buf_b : TRC_READ_BUF_B;
	if (l->cap < TRC_LINE_MAX_B + 2)
		l->cap = TRC_LINE_MAX_B + 2; /* a longest line + CR + LF fit */
	l->buf = malloc(l->cap + 1);
	if (!l->buf)
		return JV_ENOMEM;
	l->nul_off = UINT64_MAX;
	return 0;
}

void trc_lines_free(struct trc_lines *l)
{
	free(l->buf);
	l->buf = NULL;
}

/* Move the unconsumed bytes to the front of the buffer. */
static void compact(struct trc_lines *l)
{
	if (l->pos == 0)
		return;
	size_t n = l->end - l->pos;
	memmove(l->buf, l->buf + l->pos, n);
	l->buf_off += l->pos;
	l->scan -= l->pos;
	l->pos = 0;
	l->end = n;
}

/* One read(2) into the free tail of the buffer. 1 bytes read, 0 EOF, < 0. */
static int read_more(struct trc_lines *l, struct jv_diag *d)
{
	if (l->eof)
		return 0;
	if (l->end == l->cap)
		compact(l);
	ssize_t n;
	do
		n = read(l->fd, l->buf + l->end, l->cap - l->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return jv_diag_set(d, JV_EIO, l->name, 0, "read error: %s",
				   strerror(errno));
	if (n == 0) {
		l->eof = 1;
		return 0;
	}
	if (l->nul_off == UINT64_MAX) {
		const char *z = memchr(l->buf + l->end, '\0', (size_t)n);
		if (z)
			l->nul_off = l->buf_off + (uint64_t)(z - l->buf);
	}
	l->end += (size_t)n;
	return 1;
}

long trc_lines_fill(struct trc_lines *l, size_t want, struct jv_diag *d)
{
	if (want > l->cap)
		want = l->cap;
	while (l->end - l->pos < want) {
		if (l->end == l->cap)
			compact(l);
		int rc = read_more(l, d);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
	}
	return (long)(l->end - l->pos);
}

const char *trc_lines_peek(const struct trc_lines *l, size_t *len)
{
	*len = l->end - l->pos;
	return l->buf + l->pos;
}

void trc_lines_skip(struct trc_lines *l, size_t n)
{
	if (n > l->end - l->pos)
		n = l->end - l->pos;
	l->pos += n;
	if (l->scan < l->pos)
		l->scan = l->pos;
}

static int too_long(struct trc_lines *l, struct jv_diag *d)
{
	return jv_diag_set(d, JV_ELIMIT, l->name, l->line + 1,
			   "line too long (more than %d bytes)", TRC_LINE_MAX_B);
}

int trc_lines_next(struct trc_lines *l, char **line, size_t *len,
		   struct jv_diag *d)
{
	char *nl;
	size_t stop; /* index of the byte after the line's content */
	for (;;) {
		nl = memchr(l->buf + l->scan, '\n', l->end - l->scan);
		if (nl) {
			stop = (size_t)(nl - l->buf);
			break;
		}
		l->scan = l->end;
		/* +1: a CR may still precede the '\n' that is not read yet */
		if (l->end - l->pos > TRC_LINE_MAX_B + 1)
			return too_long(l, d);
		int rc = read_more(l, d);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (l->end == l->pos)
				return 0;
			stop = l->end; /* last line without '\n' */
			break;
		}
	}
	size_t start = l->pos;
	size_t n = stop - start;
	if (n > 0 && l->buf[stop - 1] == '\r')
		n--;
	if (n > TRC_LINE_MAX_B)
		return too_long(l, d);
	uint64_t stop_off = l->buf_off + stop;
	if (l->nul_off < stop_off) {
		long col = (long)(l->nul_off - (l->buf_off + start)) + 1;
		return jv_diag_set(d, JV_EPARSE, l->name, l->line + 1,
				   "NUL byte in line (column %ld)", col);
	}
	l->buf[start + n] = '\0';
	l->pos = stop < l->end ? stop + 1 : stop;
	l->scan = l->pos;
	l->line++;
	*line = l->buf + start;
	*len = n;
	return 1;
}

uint64_t trc_lines_offset(const struct trc_lines *l)
{
	return l->buf_off + l->pos;
}
