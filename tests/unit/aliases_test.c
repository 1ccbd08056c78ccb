/*
 * aliases_test.c - the /etc/aliases syntax and recursive expansion
 * (aliases.c): continuation lines, comments, quoting, duplicates,
 * `default`, self-references, loops and depth, refused targets, syntax
 * errors with their line numbers, and the size ceiling.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "error.h"
#include "unit.h"
#include "util.h"

static struct aliases *
parse_ok(const char *text, int line)
{
	struct aliases *a = NULL;
	struct error err;

	error_clear(&err);
	if (aliases_parse(text, strlen(text), "t", &a, &err) < 0) {
		fprintf(stderr, "line %d: unexpected error: %s\n", line,
		        err.msg);
		CHECK(0);
		return NULL;
	}
	CHECK(a != NULL);
	return a;
}

/* Expand rcpt and compare the result, joined with ", ", with want; a
 * want starting with "!" is an error whose message contains the rest. */
static void
check_expand(const struct aliases *a, const char *rcpt, const char *want,
             int line)
{
	struct strlist out;
	struct error err;
	char got[2048] = "";
	size_t len = 0;
	int rc;

	strlist_init(&out);
	error_clear(&err);
	rc = aliases_expand(a, rcpt, &out, &err);
	if (rc < 0) {
		snprintf(got, sizeof got, "!%s", err.msg);
		CHECK_INT(err.kind, ERROR_CONFIG);
	}
	for (size_t i = 0; rc == 0 && i < out.n; i++)
		len += (size_t)snprintf(got + len, sizeof got - len, "%s%s",
		                        i ? ", " : "", out.v[i]);
	if (want[0] == '!') {
		bool ok = rc < 0 && strstr(got, want + 1) != NULL;

		if (!ok)
			fprintf(stderr,
			        "line %d: %s: got \"%s\", want \"%s\"\n", line,
			        rcpt, got, want);
		CHECK(ok);
	} else {
		if (strcmp(got, want) != 0)
			fprintf(stderr, "line %d: %s\n", line, rcpt);
		CHECK_STR(got, want);
	}
	strlist_clear(&out);
}

#define EXPAND(a, rcpt, want) check_expand(a, rcpt, want, __LINE__)

static const char sample[] = "# /etc/aliases for a test\n"
                             "root: admin@example.org\n"
                             "www-data: root, webmaster@example.org\n"
                             "PostMaster :root\n"
                             "\n"
                             "staff: alice@x.org,\n"
                             "  bob@y.org,\n"
                             "\t\"c d\"@z.org ,\n"
                             "   <eve@w.org>\n"
                             "quoted: \"a b\"@x.org, \"x, y\"@z.org\n"
                             "mixedcase: Someone@Example.ORG\n"
                             "chain1: chain2\n"
                             "chain2: chain3, direct@x.org\n"
                             "chain3: admin@example.org\n"
                             "self: self, copy@x.org\n"
                             "dup: first@x.org\n"
                             "dup: second@x.org\n"
                             "pipe: |/usr/bin/procmail -a x\n"
                             "qpipe: \"|/usr/bin/x, y\"\n"
                             "file: /var/mail/archive\n"
                             "inc: :include:/etc/mail/list\n"
                             "usespipe: pipe\n"
                             "local: bob, carol\n"
                             "carol: carol@example.net\n";

static void
test_sample(void)
{
	struct aliases *a = parse_ok(sample, __LINE__);

	if (!a)
		return;
	EXPAND(a, "root", "admin@example.org");
	EXPAND(a, "ROOT", "admin@example.org");
	EXPAND(a, "Root@", "admin@example.org");
	EXPAND(a, "www-data", "admin@example.org, webmaster@example.org");
	EXPAND(a, "postmaster", "admin@example.org");
	EXPAND(a, "staff", "alice@x.org, bob@y.org, \"c d\"@z.org, eve@w.org");
	EXPAND(a, "quoted", "\"a b\"@x.org, \"x, y\"@z.org");
	EXPAND(a, "mixedcase", "Someone@Example.ORG");
	EXPAND(a, "chain1", "admin@example.org, direct@x.org");
	/* A name among its own targets is kept, not a loop. */
	EXPAND(a, "self", "self, copy@x.org");
	/* The later entry wins. */
	EXPAND(a, "dup", "second@x.org");
	/* No entry and no default: kept as it is. */
	EXPAND(a, "nobody", "nobody");
	EXPAND(a, "local", "bob, carol@example.net");
	/* An address with a domain is never an alias. */
	EXPAND(a, "root@example.com", "root@example.com");
	/* Targets only a local delivery agent can honour. */
	EXPAND(a, "pipe",
	       "!t:18: the alias \"pipe\" names \"|/usr/bin/"
	       "procmail -a x\", which only a local delivery agent");
	EXPAND(a, "qpipe", "!local delivery agent");
	EXPAND(a, "file", "!\"/var/mail/archive\"");
	EXPAND(a, "inc", "!\":include:/etc/mail/list\"");
	EXPAND(a, "usespipe", "!the alias \"pipe\"");
	aliases_free(a);
}

static void
test_duplicates_in_out(void)
{
	struct aliases *a = parse_ok("both: x@y.org, z@y.org\n"
	                             "again: z@y.org, both, x@y.org\n",
	                             __LINE__);
	struct strlist out;
	struct error err;

	strlist_init(&out);
	strlist_add(&out, "x@y.org");
	CHECK_INT(aliases_expand(a, "both", &out, &err), 0);
	CHECK_INT(out.n, 2);
	CHECK_INT(aliases_expand(a, "again", &out, &err), 0);
	CHECK_INT(out.n, 2);
	CHECK_STR(out.v[1], "z@y.org");
	strlist_clear(&out);
	EXPAND(a, "again", "z@y.org, x@y.org");
	aliases_free(a);

	/* No table: everything as it is. */
	EXPAND(NULL, "root", "root");
	EXPAND(NULL, "a@b.org", "a@b.org");
}

static void
test_default(void)
{
	struct aliases *a = parse_ok("root: admin@example.org\n"
	                             "default: catchall@example.org\n",
	                             __LINE__);

	EXPAND(a, "root", "admin@example.org");
	EXPAND(a, "nobody", "catchall@example.org");
	EXPAND(a, "x@y.org", "x@y.org");
	aliases_free(a);

	/* Names that `default` yields go through their own entries but
	 * not through `default` again. */
	a = parse_ok("Default: someone, root\n"
	             "root: bob@x.org\n",
	             __LINE__);
	EXPAND(a, "nobody", "someone, bob@x.org");
	EXPAND(a, "someone", "someone, bob@x.org");
	EXPAND(a, "root", "bob@x.org");
	aliases_free(a);

	/* bob, a target, has no entry: it stays bob (`default` is only for
	 * the recipient given), so nothing loops. */
	a = parse_ok("default: root\n"
	             "root: bob\n",
	             __LINE__);
	EXPAND(a, "nobody", "bob");
	EXPAND(a, "root", "bob");
	aliases_free(a);

	/* A target of an ordinary alias with no entry stays as it is, as in
	 * /etc/aliases ("www-data: root, bob": bob is bob). */
	a = parse_ok("postmaster: hostmaster\n"
	             "www-data: root, bob\n"
	             "root: admin@x.org\n"
	             "default: |/bin/cat\n",
	             __LINE__);
	EXPAND(a, "postmaster", "hostmaster");
	EXPAND(a, "www-data", "admin@x.org, bob");
	EXPAND(a, "stranger", "!the alias \"default\" names \"|/bin/cat\"");
	EXPAND(a, "x@y.org", "x@y.org");
	aliases_free(a);
}

static void
test_loops(void)
{
	struct aliases *a = parse_ok("a: b\n"
	                             "b: c, x@y.org\n"
	                             "c: A\n"
	                             "d: d\n",
	                             __LINE__);
	char text[4096];
	size_t len = 0;

	EXPAND(a, "a", "!t:1: the alias \"a\" loops (a -> b -> c -> A)");
	EXPAND(a, "c", "!loops (c -> A -> b -> c)");
	EXPAND(a, "d", "d");
	aliases_free(a);

	/* ALIASES_DEPTH_MAX steps are fine, one more is not. */
	for (int i = 0; i < ALIASES_DEPTH_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
		                        "n%d: n%d\n", i, i + 1);
	len += (size_t)snprintf(text + len, sizeof text - len,
	                        "n%d: end@x.org\n", ALIASES_DEPTH_MAX);
	a = parse_ok(text, __LINE__);
	EXPAND(a, "n1", "end@x.org");
	EXPAND(a, "n0", "!expands more than 10 levels deep");
	aliases_free(a);
}

/* A syntax error: message "t:LINE: ..." containing want. */
static void
check_syntax(const char *text, const char *want, int line)
{
	struct aliases *a = (struct aliases *)1;
	struct error err;
	int rc;

	error_clear(&err);
	rc = aliases_parse(text, strlen(text), "t", &a, &err);
	if (rc == 0 || !strstr(err.msg, want))
		fprintf(stderr, "line %d: got \"%s\", want \"%s\"\n", line,
		        err.msg, want);
	CHECK_INT(rc, -1);
	CHECK(a == NULL);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, want) != NULL);
	if (rc == 0)
		aliases_free(a);
}

#define SYNTAX(text, want) check_syntax(text, want, __LINE__)

static void
test_syntax(void)
{
	SYNTAX("root admin@x.org\n", "t:1: ':' is missing after the alias "
	                             "name \"root admin@x.org\"");
	SYNTAX("# c\n\nroot: a@x.org,\n  b@y.org\n\n  c@z.org\n",
	       "t:6: a line starts with white space but continues no alias");
	SYNTAX("# c\nroot: a@x.org\n# c\n\tb@y.org\n", "t:4: a line starts");
	SYNTAX(" x: y@z.org\n", "t:1: a line starts");
	/* Without a comma, a continuation does not start a new target. */
	SYNTAX("\nroot: a@x.org\n  b@y.org\n",
	       "t:2: invalid address \"a@x.org   b@y.org\": contains a space");
	SYNTAX("ok: a@x.org\n: a@x.org\n", "t:2: an alias name is missing");
	SYNTAX("a b: x@y.org\n", "t:1: the alias name \"a b\" contains white");
	SYNTAX("a@x.org: b@y.org\n", "t:1: the alias name \"a@x.org\" has a "
	                             "domain");
	SYNTAX("x: y@z.org\nroot:\n", "t:2: the alias \"root\" has no value");
	SYNTAX("root: ,\n  ,\n", "t:1: the alias \"root\" has no value");
	SYNTAX("root: a@x.org,\n  bad address@x.org\n",
	       "t:2: invalid address \"bad address@x.org\"");
	SYNTAX("root: a@x.org,\n b@y.org, c@\n", "t:2: invalid address "
	                                         "\"c@\"");
	SYNTAX("root: \"unterminated@x.org\n", "t:1: the alias \"root\" has "
	                                       "an unterminated quoted string");
	SYNTAX("root: a@x.org\r\nx: a\x01@b.org\r\n", "t:2: invalid address");
	SYNTAX("root: a@x.org\nx: |cmd\x01\n", "t:2: a target contains a "
	                                       "control character");
	{
		static const char nul[] = "root: a@x.org\nx: y\0z\n";
		struct aliases *a = NULL;
		struct error err;

		CHECK_INT(aliases_parse(nul, sizeof nul - 1, "t", &a, &err),
		          -1);
		CHECK(strstr(err.msg, "t:2: the line contains a NUL byte") !=
		      NULL);
	}
}

static void
test_layout(void)
{
	/* CRLF line ends, no final newline, blank continuation lines,
	 * empty items, white space everywhere. */
	struct aliases *a =
	    parse_ok("root :  a@x.org ,, b@y.org ,\r\n   \r\n\t c@z.org\r\n"
	             "# root: no@x.org\r\n"
	             "last: z@z.org",
	             __LINE__);

	EXPAND(a, "root", "a@x.org, b@y.org, c@z.org");
	EXPAND(a, "last", "z@z.org");
	aliases_free(a);

	a = parse_ok("", __LINE__);
	EXPAND(a, "root", "root");
	aliases_free(a);
	a = parse_ok("# only a comment\n\n", __LINE__);
	EXPAND(a, "x", "x");
	aliases_free(a);
}

static void
test_load(void)
{
	char path[] = "/tmp/aliases_test.XXXXXX";
	struct aliases *a = NULL;
	struct error err;
	char *big;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "root: admin@example.org\n", 24) == 24);
	close(fd);
	CHECK_INT(aliases_load(path, &a, &err), 0);
	EXPAND(a, "root", "admin@example.org");
	aliases_free(a);

	/* Error messages name the file. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "root: admin@example.org\nbad\n", 28) == 28);
	close(fd);
	CHECK_INT(aliases_load(path, &a, &err), -1);
	CHECK(a == NULL);
	CHECK(strncmp(err.msg, path, strlen(path)) == 0);
	CHECK(strstr(err.msg, ":2: ':' is missing") != NULL);

	/* Past the ceiling. */
	big = xmalloc(ALIASES_FILE_MAX + 1);
	memset(big, '#', ALIASES_FILE_MAX + 1);
	big[ALIASES_FILE_MAX] = '\n';
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, big, ALIASES_FILE_MAX + 1) == ALIASES_FILE_MAX + 1);
	close(fd);
	CHECK_INT(aliases_load(path, &a, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "is larger than 4194304 bytes") != NULL);
	CHECK_INT(aliases_parse(big, ALIASES_FILE_MAX + 1, "t", &a, &err), -1);
	CHECK(strstr(err.msg, "t is larger than") != NULL);
	/* Exactly at the ceiling is fine. */
	big[ALIASES_FILE_MAX - 1] = '\n';
	CHECK_INT(aliases_parse(big, ALIASES_FILE_MAX, "t", &a, &err), 0);
	aliases_free(a);
	free(big);
	unlink(path);

	CHECK_INT(aliases_load(path, &a, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "cannot read") != NULL);
	CHECK_INT(aliases_load("/tmp", &a, &err), -1);
	CHECK(strstr(err.msg, "not a regular file") != NULL);
}

int
main(void)
{
	test_sample();
	test_duplicates_in_out();
	test_default();
	test_loops();
	test_syntax();
	test_layout();
	test_load();
	return unit_done();
}
