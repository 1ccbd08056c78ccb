/*
 * configure.c - --configure ADDRESS (see configure.h): the server found
 * by SRV records or an autoconfig document, probed, and printed as an
 * account with the provenance of each value.
 *
 * Everything printed that came from the network is checked or censored
 * first: SRV targets and a document's host names are host names
 * (dns.h, autoconfig.h), a document's user name has no white space,
 * quote or control byte, and the provider's name, the certificate's
 * anchor and error messages are censored.
 */
#include "config.h"

#include "configure.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "autoconfig.h"
#include "dns.h"
#include "encode.h"
#include "https.h"
#include "override.h"
#include "submit.h"
#include "tls.h"
#include "util.h"

/* Where a server came from. */
enum origin { FROM_SRV, FROM_DOCUMENT };

struct candidate {
	enum origin from;
	char host[DNS_NAME_MAX + 1];
	int port;
	bool implicit;              /* TLS from the first byte; else STARTTLS */
	char source[HTTPS_URL_MAX]; /* the SRV record's name, or the URL */
	/* FROM_SRV */
	unsigned priority, weight;
	enum dns_security security;
	/* FROM_DOCUMENT */
	char user[AUTOCONFIG_TEXT_MAX + 1]; /* "" when the document has none */
	enum autoconfig_auth auth;
	char auth_text[32];
	char provider[AUTOCONFIG_NAME_MAX + 1];
};

struct finder {
	struct job *job;
	const struct account *settings;
	FILE *diag;
	struct dns *dns;     /* NULL: this build has no resolver library; the
	                      * system's resolves (libcurl, conn.c) */
	const char *address; /* as given */
	char *domain;        /* A-labels, lower case */
	struct candidate c[CONFIGURE_CANDIDATES_MAX];
	size_t n;
	bool domain_unknown; /* the domain itself answered NXDOMAIN */
	bool only_plain;     /* a document offered only plain text */
};

/* One line on diag: what was looked for and not found, and why. */
static void note(const struct finder *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(const struct finder *f, const char *fmt, ...)
{
	char line[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(f->diag, "mailpost: %s\n", str_censor_utf8(line, strlen(line)));
}

static struct candidate *
add_candidate(struct finder *f, enum origin from, const char *host, int port,
              bool implicit, const char *source)
{
	struct candidate *c;

	if (f->n == CONFIGURE_CANDIDATES_MAX)
		return NULL;
	c = &f->c[f->n++];
	memset(c, 0, sizeof *c);
	c->from = from;
	str_copy(c->host, sizeof c->host, host);
	c->port = port;
	c->implicit = implicit;
	str_copy(c->source, sizeof c->source, source);
	return c;
}

/* --- SRV records (RFC 6186) --- */

/* RFC 2782: the lowest priority first; among equals the highest weight
 * first (a person configures one server: the one most traffic is meant
 * for, not a random draw), then by name for a stable order. */
static int
srv_order(const void *pa, const void *pb)
{
	const struct dns_srv *a = pa, *b = pb;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	return strcmp(a->target, b->target);
}

/* The records of SERVICE._tcp.DOMAIN as candidates: 0 when none was
 * added. */
static size_t
find_srv(struct finder *f, const char *service, bool implicit)
{
	char name[DNS_NAME_MAX + 1];
	struct dns_answer a = {0};
	struct error err;
	size_t added = 0;

	if (snprintf(name, sizeof name, "%s._tcp.%s", service, f->domain) >=
	    (int)sizeof name)
		return 0;
	error_clear(&err);
	if (dns_srv(f->dns, name, &a, &err) < 0) {
		note(f, "%s: no SRV answer (%s)", name, err.msg);
		return 0;
	}
	if (a.security == DNS_BOGUS)
		note(f,
		     "%s: the SRV answer failed DNSSEC validation (%s): not "
		     "used",
		     name, a.why_bogus);
	else if (a.status != DNS_FOUND || a.n == 0)
		note(f, "%s: no SRV record", name);
	else
		qsort(a.srv, a.n, sizeof *a.srv, srv_order);
	for (size_t i = 0; a.security != DNS_BOGUS && i < a.n; i++) {
		const struct dns_srv *r = &a.srv[i];
		struct candidate *c;

		/* RFC 6186 3: "." says the service is not offered. */
		if (r->target[0] == '\0') {
			note(f,
			     "%s: the SRV record says the service is not "
			     "offered (target \".\")",
			     name);
			continue;
		}
		if (r->port == 0) {
			note(f, "%s: the SRV record for %s names port 0, "
			        "which no server listens on; skipped",
			     name, r->target);
			continue;
		}
		c = add_candidate(f, FROM_SRV, r->target, (int)r->port,
		                  implicit, name);
		if (!c)
			break;
		c->priority = r->priority;
		c->weight = r->weight;
		c->security = a.security;
		added++;
	}
	dns_answer_clear(&a);
	return added;
}

/* --- autoconfig documents --- */

/* The first address of host (through the configuration's resolver) in
 * out[0..n), or false with why noted.  Without a resolver library, ""
 * and true: the system's resolver finds it when connecting. */
static bool
resolve(struct finder *f, const char *host, char *out, size_t n)
{
	struct dns_answer a = {0};
	struct error err;
	bool ok = false;

	out[0] = '\0';
	if (!f->dns)
		return true;
	error_clear(&err);
	if (dns_addrs(f->dns, host, &a, &err) < 0) {
		note(f, "%s: no address (%s)", host, err.msg);
		return false;
	}
	if (a.security == DNS_BOGUS) {
		note(f,
		     "%s: the address answer failed DNSSEC validation "
		     "(%s): not used",
		     host, a.why_bogus);
	} else if (a.status == DNS_NXDOMAIN) {
		note(f, "%s: no such host (NXDOMAIN)", host);
		if (strcmp(host, f->domain) == 0)
			f->domain_unknown = true;
	} else if (a.status != DNS_FOUND || a.n == 0) {
		note(f, "%s: no address record", host);
	} else {
		str_copy(out, n, a.addr[0].text);
		ok = true;
	}
	dns_answer_clear(&a);
	return ok;
}

/* The trust store for HTTPS: the account's tls_trust_file, where
 * "system" (or none) is the system's. */
static const char *
https_trust(const struct account *a)
{
	if (!a->tls_trust_file || strcmp(a->tls_trust_file, "system") == 0)
		return NULL;
	return a->tls_trust_file;
}

/* https://HOST[:PORT]PATH[?emailaddress=ADDRESS] into url[0..n). */
static bool
document_url(const struct finder *f, const char *host, const char *path,
             bool query, char *url, size_t n)
{
	char port[16] = "";
	char *encoded = xmalloc(3 * strlen(f->address) + 1);
	int len;

	encoded[url_encode(encoded, f->address)] = '\0';
	if (https_port() != 443)
		snprintf(port, sizeof port, ":%d", https_port());
	len = snprintf(url, n, "https://%s%s%s%s%s", host, port, path,
	               query ? "?emailaddress=" : "", query ? encoded : "");
	free(encoded);
	return len > 0 && (size_t)len < n;
}

static void
add_servers(struct finder *f, const struct autoconfig_doc *d, const char *url)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct autoconfig_server *s = &d->servers[i];
		struct candidate *c =
		    add_candidate(f, FROM_DOCUMENT, s->host, s->port,
		                  s->socket == AUTOCONFIG_SOCKET_SSL, url);

		if (!c)
			return;
		str_copy(c->user, sizeof c->user, s->user);
		c->auth = s->auth;
		str_copy(c->auth_text, sizeof c->auth_text, s->auth_text);
		str_copy(c->provider, sizeof c->provider, d->name);
	}
}

/* Why a document gave no server, in words. */
static void
note_empty(struct finder *f, const struct autoconfig_doc *d, const char *url)
{
	if (d->plain && !d->unusable) {
		f->only_plain = true;
		note(f,
		     "%s: offers only servers without TLS (socketType "
		     "plain), which mailpost does not recommend",
		     url);
	} else if (d->unusable) {
		note(f,
		     "%s: no usable SMTP server (%zu left out, the first "
		     "for %s)",
		     url, d->unusable, d->why_unusable);
	} else {
		note(f, "%s: names no SMTP server", url);
	}
}

/* The document at PREFIX DOMAIN PATH, read into candidates: 0 when
 * none. */
static size_t
find_document(struct finder *f, const char *prefix, const char *path,
              bool query)
{
	char url[HTTPS_URL_MAX], addr[sizeof((struct dns_addr *)0)->text];
	char host[DNS_NAME_MAX + 1];
	struct https_request r = {0};
	struct https_response res = {0};
	struct autoconfig_doc *d;
	struct error err;
	size_t before = f->n;

	if (snprintf(host, sizeof host, "%s%s", prefix, f->domain) >=
	    (int)sizeof host) {
		note(f, "%s%s: the name is too long", prefix, f->domain);
		return 0;
	}
	if (!document_url(f, host, path, query, url, sizeof url)) {
		note(f, "https://%s%s: the address is too long", host, path);
		return 0;
	}
	if (!resolve(f, host, addr, sizeof addr))
		return 0;
	r.url = url;
	r.get = true;
	r.connect_addr = addr[0] ? addr : NULL;
	r.trust_file = https_trust(f->settings);
	r.timeout_s = f->settings->timeout > 0 ? f->settings->timeout : 0;
	r.max_body = AUTOCONFIG_BODY_MAX;
	r.private_names = f->settings->hidden;
	error_clear(&err);
	if (https_get(&r, &res, &err) < 0) {
		note(f, "%s: %s", url, err.msg);
		return 0;
	}
	d = xmalloc(sizeof *d);
	if (res.status != 200)
		note(f, "%s: HTTP status %ld", url, res.status);
	else if (autoconfig_parse(res.body, res.len, f->address, d, &err) < 0)
		note(f, "%s: %s", url, err.msg);
	else if (d->n == 0)
		note_empty(f, d, url);
	else
		add_servers(f, d, url);
	free(d);
	https_response_clear(&res);
	return f->n - before;
}

/* --- the probe --- */

/* The account a send would use for candidate c, as the probe connects:
 * to addr (when the resolver found one) with c's host the name TLS
 * verifies, with the settings' trust, timeout and EHLO name. */
static void
probe_account(const struct finder *f, const struct candidate *c,
              const char *addr, struct account *a)
{
	const struct account *s = f->settings;

	account_defaults(a);
	a->name = xstrdup("--configure");
	a->host = xstrdup(addr[0] ? addr : c->host);
	if (addr[0])
		a->tls_host_override = xstrdup(c->host);
	a->port = c->port;
	a->tls = true;
	a->tls_starttls = !c->implicit;
	a->tls_session_cache = false; /* nothing kept of a trial */
	a->tls_trust_file =
	    s->tls_trust_file ? xstrdup(s->tls_trust_file) : NULL;
	a->tls_crl_file = s->tls_crl_file ? xstrdup(s->tls_crl_file) : NULL;
	a->tls_priorities =
	    s->tls_priorities ? xstrdup(s->tls_priorities) : NULL;
	a->domain = s->domain ? xstrdup(s->domain) : NULL;
	a->source_ip = s->source_ip ? xstrdup(s->source_ip) : NULL;
	a->timeout = s->timeout;
	a->hidden = s->hidden;
}

struct probed {
	struct submit_probe p;
	char addr[sizeof((struct dns_addr *)0)->text];
	int rc;
	struct error err;
};

static void
probe(struct finder *f, const struct candidate *c, struct probed *out)
{
	struct account a;

	submit_probe_init(&out->p);
	error_clear(&out->err);
	if (!resolve(f, c->host, out->addr, sizeof out->addr)) {
		out->rc = error_set(&out->err, ERROR_TEMPFAIL,
		                    "%s has no usable address", c->host);
		return;
	}
	probe_account(f, c, out->addr, &a);
	out->rc = submit_probe(&a, f->job->transcript, &out->p, &out->err);
	account_clear(&a);
}

/* The AUTH mechanisms the probe saw where the account will use them:
 * inside TLS. */
static const char *
offered_auth(const struct probed *pr)
{
	const struct smtp_heard *h = &pr->p.heard;

	if (pr->rc < 0)
		return NULL;
	return h->implicit_tls ? h->caps[0].auth : h->caps[1].auth;
}

/* --- the account --- */

static bool
outside_domain(const struct finder *f, const char *host)
{
	size_t n = strlen(host), d = strlen(f->domain);

	if (strcmp(host, f->domain) == 0)
		return false;
	return !(n > d && host[n - d - 1] == '.' &&
	         strcmp(host + n - d, f->domain) == 0);
}

static void
print_found(FILE *out, const struct finder *f, const struct candidate *c)
{
	if (c->from == FROM_SRV) {
		fprintf(out,
		        "# Found: the SRV record %s (RFC 6186), priority %u, "
		        "weight %u; the answer %s\n",
		        c->source, c->priority, c->weight,
		        c->security == DNS_SECURE ? "DNSSEC-validated"
		                                  : "not DNSSEC-validated");
		if (c->security != DNS_SECURE && outside_domain(f, c->host))
			fprintf(out,
			        "# WARNING: the SRV answer names a server "
			        "outside %s and was not DNSSEC-validated (RFC "
			        "6186 6): whoever answered the DNS query chose "
			        "it; make sure %s is your provider's\n",
			        f->domain, c->host);
		return;
	}
	fprintf(out, "# Found: the autoconfig document %s%s%s%s\n", c->source,
	        c->provider[0] ? " (\"" : "", c->provider,
	        c->provider[0] ? "\")" : "");
}

/* "TLS1.3, certificate verified (chain to X)", or why not. */
static void
tls_words(const struct probed *pr, char *out, size_t n)
{
	const struct tls_info *i = &pr->p.tls;
	char anchor[sizeof i->anchor];

	str_copy(anchor, sizeof anchor, i->anchor);
	str_censor_utf8(anchor, strlen(anchor));
	if (!pr->p.heard.tls_done)
		snprintf(out, n, "no TLS session");
	else if (i->verified && anchor[0])
		snprintf(out, n, "%s, certificate verified (chain to %s)",
		         i->version, anchor);
	else
		snprintf(out, n, "%s, certificate %s", i->version,
		         i->verified ? "verified" : "NOT verified");
}

static void
print_probe(FILE *out, const struct finder *f, const struct candidate *c,
            const struct probed *pr)
{
	char tls[512];
	const char *auth = offered_auth(pr);

	if (pr->rc < 0) {
		char why[ERROR_MSG_MAX];

		str_copy(why, sizeof why, pr->err.msg);
		fprintf(out,
		        "# WARNING: the probe of %s port %d failed: %s\n"
		        "# Nothing below is confirmed: check the server before "
		        "you use it (mailpost -A %s --serverinfo).\n",
		        c->host, c->port, str_censor_utf8(why, strlen(why)),
		        f->domain);
		return;
	}
	tls_words(pr, tls, sizeof tls);
	fprintf(out, "# Probed: %s port %d at %s: %s; AUTH %s\n", c->host,
	        c->port, pr->p.heard.peer[0] ? pr->p.heard.peer : pr->addr, tls,
	        auth && *auth ? auth : "not offered");
}

/* The value of `auth` and why, from the document's authentication, else
 * from what the probe saw offered. */
static void
choose_auth(const struct candidate *c, const struct probed *pr,
            const char **value, char *why, size_t n)
{
	const char *offered = offered_auth(pr);
	char seen[300];

	if (offered && *offered)
		snprintf(seen, sizeof seen, "the probe: the server offers %s",
		         offered);
	else if (offered)
		snprintf(seen, sizeof seen,
		         "the probe: the server offers no AUTH");
	else
		snprintf(seen, sizeof seen, "the probe did not see AUTH");
	*value = "on";
	switch (c->auth) {
	case AUTOCONFIG_AUTH_CLEARTEXT:
	case AUTOCONFIG_AUTH_ENCRYPTED:
		snprintf(why, n,
		         "the document says %s (mailpost takes the strongest "
		         "mechanism offered); %s",
		         c->auth_text, seen);
		return;
	case AUTOCONFIG_AUTH_OAUTH2:
		snprintf(why, n,
		         "the document says OAuth2: add oauth2_provider and "
		         "oauth2_client_id (mailpost.conf(5), OAUTH2), or use "
		         "a password where the provider takes one; %s",
		         seen);
		return;
	case AUTOCONFIG_AUTH_CLIENT_CERT:
		*value = "external";
		snprintf(why, n,
		         "the document says TLS-client-cert: add tls_cert_file "
		         "and tls_key_file; %s",
		         seen);
		return;
	case AUTOCONFIG_AUTH_GSSAPI:
		*value = "gssapi";
		break;
	case AUTOCONFIG_AUTH_NTLM:
		*value = "ntlm";
		break;
	case AUTOCONFIG_AUTH_NONE:
		*value = "off";
		break;
	case AUTOCONFIG_AUTH_NONE_GIVEN:
		if (offered && !*offered)
			*value = "off";
		snprintf(why, n, "%s", seen);
		return;
	}
	snprintf(why, n, "the document says %s; %s", c->auth_text, seen);
}

static void
print_account(FILE *out, const struct finder *f, const struct candidate *c,
              const struct probed *pr)
{
	char why[600];
	const char *auth;

	fprintf(out, "# mailpost --configure %s: an account for %s\n",
	        f->address, f->domain);
	print_found(out, f, c);
	print_probe(out, f, c, pr);
	fprintf(out, "# Put it in your configuration file (mailpost(1), FILES) "
	             "and add the password\n"
	             "# (passwordeval COMMAND, or password in a file only you "
	             "can read).\n");
	fprintf(out, "account %s\n", f->domain);
	fprintf(out, "# host: %s\nhost %s\n",
	        c->from == FROM_SRV ? "the SRV record's target"
	                            : "the document's hostname",
	        c->host);
	fprintf(out, "# port: %s\nport %d\n",
	        c->from == FROM_SRV ? "the SRV record's port"
	                            : "the document's port",
	        c->port);
	if (c->implicit)
		fprintf(out, "# tls: %s: TLS from the first byte (RFC 8314)\n",
		        c->from == FROM_SRV ? "_submissions"
		                            : "the document's socketType SSL");
	else
		fprintf(out, "# tls: %s: STARTTLS, required (RFC 3207)\n",
		        c->from == FROM_SRV
		            ? "_submission"
		            : "the document's socketType STARTTLS");
	fprintf(out, "tls on\ntls_starttls %s\n", c->implicit ? "off" : "on");
	choose_auth(c, pr, &auth, why, sizeof why);
	fprintf(out, "# auth: %s\nauth %s\n", why, auth);
	if (c->user[0])
		fprintf(out, "# user: the document's username\nuser %s\n",
		        c->user);
	else
		fprintf(out,
		        "# user: the address (%s names no login name; your "
		        "provider's may differ)\nuser %s\n",
		        c->from == FROM_SRV ? "a SRV record" : "the document",
		        f->address);
	fprintf(out, "# from: the address given\nfrom %s\n", f->address);
}

/* --- the run --- */

/* The domain of the address, lower case, in A-labels. */
static int
address_domain_ascii(const char *address, char **out, struct error *err)
{
	const char *at = strrchr(address, '@');

	if (address_host_to_ascii(at + 1, out, err) < 0) {
		err->kind = ERROR_USAGE;
		return -1;
	}
	for (char *p = *out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

/* The settings: the defaults section of the file (if any), the one-off
 * settings of the command line over them, into job->acct. */
static int
load_settings(struct job *job, struct error *err)
{
	if (job->cfg)
		conf_select_defaults(job->cfg, &job->acct);
	else
		account_defaults(&job->acct);
	return override_account(&job->req, &job->acct, err);
}

static int
open_resolver(struct finder *f, struct error *err)
{
	struct dns_options o = {0};
	struct error why;

	o.servers = f->settings->dns_server;
	o.trust_anchor = f->settings->dnssec_trust_anchor;
	o.timeout_ms =
	    f->settings->timeout > 0
	        ? (f->settings->timeout > 60 ? 60000
	                                     : f->settings->timeout * 1000)
	        : 0;
	o.transcript = f->job->transcript;
	error_clear(&why);
	if (dns_open(&f->dns, &o, &why) == 0)
		return 0;
	if (why.kind != ERROR_UNAVAILABLE) {
		*err = why;
		return -1;
	}
	/* No resolver library: no SRV look-up; the documents' hosts and
	 * the server are resolved by the system's resolver. */
	note(f, "%s; SRV records are not looked up", why.msg);
	f->dns = NULL;
	return 0;
}

static void
find(struct finder *f)
{
	if (f->dns && find_srv(f, "_submissions", true) == 0)
		find_srv(f, "_submission", false);
	if (f->n > 0)
		return;
	if (find_document(f, "autoconfig.", "/mail/config-v1.1.xml", true) > 0)
		return;
	find_document(f, "", "/.well-known/autoconfig/mail/config-v1.1.xml",
	              false);
}

static int
nothing_found(const struct finder *f, struct error *err)
{
	if (f->domain_unknown)
		return error_set(err, ERROR_NOHOST,
		                 "%s does not exist (NXDOMAIN): check the "
		                 "address's domain",
		                 f->domain);
	if (f->only_plain)
		return error_set(err, ERROR_UNAVAILABLE,
		                 "%s's autoconfig document offers only servers "
		                 "without TLS, which mailpost does not "
		                 "recommend: a password sent to them is "
		                 "readable on the way; ask your provider for a "
		                 "server with TLS",
		                 f->domain);
	return error_set(
	    err, ERROR_UNAVAILABLE,
	    "no submission server found for %s: %s, no autoconfig document "
	    "(autoconfig.%s, %s/.well-known); ask your provider for the "
	    "server's name and write the account by hand (mailpost.conf(5))",
	    f->domain,
	    f->dns ? "no SRV record (_submissions._tcp, _submission._tcp)"
	           : "no SRV look-up",
	    f->domain, f->domain);
}

/* Probe the candidates in order until one goes well; print the account
 * of that one, or of the first when none did. */
static int
probe_and_print(struct finder *f, FILE *out, struct error *err)
{
	struct probed *pr = xcalloc(CONFIGURE_PROBES_MAX, sizeof *pr);
	size_t tried = 0, chosen = 0;
	int rc = 0;

	while (tried < f->n && tried < CONFIGURE_PROBES_MAX) {
		probe(f, &f->c[tried], &pr[tried]);
		if (pr[tried++].rc == 0) {
			chosen = tried - 1;
			break;
		}
	}
	/* Each failure said once: the first one's, when none passed, is
	 * the run's error. */
	for (size_t i = pr[chosen].rc < 0 ? 1 : 0; i < tried; i++)
		if (pr[i].rc < 0)
			note(f, "%s port %d: the probe failed: %s",
			     f->c[i].host, f->c[i].port, pr[i].err.msg);
	print_account(out, f, &f->c[chosen], &pr[chosen]);
	if (pr[chosen].rc < 0)
		rc = error_set(err, ERROR_TEMPFAIL,
		               "the server found for %s did not pass the probe "
		               "(%s port %d: %s); the account printed is "
		               "unconfirmed",
		               f->domain, f->c[chosen].host, f->c[chosen].port,
		               pr[chosen].err.msg);
	for (size_t i = 0; i < tried; i++)
		submit_probe_clear(&pr[i].p);
	free(pr);
	if (fflush(out) != 0 || ferror(out))
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write to standard output");
	return rc;
}

int
configure_run(struct job *job, FILE *out, FILE *diag, struct error *err)
{
	struct finder f = {0};
	int rc;

	if (load_settings(job, err) < 0)
		return -1;
	f.job = job;
	f.settings = &job->acct;
	f.diag = diag;
	f.address = job->req.configure_address;
	if (address_domain_ascii(f.address, &f.domain, err) < 0)
		return -1;
	if (!job->transcript)
		job_open_transcript(job, diag, NULL);
	if (open_resolver(&f, err) < 0) {
		free(f.domain);
		return -1;
	}
	find(&f);
	rc = f.n ? probe_and_print(&f, out, err) : nothing_found(&f, err);
	dns_free(f.dns);
	free(f.domain);
	return rc;
}
