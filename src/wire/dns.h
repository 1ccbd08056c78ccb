/*
 * dns.h - DNS look-ups for direct delivery and autoconfig (MX, address,
 * TLSA, SRV and TXT records), validated with DNSSEC, through libunbound.
 *
 * libunbound is the only library this module uses and the only module
 * that uses it.  It is not linked: dns_open loads it (dynload.h) the
 * first time a resolver is made, so a run that looks nothing up never
 * maps it.  libunbound parses the DNS wire format and checks the
 * signatures; what it hands back is still the network's: each record's
 * data is judged here (dnsrr.h): lengths and counts bounded, names
 * checked, a name that becomes a host (an MX exchange, a SRV target)
 * checked as a host name (RFC 1123 2.1: letters, digits and hyphens).
 *
 * The resolver asked is a recursive one: options.servers, else those of
 * /etc/resolv.conf (unless MAILPOST_TEST_DNS_REQUIRED is set and the run
 * did not start setgid: then dns_open refuses, so that a test that
 * forgot its dns_server fails instead of asking the real DNS).
 *
 * DNSSEC: answers are validated from the trust anchor (options), and
 * each answer carries the verdict: DNS_SECURE (signed and validated),
 * DNS_INSECURE (provably unsigned, or no validation), DNS_BOGUS (signed
 * and the signatures failed; the data is then untrustworthy, but kept
 * for the caller to judge: why_bogus says what failed).  With the
 * default anchor (the root's key of Debian's dns-root-data), a resolver
 * that cannot serve DNSSEC (the root's DNSKEY is bogus or cannot be
 * had) turns validation off for the run, with one transcript line, so
 * that delivery still works opportunistically (every answer is then
 * DNS_INSECURE: DANE is off).  An explicit trust anchor never falls back.
 */
#ifndef MAILPOST_DNS_H
#define MAILPOST_DNS_H

#include <stddef.h>

#include "dnsrr.h" /* the records: struct dns_mx, dns_addr, dns_tlsa,
                    * dns_srv, and DNS_NAME_MAX */
#include "error.h"

struct transcript;

#define DNS_TIMEOUT_MS 10000 /* one look-up, all retries */
#define DNS_ANSWER_MAX 64    /* records kept of one answer */

enum dns_status { DNS_FOUND = 0, DNS_NODATA, DNS_NXDOMAIN };
enum dns_security { DNS_INSECURE = 0, DNS_SECURE, DNS_BOGUS };

struct dns_options {
	/* "ADDR[@PORT] ..." (white space or commas); NULL: /etc/resolv.conf's
	 */
	const char *servers;
	/* file of DS/DNSKEY records (zone-file syntax); NULL: Debian's root
	 * key (/usr/share/dns/root.key, package dns-root-data) when
	 * readable, else no validation */
	const char *trust_anchor;
	int timeout_ms; /* <= 0: DNS_TIMEOUT_MS */
	/* NULL, or where each look-up and its result is noted (-v) */
	struct transcript *transcript;
};

struct dns_answer {
	enum dns_status status;
	enum dns_security security;
	char why_bogus[256]; /* censored; when DNS_BOGUS */
	/* the name answered for after CNAMEs (RFC 7672 2.2.2 needs it) */
	char canon[DNS_NAME_MAX + 1];
	size_t n;
	/* exactly one is set, by the query's type (NULL when n is 0); names
	 * lower-case, no final dot */
	struct dns_mx *mx;
	struct dns_addr *addr;
	struct dns_tlsa *tlsa;
	struct dns_srv *srv;
	char **txt;
};

struct dns;

/* A resolver.  -1 with err: ERROR_UNAVAILABLE when libunbound cannot be
 * loaded (the message names the package) or this build has none;
 * ERROR_CONFIG for a bad servers string, an unreadable or bad trust
 * anchor file, or no server in a test run (see above). */
int dns_open(struct dns **out, const struct dns_options *o, struct error *err);
void dns_free(struct dns *d); /* NULL ok */

/*
 * The look-ups.  Each clears *a first (dns_answer_clear frees it).
 * 0: an answer, of any status and any security, bogus included: the
 * caller decides.  Records that are not usable (a name that is not a
 * host name, data of the wrong length) are left out, each noted in the
 * transcript; at most DNS_ANSWER_MAX are kept: of MX records, those of
 * the lowest preferences (all are read, then sorted, then cut).
 * -1 with err: ERROR_TEMPFAIL (SERVFAIL other than bogus -- when
 * validating, its message names libunbound's ceiling on the signatures
 * it checks in one answer, which hundreds of signed record sets exceed
 * and which no setting raises --, a timeout, no
 * server answered, an answer whose every record was unusable),
 * ERROR_CONFIG (a name that cannot be asked: every name is ASCII, an
 * internationalized one in its A-label form, RFC 5890; at most
 * DNS_NAME_MAX characters of letters, digits, '-', '_' and dots, a final
 * dot allowed).
 */
int dns_mx(struct dns *d, const char *domain, struct dns_answer *a,
           struct error *err);
/* A and AAAA together: security the weaker of the two, NXDOMAIN only if
 * both say so. */
int dns_addrs(struct dns *d, const char *host, struct dns_answer *a,
              struct error *err);
/* _PORT._tcp.HOST */
int dns_tlsa(struct dns *d, const char *host, int port, struct dns_answer *a,
             struct error *err);
int dns_srv(struct dns *d, const char *name, struct dns_answer *a,
            struct error *err);
/* each record's strings joined */
int dns_txt(struct dns *d, const char *name, struct dns_answer *a,
            struct error *err);
void dns_answer_clear(struct dns_answer *a);

/* Names of the enums, for transcripts and --json: "secure", "nodata"... */
const char *dns_security_name(enum dns_security s);
const char *dns_status_name(enum dns_status s);

#endif
