/*
 * identity_test.c - the %U %H %C %M substitutions of `from`, `domain` and
 * `maildomain`, the back-off schedule of the queue, and the relay's rule
 * for when another server may be tried.
 */
#include "config.h"

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
	test_may_retry();
	unlink(mailname);
	return unit_done();
}
