/*
 * mtasts_test.c - MTA-STS's parsers and decisions (mtasts.h) on their
 * own: the _mta-sts TXT records (one STSv1 record among others, two, none,
 * fields and their syntax, the id's bounds), the policy document (every
 * field, line ends, white space, repeated and missing fields, bytes that
 * are not printable ASCII, the mx patterns and their count, max_age's
 * digits and ceiling, the size ceiling), the match of an MX name against
 * the patterns (RFC 8461 4.1's one-label wildcard), and the verdict for
 * an MX host under each mode.  Every message is one printable line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"
#include "unit.h"
#include "util.h"

static void
check_line(const char *why)
{
	CHECK(why[0] != '\0');
	for (const char *p = why; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

struct txt_row {
	const char *records[3];
	int want;        /* 1: a policy of id; 0: none */
	const char *id;  /* when want */
	const char *why; /* when not: a part of the reason */
};

static const struct txt_row txt_rows[] = {
    {{"v=STSv1; id=20160831085700Z;"}, 1, "20160831085700Z", NULL},
    {{"v=STSv1;id=abc"}, 1, "abc", NULL},
    {{"v=STSv1 ; id=abc ; "}, 1, "abc", NULL},
    {{"v=spf1 -all", "v=STSv1; id=x1", "google-site-verification=x"},
     1,
     "x1",
     NULL},
    {{"v=STSv1; id=abc; ext_1=v.a-l:ue"}, 1, "abc", NULL},
    {{"v=STSv1; id=12345678901234567890123456789012"},
     1,
     "12345678901234567890123456789012",
     NULL},
    {{"v=STSv1; id=123456789012345678901234567890123"}, 0, NULL, "bad field"},
    {{"v=STSv1; id=a-b"}, 0, NULL, "bad field \"id=a-b\""},
    {{"v=STSv1; id="}, 0, NULL, "bad field"},
    {{"v=STSv1"}, 0, NULL, "no id"},
    {{"v=STSv1;"}, 0, NULL, "no id"},
    {{"v=STSv1; id=a; id=b"}, 0, NULL, "two ids"},
    {{"v=STSv1; id=a;; x=y"}, 0, NULL, "empty field"},
    {{"v=STSv1; id=a b"}, 0, NULL, "no \";\""},
    {{"v=STSv1; id=a; _x=y"}, 0, NULL, "bad field"},
    {{"v=STSv1; id=a; x=y=z"}, 0, NULL, "bad field"},
    {{"v=STSv1; id=a; x="}, 0, NULL, "bad field"},
    {{"v=STSv1; id=a; x=\x01"}, 0, NULL, "bad field \"x=?\""},
    {{"v=STSv1; id=a", "v=STSv1; id=b"}, 0, NULL, "2 _mta-sts records"},
    {{"v=STSv10; id=a"}, 0, NULL, "no _mta-sts record"},
    {{"v=stsv1; id=a"}, 0, NULL, "no _mta-sts record"},
    {{" v=STSv1; id=a"}, 0, NULL, "no _mta-sts record"},
    {{"v=spf1 -all"}, 0, NULL, "no _mta-sts record"},
    {{NULL}, 0, NULL, "no _mta-sts record"},
};

static void
test_txt(void)
{
	for (size_t i = 0; i < sizeof txt_rows / sizeof *txt_rows; i++) {
		const struct txt_row *r = &txt_rows[i];
		char id[MTASTS_ID_MAX + 1], why[200];
		size_t n = 0;
		int got;

		while (n < 3 && r->records[n])
			n++;
		got = mtasts_parse_txt(r->records, n, id, why, sizeof why);
		CHECK_INT(got, r->want);
		if (got != r->want)
			fprintf(stderr, "  row %zu: %s\n", i, why);
		if (r->want) {
			CHECK_STR(id, r->id);
			continue;
		}
		CHECK_STR(id, "");
		check_line(why);
		CHECK(r->why && strstr(why, r->why) != NULL);
		if (r->why && !strstr(why, r->why))
			fprintf(stderr, "  row %zu: \"%s\" lacks \"%s\"\n", i,
			        why, r->why);
	}
}

struct policy_row {
	const char *body;
	int want; /* 0 a policy, -1 none */
	enum mtasts_mode mode;
	long max_age;
	const char *mx;  /* the patterns joined by ' ' */
	const char *why; /* when -1: a part of the reason */
};

static const struct policy_row policy_rows[] = {
    /* RFC 8461 3.2's example, LF and CRLF */
    {"version: STSv1\nmode: enforce\nmx: mail.example.com\n"
     "mx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
     0, MTASTS_MODE_ENFORCE, 604800,
     "mail.example.com *.example.net backupmx.example.com", NULL},
    {"version: STSv1\r\nmode: testing\r\nmx: MX.Example.ORG\r\n"
     "max_age: 86400\r\n",
     0, MTASTS_MODE_TESTING, 86400, "mx.example.org", NULL},
    {"version:STSv1\nmode:\tnone \nmax_age: 0", 0, MTASTS_MODE_NONE, 0, "",
     NULL},
    {"max_age: 1\n\nmx: a\n\r\nmode: enforce\nversion: STSv1\n\n\n", 0,
     MTASTS_MODE_ENFORCE, 1, "a", NULL},
    {"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 9999999999\n", 0,
     MTASTS_MODE_ENFORCE, MTASTS_MAX_AGE, "a.b", NULL},
    {"version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557600\n"
     "x-ext.1: some value; with = anything\n",
     0, MTASTS_MODE_ENFORCE, 31557600, "a.b", NULL},
    {"version: STSv1\nmode: none\nmx: a.b\nmax_age: 5", 0, MTASTS_MODE_NONE, 5,
     "a.b", NULL},
    /* what is not a policy */
    {"", -1, 0, 0, NULL, "no version line"},
    {"version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", -1, 0, 0, NULL,
     "version is \"STSv2\""},
    {"version: STSv1\nmode: Enforce\nmx: a\nmax_age: 1\n", -1, 0, 0, NULL,
     "mode \"Enforce\""},
    {"version: STSv1\nmode: enforce\nmax_age: 1\n", -1, 0, 0, NULL,
     "lists no mx"},
    {"version: STSv1\nmode: testing\nmx: a\n", -1, 0, 0, NULL,
     "no max_age line"},
    {"version: STSv1\nmx: a\nmax_age: 1\n", -1, 0, 0, NULL, "no mode line"},
    {"version: STSv1\nmode: enforce\nmode: enforce\nmx: a\nmax_age: 1\n", -1, 0,
     0, NULL, "two mode lines"},
    {"version: STSv1\nversion: STSv1\nmode: enforce\nmx: a\nmax_age: 1\n", -1,
     0, 0, NULL, "two version lines"},
    {"version: STSv1\nmode: enforce\nmx: a\nmax_age: 1\nmax_age: 2\n", -1, 0, 0,
     NULL, "two max_age lines"},
    {"version: STSv1\nmode: enforce\nmx: a\nmax_age: 12345678901\n", -1, 0, 0,
     NULL, "max_age \"12345678901\""},
    {"version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n", -1, 0, 0, NULL,
     "max_age \"-1\""},
    {"version: STSv1\nmode: enforce\nmx: a\nmax_age: 1 2\n", -1, 0, 0, NULL,
     "not 1 to 10 digits"},
    {"version: STSv1\nmode: enforce\nmx: a\nmax_age:\n", -1, 0, 0, NULL,
     "line 4 of the policy has no value"},
    {"version: STSv1\nmode: enforce\nmx a\nmax_age: 1\n", -1, 0, 0, NULL,
     "line 3 of the policy, \"mx a\", has no \":\""},
    {" version: STSv1\nmode: enforce\nmx: a\nmax_age: 1\n", -1, 0, 0, NULL,
     "bad key \" version\""},
    {"version : STSv1\nmode: enforce\nmx: a\nmax_age: 1\n", -1, 0, 0, NULL,
     "bad key"},
    {"version: STSv1\nmode: enforce\nmx: a\nmax_age: 1\n_x: y\n", -1, 0, 0,
     NULL, "bad key \"_x\""},
    {"version: STSv1\nmode: enforce\nmx: a\nmax_age: 1\nx: \xc3\xa9\n", -1, 0,
     0, NULL, "line 5 of the policy has a byte that is not printable"},
    {"version: STSv1\nmode: enforce\nmx: a\rb\nmax_age: 1\n", -1, 0, 0, NULL,
     "line 3 of the policy has a byte"},
    {"version: STSv1\nmode: enforce\nmx: *.*.a\nmax_age: 1\n", -1, 0, 0, NULL,
     "mx \"*.*.a\" is not a host name"},
    {"version: STSv1\nmode: enforce\nmx: a.b.\nmax_age: 1\n", -1, 0, 0, NULL,
     "mx \"a.b.\""},
    {"version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1\n", -1, 0, 0, NULL,
     "mx \"a..b\""},
    {"version: STSv1\nmode: enforce\nmx: -a.b\nmax_age: 1\n", -1, 0, 0, NULL,
     "mx \"-a.b\""},
    {"version: STSv1\nmode: enforce\nmx: a-.b\nmax_age: 1\n", -1, 0, 0, NULL,
     "mx \"a-.b\""},
    {"version: STSv1\nmode: enforce\nmx: mail_1.b\nmax_age: 1\n", -1, 0, 0,
     NULL, "mx \"mail_1.b\""},
    {"version: STSv1\nmode: enforce\nmx: a*.b\nmax_age: 1\n", -1, 0, 0, NULL,
     "mx \"a*.b\""},
    {"version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n", -1, 0, 0, NULL,
     "mx \"*\""},
    {"version: STSv1\nmode: enforce\nmx: a b\nmax_age: 1\n", -1, 0, 0, NULL,
     "mx \"a b\""},
    /* a tab quoted is a '?': the message stays one plain line */
    {"version: STSv1\nmode\tenforce\n", -1, 0, 0, NULL,
     "line 2 of the policy, \"mode?enforce\", has no \":\""},
    {"<html><body>Not Found</body></html>", -1, 0, 0, NULL, "has no \":\""},
};

/* The patterns of p joined by ' '. */
static const char *
joined(const struct mtasts_policy *p, char *out, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->nmx && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? " " : "",
		                      p->mx[i]);
	return out;
}

static void
test_policy(void)
{
	for (size_t i = 0; i < sizeof policy_rows / sizeof *policy_rows; i++) {
		const struct policy_row *r = &policy_rows[i];
		struct mtasts_policy p;
		char why[200], mx[1024];
		int got = mtasts_parse_policy(r->body, strlen(r->body), &p, why,
		                              sizeof why);

		CHECK_INT(got, r->want);
		if (got != r->want)
			fprintf(stderr, "  row %zu: %s\n", i, why);
		if (r->want == 0) {
			CHECK_INT(p.mode, r->mode);
			CHECK_INT(p.max_age, r->max_age);
			CHECK_STR(joined(&p, mx, sizeof mx), r->mx);
			continue;
		}
		CHECK_INT(p.nmx, 0);
		check_line(why);
		CHECK(r->why && strstr(why, r->why) != NULL);
		if (r->why && !strstr(why, r->why))
			fprintf(stderr, "  row %zu: \"%s\" lacks \"%s\"\n", i,
			        why, r->why);
	}
}

/* A NUL inside is a byte like any other that is not printable: the body
 * is taken by its length, not as a string. */
static void
test_policy_bytes(void)
{
	static const char nul[] = "version: STSv1\nmode: enforce\nmx: a\0b\n"
	                          "max_age: 1\n";
	struct mtasts_policy p;
	char why[200];

	CHECK_INT(mtasts_parse_policy(nul, sizeof nul - 1, &p, why, sizeof why),
	          -1);
	CHECK(strstr(why, "line 3") != NULL);
}

/* MTASTS_MX_MAX patterns are taken, one more is not; a body over
 * MTASTS_POLICY_MAX is refused whatever it holds. */
static void
test_policy_bounds(void)
{
	size_t room = MTASTS_POLICY_MAX + 2, n;
	char *body = xmalloc(room), why[200];
	struct mtasts_policy p;

	n = (size_t)snprintf(body, room,
	                     "version: STSv1\nmode: enforce\nmax_age: 1\n");
	for (int i = 0; i < MTASTS_MX_MAX; i++)
		n += (size_t)snprintf(body + n, room - n, "mx: mx%d.example\n",
		                      i);
	CHECK_INT(mtasts_parse_policy(body, n, &p, why, sizeof why), 0);
	CHECK_INT(p.nmx, MTASTS_MX_MAX);
	n += (size_t)snprintf(body + n, room - n, "mx: one-more.example\n");
	CHECK_INT(mtasts_parse_policy(body, n, &p, why, sizeof why), -1);
	CHECK(strstr(why, "more than 64 mx lines") != NULL);

	/* A 253-byte name is a pattern; 254 is not. */
	n = (size_t)snprintf(body, room,
	                     "version: STSv1\nmode: enforce\nmax_age: 1\nmx: ");
	for (int i = 0; i < 4; i++)
		n += (size_t)snprintf(
		    body + n, room - n, "%s%.*s", i ? "." : "", i < 3 ? 63 : 61,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CHECK_INT(mtasts_parse_policy(body, n, &p, why, sizeof why), 0);
	CHECK_INT(strlen(p.mx[0]), 253);
	body[n] = 'a';
	CHECK_INT(mtasts_parse_policy(body, n + 1, &p, why, sizeof why), -1);
	/* A label of 64. */
	n = (size_t)snprintf(body, room,
	                     "version: STSv1\nmode: enforce\nmax_age: 1\nmx: "
	                     "%.64s.b",
	                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                     "aaaaaaaaaaaaaaaaaaaa");
	CHECK_INT(mtasts_parse_policy(body, n, &p, why, sizeof why), -1);

	n = (size_t)snprintf(body, room,
	                     "version: STSv1\nmode: enforce\nmax_age: 1\n"
	                     "mx: a\nx: ");
	memset(body + n, 'x', room - n);
	CHECK_INT(
	    mtasts_parse_policy(body, MTASTS_POLICY_MAX, &p, why, sizeof why),
	    0);
	CHECK_INT(mtasts_parse_policy(body, MTASTS_POLICY_MAX + 1, &p, why,
	                              sizeof why),
	          -1);
	CHECK(strstr(why, "larger than 65536 bytes") != NULL);
	free(body);
}

static void
test_match(void)
{
	static const char body[] = "version: STSv1\nmode: enforce\nmax_age: 1\n"
	                           "mx: mail.example.com\nmx: *.example.net\n";
	struct mtasts_policy p;
	char why[200], match[300];

	CHECK_INT(
	    mtasts_parse_policy(body, sizeof body - 1, &p, why, sizeof why), 0);
	CHECK(mtasts_mx_matches(&p, "mail.example.com", match, sizeof match));
	CHECK_STR(match, "mail.example.com");
	CHECK(mtasts_mx_matches(&p, "MAIL.Example.COM", NULL, 0));
	CHECK(mtasts_mx_matches(&p, "mx1.example.net", match, sizeof match));
	CHECK_STR(match, "*.example.net");
	/* The wildcard is one leftmost label, never none or two. */
	CHECK(!mtasts_mx_matches(&p, "example.net", NULL, 0));
	CHECK(!mtasts_mx_matches(&p, "a.b.example.net", NULL, 0));
	CHECK(!mtasts_mx_matches(&p, ".example.net", NULL, 0));
	CHECK(!mtasts_mx_matches(&p, "xexample.net", NULL, 0));
	CHECK(!mtasts_mx_matches(&p, "mail.example.com.evil", NULL, 0));
	CHECK(!mtasts_mx_matches(&p, "other.example.com", NULL, 0));
	CHECK(!mtasts_mx_matches(&p, "", NULL, 0));
}

static void
test_hop(void)
{
	static const char enforce[] = "version: STSv1\nmode: enforce\n"
	                              "max_age: 1\nmx: *.example.org\n";
	static const char testing[] = "version: STSv1\nmode: testing\n"
	                              "max_age: 1\nmx: *.example.org\n";
	static const char none[] = "version: STSv1\nmode: none\nmax_age: 1\n";
	struct mtasts_result r;
	char why[300];

	memset(&r, 0, sizeof r);
	CHECK_INT(mtasts_hop(&r, "mx.example.org", why, sizeof why),
	          MTASTS_OPPORTUNISTIC);
	CHECK_STR(why, "no MTA-STS policy");

	r.found = true;
	CHECK_INT(mtasts_parse_policy(enforce, sizeof enforce - 1, &r.policy,
	                              why, sizeof why),
	          0);
	CHECK_INT(mtasts_hop(&r, "mx.example.org", why, sizeof why),
	          MTASTS_VERIFY);
	CHECK(strstr(why, "mx.example.org matches *.example.org") != NULL);
	CHECK_INT(mtasts_hop(&r, "mx.evil.example", why, sizeof why),
	          MTASTS_SKIP);
	CHECK(strstr(why, "mx.evil.example is not in the policy") != NULL);

	CHECK_INT(mtasts_parse_policy(testing, sizeof testing - 1, &r.policy,
	                              why, sizeof why),
	          0);
	CHECK_INT(mtasts_hop(&r, "mx.example.org", why, sizeof why),
	          MTASTS_TRY_VERIFY);
	CHECK(strstr(why, "MTA-STS testing: mx.example.org matches") != NULL);
	CHECK_INT(mtasts_hop(&r, "mx.evil.example", why, sizeof why),
	          MTASTS_OPPORTUNISTIC);
	CHECK(strstr(why, "not in the policy; used anyway") != NULL);

	CHECK_INT(mtasts_parse_policy(none, sizeof none - 1, &r.policy, why,
	                              sizeof why),
	          0);
	CHECK_INT(mtasts_hop(&r, "mx.evil.example", why, sizeof why),
	          MTASTS_OPPORTUNISTIC);
	CHECK_STR(why, "MTA-STS policy mode none");
}

int
main(void)
{
	test_txt();
	test_policy();
	test_policy_bytes();
	test_policy_bounds();
	test_match();
	test_hop();
	return unit_done();
}
