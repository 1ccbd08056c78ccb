/*
 * mtasts.h - MTA-STS (RFC 8461): a recipient domain's published demand
 * that mail to it go over TLS verified for the MX host's name, to the MX
 * hosts it lists, for direct delivery (mxroute.h).
 *
 * Discovery (RFC 8461 3, 5.1), once per domain and run:
 *   1. the TXT record _mta-sts.DOMAIN through the account's resolver
 *      (dns.h): of the records that start "v=STSv1", exactly one, with an
 *      id (mtasts_parse_txt); none, several or a bad one: the domain has
 *      no policy now;
 *   2. a cached policy (state directory "mta-sts", tlscache.h's files:
 *      ours alone, written whole) whose id is the record's and whose
 *      max_age has not run out is used as it is;
 *   3. else the policy is fetched: GET https://mta-sts.DOMAIN/.well-known/
 *      mta-sts.txt (https.h), connected to at the addresses the account's
 *      resolver gives that name, the certificate verified for it against
 *      the account's tls_trust_file or the system store, no redirect
 *      followed, at most MTASTS_POLICY_MAX bytes, status 200 only, a
 *      Content-Type of text/plain (RFC 8461 3.2: none is refused too);
 *      parsed strictly
 *      (mtasts_parse_policy) and cached until its max_age;
 *   4. a look-up or fetch that fails, a policy that is not one: the
 *      cached policy when there is one that has not expired (RFC 8461
 *      5.1: an attacker who blocks the fetch does not switch the policy
 *      off), else none.
 * None of that is an error of the delivery: every outcome is a policy or
 * none, and the reason is a transcript line.
 *
 * Application (RFC 8461 4, 5): mtasts_hop, for one MX host:
 *   - enforce: an MX host the policy does not list is not used; one it
 *     lists is used only over STARTTLS with its certificate verified for
 *     the MX name (PKIX: tls_trust_file or the system store), never in
 *     the clear (mxroute.h: a failure there is temporary, next MX, then
 *     the queue);
 *   - testing: delivered as without a policy (opportunistic), what
 *     enforce would have refused said in the transcript and the log:
 *     an MX host it does not list, or (mxroute.c tries verified TLS
 *     first with a listed one) TLS that fails or does not verify;
 *   - none, or no policy: opportunistic.
 * DANE (RFC 7672) takes precedence for an MX with usable TLSA records
 * (RFC 8461 2); mxroute_hop_tls asks DANE first, and this policy too
 * when the TLSA records are secure but none is usable.
 */
#ifndef MAILPOST_MTASTS_H
#define MAILPOST_MTASTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct dns;
struct transcript;

/* RFC 8461 3.3: a policy body larger than this is not read. */
#define MTASTS_POLICY_MAX (64 * 1024)
/* RFC 8461 3.2: max_age is at most 31557600 s (a year); a policy that
 * says more is kept that long. */
#define MTASTS_MAX_AGE 31557600L
/* RFC 8461 3.1: id is 1 to 32 letters and digits. */
#define MTASTS_ID_MAX 32
/* The mx patterns kept of one policy; a policy with more is not one
 * (real policies list a handful; each is a name to match per MX). */
#define MTASTS_MX_MAX 64
/* RFC 1035 2.3.4 (dns.h's DNS_NAME_MAX): a pattern's name, "*." and
 * all. */
#define MTASTS_NAME_MAX 253
/* Seconds one fetch of a policy may take, connection included: the
 * delivery waits for it (RFC 8461 3.3 leaves the value to the sender). */
#define MTASTS_FETCH_TIMEOUT 20
/* The addresses of mta-sts.DOMAIN tried for one fetch. */
#define MTASTS_FETCH_ADDRS 4

enum mtasts_mode {
	MTASTS_MODE_NONE = 0,
	MTASTS_MODE_TESTING,
	MTASTS_MODE_ENFORCE
};

/* A policy as parsed: names lower case, "*." kept in front of a
 * wildcard pattern. */
struct mtasts_policy {
	enum mtasts_mode mode;
	long max_age; /* seconds, at most MTASTS_MAX_AGE */
	size_t nmx;
	char mx[MTASTS_MX_MAX][MTASTS_NAME_MAX + 1];
};

/* The TXT records of _mta-sts.DOMAIN (txt[0..n), each a record's
 * strings joined) judged by RFC 8461 3.1: the records that start
 * "v=STSv1" (followed by ";", white space or the end) must be exactly
 * one, of fields "v=STSv1", "id=ID" (1 to MTASTS_ID_MAX letters and
 * digits, once) and extensions "NAME=VALUE", separated by ";" and
 * optional white space, a last ";" allowed.  1 with id[] set: the
 * domain has a policy of that id; 0: it has none now, why[0..size) says
 * why (censored, one line). */
int mtasts_parse_txt(const char *const *txt, size_t n,
                     char id[MTASTS_ID_MAX + 1], char *why, size_t size);

/* A policy document (body[0..len), not NUL-terminated: the bytes as
 * they came) judged by RFC 8461 3.2, strictly: lines ending in LF or
 * CRLF (the last may end without one, blank lines are ignored), each
 * "KEY:" then optional white space and a value of printable ASCII;
 * exactly one "version: STSv1", one mode (enforce, testing, none), one
 * max_age (1 to 10 digits; more than MTASTS_MAX_AGE is kept as
 * MTASTS_MAX_AGE), one to MTASTS_MX_MAX mx patterns (a host name or
 * "*." and one; required unless the mode is none); other keys of the
 * extension syntax are ignored.  Any other byte, line or repetition
 * makes it no policy.  0 with *p set, or -1 with the first fault in
 * why[0..size) (censored, one line) and *p zeroed. */
int mtasts_parse_policy(const char *body, size_t len, struct mtasts_policy *p,
                        char *why, size_t size);

/* Does the policy list host (an MX name, lower case, no final dot)?
 * RFC 8461 4.1: equal to a pattern, or "*.REST" and host is one label
 * and ".REST" (the wildcard stands for exactly one leftmost label).
 * The matching pattern goes into match[0..size) when given. */
bool mtasts_mx_matches(const struct mtasts_policy *p, const char *host,
                       char *match, size_t size);

/* Where a policy comes from, for discovery. */
struct mtasts_options {
	struct dns *dns;               /* the account's resolver (mxroute's) */
	const char *trust_file;        /* PEM CAs for the policy host; NULL: the
	                                  system store */
	const char *cache_dir;         /* NULL: no cache (a run that cannot have
	                                  one works without) */
	struct transcript *transcript; /* NULL, or where discovery is told */
	int timeout_s;                 /* 0: MTASTS_FETCH_TIMEOUT */
	int64_t now;                   /* 0: the clock's */
};

/* A domain's policy as discovery left it. */
struct mtasts_result {
	bool found; /* a policy applies (its mode may be none) */
	struct mtasts_policy policy;
	char id[MTASTS_ID_MAX + 1];
	/* How it was found, or why there is none, one censored line for
	 * the transcript and --serverinfo ("fetched (id 20260101)",
	 * "cached (id 1, until ...); the fetch failed: ..." ...). */
	char how[320];
};

/* Discover the policy of domain (an A-label, lower case, no final dot)
 * as the top of this header says, into *r.  Never an error: the
 * outcome is a policy or none, r->how says which and why. */
void mtasts_discover(const struct mtasts_options *o, const char *domain,
                     struct mtasts_result *r);

/* What one MX host may be used for under the domain's policy. */
enum mtasts_verdict {
	MTASTS_OPPORTUNISTIC = 0, /* no policy, none, or testing and not
	                           * listed (said in why) */
	MTASTS_VERIFY,            /* enforce: STARTTLS and PKIX for the MX
	                           * name, or not this MX */
	MTASTS_SKIP,              /* enforce: the policy does not list it */
	MTASTS_TRY_VERIFY,        /* testing, listed: as MTASTS_VERIFY, but
	                           * a failure is reported and the MX used
	                           * as without a policy */
};

/* The verdict for MX host mx (lower case, no final dot) under r, and one
 * line saying why into why[0..size) ("MTA-STS enforce: mx1.example.org
 * matches *.example.org"; for testing, what enforce would have done). */
enum mtasts_verdict mtasts_hop(const struct mtasts_result *r, const char *mx,
                               char *why, size_t size);

#endif
