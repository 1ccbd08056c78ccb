/*
 * mxdane.h - an MX host's DANE state (RFC 7672 2.2): whether its TLS must
 * be authenticated by TLSA records, only required, opportunistic, or
 * whether the host may not be used now.
 *
 * The decision, from what the resolver (dns.h) validated:
 * - the MX RRset (or, for an implicit MX, the answer that there was
 *   none) not DNSSEC-secure: the host names are not authentic, so no
 *   DANE (RFC 7672 2.2.1): MXDANE_NONE;
 * - the host's address records not secure (RFC 7672 2.2.2: TLSA records
 *   below an unsigned name prove nothing): MXDANE_NONE (bogus ones are
 *   the caller's: such a host has no address it may use);
 * - else the TLSA records at _PORT._tcp. of the host's name after
 *   CNAMEs, and, when that name has none, of the MX host name itself
 *   (RFC 7672 2.2.2), through dns_tlsa:
 *     a look-up that fails or an answer that is bogus: MXDANE_TEMPFAIL
 *     (RFC 7672 2.2: the host is not used now, never tried without
 *     DANE);
 *     no records, or records that are not secure: MXDANE_NONE;
 *     secure records, one usable (tlsdane.h): MXDANE_VERIFY;
 *     secure records, none usable: MXDANE_UNAUTHENTICATED (RFC 7672
 *     2.2: TLS is still required, any certificate taken).
 *
 * For MXDANE_VERIFY and MXDANE_UNAUTHENTICATED the hop needs TLS: a
 * server without STARTTLS, a failed handshake or a certificate the
 * records refuse is a temporary failure of this host (the next MX, then
 * the queue), never a session in plain text (RFC 7672 2.2).  So is
 * MXDANE_VERIFY when libgnutls-dane cannot be loaded: mxdane_lookup
 * then says MXDANE_TEMPFAIL, naming the package.  A build without
 * libgnutls-dane (configure --without-gnutls-dane) is no DANE client: it
 * looks up no TLSA record and every host is MXDANE_NONE.
 */
#ifndef MAILPOST_MXDANE_H
#define MAILPOST_MXDANE_H

#include <stdbool.h>

#include "dns.h"
#include "tls.h"

enum mxdane_state {
	MXDANE_NONE = 0,        /* opportunistic TLS, as without DANE */
	MXDANE_VERIFY,          /* TLS required, authenticated by TLSA */
	MXDANE_UNAUTHENTICATED, /* TLS required, any certificate */
	MXDANE_TEMPFAIL,        /* this host may not be used now */
};

/* The reason in words: "TLSA records of _25._tcp.mx.example.test
 * (DNSSEC-validated): 1 usable", or why there is no DANE. */
#define MXDANE_WHY_MAX 512
/* Reference identifiers of a DANE-TA(2) chain: the MX host name and its
 * name after CNAMEs (RFC 7672 3.2.2). */
#define MXDANE_NAMES_MAX 2

/* What the caller learnt of the host before: its name in the MX record
 * (or the domain, for an implicit MX), its name after CNAMEs (the
 * address answer's canon; NULL or "": the same), whether the MX answer
 * (for an implicit MX, the answer that there was none) and the host's
 * address answer were DNSSEC-secure, and the port it connects to. */
struct mxdane_hop {
	const char *host;
	const char *canon;
	bool mx_secure;
	bool addr_secure;
	int port;
};

/* A host's state; what tls_params.dane points into (mxdane_tls), which
 * lives as long as this struct.  Zero it before the first use. */
struct mxdane {
	enum mxdane_state state;
	char why[MXDANE_WHY_MAX];
	struct dns_answer answer; /* the TLSA records, owned */
	struct tls_tlsa tlsa[DNS_ANSWER_MAX];
	char names[MXDANE_NAMES_MAX][DNS_NAME_MAX + 1];
	const char *name_list[MXDANE_NAMES_MAX];
	struct tls_dane dane;
};

/* The state of hop's host into *m (cleared first), looking its TLSA
 * records up through d when RFC 7672 2.2 says to.  Never fails: a
 * failure is MXDANE_TEMPFAIL, its reason in m->why. */
void mxdane_lookup(struct dns *d, const struct mxdane_hop *hop,
                   struct mxdane *m);

/* From a TLSA answer got for qname ("_25._tcp.HOST") to a state, as
 * mxdane_lookup does once it has one (m->answer), with m->names set;
 * apart for the unit test. */
void mxdane_judge(struct mxdane *m, const char *qname);

/* What tls_params.dane must be for the host: its records for
 * MXDANE_VERIFY and MXDANE_UNAUTHENTICATED, NULL otherwise. */
const struct tls_dane *mxdane_tls(const struct mxdane *m);

/* True when the host's session must be TLS (see above). */
bool mxdane_requires_tls(const struct mxdane *m);

/* "dane-verify", "dane-unauthenticated", "no-dane", "dane-tempfail":
 * the state's name for the transcript and --json. */
const char *mxdane_state_name(enum mxdane_state s);

/* Release m (then zeroed). */
void mxdane_clear(struct mxdane *m);

#endif
