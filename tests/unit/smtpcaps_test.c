/*
 * smtpcaps_test.c - the EHLO reply read into struct smtp_caps
 * (smtpcaps.h): each keyword, case, parameters, the old "AUTH=" form, and
 * what is malformed or too long left out.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "smtpcaps.h"
#include "unit.h"

#define MAX_LINES 6

/* caps from the EHLO reply whose lines are given (the last ends it). */
static void
parse(struct smtp_caps *caps, const char *const *lines)
{
	struct reply r;
	struct error err;

	reply_init(&r);
	for (size_t i = 0; i < MAX_LINES && lines[i]; i++)
		CHECK(reply_push_line(&r, lines[i], strlen(lines[i]), &err) >=
		      0);
	smtpcaps_parse(caps, &r);
	reply_clear(&r);
}

static const struct caps_case {
	const char *name;
	const char *lines[MAX_LINES + 1];
	bool pipelining, size, eightbitmime, smtputf8, dsn, starttls;
	uint64_t size_max;
	const char *auth;
} caps_cases[] = {
    {"the name alone offers nothing", {"250 mx.example.org"}, .auth = ""},
    {"the first line is the name, never a keyword",
     {"250-PIPELINING", "250 8BITMIME"},
     .eightbitmime = true},
    {"keywords in any case",
     {"250-mx", "250-pipelining", "250-StartTLS", "250-smtputf8", "250 Dsn"},
     .pipelining = true,
     .starttls = true,
     .smtputf8 = true,
     .dsn = true},
    {"a keyword is a whole word",
     {"250-mx", "250-PIPELININGX", "250-XSTARTTLS", "250 DSNX"},
     .auth = ""},
    {"SIZE with its limit",
     {"250-mx", "250 SIZE 10240000"},
     .size = true,
     .size_max = 10240000},
    {"SIZE without a number: no limit announced",
     {"250-mx", "250 SIZE"},
     .size = true},
    {"SIZE that does not fit: no limit",
     {"250-mx", "250 SIZE 99999999999999999999999"},
     .size = true},
    {"SIZE that is not a number: no limit",
     {"250-mx", "250 SIZE 10M"},
     .size = true},
    {"AUTH upper-cased, in order",
     {"250-mx", "250 AUTH plain Login"},
     .auth = "PLAIN LOGIN"},
    {"AUTH= (before RFC 4954) and AUTH together, each name once",
     {"250-mx", "250-AUTH=LOGIN PLAIN", "250 AUTH PLAIN LOGIN CRAM-MD5"},
     .auth = "LOGIN PLAIN CRAM-MD5"},
    {"a name that is a prefix of another is still added",
     {"250-mx", "250 AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256"},
     .auth = "SCRAM-SHA-256-PLUS SCRAM-SHA-256"},
    {"a name with a character RFC 4422 forbids is dropped",
     {"250-mx", "250 AUTH PL.AIN LOGIN"},
     .auth = "LOGIN"},
    {"a name longer than 20 characters is dropped",
     {"250-mx", "250 AUTH ABCDEFGHIJKLMNOPQRSTU PLAIN"},
     .auth = "PLAIN"},
    {"tabs separate words too",
     {"250-mx", "250 AUTH\tPLAIN\t LOGIN"},
     .auth = "PLAIN LOGIN"},
};

static void
test_cases(void)
{
	for (size_t k = 0; k < sizeof caps_cases / sizeof caps_cases[0]; k++) {
		const struct caps_case *c = &caps_cases[k];
		struct smtp_caps caps;
		int failed = unit_failed;

		parse(&caps, c->lines);
		CHECK(caps.esmtp);
		CHECK_INT(caps.pipelining, c->pipelining);
		CHECK_INT(caps.size, c->size);
		CHECK_INT(caps.size_max, c->size_max);
		CHECK_INT(caps.eightbitmime, c->eightbitmime);
		CHECK_INT(caps.smtputf8, c->smtputf8);
		CHECK_INT(caps.dsn, c->dsn);
		CHECK_INT(caps.starttls, c->starttls);
		CHECK_STR(caps.auth, c->auth ? c->auth : "");
		if (unit_failed != failed)
			fprintf(stderr, "  in case \"%s\"\n", c->name);
	}
}

/* The mechanism list keeps the names that fit and drops the one that
 * would overflow it, never a part of a name. */
static void
test_auth_overflow(void)
{
	char line[REPLY_LINE_MAX];
	const char *lines[] = {"250-mx", line, NULL};
	struct smtp_caps caps;
	size_t n = (size_t)snprintf(line, sizeof line, "250 AUTH");

	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(line + n, sizeof line - n,
		                      " MECHANISM-%02d-XYZ", i);
	parse(&caps, lines);
	CHECK(strlen(caps.auth) < sizeof caps.auth);
	CHECK(strncmp(caps.auth, "MECHANISM-00-XYZ MECHANISM-01-XYZ", 33) == 0);
	n = strlen(caps.auth);
	CHECK(n >= 16 && strcmp(caps.auth + n - 16, "MECHANISM-14-XYZ") == 0);
}

/* Each keyword mailpost reads sets its own flag, and only it. */
static void
test_each_keyword(void)
{
	const char *lines[] = {"250-mx",          "250-ENHANCEDSTATUSCODES",
	                       "250-CHUNKING",    "250-binarymime",
	                       "250 MT-PRIORITY", NULL};
	struct smtp_caps caps;

	parse(&caps, lines);
	CHECK(caps.enhancedstatuscodes);
	CHECK(caps.chunking);
	CHECK(caps.binarymime);
	CHECK(caps.mt_priority);
	CHECK(!caps.pipelining && !caps.starttls && !caps.size);
}

/* SIZE's number: read when it fits, else said not to be (serverinfo.c
 * tells the two apart; a session takes either as no limit). */
static void
test_parse_size(void)
{
	uint64_t size = 1;

	CHECK(smtpcaps_parse_size("10240000", 8, &size));
	CHECK_INT(size, 10240000);
	CHECK(smtpcaps_parse_size("0", 1, &size));
	CHECK_INT(size, 0);
	CHECK(smtpcaps_parse_size("18446744073709551615", 20, &size));
	CHECK(size == UINT64_MAX);
	CHECK(!smtpcaps_parse_size("18446744073709551616", 20, &size));
	CHECK_INT(size, 0);
	size = 1;
	CHECK(!smtpcaps_parse_size("10M", 3, &size));
	CHECK_INT(size, 0);
}

int
main(void)
{
	test_parse_size();
	test_cases();
	test_auth_overflow();
	test_each_keyword();
	return unit_done();
}
