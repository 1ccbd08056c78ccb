/*
 * mxdane_test.c - an MX host's DANE state (RFC 7672 2.2) from answers
 * made here: the MX or address records not secure (no look-up at all:
 * the resolver given is NULL), and each kind of
 * TLSA answer mxdane_judge meets (bogus, none, unsigned, usable, none
 * usable).  The look-ups themselves, against a signed zone, are
 * tests/84-dane.bats's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mxdane.h"

#include "unit.h"

static unsigned char digest[32] = {1, 2, 3};

/* m->answer as dns_tlsa would leave it: n records of usage USAGE. */
static void
answer(struct mxdane *m, enum dns_status status, enum dns_security security,
       size_t n, unsigned char usage)
{
	memset(m, 0, sizeof *m);
	m->answer.status = status;
	m->answer.security = security;
	m->answer.n = n;
	if (n > 0)
		m->answer.tlsa = calloc(n, sizeof *m->answer.tlsa);
	for (size_t i = 0; i < n; i++) {
		m->answer.tlsa[i].usage = usage;
		m->answer.tlsa[i].selector = 1;
		m->answer.tlsa[i].mtype = 1;
		m->answer.tlsa[i].data = malloc(sizeof digest);
		memcpy(m->answer.tlsa[i].data, digest, sizeof digest);
		m->answer.tlsa[i].len = sizeof digest;
	}
}

static void
test_judge(void)
{
	struct mxdane m;

	answer(&m, DNS_FOUND, DNS_SECURE, 2, 3);
	mxdane_judge(&m, "_25._tcp.mx.example.test");
	CHECK_INT(m.state, MXDANE_VERIFY);
	CHECK_STR(m.why, "2 TLSA records at _25._tcp.mx.example.test "
	                 "(DNSSEC-validated), 2 usable: TLS required, "
	                 "authenticated by them (RFC 7672)");
	CHECK(mxdane_requires_tls(&m));
	CHECK(mxdane_tls(&m) == &m.dane);
	CHECK_INT((int)m.dane.n, 2);
	CHECK(m.dane.tlsa[1].data == m.answer.tlsa[1].data);
	CHECK_INT(m.dane.tlsa[1].usage, 3);
	CHECK_STR(mxdane_state_name(m.state), "dane-verify");
	mxdane_clear(&m);
	CHECK_INT(m.state, MXDANE_NONE);

	/* PKIX-EE only: TLS, not authenticated. */
	answer(&m, DNS_FOUND, DNS_SECURE, 1, 1);
	mxdane_judge(&m, "_25._tcp.mx.example.test");
	CHECK_INT(m.state, MXDANE_UNAUTHENTICATED);
	CHECK(strstr(m.why, "1 TLSA record at _25._tcp.mx.example.test "
	                    "(DNSSEC-validated), none usable") != NULL);
	CHECK(mxdane_requires_tls(&m) && mxdane_tls(&m) == &m.dane);
	mxdane_clear(&m);

	/* Bogus: the host waits, whatever the records say. */
	answer(&m, DNS_FOUND, DNS_BOGUS, 1, 3);
	strcpy(m.answer.why_bogus, "signature expired");
	mxdane_judge(&m, "_25._tcp.mx.example.test");
	CHECK_INT(m.state, MXDANE_TEMPFAIL);
	CHECK_STR(m.why, "the TLSA records of _25._tcp.mx.example.test do "
	                 "not validate (DNSSEC: signature expired): the host "
	                 "is not used now (RFC 7672 2.2)");
	CHECK(!mxdane_requires_tls(&m) && mxdane_tls(&m) == NULL);
	mxdane_clear(&m);
	answer(&m, DNS_NXDOMAIN, DNS_BOGUS, 0, 3);
	mxdane_judge(&m, "_25._tcp.mx.example.test");
	CHECK_INT(m.state, MXDANE_TEMPFAIL);
	mxdane_clear(&m);

	/* None, or not signed: opportunistic. */
	answer(&m, DNS_NODATA, DNS_SECURE, 0, 3);
	mxdane_judge(&m, "_25._tcp.mx.example.test");
	CHECK_INT(m.state, MXDANE_NONE);
	CHECK_STR(m.why,
	          "no TLSA records at _25._tcp.mx.example.test: no DANE");
	mxdane_clear(&m);
	answer(&m, DNS_FOUND, DNS_INSECURE, 1, 3);
	mxdane_judge(&m, "_25._tcp.mx.example.test");
	CHECK_INT(m.state, MXDANE_NONE);
	CHECK(strstr(m.why, "not DNSSEC-signed") != NULL);
	CHECK(mxdane_tls(&m) == NULL && !mxdane_requires_tls(&m));
	mxdane_clear(&m);
}

/* Before any TLSA look-up (the resolver is NULL: none may happen). */
static void
test_no_lookup(void)
{
	struct mxdane_hop hop = {.host = "mx.example.test",
	                         .mx_secure = false,
	                         .addr_secure = true,
	                         .port = 25};
	struct mxdane m = {0};

	mxdane_lookup(NULL, &hop, &m);
	CHECK_INT(m.state, MXDANE_NONE);
	CHECK(strstr(m.why, "MX records are not DNSSEC-signed") != NULL ||
	      strstr(m.why, "built without") != NULL);
	hop.mx_secure = true;
	hop.addr_secure = false;
	mxdane_lookup(NULL, &hop, &m);
	CHECK_INT(m.state, MXDANE_NONE);
#ifdef HAVE_GNUTLS_DANE
	CHECK_STR(m.why, "the address records of mx.example.test are not "
	                 "DNSSEC-signed: no DANE (RFC 7672 2.2.2)");
#endif
	mxdane_clear(&m);
}

int
main(void)
{
	test_judge();
	test_no_lookup();
	return unit_done();
}
