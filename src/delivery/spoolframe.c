/*
 * spoolframe.c - the frames of the spool helper's protocol, as both sides
 * read and write them (the format is in spoolframe.h).
 */
#include "config.h"

#include "spoolframe.h"

#include <errno.h>
#include <stdlib.h>

/* A damaged-entry line: an id, ": ", a reason. */
#define DAMAGE_LINE_MAX (QUEUE_ID_SIZE + ERROR_MSG_MAX + 2)

void
spoolframe_header(unsigned char out[SPOOLFRAME_HEADER_LEN], char type,
                  uint32_t len)
{
	out[0] = (unsigned char)type;
	out[1] = (unsigned char)(len >> 24);
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
}

int
spoolframe_read(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = fd_read(fd, (char *)p + got, n - got);

		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EPIPE;
			return got == 0 ? 1 : -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int
spoolframe_write(int fd, char type, const void *p, size_t n)
{
	unsigned char h[SPOOLFRAME_HEADER_LEN];

	if (n > SPOOLFRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	spoolframe_header(h, type, (uint32_t)n);
	if (fd_write_all(fd, h, sizeof h) < 0)
		return -1;
	return n ? fd_write_all(fd, p, n) : 0;
}

/* The largest payload each type may carry (the table in spoolframe.h);
 * 0 for a type that carries none, -1 for an unknown type. */
static long
frame_limit(char type)
{
	switch (type) {
	case 'A': /* add, dead: an envelope */
	case 'X':
		return QUEUE_ENVELOPE_MAX;
	case 'Q': /* an entry, a dead letter: an id and an envelope */
	case 'G':
		return SPOOLFRAME_MAX;
	case 'D':
		return SPOOLFRAME_CHUNK;
	case 'S': /* show, remove: an id */
	case 'U':
		return QUEUE_ID_LEN;
	case 'K':
		return QUEUE_ID_LEN;
	case 'E':
		return ERROR_MSG_MAX;
	case 'Z':
		return DAMAGE_LINE_MAX;
	case 'L':
	case '!':
		return 0;
	default:
		return -1;
	}
}

int
spoolframe_next(int fd, char *type, uint32_t *len, const char **why)
{
	unsigned char h[SPOOLFRAME_HEADER_LEN];
	long limit;
	int rc = spoolframe_read(fd, h, sizeof h);

	*why = NULL;
	if (rc != 0)
		return rc;
	*type = (char)h[0];
	*len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
	       (uint32_t)h[3] << 8 | h[4];
	limit = frame_limit(*type);
	if (limit < 0)
		*why = "a frame of an unknown type";
	else if (*len > (uint32_t)limit)
		*why = "a frame longer than its type allows";
	return *why ? -1 : 0;
}

char *
spoolframe_payload(int fd, uint32_t len)
{
	char *p = xmalloc((size_t)len + 1);

	if (spoolframe_read(fd, p, len) != 0) {
		free(p);
		return NULL;
	}
	p[len] = '\0';
	return p;
}
