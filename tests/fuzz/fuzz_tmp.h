/*
 * fuzz_tmp: what the libFuzzer targets share (tests/fuzz only; header-only):
 * the input written to a fresh temporary file, since the code under test
 * reads files by path.
 */
#ifndef JV_FUZZ_TMP_H
#define JV_FUZZ_TMP_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Write data to a new file from the mkstemp() template path (changed in
 * place). Returns 0, or -1 (nothing left behind) when that fails. */
static inline int fuzz_write_tmp(char *path, const uint8_t *data, size_t size)
{
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)w;
	}
	close(fd);
	return 0;
}

#endif
