/*
 * socks_test.c - the SOCKS5 client's bytes and judgements (socks.h): the
 * greeting, the CONNECT request for names and address literals, and every
 * field of the proxy's replies, each malformed one and each reply code
 * with its failure class.
 */
#include "config.h"

#include <string.h>

#include "socks.h"
#include "unit.h"

static void
test_greeting(void)
{
	unsigned char b[SOCKS_GREETING_LEN];

	CHECK_INT(socks_greeting(b), 3);
	CHECK_MEM(b, 3, "\x05\x01\x00", 3);
}

static const struct request_case {
	const char *host;
	int port;
	const char *want; /* NULL: refused */
	size_t want_len;
} request_cases[] = {
    /* A name goes as it is (ATYP 3): the proxy resolves it. */
    {"smtp.example.org", 587, "\x05\x01\x00\x03\x10smtp.example.org\x02\x4b",
     4 + 1 + 16 + 2},
    {"xn--bcher-kva.example", 25,
     "\x05\x01\x00\x03\x15xn--bcher-kva.example\x00\x19", 4 + 1 + 21 + 2},
    {"a", 65535,
     "\x05\x01\x00\x03\x01"
     "a\xff\xff",
     8},
    /* Address literals go as addresses. */
    {"192.0.2.7", 25, "\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x19", 10},
    {"2001:db8::1", 465,
     "\x05\x01\x00\x04\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x01\xd1", 22},
    {"[2001:db8::1]", 465,
     "\x05\x01\x00\x04\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x01\xd1", 22},
    {"[192.0.2.7]", 25, "\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x19", 10},
    /* Brackets around a name: refused, never sent as a name. */
    {"[smtp.example.org]", 25, NULL, 0},
    /* "1.2.3" is not an address for inet_pton: a name. */
    {"1.2.3", 25,
     "\x05\x01\x00\x03\x05"
     "1.2.3\x00\x19",
     12},
    {"", 25, NULL, 0},
    {"smtp.example.org", 0, NULL, 0},
    {"smtp.example.org", 65536, NULL, 0},
    {"b\xc3\xbc"
     "cher.example",
     25, NULL, 0},
    {"smtp example", 25, NULL, 0},
    {"smtp\r\nexample", 25, NULL, 0},
};

static void
test_request(void)
{
	for (size_t i = 0; i < sizeof request_cases / sizeof request_cases[0];
	     i++) {
		const struct request_case *c = &request_cases[i];
		unsigned char b[SOCKS_REQUEST_MAX];
		struct error err;
		size_t len = 0;
		int rc;

		error_clear(&err);
		rc = socks_request(c->host, c->port, b, &len, &err);
		if (!c->want) {
			CHECK_INT(rc, -1);
			CHECK_INT(err.kind, ERROR_CONFIG);
			continue;
		}
		CHECK_INT(rc, 0);
		CHECK_MEM(b, len, c->want, c->want_len);
	}
}

/* The longest name fits exactly; one more octet does not. */
static void
test_request_length(void)
{
	char name[SOCKS_NAME_MAX + 2];
	unsigned char b[SOCKS_REQUEST_MAX];
	struct error err;
	size_t len = 0;

	memset(name, 'a', sizeof name - 1);
	name[SOCKS_NAME_MAX] = '\0';
	CHECK_INT(socks_request(name, 25, b, &len, &err), 0);
	CHECK_INT(len, SOCKS_REQUEST_MAX);
	CHECK_INT(b[4], 255);
	name[SOCKS_NAME_MAX] = 'a';
	name[SOCKS_NAME_MAX + 1] = '\0';
	CHECK_INT(socks_request(name, 25, b, &len, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "256 bytes") != NULL);
}

static const struct method_case {
	unsigned char in[2];
	enum error_kind kind; /* ERROR_NONE: accepted */
	const char *text;
} method_cases[] = {
    {{5, 0}, ERROR_NONE, ""},
    {{5, 0xff}, ERROR_NOPERM, "proxy refused: it requires authentication"},
    {{5, 2}, ERROR_PROTOCOL, "chose method 2, which was not offered"},
    {{5, 1}, ERROR_PROTOCOL, "chose method 1"},
    {{4, 0}, ERROR_PROTOCOL, "version 4, not 5"},
    {{'H', 'T'}, ERROR_PROTOCOL, "version 72, not 5"},
};

static void
test_method(void)
{
	for (size_t i = 0; i < sizeof method_cases / sizeof method_cases[0];
	     i++) {
		const struct method_case *c = &method_cases[i];
		struct error err;
		int rc;

		error_clear(&err);
		rc = socks_check_method(c->in, &err);
		CHECK_INT(rc, c->kind == ERROR_NONE ? 0 : -1);
		CHECK_INT(err.kind, c->kind);
		CHECK(strstr(err.msg, c->text) != NULL);
	}
}

static const struct status_case {
	unsigned char in[2];
	enum error_kind kind;
	const char *text;
} status_cases[] = {
    {{5, 0}, ERROR_NONE, ""},
    {{5, 1},
     ERROR_TEMPFAIL,
     "proxy refused: general SOCKS server failure; try again later"},
    {{5, 2},
     ERROR_NOPERM,
     "proxy refused: connection not allowed by ruleset; the proxy's rules "
     "forbid this server or port (Tor's exits refuse port 25: use port 465 "
     "or 587)"},
    {{5, 3}, ERROR_TEMPFAIL, "proxy refused: network unreachable"},
    {{5, 4}, ERROR_TEMPFAIL, "proxy refused: host unreachable"},
    {{5, 5},
     ERROR_TEMPFAIL,
     "proxy refused: connection refused; check 'host' and 'port'"},
    {{5, 6}, ERROR_TEMPFAIL, "proxy refused: TTL expired"},
    {{5, 7}, ERROR_UNAVAILABLE, "proxy refused: command not supported"},
    {{5, 8},
     ERROR_UNAVAILABLE,
     "proxy refused: address type not supported; use a proxy that resolves "
     "host names"},
    {{5, 9}, ERROR_PROTOCOL, "reply code 9 does not exist"},
    {{5, 0xff}, ERROR_PROTOCOL, "reply code 255 does not exist"},
    {{0, 0}, ERROR_PROTOCOL, "version 0, not 5"},
    {{6, 0}, ERROR_PROTOCOL, "version 6, not 5"},
};

static void
test_status(void)
{
	for (size_t i = 0; i < sizeof status_cases / sizeof status_cases[0];
	     i++) {
		const struct status_case *c = &status_cases[i];
		struct error err;
		int rc;

		error_clear(&err);
		rc = socks_check_status(c->in, &err);
		CHECK_INT(rc, c->kind == ERROR_NONE ? 0 : -1);
		CHECK_INT(err.kind, c->kind);
		CHECK(strstr(err.msg, c->text) != NULL);
	}
}

static const struct bound_case {
	unsigned char in[3]; /* RSV ATYP first address octet */
	int rc;
	size_t rest; /* the rest of the address and the port */
	const char *text;
} bound_cases[] = {
    {{0, 1, 127}, 0, 3 + 2, ""},
    {{0, 4, 0}, 0, 15 + 2, ""},
    {{0, 3, 10}, 0, 10 + 2, ""},
    {{0, 3, 255}, 0, 255 + 2, ""},
    {{0, 3, 0}, -1, 0, "empty bound host name"},
    {{1, 1, 127}, -1, 0, "reserved octet 1, not 0"},
    {{0, 2, 0}, -1, 0, "address type 2 does not exist"},
    {{0, 0, 0}, -1, 0, "address type 0 does not exist"},
    {{0, 5, 0}, -1, 0, "address type 5 does not exist"},
};

static void
test_bound(void)
{
	for (size_t i = 0; i < sizeof bound_cases / sizeof bound_cases[0];
	     i++) {
		const struct bound_case *c = &bound_cases[i];
		struct error err;
		size_t rest = 0;
		int rc;

		error_clear(&err);
		rc = socks_check_bound(c->in, &rest, &err);
		CHECK_INT(rc, c->rc);
		if (rc == 0) {
			CHECK_INT(rest, c->rest);
			continue;
		}
		CHECK_INT(err.kind, ERROR_PROTOCOL);
		CHECK(strstr(err.msg, "malformed proxy reply") != NULL);
		CHECK(strstr(err.msg, c->text) != NULL);
	}
}

int
main(void)
{
	test_greeting();
	test_request();
	test_request_length();
	test_method();
	test_status();
	test_bound();
	return unit_done();
}
