/*
 * mxdane.c - an MX host's DANE state from the resolver's answers (see
 * mxdane.h).
 */
#include "config.h"

#include "mxdane.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* "_65535._tcp." and the host */
#define MXDANE_QNAME_MAX (DNS_NAME_MAX + 16)

const char *
mxdane_state_name(enum mxdane_state s)
{
	switch (s) {
	case MXDANE_VERIFY:
		return "dane-verify";
	case MXDANE_UNAUTHENTICATED:
		return "dane-unauthenticated";
	case MXDANE_TEMPFAIL:
		return "dane-tempfail";
	case MXDANE_NONE:
		break;
	}
	return "no-dane";
}

void
mxdane_clear(struct mxdane *m)
{
	dns_answer_clear(&m->answer);
	memset(m, 0, sizeof *m);
}

static void set(struct mxdane *m, enum mxdane_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set(struct mxdane *m, enum mxdane_state state, const char *fmt, ...)
{
	va_list ap;

	m->state = state;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof m->why, fmt, ap);
	va_end(ap);
}

void
mxdane_judge(struct mxdane *m, const char *qname)
{
	const struct dns_answer *a = &m->answer;
	size_t n = 0, usable;

	if (a->security == DNS_BOGUS) {
		set(m, MXDANE_TEMPFAIL,
		    "the TLSA records of %s do not validate (DNSSEC: %s): "
		    "the host is not used now (RFC 7672 2.2)",
		    qname, a->why_bogus[0] ? a->why_bogus : "bogus");
		return;
	}
	if (a->status != DNS_FOUND || a->n == 0) {
		set(m, MXDANE_NONE, "no TLSA records at %s: no DANE", qname);
		return;
	}
	if (a->security != DNS_SECURE) {
		set(m, MXDANE_NONE,
		    "the TLSA records of %s are not DNSSEC-signed: no DANE "
		    "(RFC 7672 2.2)",
		    qname);
		return;
	}
	for (; n < a->n && n < DNS_ANSWER_MAX; n++) {
		m->tlsa[n].usage = a->tlsa[n].usage;
		m->tlsa[n].selector = a->tlsa[n].selector;
		m->tlsa[n].mtype = a->tlsa[n].mtype;
		m->tlsa[n].data = a->tlsa[n].data;
		m->tlsa[n].len = a->tlsa[n].len;
	}
	m->dane.tlsa = m->tlsa;
	m->dane.n = n;
	usable = tlsdane_count_usable(&m->dane);
	if (usable == 0)
		set(m, MXDANE_UNAUTHENTICATED,
		    "%zu TLSA record%s at %s (DNSSEC-validated), none usable "
		    "for SMTP: TLS required, not authenticated (RFC 7672 2.2)",
		    n, n == 1 ? "" : "s", qname);
	else
		set(m, MXDANE_VERIFY,
		    "%zu TLSA record%s at %s (DNSSEC-validated), %zu usable: "
		    "TLS required, authenticated by them (RFC 7672)",
		    n, n == 1 ? "" : "s", qname, usable);
}

#ifdef HAVE_GNUTLS_DANE

/* The reference identifiers of a DANE-TA(2) chain: the MX host name and,
 * when CNAMEs led elsewhere, the name they led to (RFC 7672 3.2.2). */
static void
set_names(struct mxdane *m, const char *host, const char *canon)
{
	size_t k = 0;

	str_copy(m->names[k++], sizeof m->names[0], host);
	if (strcmp(canon, host) != 0)
		str_copy(m->names[k++], sizeof m->names[0], canon);
	for (size_t i = 0; i < k; i++)
		m->name_list[i] = m->names[i];
	m->dane.names = m->name_list;
	m->dane.nnames = k;
}

/* TLSA records of _PORT._tcp.HOST into m->answer; -1 with the failure
 * as m's state. */
static int
look_up(struct dns *d, const char *host, int port, struct mxdane *m,
        char *qname, size_t n)
{
	struct error err;

	snprintf(qname, n, "_%d._tcp.%s", port, host);
	error_clear(&err);
	if (dns_tlsa(d, host, port, &m->answer, &err) == 0)
		return 0;
	set(m, MXDANE_TEMPFAIL,
	    "cannot look up the TLSA records of %s (%s): the host is not "
	    "used now (RFC 7672 2.2)",
	    qname, err.msg);
	return -1;
}

/* Secure records to verify with need libgnutls-dane now: without it
 * the host waits, rather than be tried without DANE. */
static void
check_library(struct mxdane *m)
{
	struct error err;

	error_clear(&err);
	if (m->state == MXDANE_VERIFY && tlsdane_load(&err) < 0)
		set(m, MXDANE_TEMPFAIL,
		    "the host has TLSA records, and %s; it is not used until "
		    "then",
		    err.msg);
}

void
mxdane_lookup(struct dns *d, const struct mxdane_hop *hop, struct mxdane *m)
{
	const char *canon = hop->canon && *hop->canon ? hop->canon : hop->host;
	char qname[MXDANE_QNAME_MAX];

	mxdane_clear(m);
	if (!hop->mx_secure) {
		set(m, MXDANE_NONE,
		    "the MX records are not DNSSEC-signed: no DANE (RFC 7672 "
		    "2.2.1)");
		return;
	}
	if (!hop->addr_secure) {
		set(m, MXDANE_NONE,
		    "the address records of %s are not DNSSEC-signed: no DANE "
		    "(RFC 7672 2.2.2)",
		    hop->host);
		return;
	}
	set_names(m, hop->host, canon);
	if (look_up(d, canon, hop->port, m, qname, sizeof qname) < 0)
		return;
	/* None secure at the name CNAMEs led to: the MX host name's own
	 * (RFC 7672 2.2.2).  A bogus answer stops here. */
	if (strcmp(canon, hop->host) != 0 && m->answer.security != DNS_BOGUS &&
	    !(m->answer.status == DNS_FOUND && m->answer.n > 0 &&
	      m->answer.security == DNS_SECURE) &&
	    look_up(d, hop->host, hop->port, m, qname, sizeof qname) < 0)
		return;
	mxdane_judge(m, qname);
	check_library(m);
}

#else /* built without libgnutls-dane: no DANE client */

void
mxdane_lookup(struct dns *d, const struct mxdane_hop *hop, struct mxdane *m)
{
	(void)d;
	(void)hop;
	mxdane_clear(m);
	set(m, MXDANE_NONE,
	    "built without libgnutls-dane: no DANE (rebuild with "
	    "libgnutls28-dev installed)");
}

#endif

const struct tls_dane *
mxdane_tls(const struct mxdane *m)
{
	if (m->state == MXDANE_VERIFY || m->state == MXDANE_UNAUTHENTICATED)
		return &m->dane;
	return NULL;
}

bool
mxdane_requires_tls(const struct mxdane *m)
{
	return m->state == MXDANE_VERIFY || m->state == MXDANE_UNAUTHENTICATED;
}
