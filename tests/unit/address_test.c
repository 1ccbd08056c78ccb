/*
 * address_test.c - envelope address checks and address-list parsing
 * (address.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "error.h"
#include "unit.h"
#include "util.h"

struct check_case {
	const char *addr;
	bool allow_empty;
	const char *why; /* NULL: valid; else a part of the message */
};

static const struct check_case check_cases[] = {
    {"user@example.org", false, NULL},
    {"root", false, NULL},
    {"first.last+tag@sub.example.org", false, NULL},
    {"\"john doe\"@example.org", false, NULL},
    {"\"a@b\"@example.org", false, NULL},
    {"\"a\\\"b\"@example.org", false, NULL},
    {"user@[192.0.2.1]", false, NULL},
    {"user@host_name.example", false, NULL},
    {"user@b\xc3\xbc"
     "cher.example",
     false, NULL},
    {"", true, NULL},
    {"", false, "empty"},
    {"a b@x", false, "invalid address \"a b@x\": contains a space"},
    {"a@x\r\nRCPT TO:<b@y>", false, "contains a line break"},
    {"a@x\n", false, "line break"},
    {"a\x01@x", false, "control character"},
    {"a\x7f@x", false, "control character"},
    {"a\t@x", false, "control character"},
    {"<a@x>", false, "angle bracket"},
    {"a>@x", false, "angle bracket"},
    {"a@b@c", false, "more than one '@'"},
    {"@x", false, "local part is empty"},
    {"a@", false, "domain is empty"},
    {"a@.x", false, "empty label"},
    {"a@x.", false, "empty label"},
    {"a@x..y", false, "empty label"},
    {"a@x y", false, "space"},
    {"a@x!y", false, "domain is not valid"},
    {"a@[]", false, "domain is not valid"},
    {"a@\"x\"", false, "quote in the domain"},
    {"\"unterminated@x", false, "unterminated"},
    {"a@x", false, NULL},
    /* RFC 6531 3.3: UTF-8 local parts and domains, valid UTF-8 only. */
    {"j\xc3\xb6rg@b\xc3\xbc"
     "cher.example",
     false, NULL},
    {"\xe7\x94\xa8\xe6\x88\xb7@example.org", false, NULL},
    {"r\xc3\xb6\xc3\xb6t", false, NULL},
    {"user@xn--bcher-kva.example", false, NULL},
    {"j\xf6rg@example.org", false, "is not valid UTF-8"},
    {"j\xc3@example.org", false, "is not valid UTF-8"},
    {"a@b\xc3", false, "is not valid UTF-8"},
    {"\xc0\xaf@x", false, "is not valid UTF-8"},         /* overlong */
    {"\xed\xa0\x80@x", false, "is not valid UTF-8"},     /* surrogate */
    {"\xf4\x90\x80\x80@x", false, "is not valid UTF-8"}, /* > 10FFFF */
    {"\xe2\x82@x", false, "is not valid UTF-8"},         /* truncated */
    {"a\xc2\x85@x", false, "control character"},         /* NEL (C1) */
    {"a@[192.0.2.\xc3\xbc]", false, "literal is not ASCII"},
    /* A quoted-pair escapes a printable byte only (RFC 5321 4.1.2
     * quoted-pairSMTP): a control byte after the backslash is refused
     * like any other, and shown escaped. */
    {"\"a\\\x1b[31m\"@x", false,
     "invalid address \"\"a\\\\x1b[31m\"@x\": contains a control character"},
    {"\"a\\\x0c\"@x", false, "control character"},
    {"\"a\\\x7f\"@x", false, "control character"},
    {"\"a\\\x01\"@x", false, "control character"},
    {"\"a\\\r\nRCPT TO:<b@y>\"@x", false, "line break"},
    {"\"a\\\n\"@x", false, "line break"},
    {"\"a\\\"b\"@x", false, NULL},
    {"\"a\\\\\"@x", false, NULL},
    /* UTF-8 in the message is shown as it was written. */
    {"j\xc3\xb6rg x@example.org", false,
     "invalid address \"j\xc3\xb6rg x@example.org\": contains a space"},
};

static void
test_check_table(void)
{
	for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0];
	     i++) {
		const struct check_case *t = &check_cases[i];
		struct error err;
		int rc;

		error_clear(&err);
		rc = address_check(t->addr, t->allow_empty, ERROR_USAGE, &err);
		CHECK_INT(rc, t->why ? -1 : 0);
		if (t->why) {
			CHECK_INT(err.kind, ERROR_USAGE);
			CHECK(strstr(err.msg, t->why) != NULL);
			if (!strstr(err.msg, t->why))
				fprintf(stderr, "  %s\n", err.msg);
			/* The message is one line (error_set censors). */
			CHECK(!strpbrk(err.msg, "\r\n\x01\x7f"));
		}
	}
}

/* RFC 5321 4.5.3.1: 64 for the local part, 255 for the domain, 256 for
 * the path with its angle brackets. */
static void
test_check_lengths(void)
{
	char a[600];
	struct error err;

	memset(a, 'l', 64);
	memcpy(a + 64, "@x.org", 7);
	CHECK_INT(address_check(a, false, ERROR_DATA, &err), 0);
	memset(a, 'l', 65);
	memcpy(a + 65, "@x.org", 7);
	CHECK_INT(address_check(a, false, ERROR_DATA, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(strstr(err.msg, "4.5.3.1.1") != NULL);
	memset(a, 'l', 65);
	a[65] = '\0';
	CHECK_INT(address_check(a, false, ERROR_DATA, &err), -1);
	/* a@ + 252 domain bytes = 254: the longest path. */
	memcpy(a, "a@", 2);
	for (size_t i = 2; i < 254; i++)
		a[i] = i % 60 == 0 ? '.' : 'd';
	a[254] = '\0';
	CHECK_INT(address_check(a, false, ERROR_DATA, &err), 0);
	a[254] = 'd';
	a[255] = '\0';
	CHECK_INT(address_check(a, false, ERROR_DATA, &err), -1);
	CHECK(strstr(err.msg, "4.5.3.1.3") != NULL);
	/* A domain over 255 is named as such. */
	memcpy(a, "a@", 2);
	for (size_t i = 2; i < 300; i++)
		a[i] = i % 60 == 0 ? '.' : 'd';
	a[300] = '\0';
	CHECK_INT(address_check(a, false, ERROR_DATA, &err), -1);
	CHECK(strstr(err.msg, "4.5.3.1.2") != NULL);
	/* A long address is shown shortened. */
	CHECK(strstr(err.msg, "...") != NULL);
}

struct list_case {
	const char *value;
	const char *want; /* the addresses joined by '|'; NULL: error */
};

static const struct list_case list_cases[] = {
    {"a@x", "a@x"},
    {"a@x, b@y", "a@x|b@y"},
    {"a@x,b@y,c@z", "a@x|b@y|c@z"},
    {"", ""},
    {"   ", ""},
    {",,", ""},
    {"a@x,,b@y,", "a@x|b@y"},
    {", a@x", "a@x"},
    {"Joe <joe@x>", "joe@x"},
    {"Joe Q. Public <joe@x>", "joe@x"},
    {"\"Smith, John\" <js@x>", "js@x"},
    {"\"Smith, John\" <js@x>, Other <o@y>", "js@x|o@y"},
    {"<a@x>", "a@x"},
    {"< a@x >", "a@x"},
    {"user@x (Joe)", "user@x"},
    {"(c) user@x", "user@x"},
    {"user(c)@x", "user@x"},
    {"user@(c)x", "user@x"},
    {"Joe (the (nested) one) <j@x>", "j@x"},
    {"Joe (a \\) paren) <j@x>", "j@x"},
    {"\"john doe\"@x", "\"john doe\"@x"},
    {"Name <\"j d\"@x>", "\"j d\"@x"},
    {"\"a\\\"b\"@x", "\"a\\\"b\"@x"},
    {"team: a@x, B <b@y>;", "a@x|b@y"},
    {"team: a@x, b@y;, c@z", "a@x|b@y|c@z"},
    {"undisclosed-recipients:;", ""},
    {"undisclosed-recipients: ;", ""},
    {"undisclosed-recipients:", ""},
    {"g1:;, g2: a@x;", "a@x"},
    {"g: ,a@x,,;", "a@x"},
    {"\"The Team\": a@x;", "a@x"},
    {"<@a.example,@b.example:user@c.example>", "user@c.example"},
    {"Joe <@a.example:user@c.example>", "user@c.example"},
    {"root", "root"},
    {"root, admin@x", "root|admin@x"},
    {"<root>", "root"},
    {"john . doe @ x . org", "john.doe@x.org"},
    {"a@[192.0.2.1]", "a@[192.0.2.1]"},
    {"<>", ""},
    {"a@x <a@x>", "a@x"},
    {"Ren\xc3\xa9 <r@x>", "r@x"},
    {"=?UTF-8?Q?Ren=C3=A9?= <r@x>", "r@x"},
    {"a@x\t,\tb@y", "a@x|b@y"},
    /* malformed */
    {"Joe Bloggs", NULL},
    {"Joe <joe@x", NULL},
    {"Joe joe@x>", NULL},
    {"<a@x> <b@y>", NULL},
    {"a@x b@y", NULL},
    {"a@", NULL},
    {"@x", NULL},
    {"a@x.", NULL},
    {"a@x..y", NULL},
    {"(unclosed a@x", NULL},
    {"a@x)", NULL},
    {"\"unclosed@x", NULL},
    {"a@[1.2.3.4", NULL},
    {"g: h: a@x;;", NULL},
    {"g: a@x b@y;", NULL},
    {"<@a.example user@x>", NULL},
    {"a\\b@x", NULL},
    {"a@x]", NULL},
    {"a\x01@x", NULL},
    {"\"a\x01\"@x", NULL},
    {"<a b@x>", NULL},
    {"<>a@x", NULL},
    {"a b <>", ""},
    {"< >", ""},
    {"a@x; b@y", NULL},
    {"a@x: b@y", NULL},
};

static void
join(const struct strlist *l, char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		size_t len = strlen(out);

		snprintf(out + len, n - len, "%s%s", i ? "|" : "", l->v[i]);
	}
}

static void
test_list_table(void)
{
	for (size_t i = 0; i < sizeof list_cases / sizeof list_cases[0]; i++) {
		const struct list_case *t = &list_cases[i];
		struct strlist l;
		struct error err;
		char got[512];
		int rc;

		strlist_init(&l);
		error_clear(&err);
		rc = address_parse_list(t->value, strlen(t->value), &l, &err);
		if (!t->want) {
			CHECK_INT(rc, -1);
			CHECK_INT(err.kind, ERROR_DATA);
			if (rc == 0)
				fprintf(stderr, "  accepted: %s\n", t->value);
		} else {
			CHECK_INT(rc, 0);
			if (rc < 0)
				fprintf(stderr, "  %s\n", err.msg);
			join(&l, got, sizeof got);
			CHECK_STR(got, t->want);
		}
		strlist_clear(&l);
	}
}

/* The value is a (pointer, length) pair: nothing past len is read, and a
 * NUL inside is a control character. */
static void
test_list_length(void)
{
	static const char v[] = "a@x, b@y\0, c@z";
	struct strlist l;
	struct error err;

	strlist_init(&l);
	CHECK_INT(address_parse_list(v, 3, &l, &err), 0);
	CHECK_INT(l.n, 1);
	CHECK_STR(l.v[0], "a@x");
	strlist_clear(&l);
	CHECK_INT(address_parse_list(v, sizeof v - 1, &l, &err), -1);
	CHECK(strstr(err.msg, "control") != NULL);
	strlist_clear(&l);
}

/* The message quotes the value, censored and shortened. */
static void
test_list_message(void)
{
	char v[400];
	struct strlist l;
	struct error err;

	strlist_init(&l);
	CHECK_INT(address_parse_list("Joe <j@x\r", 9, &l, &err), -1);
	CHECK(strstr(err.msg, "cannot parse the address list") != NULL);
	CHECK(!str_has_ctl(err.msg, strlen(err.msg)));
	memset(v, 'a', sizeof v);
	v[0] = '<';
	CHECK_INT(address_parse_list(v, sizeof v, &l, &err), -1);
	CHECK(strstr(err.msg, "...") != NULL);
	/* Addresses the parser accepts still pass address_check. */
	memset(v, 'a', 70);
	memcpy(v + 70, "@x", 3);
	CHECK_INT(address_parse_list(v, strlen(v), &l, &err), -1);
	CHECK(strstr(err.msg, "4.5.3.1.1") != NULL);
	CHECK_INT(l.n, 0);
	strlist_clear(&l);
}

/* The domain after the '@' outside quotes; a domain replaced. */
static void
test_domain(void)
{
	static const struct {
		const char *addr, *domain, *with;
	} cases[] = {
	    {"root@vm", "vm", "root@example.org"},
	    {"root", NULL, "root@example.org"},
	    {"\"a@b\"", NULL, "\"a@b\"@example.org"},
	    {"\"a@b\"@vm.", "vm.", "\"a@b\"@example.org"},
	    {"\"a\\\"@b\"@x", "x", "\"a\\\"@b\"@example.org"},
	    {"a@", "", "a@example.org"},
	    {"", NULL, ""},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *d = address_domain(cases[i].addr);
		char *w = address_with_domain(cases[i].addr, "example.org");

		CHECK_STR(d, cases[i].domain);
		CHECK_STR(w, cases[i].with);
		free(w);
	}
	{
		char *w = address_with_domain("root@vm", NULL);

		CHECK_STR(w, "root@vm");
		free(w);
		w = address_with_domain("root@vm", "");
		CHECK_STR(w, "root@vm");
		free(w);
	}
}

/* A sender at a name of this machine ("box.example.lan", given, so
 * nothing is looked up) is as local as a bare name. */
static void
test_qualify_sender(void)
{
	static const struct {
		const char *addr, *maildomain, *want;
	} cases[] = {
	    {"root", "example.org", "root@example.org"},
	    {"root@box", "example.org", "root@example.org"},
	    {"ROOT@BOX.example.lan.", "example.org", "ROOT@example.org"},
	    {"root@localhost", "example.org", "root@example.org"},
	    {"root@localhost.localdomain", "example.org", "root@example.org"},
	    {"\"a@b\"@box", "example.org", "\"a@b\"@example.org"},
	    {"root@example.com", "example.org", "root@example.com"},
	    {"root@box.example", "example.org", "root@box.example"},
	    {"", "example.org", ""},
	    /* No mail domain: nothing to qualify with. */
	    {"root", NULL, "root"},
	    {"root@box", NULL, "root@box"},
	    {"root@box", "", "root@box"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = address_qualify_sender(
		    cases[i].addr, cases[i].maildomain, "box.example.lan");

		CHECK_STR(got, cases[i].want);
		free(got);
	}
}

static void
test_qualify(void)
{
	static const struct {
		const char *addr, *domain, *want;
	} cases[] = {
	    {"root", "example.org", "root@example.org"},
	    {"a@x", "example.org", "a@x"},
	    {"root", "", "root"},
	    {"root", NULL, "root"},
	    {"", "example.org", ""},
	    {"\"a@b\"", "example.org", "\"a@b\"@example.org"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *q = address_qualify(cases[i].addr, cases[i].domain);

		CHECK_STR(q, cases[i].want);
		free(q);
	}
}

/* U-labels become A-labels; ASCII names and literals pass unchanged; what
 * IDNA2008 refuses is a configuration error naming the host. */
static void
test_host_to_ascii(void)
{
	static const struct {
		const char *host, *want;
	} cases[] = {
	    {"mail.example.org", "mail.example.org"},
	    {"MAIL.Example.ORG", "MAIL.Example.ORG"},
	    {"127.0.0.1", "127.0.0.1"},
	    {"::1", "::1"},
	    {"b\303\274cher.example", "xn--bcher-kva.example"},
	    {"m\xc3\xbcnchen.de", "xn--mnchen-3ya.de"},
	    /* NFC first: u + combining diaeresis is the same name. */
	    {"bu\314\210cher.example", "xn--bcher-kva.example"},
	    /* Nontransitional: sharp s stays (not "ss"). */
	    {"fa\xc3\x9f.de", "xn--fa-hia.de"},
	};
	struct error err;
	char *out;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		out = NULL;
		error_clear(&err);
		CHECK_INT(address_host_to_ascii(cases[i].host, &out, &err), 0);
		CHECK_STR(out, cases[i].want);
		free(out);
	}
	/* Invalid UTF-8, and a disallowed code point (U+2665 BLACK HEART). */
	CHECK_INT(address_host_to_ascii("b\374cher.example", &out, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "invalid host name") != NULL);
	CHECK(out == NULL);
	CHECK_INT(address_host_to_ascii("i\xe2\x99\xa5.example", &out, &err),
	          -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(!str_has_ctl(err.msg, strlen(err.msg)));
}

/* --- international addresses (RFC 6531, RFC 5890/5891) --------------- */

struct ascii_case {
	const char *addr;
	const char *want; /* NULL: ERROR_DATA "invalid international..." */
};

static const struct ascii_case ascii_cases[] = {
    {"user@b\xc3\xbc"
     "cher.example",
     "user@xn--bcher-kva.example"},
    /* Mixed: an A-label, a U-label and an ASCII label. */
    {"user@xn--bcher-kva.m\xc3\xbcnchen.example",
     "user@xn--bcher-kva.xn--mnchen-3ya.example"},
    /* Already A-labels, or plain ASCII: as written (case kept). */
    {"user@xn--bcher-kva.example", "user@xn--bcher-kva.example"},
    {"User@Example.ORG", "User@Example.ORG"},
    {"User@XN--BCHER-KVA.Example", "User@XN--BCHER-KVA.Example"},
    /* Uppercase U-labels are mapped (UTS #46) then converted. */
    {"user@B\xc3\x9c"
     "CHER.example",
     "user@xn--bcher-kva.example"},
    /* NFC first: u + COMBINING DIAERESIS is the same name. */
    {"user@bu\xcc\x88"
     "cher.example",
     "user@xn--bcher-kva.example"},
    /* The local part is never touched, even when it is UTF-8. */
    {"j\xc3\xb6rg@b\xc3\xbc"
     "cher.example",
     "j\xc3\xb6rg@xn--bcher-kva.example"},
    {"\"a@b\"@b\xc3\xbc"
     "cher.example",
     "\"a@b\"@xn--bcher-kva.example"},
    {"root", "root"},
    {"", ""},
    {"user@[192.0.2.1]", "user@[192.0.2.1]"},
    /* Invalid IDNs. */
    {"a@xn--zz", NULL},
    {"a@xn--a.example", NULL},
    {"a@i\xe2\x99\xa5.example", NULL}, /* U+2665, DISALLOWED */
    {"a@\xe2\x98\x95.example", NULL},  /* U+2615, DISALLOWED */
    {"a@-b\xc3\xbc"
     "cher.example",
     NULL}, /* leading hyphen */
};

static void
test_to_ascii(void)
{
	for (size_t i = 0; i < sizeof ascii_cases / sizeof ascii_cases[0];
	     i++) {
		const struct ascii_case *t = &ascii_cases[i];
		struct error err;
		char *out = NULL;
		int rc;

		error_clear(&err);
		rc = address_to_ascii(t->addr, &out, &err);
		CHECK_INT(rc, t->want ? 0 : -1);
		CHECK_STR(out, t->want);
		if (!t->want) {
			CHECK_INT(err.kind, ERROR_DATA);
			CHECK(strstr(err.msg, "invalid international domain "
			                      "name") != NULL);
			CHECK(!str_has_ctl(err.msg, strlen(err.msg)));
		}
		free(out);
	}
}

/* An invalid IDN is ERROR_DATA even from the command line (exit 65 before
 * connecting); invalid UTF-8 keeps the caller's kind. */
static void
test_check_idn(void)
{
	struct error err;

	error_clear(&err);
	CHECK_INT(address_check("a@xn--zz", false, ERROR_USAGE, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(strstr(err.msg, "invalid international domain name \"xn--zz\": "
	                      "string contains invalid punycode data") != NULL);
	error_clear(&err);
	CHECK_INT(
	    address_check("a@\xe2\x98\x95.example", false, ERROR_USAGE, &err),
	    -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(strstr(err.msg, "disallowed") != NULL);
	error_clear(&err);
	CHECK_INT(
	    address_check("j\xf6rg@example.org", false, ERROR_USAGE, &err), -1);
	CHECK_INT(err.kind, ERROR_USAGE);
	error_clear(&err);
	CHECK_INT(address_check("j\xf6rg@example.org", false, ERROR_DATA, &err),
	          -1);
	CHECK_INT(err.kind, ERROR_DATA);
	/* Unconverted ASCII names keep their old rules (no IDNA check). */
	CHECK_INT(address_check("a@-x.example", false, ERROR_USAGE, &err), 0);
	/* 238 octets in UTF-8, 286 with the domain in A-labels (each label
	 * "aaaaaaaaaaaaaaaaaaa\u00fc" becomes 27 octets). */
	{
		char addr[300];
		size_t n = 0;

		memset(addr, 'l', 60);
		n = 60;
		addr[n++] = '@';
		for (int k = 0; k < 8; k++) {
			memset(addr + n, 'a', 19);
			n += 19;
			addr[n++] = '\xc3';
			addr[n++] = '\xbc';
			addr[n++] = '.';
		}
		addr[n - 1] = '\0';
		error_clear(&err);
		CHECK_INT(address_check(addr, false, ERROR_USAGE, &err), -1);
		CHECK_INT(err.kind, ERROR_DATA);
		CHECK(strstr(err.msg, "in A-labels it is longer") != NULL);
	}
}

static void
test_needs_smtputf8(void)
{
	CHECK(!address_needs_smtputf8(""));
	CHECK(!address_needs_smtputf8("user@example.org"));
	CHECK(!address_needs_smtputf8("root"));
	CHECK(!address_needs_smtputf8("user@b\xc3\xbc"
	                              "cher.example"));
	CHECK(!address_needs_smtputf8("user@xn--bcher-kva.example"));
	CHECK(address_needs_smtputf8("j\xc3\xb6rg@example.org"));
	CHECK(address_needs_smtputf8("j\xc3\xb6rg@b\xc3\xbc"
	                             "cher.example"));
	CHECK(address_needs_smtputf8("r\xc3\xb6\xc3\xb6t"));
	CHECK(address_needs_smtputf8("\"j\xc3\xb6 rg\"@example.org"));
	/* The '@' inside quotes does not end the local part. */
	CHECK(!address_needs_smtputf8("\"a@b\"@b\xc3\xbc"
	                              "cher.example"));
}

/* address_parse_input: what people write on a command line. */
struct input_case {
	const char *value;
	const char *want; /* "addr|name" entries joined by ";", or NULL */
	const char *why;  /* the whole error message, when want is NULL */
};

static const struct input_case input_cases[] = {
    {"anna@example.org", "anna@example.org|", NULL},
    {"root", "root|", NULL},
    {"<anna@example.org>", "anna@example.org|", NULL},
    {"Anna <anna@example.org>", "anna@example.org|Anna", NULL},
    {"  Anna   Smith   <anna@example.org>  ", "anna@example.org|Anna Smith",
     NULL},
    {"a@x.example, b@y.example", "a@x.example|;b@y.example|", NULL},
    {"a@x.example,b@y.example,,", "a@x.example|;b@y.example|", NULL},
    {"\"Smith, Anna\" <anna@example.org>, Bob <bob@example.org>",
     "anna@example.org|Smith, Anna;bob@example.org|Bob", NULL},
    {"\"Anna \\\"the\\\" B\" <b@x.example>", "b@x.example|Anna \"the\" B",
     NULL},
    {"J. Smith <j@x.example>", "j@x.example|J. Smith", NULL},
    {"team: a@x.example, B <b@x.example>;", "a@x.example|;b@x.example|B", NULL},
    {"team: a@x.example;, c@x.example", "a@x.example|;c@x.example|", NULL},
    {"anna@example.org (Anna Smith)", "anna@example.org|Anna Smith", NULL},
    {"(Anna (the) Smith) anna@example.org", "anna@example.org|Anna (the) Smith",
     NULL},
    {"Anna (work) <anna@example.org>", "anna@example.org|Anna", NULL},
    /* A comment folded over two lines (-t headers) is unfolded. */
    {"anna@example.org (Anna\r\n Smith)", "anna@example.org|Anna Smith", NULL},
    {"J\xc3\xb6rg M\xc3\xbcller <j\xc3\xb6rg@b\xc3\xbc"
     "cher.example>",
     "j\xc3\xb6rg@b\xc3\xbc"
     "cher.example|J\xc3\xb6rg M\xc3\xbcller",
     NULL},
    {"\"\" <a@x.example>", "a@x.example|", NULL},
    {"\"a b\"@x.example", "\"a b\"@x.example|", NULL},
    {"a@x.example <a@x.example>", "a@x.example|a@x.example", NULL},
    /* Malformed: each with its reason, the value as given. */
    {",", NULL, "\",\" names no address"},
    {"undisclosed-recipients:;", NULL,
     "\"undisclosed-recipients:;\" names no address"},
    {"Anna <anna@example.org", NULL,
     "cannot parse the address list \"Anna <anna@example.org\": '>' is "
     "missing after an address; write a recipient as user@domain or "
     "\"Name <user@domain>\", several separated by commas"},
    {"x y@b\xc3\xbc"
     "cher.example",
     NULL,
     "cannot parse the address list \"x y@b\xc3\xbc"
     "cher.example\": a display name is not followed by <address>; write "
     "a recipient as user@domain or \"Name <user@domain>\", several "
     "separated by commas"},
    {"\"Anna <a@x.example>", NULL,
     "cannot parse the address list \"\"Anna <a@x.example>\": a quoted "
     "string or literal is not closed; write a recipient as user@domain "
     "or \"Name <user@domain>\", several separated by commas"},
    {"Anna <a@x.example> b@x.example", NULL,
     "cannot parse the address list \"Anna <a@x.example> b@x.example\": "
     "',' is missing between addresses; write a recipient as user@domain "
     "or \"Name <user@domain>\", several separated by commas"},
    {"(Anna a@x.example", NULL,
     "cannot parse the address list \"(Anna a@x.example\": a comment is "
     "not closed; write a recipient as user@domain or \"Name "
     "<user@domain>\", several separated by commas"},
    {"team: a@x.example; c@x.example", NULL,
     "cannot parse the address list \"team: a@x.example; c@x.example\": "
     "',' is missing between addresses; write a recipient as "
     "user@domain or \"Name <user@domain>\", several separated by "
     "commas"},
    {"a: b: c@x;;", NULL,
     "cannot parse the address list \"a: b: c@x;;\": a group cannot hold "
     "a group; write a recipient as user@domain or \"Name "
     "<user@domain>\", several separated by commas"},
    {"\"a\\\x1b\"@x.example", NULL,
     "cannot parse the address list \"\"a\\\\x1b\"@x.example\": it "
     "contains a control character; write a recipient as user@domain or "
     "\"Name <user@domain>\", several separated by commas"},
    {"Anna <a@@x>", NULL,
     "cannot parse the address list \"Anna <a@@x>\": a domain is missing "
     "after '@'; write a recipient as user@domain or \"Name "
     "<user@domain>\", several separated by commas"},
    {"Anna <a@x..y>", NULL,
     "cannot parse the address list \"Anna <a@x..y>\": a domain is not "
     "valid; write a recipient as user@domain or \"Name <user@domain>\", "
     "several separated by commas"},
};

static void
test_parse_input(void)
{
	for (size_t i = 0; i < sizeof input_cases / sizeof input_cases[0];
	     i++) {
		const struct input_case *t = &input_cases[i];
		struct address_entries l;
		struct error err;
		struct buf got;
		int rc;

		address_entries_init(&l);
		buf_init(&got, 4096);
		error_clear(&err);
		rc = address_parse_input(t->value, ERROR_USAGE, &l, &err);
		CHECK_INT(rc, t->want ? 0 : -1);
		for (size_t k = 0; rc == 0 && k < l.n; k++)
			buf_printf(&got, "%s%s|%s", k ? ";" : "", l.v[k].addr,
			           l.v[k].name ? l.v[k].name : "");
		if (t->want) {
			CHECK_STR(buf_str(&got), t->want);
		} else {
			CHECK_INT(err.kind, ERROR_USAGE);
			CHECK_STR(err.msg, t->why);
		}
		buf_clear(&got);
		address_entries_clear(&l);
	}
}

/* The entries of several values accumulate; a failure keeps what was
 * there. */
static void
test_parse_input_appends(void)
{
	struct address_entries l;
	struct error err;

	address_entries_init(&l);
	CHECK_INT(address_parse_input("a@x.example", ERROR_USAGE, &l, &err), 0);
	CHECK_INT(address_parse_input("B <b@x.example>", ERROR_USAGE, &l, &err),
	          0);
	CHECK_INT(l.n, 2);
	CHECK_INT(address_parse_input("<", ERROR_DATA, &l, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	/* Only a command-line error gets the hint. */
	CHECK(strstr(err.msg, "write a recipient") == NULL);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.v[1].name, "B");
	address_entries_clear(&l);
	CHECK_INT(l.n, 0);
	/* An invalid IDN is the message's fault whoever wrote it. */
	CHECK_INT(
	    address_parse_input("A <a@xn--zz.example>", ERROR_USAGE, &l, &err),
	    -1);
	CHECK_INT(err.kind, ERROR_DATA);
	address_entries_clear(&l);
}

/* A composed header carries no raw 8-bit domain: A-labels, unless the
 * local part needs SMTPUTF8 anyway. */
static void
test_header_form(void)
{
	struct error err;
	char *out = NULL;

	CHECK_INT(address_header_form("anna@b\xc3\xbc"
	                              "cher.example",
	                              &out, &err),
	          0);
	CHECK_STR(out, "anna@xn--bcher-kva.example");
	free(out);
	CHECK_INT(address_header_form("j\xc3\xb6rg@b\xc3\xbc"
	                              "cher.example",
	                              &out, &err),
	          0);
	CHECK_STR(out, "j\xc3\xb6rg@b\xc3\xbc"
	               "cher.example");
	free(out);
	CHECK_INT(address_header_form("root", &out, &err), 0);
	CHECK_STR(out, "root");
	free(out);
	CHECK_INT(address_header_form("a@xn--zz.example", &out, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
}

/* The duplicate check: domains compared without case, local parts
 * exactly, and the work per address constant (a count, not a time). */
static void
test_set(void)
{
	enum { N = 100000 };
	struct address_set s;
	char addr[64];
	int wrong = 0;

	address_set_init(&s);
	CHECK(address_set_add(&s, "Anna@Example.ORG"));
	CHECK(!address_set_add(&s, "Anna@example.org"));
	CHECK(address_set_add(&s, "anna@example.org"));
	CHECK(address_set_add(&s, "\"a@B\"@x"));
	CHECK(!address_set_add(&s, "\"a@B\"@X"));
	CHECK(address_set_add(&s, "\"a@b\"@x"));
	CHECK(address_set_add(&s, "root"));
	CHECK(!address_set_add(&s, "root"));
	CHECK(address_set_add(&s, "ROOT"));
	CHECK_INT(s.n, 6);
	address_set_clear(&s);
	CHECK_INT(s.n, 0);

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			snprintf(addr, sizeof addr, "user%d@example.org", i);
			if (address_set_add(&s, addr) != (round == 0))
				wrong++;
		}
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(s.n, N);
	/* A linear scan would look at ~N*N slots; a hash table a few per
	 * address (growth included). */
	if (s.probes > 8 * (size_t)N)
		fprintf(stderr, "  %zu probes for %d addresses\n", s.probes,
		        2 * N);
	CHECK(s.probes <= 8 * (size_t)N);
	address_set_clear(&s);
}

/* address_empty_group: a group with no members, and what is not one. */
static void
test_empty_group(void)
{
	static const struct {
		const char *in, *phrase; /* NULL: not an empty group */
	} cases[] = {
	    {"undisclosed-recipients:;", "undisclosed-recipients"},
	    {"  undisclosed-recipients :  ; ", "undisclosed-recipients"},
	    {"Undisclosed recipients:;", "Undisclosed recipients"},
	    {"undisclosed-recipients:", "undisclosed-recipients"},
	    {"list: (nobody) ;", "list"},
	    {"team: a@x.example;", NULL},
	    {"a@x.example, team:;", NULL},
	    {"a:;b:;", NULL},
	    {":;", NULL},
	    {",", NULL},
	    {"a@x.example", NULL},
	    {"t\x1bx:;", NULL},
	    {"gr\xc3\xbcppe:;", NULL},
	    {"a: b:;;", NULL},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *phrase = NULL;
		bool got = address_empty_group(cases[i].in, &phrase);

		CHECK_INT(got, cases[i].phrase != NULL);
		if (got && cases[i].phrase)
			CHECK_STR(phrase, cases[i].phrase);
		if (got != (cases[i].phrase != NULL))
			fprintf(stderr, "  input: %s\n", cases[i].in);
		free(phrase);
	}
}

int
main(void)
{
	test_empty_group();
	test_parse_input();
	test_parse_input_appends();
	test_header_form();
	test_set();
	test_check_table();
	test_check_lengths();
	test_list_table();
	test_list_length();
	test_list_message();
	test_domain();
	test_qualify();
	test_qualify_sender();
	test_host_to_ascii();
	test_to_ascii();
	test_check_idn();
	test_needs_smtputf8();
	return unit_done();
}
