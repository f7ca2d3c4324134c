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
 * Binary readers (trc_lines_map) read a regular file's rest through
 * read-only mmap(2) windows of TRC_MAP_WINDOW_B (2 MiB) instead: the bytes
 * are used where the page cache holds them, no copy, the window moved on
 * (remapped from the page holding the first unconsumed byte) when a fill
 * asks for more than it holds. The file's size is taken (fstat) at each
 * move, so a file that grows is read as far as it has grown, as with
 * read(2). If mmap fails the reader goes on with read(2).
 *
 * Limits: lines up to TRC_LINE_MAX_B (64 KiB) bytes without CR/LF; the
 * last line may lack its '\n'. Memory: the buffer (and one window) only
 * (O(1) in the file's length). A mapped file truncated by another process
 * while it is read raises SIGBUS (read(2) would see a short file).
 */
#include "traces/trc_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
	l->fd_off0 = -1;
	return 0;
}

void trc_lines_free(struct trc_lines *l)
{
	if (l->map) {
		munmap(l->map, l->map_len);
		l->map = NULL;
		l->buf = l->rbuf;
	}
	free(l->buf);
	l->buf = NULL;
}

void trc_lines_map(struct trc_lines *l)
{
	struct stat st;
	if (fstat(l->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	off_t at = lseek(l->fd, 0, SEEK_CUR);
	if (at < 0 || (uint64_t)at < l->buf_off + l->end)
		return;
	/* the stream's first byte: the file offset read(2) has reached,
	 * less what the buffer holds and what was consumed before it */
	l->fd_off0 = (int64_t)at - (int64_t)(l->buf_off + l->end);
}

/* Map the window holding the first unconsumed byte and at least want
 * bytes after it (fewer at the end of the file). 1 moved, 0 nothing
 * more to map, < 0 mmap failed (the caller reads on). */
static int map_more(struct trc_lines *l, size_t want)
{
	struct stat st;
	if (fstat(l->fd, &st) != 0)
		return -1;
	uint64_t abs = (uint64_t)l->fd_off0 + l->buf_off + l->pos;
	uint64_t size = (uint64_t)st.st_size;
	if (size <= abs + (l->end - l->pos))
		return 0; /* nothing beyond what is held */
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t start = abs - abs % (uint64_t)(pg > 0 ? pg : 4096);
	uint64_t len = TRC_MAP_WINDOW_B;
	if (len < abs - start + want)
		len = abs - start + want;
	if (len > size - start)
		len = size - start;
	void *p = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, l->fd,
		       (off_t)start);
	if (p == MAP_FAILED)
		return -1;
	if (l->map)
		munmap(l->map, l->map_len);
	else {
		l->rbuf = l->buf;
		l->rcap = l->cap;
	}
	l->map = p;
	l->map_len = (size_t)len;
	l->buf = p;
	l->buf_off = start - (uint64_t)l->fd_off0;
	l->pos = (size_t)(abs - start);
	l->scan = l->pos;
	l->end = l->cap = (size_t)len;
	return 1;
}

/* Back to read(2) after a failed mmap: the unconsumed bytes of the window
 * (fewer than a fill's want, so they fit) into the read buffer, the file
 * offset after them. */
static int unmap(struct trc_lines *l)
{
	size_t n = l->end - l->pos;
	uint64_t next = (uint64_t)l->fd_off0 + l->buf_off + l->end;
	l->fd_off0 = -1;
	if (!l->map)
		return 0;
	memcpy(l->rbuf, l->buf + l->pos, n);
	munmap(l->map, l->map_len);
	l->map = NULL;
	l->buf = l->rbuf;
	l->cap = l->rcap;
	l->buf_off += l->pos;
	l->pos = 0;
	l->scan = 0;
	l->end = n;
	return lseek(l->fd, (off_t)next, SEEK_SET) < 0 ? -1 : 0;
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
	if (l->fd_off0 >= 0 && l->end - l->pos < want) {
		int rc = map_more(l, want);
		if (rc >= 0)
			return (long)(l->end - l->pos);
		if (unmap(l) < 0)
			return jv_diag_set(d, JV_EIO, l->name, 0, "seek error: %s",
					   strerror(errno));
	}
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
