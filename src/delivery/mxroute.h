/*
 * mxroute.h - direct delivery (`deliver mx`, --deliver=mx): each recipient
 * domain's mail exchangers, found in the DNS (dns.h) and tried in order,
 * one transaction per domain.
 *
 * The hops of a domain (RFC 5321 5.1):
 *  - its MX records, lowest preference first, equal preferences in a
 *    random order (spread the load, as 5.1 asks); each MX host's
 *    addresses (A and AAAA) in the resolver's order, each address one
 *    hop;
 *  - no MX records (NODATA): the domain itself, as an implicit MX of
 *    preference 0 ("implicit MX"), if it has addresses;
 *  - a null MX, "MX 0 ." (RFC 7505): the domain takes no mail: a
 *    permanent failure (ERROR_UNAVAILABLE, exit 69);
 *  - the domain does not exist (NXDOMAIN): ERROR_NOHOST (exit 68);
 *  - an address literal ("user@[192.0.2.1]", RFC 5321 4.1.3): that
 *    address, looked up nowhere;
 *  - a look-up that failed (timeout, SERVFAIL) or whose answer failed
 *    DNSSEC validation (bogus): temporary (ERROR_TEMPFAIL, queued), the
 *    reason named.  An MX host whose own addresses cannot be found is
 *    skipped (said in the transcript); when no MX host has one, that is
 *    temporary too.  An MX whose exchange is written as an address
 *    ("MX 10 192.0.2.1.") is skipped unlooked-up: an MX names a host
 *    (5.1).  A host listed twice is one host, at its best preference,
 *    and an address is one hop however many hosts name it, so that a
 *    zone cannot fill the hops with one dead address.
 * At most MXROUTE_HOPS_MAX hops are tried per domain, and no further hop
 * after the account's failover_timeout.
 *
 * Each hop is connected to by its address (numeric: never looked up
 * again) while the MX host's name is the name TLS sends (SNI) and
 * verifies, and messages give (submit.h's struct submit_hop).  Its TLS
 * is decided in one place, mxroute_hop_tls: opportunistic STARTTLS
 * unless DNSSEC-validated TLSA records (DANE, RFC 7672) or the domain's
 * MTA-STS policy (RFC 8461) ask more.  With opportunistic TLS a failed
 * handshake is tried once more on the same hop in the clear, as
 * Postfix's "may" level does: the hop offered STARTTLS but cannot do it
 * with us, and the message would otherwise wait for nothing.
 *
 * Walking the hops: a temporary failure (connection refused or timed
 * out, a 4xx greeting or reply, the connection lost before the final
 * dot, a TLS failure the policy does not retry) goes on to the next hop;
 * a permanent refusal (5xx) ends the domain's route, and so does
 * anything after the final dot went out (the server may have the
 * message: no second copy elsewhere).
 *
 * Per domain: the recipients are grouped by domain (an A-label, lower
 * case: "Example.ORG" and "example.org" are one), in the order their
 * domains first appear, and each group is its own transaction on its own
 * route, so one domain's failure never holds another's mail.  Each
 * recipient's verdict goes into the message's envelope (envelope.h):
 * those a domain's failure left without one get its kind as theirs
 * (refused for now, or for good), so that fate.h, the queue, the log line
 * and --json see who still needs the message.
 */
#ifndef MAILPOST_MXROUTE_H
#define MAILPOST_MXROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "dns.h"
#include "mxdane.h"
#include "error.h"
#include "submit.h"
#include "transcript.h"

/* Hops tried for one domain.  Each costs up to a connect timeout;
 * Postfix stops at 5 addresses (smtp_mx_address_limit), sendmail and
 * Exim go further.  A domain with more MX addresses than this gets the
 * best ones tried, and the message queued after them. */
#define MXROUTE_HOPS_MAX 10
/* Recipient domains of one message: each is a route and a transaction
 * of its own.  More is refused before anything is sent (ERROR_DATA);
 * RFC 5321 4.5.3.1.8 asks a server to take 100 recipients. */
#define MXROUTE_DOMAINS_MAX 100

/* Why a hop is on the route, for the transcript, --serverinfo and
 * --json. */
enum mxroute_source {
	MXROUTE_FROM_MX = 0,   /* an MX record of the domain */
	MXROUTE_FROM_IMPLICIT, /* no MX: the domain's own address (5.1) */
	MXROUTE_FROM_LITERAL,  /* the recipient's address literal */
};

/* One hop: an MX host and one of its addresses, and how to talk to it. */
struct mxroute_hop {
	char name[DNS_NAME_MAX + 1]; /* the MX host (A-label, lower case,
	                              * no final dot); a literal's address */
	char address[46];            /* numeric */
	unsigned pref;               /* the MX preference; 0 implicit */
	enum mxroute_source source;
	bool mx_secure;   /* the MX answer was DNSSEC-secure (an implicit
	                   * MX: the domain's address answer) */
	bool addr_secure; /* this host's address answer was */
	/* The host's name after CNAMEs (its address answer's), where its
	 * TLSA records are looked up first (RFC 7672 2.2.2). */
	char canon[DNS_NAME_MAX + 1];
	int port;         /* submit_port's: 25 unless the account says */
	/* mxroute_hop_tls's verdict and why, one line for the transcript
	 * and --serverinfo ("opportunistic: ..."). */
	struct submit_hop conn;
	/* The host's DANE state (mxdane.h), set by mxroute_hop_tls: what
	 * conn.dane points into. */
	struct mxdane dane;
	char tls_why[160];
	/* MTA-STS testing (RFC 8461 5): conn.tls is VERIFY to find out,
	 * and a TLS failure is reported and the hop tried again as
	 * opportunistic. */
	bool sts_testing;
};

/* One recipient domain's route. */
struct mxroute_domain {
	char domain[DNS_NAME_MAX + 1]; /* A-label, lower case */
	struct mxroute_hop hops[MXROUTE_HOPS_MAX];
	size_t nhops;
};

/* A run's direct delivery: the resolver (opened on first use) and the
 * account it delivers for. */
struct mxroute;

/* For account a (deliver mx; not owned, must outlive it).  Nothing is
 * loaded or looked up yet.  ERROR_CONFIG when the account also names a
 * way to a server of its own (host, socket, proxy_host, auth,
 * oauth2_provider): an MX takes mail for its domain without them. */
int mxroute_new(struct mxroute **out, const struct account *a,
                struct transcript *t, struct error *err);
void mxroute_free(struct mxroute *m); /* NULL ok */

/* The route of one domain (as found in an address: a name, U-labels
 * allowed, or an address literal in brackets).  0 with d filled (at
 * least one hop), or -1 as the header says (ERROR_UNAVAILABLE null MX,
 * ERROR_NOHOST, ERROR_TEMPFAIL, ERROR_CONFIG for a name that is not
 * one; dns_open's ERROR_UNAVAILABLE when the resolver library is
 * missing). */
int mxroute_domain(struct mxroute *m, const char *domain,
                   struct mxroute_domain *d, struct error *err);

/* Release what d's hops hold (their DANE records, mxroute_hop_tls's). */
void mxroute_domain_clear(struct mxroute_domain *d);

/* THE TLS policy of one hop, decided before it is connected to; the one
 * place where DANE (RFC 7672) and MTA-STS (RFC 8461) make their
 * decisions, in that order of precedence (RFC 8461 2: DANE wins for an
 * MX with usable TLSA records):
 *   1. DANE: with an MX and address found DNSSEC-secure (hop->mx_secure,
 *      addr_secure), the hop's TLSA records decide; secure records none
 *      of which is usable require TLS with any certificate only where
 *      MTA-STS (2.) does not ask more;
 *   2. MTA-STS: the domain's policy in enforce mode requires a verified
 *      certificate (SUBMIT_HOP_TLS_VERIFY), and an MX it does not list
 *      may not be used;
 *   3. otherwise opportunistic (SUBMIT_HOP_TLS_MAY).
 * Sets hop->conn.tls (and what the stronger policies add to
 * hop->conn) and hop->tls_why.  0: use the hop so; -1 with err: this hop
 * may not be used now (a temporary failure: ERROR_TEMPFAIL; the route
 * goes on to the next hop). */
int mxroute_hop_tls(struct mxroute *m, const struct mxroute_domain *d,
                    struct mxroute_hop *hop, struct error *err);

/* Send the message of sub (its account is the mxroute's; sub->hop is
 * set per hop) to every recipient of sub->env, one transaction per
 * domain.  0 when every recipient got it; -1 otherwise, err giving the
 * worst failure and naming each domain that did not get it, and
 * out->delivered true when some domain did (their recipients are
 * ENVELOPE_ACCEPTED; the others ENVELOPE_REFUSED_TEMP or _PERM as their
 * domain's failure was).  out->host names the last hop tried; the
 * message is rewound before each transaction after the first. */
int mxroute_send(struct mxroute *m, const struct submission *sub,
                 struct submit_outcome *out, struct error *err);

#endif
