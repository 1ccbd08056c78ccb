/*
 * tlscache.c - TLS sessions kept between runs (see tlscache.h): the file
 * format, the checks that an entry is ours alone, and the atomic write.
 */
#include "config.h"

#include "tlscache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* A header's length after its kind's magic line. */
#define HEADER_REST (TLSCACHE_ID_LEN + 8 + 4)
/* create_temp's random part: 8 bytes in hex. */
#define TEMP_HEX_LEN 16

const struct tlscache_kind tlscache_sessions = {
    .magic = TLSCACHE_MAGIC,
    .prefix = "session-",
    .age_max = TLSCACHE_AGE_MAX,
    .data_max = TLSCACHE_DATA_MAX,
    .other = "it was verified with other settings (host name, trust file, "
             "pin, CRL or client certificate)",
};

static size_t
header_len(const struct tlscache_kind *k)
{
	return strlen(k->magic) + HEADER_REST;
}

void
tlscache_entry_clear(struct tlscache_entry *e)
{
	if (e->data) {
		wipe(e->data, e->len);
		free(e->data);
	}
	memset(e, 0, sizeof *e);
}

/* The directory of the entries, if no one but us can put a file in it
 * (whoever can could plant a session whose secret they know); else -1
 * with the reason, and errno ENOENT when there is no such directory. */
static int
open_dir(const char *dir, char *why, size_t size)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int e = errno;

	if (fd < 0) {
		snprintf(why, size, "%s",
		         e == ENOENT ? "none kept" : strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, size,
		         "the directory is another user's, or others may "
		         "write in it");
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* The whole file, if it is ours alone and of a size an entry can have.
 * O_NONBLOCK: a FIFO planted there must not hold the run. */
static unsigned char *
read_entry(const struct tlscache_kind *k, int dirfd, const char *name,
           size_t *len, char *why, size_t size)
{
	struct stat st;
	unsigned char *buf = NULL;
	ssize_t got = -1;
	int fd =
	    openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, size, "%s",
		         errno == ENOENT ? "none kept" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077))
		snprintf(why, size, "the file is not this user's alone");
	else if (st.st_size < (off_t)header_len(k) ||
	         st.st_size > (off_t)(header_len(k) + k->data_max))
		snprintf(why, size, "the file is damaged");
	else {
		*len = (size_t)st.st_size;
		buf = xmalloc(*len + 1);
		got = fd_read(fd, buf, *len + 1);
		if (got != (ssize_t)*len) {
			snprintf(why, size, "the file is damaged");
			wipe(buf, *len + 1);
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	return buf;
}

/* Judge a whole file's bytes; the session data moves into *e. */
static int
parse_entry(const struct tlscache_kind *k, const unsigned char *buf, size_t len,
            const unsigned char id[TLSCACHE_ID_LEN], int64_t now,
            struct tlscache_entry *e, char *why, size_t size)
{
	size_t magic_len = strlen(k->magic);
	const unsigned char *p = buf + magic_len;
	uint64_t expires, n;

	if (memcmp(buf, k->magic, magic_len) != 0) {
		snprintf(why, size, "the file is not an entry of ours");
		return -1;
	}
	if (memcmp(p, id, TLSCACHE_ID_LEN) != 0) {
		snprintf(why, size, "%s", k->other);
		return -1;
	}
	p += TLSCACHE_ID_LEN;
	expires = be_get(p, 8);
	n = be_get(p + 8, 4);
	if (n == 0 || n != len - header_len(k)) {
		snprintf(why, size, "the file is damaged");
		return -1;
	}
	if (expires > INT64_MAX || (int64_t)expires <= now ||
	    (int64_t)expires > now + k->age_max) {
		snprintf(why, size, "it has expired");
		return -1;
	}
	e->len = (size_t)n;
	e->data = xmalloc(e->len);
	memcpy(e->data, buf + header_len(k), e->len);
	e->expires = (int64_t)expires;
	return 0;
}

int
tlscache_load(const char *dir, const char *name,
              const unsigned char id[TLSCACHE_ID_LEN], int64_t now,
              struct tlscache_entry *e, char *why, size_t size)
{
	return tlscache_load_kind(&tlscache_sessions, dir, name, id, now, e,
	                          why, size);
}

int
tlscache_load_kind(const struct tlscache_kind *k, const char *dir,
                   const char *name, const unsigned char id[TLSCACHE_ID_LEN],
                   int64_t now, struct tlscache_entry *e, char *why,
                   size_t size)
{
	unsigned char *buf;
	size_t len = 0;
	int dirfd, rc;

	memset(e, 0, sizeof *e);
	why[0] = '\0';
	dirfd = open_dir(dir, why, size);
	if (dirfd < 0)
		return -1;
	buf = read_entry(k, dirfd, name, &len, why, size);
	close(dirfd);
	if (!buf)
		return -1;
	rc = parse_entry(k, buf, len, id, now, e, why, size);
	wipe(buf, len);
	free(buf);
	return rc;
}

/* The file's bytes: header and data in one buffer, one write. */
static unsigned char *
entry_bytes(const struct tlscache_kind *k,
            const unsigned char id[TLSCACHE_ID_LEN], int64_t expires,
            const unsigned char *data, size_t len)
{
	unsigned char *buf = xmalloc(header_len(k) + len);
	unsigned char *p = buf;

	memcpy(p, k->magic, strlen(k->magic));
	p += strlen(k->magic);
	memcpy(p, id, TLSCACHE_ID_LEN);
	p += TLSCACHE_ID_LEN;
	be_put(p, (uint64_t)expires, 8);
	be_put(p + 8, (uint64_t)len, 4);
	memcpy(buf + header_len(k), data, len);
	return buf;
}

/* Is name one of create_temp's for an entry of the kind: "." and the
 * kind's prefix ("session-"), ".", and TEMP_HEX_LEN hex digits? */
static bool
is_temp_name(const char *name, const void *kind)
{
	const struct tlscache_kind *k = kind;
	size_t len = strlen(name), plen = strlen(k->prefix);
	const char *hex;

	if (name[0] != '.' || strncmp(name + 1, k->prefix, plen) != 0 ||
	    len < 1 + plen + 1 + TEMP_HEX_LEN ||
	    len > 1 + TLSCACHE_NAME_MAX + 1 + TEMP_HEX_LEN)
		return false;
	hex = name + len - TEMP_HEX_LEN;
	if (hex[-1] != '.')
		return false;
	for (size_t i = 0; i < TEMP_HEX_LEN; i++)
		if (hex_digit(hex[i]) < 0)
			return false;
	return true;
}

/* A new file of mode 0600 beside the entry, named so that no two runs
 * pick the same: ".NAME.HEX". */
static int
create_temp(int dirfd, const char *name, char *tmp, size_t size)
{
	unsigned char r[TEMP_HEX_LEN / 2];
	char hex[TEMP_HEX_LEN + 1];
	int fd;

	random_unique(r, sizeof r);
	for (size_t i = 0; i < sizeof r; i++)
		hex_pair(hex + 2 * i, r[i]);
	hex[2 * sizeof r] = '\0';
	snprintf(tmp, size, ".%s.%s", name, hex);
	fd = openat(dirfd, tmp,
	            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0 && fchmod(fd, 0600) < 0) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return fd;
}

static int
write_entry(int dirfd, const char *name, const unsigned char *buf, size_t len)
{
	char tmp[TLSCACHE_NAME_MAX + 24];
	int fd = create_temp(dirfd, name, tmp, sizeof tmp);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = fd_write_all(fd, buf, len);
	if (close(fd) < 0)
		rc = -1;
	/* The old entry goes first: ext4 (auto_da_alloc) flushes a file
	 * renamed over another before the rename returns, milliseconds per
	 * run; a run that finds no entry meanwhile makes a full handshake,
	 * and none ever reads half of one. */
	if (rc == 0 && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		rc = -1;
	if (rc == 0)
		rc = renameat(dirfd, tmp, dirfd, name);
	if (rc < 0) {
		saved = errno;
		unlinkat(dirfd, tmp, 0);
		errno = saved;
	}
	return rc;
}

int
tlscache_store(const char *dir, const char *name,
               const unsigned char id[TLSCACHE_ID_LEN], int64_t expires,
               const unsigned char *data, size_t len, struct error *err)
{
	return tlscache_store_kind(&tlscache_sessions, dir, name, id, expires,
	                           data, len, err);
}

int
tlscache_store_kind(const struct tlscache_kind *k, const char *dir,
                    const char *name, const unsigned char id[TLSCACHE_ID_LEN],
                    int64_t expires, const unsigned char *data, size_t len,
                    struct error *err)
{
	char why[PATH_MAX + 64];
	unsigned char *buf;
	int dirfd, rc;

	if (len == 0 || len > k->data_max)
		return error_set(err, ERROR_IOERR,
		                 "the entry's data has %zu bytes", len);
	/* The directory is there after the first store: making it (a stat
	 * of every component of its path) only when it is not. */
	dirfd = open_dir(dir, why, sizeof why);
	if (dirfd < 0 && errno == ENOENT) {
		if (dir_make_private(dir, NULL) < 0)
			return error_set_errno(err, ERROR_IOERR, errno,
			                       "cannot create %s", dir);
		dirfd = open_dir(dir, why, sizeof why);
	}
	if (dirfd < 0)
		return error_set(err, ERROR_IOERR, "cannot use %s: %s", dir,
		                 why);
	/* A younger temporary file may be another run's write now. */
	dir_sweep_temps(dirfd, is_temp_name, k, TLSCACHE_TEMP_AGE,
	                TLSCACHE_SCAN_MAX);
	buf = entry_bytes(k, id, expires, data, len);
	rc = write_entry(dirfd, name, buf, header_len(k) + len);
	if (rc < 0)
		error_set_errno(err, ERROR_IOERR, errno, "cannot write in %s",
		                dir);
	wipe(buf, header_len(k) + len);
	free(buf);
	close(dirfd);
	return rc;
}

void
tlscache_forget(const char *dir, const char *name)
{
	char why[PATH_MAX + 64];
	int dirfd = open_dir(dir, why, sizeof why);

	if (dirfd < 0)
		return;
	unlinkat(dirfd, name, 0);
	close(dirfd);
}
