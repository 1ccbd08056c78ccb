/*
 * rewrite_test.c - header hygiene (rewrite.c): a local From made into the
 * configured address, bare names given aliases and a domain, everything
 * else kept byte for byte, rewritten fields folded; and the address
 * walker it stands on (address_walk_list in address.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "aliases.h"
#include "buf.h"
#include "error.h"
#include "header.h"
#include "rewrite.h"
#include "unit.h"
#include "util.h"

#define HOST "myhost.example.net"
#define FROM "cron@example.org"

static const struct header_rewrite from_only = {
    .rewrite_from = true, .from_address = FROM, .local_host = HOST};
static const struct header_rewrite qualify_only = {
    .qualify = true, .maildomain = "example.org", .local_host = HOST};
static const struct header_rewrite both = {.rewrite_from = true,
                                           .from_address = FROM,
                                           .qualify = true,
                                           .maildomain = "example.org",
                                           .local_host = HOST};

/* Push the header block `in` (CRLF lines), rewrite it with r, and return
 * the fields joined again (caller frees), or NULL with err filled. */
static char *
run(const char *in, const struct header_rewrite *r, struct error *err)
{
	struct header_block h;
	struct buf out;
	const char *p = in;
	char *result = NULL;

	header_init(&h);
	error_clear(err);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (header_push_line(&h, p, n, err) != HEADER_MORE) {
			error_set(err, ERROR_SOFTWARE, "bad test header");
			header_clear(&h);
			return NULL;
		}
		p += n;
	}
	if (headers_rewrite(&h, r, err) == 0) {
		size_t bytes = 0;

		buf_init(&out, 4 * HEADER_BLOCK_MAX);
		for (size_t i = 0; i < h.n; i++) {
			buf_append(&out, h.v[i].raw, h.v[i].raw_len);
			bytes += h.v[i].raw_len;
		}
		CHECK_INT(h.bytes, bytes);
		result = out.data ? out.data : xstrdup("");
	}
	header_clear(&h);
	return result;
}

static void
check(const char *in, const struct header_rewrite *r, const char *want,
      int line)
{
	struct error err;
	char *got = run(in, r, &err);

	if (!got || strcmp(got, want) != 0)
		fprintf(stderr, "line %d: %s\n", line, got ? "" : err.msg);
	CHECK_STR(got, want);
	free(got);
}

/* Rewriting fails with kind and a message containing want. */
static void
check_fail(const char *in, const struct header_rewrite *r, enum error_kind kind,
           const char *want, int line)
{
	struct error err;
	char *got = run(in, r, &err);

	if (got || !strstr(err.msg, want))
		fprintf(stderr, "line %d: got \"%s\"\n", line,
		        got ? got : err.msg);
	CHECK(got == NULL);
	CHECK_INT(err.kind, kind);
	CHECK(strstr(err.msg, want) != NULL);
	free(got);
}

#define SAME(in, r) check(in, r, in, __LINE__)
#define REWRITES(in, r, want) check(in, r, want, __LINE__)
#define FAILS(in, r, kind, want) check_fail(in, r, kind, want, __LINE__)

static void
test_rewrite_from(void)
{
	REWRITES("From: root (Cron Daemon)\r\n", &from_only,
	         "From: Cron Daemon <" FROM ">\r\n");
	REWRITES("From: (Cron Daemon) root\r\n", &from_only,
	         "From: Cron Daemon <" FROM ">\r\n");
	REWRITES("From: Cron Daemon <root@myhost>\r\n", &from_only,
	         "From: Cron Daemon <" FROM ">\r\n");
	REWRITES("From: Cron Daemon <root@MyHost.Example.NET>\r\n", &from_only,
	         "From: Cron Daemon <" FROM ">\r\n");
	REWRITES("From: \"Cron, Daemon\" <root@localhost>\r\n", &from_only,
	         "From: \"Cron, Daemon\" <" FROM ">\r\n");
	REWRITES("From: root@localhost.localdomain\r\n", &from_only,
	         "From: " FROM "\r\n");
	REWRITES("From: root\r\n", &from_only, "From: " FROM "\r\n");
	REWRITES("From: <root>\r\n", &from_only, "From: <" FROM ">\r\n");
	REWRITES("from:root\r\n", &from_only, "from: " FROM "\r\n");
	REWRITES("From: root ()\r\n", &from_only, "From: " FROM " ()\r\n");
	/* A display name from a comment that needs quoting. */
	REWRITES("From: root (Cron, \\\"the\\\" Daemon\\\\)\r\n", &from_only,
	         "From: \"Cron, \\\"the\\\" Daemon\\\\\" <" FROM ">\r\n");
	REWRITES("From: root (J. Random)\r\n", &from_only,
	         "From: \"J. Random\" <" FROM ">\r\n");
	/* Nested comments, folded white space. */
	REWRITES("From: root (Cron (the daemon)\r\n   Daemon)\r\n", &from_only,
	         "From: \"Cron (the daemon) Daemon\" <" FROM ">\r\n");
	/* Encoded-words stay atoms; only the other words are quoted. */
	REWRITES("From: root (=?utf-8?q?Caf=C3=A9?= Daemon)\r\n", &from_only,
	         "From: =?utf-8?q?Caf=C3=A9?= Daemon <" FROM ">\r\n");
	REWRITES("From: root (=?utf-8?q?Caf=C3=A9?= D. Daemon)\r\n", &from_only,
	         "From: =?utf-8?q?Caf=C3=A9?= \"D.\" Daemon <" FROM ">\r\n");
	REWRITES("From: =?utf-8?q?Caf=C3=A9?= <root>\r\n", &from_only,
	         "From: =?utf-8?q?Caf=C3=A9?= <" FROM ">\r\n");
	/* 8-bit display names (RFC 6532) need no quoting. */
	REWRITES("From: root (J\xc3\xb6rg)\r\n", &from_only,
	         "From: J\xc3\xb6rg <" FROM ">\r\n");
	REWRITES("Resent-From: root\r\n", &from_only,
	         "Resent-From: " FROM "\r\n");
	/* Not local: left alone, bytes and all. */
	SAME("From: root@other.example (Cron Daemon)\r\n", &from_only);
	SAME("From: Someone <someone@example.org>\r\n", &from_only);
	SAME("From: root@myhost.example.net.evil\r\n", &from_only);
	SAME("From: <>\r\n", &from_only);
	/* Only From and Resent-From. */
	SAME("To: root\r\nSender: root\r\nReply-To: root\r\n", &from_only);
	/* Several mailboxes: each local one. */
	REWRITES("From: root, a@b.org, Bob <bob@localhost>\r\n", &from_only,
	         "From: " FROM ", a@b.org, Bob <" FROM ">\r\n");
	/* No from_address: nothing to do. */
	{
		struct header_rewrite r = from_only;

		r.from_address = "";
		SAME("From: root\r\n", &r);
		r.from_address = "bad address";
		FAILS("From: root\r\n", &r, ERROR_CONFIG, "bad address");
	}
}

static void
test_qualify(void)
{
	REWRITES("To: root, bob@x.org\r\n", &qualify_only,
	         "To: root@example.org, bob@x.org\r\n");
	REWRITES("To: Root User <root>\r\n", &qualify_only,
	         "To: Root User <root@example.org>\r\n");
	REWRITES("To: root (Admin)\r\n", &qualify_only,
	         "To: root@example.org (Admin)\r\n");
	REWRITES("Cc: \"a b\"\r\n", &qualify_only,
	         "Cc: \"a b\"@example.org\r\n");
	/* Groups: an empty one untouched, members qualified. */
	SAME("To: undisclosed-recipients:;\r\n", &qualify_only);
	REWRITES("To: team: root, bob@x;\r\n", &qualify_only,
	         "To: team: root@example.org, bob@x;\r\n");
	REWRITES("To: team: (lead) root (Root), <bob>;, carol\r\n",
	         &qualify_only,
	         "To: team: (lead) root@example.org (Root), "
	         "<bob@example.org>;,\r\n carol@example.org\r\n");
	/* Every field concerned, Resent- forms included; others not. */
	REWRITES("From: a\r\nTo: b\r\nCc: c\r\nReply-To: d\r\nSender: e\r\n"
	         "Resent-From: f\r\nResent-To: g\r\nResent-Cc: h\r\n"
	         "Resent-Reply-To: i\r\nResent-Sender: j\r\n"
	         "Bcc: k\r\nSubject: l\r\nX-To: m\r\n",
	         &qualify_only,
	         "From: a@example.org\r\nTo: b@example.org\r\n"
	         "Cc: c@example.org\r\nReply-To: d@example.org\r\n"
	         "Sender: e@example.org\r\nResent-From: f@example.org\r\n"
	         "Resent-To: g@example.org\r\nResent-Cc: h@example.org\r\n"
	         "Resent-Reply-To: i@example.org\r\n"
	         "Resent-Sender: j@example.org\r\n"
	         "Bcc: k\r\nSubject: l\r\nX-To: m\r\n");
	/* Recipients with a domain, local or not, are not qualify's. */
	SAME("To: root@localhost, a@b\r\nCc: root@myhost\r\n", &qualify_only);
	/* A sender at a name of this machine (GNU mail's root@HOST) is a
	 * local name once there is a mail domain: every originator field,
	 * the local part's case kept; another machine's name is not. */
	REWRITES("From: Root <ROOT@myhost> (admin)\r\n"
	         "Sender: root@LOCALHOST.localdomain\r\n"
	         "Reply-To: a@MyHost.example.net, b@myhost.example\r\n"
	         "Resent-From: c@localhost\r\nResent-Sender: d@myhost\r\n"
	         "Resent-Reply-To: e@myhost\r\nTo: f@myhost\r\n",
	         &qualify_only,
	         "From: Root <ROOT@example.org> (admin)\r\n"
	         "Sender: root@example.org\r\n"
	         "Reply-To: a@example.org, b@myhost.example\r\n"
	         "Resent-From: c@example.org\r\n"
	         "Resent-Sender: d@example.org\r\n"
	         "Resent-Reply-To: e@example.org\r\nTo: f@myhost\r\n");
	SAME("From: root@otherhost, root@example.net\r\n", &qualify_only);
	/* No mail domain: the host name. */
	{
		struct header_rewrite r = qualify_only;

		r.maildomain = NULL;
		REWRITES("To: root\r\n", &r, "To: root@" HOST "\r\n");
		/* and a sender at this machine's name stays as it is. */
		SAME("From: root@myhost\r\nSender: root@localhost\r\n", &r);
		r.maildomain = "";
		REWRITES("To: root\r\n", &r, "To: root@" HOST "\r\n");
		r.maildomain = "exa mple.org";
		FAILS("To: root\r\n", &r, ERROR_CONFIG, "invalid mail domain");
	}
	/* Both: rewrite_from wins in From, qualify does the rest. */
	REWRITES("From: root (Cron Daemon)\r\nTo: root\r\n", &both,
	         "From: Cron Daemon <" FROM ">\r\nTo: root@example.org\r\n");
	REWRITES("From: Someone <someone@example.org>\r\nTo: root\r\n", &both,
	         "From: Someone <someone@example.org>\r\n"
	         "To: root@example.org\r\n");
}

/* A field with nothing to change keeps its raw bytes: folding, odd
 * spacing, comments and all. */
static void
test_untouched(void)
{
	SAME("To: a@x.org,\r\n\tb@y.org  (B) ,\r\n  \"c, d\" <c@z.org>\r\n",
	     &both);
	SAME("Subject: root\r\nX-Mailer: root\r\nTo: <a@x.org>\r\n", &both);
	/* The untouched fields around a rewritten one too. */
	REWRITES("Subject:  root \r\nTo: a@x.org,\r\n b@y.org\r\n"
	         "Cc:  root\r\nX:  y\r\n",
	         &both,
	         "Subject:  root \r\nTo: a@x.org,\r\n b@y.org\r\n"
	         "Cc: root@example.org\r\nX:  y\r\n");
}

static void
test_aliases(void)
{
	static const char table[] = "root: a@x.org, b@y.org\n"
	                            "ops: root, carol\n"
	                            "carol: carol\n"
	                            "pipe: |/bin/cat\n"
	                            "default: dflt@example.com\n";
	struct aliases *a = NULL;
	struct header_rewrite r = qualify_only;
	struct error err;

	CHECK_INT(aliases_parse(table, sizeof table - 1, "aliases", &a, &err),
	          0);
	r.aliases = a;
	/* Several addresses: several mailboxes, the display name and the
	 * comments on the first. */
	REWRITES("To: Ops <ops> (team), dave@d.org\r\n", &r,
	         "To: Ops <a@x.org> (team), b@y.org, carol@example.org, "
	         "dave@d.org\r\n");
	REWRITES("To: root\r\n", &r, "To: a@x.org, b@y.org\r\n");
	REWRITES("To: g: root;\r\n", &r, "To: g: a@x.org, b@y.org;\r\n");
	REWRITES("To: someone\r\n", &r, "To: dflt@example.com\r\n");
	/* Sender holds one mailbox. */
	REWRITES("Sender: root\r\n", &r, "Sender: a@x.org\r\n");
	/* A sender at this machine's name is looked up by its local part,
	 * as the bare name is. */
	REWRITES("From: ops@myhost\r\nSender: root@localhost\r\n", &r,
	         "From: a@x.org, b@y.org, carol@example.org\r\n"
	         "Sender: a@x.org\r\n");
	FAILS("To: x@y.org\r\nCc: pipe\r\n", &r, ERROR_CONFIG,
	      "only a local delivery agent");
	aliases_free(a);
}

/* Every line of s, without its CRLF, at most max columns; continuation
 * lines start with a space. */
static bool
lines_within(const char *s, size_t max)
{
	const char *p = s;

	while (*p) {
		const char *crlf = strstr(p, "\r\n");

		if (!crlf || (size_t)(crlf - p) > max)
			return false;
		if (p != s && *p != ' ')
			return false;
		p = crlf + 2;
	}
	return true;
}

static void
test_folding(void)
{
	struct buf in, want, value;
	struct header_block h;
	struct error err;
	char *got;

	/* Forty bare names: folded at commas within 78 columns, and the
	 * unfolded value is the list. */
	buf_init(&in, 1 << 20);
	buf_init(&want, 1 << 20);
	buf_append_str(&in, "To: ");
	for (int i = 0; i < 40; i++) {
		buf_printf(&in, "%suser%d", i ? ", " : "", i);
		buf_printf(&want, "%suser%d@example.org", i ? ", " : "", i);
	}
	buf_append_str(&in, "\r\n");
	got = run(in.data, &qualify_only, &err);
	CHECK(got != NULL);
	CHECK(got && lines_within(got, 78));
	CHECK(got && strncmp(got, "To: user0@example.org, ", 23) == 0);
	header_init(&h);
	buf_init(&value, 1 << 20);
	if (got) {
		const char *p = got;

		while (*p) {
			const char *nl = strchr(p, '\n');

			header_push_line(&h, p, (size_t)(nl - p) + 1, &err);
			p = nl + 1;
		}
	}
	CHECK_INT(h.n, 1);
	if (h.n == 1)
		header_value(&h.v[0], &value);
	CHECK_STR(buf_str(&value), buf_str(&want));
	header_clear(&h);
	buf_clear(&value);
	free(got);

	/* 78 columns fit, 79 do not. */
	REWRITES("To: aaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbb\r\n",
	         &qualify_only,
	         "To: aaaaaaaaaaaaaaaaaaaaaaaa@example.org, "
	         "bbbbbbbbbbbbbbbbbbbbbbbb@example.org\r\n");
	REWRITES("To: aaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbb\r\n",
	         &qualify_only,
	         "To: aaaaaaaaaaaaaaaaaaaaaaaa@example.org,\r\n"
	         " bbbbbbbbbbbbbbbbbbbbbbbbb@example.org\r\n");
	/* Commas inside quotes and comments are not fold points. */
	REWRITES(
	    "To: \"aaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, "
	    "ccc\" <x> (dddddddddddddddddddd, eeeeeeeeeeeeeeeeeeeeeeee)\r\n",
	    &qualify_only,
	    "To: \"aaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, "
	    "ccc\" <x@example.org> (dddddddddddddddddddd, "
	    "eeeeeeeeeeeeeeeeeeeeeeee)\r\n");

	/* A long comment with spaces: folded inside it, never past 998. */
	buf_reset(&in);
	buf_append_str(&in, "To: root (");
	for (int i = 0; i < 300; i++)
		buf_append_str(&in, "word ");
	buf_append_str(&in, "end)\r\n");
	got = run(in.data, &qualify_only, &err);
	CHECK(got != NULL);
	CHECK(got && lines_within(got, 998));
	CHECK(got && strncmp(got, "To: root@example.org (word word", 31) == 0);
	free(got);

	/* A word that fits on no line. */
	buf_reset(&in);
	buf_append_str(&in, "To: root (");
	for (int i = 0; i < 1000; i++)
		buf_append_char(&in, 'x');
	buf_append_str(&in, ")\r\n");
	FAILS(in.data, &qualify_only, ERROR_DATA,
	      "would have a line longer than 998 characters");
	buf_clear(&in);
	buf_clear(&want);
}

static void
test_errors(void)
{
	FAILS("To: a@x.org, <broken\r\n", &qualify_only, ERROR_DATA,
	      "in the To field: cannot parse the address list");
	FAILS("Resent-Cc: a b c\r\n", &qualify_only, ERROR_DATA,
	      "in the Resent-Cc field: ");
	FAILS("From: root (unclosed\r\n", &from_only, ERROR_DATA,
	      "in the From field: ");
	/* Fields not concerned are not parsed. */
	SAME("To: a@x.org, <broken\r\n", &from_only);
	SAME("X-To: <<<\r\n", &both);
	/* Nothing asked: nothing parsed. */
	{
		struct header_rewrite none = {.local_host = HOST};

		SAME("From: <<<\r\nTo: root\r\n", &none);
	}
}

static void
test_is_local(void)
{
	static const struct {
		const char *addr;
		bool local;
	} cases[] = {
	    {"root", true},
	    {"\"a@b\"", true},
	    {"root@localhost", true},
	    {"root@LOCALHOST", true},
	    {"root@localhost.localdomain", true},
	    {"root@myhost", true},
	    {"root@MYHOST.example.net", true},
	    {"\"x@y\"@myhost", true},
	    {"root@myhost.example", false},
	    {"root@example.net", false},
	    {"root@otherhost", false},
	    {"root@myhostx", false},
	    {"root@localhost.example", false},
	    {"", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool got = address_is_local(cases[i].addr, HOST);

		if (got != cases[i].local)
			fprintf(stderr, "address_is_local(\"%s\")\n",
			        cases[i].addr);
		CHECK(got == cases[i].local);
	}
	/* A host name without dots is its own short name. */
	CHECK(address_is_local("a@box", "box"));
	CHECK(!address_is_local("a@box.example", "box"));
	CHECK(address_is_local("a@localhost", NULL));
	CHECK(!address_is_local("a@example.invalid", NULL));
	/* The rule is identity_is_local_domain's: a trailing dot too. */
	CHECK(address_is_local("a@myhost.", HOST));
	CHECK(address_is_local("a@LOCALHOST.", HOST));
}

/* --- the walker ------------------------------------------------------------
 */

struct walked {
	struct buf out;
};

static void
span(struct buf *b, const char *what, const char *v, size_t s, size_t e)
{
	if (e > s)
		buf_printf(b, " %s=[%.*s]", what, (int)(e - s), v + s);
}

static const char *walk_value;

static int
on_walk(void *ctx, const struct address_mailbox *mb, struct error *err)
{
	struct walked *w = ctx;

	(void)err;
	buf_printf(&w->out, "{%s", mb->addr);
	span(&w->out, "mb", walk_value, mb->start, mb->end);
	span(&w->out, "spec", walk_value, mb->spec_start, mb->spec_end);
	span(&w->out, "name", walk_value, mb->name_start, mb->name_end);
	span(&w->out, "c", walk_value, mb->comment_start, mb->comment_end);
	buf_printf(&w->out, "%s%s}", mb->angle ? " <>" : "",
	           mb->in_group ? " g" : "");
	return 0;
}

static void
check_walk(const char *value, const char *want, int line)
{
	struct walked w;
	struct error err;
	int rc;

	buf_init(&w.out, 1 << 16);
	walk_value = value;
	rc = address_walk_list(value, strlen(value), on_walk, &w, &err);
	if (rc < 0)
		buf_printf(&w.out, "!%s", err.msg);
	if (strcmp(buf_str(&w.out), want) != 0)
		fprintf(stderr, "line %d\n", line);
	CHECK_STR(buf_str(&w.out), want);
	buf_clear(&w.out);
}

#define WALK(value, want) check_walk(value, want, __LINE__)

static int
stop_walk(void *ctx, const struct address_mailbox *mb, struct error *err)
{
	int *calls = ctx;

	(void)mb;
	(*calls)++;
	return error_set(err, ERROR_CONFIG, "stopped");
}

static void
test_walk(void)
{
	int calls = 0;
	struct error err;

	WALK("root", "{root mb=[root] spec=[root]}");
	WALK("  root (Cron Daemon) ",
	     "{root mb=[root (Cron Daemon)] spec=[root] c=[(Cron Daemon)]}");
	WALK("(a (b) c) x . y @ d.org (e), Z <z@q>",
	     "{x.y@d.org mb=[(a (b) c) x . y @ d.org (e)] spec=[x . y @ d.org] "
	     "c=[(a (b) c)]}"
	     "{z@q mb=[Z <z@q>] spec=[z@q] name=[Z] <>}");
	WALK("\"a, b\" <a@b>, g: c, (x) <d@e> ;, <@r1,@r2:f@g>",
	     "{a@b mb=[\"a, b\" <a@b>] spec=[a@b] name=[\"a, b\"] <>}"
	     "{c mb=[c] spec=[c] g}"
	     "{d@e mb=[(x) <d@e>] spec=[d@e] c=[(x)] <> g}"
	     "{f@g mb=[<@r1,@r2:f@g>] spec=[f@g] <>}");
	WALK("undisclosed-recipients:;, <>", "");
	WALK("a@x <a@x>", "{a@x mb=[a@x <a@x>] spec=[a@x] name=[a@x] <>}");
	WALK("a b", "!cannot parse the address list \"a b\": a display name "
	            "is not followed by <address>");
	CHECK_INT(address_walk_list("a, b", 4, stop_walk, &calls, &err), -1);
	CHECK_INT(calls, 1);
	CHECK_STR(err.msg, "stopped");
}

int
main(void)
{
	test_rewrite_from();
	test_qualify();
	test_untouched();
	test_aliases();
	test_folding();
	test_errors();
	test_is_local();
	test_walk();
	return unit_done();
}
