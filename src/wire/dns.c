/*
 * dns.c - look-ups through libunbound, loaded when the first resolver is
 * made (see dns.h).
 *
 * libunbound resolves in a thread of its own (ub_ctx_async); each
 * look-up here is asked asynchronously and waited for on its descriptor
 * through fd_wait, so that one deadline bounds the look-up, retries
 * included, and a signal cuts it as it cuts any other wait.  A look-up
 * still running at the deadline is cancelled.
 */
#include "config.h"

#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsrr.h"
#include "dynload.h"
#include "fdwait.h"
#include "interrupt.h"
#include "privilege.h"
#include "transcript.h"
#include "util.h"

/* Debian's copy of the root zone's key (package dns-root-data). */
#define DNS_ROOT_KEY "/usr/share/dns/root.key"
/* The longest servers string and one server in it ("ADDR@PORT"). */
#define DNS_SERVERS_MAX 1024
#define DNS_SERVER_MAX (INET6_ADDRSTRLEN + 6)
/* The longest name asked: "_65535._tcp." before a host name. */
#define DNS_QNAME_MAX (DNS_NAME_MAX + 16)

#define DNS_CLASS_IN 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

const char *
dns_security_name(enum dns_security s)
{
	switch (s) {
	case DNS_SECURE:
		return "secure";
	case DNS_BOGUS:
		return "bogus";
	case DNS_INSECURE:
		break;
	}
	return "insecure";
}

const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_NODATA:
		return "nodata";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_FOUND:
		break;
	}
	return "found";
}

void
dns_answer_clear(struct dns_answer *a)
{
	if (a->tlsa)
		for (size_t i = 0; i < a->n; i++)
			free(a->tlsa[i].data);
	if (a->txt)
		for (size_t i = 0; i < a->n; i++)
			free(a->txt[i]);
	free(a->mx);
	free(a->addr);
	free(a->tlsa);
	free(a->srv);
	free(a->txt);
	memset(a, 0, sizeof *a);
}

#ifdef HAVE_LIBUNBOUND
#include <unbound.h>

/* libunbound's functions, of the types its header gives them. */
static struct ub_api {
	__typeof__(ub_ctx_create) *ub_ctx_create;
	__typeof__(ub_ctx_delete) *ub_ctx_delete;
	__typeof__(ub_ctx_set_option) *ub_ctx_set_option;
	__typeof__(ub_ctx_set_fwd) *ub_ctx_set_fwd;
	__typeof__(ub_ctx_resolvconf) *ub_ctx_resolvconf;
	__typeof__(ub_ctx_add_ta_file) *ub_ctx_add_ta_file;
	__typeof__(ub_ctx_zone_remove) *ub_ctx_zone_remove;
	__typeof__(ub_ctx_debugout) *ub_ctx_debugout;
	__typeof__(ub_ctx_async) *ub_ctx_async;
	__typeof__(ub_fd) *ub_fd;
	__typeof__(ub_process) *ub_process;
	__typeof__(ub_resolve_async) *ub_resolve_async;
	__typeof__(ub_cancel) *ub_cancel;
	__typeof__(ub_resolve_free) *ub_resolve_free;
	__typeof__(ub_strerror) *ub_strerror;
} lib;

static const struct dynload_sym ub_syms[] = {
    DYNLOAD_SYM(struct ub_api, ub_ctx_create),
    DYNLOAD_SYM(struct ub_api, ub_ctx_delete),
    DYNLOAD_SYM(struct ub_api, ub_ctx_set_option),
    DYNLOAD_SYM(struct ub_api, ub_ctx_set_fwd),
    DYNLOAD_SYM(struct ub_api, ub_ctx_resolvconf),
    DYNLOAD_SYM(struct ub_api, ub_ctx_add_ta_file),
    DYNLOAD_SYM(struct ub_api, ub_ctx_zone_remove),
    DYNLOAD_SYM(struct ub_api, ub_ctx_debugout),
    DYNLOAD_SYM(struct ub_api, ub_ctx_async),
    DYNLOAD_SYM(struct ub_api, ub_fd),
    DYNLOAD_SYM(struct ub_api, ub_process),
    DYNLOAD_SYM(struct ub_api, ub_resolve_async),
    DYNLOAD_SYM(struct ub_api, ub_cancel),
    DYNLOAD_SYM(struct ub_api, ub_resolve_free),
    DYNLOAD_SYM(struct ub_api, ub_strerror),
};

/* configure finds UNBOUND_SONAME (libunbound.so.8). */
static struct dynload ub_lib = {
    .soname = UNBOUND_SONAME,
    .package = UNBOUND_PACKAGE,
    .feature = "for DNS look-ups (direct delivery, --configure)",
    .syms = ub_syms,
    .nsyms = sizeof ub_syms / sizeof *ub_syms,
    .table = &lib,
};

struct dns {
	struct ub_ctx *ctx;
	int timeout_ms;
	struct transcript *transcript;
	bool validating;
	/* The default anchor: the resolver's DNSSEC is checked once
	 * (root_checked) and validation dropped if it cannot serve it. */
	bool default_anchor;
	bool root_checked;
	char *servers; /* for making the context anew without an anchor */
	FILE *devnull; /* where libunbound's own log goes (see make_ctx) */
};

/* One look-up in flight. */
struct query {
	char name[DNS_QNAME_MAX + 1];
	int type;
	int id;
	bool done;
	int err; /* libunbound's error (0: result set) */
	struct ub_result *result;
};

static void
answered(void *arg, int err, struct ub_result *result)
{
	struct query *q = arg;

	q->done = true;
	q->err = err;
	q->result = result;
}

static const char *
type_name(int type)
{
	switch (type) {
	case DNSRR_A:
		return "A";
	case DNSRR_AAAA:
		return "AAAA";
	case DNSRR_MX:
		return "MX";
	case DNSRR_TXT:
		return "TXT";
	case DNSRR_SRV:
		return "SRV";
	case DNSRR_TLSA:
		return "TLSA";
	case DNSRR_DNSKEY:
		return "DNSKEY";
	}
	return "?";
}

/* The servers string: ADDR[@PORT], separated by white space or commas;
 * each given to libunbound as a forwarder (RFC 1034's recursive
 * resolver).  Checked here, so the message says which is wrong. */
static int
set_servers(struct ub_ctx *ctx, const char *servers, struct error *err)
{
	const char *p = servers;
	size_t count = 0;

	if (strlen(servers) > DNS_SERVERS_MAX)
		return error_set(err, ERROR_CONFIG,
		                 "dns_server: longer than %d characters",
		                 DNS_SERVERS_MAX);
	for (;;) {
		char one[DNS_SERVER_MAX + 1], addr[DNS_SERVER_MAX + 1];
		unsigned char bin[sizeof(struct in6_addr)];
		size_t n;
		char *at;
		int rc;

		p += strspn(p, " \t,");
		if (!*p)
			break;
		n = strcspn(p, " \t,");
		if (n > DNS_SERVER_MAX)
			return error_set(
			    err, ERROR_CONFIG,
			    "dns_server: '%.*s...' is not ADDRESS[@PORT]",
			    DNS_SERVER_MAX, p);
		memcpy(one, p, n);
		one[n] = '\0';
		p += n;
		str_copy(addr, sizeof addr, one);
		at = strchr(addr, '@');
		if (at) {
			char *end;
			long port;

			*at = '\0';
			errno = 0;
			port = strtol(at + 1, &end, 10);
			if (at[1] < '0' || at[1] > '9' || *end || errno ||
			    port < 1 || port > 65535)
				return error_set(
				    err, ERROR_CONFIG,
				    "dns_server: '%s': the port is not "
				    "1-65535",
				    one);
		}
		if (inet_pton(AF_INET, addr, bin) != 1 &&
		    inet_pton(AF_INET6, addr, bin) != 1)
			return error_set(err, ERROR_CONFIG,
			                 "dns_server: '%s' is not a numeric IP "
			                 "address (ADDRESS[@PORT])",
			                 one);
		rc = lib.ub_ctx_set_fwd(ctx, one);
		if (rc != 0)
			return error_set(err, ERROR_CONFIG,
			                 "dns_server: '%s': %s", one,
			                 lib.ub_strerror(rc));
		count++;
	}
	if (count == 0)
		return error_set(err, ERROR_CONFIG,
		                 "dns_server is empty; give ADDRESS[@PORT]");
	return 0;
}

/* The test suite sets MAILPOST_TEST_DNS_REQUIRED: a run of it without
 * dns_server must fail, never ask the machine's resolver (the real
 * DNS).  Ignored in a run that started setgid. */
static bool
test_requires_server(void)
{
	return !privilege_was_setgid() &&
	       privilege_getenv("MAILPOST_TEST_DNS_REQUIRED") != NULL;
}

/* A context asking servers (NULL: resolv.conf's), validating from
 * anchor (NULL: none). */
static int
make_ctx(struct dns *d, const char *servers, const char *anchor,
         struct error *err)
{
	struct ub_ctx *ctx = lib.ub_ctx_create();
	int rc;

	if (!ctx)
		return error_set(err, ERROR_OSERR,
		                 "cannot make a DNS resolver (libunbound)");
	/* libunbound logs its errors on stderr, which is the user's and
	 * gets mailpost's one-line messages only: its log is dropped, and
	 * what failed is said here. */
	lib.ub_ctx_debugout(ctx, d->devnull);
	/* A resolver thread, not a forked process; the queries go to the
	 * servers named, which may be on loopback; no cache of answers
	 * beyond this run, nothing read from the environment. */
	rc = lib.ub_ctx_async(ctx, 1);
	if (rc == 0)
		rc =
		    lib.ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");
	if (rc == 0 && anchor)
		rc = lib.ub_ctx_set_option(ctx, "val-log-level:", "2");
	if (rc != 0) {
		lib.ub_ctx_delete(ctx);
		return error_set(err, ERROR_SOFTWARE,
		                 "cannot set up the DNS resolver: %s",
		                 lib.ub_strerror(rc));
	}
	if (servers) {
		if (set_servers(ctx, servers, err) < 0)
			goto fail;
	} else {
		rc = lib.ub_ctx_resolvconf(ctx, NULL);
		if (rc != 0) {
			error_set(err, ERROR_CONFIG,
			          "cannot read /etc/resolv.conf (%s); set "
			          "dns_server",
			          lib.ub_strerror(rc));
			goto fail;
		}
	}
	if (anchor) {
		rc = lib.ub_ctx_add_ta_file(ctx, anchor);
		if (rc != 0) {
			error_set(
			    err, ERROR_CONFIG,
			    "dnssec_trust_anchor %s: cannot be used (%s); "
			    "give a file of DS or DNSKEY records in "
			    "zone-file syntax",
			    anchor, lib.ub_strerror(rc));
			goto fail;
		}
	}
	/* libunbound answers names under "test." itself, NXDOMAIN (RFC
	 * 6761 6.2 lets a resolver do so); the resolver asked decides
	 * instead, as for every other name: the test suite's serves them.
	 * Last: it completes the context, which takes no options after. */
	rc = lib.ub_ctx_zone_remove(ctx, "test.");
	if (rc != 0 && anchor) {
		/* The anchor file is read only now; what else the context
		 * holds was checked as it was set. */
		error_set(err, ERROR_CONFIG,
		          "dnssec_trust_anchor %s: cannot be used (%s); give a "
		          "file of DS or DNSKEY records in zone-file syntax",
		          anchor, lib.ub_strerror(rc));
		goto fail;
	}
	if (rc != 0) {
		error_set(err, ERROR_SOFTWARE,
		          "cannot set up the DNS resolver: %s",
		          lib.ub_strerror(rc));
		goto fail;
	}
	d->ctx = ctx;
	return 0;
fail:
	lib.ub_ctx_delete(ctx);
	return -1;
}

int
dns_open(struct dns **out, const struct dns_options *o, struct error *err)
{
	const char *anchor = o->trust_anchor;
	struct dns *d;

	*out = NULL;
	if (dynload_open(&ub_lib, err) < 0)
		return -1;
	if (!o->servers && test_requires_server())
		return error_set(
		    err, ERROR_CONFIG,
		    "no dns_server in a test run "
		    "(MAILPOST_TEST_DNS_REQUIRED): the real DNS is "
		    "not asked");
	if (anchor && access(anchor, R_OK) != 0)
		return error_set_errno(err, ERROR_CONFIG, errno,
		                       "dnssec_trust_anchor %s", anchor);
	d = xcalloc(1, sizeof *d);
	d->devnull = fopen("/dev/null", "we");
	if (!d->devnull) {
		error_set_errno(err, ERROR_OSERR, errno,
		                "cannot open /dev/null");
		free(d);
		return -1;
	}
	if (!anchor && access(DNS_ROOT_KEY, R_OK) == 0) {
		anchor = DNS_ROOT_KEY;
		d->default_anchor = true;
	}
	if (make_ctx(d, o->servers, anchor, err) < 0) {
		dns_free(d);
		return -1;
	}
	d->validating = anchor != NULL;
	d->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DNS_TIMEOUT_MS;
	d->transcript = o->transcript;
	d->servers = o->servers ? xstrdup(o->servers) : NULL;
	if (!anchor)
		transcript_note(d->transcript,
		                "DNS: no trust anchor (%s not readable): "
		                "answers are not validated",
		                DNS_ROOT_KEY);
	*out = d;
	return 0;
}

void
dns_free(struct dns *d)
{
	if (!d)
		return;
	if (d->ctx)
		lib.ub_ctx_delete(d->ctx);
	if (d->devnull)
		fclose(d->devnull);
	free(d->servers);
	free(d);
}

/* Ask every query of qs at once and wait for all until the deadline. */
static int
resolve(struct dns *d, struct query *qs, size_t n, struct error *err)
{
	int64_t deadline = now_ms() + d->timeout_ms;
	size_t pending = 0;

	for (size_t i = 0; i < n; i++) {
		int rc = lib.ub_resolve_async(d->ctx, qs[i].name, qs[i].type,
		                              DNS_CLASS_IN, &qs[i], answered,
		                              &qs[i].id);
		if (rc != 0) {
			error_set(err, ERROR_TEMPFAIL,
			          "DNS look-up of %s %s cannot start: %s",
			          qs[i].name, type_name(qs[i].type),
			          lib.ub_strerror(rc));
			goto cancel;
		}
		pending++;
	}
	for (;;) {
		size_t waiting = 0;
		int rc;

		for (size_t i = 0; i < n; i++)
			waiting += !qs[i].done;
		if (waiting == 0)
			return 0;
		rc = fd_wait(lib.ub_fd(d->ctx), POLLIN, deadline);
		if (rc < 0 && interrupt_cuts()) {
			interrupt_error(err);
			goto cancel;
		}
		if (rc == 0) {
			char secs[32];

			str_seconds(secs, sizeof secs, d->timeout_ms);
			error_set(err, ERROR_TEMPFAIL,
			          "DNS look-up of %s %s: no answer within %s s",
			          qs[0].name, type_name(qs[0].type), secs);
			goto cancel;
		}
		if (rc < 0 || lib.ub_process(d->ctx) != 0) {
			error_set(err, ERROR_TEMPFAIL,
			          "DNS look-up of %s %s: the resolver failed",
			          qs[0].name, type_name(qs[0].type));
			goto cancel;
		}
	}
cancel:
	for (size_t i = 0; i < pending; i++) {
		if (!qs[i].done)
			lib.ub_cancel(d->ctx, qs[i].id);
		if (qs[i].result)
			lib.ub_resolve_free(qs[i].result);
		qs[i].result = NULL;
		qs[i].done = true;
	}
	return -1;
}

/* The name of a query: a name of up to DNS_NAME_MAX characters made of
 * letters, digits, '-', '_' and dots, with an optional final dot. */
static int
query_name(struct query *q, const char *prefix, const char *name, int type,
           struct error *err)
{
	char checked[DNS_NAME_MAX + 1];
	const char *why;

	memset(q, 0, sizeof *q);
	if (!*name || dnsrr_text_name(name, checked, &why) < 0 || !*checked) {
		char shown[80];

		str_show(shown, sizeof shown, name, 64);
		return error_set(err, ERROR_CONFIG,
		                 "cannot look up '%s': not a DNS name (%s)",
		                 shown, *name ? why : "empty");
	}
	snprintf(q->name, sizeof q->name, "%s%s", prefix, checked);
	q->type = type;
	return 0;
}

/* The verdict of one result: its status and security into a. */
static int
judge(struct dns *d, struct query *q, struct dns_answer *a, struct error *err)
{
	struct ub_result *r = q->result;
	const char *why;

	if (q->err != 0)
		return error_set(err, ERROR_TEMPFAIL,
		                 "DNS look-up of %s %s: %s", q->name,
		                 type_name(q->type), lib.ub_strerror(q->err));
	if (r->bogus) {
		a->security = DNS_BOGUS;
		str_copy(a->why_bogus, sizeof a->why_bogus,
		         r->why_bogus ? r->why_bogus : "no reason given");
		str_censor(a->why_bogus, strlen(a->why_bogus));
	} else if (r->secure && d->validating) {
		a->security = DNS_SECURE;
	} else {
		a->security = DNS_INSECURE;
	}
	if (r->havedata)
		a->status = DNS_FOUND;
	else if (r->nxdomain || r->rcode == DNS_RCODE_NXDOMAIN)
		a->status = DNS_NXDOMAIN;
	else if (r->rcode == 0 || r->bogus)
		a->status = DNS_NODATA;
	else if (r->rcode == DNS_RCODE_SERVFAIL && d->validating)
		/* No reason comes with it: the server failed, or libunbound's
		 * validator gave up; it verifies a bounded number of
		 * signatures per answer (the KeyTrap limits, CVE-2023-50387),
		 * which an answer of a hundred or more signed record sets
		 * exceeds: an MX answer with the address of each of hundreds
		 * of hosts in its additional section. */
		return error_set(
		    err, ERROR_TEMPFAIL,
		    "DNS look-up of %s %s: SERVFAIL, no answer: the server "
		    "failed, or the answer has more signatures than the "
		    "validator checks in one answer (libunbound's limit; "
		    "hundreds of signed records)",
		    q->name, type_name(q->type));
	else
		return error_set(err, ERROR_TEMPFAIL,
		                 "DNS look-up of %s %s: the server answered %s",
		                 q->name, type_name(q->type),
		                 r->rcode == DNS_RCODE_SERVFAIL
		                     ? "SERVFAIL"
		                     : "with an error");
	if (r->canonname && dnsrr_text_name(r->canonname, a->canon, &why) < 0)
		return error_set(err, ERROR_TEMPFAIL,
		                 "DNS look-up of %s %s: the canonical name is "
		                 "unusable (%s)",
		                 q->name, type_name(q->type), why);
	if (!r->canonname)
		str_copy(a->canon, sizeof a->canon, q->name);
	return 0;
}

/* Records read of one MX answer before the DNS_ANSWER_MAX best are
 * kept: which are best is known only once all are read (RFC 5321 5.1:
 * the lowest preferences), and a DNS message of 65535 octets holds
 * fewer than this many MX records (each at least 15 octets: a
 * compressed owner, type, class, TTL, length, preference, an exchange
 * of one octet). */
#define DNS_MX_READ_MAX 5100

/* Room for the records of r in a's array of its type. */
static size_t
count(const struct ub_result *r, int type)
{
	size_t max = type == DNSRR_MX ? DNS_MX_READ_MAX : DNS_ANSWER_MAX;
	size_t n = 0;

	if (r->havedata && r->data)
		while (n < max && r->data[n])
			n++;
	return n;
}

static int
by_pref(const void *x, const void *y)
{
	const struct dns_mx *a = x, *b = y;

	return a->pref < b->pref ? -1 : a->pref > b->pref;
}

/* More MX records than are kept: the DNS_ANSWER_MAX of the lowest
 * preferences, the ones a sender tries first. */
static void
keep_best_mx(struct dns *d, const struct query *q, struct dns_answer *a)
{
	if (a->n <= DNS_ANSWER_MAX)
		return;
	qsort(a->mx, a->n, sizeof *a->mx, by_pref);
	transcript_note(d->transcript,
	                "DNS: %s MX has %zu usable records; the %d of the "
	                "lowest preferences are kept",
	                q->name, a->n, DNS_ANSWER_MAX);
	a->n = DNS_ANSWER_MAX;
}

/* Each record of q's result into a's array, by type; unusable ones
 * noted and left out.  -1 when there were records and none was usable. */
static int
take(struct dns *d, struct query *q, struct dns_answer *a, struct error *err)
{
	struct ub_result *r = q->result;
	size_t have = count(r, q->type), bad = 0;
	const char *why = NULL;

	if (have == 0)
		return 0;
	if (r->data[have])
		transcript_note(
		    d->transcript,
		    "DNS: %s %s has more than %zu records; the rest "
		    "are ignored",
		    q->name, type_name(q->type), have);
	for (size_t i = 0; i < have; i++) {
		const unsigned char *rd = (const unsigned char *)r->data[i];
		size_t len = r->len[i] > 0 ? (size_t)r->len[i] : 0;
		int rc = -1;

		switch (q->type) {
		case DNSRR_MX:
			rc = dnsrr_mx(rd, len, &a->mx[a->n], &why);
			break;
		case DNSRR_A:
		case DNSRR_AAAA:
			rc = dnsrr_addr(q->type, rd, len, &a->addr[a->n], &why);
			break;
		case DNSRR_TLSA:
			rc = dnsrr_tlsa(rd, len, &a->tlsa[a->n], &why);
			break;
		case DNSRR_SRV:
			rc = dnsrr_srv(rd, len, &a->srv[a->n], &why);
			break;
		case DNSRR_TXT:
			rc = dnsrr_txt(rd, len, &a->txt[a->n], &why);
			break;
		}
		if (rc == 0) {
			a->n++;
		} else {
			bad++;
			transcript_note(d->transcript,
			                "DNS: %s %s: a record left out: %s",
			                q->name, type_name(q->type), why);
		}
	}
	if (a->n == 0 && bad > 0)
		return error_set(
		    err, ERROR_TEMPFAIL,
		    "DNS answer for %s %s has no usable record (%s)", q->name,
		    type_name(q->type), why);
	if (q->type == DNSRR_MX)
		keep_best_mx(d, q, a);
	return 0;
}

/* The array of a's type, room for n records. */
static void
make_room(struct dns_answer *a, int type, size_t n)
{
	if (n == 0)
		return;
	switch (type) {
	case DNSRR_MX:
		a->mx = xcalloc(n, sizeof *a->mx);
		break;
	case DNSRR_A:
	case DNSRR_AAAA:
		a->addr = xcalloc(n, sizeof *a->addr);
		break;
	case DNSRR_TLSA:
		a->tlsa = xcalloc(n, sizeof *a->tlsa);
		break;
	case DNSRR_SRV:
		a->srv = xcalloc(n, sizeof *a->srv);
		break;
	case DNSRR_TXT:
		a->txt = xcalloc(n, sizeof *a->txt);
		break;
	}
}

static void
note_answer(struct dns *d, const char *name, const char *type,
            const struct dns_answer *a)
{
	if (a->security == DNS_BOGUS)
		transcript_note(d->transcript,
		                "DNS: %s %s: %s, %zu records, "
		                "bogus (%s)",
		                name, type, dns_status_name(a->status), a->n,
		                a->why_bogus);
	else
		transcript_note(d->transcript,
		                "DNS: %s %s: %s, %zu records, %s", name, type,
		                dns_status_name(a->status), a->n,
		                dns_security_name(a->security));
}

static void
free_results(struct query *qs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (qs[i].result)
			lib.ub_resolve_free(qs[i].result);
}

/* The default anchor and a resolver that cannot serve DNSSEC (the root's
 * DNSKEY is bogus, or cannot be had): validation off for the run. */
static int
check_root(struct dns *d, struct error *err)
{
	struct query q;
	bool usable;

	if (!d->default_anchor || d->root_checked)
		return 0;
	d->root_checked = true;
	memset(&q, 0, sizeof q);
	str_copy(q.name, sizeof q.name, ".");
	q.type = DNSRR_DNSKEY;
	/* No answer at all is the look-ups' own failure, not DNSSEC's:
	 * the check is made again by the next look-up. */
	if (resolve(d, &q, 1, err) < 0) {
		d->root_checked = false;
		return -1;
	}
	if (q.err != 0) {
		d->root_checked = false;
		free_results(&q, 1);
		return error_set(err, ERROR_TEMPFAIL,
		                 "DNS look-up of . DNSKEY: %s",
		                 lib.ub_strerror(q.err));
	}
	usable = q.result->havedata && q.result->secure;
	free_results(&q, 1);
	if (usable)
		return 0;
	transcript_note(d->transcript,
	                "DNS: the resolver cannot serve DNSSEC (the root's key "
	                "does not validate): answers are not validated in "
	                "this run");
	lib.ub_ctx_delete(d->ctx);
	d->ctx = NULL;
	d->validating = false;
	return make_ctx(d, d->servers, NULL, err);
}

/* One name, one or two types (A and AAAA), into a. */
static int
look_up(struct dns *d, struct query *qs, size_t n, struct dns_answer *a,
        struct error *err)
{
	struct dns_answer parts[2];
	size_t room = 0;
	int rc = 0;

	if (check_root(d, err) < 0) {
		error_prefix(
		    err,
		    "checking the resolver's DNSSEC before %s %s: ", qs[0].name,
		    n > 1 ? "A/AAAA" : type_name(qs[0].type));
		return -1;
	}
	if (resolve(d, qs, n, err) < 0)
		return -1;
	memset(parts, 0, sizeof parts);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = judge(d, &qs[i], &parts[i], err);
		room += count(qs[i].result, qs[i].type);
	}
	if (rc == 0) {
		/* The first's verdict; a second (AAAA) weakens it. */
		*a = parts[0];
		for (size_t i = 1; i < n; i++) {
			if (parts[i].security == DNS_BOGUS ||
			    (parts[i].security == DNS_INSECURE &&
			     a->security == DNS_SECURE)) {
				a->security = parts[i].security;
				memcpy(a->why_bogus, parts[i].why_bogus,
				       sizeof a->why_bogus);
			}
			if (parts[i].status == DNS_FOUND ||
			    (parts[i].status == DNS_NODATA &&
			     a->status == DNS_NXDOMAIN))
				a->status = parts[i].status;
		}
		make_room(a, qs[0].type, room);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = take(d, &qs[i], a, err);
	}
	free_results(qs, n);
	if (rc < 0) {
		dns_answer_clear(a);
		return -1;
	}
	note_answer(d, qs[0].name, n > 1 ? "A/AAAA" : type_name(qs[0].type), a);
	return 0;
}

static int
one(struct dns *d, const char *prefix, const char *name, int type,
    struct dns_answer *a, struct error *err)
{
	struct query q;

	memset(a, 0, sizeof *a);
	if (query_name(&q, prefix, name, type, err) < 0)
		return -1;
	return look_up(d, &q, 1, a, err);
}

int
dns_mx(struct dns *d, const char *domain, struct dns_answer *a,
       struct error *err)
{
	return one(d, "", domain, DNSRR_MX, a, err);
}

int
dns_addrs(struct dns *d, const char *host, struct dns_answer *a,
          struct error *err)
{
	struct query qs[2];

	memset(a, 0, sizeof *a);
	if (query_name(&qs[0], "", host, DNSRR_A, err) < 0 ||
	    query_name(&qs[1], "", host, DNSRR_AAAA, err) < 0)
		return -1;
	return look_up(d, qs, 2, a, err);
}

int
dns_tlsa(struct dns *d, const char *host, int port, struct dns_answer *a,
         struct error *err)
{
	char prefix[16];

	memset(a, 0, sizeof *a);
	if (port < 1 || port > 65535)
		return error_set(err, ERROR_CONFIG,
		                 "cannot look up TLSA records for port %d",
		                 port);
	snprintf(prefix, sizeof prefix, "_%d._tcp.", port);
	return one(d, prefix, host, DNSRR_TLSA, a, err);
}

int
dns_srv(struct dns *d, const char *name, struct dns_answer *a,
        struct error *err)
{
	return one(d, "", name, DNSRR_SRV, a, err);
}

int
dns_txt(struct dns *d, const char *name, struct dns_answer *a,
        struct error *err)
{
	return one(d, "", name, DNSRR_TXT, a, err);
}

#else /* !HAVE_LIBUNBOUND */

struct dns {
	int unused;
};

static int
no_unbound(struct error *err)
{
	return error_set(err, ERROR_UNAVAILABLE,
	                 "this mailpost was built without libunbound, needed "
	                 "for DNS look-ups (direct delivery, --configure)");
}

int
dns_open(struct dns **out, const struct dns_options *o, struct error *err)
{
	(void)o;
	*out = NULL;
	return no_unbound(err);
}

void
dns_free(struct dns *d)
{
	(void)d;
}

int
dns_mx(struct dns *d, const char *domain, struct dns_answer *a,
       struct error *err)
{
	(void)d, (void)domain;
	memset(a, 0, sizeof *a);
	return no_unbound(err);
}

int
dns_addrs(struct dns *d, const char *host, struct dns_answer *a,
          struct error *err)
{
	return dns_mx(d, host, a, err);
}

int
dns_tlsa(struct dns *d, const char *host, int port, struct dns_answer *a,
         struct error *err)
{
	(void)port;
	return dns_mx(d, host, a, err);
}

int
dns_srv(struct dns *d, const char *name, struct dns_answer *a,
        struct error *err)
{
	return dns_mx(d, name, a, err);
}

int
dns_txt(struct dns *d, const char *name, struct dns_answer *a,
        struct error *err)
{
	return dns_mx(d, name, a, err);
}

#endif
