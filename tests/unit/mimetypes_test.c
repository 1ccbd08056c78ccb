/*
 * mimetypes_test.c - type names and the mime.types(5) table
 * (mimetypes.c): comments, blanks, a later definition winning, case, and
 * what hostile files cannot do: a long line, a line with a NUL, a
 * control or an 8-bit byte, a bad type, a long or dotted extension, more
 * entries than the ceiling, a file past its size ceiling, and files that
 * are missing, a directory or a FIFO (which must not hang the read).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mimetypes.h"
#include "unit.h"

#define S(s) s, sizeof(s) - 1

static char dir[] = "/tmp/mimetypes_test.XXXXXX";

static void
check_lookup(const struct mimetypes *t, const char *ext, const char *want)
{
	const char *got = mimetypes_lookup(t, ext);

	if (!want ? got != NULL : !got || strcmp(got, want) != 0)
		fprintf(stderr, "%s: got %s, want %s\n", ext,
		        got ? got : "NULL", want ? want : "NULL");
	CHECK(!want ? got == NULL : got && strcmp(got, want) == 0);
}

static void
test_valid(void)
{
	CHECK(mimetypes_valid("text/plain"));
	CHECK(mimetypes_valid("application/vnd.ms-excel"));
	CHECK(!mimetypes_valid("text"));
	CHECK(!mimetypes_valid("text/"));
	CHECK(!mimetypes_valid("/plain"));
	CHECK(!mimetypes_valid("text/plain; charset=x"));
	CHECK(!mimetypes_valid("te xt/plain"));
	CHECK(!mimetypes_valid("text/pl\x80in"));
}

static void
test_parse(void)
{
	struct mimetypes *t = mimetypes_new();

	mimetypes_parse(t, S("# a comment line\n"
	                     "\n"
	                     "image/png\t\tpng\n"
	                     "application/postscript  ps ai eps # eps2\n"
	                     "application/x-none\n"
	                     "video/webm webm\r\n"
	                     "application/pdf PDF\n"
	                     "notatype pdf\n"
	                     "text/plain txt\n"
	                     "text/x-later txt\n"
	                     "  application/x-indented   ind"));
	check_lookup(t, "png", "image/png");
	check_lookup(t, "PNG", "image/png");
	check_lookup(t, "ai", "application/postscript");
	check_lookup(t, "eps", "application/postscript");
	check_lookup(t, "eps2", NULL);
	check_lookup(t, "webm", "video/webm");
	check_lookup(t, "pdf", "application/pdf");
	check_lookup(t, "txt", "text/x-later");
	check_lookup(t, "ind", "application/x-indented");
	check_lookup(t, "none", NULL);
	CHECK_INT(mimetypes_count(t), 9);
	/* A later text (the user's file) wins over an earlier one. */
	mimetypes_parse(t, S("image/x-mine png"));
	check_lookup(t, "png", "image/x-mine");
	mimetypes_free(t);
	mimetypes_free(NULL);
}

/* Each hostile line is skipped whole; the lines around it count. */
static void
test_hostile_lines(void)
{
	struct mimetypes *t = mimetypes_new();
	char *big = malloc(3000);

	mimetypes_parse(t, S("application/x-nul nul\0 a\n"
	                     "application/x-ctl ctl\x01\n"
	                     "application/x-high high \xc3\xa9\n"
	                     "application/x-del del\x7f\n"
	                     "app(lication)/x-bad bad\n"
	                     "application/x-dots tar.gz gz\n"
	                     "application/x-long "
	                     "abcdefghijklmnopqrstuvwxyz0123456789 ok1\n"
	                     "application/x-slash a/b ok2\n"
	                     "image/png png\n"));
	check_lookup(t, "nul", NULL);
	check_lookup(t, "ctl", NULL);
	check_lookup(t, "high", NULL);
	check_lookup(t, "del", NULL);
	check_lookup(t, "bad", NULL);
	check_lookup(t, "tar.gz", NULL);
	check_lookup(t, "gz", "application/x-dots");
	check_lookup(t, "abcdefghijklmnopqrstuvwxyz0123456789", NULL);
	check_lookup(t, "ok1", "application/x-long");
	check_lookup(t, "ok2", "application/x-slash");
	check_lookup(t, "png", "image/png");

	/* A line past the ceiling (1024 bytes), then a good one. */
	memcpy(big, "image/x-long long ", 18);
	memset(big + 18, ' ', 3000 - 18);
	memcpy(big + 2000, "\nimage/x-after after", 20);
	mimetypes_parse(t, big, 2020);
	check_lookup(t, "long", NULL);
	check_lookup(t, "after", "image/x-after");
	free(big);
	mimetypes_free(t);
}

/* No more entries than the ceiling (8192), whatever the file holds. */
static void
test_entry_ceiling(void)
{
	struct mimetypes *t = mimetypes_new();
	size_t n = 20000 * 16, len = 0;
	char *text = malloc(n);

	for (int i = 0; i < 20000; i++)
		len += (size_t)snprintf(text + len, n - len, "a/b e%d\n", i);
	mimetypes_parse(t, text, len);
	CHECK_INT(mimetypes_count(t), 8192);
	check_lookup(t, "e0", "a/b");
	check_lookup(t, "e8191", "a/b");
	check_lookup(t, "e8192", NULL);
	free(text);
	mimetypes_free(t);
}

static char *
path_of(const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	sprintf(p, "%s/%s", dir, name);
	return p;
}

static void
write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "w");

	CHECK(f && fwrite(data, 1, n, f) == n);
	if (f)
		fclose(f);
}

static void
test_load(void)
{
	struct mimetypes *t = mimetypes_new();
	char *file = path_of("mime.types"), *fifo = path_of("fifo");
	char *big = path_of("big"), *missing = path_of("missing");
	size_t size = 1024 * 1024 + 4096, at = 1024 * 1024 - 10;
	char *text = malloc(size);

	write_file(file, S("image/png png\nimage/x-last last"));
	mimetypes_load(t, file);
	check_lookup(t, "png", "image/png");
	check_lookup(t, "last", "image/x-last");

	/* Missing, a directory, a FIFO nobody writes: nothing, at once. */
	mimetypes_load(t, missing);
	mimetypes_load(t, dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	mimetypes_load(t, fifo);
	CHECK_INT(mimetypes_count(t), 2);

	/* Past 1 MiB: the whole lines before the ceiling, not the one it
	 * cuts ("image/x-cut cut" straddles it) nor those after. */
	memset(text, '\n', size);
	memcpy(text, "image/x-first first\n", 20);
	memcpy(text + at, "\nimage/x-cut cut\n", 17);
	memcpy(text + size - 30, "image/x-beyond beyond\n", 22);
	write_file(big, text, size);
	mimetypes_load(t, big);
	check_lookup(t, "first", "image/x-first");
	check_lookup(t, "cut", NULL);
	check_lookup(t, "beyond", NULL);
	CHECK_INT(mimetypes_count(t), 3);

	unlink(file);
	unlink(fifo);
	unlink(big);
	free(file);
	free(fifo);
	free(big);
	free(missing);
	free(text);
	mimetypes_free(t);
}

int
main(void)
{
	if (!mkdtemp(dir)) {
		perror("mimetypes_test: mkdtemp");
		return 99;
	}
	test_valid();
	test_parse();
	test_hostile_lines();
	test_entry_ceiling();
	test_load();
	if (rmdir(dir) < 0)
		perror("mimetypes_test: rmdir (files left behind?)");
	return unit_done();
}
