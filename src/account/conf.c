/*
 * conf.c - reading configuration profiles in msmtp's syntax (see conf.h).
 *
 * A file is a list of sections: the defaults, then accounts.  Each section
 * holds a struct account and a bit set of the fields its lines gave.  An
 * account starts as a copy of what the defaults hold at that point of the
 * file, then takes what each parent gave, then its own lines, so resolving
 * it later is one copy: this is msmtp's rule, and it keeps deep inheritance
 * linear instead of re-walking parents.
 *
 * Every key is one row of a table naming the field it sets and the parser
 * for its kind of value; there is no per-key code outside the parsers.
 */
#include "config.h"

#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "privilege.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * Fields: every member of struct account a line can set.
 */

enum field_id {
	F_HOST,
	F_PORT,
	F_SOURCE_IP,
	F_PROXY_HOST,
	F_PROXY_PORT,
	F_SOCKET,
	F_TIMEOUT,
	F_LMTP,
	F_DOMAIN,
	F_PIPELINING,
	F_CHUNKING,
	F_FROM,
	F_AUTO_FROM,
	F_MAILDOMAIN,
	F_FROM_FULL_NAME,
	F_ALLOW_FROM_OVERRIDE,
	F_SET_FROM_HEADER,
	F_SET_DATE_HEADER,
	F_SET_MSGID_HEADER,
	F_REMOVE_BCC_HEADERS,
	F_UNDISCLOSED_RECIPIENTS,
	F_DSN_NOTIFY,
	F_DSN_RETURN,
	F_RCPT_POLICY,
	F_LOGFILE,
	F_LOGFILE_TIME_FORMAT,
	F_LOGFILE_LEVEL,
	F_SYSLOG,
	F_TLS,
	F_TLS_STARTTLS,
	F_TLS_TRUST_FILE,
	F_TLS_CRL_FILE,
	F_TLS_FINGERPRINT,
	F_TLS_KEY_FILE,
	F_TLS_CERT_FILE,
	F_TLS_CERTCHECK,
	F_TLS_MIN_DH_PRIME_BITS,
	F_TLS_PRIORITIES,
	F_TLS_HOST_OVERRIDE,
	F_TLS_SESSION_CACHE,
	F_AUTH,
	F_USER,
	F_PASSWORD,
	F_PASSWORDEVAL,
	F_PASSWORDEVAL_TIMEOUT,
	F_PASSWORDFD,
	F_PASSWORDCRED,
	F_PASSWORDENV,
	F_AUTH_PLAINTEXT,
	F_NTLMDOMAIN,
	F_ALIASES,
	F_QUEUE,
	F_QUEUE_DIR,
	F_QUEUE_MAX_AGE,
	F_QUEUE_BACKOFF,
	F_QUEUE_FLUSH_AFTER_SEND,
	F_DEAD_LETTER,
	F_FALLBACK_ACCOUNT,
	F_FAILOVER_TIMEOUT,
	F_REWRITE_LOCAL_FROM,
	F_QUALIFY_HEADERS,
	F_OAUTH2_PROVIDER,
	F_OAUTH2_CLIENT_ID,
	F_OAUTH2_CLIENT_SECRET,
	F_OAUTH2_CLIENT_SECRET_EVAL,
	F_OAUTH2_TOKEN_ENDPOINT,
	F_OAUTH2_DEVICE_ENDPOINT,
	F_OAUTH2_AUTHORIZE_ENDPOINT,
	F_OAUTH2_SCOPE,
	F_OAUTH2_TRUST_FILE,
	F_OAUTH2_STORE,
	F_DNS_SERVER,
	F_DNSSEC_TRUST_ANCHOR,
	F_DELIVER,
	F_COUNT,
	F_NONE = F_COUNT, /* keys that set nothing (ignored or refused) */
};

/* The fields a section's lines gave: one bit per field. */
#define GIVEN_WORDS 2
_Static_assert(F_COUNT <= 64 * GIVEN_WORDS, "struct given holds every field");

struct given {
	uint64_t w[GIVEN_WORDS];
};

static bool
given_has(const struct given *g, enum field_id f)
{
	return (g->w[f / 64] >> (f % 64)) & 1;
}

static void
given_set(struct given *g, enum field_id f)
{
	g->w[f / 64] |= UINT64_C(1) << (f % 64);
}

static void
given_unset(struct given *g, enum field_id f)
{
	g->w[f / 64] &= ~(UINT64_C(1) << (f % 64));
}

struct field {
	size_t off;
	size_t size;
	bool is_str; /* an owned char * */
};

#define FSTR(m)                                                                \
	{                                                                      \
		offsetof(struct account, m), sizeof(char *), true              \
	}
#define FVAL(m)                                                                \
	{                                                                      \
		offsetof(struct account, m), sizeof(((struct account *)0)->m), \
		    false                                                      \
	}

static const struct field fields[F_COUNT] = {
    [F_HOST] = FSTR(host),
    [F_PORT] = FVAL(port),
    [F_SOURCE_IP] = FSTR(source_ip),
    [F_PROXY_HOST] = FSTR(proxy_host),
    [F_PROXY_PORT] = FVAL(proxy_port),
    [F_SOCKET] = FSTR(socket),
    [F_TIMEOUT] = FVAL(timeout),
    [F_LMTP] = FVAL(lmtp),
    [F_DOMAIN] = FSTR(domain),
    [F_PIPELINING] = FVAL(pipelining),
    [F_CHUNKING] = FVAL(chunking),
    [F_FROM] = FSTR(from),
    [F_AUTO_FROM] = FVAL(auto_from),
    [F_MAILDOMAIN] = FSTR(maildomain),
    [F_FROM_FULL_NAME] = FSTR(from_full_name),
    [F_ALLOW_FROM_OVERRIDE] = FVAL(allow_from_override),
    [F_SET_FROM_HEADER] = FVAL(set_from_header),
    [F_SET_DATE_HEADER] = FVAL(set_date_header),
    [F_SET_MSGID_HEADER] = FVAL(set_msgid_header),
    [F_REMOVE_BCC_HEADERS] = FVAL(remove_bcc_headers),
    [F_UNDISCLOSED_RECIPIENTS] = FVAL(undisclosed_recipients),
    [F_DSN_NOTIFY] = FSTR(dsn_notify),
    [F_DSN_RETURN] = FSTR(dsn_return),
    [F_RCPT_POLICY] = FVAL(rcpt_policy),
    [F_DELIVER] = FVAL(deliver),
    [F_LOGFILE] = FSTR(logfile),
    [F_LOGFILE_TIME_FORMAT] = FSTR(logfile_time_format),
    [F_LOGFILE_LEVEL] = FVAL(logfile_transcript),
    [F_SYSLOG] = FVAL(syslog_facility),
    [F_TLS] = FVAL(tls),
    [F_TLS_STARTTLS] = FVAL(tls_starttls),
    [F_TLS_TRUST_FILE] = FSTR(tls_trust_file),
    [F_TLS_CRL_FILE] = FSTR(tls_crl_file),
    [F_TLS_FINGERPRINT] = FSTR(tls_fingerprint),
    [F_TLS_KEY_FILE] = FSTR(tls_key_file),
    [F_TLS_CERT_FILE] = FSTR(tls_cert_file),
    [F_TLS_CERTCHECK] = FVAL(tls_certcheck),
    [F_TLS_MIN_DH_PRIME_BITS] = FVAL(tls_min_dh_prime_bits),
    [F_TLS_PRIORITIES] = FSTR(tls_priorities),
    [F_TLS_HOST_OVERRIDE] = FSTR(tls_host_override),
    [F_TLS_SESSION_CACHE] = FVAL(tls_session_cache),
    [F_AUTH] = FSTR(auth),
    [F_USER] = FSTR(user),
    [F_PASSWORD] = FSTR(password),
    [F_PASSWORDEVAL] = FSTR(passwordeval),
    [F_PASSWORDEVAL_TIMEOUT] = FVAL(passwordeval_timeout),
    [F_PASSWORDFD] = FVAL(passwordfd),
    [F_PASSWORDCRED] = FSTR(passwordcred),
    [F_PASSWORDENV] = FSTR(passwordenv),
    [F_AUTH_PLAINTEXT] = FVAL(auth_plaintext),
    [F_NTLMDOMAIN] = FSTR(ntlmdomain),
    [F_ALIASES] = FSTR(aliases),
    [F_QUEUE] = FVAL(queue),
    [F_QUEUE_DIR] = FSTR(queue_dir),
    [F_QUEUE_MAX_AGE] = FVAL(queue_max_age),
    [F_QUEUE_BACKOFF] = FVAL(queue_backoff),
    [F_QUEUE_FLUSH_AFTER_SEND] = FVAL(queue_flush_after_send),
    [F_DEAD_LETTER] = FSTR(dead_letter),
    [F_FALLBACK_ACCOUNT] = FSTR(fallback_account),
    [F_FAILOVER_TIMEOUT] = FVAL(failover_timeout),
    [F_REWRITE_LOCAL_FROM] = FVAL(rewrite_local_from),
    [F_QUALIFY_HEADERS] = FVAL(qualify_headers),
    [F_OAUTH2_PROVIDER] = FSTR(oauth2_provider),
    [F_OAUTH2_CLIENT_ID] = FSTR(oauth2_client_id),
    [F_OAUTH2_CLIENT_SECRET] = FSTR(oauth2_client_secret),
    [F_OAUTH2_CLIENT_SECRET_EVAL] = FSTR(oauth2_client_secret_eval),
    [F_OAUTH2_TOKEN_ENDPOINT] = FSTR(oauth2_token_endpoint),
    [F_OAUTH2_DEVICE_ENDPOINT] = FSTR(oauth2_device_endpoint),
    [F_OAUTH2_AUTHORIZE_ENDPOINT] = FSTR(oauth2_authorize_endpoint),
    [F_OAUTH2_SCOPE] = FSTR(oauth2_scope),
    [F_OAUTH2_TRUST_FILE] = FSTR(oauth2_trust_file),
    [F_OAUTH2_STORE] = FVAL(oauth2_store),
    [F_DNS_SERVER] = FSTR(dns_server),
    [F_DNSSEC_TRUST_ANCHOR] = FSTR(dnssec_trust_anchor),
};

static void *
field_ptr(struct account *a, enum field_id f)
{
	return (char *)a + fields[f].off;
}

static char **
field_str(struct account *a, enum field_id f)
{
	return field_ptr(a, f);
}

/* Free a string field; the password is wiped first. */
static void
field_free(struct account *a, enum field_id f)
{
	char **s = field_str(a, f);

	/* Every value, not the password alone: a passwordeval command may
	 * hold one ("echo ..."), and a system configuration's text is the
	 * group's (conf_keep_secrets, the spool helper's conf_free). */
	str_wipe_free(s);
}

static void
field_copy(struct account *dst, const struct account *src, enum field_id f)
{
	const void *from = (const char *)src + fields[f].off;

	if (!fields[f].is_str) {
		memcpy(field_ptr(dst, f), from, fields[f].size);
		return;
	}
	field_free(dst, f);
	if (*(char *const *)from)
		*field_str(dst, f) = xstrdup(*(char *const *)from);
}

/* ------------------------------------------------------------------------
 * Sections and the parsed file.
 */

struct section {
	char *name;         /* NULL for the defaults */
	unsigned long line; /* where it was defined */
	struct account acc; /* values, meaningful where `given` says so */
	struct given given; /* the fields its lines (or parents) set */
	/* Why its passwordeval gave nothing (conf_resolve_evals), for
	 * conf_select to report when the account is chosen; NULL: none. */
	char *eval_error;
	enum error_kind eval_error_kind;
	/* Its secrets were forgotten (conf_keep_secrets): conf_select
	 * marks it so. */
	bool withheld;
};

struct config {
	char *file; /* the name used in messages */
	struct section defaults;
	struct section **accounts;
	size_t naccounts;
	bool has_secret; /* a password or passwordeval line was seen */
	bool root_only;  /* a regular file of root's that no one else may
	                  * write (conf_root_only) */
	bool private_names; /* messages list no account (conf_set_private) */
};

/* Copy into dst every field that src gave, and note them as given. */
static void
section_apply(struct account *dst, struct given *given,
              const struct section *src)
{
	for (int f = 0; f < F_COUNT; f++) {
		if (!given_has(&src->given, (enum field_id)f))
			continue;
		field_copy(dst, &src->acc, (enum field_id)f);
	}
	for (int i = 0; given && i < GIVEN_WORDS; i++)
		given->w[i] |= src->given.w[i];
}

static void
section_clear(struct section *s)
{
	account_clear(&s->acc);
	free(s->name);
	s->name = NULL;
	memset(&s->given, 0, sizeof s->given);
	free(s->eval_error);
	s->eval_error = NULL;
}

static struct section *
config_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->naccounts; i++)
		if (strcmp(cfg->accounts[i]->name, name) == 0)
			return cfg->accounts[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * Value parsers.  Each checks one kind of value and stores it at dst.  It
 * returns NULL, or the reason the value is refused, worded to follow the
 * quoted value ("'70000' is not a port number (1-65535)").  An empty value
 * reaches a parser only for keys that allow one.
 */

typedef const char *parse_fn(const char *v, void *dst);

/* A decimal number in [min, max]: digits only, no sign, no spaces. */
static bool
number_in(const char *s, long min, long max, int *out)
{
	long n = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (*s - '0');
		if (n > max)
			return false;
	}
	if (n < min)
		return false;
	*out = (int)n;
	return true;
}

/* Keywords are matched without regard to case: msmtp wants lower case,
 * and accepting more cannot break a file msmtp accepts. */
static bool
is_on(const char *v)
{
	return *v == '\0' || str_ieq(v, "on");
}

static const char *
parse_text(const char *v, void *dst)
{
	char **s = dst;

	*s = *v ? xstrdup(v) : NULL;
	return NULL;
}

/* What a host name or address may hold: letters, digits, '-', '.', '_';
 * ':', '[', ']' and '%' for IPv6 addresses (and a zone); bytes of 0x80 and
 * up for an internationalized name, which address.c checks for good.
 * Anything else ('/', '@', '#', quotes...) is a typo or a pasted URL. */
static bool
host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (unsigned char)c >= 0x80 ||
	       strchr("-._:[]%", c) != NULL;
}

static bool
is_host_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

/* One or more hosts, tried in this order (failover), separated by commas
 * and/or blanks: "mx1.example.org, mx2.example.org".  Stored as written;
 * the driver splits it. */
static const char *
parse_hosts(const char *v, void *dst)
{
	const char *p = v;

	for (;;) {
		size_t n = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		while (p[n] != '\0' && !is_host_sep(p[n])) {
			if (!host_char_ok(p[n]))
				return "is not a host name or a list of them "
				       "(letters, digits, '-', '.', '_', or an "
				       "address; separated by commas or "
				       "blanks)";
			n++;
		}
		if (n == 0)
			return "holds an empty host name (names are separated "
			       "by commas or blanks)";
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p == ',')
			p++;
	}
	*(char **)dst = xstrdup(v);
	return NULL;
}

/* One host name or address (the proxy's); empty: no proxy (msmtp). */
static const char *
parse_one_host(const char *v, void *dst)
{
	for (const char *p = v; *p; p++)
		if (!host_char_ok(*p))
			return "is not one host name or address (letters, "
			       "digits, '-', '.', '_', or an address)";
	return parse_text(v, dst);
}

/* msmtp: an empty tls_trust_file means "trust no CA" (then only
 * tls_fingerprint or tls_certcheck off can make TLS work), which differs
 * from unset (the system store), so it is kept as "". */
static const char *
parse_trust_file(const char *v, void *dst)
{
	*(char **)dst = xstrdup(v);
	return NULL;
}

static const char *
parse_bool(const char *v, void *dst)
{
	bool *b = dst;

	if (is_on(v))
		*b = true;
	else if (str_ieq(v, "off"))
		*b = false;
	else
		return "is not 'on' or 'off'";
	return NULL;
}

/* Old msmtp spellings that take no value and turn something off. */
static const char *
parse_flag_off(const char *v, void *dst)
{
	bool *b = dst;

	if (*v)
		return "is not allowed: this old key takes no value";
	*b = false;
	return NULL;
}

/* msmtp's older keepbcc, still read by msmtp 1.8: the inverse of
 * remove_bcc_headers, "on" when given without a value. */
static const char *
parse_keepbcc(const char *v, void *dst)
{
	bool *remove = dst;
	bool keep = true;

	if (*v && parse_bool(v, &keep))
		return "is not 'on' or 'off'";
	*remove = !keep;
	return NULL;
}

static const char *
parse_port(const char *v, void *dst)
{
	if (!number_in(v, 1, 65535, dst))
		return "is not a port number (1-65535)";
	return NULL;
}

/* An empty value returns to the default (0). */
static const char *
parse_port_or_empty(const char *v, void *dst)
{
	if (*v == '\0') {
		*(int *)dst = 0;
		return NULL;
	}
	return parse_port(v, dst);
}

static const char *
parse_timeout(const char *v, void *dst)
{
	/* The limit keeps the value in milliseconds within an int. */
	if (str_ieq(v, "off")) {
		*(int *)dst = 0;
		return NULL;
	}
	if (!number_in(v, 1, INT_MAX / 1000, dst))
		return "is not 'off' or a number of seconds greater than 0";
	return NULL;
}

static const char *
parse_dh_bits(const char *v, void *dst)
{
	if (*v == '\0') {
		*(int *)dst = 0;
		return NULL;
	}
	if (!number_in(v, 1, 65536, dst))
		return "is not a number of bits (1-65536)";
	return NULL;
}

static const char *
parse_protocol(const char *v, void *dst)
{
	bool *lmtp = dst;

	if (str_ieq(v, "smtp"))
		*lmtp = false;
	else if (str_ieq(v, "lmtp"))
		*lmtp = true;
	else
		return "is not 'smtp' or 'lmtp'";
	return NULL;
}

static const char *
parse_from_header(const char *v, void *dst)
{
	enum conf_from_header *m = dst;

	if (*v == '\0' || str_ieq(v, "auto"))
		*m = CONF_FROM_AUTO;
	else if (str_ieq(v, "on"))
		*m = CONF_FROM_ON;
	else if (str_ieq(v, "off"))
		*m = CONF_FROM_OFF;
	else
		return "is not 'auto', 'on' or 'off'";
	return NULL;
}

/* add_missing_from_header, from msmtp before 1.8: on is auto. */
static const char *
parse_add_missing_from(const char *v, void *dst)
{
	bool on;

	if (parse_bool(v, &on))
		return "is not 'on' or 'off'";
	*(enum conf_from_header *)dst = on ? CONF_FROM_AUTO : CONF_FROM_OFF;
	return NULL;
}

static const char *
parse_auto_off(const char *v, void *dst)
{
	bool *b = dst;

	if (*v == '\0' || str_ieq(v, "auto"))
		*b = true;
	else if (str_ieq(v, "off"))
		*b = false;
	else
		return "is not 'auto' or 'off'";
	return NULL;
}

/* RFC 3461 4.1: NEVER, or a list of SUCCESS, FAILURE, DELAY. */
static bool
dsn_list_ok(const char *v)
{
	static const char *const words[] = {"success", "failure", "delay"};
	bool seen[3] = {false, false, false};

	for (;;) {
		size_t n = strcspn(v, ",");
		size_t w = 0;

		while (w < 3 &&
		       !(strlen(words[w]) == n && str_iprefix(v, words[w])))
			w++;
		if (w == 3 || seen[w])
			return false;
		seen[w] = true;
		if (v[n] == '\0')
			return true;
		v += n + 1;
	}
}

static const char *
parse_dsn_notify(const char *v, void *dst)
{
	char **s = dst;

	if (str_ieq(v, "off")) {
		*s = NULL;
		return NULL;
	}
	if (!str_ieq(v, "never") && !dsn_list_ok(v))
		return "is not 'off', 'never' or a list of success, failure, "
		       "delay (separated by commas, no spaces)";
	*s = xstrdup_upper(v);
	return NULL;
}

static const char *
parse_dsn_return(const char *v, void *dst)
{
	char **s = dst;

	if (str_ieq(v, "off"))
		*s = NULL;
	else if (str_ieq(v, "headers"))
		*s = xstrdup("HDRS");
	else if (str_ieq(v, "full"))
		*s = xstrdup("FULL");
	else
		return "is not 'off', 'headers' or 'full'";
	return NULL;
}

static const char *
parse_rcpt_policy(const char *v, void *dst)
{
	enum rcpt_policy *p = dst;

	if (str_ieq(v, "all"))
		*p = RCPT_POLICY_ALL;
	else if (str_ieq(v, "any"))
		*p = RCPT_POLICY_ANY;
	else
		return "is not 'all' or 'any'";
	return NULL;
}

static const char *
parse_deliver(const char *v, void *dst)
{
	enum conf_deliver *d = dst;

	if (str_ieq(v, "relay"))
		*d = CONF_DELIVER_RELAY;
	else if (str_ieq(v, "mx"))
		*d = CONF_DELIVER_MX;
	else
		return "is not 'relay' or 'mx'";
	return NULL;
}

static const struct {
	const char *name;
	int facility;
} facilities[] = {
    {"LOG_USER", LOG_USER},     {"LOG_MAIL", LOG_MAIL},
    {"LOG_LOCAL0", LOG_LOCAL0}, {"LOG_LOCAL1", LOG_LOCAL1},
    {"LOG_LOCAL2", LOG_LOCAL2}, {"LOG_LOCAL3", LOG_LOCAL3},
    {"LOG_LOCAL4", LOG_LOCAL4}, {"LOG_LOCAL5", LOG_LOCAL5},
    {"LOG_LOCAL6", LOG_LOCAL6}, {"LOG_LOCAL7", LOG_LOCAL7},
};

static const char *
parse_syslog(const char *v, void *dst)
{
	int *facility = dst;

	/* A mail program logs to the mail facility when none is named. */
	if (is_on(v)) {
		*facility = LOG_MAIL;
		return NULL;
	}
	if (str_ieq(v, "off")) {
		*facility = -1;
		return NULL;
	}
	for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++) {
		if (str_ieq(v, facilities[i].name)) {
			*facility = facilities[i].facility;
			return NULL;
		}
	}
	return "is not 'on', 'off', LOG_USER, LOG_MAIL or LOG_LOCAL0 to "
	       "LOG_LOCAL7";
}

int
conf_syslog_value(const char *v)
{
	int facility = -1;

	return parse_syslog(v, &facility) ? CONF_SYSLOG_INVALID : facility;
}

/* The mechanisms msmtp knows; stored in lower case. */
static const char *const auth_methods[] = {
    "plain",    "scram-sha-1", "scram-sha-256", "login", "cram-md5",   "gssapi",
    "external", "oauthbearer", "xoauth2",       "ntlm",  "digest-md5",
};

static const char *
parse_auth(const char *v, void *dst)
{
	char **s = dst;

	if (str_ieq(v, "off")) {
		*s = NULL;
		return NULL;
	}
	if (is_on(v)) {
		*s = xstrdup("on");
		return NULL;
	}
	for (size_t i = 0; i < sizeof auth_methods / sizeof auth_methods[0];
	     i++) {
		if (str_ieq(v, auth_methods[i])) {
			*s = xstrdup(auth_methods[i]);
			return NULL;
		}
	}
	return "is not 'on', 'off' or a known mechanism (plain, scram-sha-1, "
	       "scram-sha-256, login, cram-md5, gssapi, external, oauthbearer, "
	       "xoauth2, ntlm, digest-md5)";
}

/* What the log file gets: msmtp's line per message (summary, the
 * default), or the SMTP dialogue before it too (transcript). */
static const char *
parse_logfile_level(const char *v, void *dst)
{
	bool *transcript = dst;

	if (strcmp(v, "summary") == 0)
		*transcript = false;
	else if (strcmp(v, "transcript") == 0)
		*transcript = true;
	else
		return "is not 'summary' or 'transcript'";
	return NULL;
}

/* 1 s to 1 h: long enough for a pinentry dialog (passwordeval_timeout) or
 * a round of slow hosts (failover_timeout), short enough that a hung
 * command or host does not hold a queue run forever. */
static const char *
parse_seconds_1h(const char *v, void *dst)
{
	if (!number_in(v, 1, 3600, dst))
		return "is not a number of seconds (1-3600)";
	return NULL;
}

/* 0, 1 and 2 are the standard streams: standard input carries the
 * message, so the password cannot come from it.  Empty: unset. */
static const char *
parse_passwordfd(const char *v, void *dst)
{
	if (*v == '\0') {
		*(int *)dst = 0;
		return NULL;
	}
	if (!number_in(v, 3, INT_MAX, dst))
		return "is not a file descriptor number of 3 or more";
	return NULL;
}

/* A systemd credential name is a file name inside
 * $CREDENTIALS_DIRECTORY: no '/', not "." or "..". */
static const char *
parse_cred_name(const char *v, void *dst)
{
	if (strchr(v, '/') || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return "is not a credential name (a file name without '/')";
	return parse_text(v, dst);
}

/* POSIX portable variable names: letters, digits, '_', not a digit
 * first. */
static const char *
parse_env_name(const char *v, void *dst)
{
	for (const char *c = v; *c; c++) {
		bool alpha = (*c >= 'A' && *c <= 'Z') ||
		             (*c >= 'a' && *c <= 'z') || *c == '_';

		if (!alpha && !(c != v && *c >= '0' && *c <= '9'))
			return "is not an environment variable name "
			       "(letters, digits and '_')";
	}
	return parse_text(v, dst);
}

/* Pairs of hex digits joined by ':', as many as SHA-256 (32 bytes), SHA-1
 * (20) or MD5 (16) produce; stored in upper case. */
static const char *
parse_fingerprint(const char *v, void *dst)
{
	char **s = dst;
	size_t len = strlen(v);

	if (len == 0) {
		*s = NULL;
		return NULL;
	}
	if (len != 32 * 3 - 1 && len != 20 * 3 - 1 && len != 16 * 3 - 1)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		bool sep = i % 3 == 2;

		if (sep ? v[i] != ':' : hex_digit(v[i]) < 0)
			goto bad;
	}
	*s = xstrdup_upper(v);
	return NULL;
bad:
	return "is not a SHA-256, SHA-1 or MD5 fingerprint (hex pairs "
	       "separated by ':')";
}

static const char *
parse_queue_policy(const char *v, void *dst)
{
	enum queue_policy *q = dst;

	if (str_ieq(v, "never"))
		*q = QUEUE_NEVER;
	else if (str_ieq(v, "on-failure"))
		*q = QUEUE_ON_FAILURE;
	else if (str_ieq(v, "always"))
		*q = QUEUE_ALWAYS;
	else
		return "is not 'never', 'on-failure' or 'always'";
	return NULL;
}

/* A duration: a number of seconds, or a number and one unit (s, m, h, d,
 * w), as in 90, 30m, 12h, 5d, 2w.  At most `max` seconds, so that a time
 * plus a duration cannot overflow a time_t, even a 32-bit one. */
static bool
duration_in(const char *v, long min, long max, long *out)
{
	static const struct {
		char unit;
		long seconds;
	} units[] = {
	    {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800},
	};
	long n = 0, scale = 1;
	const char *p = v;

	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > max)
			return false;
	}
	if (p == v)
		return false;
	if (*p != '\0') {
		size_t i = 0;

		while (i < sizeof units / sizeof units[0] &&
		       units[i].unit != *p)
			i++;
		if (i == sizeof units / sizeof units[0] || p[1] != '\0')
			return false;
		scale = units[i].seconds;
	}
	if (n > max / scale || n * scale < min)
		return false;
	*out = n * scale;
	return true;
}

/* About ten years: beyond any sensible queue lifetime. */
#define DURATION_MAX (520L * 604800)
/* queue_backoff is doubled up to 4 hours; a longer start would not be. */
#define BACKOFF_MAX (4L * 3600)

static const char *
parse_max_age(const char *v, void *dst)
{
	if (!duration_in(v, 1, DURATION_MAX, dst))
		return "is not a duration greater than 0 (a number of seconds, "
		       "or a number and s, m, h, d or w; at most 520w)";
	return NULL;
}

static const char *
parse_backoff(const char *v, void *dst)
{
	if (!duration_in(v, 0, BACKOFF_MAX, dst))
		return "is not a duration from 0 to 4h (a number of seconds, "
		       "or a number and s, m or h)";
	return NULL;
}

/* A file, or "off" (no dead letter file), which is kept as "off". */
static const char *
parse_dead_letter(const char *v, void *dst)
{
	if (str_ieq(v, "off")) {
		*(char **)dst = xstrdup("off");
		return NULL;
	}
	return parse_text(v, dst);
}

/* ------------------------------------------------------------------------
 * OAuth2 (RFC 6749): the provider, the client, its endpoints.
 */

static const char *
parse_oauth2_provider(const char *v, void *dst)
{
	static const char *const names[] = {"google", "microsoft", "generic"};
	char **s = dst;

	if (str_ieq(v, "off")) {
		*s = NULL;
		return NULL;
	}
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (str_ieq(v, names[i])) {
			*s = xstrdup(names[i]);
			return NULL;
		}
	}
	return "is not 'google', 'microsoft', 'generic' or 'off'";
}

/* RFC 6749 3.1, 3.2: an endpoint is reached over TLS only, and a client
 * id, a secret and tokens travel to it.  "https://", a host (a name, an
 * address, [an IPv6 address]), an optional port, an optional path and
 * query, no fragment, no user info, no blanks.  Empty: unset (the
 * provider's own). */
static const char *
parse_https_url(const char *v, void *dst)
{
	const char *host, *p;

	if (*v == '\0')
		return parse_text(v, dst);
	if (!str_iprefix(v, "https://"))
		return "is not an https:// URL (OAuth2 endpoints are reached "
		       "over TLS only)";
	host = v + strlen("https://");
	for (p = host; *p && *p != '/' && *p != '?'; p++)
		if (!host_char_ok(*p))
			return "is not an https:// URL with a host name (no "
			       "user@, no blanks)";
	if (p == host || *host == ':')
		return "is not an https:// URL: it names no host";
	for (; *p; p++)
		if (*p == ' ' || *p == '#' || (unsigned char)*p >= 0x7f)
			return "is not an https:// URL (no blanks, no "
			       "fragment '#', ASCII only)";
	return parse_text(v, dst);
}

/* RFC 6749 A.1: a client id is *VSCHAR (printable ASCII and space); a
 * leading or trailing blank was trimmed by the reader. */
static const char *
parse_client_id(const char *v, void *dst)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return "is not a client id (printable ASCII)";
	return parse_text(v, dst);
}

/* RFC 6749 3.3: scope tokens (%x21 / %x23-5B / %x5D-7E) separated by
 * single spaces. */
static const char *
parse_scope(const char *v, void *dst)
{
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ' && p != v && p[1] != ' ' && p[1] != '\0')
			continue;
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return "is not a list of scopes (printable ASCII "
			       "without '\"' or '\\', separated by single "
			       "spaces)";
	}
	return parse_text(v, dst);
}

static const char *
parse_oauth2_store(const char *v, void *dst)
{
	enum conf_oauth2_store *w = dst;

	if (str_ieq(v, "auto"))
		*w = CONF_OAUTH2_STORE_AUTO;
	else if (str_ieq(v, "keyring"))
		*w = CONF_OAUTH2_STORE_KEYRING;
	else if (str_ieq(v, "file"))
		*w = CONF_OAUTH2_STORE_FILE;
	else
		return "is not 'auto', 'keyring' or 'file'";
	return NULL;
}

static const char *
parse_ignored(const char *v, void *dst)
{
	(void)v;
	(void)dst;
	return NULL;
}

/* msmtp replaces an `eval` line by the output of a shell command.  Running
 * commands while reading a file is a door we keep shut: the file would
 * need the same care as a script, and the command would run even for
 * --help.  passwordeval remains, for the one value that needs it. */
static const char *
parse_eval(const char *v, void *dst)
{
	(void)v;
	(void)dst;
	return "is not supported: mailpost never runs commands while reading "
	       "its configuration (write the value itself; for a password, "
	       "use passwordeval)";
}

/* ------------------------------------------------------------------------
 * The keys.
 */

enum {
	KEY_NEEDS_VALUE = 1 << 0, /* an empty value is an error */
	KEY_FILE = 1 << 1,        /* a file name: "~/" becomes $HOME/ */
	KEY_SECRET = 1 << 2,      /* the file needs strict permissions */
	KEY_QUIET = 1 << 3,       /* never repeat the value in a message */
};

struct key {
	const char *name;
	enum field_id field;
	parse_fn *parse;
	unsigned flags;
};

static const struct key keys[] = {
    {"host", F_HOST, parse_hosts, KEY_NEEDS_VALUE},
    {"port", F_PORT, parse_port, KEY_NEEDS_VALUE},
    {"source_ip", F_SOURCE_IP, parse_text, 0},
    {"proxy_host", F_PROXY_HOST, parse_one_host, 0},
    {"proxy_port", F_PROXY_PORT, parse_port_or_empty, 0},
    {"socket", F_SOCKET, parse_text, KEY_FILE},
    {"timeout", F_TIMEOUT, parse_timeout, KEY_NEEDS_VALUE},
    {"protocol", F_LMTP, parse_protocol, KEY_NEEDS_VALUE},
    {"domain", F_DOMAIN, parse_text, 0},
    {"pipelining", F_PIPELINING, parse_bool, 0},
    {"chunking", F_CHUNKING, parse_bool, 0},
    {"from", F_FROM, parse_text, 0},
    {"auto_from", F_AUTO_FROM, parse_bool, 0},
    {"maildomain", F_MAILDOMAIN, parse_text, 0},
    {"from_full_name", F_FROM_FULL_NAME, parse_text, 0},
    {"allow_from_override", F_ALLOW_FROM_OVERRIDE, parse_bool, KEY_NEEDS_VALUE},
    {"set_from_header", F_SET_FROM_HEADER, parse_from_header, 0},
    {"add_missing_from_header", F_SET_FROM_HEADER, parse_add_missing_from, 0},
    {"set_date_header", F_SET_DATE_HEADER, parse_auto_off, 0},
    {"add_missing_date_header", F_SET_DATE_HEADER, parse_bool, 0},
    {"set_msgid_header", F_SET_MSGID_HEADER, parse_auto_off, 0},
    {"remove_bcc_headers", F_REMOVE_BCC_HEADERS, parse_bool, 0},
    {"keepbcc", F_REMOVE_BCC_HEADERS, parse_keepbcc, 0},
    {"undisclosed_recipients", F_UNDISCLOSED_RECIPIENTS, parse_bool, 0},
    {"dsn_notify", F_DSN_NOTIFY, parse_dsn_notify, KEY_NEEDS_VALUE},
    {"dsn_return", F_DSN_RETURN, parse_dsn_return, KEY_NEEDS_VALUE},
    {"rcpt_policy", F_RCPT_POLICY, parse_rcpt_policy, KEY_NEEDS_VALUE},
    {"deliver", F_DELIVER, parse_deliver, KEY_NEEDS_VALUE},
    {"logfile", F_LOGFILE, parse_text, KEY_FILE},
    {"logfile_time_format", F_LOGFILE_TIME_FORMAT, parse_text, 0},
    {"logfile_level", F_LOGFILE_LEVEL, parse_logfile_level, KEY_NEEDS_VALUE},
    {"syslog", F_SYSLOG, parse_syslog, 0},
    {"tls", F_TLS, parse_bool, 0},
    {"tls_starttls", F_TLS_STARTTLS, parse_bool, 0},
    {"tls_nostarttls", F_TLS_STARTTLS, parse_flag_off, 0},
    {"tls_trust_file", F_TLS_TRUST_FILE, parse_trust_file, KEY_FILE},
    {"tls_crl_file", F_TLS_CRL_FILE, parse_text, KEY_FILE},
    {"tls_fingerprint", F_TLS_FINGERPRINT, parse_fingerprint, 0},
    {"tls_key_file", F_TLS_KEY_FILE, parse_text, KEY_FILE},
    {"tls_cert_file", F_TLS_CERT_FILE, parse_text, KEY_FILE},
    {"tls_certcheck", F_TLS_CERTCHECK, parse_bool, 0},
    {"tls_nocertcheck", F_TLS_CERTCHECK, parse_flag_off, 0},
    {"tls_min_dh_prime_bits", F_TLS_MIN_DH_PRIME_BITS, parse_dh_bits, 0},
    {"tls_priorities", F_TLS_PRIORITIES, parse_text, 0},
    {"tls_host_override", F_TLS_HOST_OVERRIDE, parse_text, 0},
    {"tls_session_cache", F_TLS_SESSION_CACHE, parse_bool, 0},
    {"tls_force_sslv3", F_NONE, parse_ignored, 0}, /* msmtp ignores it */
    {"auth", F_AUTH, parse_auth, 0},
    {"user", F_USER, parse_text, 0},
    {"password", F_PASSWORD, parse_text, KEY_SECRET | KEY_QUIET},
    {"passwordeval", F_PASSWORDEVAL, parse_text, KEY_SECRET | KEY_QUIET},
    {"passwordeval_timeout", F_PASSWORDEVAL_TIMEOUT, parse_seconds_1h,
     KEY_NEEDS_VALUE},
    /* These three name where a password is, not the password: a file
     * holding them needs no stricter mode than any other. */
    {"passwordfd", F_PASSWORDFD, parse_passwordfd, 0},
    {"passwordcred", F_PASSWORDCRED, parse_cred_name, 0},
    {"passwordenv", F_PASSWORDENV, parse_env_name, 0},
    {"auth_plaintext", F_AUTH_PLAINTEXT, parse_bool, 0},
    {"ntlmdomain", F_NTLMDOMAIN, parse_text, 0},
    {"aliases", F_ALIASES, parse_text, KEY_FILE},
    {"rewrite_local_from", F_REWRITE_LOCAL_FROM, parse_bool, 0},
    {"qualify_headers", F_QUALIFY_HEADERS, parse_bool, 0},
    /* The queue and what happens to mail that cannot be delivered. */
    {"queue", F_QUEUE, parse_queue_policy, KEY_NEEDS_VALUE},
    {"queue_dir", F_QUEUE_DIR, parse_text, KEY_FILE},
    {"queue_max_age", F_QUEUE_MAX_AGE, parse_max_age, KEY_NEEDS_VALUE},
    {"queue_backoff", F_QUEUE_BACKOFF, parse_backoff, KEY_NEEDS_VALUE},
    {"queue_flush_after_send", F_QUEUE_FLUSH_AFTER_SEND, parse_bool, 0},
    {"dead_letter", F_DEAD_LETTER, parse_dead_letter, KEY_FILE},
    {"fallback_account", F_FALLBACK_ACCOUNT, parse_text, 0},
    {"failover_timeout", F_FAILOVER_TIMEOUT, parse_seconds_1h, KEY_NEEDS_VALUE},
    /* OAuth2: mailpost gets the token itself (conf.h). */
    {"oauth2_provider", F_OAUTH2_PROVIDER, parse_oauth2_provider,
     KEY_NEEDS_VALUE},
    {"oauth2_client_id", F_OAUTH2_CLIENT_ID, parse_client_id, 0},
    {"oauth2_client_secret", F_OAUTH2_CLIENT_SECRET, parse_text,
     KEY_SECRET | KEY_QUIET},
    {"oauth2_client_secret_eval", F_OAUTH2_CLIENT_SECRET_EVAL, parse_text,
     KEY_SECRET | KEY_QUIET},
    {"oauth2_token_endpoint", F_OAUTH2_TOKEN_ENDPOINT, parse_https_url, 0},
    {"oauth2_device_endpoint", F_OAUTH2_DEVICE_ENDPOINT, parse_https_url, 0},
    {"oauth2_authorize_endpoint", F_OAUTH2_AUTHORIZE_ENDPOINT, parse_https_url,
     0},
    {"oauth2_scope", F_OAUTH2_SCOPE, parse_scope, 0},
    {"oauth2_trust_file", F_OAUTH2_TRUST_FILE, parse_text, KEY_FILE},
    {"oauth2_store", F_OAUTH2_STORE, parse_oauth2_store, KEY_NEEDS_VALUE},
    /* DNS look-ups (dns.h): the resolver's checks the servers' syntax. */
    {"dns_server", F_DNS_SERVER, parse_text, KEY_NEEDS_VALUE},
    {"dnssec_trust_anchor", F_DNSSEC_TRUST_ANCHOR, parse_text,
     KEY_FILE | KEY_NEEDS_VALUE},
    {"eval", F_NONE, parse_eval, KEY_QUIET},
};

static const struct key *
key_find(const char *name)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * The parser proper.
 */

struct parser {
	struct config *cfg;
	const char *name;    /* file name for messages */
	unsigned long line;  /* current line, 1-based */
	struct section *cur; /* NULL before the first defaults/account */
	struct error *err;
};

static int syntax_error(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "FILE:LINE: " and the message, as ERROR_CONFIG. */
static int
syntax_error(struct parser *p, const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return error_set(p->err, ERROR_CONFIG, "%s:%lu: %s", p->name, p->line,
	                 msg);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The value after the key: either a double-quoted string, in which \" and
 * \\ stand for the characters themselves (any other backslash is kept, so
 * that a quoted Windows-style path or a password survives), or the rest of
 * the line without its surrounding blanks.  out holds CONF_LINE_MAX + 1. */
static int
read_value(struct parser *p, const char *s, char *out)
{
	size_t n = 0;

	while (is_blank(*s))
		s++;
	if (*s != '"') {
		size_t len = strlen(s);

		while (len > 0 && is_blank(s[len - 1]))
			len--;
		memcpy(out, s, len);
		out[len] = '\0';
		return 0;
	}
	for (s++; *s != '"'; s++) {
		if (*s == '\0')
			return syntax_error(p, "missing closing quote");
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		out[n++] = *s;
	}
	out[n] = '\0';
	for (s++; is_blank(*s); s++)
		;
	if (*s != '\0')
		return syntax_error(p, "text after the closing quote");
	return 0;
}

/* "~" or "~/..." at the start of a file name becomes $HOME. */
static int
expand_home(struct parser *p, const char *key, char *value)
{
	const char *home;
	size_t hlen, vlen = strlen(value);

	if (value[0] != '~' || (value[1] != '\0' && value[1] != '/'))
		return 0;
	home = privilege_getenv("HOME");
	if (!home || *home == '\0')
		return syntax_error(p,
		                    "key '%s': cannot expand '~': HOME is "
		                    "not set",
		                    key);
	hlen = strlen(home);
	if (hlen + vlen - 1 > CONF_LINE_MAX)
		return syntax_error(p, "key '%s': the file name is too long",
		                    key);
	memmove(value + hlen, value + 1, vlen);
	memcpy(value, home, hlen);
	return 0;
}

static struct section *
section_new(const char *name, unsigned long line)
{
	struct section *s = xcalloc(1, sizeof *s);

	s->name = xstrdup(name);
	s->line = line;
	return s;
}

static void
config_add(struct config *cfg, struct section *s)
{
	cfg->accounts = xrealloc(cfg->accounts,
	                         (cfg->naccounts + 1) * sizeof *cfg->accounts);
	cfg->accounts[cfg->naccounts++] = s;
}

/* Copy s[0..n) without surrounding blanks into out (CONF_LINE_MAX + 1). */
static void
trim_into(char *out, const char *s, size_t n)
{
	while (n > 0 && is_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Inherit from each name in the comma-separated list, in order. */
static int
inherit_parents(struct parser *p, struct section *acc, const char *list)
{
	char parent[CONF_LINE_MAX + 1];

	for (;;) {
		size_t n = strcspn(list, ",");
		const struct section *from;

		trim_into(parent, list, n);
		if (parent[0] == '\0')
			return syntax_error(p,
			                    "missing account name after ':'");
		if (strcmp(parent, acc->name) == 0)
			return syntax_error(p,
			                    "account '%s' cannot inherit "
			                    "from itself",
			                    parent);
		from = config_find(p->cfg, parent);
		if (!from)
			return syntax_error(p,
			                    "account '%s' is not defined "
			                    "(a parent must be defined "
			                    "before the accounts that "
			                    "inherit from it)",
			                    parent);
		section_apply(&acc->acc, &acc->given, from);
		if (list[n] == '\0')
			return 0;
		list += n + 1;
	}
}

/* "account NAME" or "account NAME : PARENT[,PARENT...]". */
static int
start_account(struct parser *p, const char *value)
{
	char name[CONF_LINE_MAX + 1];
	size_t n = strcspn(value, ":");
	const struct section *dup;
	struct section *acc;

	trim_into(name, value, n);
	if (name[0] == '\0')
		return syntax_error(p, "missing account name");
	dup = config_find(p->cfg, name);
	if (dup)
		return syntax_error(p,
		                    "account '%s' is already defined on "
		                    "line %lu",
		                    name, dup->line);
	if (p->cfg->naccounts >= CONF_ACCOUNTS_MAX)
		return syntax_error(p, "more than %d accounts",
		                    CONF_ACCOUNTS_MAX);
	acc = section_new(name, p->line);
	/* Added before inheriting so that it is freed on any error. */
	config_add(p->cfg, acc);
	p->cur = acc;
	section_apply(&acc->acc, &acc->given, &p->cfg->defaults);
	if (value[n] == ':')
		return inherit_parents(p, acc, value + n + 1);
	return 0;
}

static int
set_key(struct parser *p, const char *name, char *value)
{
	const struct key *k = key_find(name);
	const char *why;

	if (!k)
		return syntax_error(p, "unknown key '%s'", name);
	if ((k->flags & KEY_NEEDS_VALUE) && value[0] == '\0')
		return syntax_error(p, "key '%s' needs a value", name);
	if ((k->flags & KEY_FILE) && expand_home(p, name, value) < 0)
		return -1;
	if (!p->cur) {
		/* msmtp: lines before any defaults or account line form an
		 * account named "default" (the file format of msmtp 1.2). */
		if (start_account(p, "default") < 0)
			return -1;
	}
	if (k->field != F_NONE && fields[k->field].is_str)
		field_free(&p->cur->acc, k->field);
	why = k->parse(value, k->field == F_NONE
	                          ? NULL
	                          : field_ptr(&p->cur->acc, k->field));
	if (why && (k->flags & KEY_QUIET))
		return syntax_error(p, "key '%s' %s", name, why);
	if (why)
		return syntax_error(p, "key '%s': '%s' %s", name, value, why);
	if (k->field != F_NONE)
		given_set(&p->cur->given, k->field);
	if ((k->flags & KEY_SECRET) && value[0] != '\0')
		p->cfg->has_secret = true;
	return 0;
}

static int parse_key_value(struct parser *p, char *key, char *value);

/* One line, without its line ending, NUL-terminated; the copy of its
 * value wiped, as it may be a password. */
static int
parse_line(struct parser *p, char *line)
{
	char value[CONF_LINE_MAX + 1];
	int rc = parse_key_value(p, line, value);

	wipe(value, sizeof value);
	return rc;
}

static int
parse_key_value(struct parser *p, char *line, char *value)
{
	char *key = line;
	size_t klen;

	while (is_blank(*key))
		key++;
	/* Only whole-line comments: msmtp keeps '#' inside a value, and
	 * passwords do contain it. */
	if (*key == '#' || *key == '\0')
		return 0;
	/* Values reach the wire (host, domain) and logs: no CR or other
	 * control bytes; a tab is a blank. */
	for (const char *c = key; *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return syntax_error(p, "control character in line");
	klen = strcspn(key, " \t");
	if (read_value(p, key + klen, value) < 0)
		return -1;
	key[klen] = '\0';
	if (strcmp(key, "account") == 0)
		return start_account(p, value);
	if (strcmp(key, "defaults") == 0) {
		if (value[0] != '\0')
			return syntax_error(p, "'defaults' takes no value");
		p->cur = &p->cfg->defaults;
		return 0;
	}
	return set_key(p, key, value);
}

/* A line must fit the ceiling and be text. */
static int
check_line(struct parser *p, const char *text, size_t n)
{
	if (n > CONF_LINE_MAX)
		return syntax_error(p, "line longer than %d bytes",
		                    CONF_LINE_MAX);
	if (memchr(text, '\0', n))
		return syntax_error(p, "NUL byte in line");
	return 0;
}

void
conf_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->naccounts; i++) {
		section_clear(cfg->accounts[i]);
		free(cfg->accounts[i]);
	}
	free(cfg->accounts);
	section_clear(&cfg->defaults);
	free(cfg->file);
	free(cfg);
}

int
conf_parse(const char *text, size_t len, const char *name, struct config **out,
           struct error *err)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);
	struct parser p = {cfg, name, 0, NULL, err};
	char line[CONF_LINE_MAX + 2];

	*out = NULL;
	cfg->file = xstrdup(name);
	if (len > CONF_FILE_MAX) {
		conf_free(cfg);
		return error_set(err, ERROR_CONFIG,
		                 "%s is larger than %d bytes", name,
		                 CONF_FILE_MAX);
	}
	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;
		size_t next = nl ? n + 1 : n;

		p.line++;
		if (n > 0 && text[n - 1] == '\r')
			n--;
		if (check_line(&p, text, n) < 0) {
			conf_free(cfg);
			return -1;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		if (parse_line(&p, line) < 0) {
			wipe(line, sizeof line);
			conf_free(cfg);
			return -1;
		}
		text += next;
		len -= next;
	}
	wipe(line, sizeof line);
	*out = cfg;
	return 0;
}

/* ------------------------------------------------------------------------
 * Files.
 */

/* Where a password may live: only its owner may read or change the file.
 * A system file may also be root's and readable by its group: that is how
 * a shared msmtprc keeps its password from other users (msmtp checks only
 * the user's file; Debian documents 0640 root:msmtp for /etc/msmtprc). */
static int
check_private(const char *path, const struct stat *st, bool system,
              struct error *err)
{
	mode_t group_read = system ? 040 : 0;
	const char *how = NULL;

	if (st->st_uid != geteuid() && !(system && st->st_uid == 0))
		return error_set(err, ERROR_CONFIG,
		                 "%s contains a password but is owned by "
		                 "another user (uid %lu); it must be owned by "
		                 "the user running mailpost%s",
		                 path, (unsigned long)st->st_uid,
		                 system ? " or by root" : "");
	if (st->st_mode & 044 & ~group_read)
		how = "readable";
	else if (st->st_mode & 022)
		how = "writable";
	else if (st->st_mode & 011)
		how = "accessible";
	if (how)
		return error_set(err, ERROR_CONFIG,
		                 "%s contains a password but is %s by others; "
		                 "run 'chmod %s %s'",
		                 path, how, system ? "640" : "600", path);
	return 0;
}

/* /dev/null is accepted as an empty file: handy for tests and for saying
 * "no configuration" explicitly. */
static bool
is_dev_null(const struct stat *st)
{
	struct stat null;

	return S_ISCHR(st->st_mode) && stat("/dev/null", &null) == 0 &&
	       S_ISCHR(null.st_mode) && st->st_rdev == null.st_rdev;
}

static int
read_all(int fd, const char *path, struct buf *b, struct error *err)
{
	if (buf_read_fd(b, fd) == 0)
		return 0;
	if (errno == EMSGSIZE)
		return error_set(err, ERROR_CONFIG,
		                 "%s is larger than %d bytes", path,
		                 CONF_FILE_MAX);
	return error_set_errno(err, ERROR_CONFIG, errno, "cannot read %s",
	                       path);
}

/* Open without following into a FIFO or device that would block, then
 * judge what was opened (fstat: no race with a rename in between). */
static int
open_config(const char *path, struct stat *st, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return error_set_errno(err, ERROR_CONFIG, errno,
		                       "cannot read %s", path);
	if (fstat(fd, st) < 0) {
		error_set_errno(err, ERROR_CONFIG, errno, "cannot read %s",
		                path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode) && !is_dev_null(st)) {
		close(fd);
		return error_set(err, ERROR_CONFIG,
		                 "cannot read %s: not a regular file", path);
	}
	return fd;
}

int
conf_read_file(const char *path, struct config **out, struct error *err)
{
	return conf_read_file_as(path, conf_is_system_file(path), out, err);
}

int
conf_read_file_as(const char *path, bool system, struct config **out,
                  struct error *err)
{
	struct stat st;
	struct buf b;
	int fd, rc;

	*out = NULL;
	fd = open_config(path, &st, err);
	if (fd < 0)
		return -1;
	buf_init(&b, CONF_FILE_MAX);
	rc = S_ISREG(st.st_mode) ? read_all(fd, path, &b, err) : 0;
	close(fd);
	if (rc == 0)
		rc = conf_parse(buf_str(&b), b.len, path, out, err);
	buf_clear_secret(&b);
	if (rc < 0)
		return -1;
	(*out)->root_only =
	    S_ISREG(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 022);
	if ((*out)->has_secret && check_private(path, &st, system, err) < 0) {
		conf_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* A new string dir + rest, or NULL when dir is unset or empty. */
static char *
join(const char *dir, const char *rest)
{
	struct buf b;

	if (!dir || *dir == '\0')
		return NULL;
	buf_init(&b, PATH_MAX);
	if (buf_printf(&b, "%s%s", dir, rest) < 0)
		return NULL;
	return b.data;
}

static bool
exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0;
}

bool
conf_is_system_file(const char *path)
{
	static const char *const names[] = {
	    SYSCONFDIR "/mailpost.conf",
	    SYSCONFDIR "/msmtprc",
	    "/etc/msmtprc",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(path, names[i]) == 0)
			return true;
	return false;
}

/* The files looked for, in conf_locate's order, into out (new strings);
 * their number.  One whose directory is not known ($MAILPOST_CONFIG
 * unset, no $HOME) is left out. */
static size_t
candidates(char *out[CONF_CANDIDATES_MAX])
{
	const char *xdg = privilege_getenv("XDG_CONFIG_HOME");
	const char *home = privilege_getenv("HOME");
	char *all[CONF_CANDIDATES_MAX];
	size_t n = 0, kept = 0;

	/* XDG Base Directory: a relative $XDG_CONFIG_HOME is to be ignored. */
	if (!xdg || xdg[0] != '/')
		xdg = NULL;
	/* The user's files before the system's; at each level mailpost's
	 * own before msmtp's, in msmtp's order (~/.msmtprc, then the XDG
	 * file), so that replacing msmtp changes nothing. */
	all[n++] = join(privilege_getenv("MAILPOST_CONFIG"), "");
	all[n++] = xdg ? join(xdg, "/mailpost/config")
	               : join(home, "/.config/mailpost/config");
	all[n++] = join(home, "/.msmtprc");
	all[n++] = xdg ? join(xdg, "/msmtp/config")
	               : join(home, "/.config/msmtp/config");
	all[n++] = join(SYSCONFDIR, "/mailpost.conf");
	all[n++] = join(SYSCONFDIR, "/msmtprc");
	/* Debian's msmtp-mta keeps it there whatever mailpost's prefix. */
	if (strcmp(SYSCONFDIR, "/etc") != 0)
		all[n++] = join("/etc", "/msmtprc");
	for (size_t i = 0; i < n; i++)
		if (all[i])
			out[kept++] = all[i];
	return kept;
}

int
conf_locate(const char *explicit_path, char **path, struct error *err)
{
	char *cand[CONF_CANDIDATES_MAX];
	size_t n;

	*path = NULL;
	if (explicit_path) {
		if (access(explicit_path, R_OK) < 0)
			return error_set_errno(err, ERROR_CONFIG, errno,
			                       "cannot read %s", explicit_path);
		*path = xstrdup(explicit_path);
		return 0;
	}
	n = candidates(cand);
	for (size_t i = 0; i < n; i++) {
		if (!*path && exists(cand[i]))
			*path = cand[i];
		else
			free(cand[i]);
	}
	return 0;
}

char *
conf_looked_for(void)
{
	const char *env = privilege_getenv("MAILPOST_CONFIG");
	char *cand[CONF_CANDIDATES_MAX];
	size_t n = candidates(cand), i = 0;
	struct buf b;

	buf_init(&b, ERROR_MSG_MAX);
	/* The variable is named whether or not it is set: it is the one
	 * way to point at a file elsewhere without -C. */
	if (env && *env)
		(void)buf_printf(&b, "$MAILPOST_CONFIG=%s", cand[i++]);
	else
		(void)buf_printf(&b, "$MAILPOST_CONFIG (not set)");
	for (; i < n; i++)
		(void)buf_printf(&b, ", %s", cand[i]);
	for (i = 0; i < n; i++)
		free(cand[i]);
	return b.data ? b.data : xstrdup("");
}

char *
conf_user_file(void)
{
	const char *xdg = privilege_getenv("XDG_CONFIG_HOME");

	if (xdg && xdg[0] == '/')
		return join(xdg, "/mailpost/config");
	return join(privilege_getenv("HOME"), "/.config/mailpost/config");
}

char *
conf_state_dir(const char *leaf, struct error *err)
{
	const char *base = privilege_getenv("XDG_STATE_HOME");
	const char *sub = "/mailpost/";
	struct passwd *pw;
	size_t n;
	char *s;

	if (!base || base[0] != '/') {
		base = privilege_getenv("HOME");
		sub = "/.local/state/mailpost/";
		if (!base || base[0] != '/') {
			pw = getpwuid(getuid());
			base = pw && pw->pw_dir && pw->pw_dir[0] == '/'
			           ? pw->pw_dir
			           : NULL;
		}
	}
	if (!base) {
		error_set(err, ERROR_CONFIG,
		          "cannot find a home directory for the %s; set "
		          "%sHOME",
		          leaf,
		          strcmp(leaf, "queue") == 0 ? "queue_dir or " : "");
		return NULL;
	}
	n = strlen(base) + strlen(sub) + strlen(leaf) + 1;
	s = xmalloc(n);
	snprintf(s, n, "%s%s%s", base, sub, leaf);
	return s;
}

/* ------------------------------------------------------------------------
 * Choosing an account.
 */

/* msmtp: `from` may be a shell pattern; matched without regard to ASCII
 * case, as msmtp compared plain addresses case-insensitively. */
bool
conf_from_matches(const char *pattern, const char *sender)
{
	char *pat = xstrdup(pattern), *addr = xstrdup(sender);
	bool match;

	for (char *c = pat; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	for (char *c = addr; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	match = fnmatch(pat, addr, 0) == 0;
	free(pat);
	free(addr);
	return match;
}

static const struct section *
find_by_sender(const struct config *cfg, const char *sender)
{
	for (size_t i = 0; i < cfg->naccounts; i++) {
		const struct section *s = cfg->accounts[i];

		if (s->acc.from && conf_from_matches(s->acc.from, sender))
			return s;
	}
	return NULL;
}

/* The accounts of cfg as "a, b, c" for a message that says which exist
 * (cut with "..." past the buffer). */
static void
account_names(const struct config *cfg, char *out, size_t n)
{
	size_t used = 0;

	if (cfg->private_names) {
		str_copy(out, n, "(listed only for root and its group)");
		return;
	}
	out[0] = '\0';
	for (size_t i = 0; i < cfg->naccounts && used < n; i++) {
		int k = snprintf(out + used, n - used, "%s%s", i ? ", " : "",
		                 cfg->accounts[i]->name);

		if (k < 0 || (size_t)k >= n - used) {
			if (n > 4)
				memcpy(out + n - 4, "...", 4);
			return;
		}
		used += (size_t)k;
	}
}

/* The section an account name selects.  The defaults alone are the
 * account named "default" (the name conf_select gives them), so that a
 * name it returned, stored in a queue entry, selects the same account
 * again. */
static struct section *
named_section(const struct config *cfg, const char *name)
{
	struct section *s = config_find(cfg, name);

	if (!s && cfg->naccounts == 0 && strcmp(name, "default") == 0)
		s = (struct section *)&cfg->defaults;
	return s;
}

static const struct section *
choose(const struct config *cfg, const char *name, const char *sender,
       struct error *err)
{
	char names[256];

	const struct section *s;

	if (name) {
		s = named_section(cfg, name);
		if (!s) {
			account_names(cfg, names, sizeof names);
			error_set(err, ERROR_CONFIG,
			          "account '%s' not found in %s; %s%s", name,
			          cfg->file,
			          cfg->naccounts ? "its accounts: "
			                         : "it has no accounts, only "
			                           "defaults",
			          names);
		}
		return s;
	}
	if (sender && *sender) {
		s = find_by_sender(cfg, sender);
		if (s)
			return s;
	}
	s = config_find(cfg, "default");
	if (s)
		return s;
	if (cfg->naccounts == 0)
		return &cfg->defaults;
	account_names(cfg, names, sizeof names);
	error_set(err, ERROR_CONFIG,
	          "no account 'default' in %s and no account chosen; choose "
	          "one of %s with -A NAME (msmtp's -a NAME), or add "
	          "'account default : NAME' to the file",
	          cfg->file, names);
	return NULL;
}

/* An error about section s of cfg: in the system configuration, where
 * (s's line), not what (conf_hide_at). */
static int
hide_in(const struct config *cfg, const struct section *s, struct error *err)
{
	if (cfg->private_names)
		conf_hide_at(err, cfg->file, s->line);
	return -1;
}

/* The chain of fallback accounts from `first` (section `from`) must end:
 * every name defined, none met twice; an error is located at the section
 * whose fallback_account is undefined or closes the loop.  Checked when an
 * account is chosen, since a fallback may name an account defined later in the
 * file. */
static int
check_fallbacks(const struct config *cfg, const struct section *from,
                const char *first, const char *fallback, struct error *err)
{
	const char *names[CONF_ACCOUNTS_MAX + 2];
	size_t n = 0, used = 0;
	char chain[ERROR_MSG_MAX] = "";

	names[n++] = first;
	while (fallback) {
		const struct section *s = config_find(cfg, fallback);
		bool seen = false;

		if (!s) {
			error_set(err, ERROR_CONFIG,
			          "account '%s': fallback_account '%s' is not "
			          "defined in %s",
			          names[n - 1], fallback, cfg->file);
			return hide_in(cfg, from, err);
		}
		for (size_t i = 0; i < n && !seen; i++)
			seen = strcmp(names[i], s->name) == 0;
		names[n++] = s->name;
		if (seen)
			break;
		from = s;
		fallback = s->acc.fallback_account;
	}
	if (!fallback)
		return 0;
	/* "a -> b -> a", as much of it as a message holds. */
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(chain + used, sizeof chain - used, "%s%s",
		                 i ? " -> " : "", names[i]);

		if (k < 0 || (size_t)k >= sizeof chain - used)
			break;
		used += (size_t)k;
	}
	error_set(err, ERROR_CONFIG, "fallback_account loops in %s: %s",
	          cfg->file, chain);
	return hide_in(cfg, from, err);
}

void
conf_set_private(struct config *cfg)
{
	if (cfg)
		cfg->private_names = true;
}

bool
conf_is_private(const struct config *cfg)
{
	return cfg && cfg->private_names;
}

int
conf_hide_at(struct error *err, const char *file, unsigned long line)
{
	char where[ERROR_MSG_MAX];

	if (line)
		snprintf(where, sizeof where, "%s:%lu", file, line);
	else
		snprintf(where, sizeof where, "%s", file);
	return error_set(err, err->kind,
	                 "%s: error in the system configuration (shown only "
	                 "to root and the system sendmail's group); as root, "
	                 "run 'mailpost --pretend' to see it",
	                 where);
}

int
conf_hide(const struct account *a, struct error *err)
{
	if (a->hidden && a->file)
		conf_hide_at(err, a->file, a->line);
	return -1;
}

bool
conf_root_only(const struct config *cfg)
{
	return cfg && cfg->root_only;
}

/* The commands whose output is a secret, each with the field its output
 * replaces it by. */
static const struct {
	enum field_id command, value;
} evals[] = {
    {F_PASSWORDEVAL, F_PASSWORD},
    {F_OAUTH2_CLIENT_SECRET_EVAL, F_OAUTH2_CLIENT_SECRET},
};

/* One command of a section replaced by its output, in the value field. */
static int
resolve_eval(struct section *s, size_t which, int timeout_s, conf_eval_fn *fn,
             void *arg, struct error *err)
{
	enum field_id command = evals[which].command;
	enum field_id value = evals[which].value;
	const char *cmd = *field_str(&s->acc, command);
	const char *given_value = *field_str(&s->acc, value);
	char *secret = NULL;

	if (!given_has(&s->given, command) || !cmd || !*cmd)
		return 0;
	if (given_has(&s->given, F_PASSWORDEVAL_TIMEOUT))
		timeout_s = s->acc.passwordeval_timeout;
	/* The value comes before the command (secret.h): then the
	 * command is not needed. */
	if (given_has(&s->given, value) && given_value && *given_value) {
		field_free(&s->acc, command);
		given_unset(&s->given, command);
		return 0;
	}
	if (fn(cmd, timeout_s, arg, &secret, err) < 0) {
		/* Kept for the account's user: the command of an account
		 * this run does not use must not stop it. */
		if (!s->eval_error) {
			s->eval_error = xstrdup(err->msg);
			s->eval_error_kind = err->kind;
		}
		error_clear(err);
	} else {
		field_free(&s->acc, value);
		*field_str(&s->acc, value) = secret;
		given_set(&s->given, value);
	}
	field_free(&s->acc, command);
	given_unset(&s->given, command);
	return 0;
}

/* The secret files one section names, each replaced by fn's name. */
static int
resolve_files(struct section *s, conf_file_fn *fn, void *arg, struct error *err)
{
	static const enum field_id secret_files[] = {F_TLS_KEY_FILE,
	                                             F_TLS_CERT_FILE};

	for (size_t i = 0; i < sizeof secret_files / sizeof *secret_files;
	     i++) {
		enum field_id f = secret_files[i];
		char **path = field_str(&s->acc, f);
		char *other = NULL;

		if (!given_has(&s->given, f) || !*path || !**path)
			continue;
		if (fn(*path, arg, &other, err) < 0)
			return -1;
		free(*path);
		*path = other;
	}
	return 0;
}

int
conf_resolve_files(struct config *cfg, conf_file_fn *fn, void *arg,
                   struct error *err)
{
	if (!cfg)
		return 0;
	if (resolve_files(&cfg->defaults, fn, arg, err) < 0)
		return -1;
	for (size_t i = 0; i < cfg->naccounts; i++)
		if (resolve_files(cfg->accounts[i], fn, arg, err) < 0)
			return -1;
	return 0;
}

int
conf_resolve_evals(struct config *cfg, conf_eval_fn *fn, void *arg,
                   struct error *err)
{
	int timeout_s = 0;

	if (!cfg)
		return 0;
	if (given_has(&cfg->defaults.given, F_PASSWORDEVAL_TIMEOUT))
		timeout_s = cfg->defaults.acc.passwordeval_timeout;
	for (size_t e = 0; e < sizeof evals / sizeof *evals; e++) {
		if (resolve_eval(&cfg->defaults, e, timeout_s, fn, arg, err) <
		    0)
			return -1;
		for (size_t i = 0; i < cfg->naccounts; i++)
			if (resolve_eval(cfg->accounts[i], e, timeout_s, fn,
			                 arg, err) < 0)
				return -1;
	}
	return 0;
}

/* s and the accounts of its chain of fallback_account names, marked in
 * keep (indexed as cfg->accounts, the defaults last).  The chain may be
 * broken or loop: conf_select says so when the account is chosen. */
static void
keep_chain(const struct config *cfg, const struct section *s, bool *keep)
{
	for (size_t steps = 0; s && steps <= cfg->naccounts; steps++) {
		size_t i = 0;

		while (i < cfg->naccounts && cfg->accounts[i] != s)
			i++;
		if (keep[i])
			return;
		keep[i] = true;
		s = s->acc.fallback_account
		        ? config_find(cfg, s->acc.fallback_account)
		        : NULL;
	}
}

/* The secrets of an account this run will not use: the password wiped,
 * the command and the secret files forgotten, the account refused. */
static void
withhold(struct section *s)
{
	static const enum field_id secrets[] = {F_PASSWORD,
	                                        F_PASSWORDEVAL,
	                                        F_TLS_KEY_FILE,
	                                        F_TLS_CERT_FILE,
	                                        F_OAUTH2_CLIENT_SECRET,
	                                        F_OAUTH2_CLIENT_SECRET_EVAL};

	for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
		const char *v = *field_str(&s->acc, secrets[i]);

		if (!given_has(&s->given, secrets[i]))
			continue;
		if (v && *v)
			s->withheld = true;
		field_free(&s->acc, secrets[i]);
		given_unset(&s->given, secrets[i]);
	}
}

void
conf_keep_secrets(struct config *cfg, const char *name, const char *sender,
                  bool any_sender)
{
	struct error ignored;
	bool *keep;

	if (!cfg)
		return;
	keep = xcalloc(cfg->naccounts + 1, sizeof *keep);
	error_clear(&ignored);
	/* A choice that fails keeps nothing: conf_select fails the same
	 * way when the run asks for it. */
	keep_chain(cfg, choose(cfg, name, sender, &ignored), keep);
	for (size_t i = 0; !name && any_sender && i < cfg->naccounts; i++)
		if (cfg->accounts[i]->acc.from && *cfg->accounts[i]->acc.from)
			keep_chain(cfg, cfg->accounts[i], keep);
	for (size_t i = 0; i < cfg->naccounts; i++)
		if (!keep[i])
			withhold(cfg->accounts[i]);
	if (!keep[cfg->naccounts])
		withhold(&cfg->defaults);
	free(keep);
}

bool
conf_has_account(const struct config *cfg, const char *name)
{
	return cfg && name && config_find(cfg, name) != NULL;
}

int
conf_select(const struct config *cfg, const char *name, const char *sender,
            struct account *out, struct error *err)
{
	const struct section *s = choose(cfg, name, sender, err);
	const char *resolved = NULL;

	account_defaults(out);
	if (!s)
		return -1;
	resolved = s->name ? s->name : "default";
	if (s->eval_error)
		return error_set(err, s->eval_error_kind, "%s", s->eval_error);
	if (check_fallbacks(cfg, s, resolved, s->acc.fallback_account, err) < 0)
		return -1;
	section_apply(out, NULL, s);
	out->name = xstrdup(resolved);
	out->file = xstrdup(cfg->file);
	out->line = s->line;
	out->hidden = cfg->private_names;
	out->withheld = s->withheld;
	return conf_check_oauth2(out, err);
}

void
conf_select_defaults(const struct config *cfg, struct account *out)
{
	account_defaults(out);
	section_apply(out, NULL, &cfg->defaults);
	out->name = xstrdup("defaults");
	out->file = xstrdup(cfg->file);
	out->hidden = cfg->private_names;
	out->withheld = cfg->defaults.withheld;
}

int
conf_check_oauth2(const struct account *a, struct error *err)
{
	const char *name = a->name ? a->name : "default";
	const char *p = a->oauth2_provider;

	if (!p)
		return 0;
	if (!a->user || !*a->user)
		error_set(err, ERROR_CONFIG,
		          "account '%s': oauth2_provider %s needs 'user' (the "
		          "mailbox the token is for)",
		          name, p);
	else if (!a->oauth2_client_id || !*a->oauth2_client_id)
		error_set(err, ERROR_CONFIG,
		          "account '%s': oauth2_provider %s needs "
		          "oauth2_client_id (mailpost ships none: register "
		          "one as mailpost.conf(5), OAUTH2, says)",
		          name, p);
	else if (strcmp(p, "generic") == 0 && !a->oauth2_token_endpoint)
		error_set(err, ERROR_CONFIG,
		          "account '%s': oauth2_provider generic needs "
		          "oauth2_token_endpoint (nothing is built in)",
		          name);
	else if (a->auth && strcmp(a->auth, "on") != 0 &&
	         strcmp(a->auth, "oauthbearer") != 0 &&
	         strcmp(a->auth, "xoauth2") != 0)
		error_set(
		    err, ERROR_CONFIG,
		    "account '%s': auth %s cannot go with oauth2_provider "
		    "%s; set auth on, oauthbearer or xoauth2, or remove "
		    "oauth2_provider",
		    name, a->auth, p);
	else
		return 0;
	return conf_hide(a, err);
}

int
conf_check_withheld(const struct account *a, struct error *err)
{
	const char *name = a->name ? a->name : "default";

	if (!a->withheld)
		return 0;
	return error_set(err, ERROR_CONFIG,
	                 "account '%s' of %s was not chosen when this run "
	                 "started (with -A or -f), so its secrets were not "
	                 "read; send its mail with -A %s",
	                 name, a->file ? a->file : "the configuration", name);
}

void
account_defaults(struct account *a)
{
	memset(a, 0, sizeof *a);
	a->tls_starttls = true;
	a->tls_certcheck = true;
	a->tls_session_cache = true;
	a->pipelining = true;
	a->chunking = true;
	a->allow_from_override = true;
	a->set_from_header = CONF_FROM_AUTO;
	a->set_date_header = true;
	a->set_msgid_header = true;
	a->remove_bcc_headers = true;
	a->syslog_facility = -1;
	a->rcpt_policy = RCPT_POLICY_UNSET;
	a->queue = QUEUE_POLICY_UNSET;
	a->queue_max_age = CONF_QUEUE_MAX_AGE;
	a->queue_backoff = CONF_QUEUE_BACKOFF;
	a->queue_flush_after_send = true;
	a->failover_timeout = CONF_FAILOVER_TIMEOUT;
}

void
account_clear(struct account *a)
{
	for (int f = 0; f < F_COUNT; f++)
		if (fields[f].is_str)
			field_free(a, (enum field_id)f);
	free(a->name);
	free(a->file);
	memset(a, 0, sizeof *a);
}
