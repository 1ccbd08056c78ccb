/*
 * util_test.c - the base layer's small helpers (util.c), one function
 * each: every place that needs one of them calls this copy.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"

/* A string literal with its length, so that cases may hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

static void
test_has_8bit(void)
{
	CHECK(!str_has_8bit(S("")));
	CHECK(!str_has_8bit(S("plain ASCII\t\r\n\x7f")));
	CHECK(str_has_8bit(S("\x80")));
	CHECK(str_has_8bit(S("caf\xc3\xa9")));
	CHECK(str_has_8bit(S("\xff at the start")));
	/* The length bounds the scan: a byte past it, or past a NUL inside
	 * it, is or is not seen accordingly. */
	CHECK(!str_has_8bit("ab\xc3\xa9", 2));
	CHECK(str_has_8bit(S("a\0\xe9")));
	CHECK(str_is_ascii("a\x7f"));
	CHECK(!str_is_ascii("\xe9t\xe9"));
	CHECK(str_is_ascii("a\0\xe9"));
}

/* A time in UTC, whatever TZ says; nothing (and false) when there is no
 * room for it. */
static void
test_utc_time(void)
{
	char s[64];
	char small[8] = "x";

	setenv("TZ", "CET-1", 1); /* POSIX form: no tzdata needed */
	tzset();
	CHECK(str_utc_time(s, sizeof s, 0));
	CHECK_STR(s, "1970-01-01 00:00:00 UTC");
	CHECK(str_utc_time(s, sizeof s, 1796646600));
	CHECK_STR(s, "2026-12-07 12:30:00 UTC");
	CHECK(!str_utc_time(small, sizeof small, 0));
	CHECK_STR(small, "");
	unsetenv("TZ");
	tzset();
}

/* RFC 5322's date, in UTC or local time with its offset, in English. */
static void
test_rfc5322_date(void)
{
	char s[64];
	char small[16] = "x";

	setenv("TZ", "CET-1", 1); /* POSIX form: no tzdata needed */
	tzset();
	CHECK(str_rfc5322_date(s, sizeof s, 1796646600, true));
	CHECK_STR(s, "Mon, 7 Dec 2026 12:30:00 +0000");
	CHECK(str_rfc5322_date(s, sizeof s, 1796646600, false));
	CHECK_STR(s, "Mon, 7 Dec 2026 13:30:00 +0100");
	setenv("TZ", "NST+3:30", 1);
	tzset();
	CHECK(str_rfc5322_date(s, sizeof s, 1796646600, false));
	CHECK_STR(s, "Mon, 7 Dec 2026 09:00:00 -0330");
	CHECK(!str_rfc5322_date(small, sizeof small, 1796646600, true));
	CHECK_STR(small, "");
	unsetenv("TZ");
	tzset();
}

/* One function says how big a body (the transcript) or a server's SIZE
 * limit (--serverinfo) is. */
static void
test_bytes(void)
{
	char s[32];

	CHECK_STR(str_bytes(s, sizeof s, 0), "0 bytes");
	CHECK_STR(str_bytes(s, sizeof s, 1), "1 byte");
	CHECK_STR(str_bytes(s, sizeof s, 1023), "1023 bytes");
	CHECK_STR(str_bytes(s, sizeof s, 1024), "1.0 KiB");
	CHECK_STR(str_bytes(s, sizeof s, 1843), "1.8 KiB");
	CHECK_STR(str_bytes(s, sizeof s, 35861299), "34.2 MiB");
	CHECK_STR(str_bytes(s, sizeof s, (uint64_t)5 << 50), "5120.0 TiB");
	CHECK_STR(str_bytes(s, sizeof s, UINT64_MAX), "16777216.0 TiB");
}

static void
test_seconds(void)
{
	char s[32];

	CHECK_STR(str_seconds(s, sizeof s, 60000), "60");
	CHECK_STR(str_seconds(s, sizeof s, 0), "0");
	CHECK_STR(str_seconds(s, sizeof s, 500), "0.5");
	CHECK_STR(str_seconds(s, sizeof s, 1500), "1.5");
	CHECK_STR(str_seconds(s, sizeof s, 100), "0.1");
	/* Cut to the room given, always terminated. */
	CHECK_STR(str_seconds(s, 3, 12000), "12");
	CHECK_STR(str_seconds(s, 2, 12000), "1");
}

/* be_put and be_get: most significant byte first, n bytes of v. */
static void
test_be(void)
{
	unsigned char b[9];

	memset(b, 0xaa, sizeof b);
	be_put(b, 0x0102030405060708u, 8);
	CHECK(memcmp(b, "\x01\x02\x03\x04\x05\x06\x07\x08\xaa", 9) == 0);
	CHECK(be_get(b, 8) == 0x0102030405060708u);
	/* A 4-byte length: the high bytes of v are not written. */
	be_put(b, 0xffffffff00000105u, 4);
	CHECK(memcmp(b, "\x00\x00\x01\x05\x05", 5) == 0);
	CHECK(be_get(b, 4) == 0x105);
	CHECK(be_get(b, 0) == 0);
}

static void
test_hex_pair(void)
{
	char out[3] = "..";

	hex_pair(out, 0x00);
	CHECK_STR(out, "00");
	hex_pair(out, 0x2b);
	CHECK_STR(out, "2B");
	hex_pair(out, 0xfe);
	CHECK_STR(out, "FE");
	/* Every byte back through hex_digit(). */
	for (int c = 0; c < 256; c++) {
		hex_pair(out, (unsigned char)c);
		CHECK_INT(hex_digit(out[0]) << 4 | hex_digit(out[1]), c);
	}
}

static void
test_hex_digit(void)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		CHECK_INT(hex_digit(digits[i]), i);
		CHECK_INT(hex_digit("0123456789ABCDEF"[i]), i);
	}
	/* Just outside each range, NUL, space and an 8-bit byte. */
	CHECK_INT(hex_digit('/'), -1);
	CHECK_INT(hex_digit(':'), -1);
	CHECK_INT(hex_digit('@'), -1);
	CHECK_INT(hex_digit('G'), -1);
	CHECK_INT(hex_digit('`'), -1);
	CHECK_INT(hex_digit('g'), -1);
	CHECK_INT(hex_digit('\0'), -1);
	CHECK_INT(hex_digit(' '), -1);
	CHECK_INT(hex_digit((char)0xb2), -1);
}

/* RFC 3629 4, fed byte by byte: what is well-formed, what is not, and a
 * sequence cut at the end (well-formed so far, but not done). */
struct utf8_case {
	const char *in;
	size_t len;
	bool ok;    /* utf8_check_byte() true for every byte */
	bool done;  /* utf8_check_done() at the end */
	size_t seq; /* utf8_seq_len() of the whole */
};

static const struct utf8_case utf8_cases[] = {
    {S(""), true, true, 0},
    {S("a"), true, true, 1},
    {S("\xc3\xa9"), true, true, 2},
    {S("\xe2\x82\xac"), true, true, 3},
    {S("\xf0\x9f\x98\x80"), true, true, 4},
    {S("\xf4\x8f\xbf\xbf"), true, true, 4},   /* U+10FFFF */
    {S("\xc3"), true, false, 0},              /* cut */
    {S("\xe2\x82"), true, false, 0},          /* cut */
    {S("\x80"), false, false, 0},             /* stray continuation */
    {S("\xc0\xaf"), false, false, 0},         /* overlong '/' */
    {S("\xc1\xbf"), false, false, 0},         /* overlong */
    {S("\xe0\x80\xaf"), false, false, 0},     /* overlong */
    {S("\xed\xa0\x80"), false, false, 0},     /* surrogate */
    {S("\xf0\x80\x80\xaf"), false, false, 0}, /* overlong */
    {S("\xf4\x90\x80\x80"), false, false, 0}, /* past U+10FFFF */
    {S("\xf5\x80\x80\x80"), false, false, 0},
    {S("\xff"), false, false, 0},
    {S("\xc3\x41"), false, false, 0},     /* continuation missing */
    {S("\x80\xc3\xa9"), false, false, 0}, /* bad stays bad */
};

static void
test_utf8_check(void)
{
	for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
		const struct utf8_case *t = &utf8_cases[i];
		struct utf8_check u = {0};
		bool ok = true;

		for (size_t k = 0; k < t->len; k++)
			ok = utf8_check_byte(&u, (unsigned char)t->in[k]) && ok;
		CHECK_INT(ok, t->ok);
		CHECK_INT(utf8_check_done(&u), t->done);
		CHECK_INT(utf8_seq_len((const unsigned char *)t->in, t->len),
		          t->seq);
	}
	/* utf8_seq_len() measures the first sequence only. */
	CHECK_INT(utf8_seq_len((const unsigned char *)"\xc3\xa9x", 3), 2);
	CHECK_INT(utf8_seq_len((const unsigned char *)"ab", 2), 1);
}

/* What read(2) gives, through a pipe: bytes, then 0 at the end; -1 with
 * errno for a bad descriptor. */
static void
test_fd_read(void)
{
	char buf[8];
	int fds[2];

	if (pipe(fds) < 0) {
		CHECK(!"pipe");
		return;
	}
	CHECK_INT(fd_write_all(fds[1], "hello", 5), 0);
	close(fds[1]);
	CHECK_INT(fd_read(fds[0], buf, sizeof buf), 5);
	CHECK_MEM(buf, 5, "hello", 5);
	CHECK_INT(fd_read(fds[0], buf, sizeof buf), 0);
	close(fds[0]);
	errno = 0;
	CHECK_INT(fd_read(fds[0], buf, sizeof buf), -1);
	CHECK_INT(errno, EBADF);
}

/* Random bytes cannot be checked for randomness here, only that all n
 * are written, none past them, and that two draws differ (a 2^-256
 * chance of a false failure). */
static void
test_random(void)
{
	unsigned char a[33], b[33], zero[32] = {0};

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	a[32] = b[32] = 0xa5;
	CHECK_INT(random_bytes(a, 32), 0);
	CHECK_INT(random_bytes(b, 32), 0);
	CHECK(memcmp(a, zero, 32) != 0);
	CHECK(memcmp(a, b, 32) != 0);
	CHECK_INT(a[32], 0xa5);
	CHECK_INT(random_bytes(a, 0), 0);

	memset(a, 0, 32);
	memset(b, 0, 32);
	random_unique(a, 32);
	random_unique(b, 32);
	CHECK(memcmp(a, zero, 32) != 0);
	CHECK(memcmp(a, b, 32) != 0);
	CHECK_INT(a[32], 0xa5);
}

/* str_escape: the smuggling test's bytes, NUL and all, and its cut. */
static void
test_escape(void)
{
	char out[32];

	CHECK_STR(str_escape(out, sizeof out, S("\r\n\0.\r\n")),
	          "\\r\\n\\0.\\r\\n");
	CHECK_STR(str_escape(out, sizeof out, S("a\tb\\c\x7f\xe9")),
	          "a\\tb\\\\c\\x7f\\xe9");
	CHECK_STR(str_escape(out, sizeof out, S("")), "");
	/* 8 bytes of room, 4 kept for "..." and the end at every step. */
	CHECK_STR(str_escape(out, 8, S("\n\n\n\n")), "\\n\\n...");
	CHECK_STR(str_escape(out, 8, S("abcd")), "abcd");
	CHECK_STR(str_escape(out, 8, S("abcde")), "abcd...");
	CHECK_STR(str_escape(out, 1, S("abc")), "");
}

/* What reaches a terminal: letters as they are, anything a terminal
 * obeys or that reorders the line as '?' (or \xHH). */
static void
test_censor(void)
{
	char s[64], shown[128];

	memcpy(s, S("caf\xc3\xa9 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\0"));
	CHECK_STR(str_censor_utf8(s, strlen(s)),
	          "caf\xc3\xa9 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
	memcpy(s, S("a\x1b[31m\xc2\x9b"
	            "2J\xff\0"));
	CHECK_STR(str_censor_utf8(s, strlen(s)), "a?[31m??2J?");
	/* RLO, LRI, PDI, RLM, ALM: each byte replaced. */
	memcpy(s, S("x\xe2\x80\xaegro.knab\xe2\x81\xa6y\xe2\x81\xa9"
	            "\xe2\x80\x8f\xd8\x9cz\0"));
	CHECK_STR(str_censor_utf8(s, strlen(s)), "x???gro.knab???y????????z");
	/* Their neighbours are letters and punctuation, shown. */
	memcpy(s, S("\xe2\x80\x94\xe2\x80\xb0\xe2\x81\xb0\xd8\x9b\0"));
	CHECK_STR(str_censor_utf8(s, strlen(s)),
	          "\xe2\x80\x94\xe2\x80\xb0\xe2\x81\xb0\xd8\x9b");
	CHECK_STR(str_show(shown, sizeof shown,
	                   "a\xe2\x80\xae"
	                   "b",
	                   100),
	          "a\\xe2\\x80\\xaeb");
	CHECK_STR(str_show(shown, sizeof shown, "\xc3\xa9", 100), "\xc3\xa9");
}

/* A file named dir/name holding text, its times age_s seconds ago. */
static void
make_aged(int dfd, const char *name, const char *text, int age_s)
{
	struct timespec t[2];
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK(fd_write_all(fd, text, strlen(text)) == 0);
	close(fd);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age_s;
	t[1] = t[0];
	CHECK(utimensat(dfd, name, t, AT_SYMLINK_NOFOLLOW) == 0);
}

static bool
starts_tmp(const char *name, const void *arg)
{
	return strncmp(name, arg, strlen(arg)) == 0;
}

/* Only an old regular file the predicate calls ours goes, emptied
 * first (another link to it keeps no byte); a young one, a link and
 * another name stay. */
static void
test_sweep_temps(void)
{
	char dir[] = "/tmp/util_test.XXXXXX";
	struct stat st;
	int dfd;

	CHECK(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	make_aged(dfd, "tmp.old", "secret", 120);
	CHECK(linkat(dfd, "tmp.old", dfd, "kept", 0) == 0);
	make_aged(dfd, "tmp.young", "in progress", 10);
	make_aged(dfd, "other", "not ours", 120);
	CHECK(symlinkat("other", dfd, "tmp.link") == 0);
	dir_sweep_temps(dfd, starts_tmp, "tmp.", 60, 100);
	CHECK(fstatat(dfd, "tmp.old", &st, 0) < 0 && errno == ENOENT);
	CHECK(fstatat(dfd, "kept", &st, 0) == 0 && st.st_size == 0);
	CHECK(fstatat(dfd, "tmp.young", &st, 0) == 0 && st.st_size == 11);
	CHECK(fstatat(dfd, "other", &st, 0) == 0 && st.st_size == 8);
	CHECK(fstatat(dfd, "tmp.link", &st, AT_SYMLINK_NOFOLLOW) == 0);
	/* No name looked at: nothing goes. */
	make_aged(dfd, "tmp.old", "again", 120);
	dir_sweep_temps(dfd, starts_tmp, "tmp.", 60, 0);
	CHECK(fstatat(dfd, "tmp.old", &st, 0) == 0);
	for (const char *const *n =
	         (const char *const[]){"tmp.old", "kept", "tmp.young", "other",
	                               "tmp.link", NULL};
	     *n; n++)
		CHECK(unlinkat(dfd, *n, 0) == 0);
	close(dfd);
	CHECK(rmdir(dir) == 0);
}

/* Freed and NULL after; NULL before is no error. */
static void
test_str_wipe_free(void)
{
	char *s = xstrdup("a secret");

	str_wipe_free(&s);
	CHECK(s == NULL);
	str_wipe_free(&s);
	CHECK(s == NULL);
}

int
main(void)
{
	test_censor();
	test_escape();
	test_has_8bit();
	test_seconds();
	test_utc_time();
	test_bytes();
	test_rfc5322_date();
	test_random();
	test_hex_digit();
	test_hex_pair();
	test_be();
	test_fd_read();
	test_utf8_check();
	test_str_wipe_free();
	test_sweep_temps();
	return unit_done();
}
