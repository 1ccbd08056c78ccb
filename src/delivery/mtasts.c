/*
 * mtasts.c - MTA-STS (RFC 8461): the record and policy parsers, the
 * match of an MX name, discovery with its cache, and the verdict for one
 * MX host (mtasts.h).
 */
#include "config.h"

#include "mtasts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns.h"
#include "https.h"
#include "tls.h"
#include "tlscache.h"
#include "transcript.h"
#include "util.h"

/* RFC 8461 3.1 and 3.2: an extension's name is a letter or digit, then
 * up to 31 of letters, digits, "_", "-" and ".". */
#define EXT_NAME_MAX 32
/* The policy's path under the policy host (RFC 8461 3.2). */
#define POLICY_PATH "/.well-known/mta-sts.txt"

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* s[0..len) as a censored quote of at most 40 bytes, for a message: a
 * tab too is a '?', so that the message stays one plain line. */
static const char *
quote(const char *s, size_t len, char *out, size_t n)
{
	size_t k = len < 40 ? len : 40;

	if (k >= n)
		k = n - 1;
	memcpy(out, s, k);
	out[k] = '\0';
	str_censor(out, k);
	for (size_t i = 0; i < k; i++)
		if (out[i] == '\t')
			out[i] = '?';
	if (k < len && k + 4 < n)
		strcat(out, "...");
	return out;
}

static bool
ext_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > EXT_NAME_MAX || !is_alnum(s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' &&
		    s[i] != '.')
			return false;
	return true;
}

/* ---------------------------------------------------------------------
 * The TXT record (RFC 8461 3.1).
 */

static bool
starts_sts(const char *s)
{
	return strncmp(s, "v=STSv1", 7) == 0 &&
	       (s[7] == '\0' || s[7] == ';' || is_wsp(s[7]));
}

/* One field f[0..len) after the version; sets id. */
static int
txt_field(const char *f, size_t len, char id[MTASTS_ID_MAX + 1], char *why,
          size_t size)
{
	const char *eq = memchr(f, '=', len);
	char q[48];
	size_t nlen, vlen;

	if (!eq)
		goto bad;
	nlen = (size_t)(eq - f);
	vlen = len - nlen - 1;
	if (nlen == 2 && memcmp(f, "id", 2) == 0) {
		if (id[0]) {
			snprintf(why, size, "the _mta-sts record has two ids");
			return -1;
		}
		if (vlen == 0 || vlen > MTASTS_ID_MAX)
			goto bad;
		for (size_t i = 0; i < vlen; i++)
			if (!is_alnum(eq[1 + i]))
				goto bad;
		memcpy(id, eq + 1, vlen);
		id[vlen] = '\0';
		return 0;
	}
	/* An extension: its value 1*(%x21-3A / %x3C / %x3E-7E). */
	if (!ext_name_ok(f, nlen) || vlen == 0)
		goto bad;
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)eq[1 + i];

		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			goto bad;
	}
	return 0;
bad:
	snprintf(why, size, "the _mta-sts record has a bad field \"%s\"",
	         quote(f, len, q, sizeof q));
	return -1;
}

/* The one record s judged whole. */
static int
txt_record(const char *s, char id[MTASTS_ID_MAX + 1], char *why, size_t size)
{
	const char *p = s + 7; /* after "v=STSv1" */

	id[0] = '\0';
	for (;;) {
		const char *f, *end;

		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p != ';') {
			snprintf(why, size,
			         "the _mta-sts record has no \";\" between "
			         "its fields");
			return -1;
		}
		p++;
		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			break; /* a last ";" */
		f = p;
		while (*p && *p != ';' && !is_wsp(*p))
			p++;
		end = p;
		if (end == f ||
		    txt_field(f, (size_t)(end - f), id, why, size) < 0) {
			if (end == f)
				snprintf(why, size,
				         "the _mta-sts record has an empty "
				         "field");
			return -1;
		}
	}
	if (!id[0]) {
		snprintf(why, size, "the _mta-sts record has no id");
		return -1;
	}
	return 0;
}

int
mtasts_parse_txt(const char *const *txt, size_t n, char id[MTASTS_ID_MAX + 1],
                 char *why, size_t size)
{
	const char *one = NULL;
	size_t found = 0;

	id[0] = '\0';
	why[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (txt[i] && starts_sts(txt[i])) {
			one = txt[i];
			found++;
		}
	if (found == 0) {
		snprintf(why, size, "no _mta-sts record of version STSv1");
		return 0;
	}
	if (found > 1) {
		snprintf(why, size,
		         "%zu _mta-sts records of version STSv1, not one "
		         "(RFC 8461 3.1)",
		         found);
		return 0;
	}
	if (txt_record(one, id, why, size) < 0) {
		id[0] = '\0';
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------------
 * The policy (RFC 8461 3.2).
 */

/* A host name of LDH labels (RFC 5321's Domain), lower-cased into out:
 * "*." in front allowed when wildcard. */
static bool
name_ok(const char *s, size_t len, bool wildcard, char *out)
{
	size_t i = 0, label = 0;

	if (len == 0 || len > MTASTS_NAME_MAX)
		return false;
	if (wildcard && len > 2 && s[0] == '*' && s[1] == '.') {
		memcpy(out, "*.", 2);
		i = 2;
	}
	for (; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_alnum(c) || c == '-') {
			if ((label == 0 && c == '-') || ++label > 63)
				return false;
		} else {
			return false;
		}
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (label == 0 || s[len - 1] == '-')
		return false;
	out[len] = '\0';
	return true;
}

/* What has been seen of the once-only fields. */
struct seen {
	bool version, mode, max_age;
};

/* One line's key and value (value[0..vlen) trimmed, printable). */
static int
policy_field(const char *key, size_t klen, const char *v, size_t vlen,
             struct mtasts_policy *p, struct seen *seen, char *why, size_t size)
{
	char q[48];

#define KEY(name) (klen == sizeof name - 1 && memcmp(key, name, klen) == 0)
	if (KEY("version")) {
		if (seen->version)
			goto twice;
		seen->version = true;
		if (vlen != 5 || memcmp(v, "STSv1", 5) != 0) {
			snprintf(why, size,
			         "the policy's version is \"%s\", not STSv1",
			         quote(v, vlen, q, sizeof q));
			return -1;
		}
	} else if (KEY("mode")) {
		if (seen->mode)
			goto twice;
		seen->mode = true;
		if (vlen == 7 && memcmp(v, "enforce", 7) == 0)
			p->mode = MTASTS_MODE_ENFORCE;
		else if (vlen == 7 && memcmp(v, "testing", 7) == 0)
			p->mode = MTASTS_MODE_TESTING;
		else if (vlen == 4 && memcmp(v, "none", 4) == 0)
			p->mode = MTASTS_MODE_NONE;
		else {
			snprintf(why, size,
			         "the policy's mode \"%s\" is none of enforce, "
			         "testing, none",
			         quote(v, vlen, q, sizeof q));
			return -1;
		}
	} else if (KEY("max_age")) {
		uint64_t age = 0;

		if (seen->max_age)
			goto twice;
		seen->max_age = true;
		if (vlen == 0 || vlen > 10)
			goto bad_age;
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				goto bad_age;
			age = age * 10 + (uint64_t)(v[i] - '0');
		}
		p->max_age =
		    age > (uint64_t)MTASTS_MAX_AGE ? MTASTS_MAX_AGE : (long)age;
	} else if (KEY("mx")) {
		if (p->nmx == MTASTS_MX_MAX) {
			snprintf(why, size,
			         "the policy has more than %d mx lines",
			         MTASTS_MX_MAX);
			return -1;
		}
		if (!name_ok(v, vlen, true, p->mx[p->nmx])) {
			snprintf(why, size,
			         "the policy's mx \"%s\" is not a host name or "
			         "\"*.\" and one",
			         quote(v, vlen, q, sizeof q));
			return -1;
		}
		p->nmx++;
	} else if (!ext_name_ok(key, klen)) {
		snprintf(why, size, "the policy has a bad key \"%s\"",
		         quote(key, klen, q, sizeof q));
		return -1;
	}
	return 0;
#undef KEY
twice:
	snprintf(why, size, "the policy has two %.*s lines", (int)klen, key);
	return -1;
bad_age:
	snprintf(why, size, "the policy's max_age \"%s\" is not 1 to 10 digits",
	         quote(v, vlen, q, sizeof q));
	return -1;
}

/* One line l[0..len), without its end. */
static int
policy_line(const char *l, size_t len, size_t lineno, struct mtasts_policy *p,
            struct seen *seen, char *why, size_t size)
{
	const char *colon = memchr(l, ':', len);
	size_t klen, v0, vlen;
	char q[48];

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)l[i] > 0x7e ||
		    ((unsigned char)l[i] < 0x20 && l[i] != '\t')) {
			snprintf(
			    why, size,
			    "line %zu of the policy has a byte that is not "
			    "printable ASCII",
			    lineno);
			return -1;
		}
	if (!colon) {
		snprintf(why, size,
		         "line %zu of the policy, \"%s\", has no \":\"", lineno,
		         quote(l, len, q, sizeof q));
		return -1;
	}
	klen = (size_t)(colon - l);
	v0 = klen + 1;
	while (v0 < len && is_wsp(l[v0]))
		v0++;
	vlen = len - v0;
	while (vlen > 0 && is_wsp(l[v0 + vlen - 1]))
		vlen--;
	if (vlen == 0) {
		snprintf(why, size, "line %zu of the policy has no value",
		         lineno);
		return -1;
	}
	return policy_field(l, klen, l + v0, vlen, p, seen, why, size);
}

int
mtasts_parse_policy(const char *body, size_t len, struct mtasts_policy *p,
                    char *why, size_t size)
{
	struct seen seen = {false, false, false};
	size_t pos = 0, lineno = 0;

	memset(p, 0, sizeof *p);
	why[0] = '\0';
	if (len > MTASTS_POLICY_MAX) {
		snprintf(why, size, "the policy is larger than %d bytes",
		         MTASTS_POLICY_MAX);
		goto fail;
	}
	while (pos < len) {
		const char *l = body + pos;
		const char *lf = memchr(l, '\n', len - pos);
		size_t n = lf ? (size_t)(lf - l) : len - pos;

		pos += n + (lf ? 1 : 0);
		lineno++;
		if (lf && n > 0 && l[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		if (policy_line(l, n, lineno, p, &seen, why, size) < 0)
			goto fail;
	}
	if (!seen.version || !seen.mode || !seen.max_age) {
		snprintf(why, size, "the policy has no %s line",
		         !seen.version ? "version"
		         : !seen.mode  ? "mode"
		                       : "max_age");
		goto fail;
	}
	if (p->nmx == 0 && p->mode != MTASTS_MODE_NONE) {
		snprintf(why, size, "the policy lists no mx");
		goto fail;
	}
	return 0;
fail:
	memset(p, 0, sizeof *p);
	return -1;
}

bool
mtasts_mx_matches(const struct mtasts_policy *p, const char *host, char *match,
                  size_t size)
{
	const char *rest = strchr(host, '.');

	for (size_t i = 0; i < p->nmx; i++) {
		const char *m = p->mx[i];
		bool hit = m[0] == '*'
		               ? rest && rest > host && str_ieq(rest + 1, m + 2)
		               : str_ieq(host, m);

		if (hit) {
			if (match && size)
				snprintf(match, size, "%s", m);
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------------
 * The cache: one file per domain in the state directory, tlscache.h's
 * guarantees; the data is the record's id, a newline, and the policy
 * written out again as a policy (parsed again when read: a file is as
 * strictly judged as a fetch).
 */

static const struct tlscache_kind policy_files = {
    .magic = "mailpost-mta-sts-policy 1\n",
    .prefix = "policy-",
    .age_max = MTASTS_MAX_AGE,
    .data_max = MTASTS_POLICY_MAX,
    .other = "it is another domain's",
};

/* The entry's identity (SHA-256 of the domain, so that a file renamed to
 * another domain's name is not that domain's) and its file name. */
static int
cache_key(const char *domain, unsigned char id[TLSCACHE_ID_LEN],
          char name[TLSCACHE_NAME_MAX])
{
	size_t o;

	if (tls_sha256(domain, strlen(domain), id) < 0)
		return -1;
	o = (size_t)snprintf(name, TLSCACHE_NAME_MAX, "%s",
	                     policy_files.prefix);
	for (size_t i = 0; i < 16 && o + 2 < TLSCACHE_NAME_MAX; i++, o += 2)
		hex_pair(name + o, id[i]);
	name[o] = '\0';
	return 0;
}

static const char *const mode_names[] = {"none", "testing", "enforce"};

/* Keep r's policy for domain until now + max_age; a failure is a
 * transcript line (no cache is no error). */
static void
cache_store(const struct mtasts_options *o, const char *domain,
            const struct mtasts_result *r, int64_t now)
{
	unsigned char id[TLSCACHE_ID_LEN];
	char name[TLSCACHE_NAME_MAX];
	size_t room =
	    MTASTS_ID_MAX + 64 + r->policy.nmx * (MTASTS_NAME_MAX + 6);
	char *data = xmalloc(room);
	size_t n;
	struct error err;

	n = (size_t)snprintf(
	    data, room, "%s\nversion: STSv1\nmode: %s\nmax_age: %ld\n", r->id,
	    mode_names[r->policy.mode], r->policy.max_age);
	for (size_t i = 0; i < r->policy.nmx; i++)
		n += (size_t)snprintf(data + n, room - n, "mx: %s\n",
		                      r->policy.mx[i]);
	error_clear(&err);
	if (cache_key(domain, id, name) < 0)
		error_set(&err, ERROR_SOFTWARE, "cannot hash the domain");
	else if (r->policy.max_age > 0)
		tlscache_store_kind(&policy_files, o->cache_dir, name, id,
		                    now + r->policy.max_age,
		                    (const unsigned char *)data, n, &err);
	if (err.kind != ERROR_NONE)
		transcript_note(o->transcript,
		                "MTA-STS: %s's policy not cached: %s", domain,
		                err.msg);
	free(data);
}

/* The cached policy of domain, unexpired at now, into *c (found set);
 * else c->found false and why says why. */
static void
cache_load(const struct mtasts_options *o, const char *domain, int64_t now,
           struct mtasts_result *c, char *why, size_t size)
{
	unsigned char id[TLSCACHE_ID_LEN];
	char name[TLSCACHE_NAME_MAX], bad[200];
	struct tlscache_entry e;
	const char *nl;
	size_t idlen;

	memset(c, 0, sizeof *c);
	snprintf(why, size, "no cache");
	if (!o->cache_dir || cache_key(domain, id, name) < 0 ||
	    tlscache_load_kind(&policy_files, o->cache_dir, name, id, now, &e,
	                       why, size) < 0)
		return;
	nl = memchr(e.data, '\n', e.len);
	idlen = nl ? (size_t)(nl - (const char *)e.data) : 0;
	if (!nl || idlen == 0 || idlen > MTASTS_ID_MAX) {
		snprintf(why, size, "the cached file is damaged");
	} else if (mtasts_parse_policy(nl + 1, e.len - idlen - 1, &c->policy,
	                               bad, sizeof bad) < 0) {
		snprintf(why, size, "the cached policy is damaged: %.120s",
		         bad);
	} else {
		memcpy(c->id, e.data, idlen);
		c->id[idlen] = '\0';
		for (size_t i = 0; i < idlen; i++)
			if (!is_alnum(c->id[i]))
				c->id[0] = '\0';
		c->found = c->id[0] != '\0';
		if (c->found) {
			char until[40];

			if (!str_utc_time(until, sizeof until,
			                  (time_t)e.expires))
				snprintf(until, sizeof until, "?");
			snprintf(c->how, sizeof c->how,
			         "cached (id %s, %s, until %s)", c->id,
			         mode_names[c->policy.mode], until);
		} else {
			snprintf(why, size, "the cached file is damaged");
		}
	}
	tlscache_entry_clear(&e);
}

/* ---------------------------------------------------------------------
 * The fetch (RFC 8461 3.3).
 */

/* A Content-Type that is text/plain, parameters aside: RFC 8461 3.2
 * says the policy is served as text/plain, and a host that labels it
 * otherwise, or not at all, has not published one on purpose (an answer
 * without the header is refused). */
static bool
type_ok(const char *t)
{
	size_t n = strcspn(t, "; \t");

	return n == 10 && strncasecmp(t, "text/plain", 10) == 0;
}

/* GET the policy from one address; 0 with the policy in *p, or -1 with
 * why. */
static int
fetch_from(const struct mtasts_options *o, const char *url, const char *addr,
           struct mtasts_policy *p, char *why, size_t size)
{
	struct https_request rq = {
	    .url = url,
	    .get = true,
	    .connect_addr = addr,
	    .trust_file = o->trust_file,
	    .timeout_s = o->timeout_s > 0 ? o->timeout_s : MTASTS_FETCH_TIMEOUT,
	    .max_body = MTASTS_POLICY_MAX,
	};
	struct https_response rs;
	struct error err;
	char bad[200];
	int rc = -1;

	error_clear(&err);
	if (https_get(&rq, &rs, &err) < 0) {
		snprintf(why, size, "%.250s", err.msg);
		return -1;
	}
	if (rs.status != 200)
		snprintf(why, size,
		         "the policy host answered status %ld, not 200",
		         rs.status);
	else if (!rs.content_type[0])
		snprintf(why, size,
		         "the policy was served without a Content-Type, not "
		         "as text/plain (RFC 8461 3.2)");
	else if (!type_ok(rs.content_type))
		snprintf(why, size,
		         "the policy's Content-Type is %s, not text/plain",
		         rs.content_type);
	else if (mtasts_parse_policy(rs.body, rs.len, p, bad, sizeof bad) < 0)
		snprintf(why, size, "%s", bad);
	else
		rc = 0;
	https_response_clear(&rs);
	return rc;
}

/* Fetch domain's policy into r->policy: 0, or -1 with why. */
static int
fetch(const struct mtasts_options *o, const char *domain,
      struct mtasts_result *r, char *why, size_t size)
{
	char host[MTASTS_NAME_MAX + 16], url[HTTPS_URL_MAX];
	struct dns_answer a;
	struct error err;
	int port = https_port(), rc = -1;

	snprintf(host, sizeof host, "mta-sts.%s", domain);
	if (port == 443)
		snprintf(url, sizeof url, "https://%s" POLICY_PATH, host);
	else
		snprintf(url, sizeof url, "https://%s:%d" POLICY_PATH, host,
		         port);
	error_clear(&err);
	memset(&a, 0, sizeof a);
	if (dns_addrs(o->dns, host, &a, &err) < 0) {
		snprintf(why, size, "%.250s", err.msg);
		return -1;
	}
	if (a.security == DNS_BOGUS)
		snprintf(why, size,
		         "the addresses of %.200s failed DNSSEC (%.60s)", host,
		         a.why_bogus);
	else if (a.status != DNS_FOUND || a.n == 0)
		snprintf(why, size, "%s has no address", host);
	for (size_t i = 0; a.security != DNS_BOGUS && a.status == DNS_FOUND &&
	                   i < a.n && i < MTASTS_FETCH_ADDRS;
	     i++) {
		rc = fetch_from(o, url, a.addr[i].text, &r->policy, why, size);
		if (rc == 0)
			break;
		transcript_note(o->transcript, "MTA-STS: %s from %s: %s", url,
		                a.addr[i].text, why);
	}
	dns_answer_clear(&a);
	return rc;
}

/* ---------------------------------------------------------------------
 * Discovery (RFC 8461 5.1).
 */

/* No fresh policy: the cached one if there is one, else none; what
 * happened, `what`, said either way. */
static void
fall_back(const struct mtasts_options *o, const char *domain,
          const struct mtasts_result *cached, struct mtasts_result *r,
          const char *what)
{
	char how[sizeof r->how];

	if (cached->found) {
		*r = *cached;
		snprintf(how, sizeof how, "%.150s; %.160s", cached->how, what);
		memcpy(r->how, how, sizeof how);
	} else {
		memset(r, 0, sizeof *r);
		snprintf(r->how, sizeof r->how, "no policy: %s", what);
	}
	str_censor(r->how, strlen(r->how));
	transcript_note(o->transcript, "MTA-STS: %s: %s", domain, r->how);
}

void
mtasts_discover(const struct mtasts_options *o, const char *domain,
                struct mtasts_result *r)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	struct mtasts_result cached;
	char name[MTASTS_NAME_MAX + 16], why[300], what[400];
	char cache_why[200];
	struct dns_answer a;
	struct error err;
	int has;

	memset(r, 0, sizeof *r);
	cache_load(o, domain, now, &cached, cache_why, sizeof cache_why);
	snprintf(name, sizeof name, "_mta-sts.%s", domain);
	error_clear(&err);
	memset(&a, 0, sizeof a);
	if (dns_txt(o->dns, name, &a, &err) < 0) {
		snprintf(what, sizeof what, "the look-up of %s failed (%.100s)",
		         name, err.msg);
		fall_back(o, domain, &cached, r, what);
		return;
	}
	if (a.security == DNS_BOGUS) {
		snprintf(what, sizeof what, "%s failed DNSSEC (%.100s)", name,
		         a.why_bogus);
		dns_answer_clear(&a);
		fall_back(o, domain, &cached, r, what);
		return;
	}
	has = a.status == DNS_FOUND
	          ? mtasts_parse_txt((const char *const *)a.txt, a.n, r->id,
	                             why, sizeof why)
	          : 0;
	if (a.status != DNS_FOUND)
		snprintf(why, sizeof why, "%s has no TXT record", name);
	dns_answer_clear(&a);
	if (!has) {
		fall_back(o, domain, &cached, r, why);
		return;
	}
	if (cached.found && strcmp(cached.id, r->id) == 0) {
		*r = cached;
		transcript_note(o->transcript, "MTA-STS: %s: %s", domain,
		                r->how);
		return;
	}
	if (fetch(o, domain, r, why, sizeof why) < 0) {
		snprintf(what, sizeof what, "id %s not fetched: %.300s", r->id,
		         why);
		fall_back(o, domain, &cached, r, what);
		return;
	}
	r->found = true;
	snprintf(r->how, sizeof r->how, "fetched (id %s, %s, max_age %ld)%s%s",
	         r->id, mode_names[r->policy.mode], r->policy.max_age,
	         cached.found ? "; replaces the cached id " : "",
	         cached.found ? cached.id : "");
	transcript_note(o->transcript, "MTA-STS: %s: %s", domain, r->how);
	if (o->cache_dir)
		cache_store(o, domain, r, now);
}

/* ---------------------------------------------------------------------
 * One MX host (RFC 8461 4, 5).
 */

enum mtasts_verdict
mtasts_hop(const struct mtasts_result *r, const char *mx, char *why,
           size_t size)
{
	char match[MTASTS_NAME_MAX + 1];
	bool listed;

	if (!r->found || r->policy.mode == MTASTS_MODE_NONE) {
		snprintf(why, size, "%s",
		         r->found ? "MTA-STS policy mode none"
		                  : "no MTA-STS policy");
		return MTASTS_OPPORTUNISTIC;
	}
	listed = mtasts_mx_matches(&r->policy, mx, match, sizeof match);
	if (r->policy.mode == MTASTS_MODE_TESTING) {
		if (!listed) {
			snprintf(why, size,
			         "MTA-STS testing: %s is not in the policy; "
			         "used anyway",
			         mx);
			return MTASTS_OPPORTUNISTIC;
		}
		snprintf(why, size,
		         "MTA-STS testing: %s matches %s; TLS verified for it "
		         "tried, a failure reported",
		         mx, match);
		return MTASTS_TRY_VERIFY;
	}
	if (!listed) {
		snprintf(why, size,
		         "MTA-STS enforce: %s is not in the policy's mx list; "
		         "not used",
		         mx);
		return MTASTS_SKIP;
	}
	snprintf(why, size,
	         "MTA-STS enforce: %s matches %s; TLS with a certificate "
	         "verified for it",
	         mx, match);
	return MTASTS_VERIFY;
}
