/*
 * identity_test.c - the %U %H %C %M substitutions of `from`, `domain` and
 * `maildomain`, the back-off schedule of the queue, and the relay's rule
 * for when another server may be tried.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "identity.h"
#include "relay.h"
#include "unit.h"

static char mailname[256];

static void
write_mailname(const char *text)
{
	FILE *f = fopen(mailname, "w");

	if (!f) {
		perror(mailname);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static void
check_expand(const char *template, const char *want)
{
	struct error err;
	char *got;

	error_clear(&err);
	got = identity_expand(template, mailname, &err);
	CHECK_STR(got, want);
	free(got);
}

static void
test_mailname(void)
{
	char host[256], want[1024];

	identity_host(host, sizeof host);
	write_mailname("mail.example.org\nsecond line\n");
	snprintf(want, sizeof want, "%s@mail.example.org", identity_login());
	check_expand("%U@%M", want);
	check_expand("100%%@%M", "100%@mail.example.org");
	check_expand("plain@example.org", "plain@example.org");
	snprintf(want, sizeof want, "cron@%s", host);
	check_expand("cron@%H", want);
	/* An empty or missing mail name file: the host name. */
	write_mailname("");
	snprintf(want, sizeof want, "x@%s", host);
	check_expand("x@%M", want);
	unlink(mailname);
	check_expand("x@%M", want);
}

static void
test_unknown_substitution(void)
{
	struct error err;

	error_clear(&err);
	CHECK(identity_expand("a@%Q", mailname, &err) == NULL);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "%Q") != NULL);
	error_clear(&err);
	CHECK(identity_expand("trailing%", mailname, &err) == NULL);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(identity_expand(NULL, mailname, &err) == NULL);
}

static void
test_canonical_host(void)
{
	struct error err;
	char *got;

	/* Whatever the resolver says, the result is a non-empty name
	 * without a '%'. */
	error_clear(&err);
	got = identity_expand("%C", mailname, &err);
	CHECK(got && *got && !strchr(got, '%'));
	free(got);
}

/* The names of this machine, given as "box.example.lan" (so nothing is
 * looked up): the host name, its first label, the loopback names, ASCII
 * case and one trailing dot ignored. */
static void
test_local_domain(void)
{
	static const struct {
		const char *domain;
		bool local;
	} cases[] = {
	    {"box.example.lan", true},
	    {"BOX.Example.LAN.", true},
	    {"box", true},
	    {"Box.", true},
	    {"localhost", true},
	    {"LocalHost.", true},
	    {"localhost.localdomain", true},
	    {"localhost.localdomain.", true},
	    {"box.example", false},
	    {"box.example.lan.org", false},
	    {"boxer", false},
	    {"bo", false},
	    {"x.box.example.lan", false},
	    {"box..", false},
	    {".", false},
	    {"", false},
	    {"localhost.example", false},
	    {"example.org", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool got = identity_is_local_domain(cases[i].domain,
		                                    "box.example.lan");

		if (got != cases[i].local)
			fprintf(stderr, "identity_is_local_domain(\"%s\")\n",
			        cases[i].domain);
		CHECK(got == cases[i].local);
	}
	/* A host name without a dot is its own first label; given, it has
	 * no canonical name, so nothing longer is local. */
	CHECK(identity_is_local_domain("box", "box"));
	CHECK(!identity_is_local_domain("box.example.lan", "box"));
	CHECK(!identity_is_local_domain(NULL, "box"));
	CHECK(!identity_is_local_domain("box", ""));
	CHECK(identity_is_local_domain("localhost", ""));
}

/* This machine's own names, from gethostname and the resolver. */
static void
test_local_domain_own(void)
{
	char host[256], *canon;
	struct error err;

	identity_host(host, sizeof host);
	CHECK(identity_is_local_domain(host, NULL));
	CHECK(identity_is_local_domain("localhost", NULL));
	CHECK(!identity_is_local_domain("example.invalid", NULL));
	error_clear(&err);
	canon = identity_expand("%C", mailname, &err);
	CHECK(canon && identity_is_local_domain(canon, NULL));
	free(canon);
}

static void
test_may_retry(void)
{
	struct submit_outcome out;
	struct error err;

	memset(&out, 0, sizeof out);
	error_clear(&err);
	error_set(&err, ERROR_TEMPFAIL, "connection refused");
	CHECK(relay_may_retry(&err, &out));
	CHECK(relay_may_retry(&err, NULL));
	error_set(&err, ERROR_NOHOST, "cannot resolve");
	CHECK(relay_may_retry(&err, &out));
	/* Never after the dot, never after a partial delivery. */
	error_set(&err, ERROR_TEMPFAIL, "delivery status unknown");
	out.dot_sent = true;
	CHECK(!relay_may_retry(&err, &out));
	out.dot_sent = false;
	out.delivered = true;
	CHECK(!relay_may_retry(&err, &out));
	out.delivered = false;
	/* Permanent failures and authentication failures stay put. */
	error_set(&err, ERROR_UNAVAILABLE, "554");
	CHECK(!relay_may_retry(&err, &out));
	error_set(&err, ERROR_NOPERM, "535");
	CHECK(!relay_may_retry(&err, &out));
	error_set(&err, ERROR_PROTOCOL, "bad certificate");
	CHECK(!relay_may_retry(&err, &out));
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(mailname, sizeof mailname, "%s/identity_test.%ld",
	         tmp && *tmp ? tmp : "/tmp", (long)getpid());
	test_mailname();
	test_unknown_substitution();
	test_canonical_host();
	test_local_domain();
	test_local_domain_own();
	test_may_retry();
	unlink(mailname);
	return unit_done();
}
