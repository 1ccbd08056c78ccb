/*
 * tlscache_test.c - the TLS session cache's files (tlscache.c): an entry
 * written is read back whole; everything else is a miss, never an error
 * and never a hang: another identity, expired, too far in the future,
 * cut at every length, another magic, a length that lies, a group- or
 * world-readable file, a link, a FIFO, a directory others may write.
 * Written 0600 in a directory made 0700; a killed run's temporary file
 * removed by the next store once it is stale, and nothing else.  Another
 * kind of entry (tlscache_kind: MTA-STS's policies) keeps its own magic,
 * names, age and size: neither kind reads the other's files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tlscache.h"
#include "unit.h"
#include "util.h"

#define NOW 1800000000LL
#define NAME "session-0123456789ABCDEF0123456789ABCDEF"

static char root[64];
static char dir[128];
static char path[256];
static const unsigned char data[] = "opaque session data \x01\x02\x00\xff";
static unsigned char id[TLSCACHE_ID_LEN];
static unsigned char other_id[TLSCACHE_ID_LEN];

static bool
loads(const unsigned char *want_id, long long now, char *why, size_t size)
{
	struct tlscache_entry e;
	int rc = tlscache_load(dir, NAME, want_id, now, &e, why, size);

	if (rc == 0) {
		CHECK_MEM(e.data, e.len, data, sizeof data);
		tlscache_entry_clear(&e);
		CHECK(e.data == NULL && e.len == 0);
	}
	return rc == 0;
}

static void
store(long long expires)
{
	struct error err;

	error_clear(&err);
	CHECK_INT(tlscache_store(dir, NAME, id, expires, data, sizeof data,
	                         &err),
	          0);
}

/* The file's bytes, to damage and write back. */
static size_t
slurp(unsigned char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size);

	if (fd >= 0)
		close(fd);
	return n < 0 ? 0 : (size_t)n;
}

static void
spill(const unsigned char *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0 && fd_write_all(fd, buf, n) == 0);
	if (fd >= 0)
		close(fd);
}

static void
test_round_trip(void)
{
	struct stat st;
	char why[256];

	store(NOW + 3600);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(loads(id, NOW, why, sizeof why));
	/* Another identity, expired, or beyond RFC 8446's seven days. */
	CHECK(!loads(other_id, NOW, why, sizeof why));
	CHECK(strstr(why, "other settings") != NULL);
	CHECK(!loads(id, NOW + 3600, why, sizeof why));
	CHECK_STR(why, "it has expired");
	store(NOW + TLSCACHE_AGE_MAX + 10);
	CHECK(!loads(id, NOW, why, sizeof why));
	/* Replaced in place: the newest wins, no temporary file is left. */
	store(NOW + 60);
	CHECK(loads(id, NOW, why, sizeof why));
	tlscache_forget(dir, NAME);
	CHECK(!loads(id, NOW, why, sizeof why));
	CHECK_STR(why, "none kept");
	CHECK(rmdir(dir) == 0); /* empty: no temporary file left behind */
}

/* Cut at every length, and every byte of the header changed: a miss. */
static void
test_damaged(void)
{
	unsigned char good[512], bad[512];
	size_t n, header;
	char why[256];
	int misses = 0, tries = 0;

	store(NOW + 3600);
	n = slurp(good, sizeof good);
	CHECK(n > sizeof data);
	for (size_t cut = 0; cut < n; cut++) {
		spill(good, cut);
		misses += !loads(id, NOW, why, sizeof why);
		tries++;
	}
	header = n - sizeof data;
	for (size_t k = 0; k < header; k++) {
		/* The expiry's low bytes may still name a time ahead:
		 * expiry is test_round_trip's. */
		if (k >= header - 12 + 2 && k < header - 4)
			continue;
		memcpy(bad, good, n);
		bad[k] ^= 0x55;
		spill(bad, n);
		misses += !loads(id, NOW, why, sizeof why);
		tries++;
	}
	CHECK_INT(misses, tries);
	/* One byte more than the header says. */
	memcpy(bad, good, n);
	bad[n] = 'x';
	spill(bad, n + 1);
	CHECK(!loads(id, NOW, why, sizeof why));
	spill(good, n);
	CHECK(loads(id, NOW, why, sizeof why));
}

/* Only a file of ours alone, in a directory of ours alone. */
static void
test_not_ours(void)
{
	char why[256], target[300];

	store(NOW + 3600);
	CHECK(chmod(path, 0640) == 0);
	CHECK(!loads(id, NOW, why, sizeof why));
	CHECK(chmod(path, 0600) == 0);
	CHECK(loads(id, NOW, why, sizeof why));
	CHECK(chmod(dir, 0730) == 0);
	CHECK(!loads(id, NOW, why, sizeof why));
	CHECK(chmod(dir, 0700) == 0);
	/* A link to a good entry, and a FIFO (never waited on). */
	snprintf(target, sizeof target, "%s/elsewhere", root);
	CHECK(rename(path, target) == 0);
	CHECK(symlink(target, path) == 0);
	CHECK(!loads(id, NOW, why, sizeof why));
	CHECK(unlink(path) == 0);
	CHECK(mkfifo(path, 0600) == 0);
	CHECK(!loads(id, NOW, why, sizeof why));
	/* The next store replaces either. */
	store(NOW + 3600);
	CHECK(loads(id, NOW, why, sizeof why));
	unlink(target);
}

/* A file at dir/name with mode 0600 and the given age in seconds (its
 * mtime that far before now), or a directory. */
static void
make_aged(const char *name, long age, bool directory)
{
	char p[256];
	struct timespec t[2];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (directory) {
		CHECK(mkdir(p, 0700) == 0);
	} else {
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHECK(fd >= 0 && write(fd, "x", 1) == 1);
		if (fd >= 0)
			close(fd);
	}
	t[0].tv_sec = t[1].tv_sec = time(NULL) - age;
	t[0].tv_nsec = t[1].tv_nsec = 0;
	CHECK(utimensat(AT_FDCWD, p, t, AT_SYMLINK_NOFOLLOW) == 0);
}

static bool
exists(const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

#define TEMP ".session-0123456789ABCDEF0123456789ABCDEF."

/* A temporary file a killed run left between its write and its rename
 * goes with the next store, once older than TLSCACHE_TEMP_AGE; what may
 * be another run's write in progress, or is not a temporary file of
 * ours, stays. */
static void
test_stale_temps(void)
{
	char p[256], link[256];

	store(NOW + 60);
	make_aged(TEMP "00112233AABBCCDD", TLSCACHE_TEMP_AGE + 60, false);
	make_aged(".session-FEDC.0011223344556677", TLSCACHE_TEMP_AGE + 1,
	          false);
	make_aged(TEMP "0011223344556688", 5, false);
	make_aged(TEMP "0011223344556699", TLSCACHE_TEMP_AGE + 60, true);
	make_aged(".session-0123.001122334455667", TLSCACHE_TEMP_AGE + 60,
	          false); /* 15 hex digits: not one of ours */
	make_aged("notes.0011223344556677", TLSCACHE_TEMP_AGE + 60, false);
	snprintf(link, sizeof link, "%s/" TEMP "00112233445566AA", dir);
	CHECK(symlink("/nonexistent", link) == 0);
	store(NOW + 60);
	CHECK(!exists(TEMP "00112233AABBCCDD"));
	CHECK(!exists(".session-FEDC.0011223344556677"));
	CHECK(exists(TEMP "0011223344556688"));
	CHECK(exists(TEMP "0011223344556699"));
	CHECK(exists(".session-0123.001122334455667"));
	CHECK(exists("notes.0011223344556677"));
	CHECK(exists(TEMP "00112233445566AA"));
	/* Another user's (only root can make one): not ours to remove. */
	if (geteuid() == 0) {
		make_aged(TEMP "00112233445566BB", TLSCACHE_TEMP_AGE + 60,
		          false);
		snprintf(p, sizeof p, "%s/" TEMP "00112233445566BB", dir);
		CHECK(lchown(p, 65534, 65534) == 0);
		store(NOW + 60);
		CHECK(exists(TEMP "00112233445566BB"));
		unlink(p);
	}
	CHECK(unlink(link) == 0);
	snprintf(p, sizeof p, "%s/" TEMP "0011223344556699", dir);
	CHECK(rmdir(p) == 0);
	snprintf(p, sizeof p, "%s/" TEMP "0011223344556688", dir);
	CHECK(unlink(p) == 0);
	snprintf(p, sizeof p, "%s/.session-0123.001122334455667", dir);
	CHECK(unlink(p) == 0);
	snprintf(p, sizeof p, "%s/notes.0011223344556677", dir);
	CHECK(unlink(p) == 0);
	tlscache_forget(dir, NAME);
	CHECK(rmdir(dir) == 0); /* nothing else left */
	CHECK(mkdir(dir, 0700) == 0);
}

/* A kind of entry of its own: its magic, age and size ceilings, its
 * temporary files; a session is not one of its entries, nor the other
 * way round. */
static const struct tlscache_kind kind = {
    .magic = "mailpost-test-kind 1\n",
    .prefix = "kind-",
    .age_max = 400 * 24 * 3600LL,
    .data_max = 40,
    .other = "another thing's",
};
#define KIND_NAME "kind-0123"

static void
test_kind(void)
{
	unsigned char big[41];
	struct tlscache_entry e;
	struct error err;
	char why[256];

	error_clear(&err);
	CHECK_INT(tlscache_store_kind(&kind, dir, KIND_NAME, id,
	                              NOW + 300 * 24 * 3600LL, data,
	                              sizeof data, &err),
	          0);
	/* A lifetime past the sessions' seven days, within the kind's. */
	CHECK_INT(tlscache_load_kind(&kind, dir, KIND_NAME, id, NOW, &e, why,
	                             sizeof why),
	          0);
	CHECK_MEM(e.data, e.len, data, sizeof data);
	tlscache_entry_clear(&e);
	CHECK_INT(tlscache_load_kind(&kind, dir, KIND_NAME, other_id, NOW, &e,
	                             why, sizeof why),
	          -1);
	CHECK_STR(why, "another thing's");
	/* Read as a session: not one. */
	CHECK_INT(tlscache_load(dir, KIND_NAME, id, NOW, &e, why, sizeof why),
	          -1);
	CHECK_STR(why, "the file is not an entry of ours");
	/* A session read as the kind: not one either. */
	store(NOW + 60);
	CHECK_INT(
	    tlscache_load_kind(&kind, dir, NAME, id, NOW, &e, why, sizeof why),
	    -1);
	CHECK(e.data == NULL);
	/* The kind's size ceiling. */
	memset(big, 'x', sizeof big);
	error_clear(&err);
	CHECK_INT(tlscache_store_kind(&kind, dir, KIND_NAME, id, NOW + 60, big,
	                              sizeof big, &err),
	          -1);
	CHECK(strstr(err.msg, "41 bytes") != NULL);
	/* Its stale temporary files go with its next store; a session's
	 * store leaves them. */
	make_aged(".kind-0123.00112233AABBCCDD", TLSCACHE_TEMP_AGE + 60, false);
	store(NOW + 60);
	CHECK(exists(".kind-0123.00112233AABBCCDD"));
	error_clear(&err);
	CHECK_INT(tlscache_store_kind(&kind, dir, KIND_NAME, id, NOW + 60, data,
	                              sizeof data, &err),
	          0);
	CHECK(!exists(".kind-0123.00112233AABBCCDD"));
	tlscache_forget(dir, KIND_NAME);
	tlscache_forget(dir, NAME);
}

/* A directory that cannot be made: an error to note, nothing else. */
static void
test_store_fails(void)
{
	struct error err;
	char file[128], below[192];
	int fd;

	snprintf(file, sizeof file, "%s/a-file", root);
	snprintf(below, sizeof below, "%s/tls", file);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	close(fd);
	error_clear(&err);
	CHECK_INT(tlscache_store(below, NAME, id, NOW + 60, data, sizeof data,
	                         &err),
	          -1);
	CHECK(strstr(err.msg, "cannot use") != NULL);
	CHECK(strstr(err.msg, "Not a directory") != NULL);
	error_clear(&err);
	CHECK_INT(tlscache_store(file, NAME, id, NOW + 60, data, sizeof data,
	                         &err),
	          -1);
	/* A directory others may write in is not used either. */
	CHECK(chmod(dir, 0733) == 0);
	error_clear(&err);
	CHECK_INT(tlscache_store(dir, NAME, id, NOW + 60, data, sizeof data,
	                         &err),
	          -1);
	CHECK(strstr(err.msg, "others may write") != NULL);
	CHECK(chmod(dir, 0700) == 0);
	unlink(file);
}

int
main(void)
{
	char *tmp;

	snprintf(root, sizeof root, "%s/tlscache.XXXXXX", tmp_dir(NULL));
	tmp = mkdtemp(root);
	if (!tmp) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof dir, "%s/state/mailpost/tls", root);
	snprintf(path, sizeof path, "%s/%s", dir, NAME);
	memset(id, 0xab, sizeof id);
	memset(other_id, 0xab, sizeof other_id);
	other_id[31] = 0xac;
	test_round_trip();
	test_damaged();
	test_not_ours();
	test_stale_temps();
	test_kind();
	test_store_fails();
	tlscache_forget(dir, NAME);
	rmdir(dir);
	snprintf(path, sizeof path, "%s/state/mailpost", root);
	rmdir(path);
	snprintf(path, sizeof path, "%s/state", root);
	rmdir(path);
	rmdir(root);
	return unit_done();
}
