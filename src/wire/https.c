/*
 * https.c - one HTTPS POST or GET through libcurl, loaded when it first
 * runs (https.h).
 */
#include "config.h"

#include "https.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "privilege.h"
#include "util.h"

int
https_port(void)
{
	const char *t = privilege_was_setgid()
	                    ? NULL
	                    : privilege_getenv("MAILPOST_TEST_HTTPS_PORT");
	int v = t ? atoi(t) : 0;

	return v > 0 && v <= 65535 ? v : 443;
}

int
https_get(const struct https_request *r, struct https_response *out,
          struct error *err)
{
	struct https_request g = *r;

	g.get = true;
	return https_post(&g, out, err);
}

char *
https_url_host(const char *url, char *out, size_t n)
{
	const char *p = url ? strstr(url, "://") : NULL;
	size_t len, at;

	if (n == 0)
		return out;
	out[0] = '\0';
	if (!p)
		return out;
	p += 3;
	len = strcspn(p, "/?#");
	/* RFC 3986 3.2.1: userinfo ends at the last '@' of the authority;
	 * it is never shown. */
	for (at = len; at > 0 && p[at - 1] != '@'; at--)
		;
	p += at;
	len -= at;
	if (len >= n)
		len = n - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	return str_censor(out, len);
}

void
https_response_clear(struct https_response *r)
{
	if (r->body) {
		wipe(r->body, r->len);
		free(r->body);
	}
	r->body = NULL;
	r->len = 0;
	r->status = 0;
	r->content_type[0] = '\0';
}

#ifdef HAVE_LIBCURL
/* The functions are called through pointers: curl.h's type-checking
 * macros of the same names would take lib.curl_easy_setopt(...) apart. */
#define CURL_DISABLE_TYPECHECK
#include <arpa/inet.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>

#include "dynload.h"
#include "encode.h"
#include "interrupt.h"
#include "tls.h"

/* libcurl's functions, of the types its header gives them. */
static struct curl_api {
	__typeof__(curl_easy_init) *curl_easy_init;
	__typeof__(curl_easy_setopt) *curl_easy_setopt;
	__typeof__(curl_easy_perform) *curl_easy_perform;
	__typeof__(curl_easy_getinfo) *curl_easy_getinfo;
	__typeof__(curl_easy_cleanup) *curl_easy_cleanup;
	__typeof__(curl_easy_strerror) *curl_easy_strerror;
	__typeof__(curl_slist_append) *curl_slist_append;
	__typeof__(curl_slist_free_all) *curl_slist_free_all;
} lib;

static const struct dynload_sym curl_syms[] = {
    DYNLOAD_SYM(struct curl_api, curl_easy_init),
    DYNLOAD_SYM(struct curl_api, curl_easy_setopt),
    DYNLOAD_SYM(struct curl_api, curl_easy_perform),
    DYNLOAD_SYM(struct curl_api, curl_easy_getinfo),
    DYNLOAD_SYM(struct curl_api, curl_easy_cleanup),
    DYNLOAD_SYM(struct curl_api, curl_easy_strerror),
    DYNLOAD_SYM(struct curl_api, curl_slist_append),
    DYNLOAD_SYM(struct curl_api, curl_slist_free_all),
};

/* configure finds CURL_SONAME (libcurl-gnutls.so.4, the GnuTLS build). */
static struct dynload curl_lib = {
    .soname = CURL_SONAME,
    .package = CURL_PACKAGE,
    .feature = "for HTTPS (OAuth2, MTA-STS policies, autoconfig)",
    .syms = curl_syms,
    .nsyms = sizeof curl_syms / sizeof *curl_syms,
    .table = &lib,
};

int
https_load(struct error *err)
{
	return dynload_open(&curl_lib, err);
}

/* The form as application/x-www-form-urlencoded (every byte but the
 * unreserved ones as %XX), in a buffer of its exact size *size; the
 * caller wipes it. */
static char *
form_body(const struct https_request *r, size_t *size)
{
	size_t room = 1, n = 0;
	char *body;

	for (size_t i = 0; i < r->nfields; i++)
		room += 3 * (strlen(r->fields[i].name) +
		             strlen(r->fields[i].value)) +
		        2;
	body = xmalloc(room);
	for (size_t i = 0; i < r->nfields; i++) {
		if (i > 0)
			body[n++] = '&';
		n += url_encode(body + n, r->fields[i].name);
		body[n++] = '=';
		n += url_encode(body + n, r->fields[i].value);
	}
	body[n] = '\0';
	*size = room;
	return body;
}

/* Where the answer goes: one buffer of max + 1 bytes. */
struct sink {
	char *buf;
	size_t len, max;
	bool over;
};

static size_t
take(char *p, size_t size, size_t nmemb, void *data)
{
	struct sink *s = data;
	size_t n = size * nmemb;

	if (n > s->max - s->len) {
		/* Anything but n stops the transfer (CURLE_WRITE_ERROR). */
		s->over = true;
		return 0;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return n;
}

/* A send blocks SIGTERM, SIGINT and SIGHUP outside its waits
 * (interrupt.h); libcurl waits in its own poll, so a signal that came
 * is let in here, where libcurl calls back at least once a second, and
 * the transfer stops once it was caught. */
static int
progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
         curl_off_t ulnow)
{
	sigset_t blocked;

	(void)data;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (interrupt_active() &&
	    sigprocmask(SIG_SETMASK, interrupt_wait_mask(), &blocked) == 0)
		sigprocmask(SIG_SETMASK, &blocked, NULL);
	return interrupt_cuts() ? 1 : 0;
}

static CURLcode
set_long(CURL *h, CURLoption option, long v)
{
	return lib.curl_easy_setopt(h, option, v);
}

static CURLcode
set_ptr(CURL *h, CURLoption option, const void *v)
{
	return lib.curl_easy_setopt(h, option, v);
}

/* The proxy: the request's, else libcurl's reading of the environment,
 * except in a run that started setgid ("" is no proxy at all).  NOPROXY
 * "": no_proxy does not exempt a host from a proxy chosen here. */
static bool
set_proxy(CURL *h, const char *proxy)
{
	if (proxy && *proxy)
		return set_ptr(h, CURLOPT_PROXY, proxy) == CURLE_OK &&
		       set_ptr(h, CURLOPT_NOPROXY, "") == CURLE_OK;
	if (privilege_was_setgid())
		return set_ptr(h, CURLOPT_PROXY, "") == CURLE_OK &&
		       set_ptr(h, CURLOPT_NOPROXY, "") == CURLE_OK;
	return true;
}

/* The trust: the request's file, else the system store's file as tls.c
 * reads it, else libcurl's own default (GnuTLS's system trust). */
static bool
set_trust(CURL *h, const char *trust_file)
{
	const char *file = trust_file ? trust_file : tls_system_trust_file();

	if (!file)
		return true;
	return set_ptr(h, CURLOPT_CAINFO, file) == CURLE_OK &&
	       set_ptr(h, CURLOPT_CAPATH, NULL) == CURLE_OK;
}

/* The method: a GET, or a POST of the form body (len bytes). */
static bool
set_method(CURL *h, const struct https_request *r, const char *body, size_t len)
{
	if (r->get)
		return set_long(h, CURLOPT_HTTPGET, 1L) == CURLE_OK;
	return set_long(h, CURLOPT_POST, 1L) == CURLE_OK &&
	       set_ptr(h, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
	       set_long(h, CURLOPT_POSTFIELDSIZE, (long)len) == CURLE_OK;
}

/* Every option of a request, each of which must take: an older libcurl
 * that does not know one is refused, not run without it. */
static bool
set_options(CURL *h, const struct https_request *r, struct sink *s,
            const char *body, size_t len, struct curl_slist *headers,
            struct curl_slist *connect_to, char *errbuf)
{
	int timeout = r->timeout_s > 0 ? r->timeout_s : HTTPS_TIMEOUT;

	return set_ptr(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
	       set_long(h, CURLOPT_VERBOSE, 0L) == CURLE_OK &&
	       set_long(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       set_ptr(h, CURLOPT_URL, r->url) == CURLE_OK &&
	       set_ptr(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
	       set_ptr(h, CURLOPT_REDIR_PROTOCOLS_STR, "https") == CURLE_OK &&
	       set_long(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	       set_long(h, CURLOPT_MAXREDIRS, 0L) == CURLE_OK &&
	       set_ptr(h, CURLOPT_CONNECT_TO, connect_to) == CURLE_OK &&
	       set_long(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	       set_long(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	       set_long(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2) ==
	           CURLE_OK &&
	       set_trust(h, r->trust_file) &&
	       set_long(h, CURLOPT_NETRC, CURL_NETRC_IGNORED) == CURLE_OK &&
	       set_proxy(h, r->proxy) &&
	       set_long(h, CURLOPT_TIMEOUT, (long)timeout) == CURLE_OK &&
	       set_long(h, CURLOPT_CONNECTTIMEOUT, (long)timeout) == CURLE_OK &&
	       set_ptr(h, CURLOPT_USERAGENT, "mailpost/" PACKAGE_VERSION) ==
	           CURLE_OK &&
	       set_ptr(h, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
	       set_method(h, r, body, len) &&
	       set_ptr(h, CURLOPT_WRITEFUNCTION, (void *)take) == CURLE_OK &&
	       set_ptr(h, CURLOPT_WRITEDATA, s) == CURLE_OK &&
	       lib.curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	                            (curl_off_t)s->max) == CURLE_OK &&
	       set_long(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
	       set_ptr(h, CURLOPT_XFERINFOFUNCTION, (void *)progress) ==
	           CURLE_OK;
}

/* Why the certificate was refused: GnuTLS's verdict in tls.c's words
 * when libcurl kept it (not for a name that does not match, which
 * libcurl checks itself and says in errbuf); never libcurl's text that
 * names the trust file ("... CAfile: FILE CRLfile: none"). */
static const char *
refusal(CURL *h, const char *errbuf, char *out, size_t n)
{
	long status = 0;

	if (lib.curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &status) ==
	        CURLE_OK &&
	    status != 0)
		return tls_status_words((unsigned)status, out, n);
	if (strstr(errbuf, "CAfile"))
		return "certificate not verified";
	return errbuf;
}

/* A failed exchange in words: its class, the host, libcurl's reason. */
static int
failed(CURL *h, CURLcode rc, const char *errbuf, const char *host,
       const struct https_request *r, const struct sink *s, struct error *err)
{
	const char *why = *errbuf ? errbuf : lib.curl_easy_strerror(rc);
	int timeout = r->timeout_s > 0 ? r->timeout_s : HTTPS_TIMEOUT;
	char words[256];

	if (s->over || rc == CURLE_FILESIZE_EXCEEDED)
		return error_set(err, ERROR_PROTOCOL,
		                 "the answer of %s is larger than %zu bytes; "
		                 "not read",
		                 host, s->max);
	switch (rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		return interrupt_error(err);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return error_set(err, ERROR_TEMPFAIL,
		                 "cannot reach %s (%.200s)", host, why);
	case CURLE_OPERATION_TIMEDOUT:
		return error_set(err, ERROR_TEMPFAIL,
		                 "no answer from %s within %d s (%.200s)", host,
		                 timeout, why);
	case CURLE_PEER_FAILED_VERIFICATION:
		return error_set(err, ERROR_PROTOCOL,
		                 "the certificate of %s is not verified "
		                 "(%.200s); nothing was sent to it",
		                 host, refusal(h, why, words, sizeof words));
	case CURLE_SSL_CACERT_BADFILE:
		if (r->private_names)
			return error_set(err, ERROR_CONFIG,
			                 "cannot read the trust file (hidden) for "
			                 "%s",
			                 host);
		return error_set(
		    err, ERROR_CONFIG,
		    "cannot read the trust file %.300s for %s "
		    "(%.200s)",
		    r->trust_file ? r->trust_file : "of the system", host, why);
	case CURLE_SSL_CONNECT_ERROR:
		return error_set(err, ERROR_PROTOCOL,
		                 "the TLS handshake with %s failed (%.200s)",
		                 host, why);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return error_set(err, ERROR_CONFIG,
		                 "cannot use the address of %s (%.200s); it "
		                 "must be an https:// URL",
		                 host, why);
	case CURLE_OUT_OF_MEMORY:
		/* What libcurl also says of a header line over its
		 * CURL_MAX_HTTP_HEADER (100 KiB): the server's doing far
		 * more likely than ours, whose allocations end the run. */
		return error_set(err, ERROR_PROTOCOL,
		                 "the answer of %s has a header line longer "
		                 "than libcurl takes (100 KiB), or libcurl ran "
		                 "out of memory reading it",
		                 host);
	default:
		/* Sent or received badly, reset, cut short: try again later. */
		return error_set(err, ERROR_TEMPFAIL,
		                 "the exchange with %s failed (%.200s)", host,
		                 why);
	}
}

/* The URL, before anything is loaded: https://, one line, bounded. */
static int
check_url(const char *url, const char *host, struct error *err)
{
	size_t len = url ? strnlen(url, HTTPS_URL_MAX + 1) : 0;

	if (len == 0 || len > HTTPS_URL_MAX || str_has_ctl(url, len) ||
	    strchr(url, ' '))
		return error_set(err, ERROR_CONFIG,
		                 "the address of %s is not a URL of at most %d "
		                 "printable characters",
		                 *host ? host : "the endpoint", HTTPS_URL_MAX);
	if (!str_iprefix(url, "https://") || !*host)
		return error_set(err, ERROR_CONFIG,
		                 "the address of %s is not https://HOST/...: "
		                 "mailpost speaks HTTP only over HTTPS",
		                 *host ? host : "the endpoint");
	return 0;
}

/* The longest connect_addr: an IPv6 address in text (INET6_ADDRSTRLEN
 * less its NUL). */
#define CONNECT_ADDR_MAX 45

/* libcurl's CONNECT_TO entry for connect_addr into out: "::ADDR:" (any
 * host, any port: to ADDR, the URL's port kept), brackets round an IPv6
 * address; "" without one.  -1: not a numeric address. */
static int
connect_entry(const struct https_request *r, const char *host, char *out,
              size_t n, struct error *err)
{
	const char *a = r->connect_addr;
	unsigned char bin[sizeof(struct in6_addr)];
	char shown[CONNECT_ADDR_MAX + 1];
	size_t len;

	out[0] = '\0';
	if (!a)
		return 0;
	len = strnlen(a, CONNECT_ADDR_MAX + 1);
	if (len <= CONNECT_ADDR_MAX && inet_pton(AF_INET, a, bin) == 1)
		snprintf(out, n, "::%s:", a);
	else if (len <= CONNECT_ADDR_MAX && inet_pton(AF_INET6, a, bin) == 1)
		snprintf(out, n, "::[%s]:", a);
	else {
		snprintf(shown, sizeof shown, "%s", a);
		return error_set(err, ERROR_CONFIG,
		                 "the address %s to reach %s at is not a "
		                 "numeric IPv4 or IPv6 address",
		                 str_censor(shown, strlen(shown)), host);
	}
	return 0;
}

/* The exchange on a handle: the answer into out, or -1. */
static int
exchange(CURL *h, const struct https_request *r, const char *host,
         struct https_response *out, struct error *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char entry[CONNECT_ADDR_MAX + 8];
	struct sink s = {.max = r->max_body ? r->max_body : HTTPS_BODY_MAX};
	struct curl_slist *headers = NULL, *connect_to = NULL;
	size_t size = 0, len = 0;
	char *body = NULL, *type = NULL;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	int ret = -1;

	if (connect_entry(r, host, entry, sizeof entry, err) < 0)
		return -1;
	if (!r->get) {
		body = form_body(r, &size);
		len = strlen(body);
		/* A form's answer is an OAuth2 one; a GET takes any type. */
		headers =
		    lib.curl_slist_append(NULL, "Accept: application/json");
	}
	if (*entry)
		connect_to = lib.curl_slist_append(NULL, entry);
	s.buf = xmalloc(s.max + 1);
	if ((!r->get && !headers) || (*entry && !connect_to) ||
	    !set_options(h, r, &s, body, len, headers, connect_to, errbuf)) {
		error_set(
		    err, ERROR_UNAVAILABLE,
		    "this libcurl (%s) lacks an option mailpost needs for "
		    "%s; install libcurl 7.85 or later",
		    CURL_SONAME, host);
		goto done;
	}
	rc = lib.curl_easy_perform(h);
	if (rc != CURLE_OK) {
		failed(h, rc, errbuf, host, r, &s, err);
		goto done;
	}
	lib.curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	if (lib.curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type) ==
	        CURLE_OK &&
	    type) {
		snprintf(out->content_type, sizeof out->content_type, "%s",
		         type);
		str_censor(out->content_type, strlen(out->content_type));
	}
	s.buf[s.len] = '\0';
	out->body = s.buf;
	out->len = s.len;
	s.buf = NULL;
	ret = 0;
done:
	if (body) {
		wipe(body, size);
		free(body);
	}
	if (s.buf) {
		wipe(s.buf, s.max + 1);
		free(s.buf);
	}
	lib.curl_slist_free_all(headers);
	lib.curl_slist_free_all(connect_to);
	return ret;
}

int
https_post(const struct https_request *r, struct https_response *out,
           struct error *err)
{
	char host[HTTPS_HOST_MAX];
	CURL *h;
	int rc;

	memset(out, 0, sizeof *out);
	https_url_host(r->url, host, sizeof host);
	if (check_url(r->url, host, err) < 0 || https_load(err) < 0)
		return -1;
	h = lib.curl_easy_init();
	if (!h)
		return error_set(err, ERROR_OSERR,
		                 "cannot start libcurl for %s", host);
	rc = exchange(h, r, host, out, err);
	lib.curl_easy_cleanup(h);
	return rc;
}

#else /* built without libcurl */

int
https_load(struct error *err)
{
	return error_set(err, ERROR_UNAVAILABLE,
	                 "built without libcurl; rebuild with "
	                 "libcurl4-gnutls-dev installed");
}

int
https_post(const struct https_request *r, struct https_response *out,
           struct error *err)
{
	(void)r;
	memset(out, 0, sizeof *out);
	return https_load(err);
}

#endif
