/*
 * crlf_test.c - line-ending normalisation (crlf.c) and dot-stuffing (dot.c).
 *
 * Both are streaming, so every case is fed whole, split at every single
 * point, split at every pair of points (short inputs), and byte by byte;
 * each way must give the same output and the same measurements.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crlf.h"
#include "dot.h"
#include "unit.h"

/* A string literal with its length, so that cases may hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

struct crlf_case {
	const char *in;
	size_t in_len;
	bool dot;
	const char *want;
	size_t want_len;
	uint64_t lines;
	uint64_t max_line;
	uint64_t long_line;
	bool has_8bit;
	bool has_nul;
};

static const struct crlf_case crlf_cases[] = {
    {S("a\nb\n"), false, S("a\r\nb\r\n"), 2, 1, 0, false, false},
    {S("a\r\nb\r\n"), false, S("a\r\nb\r\n"), 2, 1, 0, false, false},
    {S("a\rb\r"), false, S("a\r\nb\r\n"), 2, 1, 0, false, false},
    {S("a\r\nbb\ncc\rd"), false, S("a\r\nbb\r\ncc\r\nd\r\n"), 4, 2, 0, false,
     false},
    {S("abc\r"), false, S("abc\r\n"), 1, 3, 0, false, false},
    {S("\r\r\n\n"), false, S("\r\n\r\n\r\n"), 3, 0, 0, false, false},
    {S("\n\r"), false, S("\r\n\r\n"), 2, 0, 0, false, false},
    {S("abc"), false, S("abc\r\n"), 1, 3, 0, false, false},
    {S("a\r\nb"), false, S("a\r\nb\r\n"), 2, 1, 0, false, false},
    {S(""), false, S(""), 0, 0, 0, false, false},
    {S(""), true, S(""), 0, 0, 0, false, false},
    {S("\n"), false, S("\r\n"), 1, 0, 0, false, false},
    /* sendmail's lone dot */
    {S(".\n"), true, S(""), 0, 0, 0, false, false},
    {S(".\r\n"), true, S(""), 0, 0, 0, false, false},
    {S(".\r"), true, S(""), 0, 0, 0, false, false},
    {S("a\n.\nb\n"), true, S("a\r\n"), 1, 1, 0, false, false},
    {S("a\r\n.\r\nrest\xff\0"), true, S("a\r\n"), 1, 1, 0, false, false},
    {S("a\n.\rb"), true, S("a\r\n"), 1, 1, 0, false, false},
    {S("..\n"), true, S("..\r\n"), 1, 2, 0, false, false},
    {S(". \n"), true, S(". \r\n"), 1, 2, 0, false, false},
    {S(".x"), true, S(".x\r\n"), 1, 2, 0, false, false},
    {S("."), true, S(".\r\n"), 1, 1, 0, false, false},
    {S("a\n."), true, S("a\r\n.\r\n"), 2, 1, 0, false, false},
    {S("x.\n.y\n"), true, S("x.\r\n.y\r\n"), 2, 2, 0, false, false},
    {S("a\n..\n.\nz\n"), true, S("a\r\n..\r\n"), 2, 2, 0, false, false},
    {S("\r\n.\n"), true, S("\r\n"), 1, 0, 0, false, false},
    {S(".\n"), false, S(".\r\n"), 1, 1, 0, false, false},
    {S(".\r"), false, S(".\r\n"), 1, 1, 0, false, false},
    {S("a\n.\nb\n"), false, S("a\r\n.\r\nb\r\n"), 3, 1, 0, false, false},
    /* 8-bit and NUL */
    {S("caf\xc3\xa9\n"), false, S("caf\xc3\xa9\r\n"), 1, 5, 0, true, false},
    {S("a\0b\n"), false, S("a\0b\r\n"), 1, 3, 0, false, true},
    {S("\0"), true, S("\0\r\n"), 1, 1, 0, false, true},
    {S(".\x80\n"), true, S(".\x80\r\n"), 1, 2, 0, true, false},
};

struct result {
	char *out;
	size_t len;
	struct crlf_norm c;
};

/* Feed in[0..n) cut at the given points (ascending); the output buffer is
 * sized for the worst case of every piece. */
static void
feed(struct result *r, const char *in, size_t n, bool dot, const size_t *cuts,
     size_t ncuts)
{
	size_t prev = 0;

	r->out = malloc(CRLF_OUT_MAX(n) + 4 * (ncuts + 2));
	r->len = 0;
	crlf_init(&r->c, dot);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t next = i < ncuts ? cuts[i] : n;

		r->len +=
		    crlf_push(&r->c, in + prev, next - prev, r->out + r->len);
		prev = next;
	}
	r->len += crlf_finish(&r->c, r->out + r->len);
}

static bool
same_result(const struct result *a, const struct result *b)
{
	return a->len == b->len && memcmp(a->out, b->out, a->len) == 0 &&
	       a->c.bytes == b->c.bytes && a->c.lines == b->c.lines &&
	       a->c.max_line == b->c.max_line &&
	       a->c.first_long_line == b->c.first_long_line &&
	       a->c.has_8bit == b->c.has_8bit && a->c.has_nul == b->c.has_nul &&
	       a->c.done == b->c.done;
}

/* Every single cut; every pair of cuts for short inputs; byte by byte.
 * Returns how many ways differed from the whole-input result. */
static int
count_split_mismatches(const char *in, size_t n, bool dot,
                       const struct result *whole)
{
	struct result r;
	size_t cuts[2];
	size_t *all;
	int bad = 0;

	for (size_t i = 0; i <= n; i++) {
		for (size_t j = n <= 64 ? i : n; j <= n; j++) {
			cuts[0] = i;
			cuts[1] = j;
			feed(&r, in, n, dot, cuts, j < n ? 2 : 1);
			bad += !same_result(&r, whole);
			free(r.out);
		}
	}
	all = malloc((n + 1) * sizeof *all);
	for (size_t i = 0; i < n; i++)
		all[i] = i + 1;
	feed(&r, in, n, dot, all, n);
	bad += !same_result(&r, whole);
	free(r.out);
	free(all);
	return bad;
}

static void
check_crlf_case(const struct crlf_case *t)
{
	struct result whole;

	feed(&whole, t->in, t->in_len, t->dot, NULL, 0);
	CHECK_MEM(whole.out, whole.len, t->want, t->want_len);
	CHECK_INT(whole.c.bytes, t->want_len);
	CHECK_INT(whole.c.lines, t->lines);
	CHECK_INT(whole.c.max_line, t->max_line);
	CHECK_INT(whole.c.first_long_line, t->long_line);
	CHECK_INT(whole.c.has_8bit, t->has_8bit);
	CHECK_INT(whole.c.has_nul, t->has_nul);
	CHECK_INT(count_split_mismatches(t->in, t->in_len, t->dot, &whole), 0);
	free(whole.out);
}

static void
test_crlf_table(void)
{
	for (size_t i = 0; i < sizeof crlf_cases / sizeof crlf_cases[0]; i++)
		check_crlf_case(&crlf_cases[i]);
}

/* Build "x\n" + len1 'a' + "\n" + len2 'b' (no final newline) and check
 * the long-line measurements at the RFC 5322 2.1.1 boundary. */
static void
check_long(size_t len1, size_t len2, uint64_t want_max, uint64_t want_first)
{
	size_t n = 2 + len1 + 1 + len2;
	char *in = malloc(n);
	struct result whole;

	memcpy(in, "x\n", 2);
	memset(in + 2, 'a', len1);
	in[2 + len1] = '\n';
	memset(in + 3 + len1, 'b', len2);
	feed(&whole, in, n, true, NULL, 0);
	CHECK_INT(whole.len, n + 2 + (len2 ? 2 : 0));
	CHECK_INT(whole.c.max_line, want_max);
	CHECK_INT(whole.c.first_long_line, want_first);
	CHECK_INT(count_split_mismatches(in, n, true, &whole), 0);
	free(whole.out);
	free(in);
}

static void
test_long_lines(void)
{
	check_long(998, 0, 998, 0);
	check_long(999, 0, 999, 2);
	check_long(998, 999, 999, 3);
	check_long(1000, 1200, 1200, 2);
	check_long(10, 998, 998, 0);
}

struct dot_case {
	const char *in;
	size_t in_len;
	const char *want;
	size_t want_len;
};

static const struct dot_case dot_cases[] = {
    {S(""), S(".\r\n")},
    {S("a\r\n"), S("a\r\n.\r\n")},
    {S("a"), S("a\r\n.\r\n")},
    {S(".\r\n"), S("..\r\n.\r\n")},
    {S(".a"), S("..a\r\n.\r\n")},
    {S("a.b\r\n"), S("a.b\r\n.\r\n")},
    {S("\r\n.\r\n"), S("\r\n..\r\n.\r\n")},
    {S("a\r\n.b\r\n..\r\nc.\r\n"), S("a\r\n..b\r\n...\r\nc.\r\n.\r\n")},
    {S("..\r\n.\r\n."), S("...\r\n..\r\n..\r\n.\r\n")},
    {S("x\0.\r\n.\0"), S("x\0.\r\n..\0\r\n.\r\n")},
};

static size_t
dot_feed(char *out, const char *in, size_t n, size_t cut1, size_t cut2)
{
	struct dot_stuffer d;
	size_t o = 0;

	dot_init(&d);
	o += dot_stuff(&d, in, cut1, out + o);
	o += dot_stuff(&d, in + cut1, cut2 - cut1, out + o);
	o += dot_stuff(&d, in + cut2, n - cut2, out + o);
	o += dot_finish(&d, out + o);
	return o;
}

static size_t
dot_feed_bytes(char *out, const char *in, size_t n)
{
	struct dot_stuffer d;
	size_t o = 0;

	dot_init(&d);
	for (size_t i = 0; i < n; i++)
		o += dot_stuff(&d, in + i, 1, out + o);
	o += dot_finish(&d, out + o);
	return o;
}

static void
test_dot_table(void)
{
	for (size_t k = 0; k < sizeof dot_cases / sizeof dot_cases[0]; k++) {
		const struct dot_case *t = &dot_cases[k];
		char *out = malloc(DOT_OUT_MAX(t->in_len) + 5);
		int bad = 0;
		size_t len;

		len = dot_feed(out, t->in, t->in_len, 0, 0);
		CHECK_MEM(out, len, t->want, t->want_len);
		for (size_t i = 0; i <= t->in_len; i++) {
			for (size_t j = i; j <= t->in_len; j++) {
				len = dot_feed(out, t->in, t->in_len, i, j);
				bad += len != t->want_len ||
				       memcmp(out, t->want, len) != 0;
			}
		}
		len = dot_feed_bytes(out, t->in, t->in_len);
		bad += len != t->want_len || memcmp(out, t->want, len) != 0;
		CHECK_INT(bad, 0);
		free(out);
	}
}

/* The two together, as the SMTP body path uses them. */
static void
test_crlf_then_dot(void)
{
	static const char in[] = "Subject: x\n\n.\n..\nend";
	static const char want[] = "Subject: x\r\n\r\n..\r\n...\r\nend\r\n"
	                           ".\r\n";
	char mid[CRLF_OUT_MAX(sizeof in) + 4];
	char out[DOT_OUT_MAX(sizeof mid) + 5];
	struct crlf_norm c;
	struct dot_stuffer d;
	size_t m, o;

	crlf_init(&c, false);
	m = crlf_push(&c, in, sizeof in - 1, mid);
	m += crlf_finish(&c, mid + m);
	dot_init(&d);
	o = dot_stuff(&d, mid, m, out);
	o += dot_finish(&d, out + o);
	CHECK_MEM(out, o, want, sizeof want - 1);
}

/* 8-bit and NUL bytes are found wherever they stand in a push (the whole
 * block is measured at once without the lone-dot rule, in word-sized
 * steps with a byte tail), and with the lone-dot rule not after the dot
 * that ends the input. */
static void
test_measure_positions(void)
{
	char in[200], out[CRLF_OUT_MAX(200)];
	struct crlf_norm c;

	for (size_t len = 1; len <= 100; len += 33)
		for (size_t at = 0; at < len; at++) {
			for (int dot = 0; dot < 2; dot++) {
				memset(in, 'a', len);
				in[len] = '\n';
				in[at] = (char)0xe9;
				crlf_init(&c, dot);
				crlf_push(&c, in, len + 1, out);
				CHECK(c.has_8bit);
				CHECK(!c.has_nul);
				in[at] = '\0';
				crlf_init(&c, dot);
				crlf_push(&c, in, len + 1, out);
				CHECK(c.has_nul);
				CHECK(!c.has_8bit);
			}
		}
	/* After the lone dot nothing counts. */
	memcpy(in, "ok\n.\n\xe9\0\n", 9);
	crlf_init(&c, true);
	crlf_push(&c, in, 9, out);
	CHECK(c.done);
	CHECK(!c.has_8bit);
	CHECK(!c.has_nul);
	crlf_init(&c, false);
	crlf_push(&c, in, 9, out);
	CHECK(c.has_8bit);
	CHECK(c.has_nul);
}

int
main(void)
{
	test_crlf_table();
	test_long_lines();
	test_dot_table();
	test_crlf_then_dot();
	test_measure_positions();
	return unit_done();
}
