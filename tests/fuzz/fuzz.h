/*
 * fuzz.h - what the fuzz targets share: each target is one file with
 * LLVMFuzzerTestOneInput that hands the fuzzer's bytes to one module's
 * parser the way the program would (a line at a time, through a memory
 * file, ...), and checks the module's documented promises with
 * FUZZ_ASSERT, so that a broken promise is a crash the fuzzer reports,
 * not only a memory error.
 *
 * Built only by tests/fuzz/fuzz.mk with clang -fsanitize=fuzzer (see
 * README, "Fuzzing").
 */
#ifndef MAILPOST_FUZZ_H
#define MAILPOST_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: say which and abort, so libFuzzer saves the input. */
#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: promise broken: %s\n",         \
			        __FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* The bytes as a NUL-terminated string (a NUL inside ends it early, as
 * it would for any C string the program is given).  Caller frees. */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A memory file holding the bytes, positioned at 0: what source_open and
 * serve_run read as they would read a pipe, without touching a disk. */
static inline int
fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		abort();
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* The next line of data[*pos..size): its start and length without the LF
 * (and without a CR before it when strip_cr).  False at the end. */
static inline bool
fuzz_next_line(const uint8_t *data, size_t size, size_t *pos, bool strip_cr,
               const char **line, size_t *len)
{
	const uint8_t *nl;
	size_t n;

	if (*pos >= size)
		return false;
	nl = memchr(data + *pos, '\n', size - *pos);
	n = nl ? (size_t)(nl - (data + *pos)) : size - *pos;
	*line = (const char *)data + *pos;
	*pos += n + (nl != NULL);
	if (strip_cr && n > 0 && (*line)[n - 1] == '\r')
		n--;
	*len = n;
	return true;
}

/* The length of the start of s[0..n) that holds none of the bytes in
 * stop (strcspn for bytes that are not NUL-terminated). */
static inline size_t
fuzz_span(const char *s, size_t n, const char *stop)
{
	size_t i = 0;

	while (i < n && !strchr(stop, s[i]))
		i++;
	return i;
}

/* True when s[0..n) is censored text, as str_censor leaves it: printable
 * ASCII and tabs only. */
static inline bool
fuzz_censored(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return false;
	}
	return true;
}

/* True when an error message is as error_set leaves it: censoring it
 * again (control bytes, C1, ill-formed UTF-8) changes nothing. */
static inline bool
fuzz_message_ok(const char *msg)
{
	size_t n = strlen(msg);
	char *copy = fuzz_string((const uint8_t *)msg, n);
	bool same;

	str_censor_utf8(copy, n);
	same = memcmp(copy, msg, n) == 0;
	free(copy);
	return same;
}

#endif
