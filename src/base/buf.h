/*
 * buf.h - a growable byte buffer with a mandatory ceiling.
 *
 * Every buffer that grows with untrusted input is given a maximum size when
 * it is initialised; an append that would pass it fails instead of growing.
 * The contents are always NUL-terminated (the NUL is not counted in len).
 * On any failure the buffer frees its memory and is left empty but usable.
 */
#ifndef MAILPOST_BUF_H
#define MAILPOST_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *
	    data; /* NULL until the first append; always NUL-terminated after */
	size_t len;
	size_t cap;
	size_t max; /* ceiling for len */
};

void buf_init(struct buf *b, size_t max);
/* Free the memory; the buffer can be used again (same ceiling). */
void buf_clear(struct buf *b);
/* Keep the memory but make the contents empty. */
void buf_reset(struct buf *b);
/* Wipe the memory (explicit_bzero) and free it: for buffers with secrets. */
void buf_clear_secret(struct buf *b);

/* Append; -1 with errno ENOMEM (allocation) or EMSGSIZE (past max). */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Append everything readable from fd until end of file; -1 with errno
 * set (EMSGSIZE past max, or read(2)'s error).  EINTR is retried. */
int buf_read_fd(struct buf *b, int fd);

/* The contents as a C string ("" for an empty buffer, never NULL). */
const char *buf_str(const struct buf *b);

#endif
