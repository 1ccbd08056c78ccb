/*
 * mxroute.c - direct delivery to each recipient domain's mail exchangers
 * (see mxroute.h).
 */
#include "config.h"

#include "mxroute.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "interrupt.h"
#include "mtasts.h"
#include "util.h"

struct mxroute {
	const struct account *account;
	struct transcript *transcript;
	struct dns *dns; /* opened on the first look-up */
	/* MTA-STS (mtasts.h): the policy of the domain last routed, found
	 * on its first hop, and where policies are kept between runs (the
	 * state directory "mta-sts"; NULL: not kept). */
	char sts_domain[DNS_NAME_MAX + 1];
	struct mtasts_result sts;
	char *sts_cache;
};

int
mxroute_new(struct mxroute **out, const struct account *a, struct transcript *t,
            struct error *err)
{
	const char *name = a->name ? a->name : "default";
	const char *key = NULL;

	*out = NULL;
	/* A mail exchanger takes mail for its own domains from anyone:
	 * nothing that leads to a server of the account's own means
	 * anything here, and a password must not go to every MX. */
	if (a->host && *a->host)
		key = "host";
	else if (a->socket && *a->socket)
		key = "socket";
	else if (a->proxy_host && *a->proxy_host)
		key =
		    "proxy_host"; /* the DNS look-ups would not go through it */
	else if (a->auth && strcmp(a->auth, "off") != 0)
		key = "auth";
	else if (a->oauth2_provider)
		key = "oauth2_provider";
	else if (a->lmtp)
		key = "protocol lmtp";
	else if (a->fallback_account && *a->fallback_account)
		key = "fallback_account"; /* the queue is an MX's fallback */
	if (key) {
		error_set(
		    err, ERROR_CONFIG,
		    "account '%s' delivers to the MX hosts (deliver mx) "
		    "and sets '%s', which only a relay uses; remove one of "
		    "them",
		    name, key);
		return conf_hide(a, err);
	}
	*out = xcalloc(1, sizeof **out);
	(*out)->account = a;
	(*out)->transcript = t;
	/* As the TLS sessions (submit.c): the system configuration's
	 * account of a setgid run keeps nothing in a caller's home; no
	 * state directory is no cache, not an error. */
	if (!a->hidden) {
		struct error ignored;

		(*out)->sts_cache = conf_state_dir("mta-sts", &ignored);
	}
	return 0;
}

void
mxroute_free(struct mxroute *m)
{
	if (!m)
		return;
	dns_free(m->dns);
	free(m->sts_cache);
	free(m);
}

static int
resolver(struct mxroute *m, struct error *err)
{
	const struct account *a = m->account;
	struct dns_options o = {
	    .servers = a->dns_server,
	    .trust_anchor = a->dnssec_trust_anchor,
	    .timeout_ms = 0,
	    .transcript = m->transcript,
	};

	if (m->dns)
		return 0;
	return dns_open(&m->dns, &o, err);
}

/* --- a domain's hops --- */

/* "[192.0.2.1]", "[IPv6:2001:db8::1]" (RFC 5321 4.1.3): the one hop. */
static int
literal_route(const char *domain, struct mxroute_domain *d, struct error *err)
{
	size_t n = strlen(domain);
	const char *inner = domain + 1;
	unsigned char bin[sizeof(struct in6_addr)];
	struct mxroute_hop *h = &d->hops[0];
	size_t len;
	int family = AF_INET;

	if (n < 3 || domain[n - 1] != ']')
		return error_set(err, ERROR_DATA,
		                 "the address literal %s is not closed by ']'",
		                 domain);
	len = n - 2;
	if (len > 5 && strncasecmp(inner, "IPv6:", 5) == 0) {
		inner += 5;
		len -= 5;
		family = AF_INET6;
	}
	if (len >= sizeof h->address)
		return error_set(err, ERROR_DATA,
		                 "the address literal %s is not an address",
		                 domain);
	memcpy(h->address, inner, len);
	h->address[len] = '\0';
	if (inet_pton(family, h->address, bin) != 1)
		return error_set(
		    err, ERROR_DATA,
		    "the address literal %s is not an IPv%c address", domain,
		    family == AF_INET ? '4' : '6');
	str_copy(d->domain, sizeof d->domain, domain);
	snprintf(h->name, sizeof h->name, "[%s]", h->address);
	h->source = MXROUTE_FROM_LITERAL;
	d->nhops = 1;
	return 0;
}

/* A look-up's answer that cannot be used: bogus (DNSSEC validation
 * failed: an attack or a broken zone, which waiting may cure) is
 * temporary, the reason named. */
static int
bogus(const struct dns_answer *a, const char *what, const char *name,
      struct error *err)
{
	return error_set(err, ERROR_TEMPFAIL,
	                 "the %s records of %s failed DNSSEC validation (%s)",
	                 what, name, a->why_bogus[0] ? a->why_bogus : "bogus");
}

/* Whether address is already a hop of d: a zone that names one address
 * under many hosts gets it tried once, not MXROUTE_HOPS_MAX times. */
static bool
have_hop(const struct mxroute_domain *d, const char *address)
{
	for (size_t i = 0; i < d->nhops; i++)
		if (strcmp(d->hops[i].address, address) == 0)
			return true;
	return false;
}

/* Add host's addresses as hops; 0 (maybe none added), -1 with err when
 * its look-up failed (the caller skips it). */
static int
add_host(struct mxroute *m, struct mxroute_domain *d, const char *host,
         unsigned pref, enum mxroute_source source, bool mx_secure,
         struct error *err)
{
	struct dns_answer a;
	int rc = 0;

	memset(&a, 0, sizeof a);
	if (dns_addrs(m->dns, host, &a, err) < 0)
		return -1;
	if (a.security == DNS_BOGUS)
		rc = bogus(&a, "address", host, err);
	else if (a.status != DNS_FOUND || a.n == 0)
		rc = error_set(
		    err, ERROR_NOHOST, "%s has no address (%s)", host,
		    a.status == DNS_NXDOMAIN ? "no such name"
		                             : "no A or AAAA records");
	for (size_t i = 0; rc == 0 && i < a.n && d->nhops < MXROUTE_HOPS_MAX;
	     i++) {
		struct mxroute_hop *h;

		if (have_hop(d, a.addr[i].text)) {
			transcript_note(m->transcript,
			                "%s [%s] is already a hop of %s: not "
			                "tried twice",
			                host, a.addr[i].text, d->domain);
			continue;
		}
		h = &d->hops[d->nhops++];
		memset(h, 0, sizeof *h);
		str_copy(h->name, sizeof h->name, host);
		str_copy(h->address, sizeof h->address, a.addr[i].text);
		h->pref = pref;
		h->source = source;
		h->mx_secure = mx_secure;
		h->addr_secure = a.security == DNS_SECURE;
		str_copy(h->canon, sizeof h->canon, a.canon);
	}
	dns_answer_clear(&a);
	return rc;
}

struct mx_order {
	unsigned pref;
	uint32_t lot; /* a random draw: equal preferences in random order */
	size_t i;
};

static int
by_pref(const void *x, const void *y)
{
	const struct mx_order *a = x, *b = y;

	if (a->pref != b->pref)
		return a->pref < b->pref ? -1 : 1;
	if (a->lot != b->lot)
		return a->lot < b->lot ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Whether the MX host order[k] names came earlier in order: the same
 * host is one host, at its best preference. */
static bool
listed_before(const struct dns_answer *a, const struct mx_order *order,
              size_t k)
{
	const char *host = a->mx[order[k].i].host;

	for (size_t j = 0; j < k; j++)
		if (strcmp(a->mx[order[j].i].host, host) == 0)
			return true;
	return false;
}

/* Whether an MX's exchange is written as an IPv4 or IPv6 address
 * ("127.0.0.2.": dns.c gives names without the final dot). */
static bool
is_address(const char *host)
{
	unsigned char bin[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, bin) == 1 ||
	       inet_pton(AF_INET6, host, bin) == 1;
}

/* The MX hosts of answer a, best first (RFC 5321 5.1), each host's
 * addresses as hops.  A host that cannot be looked up is skipped, said
 * in the transcript; when none gives a hop, the first such failure is
 * the domain's, as temporary (the MX hosts' zones may be fixed). */
static int
mx_hops(struct mxroute *m, struct mxroute_domain *d, const struct dns_answer *a,
        struct error *err)
{
	struct mx_order *order = xcalloc(a->n ? a->n : 1, sizeof *order);
	struct error first, e;
	size_t n = 0;

	error_clear(&first);
	for (size_t i = 0; i < a->n; i++) {
		if (!a->mx[i].host[0]) /* "." among others: no host */
			continue;
		order[n].pref = a->mx[i].pref;
		random_unique(&order[n].lot, sizeof order[n].lot);
		order[n].i = i;
		n++;
	}
	qsort(order, n, sizeof *order, by_pref);
	for (size_t k = 0; k < n && d->nhops < MXROUTE_HOPS_MAX; k++) {
		const struct dns_mx *mx = &a->mx[order[k].i];

		if (listed_before(a, order, k)) {
			transcript_note(
			    m->transcript,
			    "MX %s of %s (preference %u) is listed "
			    "at a better preference: looked up once",
			    mx->host, d->domain, mx->pref);
			continue;
		}
		if (is_address(mx->host)) {
			/* An MX names a host, never an address (RFC 5321
			 * 5.1); no look-up makes it one. */
			transcript_note(
			    m->transcript,
			    "MX %s of %s skipped: an address, not a "
			    "host name (RFC 5321 5.1)",
			    mx->host, d->domain);
			continue;
		}
		error_clear(&e);
		if (add_host(m, d, mx->host, mx->pref, MXROUTE_FROM_MX,
		             a->security == DNS_SECURE, &e) == 0)
			continue;
		transcript_note(m->transcript, "MX %s of %s skipped: %s",
		                mx->host, d->domain, e.msg);
		if (first.kind == ERROR_NONE)
			first = e;
	}
	free(order);
	if (d->nhops > 0)
		return 0;
	if (first.kind == ERROR_NONE)
		return error_set(err, ERROR_TEMPFAIL,
		                 "no usable MX host for %s", d->domain);
	return error_set(err, ERROR_TEMPFAIL,
	                 "no MX host of %s has an address that can be used "
	                 "now: %s",
	                 d->domain, first.msg);
}

/* The domain's name as the DNS knows it: A-labels, lower case. */
static int
domain_name(const char *domain, struct mxroute_domain *d, struct error *err)
{
	char *ascii;

	if (address_host_to_ascii(domain, &ascii, err) < 0)
		return -1;
	if (strlen(ascii) >= sizeof d->domain) {
		free(ascii);
		return error_set(err, ERROR_DATA,
		                 "the domain %s is longer than %d characters",
		                 domain, DNS_NAME_MAX);
	}
	for (char *p = ascii; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	str_copy(d->domain, sizeof d->domain, ascii);
	free(ascii);
	return 0;
}

/* No MX record: the domain is its own MX (RFC 5321 5.1). */
static int
implicit_hops(struct mxroute *m, struct mxroute_domain *d, bool mx_secure,
              struct error *err)
{
	if (add_host(m, d, d->domain, 0, MXROUTE_FROM_IMPLICIT, mx_secure,
	             err) == 0)
		return 0;
	if (err->kind == ERROR_NOHOST)
		error_set(err, ERROR_NOHOST,
		          "%s has no MX and no address records: it takes no "
		          "mail",
		          d->domain);
	return -1;
}

int
mxroute_domain(struct mxroute *m, const char *domain, struct mxroute_domain *d,
               struct error *err)
{
	struct dns_answer a;
	int rc;

	memset(d, 0, sizeof *d);
	if (domain[0] == '[')
		return literal_route(domain, d, err);
	if (domain_name(domain, d, err) < 0 || resolver(m, err) < 0)
		return -1;
	memset(&a, 0, sizeof a);
	if (dns_mx(m->dns, d->domain, &a, err) < 0) {
		error_prefix(err, "MX look-up of %s: ", d->domain);
		return -1;
	}
	if (a.security == DNS_BOGUS)
		rc = bogus(&a, "MX", d->domain, err);
	else if (a.status == DNS_NXDOMAIN)
		rc = error_set(err, ERROR_NOHOST,
		               "the domain %s does not exist (NXDOMAIN)",
		               d->domain);
	else if (a.status == DNS_NODATA || a.n == 0)
		rc = implicit_hops(m, d, a.security == DNS_SECURE, err);
	else if (a.n == 1 && !a.mx[0].host[0])
		rc = error_set(err, ERROR_UNAVAILABLE,
		               "%s accepts no mail (null MX, RFC 7505)",
		               d->domain);
	else
		rc = mx_hops(m, d, &a, err);
	dns_answer_clear(&a);
	return rc;
}

void
mxroute_domain_clear(struct mxroute_domain *d)
{
	for (size_t i = 0; i < d->nhops && i < MXROUTE_HOPS_MAX; i++)
		mxdane_clear(&d->hops[i].dane);
}

/* --- each hop's TLS --- */

/* DANE (RFC 7672), when the hop's MX and address answers were
 * DNSSEC-secure: its TLSA records (mxdane.h).  1: DANE decided the
 * hop's TLS (hop->conn.dane set); 0: no DANE, the next policy decides;
 * -1 with err (ERROR_TEMPFAIL): the host may not be used now. */
static int
hop_dane(struct mxroute *m, struct mxroute_hop *hop, struct error *err)
{
	struct mxdane_hop q = {.host = hop->name,
	                       .canon = hop->canon,
	                       .mx_secure = hop->mx_secure,
	                       .addr_secure = hop->addr_secure,
	                       .port = hop->port};

	hop->conn.dane = NULL;
	if (hop->source == MXROUTE_FROM_LITERAL || !m->dns)
		return 0; /* no name: no TLSA records */
	mxdane_lookup(m->dns, &q, &hop->dane);
	transcript_note(m->transcript, "DANE, %s: %s", hop->name,
	                hop->dane.why);
	switch (hop->dane.state) {
	case MXDANE_NONE:
		return 0;
	case MXDANE_TEMPFAIL:
		return error_set(err, ERROR_TEMPFAIL, "DANE: %s",
		                 hop->dane.why);
	case MXDANE_VERIFY:
		hop->conn.tls = SUBMIT_HOP_TLS_VERIFY;
		str_copy(hop->tls_why, sizeof hop->tls_why,
		         "DANE: STARTTLS required, the certificate "
		         "authenticated by the host's TLSA records");
		break;
	case MXDANE_UNAUTHENTICATED:
		hop->conn.tls = SUBMIT_HOP_TLS_ENCRYPT;
		str_copy(hop->tls_why, sizeof hop->tls_why,
		         "DANE: STARTTLS required, any certificate (TLSA "
		         "records, none usable)");
		break;
	}
	hop->conn.dane = mxdane_tls(&hop->dane);
	return 1;
}

/* The MTA-STS policy of d's domain (RFC 8461), found on the domain's
 * first hop in this run: the resolver is open by then (mxroute_domain),
 * the policy host is trusted as the account's tls_trust_file says. */
static const struct mtasts_result *
sts_policy(struct mxroute *m, const struct mxroute_domain *d)
{
	const char *trust = m->account->tls_trust_file;
	struct mtasts_options o = {
	    .dns = m->dns,
	    .trust_file = trust && strcmp(trust, "system") != 0 ? trust : NULL,
	    .cache_dir = m->sts_cache,
	    .transcript = m->transcript,
	};

	if (strcmp(m->sts_domain, d->domain) != 0) {
		mtasts_discover(&o, d->domain, &m->sts);
		str_copy(m->sts_domain, sizeof m->sts_domain, d->domain);
	}
	return &m->sts;
}

/* MTA-STS's word on the hop: 1 it decided (hop->conn.tls and tls_why
 * set), 0 it leaves the hop opportunistic, -1 the hop may not be used
 * (enforce: the policy does not list it). */
static int
sts_hop_tls(struct mxroute *m, const struct mxroute_domain *d,
            struct mxroute_hop *hop, struct error *err)
{
	char why[sizeof hop->tls_why];

	if (hop->source == MXROUTE_FROM_LITERAL)
		return 0; /* no domain, no policy */
	switch (mtasts_hop(sts_policy(m, d), hop->name, why, sizeof why)) {
	case MTASTS_SKIP:
		error_set(err, ERROR_TEMPFAIL, "%s", why);
		return -1;
	case MTASTS_TRY_VERIFY:
		hop->sts_testing = true;
		/* fall through */
	case MTASTS_VERIFY:
		hop->conn.tls = SUBMIT_HOP_TLS_VERIFY;
		str_copy(hop->tls_why, sizeof hop->tls_why, why);
		return 1;
	case MTASTS_OPPORTUNISTIC:
		if (strstr(why, "testing"))
			transcript_problem(m->transcript, "%s", why);
		break;
	}
	return 0;
}

int
mxroute_hop_tls(struct mxroute *m, const struct mxroute_domain *d,
                struct mxroute_hop *hop, struct error *err)
{
	int rc;

	/* DANE (RFC 7672) comes first here, then MTA-STS (RFC 8461), each
	 * setting a stronger hop->conn.tls or refusing the hop; what
	 * neither claims is opportunistic (RFC 7435): STARTTLS when
	 * offered, any certificate, a failed handshake tried once more in
	 * the clear (send_domain).  Only usable TLSA records take
	 * precedence over a policy (RFC 8461 2): secure records none of
	 * which is usable leave the word to MTA-STS, whose enforce wants
	 * the certificate verified for the MX name (PKIX, the DANE data
	 * dropped); where MTA-STS does not decide, DANE's "TLS required,
	 * any certificate" (RFC 7672 2.2) stands. */
	hop->sts_testing = false;
	rc = hop_dane(m, hop, err);
	if (rc == 0 ||
	    (rc > 0 && hop->dane.state == MXDANE_UNAUTHENTICATED)) {
		int sts = sts_hop_tls(m, d, hop, err);

		if (sts > 0)
			hop->conn.dane = NULL;
		if (sts != 0)
			rc = sts;
	}
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	hop->conn.tls = SUBMIT_HOP_TLS_MAY;
	str_copy(hop->tls_why, sizeof hop->tls_why,
	         "opportunistic: STARTTLS when offered, the certificate not "
	         "checked");
	return 0;
}

/* --- sending --- */

/* Whether a failure on one hop lets the next be tried: not after the
 * final dot went out (the server may have the message), not after a
 * signal, not after a refusal (5xx: the domain's word). */
static bool
may_go_on(const struct error *err, const struct submit_outcome *out)
{
	if (interrupt_signal() != 0 || out->delivered || out->dot_sent)
		return false;
	return err->kind == ERROR_TEMPFAIL || err->kind == ERROR_PROTOCOL;
}

/* An opportunistic hop whose TLS handshake (or what follows STARTTLS)
 * failed, before any of the message went: once more in the clear. */
static bool
tls_failed(const struct error *err, const struct submit_outcome *out)
{
	return out->in_step && out->failed_step == SMTP_STEP_TLS &&
	       !out->delivered && !out->dot_sent && interrupt_signal() == 0 &&
	       (err->kind == ERROR_PROTOCOL || err->kind == ERROR_TEMPFAIL);
}

static bool
tls_again_plain(const struct mxroute_hop *h, const struct error *err,
                const struct submit_outcome *out)
{
	return h->conn.tls == SUBMIT_HOP_TLS_MAY && tls_failed(err, out);
}

/* The hop as without an MTA-STS policy, after testing mode's verified
 * TLS failed: opportunistic, or, where the host has secure TLSA records
 * none usable, DANE's TLS required with any certificate (RFC 7672 2.2),
 * never less. */
static void
sts_testing_fallback(struct mxroute_hop *h)
{
	if (mxdane_requires_tls(&h->dane)) {
		h->conn.tls = SUBMIT_HOP_TLS_ENCRYPT;
		h->conn.dane = mxdane_tls(&h->dane);
		str_copy(h->tls_why, sizeof h->tls_why,
		         "DANE: STARTTLS required, any certificate (TLSA "
		         "records, none usable), after MTA-STS testing's "
		         "failure");
		return;
	}
	h->conn.tls = SUBMIT_HOP_TLS_MAY;
	str_copy(h->tls_why, sizeof h->tls_why,
	         "opportunistic after MTA-STS testing's failure");
}

/* The words for a hop in the transcript: where it came from. */
static void
hop_words(const struct mxroute_hop *h, char *out, size_t n)
{
	switch (h->source) {
	case MXROUTE_FROM_MX:
		snprintf(out, n, "MX %s [%s] (preference %u)", h->name,
		         h->address, h->pref);
		break;
	case MXROUTE_FROM_IMPLICIT:
		snprintf(out, n, "host %s [%s] (implicit MX: no MX records)",
		         h->name, h->address);
		break;
	case MXROUTE_FROM_LITERAL:
		snprintf(out, n, "address literal %s", h->name);
		break;
	}
}

/* A DANE host that failed before the transaction (no STARTTLS, a
 * handshake or certificate refused) failed for now (RFC 7672 2.2): the
 * next MX, then the queue, never a session without TLS. */
static void
dane_failed(const struct mxroute_hop *h, const struct submit_outcome *out,
            struct error *err)
{
	if (!out->in_step || out->failed_step > SMTP_STEP_TLS ||
	    err->kind == ERROR_TEMPFAIL)
		return;
	err->kind = ERROR_TEMPFAIL;
	error_prefix(err, "DANE host %s: ", h->name);
}

/* One hop: the session, the message; the account's view names the MX
 * host. */
static int
try_hop(struct mxroute *m, const struct submission *sub, struct mxroute_hop *h,
        struct submit_outcome *out, struct error *err)
{
	struct account view = *m->account;
	struct submission s = *sub;
	char words[DNS_NAME_MAX + 96];

	view.host = h->name;
	h->conn.address = h->address;
	s.account = &view;
	s.hop = &h->conn;
	hop_words(h, words, sizeof words);
	transcript_note(m->transcript, "%s: %s", words, h->tls_why);
	if (submit_send(&s, out, err) == 0)
		return 0;
	if (h->conn.dane)
		dane_failed(h, out, err);
	return -1;
}

/* The same hop once more, as h->conn now says, the message rewound:
 * *rc the attempt's; -1 when the message cannot be rewound (err). */
static int
retry_hop(struct mxroute *m, const struct submission *sub,
          struct mxroute_hop *h, struct submit_outcome *out, struct error *err,
          int *rc)
{
	if (sub->message.rewind &&
	    sub->message.rewind(sub->message.ctx, err) < 0) {
		*rc = -1;
		return -1;
	}
	error_clear(err);
	*rc = try_hop(m, sub, h, out, err);
	return 0;
}

/* The route of one domain, walked: 0 delivered (to every recipient of
 * sub's envelope, or to some under rcpt_policy any: out says), -1 with
 * err. */
static int
send_domain(struct mxroute *m, const struct submission *sub, bool rewind,
            struct submit_outcome *out, struct error *err)
{
	struct mxroute_domain *d = xcalloc(1, sizeof *d);
	const char *domain = strrchr(sub->env->rcpts[0].addr, '@') + 1;
	int timeout_s = m->account->failover_timeout > 0
	                    ? m->account->failover_timeout
	                    : CONF_FAILOVER_TIMEOUT;
	struct error first;
	size_t tried = 0;
	int64_t start;
	int rc = -1;

	error_clear(&first);
	memset(out, 0, sizeof *out);
	out->before_mail = true;
	if (mxroute_domain(m, domain, d, err) < 0)
		goto done;
	start = now_ms();
	for (size_t i = 0; i < d->nhops; i++) {
		struct mxroute_hop *h = &d->hops[i];

		h->port = submit_port(m->account);
		if (i > 0 && now_ms() - start >= (int64_t)timeout_s * 1000) {
			transcript_note(m->transcript,
			                "%d s spent on %s: no further MX is "
			                "tried",
			                timeout_s, d->domain);
			break;
		}
		if (mxroute_hop_tls(m, d, h, err) < 0) {
			transcript_note(m->transcript, "%s [%s] not used: %s",
			                h->name, h->address, err->msg);
			if (first.kind == ERROR_NONE)
				first = *err;
			continue;
		}
		if ((rewind || i > 0) && sub->message.rewind &&
		    sub->message.rewind(sub->message.ctx, err) < 0)
			goto done;
		rewind = true;
		tried++;
		rc = try_hop(m, sub, h, out, err);
		if (rc < 0 && h->sts_testing && tls_failed(err, out)) {
			/* RFC 8461 5: testing reports, never refuses. */
			transcript_problem(
			    m->transcript,
			    "MTA-STS testing: TLS verified for %s failed (%s); "
			    "enforce would refuse it: tried again without the "
			    "policy",
			    h->name, err->msg);
			h->sts_testing = false;
			sts_testing_fallback(h);
			if (retry_hop(m, sub, h, out, err, &rc) < 0)
				goto done;
		}
		if (rc < 0 && tls_again_plain(h, err, out)) {
			transcript_note(
			    m->transcript,
			    "TLS with %s failed (%s): once more in the "
			    "clear, as opportunistic TLS allows",
			    h->name, err->msg);
			h->conn.tls = SUBMIT_HOP_TLS_PLAIN;
			str_copy(h->tls_why, sizeof h->tls_why,
			         "in the clear after a failed TLS handshake");
			if (retry_hop(m, sub, h, out, err, &rc) < 0)
				goto done;
		}
		if (rc == 0 || !may_go_on(err, out))
			goto done;
		if (first.kind == ERROR_NONE)
			first = *err;
	}
	/* Every hop failed for now (or was not used): the best MX's
	 * failure is the one its administrator will want to hear of. */
	if (first.kind == ERROR_NONE)
		first = *err;
	error_set(err, ERROR_TEMPFAIL,
	          "no MX host of %s took the message now (%zu of %zu "
	          "tried); the first: %s",
	          d->domain, tried, d->nhops, first.msg);
	error_copy_reply(err, &first);
done:
	mxroute_domain_clear(d);
	free(d);
	return rc;
}

/* The domain part of an address: after its last '@'; NULL when it has
 * none. */
static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at && at[1] ? at + 1 : NULL;
}

/* Each recipient's domain as a key that is the same for the same
 * domain: A-labels, lower case ("Example.ORG", "example.org" and a
 * U-label's A-label are one); the text itself, lower case, when it is
 * not a name IDNA takes (its route will say why).  NULL: no domain. */
static char **
domain_keys(const struct envelope *env)
{
	char **keys = xcalloc(env->nrcpts ? env->nrcpts : 1, sizeof *keys);
	struct error ignored;

	for (size_t i = 0; i < env->nrcpts; i++) {
		const char *d = domain_of(env->rcpts[i].addr);

		if (!d)
			continue;
		if (d[0] == '[' ||
		    address_host_to_ascii(d, &keys[i], &ignored) < 0)
			keys[i] = xstrdup(d);
		for (char *p = keys[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return keys;
}

static void
domain_keys_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* How many domains: each a transaction. */
static size_t
count_domains(char **keys, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i &&
		       !(keys[j] && keys[i] && strcmp(keys[i], keys[j]) == 0))
			j++;
		count += j == i;
	}
	return count;
}

/* The recipients whose domain key is recipient `first`'s into part, a
 * new envelope with the message's sender, DSN and priority; idx[] their
 * indexes in env. */
static size_t
domain_part(const struct envelope *env, char **keys, size_t first,
            struct envelope *part, size_t *idx)
{
	size_t n = 0;

	envelope_init(part);
	envelope_set_sender(part, env->sender);
	envelope_set_dsn(part, env->dsn.notify, env->dsn.ret, env->dsn.envid);
	part->priority = env->priority;
	for (size_t i = first; i < env->nrcpts; i++) {
		if (!keys[i] || strcmp(keys[i], keys[first]) != 0)
			continue;
		envelope_add_rcpt(part, env->rcpts[i].addr);
		idx[n++] = i;
	}
	return n;
}

/* The verdicts of a domain's transaction back into the message's
 * envelope; a recipient it left without one (a failure of the whole
 * transaction, or before it) gets the failure's kind and reason. */
static void
take_verdicts(struct envelope *env, const struct envelope *part,
              const size_t *idx, int rc, const struct error *why)
{
	for (size_t k = 0; k < part->nrcpts; k++) {
		const struct envelope_rcpt *r = &part->rcpts[k];
		enum envelope_state st = r->state;

		if (st != ENVELOPE_PENDING || rc == 0) {
			envelope_rcpt_set(env, idx[k], st, r->code, r->reply);
			continue;
		}
		st = why->kind == ERROR_TEMPFAIL ? ENVELOPE_REFUSED_TEMP
		                                 : ENVELOPE_REFUSED_PERM;
		if (why->smtp_code)
			envelope_rcpt_set(env, idx[k], st, why->smtp_code,
			                  why->smtp_reply);
		else /* no server said it: the reason is the domain's */
			envelope_rcpt_set(env, idx[k], st, 0, why->msg);
	}
}

/* What the message's transactions came to, gathered as they end. */
struct tally {
	size_t ndomains, nfailed;
	bool delivered, all_before_mail;
	enum error_kind worst; /* of the failures */
	struct error first;    /* the first failure, its reply */
	char failures[ERROR_MSG_MAX];
	size_t used;
};

static void
tally_add(struct tally *t, const char *domain, int rc,
          const struct submit_outcome *o, const struct error *e,
          struct submit_outcome *out)
{
	t->ndomains++;
	if (o->delivered) {
		t->delivered = true;
		out->delivered = true;
		out->final_code = o->final_code;
		str_copy(out->final_reply, sizeof out->final_reply,
		         o->final_reply);
	}
	out->dsn_unoffered |= o->dsn_unoffered;
	if (o->host[0])
		str_copy(out->host, sizeof out->host, o->host);
	if (rc == 0)
		return;
	if (t->nfailed++ == 0) {
		t->first = *e;
		out->in_step = o->in_step;
		out->failed_step = o->failed_step;
	}
	out->dot_sent |= o->dot_sent && !o->delivered;
	t->all_before_mail = t->all_before_mail && o->before_mail;
	t->worst = error_worse(t->worst, e->kind);
	if (t->used < sizeof t->failures)
		t->used += (size_t)snprintf(
		    t->failures + t->used, sizeof t->failures - t->used,
		    "%s%s%s%s", t->used ? "; " : "",
		    t->ndomains > 1 || !strstr(e->msg, domain) ? domain : "",
		    t->ndomains > 1 || !strstr(e->msg, domain) ? ": " : "",
		    e->msg);
}

/* The message's one failure from the tally: its kind the worst of the
 * domains' (fate.h's `split` keeps the recipients of a domain that
 * failed for now apart from one refused for good). */
static int
tally_error(const struct tally *t, struct submit_outcome *out,
            struct error *err)
{
	out->before_mail = !t->delivered && t->all_before_mail;
	if (t->ndomains == 1) {
		*err = t->first;
		return -1;
	}
	error_set(err, t->worst,
	          "%s%zu of %zu recipient domains did not get it: %s",
	          t->delivered ? "delivered in part: " : "", t->nfailed,
	          t->ndomains, t->failures);
	error_copy_reply(err, &t->first);
	return -1;
}

/* A recipient no transaction can be made for: it has no domain. */
static void
no_domain(struct tally *t, struct envelope *env, size_t i,
          struct submit_outcome *out)
{
	struct submit_outcome o = {.before_mail = true};
	struct error e;

	error_set(&e, ERROR_DATA, "%s has no domain to deliver to",
	          env->rcpts[i].addr);
	envelope_rcpt_set(env, i, ENVELOPE_REFUSED_PERM, 0, e.msg);
	tally_add(t, env->rcpts[i].addr, -1, &o, &e, out);
}

int
mxroute_send(struct mxroute *m, const struct submission *sub,
             struct submit_outcome *out, struct error *err)
{
	struct envelope *env = sub->env;
	struct tally t = {.all_before_mail = true, .worst = ERROR_NONE};
	char **keys = domain_keys(env);
	bool *done = xcalloc(env->nrcpts ? env->nrcpts : 1, sizeof *done);
	size_t *idx = xcalloc(env->nrcpts ? env->nrcpts : 1, sizeof *idx);
	struct submit_report own;
	size_t ndomains = count_domains(keys, env->nrcpts);
	int rc;

	memset(out, 0, sizeof *out);
	memset(&own, 0, sizeof own);
	error_clear(&t.first);
	envelope_rcpt_reset(env);
	if (ndomains > MXROUTE_DOMAINS_MAX) {
		out->before_mail = true;
		rc = error_set(err, ERROR_DATA,
		               "%zu recipient domains, more than the %d one "
		               "message may go to directly: send it in parts",
		               ndomains, MXROUTE_DOMAINS_MAX);
		goto out;
	}
	for (size_t i = 0; i < env->nrcpts; i++) {
		struct submission s = *sub;
		struct submit_outcome o;
		struct envelope part;
		struct error e;
		size_t n;

		if (done[i])
			continue;
		if (!keys[i]) {
			no_domain(&t, env, i, out);
			continue;
		}
		error_clear(&e);
		memset(&o, 0, sizeof o);
		n = domain_part(env, keys, i, &part, idx);
		for (size_t k = 0; k < n; k++)
			done[idx[k]] = true;
		s.env = &part;
		if (!s.report)
			s.report = &own; /* the step a failure happened in */
		if (interrupt_signal() != 0) { /* its turn did not come */
			o.before_mail = true;
			rc = error_set(&e, ERROR_TEMPFAIL,
			               "not tried: interrupted");
		} else
			rc = send_domain(m, &s, t.ndomains > 0, &o, &e);
		take_verdicts(env, &part, idx, rc, &e);
		tally_add(&t, keys[i], rc, &o, &e, out);
		envelope_clear(&part);
	}
	rc = t.nfailed == 0 ? 0 : tally_error(&t, out, err);
out:
	submit_report_clear(&own);
	domain_keys_free(keys, env->nrcpts);
	free(done);
	free(idx);
	return rc;
}
