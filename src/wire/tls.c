/*
 * tls.c - a TLS client session with GnuTLS (see tls.h).  The only file
 * that includes GnuTLS headers.
 *
 * The socket stays non-blocking: the handshake and close_notify are driven
 * by poll() with a deadline, and tls_read/tls_write report GNUTLS_E_AGAIN
 * as EAGAIN so that conn.c waits exactly as it does for a plain socket.
 *
 * The server certificate is judged in a callback that GnuTLS calls as soon
 * as the certificate arrives, so a bad server never sees our client
 * certificate, let alone a command.  The callback fills s->result with the
 * verdict in words; tls_start turns a rejection into the error.
 */
#include "config.h"

#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "castore.h"
#include "fdwait.h"
#include "interrupt.h"
#include "privilege.h"
#include "tlscache.h"
#include "util.h"

/* The verification verdict, every reason named. */
#define TLS_RESULT_MAX 768
#define TLS_ERROR_MAX 256
#define TLS_PIN_MAX 32 /* SHA-256 */
#define TLS_SHA1_LEN 20
#define TLS_SHA256_LEN 32
/* "2026-01-31 23:59:59 UTC" */
#define TLS_TIME_MAX 32
/* What to do about a refused certificate: the cause's remedy and the
 * line that would pin it. */
#define TLS_ADVICE_MAX 640

struct tls {
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	struct transcript *t;
	int fd;
	char *name; /* the name the certificate must carry */
	unsigned char pin[TLS_PIN_MAX];
	size_t pin_len; /* 0: no pin */
	bool no_certcheck;
	bool no_ca;        /* trust_file "": no CA loaded */
	int ntrusted;      /* CA certificates in the store; 0: none consulted */
	/* The trust file, read but not yet given to GnuTLS: the CAs that can
	 * matter for the server's chain are imported when it arrives
	 * (import_matching).  NULL once done, or when GnuTLS loaded the
	 * store itself. */
	struct castore *store;
	bool store_system;      /* it is the system store */
	bool check_all;         /* --check-config: GnuTLS parses every CA */
	struct error trust_err; /* a CA of the store that GnuTLS refused */
	bool trust_failed;
	bool verify_ran;   /* the verdict below is set */
	bool verified;     /* ... and it accepts the peer */
	bool expect_close; /* a bare TCP close is a normal end */
	char result[TLS_RESULT_MAX];
	char advice[TLS_ADVICE_MAX]; /* after a refusal: what to do */
	char last_error[TLS_ERROR_MAX];
	struct tls_info *info; /* the caller's, or NULL */
	bool info_chain;       /* tls_params.info_chain */
	/* tls_params.dane, during tls_start only (NULL after it) */
	const struct tls_dane *dane;
	/* Resumption across runs (tlscache.h): the directory (NULL: off),
	 * the entry's file name and the identity it is bound to. */
	char *cache_dir;
	char cache_name[TLSCACHE_NAME_MAX];
	unsigned char cache_id[TLSCACHE_ID_LEN];
	bool cache_offered; /* an entry was given to GnuTLS */
	bool cache_done;    /* this session was kept, or will never be */
	bool resumed;
	/* The server's certificate's notAfter, taken when verify_peer
	 * parsed it (for cache_expiry); -1 unknown. */
	int64_t peer_not_after;
	/* Read only during tls_start, for the advice (NULL after it);
	 * trust_file as messages may name it (tls_params.private_names). */
	const char *trust_file;
	const char *account;
};

/* --- small helpers --- */

/* tls_params.trust_file as a message may name it: "system" and "" are
 * no secret; a path of the system configuration is. */
static const char *
shown_trust_file(const struct tls_params *p)
{
	const char *file = p->trust_file;

	if (p->private_names && file && *file && strcmp(file, "system") != 0)
		return "(hidden)";
	return file;
}

/* tls.h */
const char *
tls_system_trust_file(void)
{
	const char *test = privilege_was_setgid()
	                       ? NULL
	                       : privilege_getenv("MAILPOST_TEST_SYSTEM_TRUST");

	if (test && *test)
		return test;
#ifdef MAILPOST_SYSTEM_TRUST_FILE
	return MAILPOST_SYSTEM_TRUST_FILE;
#else
	return NULL;
#endif
}

/* GnuTLS's flags for the store's CAs: the system store drops duplicates
 * as gnutls_x509_trust_list_add_system_trust does; both are marked for
 * TLS as gnutls_certificate_set_x509_trust_file marks them. */
static unsigned
store_flags(const struct tls *s)
{
	return GNUTLS_TL_USE_IN_TLS |
	       (s->store_system ? GNUTLS_TL_NO_DUPLICATES : 0);
}

static void vappend(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Append to a NUL-terminated buffer, cutting what does not fit. */
static void
vappend(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t used = strlen(buf);

	if (used + 1 < size)
		vsnprintf(buf + used, size - used, fmt, ap);
}

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(buf, size, fmt, ap);
	va_end(ap);
}

/* Append "; text" (or the first text) to a verdict. */
static void add_reason(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_reason(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (buf[0])
		append(buf, size, "; ");
	va_start(ap, fmt);
	vappend(buf, size, fmt, ap);
	va_end(ap);
}

static void
format_time(time_t when, char *out, size_t n)
{
	if (when == (time_t)-1 || !str_utc_time(out, n, when))
		str_copy(out, n, "(unknown)");
}

/* Upper-case hex pairs joined by ':' (the tls_fingerprint form). */
static void
format_hex(const unsigned char *d, size_t len, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 3 < n; i++) {
		if (i > 0)
			out[o++] = ':';
		hex_pair(out + o, d[i]);
		o += 2;
	}
	out[o] = '\0';
}

/* "AA:BB:..." or "AABB...": 32 bytes (SHA-256) or 20 (SHA-1). */
static int
parse_pin(const char *text, unsigned char *pin, size_t *len, struct error *err)
{
	const char *p = text;
	size_t n = 0;

	while (*p) {
		int hi = hex_digit(p[0]);
		int lo = hi < 0 ? -1 : hex_digit(p[1]);

		if (lo < 0 || n == TLS_PIN_MAX)
			return error_set(err, ERROR_CONFIG,
			                 "tls_fingerprint: not a SHA-256 "
			                 "fingerprint (32 hex pairs such as "
			                 "AB:CD:...)");
		pin[n++] = (unsigned char)(hi << 4 | lo);
		p += 2;
		if (*p == ':' && p[1])
			p++;
	}
	if (n != TLS_SHA256_LEN && n != TLS_SHA1_LEN)
		return error_set(
		    err, ERROR_CONFIG,
		    "tls_fingerprint: %zu bytes; want 32 (SHA-256, "
		    "preferred) or 20 (SHA-1)",
		    n);
	*len = n;
	return 0;
}

/* --- waiting --- */

/* Wait in the direction GnuTLS was going when it said GNUTLS_E_AGAIN. */
static int
wait_session(struct tls *s, int64_t deadline)
{
	short events =
	    gnutls_record_get_direction(s->session) ? POLLOUT : POLLIN;

	return fd_wait(s->fd, events, deadline);
}

/* --- the session's description for the transcript --- */

static int
peer_certificate(struct tls *s, gnutls_x509_crt_t *crt, gnutls_datum_t *der)
{
	unsigned n = 0;
	const gnutls_datum_t *list =
	    gnutls_certificate_get_peers(s->session, &n);

	if (!list || n == 0 || gnutls_x509_crt_init(crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(*crt, &list[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*crt);
		return -1;
	}
	if (der)
		*der = list[0];
	return 0;
}

static void
note_dn(struct tls *s, const char *what, gnutls_x509_crt_t crt, bool issuer)
{
	gnutls_datum_t dn = {NULL, 0};
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0)
	                : gnutls_x509_crt_get_dn3(crt, &dn, 0);

	if (rc < 0) {
		transcript_note(s->t, "  %s: (unreadable)", what);
		return;
	}
	transcript_note(s->t, "  %s: %.*s", what, (int)dn.size,
	                (const char *)dn.data);
	gnutls_free(dn.data);
}

static void
note_certificate(struct tls *s)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	unsigned char digest[TLS_SHA256_LEN];
	char from[TLS_TIME_MAX], until[TLS_TIME_MAX];
	char fp[TLS_FINGERPRINT_MAX];

	if (peer_certificate(s, &crt, &der) < 0) {
		transcript_note(s->t, "server certificate: none");
		return;
	}
	transcript_note(s->t, "server certificate:");
	note_dn(s, "subject", crt, false);
	note_dn(s, "issuer", crt, true);
	format_time(gnutls_x509_crt_get_activation_time(crt), from,
	            sizeof from);
	format_time(gnutls_x509_crt_get_expiration_time(crt), until,
	            sizeof until);
	transcript_note(s->t, "  valid from %s until %s", from, until);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest) ==
	    0) {
		format_hex(digest, sizeof digest, fp, sizeof fp);
		transcript_note(s->t, "  SHA-256 fingerprint: %s", fp);
	}
	gnutls_x509_crt_deinit(crt);
}

/* The cipher suite is known only once the handshake is complete; a
 * refusal inside it is described without. */
static void
describe(struct tls *s)
{
	const char *version =
	    gnutls_protocol_get_name(gnutls_protocol_get_version(s->session));
	const char *suite = gnutls_ciphersuite_get(s->session);

	if (!transcript_wants(s->t, TRANSCRIPT_DIALOGUE))
		return;
	transcript_note(s->t, "TLS session: %s%s%s", version ? version : "?",
	                suite ? ", " : "", suite ? suite : "");
	if (s->resumed)
		transcript_note(s->t,
		                "TLS session resumed (kept by an earlier "
		                "run; its certificate is verified again)");
	note_certificate(s);
	transcript_note(s->t, "certificate verification: %s", s->result);
}

/* --- the description for --serverinfo (tls_params.info) --- */

/* How many subjectAltName entries are looked at, and the longest one. */
#define TLS_SAN_MAX 1000
#define TLS_SAN_VALUE_MAX 256

void
tls_info_init(struct tls_info *i)
{
	memset(i, 0, sizeof *i);
}

void
tls_info_clear(struct tls_info *i)
{
	for (size_t k = 0; k < i->ncerts; k++) {
		struct tls_cert_info *c = &i->certs[k];

		free(c->subject);
		free(c->issuer);
		free(c->names);
		free(c->pem);
	}
	tls_info_init(i);
}

static char *
dn_text(gnutls_x509_crt_t crt, bool issuer)
{
	gnutls_datum_t dn = {NULL, 0};
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0)
	                : gnutls_x509_crt_get_dn3(crt, &dn, 0);
	char *out;

	if (rc < 0)
		return xstrdup("(unreadable)");
	out = xstrndup((const char *)dn.data, dn.size);
	gnutls_free(dn.data);
	return out;
}

/* One subjectAltName entry as "DNS:name" or "IP:address", or "" for the
 * kinds a server name is never checked against. */
static void
alt_name(int type, const char *val, size_t size, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	out[0] = '\0';
	if (type == GNUTLS_SAN_DNSNAME)
		snprintf(out, n, "DNS:%.*s", (int)size, val);
	else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16) &&
	         inet_ntop(size == 4 ? AF_INET : AF_INET6, val, ip, sizeof ip))
		snprintf(out, n, "IP:%s", ip);
}

/* The names a certificate covers (RFC 6125 6.4: DNS and IP entries),
 * "DNS:a, IP:b", the ones that do not fit counted. */
static char *
alt_names(gnutls_x509_crt_t crt)
{
	char out[TLS_NAMES_MAX] = "";
	size_t used = 0, more = 0;

	for (unsigned seq = 0; seq < TLS_SAN_MAX; seq++) {
		char val[TLS_SAN_VALUE_MAX], one[TLS_SAN_VALUE_MAX + 8];
		size_t size = sizeof val;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, val,
		                                                &size, NULL);

		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			more++;
			continue;
		}
		if (type < 0)
			break;
		alt_name(type, val, size, one, sizeof one);
		if (!one[0])
			continue;
		if (used + strlen(one) + 40 >= sizeof out) {
			more++;
			continue;
		}
		used += (size_t)snprintf(out + used, sizeof out - used, "%s%s",
		                         used ? ", " : "", one);
	}
	if (more)
		snprintf(out + used, sizeof out - used, "%s(%zu more)",
		         used ? ", " : "", more);
	return xstrdup(out);
}

/* "EC/ECDSA 256 bits (SECP256R1)", "RSA 2048 bits", "EdDSA (Ed25519)..." */
static void
key_text(gnutls_x509_crt_t crt, char *out, size_t n)
{
	unsigned bits = 0;
	int alg = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	const char *name =
	    alg >= 0 ? gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)alg)
	             : NULL;
	gnutls_ecc_curve_t curve;
	gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};

	if (!name) {
		str_copy(out, n, "(unknown)");
		return;
	}
	if (alg == GNUTLS_PK_ECDSA &&
	    gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y) >= 0) {
		snprintf(out, n, "%s %u bits (%s)", name, bits,
		         gnutls_ecc_curve_get_name(curve));
		gnutls_free(x.data);
		gnutls_free(y.data);
		return;
	}
	snprintf(out, n, "%s %u bits", name, bits);
}

static void
describe_cert(struct tls_cert_info *c, gnutls_x509_crt_t crt,
              const gnutls_datum_t *der)
{
	unsigned char digest[TLS_SHA256_LEN];
	gnutls_datum_t pem = {NULL, 0};
	int sign = gnutls_x509_crt_get_signature_algorithm(crt);
	const char *sign_name =
	    sign >= 0 ? gnutls_sign_get_name((gnutls_sign_algorithm_t)sign)
	              : NULL;

	c->subject = dn_text(crt, false);
	c->issuer = dn_text(crt, true);
	c->names = alt_names(crt);
	c->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
	c->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	key_text(crt, c->key, sizeof c->key);
	str_copy(c->signature, sizeof c->signature,
	         sign_name ? sign_name : "(unknown)");
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, digest) ==
	    0)
		format_hex(digest, sizeof digest, c->sha256, sizeof c->sha256);
	c->self_signed = gnutls_x509_crt_check_issuer(crt, crt) == 1;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) == 0) {
		c->pem = xstrndup((const char *)pem.data, pem.size);
		gnutls_free(pem.data);
	}
}

/* The chain as the server sent it, once. */
static void
info_note_chain(struct tls *s)
{
	struct tls_info *i = s->info;
	unsigned n = 0;
	const gnutls_datum_t *list =
	    gnutls_certificate_get_peers(s->session, &n);

	if (!list || i->chain_len > 0)
		return;
	i->chain_len = n;
	/* Only the server's own certificate's fingerprint, from the DER as
	 * sent: nothing parsed (tls_params.info_chain). */
	if (!s->info_chain) {
		unsigned char digest[TLS_SHA256_LEN];

		if (n > 0 && gnutls_hash_fast(GNUTLS_DIG_SHA256, list[0].data,
		                              list[0].size, digest) == 0) {
			format_hex(digest, sizeof digest, i->certs[0].sha256,
			           sizeof i->certs[0].sha256);
			i->ncerts = 1;
		}
		return;
	}
	for (unsigned k = 0; k < n && i->ncerts < TLS_CHAIN_MAX; k++) {
		gnutls_x509_crt_t crt;

		if (gnutls_x509_crt_init(&crt) < 0)
			return;
		if (gnutls_x509_crt_import(crt, &list[k],
		                           GNUTLS_X509_FMT_DER) == 0)
			describe_cert(&i->certs[i->ncerts++], crt, &list[k]);
		gnutls_x509_crt_deinit(crt);
	}
}

/* The version, cipher suite, key exchange and signature: known once the
 * server's hello is in (the key exchange group of TLS 1.2 only after its
 * key exchange message), so taken again when the handshake completes. */
static void
info_note_session(struct tls *s, bool completed)
{
	struct tls_info *i = s->info;
	const char *v, *suite, *group = NULL, *sign;
	gnutls_group_t g;

	if (!i)
		return;
	v = gnutls_protocol_get_name(gnutls_protocol_get_version(s->session));
	suite = gnutls_ciphersuite_get(s->session);
	g = gnutls_group_get(s->session);
	if (g != GNUTLS_GROUP_INVALID)
		group = gnutls_group_get_name(g);
	if (!group)
		group = gnutls_kx_get_name(gnutls_kx_get(s->session));
	sign = gnutls_sign_get_name(gnutls_sign_algorithm_get(s->session));
	str_copy(i->version, sizeof i->version, v ? v : "");
	if (!suite) /* named only once the handshake is complete */
		suite = gnutls_cipher_get_name(gnutls_cipher_get(s->session));
	str_copy(i->suite, sizeof i->suite, suite ? suite : "");
	str_copy(i->group, sizeof i->group, group ? group : "");
	str_copy(i->signature, sizeof i->signature, sign ? sign : "");
	i->completed = completed;
}

/* The root the chain was verified up to: the trusted issuer of the last
 * certificate sent (itself when the server sent the root). */
static void
info_note_anchor(struct tls *s)
{
	unsigned n = 0;
	const gnutls_datum_t *list =
	    gnutls_certificate_get_peers(s->session, &n);
	gnutls_x509_crt_t last, root;
	char cn[TLS_WORD_MAX * 2];
	size_t size = sizeof cn;

	if (!list || n == 0 || gnutls_x509_crt_init(&last) < 0)
		return;
	if (gnutls_x509_crt_import(last, &list[n - 1], GNUTLS_X509_FMT_DER) ==
	        0 &&
	    gnutls_certificate_get_issuer(s->cred, last, &root,
	                                  GNUTLS_TL_GET_COPY) == 0) {
		if (gnutls_x509_crt_get_dn_by_oid(root,
		                                  GNUTLS_OID_X520_COMMON_NAME,
		                                  0, 0, cn, &size) == 0)
			str_copy(s->info->anchor, sizeof s->info->anchor, cn);
		else {
			char *dn = dn_text(root, false);

			str_copy(s->info->anchor, sizeof s->info->anchor, dn);
			free(dn);
		}
		gnutls_x509_crt_deinit(root);
	}
	gnutls_x509_crt_deinit(last);
}

/* The verdict of verify_peer, the chain it judged and the session so
 * far: all known before the handshake goes on (or stops). */
static void
info_note_peer(struct tls *s)
{
	struct tls_info *i = s->info;

	if (!i)
		return;
	info_note_session(s, i->completed);
	info_note_chain(s);
	i->verify_ran = true;
	i->verified = s->verified;
	i->dane = s->dane != NULL;
	str_copy(i->verdict, sizeof i->verdict, s->result);
	if (s->info_chain && s->verified && s->pin_len == 0 &&
	    !s->no_certcheck && !s->dane)
		info_note_anchor(s);
}

/* What the chain is checked against, in words. */
static void
info_note_trust(struct tls *s, const char *file)
{
	struct tls_info *i = s->info;

	if (!i)
		return;
	if (s->dane)
		str_copy(i->trust, sizeof i->trust,
		         "the server's TLSA records (DANE, RFC 7672)");
	else if (s->pin_len > 0)
		str_copy(i->trust, sizeof i->trust,
		         "the pinned fingerprint (tls_fingerprint)");
	else if (s->no_certcheck)
		str_copy(i->trust, sizeof i->trust,
		         "nothing (tls_certcheck off)");
	else if (file && !*file)
		str_copy(i->trust, sizeof i->trust,
		         "no CA (tls_trust_file is empty)");
	else if (!file || strcmp(file, "system") == 0)
		str_copy(i->trust, sizeof i->trust, "the system trust store");
	else
		snprintf(i->trust, sizeof i->trust, "tls_trust_file %s", file);
}

/* --- what to do about a refusal --- */

/* The cure for each cause of a refusal by the chain (status). */
static void
advise_causes(struct tls *s, unsigned status, gnutls_x509_crt_t crt)
{
	gnutls_datum_t dn = {NULL, 0};
	const char *file = s->trust_file;
	char *names;

	/* A self-signed certificate has no issuer to trust but itself: the
	 * pin is the way. */
	if ((status & GNUTLS_CERT_SIGNER_NOT_FOUND) && !s->no_ca &&
	    gnutls_x509_crt_check_issuer(crt, crt) != 1 &&
	    gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) == 0) {
		if (!file || strcmp(file, "system") == 0)
			append(s->advice, sizeof s->advice,
			       "its issuer (%.*s) is not in the system trust "
			       "store: if it is your own CA, add the line "
			       "'tls_trust_file /path/to/that-ca.pem'; ",
			       (int)dn.size, (const char *)dn.data);
		else
			append(s->advice, sizeof s->advice,
			       "its issuer (%.*s) is not in tls_trust_file %s: "
			       "add that CA's certificate (PEM) to it; ",
			       (int)dn.size, (const char *)dn.data, file);
		gnutls_free(dn.data);
	}
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		names = alt_names(crt);
		if (names[0])
			append(s->advice, sizeof s->advice,
			       "it is for %s: connect by one of those names, "
			       "or add 'tls_host_override NAME' if it is the "
			       "same server; ",
			       names);
		free(names);
	}
	if (status & GNUTLS_CERT_EXPIRED)
		append(s->advice, sizeof s->advice,
		       "the server's administrator must renew it; ");
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		append(s->advice, sizeof s->advice,
		       "check this machine's clock; ");
}

/* After a refusal: what to do, ending with the exact line that would pin
 * the certificate and what a pin gives up.  A revoked certificate gets no
 * such line: pinning it would undo the revocation. */
static void
advise(struct tls *s, unsigned status, gnutls_x509_crt_t crt,
       const gnutls_datum_t *der)
{
	unsigned char digest[TLS_SHA256_LEN];
	char fp[TLS_FINGERPRINT_MAX];
	bool account = s->account && *s->account;

	s->advice[0] = '\0';
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, digest) <
	    0)
		return;
	format_hex(digest, sizeof digest, fp, sizeof fp);
	if (status & GNUTLS_CERT_REVOKED) {
		append(s->advice, sizeof s->advice,
		       "its issuer revoked it: the server's administrator must "
		       "replace it (SHA-256 fingerprint %s)",
		       fp);
		return;
	}
	if (s->pin_len > 0) {
		append(s->advice, sizeof s->advice,
		       "if the server's certificate was replaced on purpose "
		       "(ask its administrator), pin the new one with the line "
		       "'tls_fingerprint %s'%s%s",
		       fp, account ? " in account " : "",
		       account ? s->account : "");
		return;
	}
	advise_causes(s, status, crt);
	append(s->advice, sizeof s->advice,
	       "%sonly after checking by other means that it is the "
	       "server's own certificate, pin it with the line "
	       "'tls_fingerprint %s'%s%s (a pin replaces verification: the "
	       "issuer, the name and the dates are no longer checked, and "
	       "the pin must change when the certificate does)",
	       s->advice[0] ? "or, " : "", fp, account ? " in account " : "",
	       account ? s->account : "");
}

/* --- verification --- */

/* A pinned fingerprint decides alone (RFC 6125 6.6.2 leaves pinning to
 * the application): CA, name and dates do not matter. */
static int
verify_pin(struct tls *s, const gnutls_datum_t *der)
{
	gnutls_digest_algorithm_t alg =
	    s->pin_len == TLS_SHA1_LEN ? GNUTLS_DIG_SHA1 : GNUTLS_DIG_SHA256;
	const char *alg_name = s->pin_len == TLS_SHA1_LEN ? "SHA-1" : "SHA-256";
	unsigned char digest[TLS_PIN_MAX];
	char got[TLS_FINGERPRINT_MAX];

	if (gnutls_hash_fast(alg, der->data, der->size, digest) < 0) {
		str_copy(s->result, sizeof s->result,
		         "cannot compute the certificate's fingerprint");
		return -1;
	}
	if (memcmp(digest, s->pin, s->pin_len) == 0) {
		snprintf(s->result, sizeof s->result,
		         "trusted by the pinned %s fingerprint%s", alg_name,
		         s->pin_len == TLS_SHA1_LEN
		             ? " (a SHA-256 pin is preferred)"
		             : "");
		return 0;
	}
	format_hex(digest, s->pin_len, got, sizeof got);
	snprintf(s->result, sizeof s->result,
	         "fingerprint does not match: got %s (%s)", got, alg_name);
	advise(s, 0, NULL, der);
	return -1;
}

/* The main reasons in our words; the rest in GnuTLS's. */
static const struct {
	unsigned flag;
	const char *text;
} other_reasons[] = {
    {GNUTLS_CERT_REVOKED, "certificate revoked"},
    {GNUTLS_CERT_SIGNER_NOT_CA, "issuer is not a CA"},
    {GNUTLS_CERT_INSECURE_ALGORITHM,
     "certificate signed with an insecure algorithm"},
    {GNUTLS_CERT_SIGNATURE_FAILURE, "certificate signature is invalid"},
    {GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE,
     "issuer's constraints forbid this certificate"},
    {GNUTLS_CERT_PURPOSE_MISMATCH, "certificate is not for TLS servers"},
    {GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED, "revocation data is too old"},
    {GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE,
     "revocation data is dated in the future"},
    {GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS,
     "certificate has an unknown critical extension"},
};

static void
untrusted_reason(struct tls *s, gnutls_x509_crt_t crt)
{
	if (gnutls_x509_crt_check_issuer(crt, crt) == 1)
		add_reason(s->result, sizeof s->result,
		           "self-signed certificate");
	else
		add_reason(s->result, sizeof s->result,
		           "certificate is not trusted (issuer unknown)");
	if (s->no_ca)
		add_reason(s->result, sizeof s->result,
		           "tls_trust_file is empty: only tls_fingerprint can "
		           "make a certificate trusted");
}

static void
date_reasons(struct tls *s, unsigned status, gnutls_x509_crt_t crt)
{
	char when[TLS_TIME_MAX];

	if (status & GNUTLS_CERT_EXPIRED) {
		format_time(gnutls_x509_crt_get_expiration_time(crt), when,
		            sizeof when);
		add_reason(s->result, sizeof s->result,
		           "certificate has expired (valid until %s)", when);
	}
	if (status & GNUTLS_CERT_NOT_ACTIVATED) {
		format_time(gnutls_x509_crt_get_activation_time(crt), when,
		            sizeof when);
		add_reason(s->result, sizeof s->result,
		           "certificate is not yet valid (valid from %s)",
		           when);
	}
}

/* tls.h */
char *
tls_status_words(unsigned status, char *out, size_t n)
{
	out[0] = '\0';
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		add_reason(out, n,
		           "certificate is not trusted (issuer unknown)");
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		add_reason(out, n, "certificate's host name does not match");
	if (status & GNUTLS_CERT_EXPIRED)
		add_reason(out, n, "certificate has expired");
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		add_reason(out, n, "certificate is not yet valid");
	for (size_t i = 0; i < sizeof other_reasons / sizeof *other_reasons;
	     i++)
		if (status & other_reasons[i].flag)
			add_reason(out, n, "%s", other_reasons[i].text);
	if (!out[0])
		add_reason(out, n, "certificate is invalid");
	return out;
}

/* Put every reason in status into s->result. */
static void
name_reasons(struct tls *s, unsigned status, gnutls_x509_crt_t crt)
{
	size_t before;

	s->result[0] = '\0';
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		untrusted_reason(s, crt);
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		add_reason(s->result, sizeof s->result,
		           "certificate's host name does not match '%s'",
		           s->name);
	date_reasons(s, status, crt);
	for (size_t i = 0; i < sizeof other_reasons / sizeof *other_reasons;
	     i++)
		if (status & other_reasons[i].flag)
			add_reason(s->result, sizeof s->result, "%s",
			           other_reasons[i].text);
	before = strlen(s->result);
	if (before == 0) {
		gnutls_datum_t text = {NULL, 0};

		if (gnutls_certificate_verification_status_print(
		        status, GNUTLS_CRT_X509, &text, 0) == 0) {
			add_reason(s->result, sizeof s->result, "%.*s",
			           (int)text.size, (const char *)text.data);
			gnutls_free(text.data);
		} else {
			add_reason(s->result, sizeof s->result,
			           "certificate is invalid");
		}
	}
}

/* --- the trust store, imported for the chain at hand --- */

/* The names one chain can ask the store for: the subject and the issuer
 * of each certificate GnuTLS verifies (its default maximum depth is 16). */
#define TLS_CHAIN_NAMES_MAX (2 * 16)

struct chain_names {
	const unsigned char *dn[TLS_CHAIN_NAMES_MAX];
	size_t len[TLS_CHAIN_NAMES_MAX];
	size_t n;
};

/* The subjects and issuers of the certificates the server sent, read as
 * the store's are (castore_names: every length checked).  One that cannot
 * be read names nothing: GnuTLS then refuses it anyway. */
static void
chain_names(const gnutls_datum_t *list, unsigned n, struct chain_names *w)
{
	w->n = 0;
	for (unsigned k = 0; k < n && w->n + 2 <= TLS_CHAIN_NAMES_MAX; k++) {
		size_t at[2], len[2];

		if (!castore_names(list[k].data, list[k].size, at, len))
			continue;
		for (int j = 0; j < 2; j++) {
			w->dn[w->n] = list[k].data + at[j];
			w->len[w->n++] = len[j];
		}
	}
}

static bool
store_wanted(const struct castore *store, size_t i, const struct chain_names *w)
{
	for (size_t k = 0; k < w->n; k++)
		if (castore_subject_is(store, i, w->dn[k], w->len[k]))
			return true;
	return false;
}

/* A refused trust store, in the words of the setting that named it and
 * with what to do: the one form of every refusal of the store, whenever
 * it is found (reading the file, or a CA when the chain names it). */
static int
store_refused(struct tls *s, const char *why, struct error *err)
{
	if (s->store_system) {
		const char *path = tls_system_trust_file();

		return error_set(err, ERROR_CONFIG,
		                 "cannot load the system trust store %s: %s; "
		                 "set tls_trust_file",
		                 path ? path : "", why);
	}
	return error_set(err, ERROR_CONFIG,
	                 "tls_trust_file %s: %s; name a PEM file of CA "
	                 "certificates, or 'tls_trust_file system'",
	                 s->trust_file ? s->trust_file : "", why);
}

/* A CA of the store that GnuTLS cannot read refuses the store, as it
 * refused the whole file when it read every CA. */
static int
import_failed(struct tls *s, size_t i, const char *why)
{
	char what[TLS_ERROR_MAX];

	snprintf(what, sizeof what, "certificate %zu (line %zu): %s", i + 1,
	         castore_line(s->store, i), why);
	s->trust_failed = true;
	return store_refused(s, what, &s->trust_err);
}

/* One CA of the store as GnuTLS's certificate, or -1 (import_failed). */
static int
import_one(struct tls *s, size_t i, gnutls_x509_crt_t *crt)
{
	const char *why = NULL;
	size_t len;
	unsigned char *der = castore_der(s->store, i, &len, &why);
	gnutls_datum_t d = {der, (unsigned)len};
	int rc;

	if (!der)
		return import_failed(s, i, why);
	rc = gnutls_x509_crt_init(crt);
	if (rc == 0) {
		rc = gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_DER);
		if (rc < 0)
			gnutls_x509_crt_deinit(*crt);
	}
	free(der);
	return rc < 0 ? import_failed(s, i, gnutls_strerror(rc)) : 0;
}

/* Give GnuTLS the CAs of the store whose subject is the subject or the
 * issuer of a certificate the server sent, in the file's order: all its
 * trust list look-ups can reach.  It finds an issuer by the issuer's
 * name, cuts a chain at a trusted copy of one of its certificates (a
 * trusted intermediate, a cross-signed root: same name), and compares
 * nothing across names; CAs of other names change no verdict. */
static int
import_matching(struct tls *s)
{
	unsigned n = 0;
	const gnutls_datum_t *list =
	    gnutls_certificate_get_peers(s->session, &n);
	size_t count = castore_count(s->store), k = 0, room = 4;
	gnutls_x509_crt_t *cas = xcalloc(room, sizeof *cas);
	gnutls_x509_trust_list_t tl;
	struct chain_names w;
	int rc = 0;

	chain_names(list, list ? n : 0, &w);
	/* Any number of CAs may share a name: all of them, GnuTLS picks. */
	for (size_t i = 0; i < count && rc == 0; i++) {
		if (!store_wanted(s->store, i, &w))
			continue;
		if (k == room)
			cas = xrealloc(cas, (room *= 2) * sizeof *cas);
		rc = import_one(s, i, &cas[k++]);
	}
	if (rc < 0)
		k--; /* the one that failed was not made */
	transcript_trace(s->t,
	                 "trust: %zu of %zu CAs of the store match the "
	                 "server's chain",
	                 k, count);
	gnutls_certificate_get_trust_list(s->cred, &tl);
	if (rc < 0) {
		for (size_t i = 0; i < k; i++)
			gnutls_x509_crt_deinit(cas[i]);
	} else if (k > 0) {
		/* The list owns them now, even those it drops as duplicates. */
		(void)gnutls_x509_trust_list_add_cas(tl, cas, (unsigned)k,
		                                     store_flags(s));
	}
	free(cas);
	castore_free(s->store);
	s->store = NULL;
	return rc;
}

/* The verdict when the server's certificate does not parse. */
static const char unusable[] = "the server sent no usable X.509 certificate";

/* A refused chain explained: the certificate, which GnuTLS's verification
 * parsed for itself, parsed again for its names and dates, only now. */
static int
chain_refused(struct tls *s, unsigned status, const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;

	if (peer_certificate(s, &crt, NULL) < 0) {
		str_copy(s->result, sizeof s->result, unusable);
		return -1;
	}
	name_reasons(s, status, crt);
	advise(s, status, crt, der);
	gnutls_x509_crt_deinit(crt);
	return -1;
}

/* The chain against the trust store, the host name (RFC 6125, including
 * an IP address against iPAddress entries) and the purpose. */
static int
verify_chain(struct tls *s, const gnutls_datum_t *der)
{
	gnutls_typed_vdata_st data[2] = {
	    {.type = GNUTLS_DT_DNS_HOSTNAME, .data = (unsigned char *)s->name},
	    {.type = GNUTLS_DT_KEY_PURPOSE_OID,
	     .data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER},
	};
	unsigned status = 0;
	int rc;

	if (s->store && import_matching(s) < 0) {
		str_copy(s->result, sizeof s->result, s->trust_err.msg);
		return -1;
	}
	rc = gnutls_certificate_verify_peers(s->session, data, 2, &status);
	if (rc < 0) {
		gnutls_x509_crt_t crt;

		if (peer_certificate(s, &crt, NULL) < 0) {
			str_copy(s->result, sizeof s->result, unusable);
			return -1;
		}
		gnutls_x509_crt_deinit(crt);
		snprintf(s->result, sizeof s->result,
		         "cannot verify the certificate: %s",
		         gnutls_strerror(rc));
		return -1;
	}
	if (status == 0) {
		snprintf(s->result, sizeof s->result,
		         "trusted (chain, host name '%s' and dates verified)",
		         s->name);
		return 0;
	}
	return chain_refused(s, status, der);
}

/* The chain by the TLSA records alone (tlsdane.h).  With none usable,
 * RFC 7672 2.2 still requires TLS, but authenticates nothing: any
 * certificate is taken, and the verdict says so. */
static int
verify_dane(struct tls *s, const gnutls_datum_t *list, unsigned n)
{
	struct tlsdane_cert chain[TLSDANE_CHAIN_MAX];
	size_t k = 0;

	if (tlsdane_count_usable(s->dane) == 0) {
		snprintf(s->result, sizeof s->result,
		         "NOT AUTHENTICATED (none of the server's %zu TLSA "
		         "records is usable for SMTP: encrypted, any "
		         "certificate taken, RFC 7672 2.2)",
		         s->dane->n);
		return 0;
	}
	for (; k < n && k < TLSDANE_CHAIN_MAX; k++) {
		chain[k].der = list[k].data;
		chain[k].len = list[k].size;
	}
	return tlsdane_verify(s->dane, chain, k, s->result, sizeof s->result);
}

/* Judge the peer certificate; the verdict goes to s->result.  A chain's
 * verification parses the server's certificate itself: it is parsed here
 * too only for a pin or tls_certcheck off, where nothing else would, and
 * its expiry is read from its bytes (castore_not_after), asking GnuTLS
 * only for a form that does not read. */
static int
verify_peer(struct tls *s)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned n = 0;
	const gnutls_datum_t *list =
	    gnutls_certificate_get_peers(s->session, &n);
	bool chain = s->pin_len == 0 && !s->no_certcheck && !s->dane;
	int rc;

	s->verify_ran = true;
	s->verified = false;
	if (!list || n == 0 ||
	    (!chain && peer_certificate(s, &crt, NULL) < 0)) {
		str_copy(s->result, sizeof s->result, unusable);
		info_note_peer(s);
		return -1;
	}
	s->peer_not_after = castore_not_after(list[0].data, list[0].size);
	if (s->peer_not_after == -1 && crt)
		s->peer_not_after =
		    (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	if (s->dane)
		rc = verify_dane(s, list, n);
	else if (s->pin_len > 0)
		rc = verify_pin(s, &list[0]);
	else if (s->no_certcheck)
		rc = 0;
	else
		rc = verify_chain(s, &list[0]);
	if (rc == 0 && s->no_certcheck && s->pin_len == 0 && !s->dane)
		str_copy(s->result, sizeof s->result,
		         "NOT VERIFIED (tls_certcheck is off)");
	if (crt)
		gnutls_x509_crt_deinit(crt);
	s->verified = rc == 0;
	info_note_peer(s);
	return rc;
}

/* GnuTLS calls this when the server's certificate arrives; nonzero aborts
 * the handshake with a bad_certificate alert. */
static int
verify_callback(gnutls_session_t session)
{
	struct tls *s = gnutls_session_get_ptr(session);

	if (verify_peer(s) == 0)
		return 0; /* described when the handshake is complete */
	describe(s);
	return -1;
}

/* --- credentials, loaded only now --- */

/* Why path cannot be given to GnuTLS, or NULL when it can.  GnuTLS
 * reads a CRL, certificate or key file whole, through open(2) and
 * read(2) to the end: a FIFO would hold the run forever (no timeout
 * covers it) and a device such as /dev/zero never ends.  The limit is
 * castore's for the trust file, a file of the same kind. */
static const char *
file_problem(const char *path)
{
	static char why[64];
	struct stat st;

	if (access(path, R_OK) < 0 || stat(path, &st) < 0)
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? "it is a directory"
		                           : "it is not a regular file";
	if (st.st_size > CASTORE_FILE_MAX) {
		snprintf(why, sizeof why, "it is larger than %d MiB",
		         CASTORE_FILE_MAX >> 20);
		return why;
	}
	return NULL;
}

/* --check-config: every CA parsed by GnuTLS, as a send did before the
 * store was read lazily, so that a certificate broken past its subject
 * (which a send notices only when a chain names it) is found, and the
 * count is GnuTLS's. */
static int
check_store(struct tls *s, const char *path, struct error *err)
{
	gnutls_x509_trust_list_t tl;
	int rc;

	gnutls_certificate_get_trust_list(s->cred, &tl);
	rc = gnutls_x509_trust_list_add_trust_file(
	    tl, path, NULL, GNUTLS_X509_FMT_PEM, store_flags(s), 0);
	if (rc < 0)
		return store_refused(s, gnutls_strerror(rc), err);
	s->ntrusted = rc;
	return 0;
}

/* Read the store at path; its CAs wait for the server's chain. */
static int
open_store(struct tls *s, const char *path, struct error *err)
{
	struct error e;

	if (castore_open(&s->store, path, &e) < 0)
		return store_refused(s, e.msg, err);
	if (castore_count(s->store) == 0)
		return store_refused(s, "no PEM certificate in it", err);
	s->ntrusted = (int)castore_count(s->store);
	return s->check_all ? check_store(s, path, err) : 0;
}

static int
load_system_trust(struct tls *s, struct error *err)
{
	const char *path = tls_system_trust_file();
	int rc;

	s->store_system = true;
	if (path)
		return open_store(s, path, err);
	rc = gnutls_certificate_set_x509_system_trust(s->cred);
	if (rc <= 0)
		return error_set(err, ERROR_CONFIG,
		                 "cannot load the system trust store%s%s; "
		                 "set tls_trust_file",
		                 rc < 0 ? ": " : " (it is empty)",
		                 rc < 0 ? gnutls_strerror(rc) : "");
	s->ntrusted = rc;
	return 0;
}

static int
load_trust(struct tls *s, const struct tls_params *p, struct error *err)
{
	const char *file = p->trust_file, *why;

	info_note_trust(s, file);
	if (s->pin_len > 0 || s->no_certcheck || s->dane)
		return 0; /* nothing would consult it */
	if (file && !*file) {
		s->no_ca = true;
		return 0;
	}
	if (!file || strcmp(file, "system") == 0)
		return load_system_trust(s, err);
	why = file_problem(file);
	if (why)
		return error_set(
		    err, ERROR_CONFIG,
		    "cannot read tls_trust_file %s: %s; name the PEM "
		    "file of the CA that signs the server's "
		    "certificate, or 'tls_trust_file system'",
		    shown_trust_file(p), why);
	return open_store(s, file, err);
}

static int
load_crl(struct tls *s, const struct tls_params *p, struct error *err)
{
	const char *why;
	int rc;

	if (!p->crl_file || s->pin_len > 0 || s->no_certcheck || s->dane)
		return 0;
	why = file_problem(p->crl_file);
	if (why)
		return error_set(err, ERROR_CONFIG,
		                 "cannot read tls_crl_file %s: %s", p->crl_file,
		                 why);
	rc = gnutls_certificate_set_x509_crl_file(s->cred, p->crl_file,
	                                          GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		return error_set(err, ERROR_CONFIG, "tls_crl_file %s: %s",
		                 p->crl_file, gnutls_strerror(rc));
	return 0;
}

static int
load_client_cert(struct tls *s, const struct tls_params *p, struct error *err)
{
	const char *why;
	int rc;

	if (!p->cert_file && !p->key_file)
		return 0;
	if (!p->cert_file || !p->key_file)
		return error_set(err, ERROR_CONFIG,
		                 "tls_cert_file and tls_key_file must be set "
		                 "together");
	why = file_problem(p->cert_file);
	if (why)
		return error_set(err, ERROR_CONFIG,
		                 "cannot read tls_cert_file %s: %s",
		                 p->cert_file, why);
	why = file_problem(p->key_file);
	if (why)
		return error_set(err, ERROR_CONFIG,
		                 "cannot read tls_key_file %s: %s", p->key_file,
		                 why);
	rc = gnutls_certificate_set_x509_key_file2(
	    s->cred, p->cert_file, p->key_file, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0)
		return error_set(
		    err, ERROR_CONFIG, "tls_cert_file %s / tls_key_file %s: %s",
		    p->cert_file, p->key_file, gnutls_strerror(rc));
	return 0;
}

static int
load_credentials(struct tls *s, const struct tls_params *p, struct error *err)
{
	int rc = gnutls_certificate_allocate_credentials(&s->cred);

	if (rc < 0) {
		s->cred = NULL;
		return error_set(err, ERROR_OSERR, "TLS credentials: %s",
		                 gnutls_strerror(rc));
	}
	if (load_trust(s, p, err) < 0 || load_crl(s, p, err) < 0 ||
	    load_client_cert(s, p, err) < 0)
		return -1;
	gnutls_certificate_set_verify_function(s->cred, verify_callback);
	return 0;
}

int
tls_check_credentials(const struct tls_params *p, int *ntrusted,
                      struct error *err)
{
	struct tls s = {.no_certcheck = p->no_certcheck,
	                .check_all = true,
	                .trust_file = shown_trust_file(p)};
	int rc;

	*ntrusted = 0;
	if (p->fingerprint &&
	    parse_pin(p->fingerprint, s.pin, &s.pin_len, err) < 0)
		return -1;
	rc = gnutls_certificate_allocate_credentials(&s.cred);
	if (rc < 0)
		return error_set(err, ERROR_OSERR, "TLS credentials: %s",
		                 gnutls_strerror(rc));
	rc = load_trust(&s, p, err) < 0 || load_crl(&s, p, err) < 0 ||
	             load_client_cert(&s, p, err) < 0
	         ? -1
	         : 0;
	gnutls_certificate_free_credentials(s.cred);
	castore_free(s.store);
	*ntrusted = s.ntrusted;
	return rc;
}

/* --- resumption across runs (tlscache.h) --- */

/* One field into the digest, its length first, so that no two lists of
 * fields hash alike ("ab" "c" and "a" "bc"); NULL differs from "". */
static void
hash_field(gnutls_hash_hd_t h, const char *v)
{
	unsigned char len[4];
	size_t n = v ? strlen(v) : 0;
	uint32_t tag = v ? (uint32_t)n : UINT32_MAX;

	be_put(len, tag, sizeof len);
	gnutls_hash(h, len, sizeof len);
	if (n)
		gnutls_hash(h, v, n);
}

/* The entry's file, from the server as the caller names it (account,
 * host, port and mode), and the identity it is bound to: that, the name
 * verified and sent as SNI, and every setting verification used.  The
 * contents of the files named are not hashed: a resumed session's
 * certificate is verified again against them. */
static void
cache_setup(struct tls *s, const struct tls_params *p)
{
	unsigned char where[TLSCACHE_ID_LEN];
	gnutls_hash_hd_t h;
	size_t o;

	/* No verified identity to bind it to; nor a session of the system
	 * configuration's account in a file its caller could read. */
	if (!p->cache_dir || !*p->cache_dir || p->no_certcheck ||
	    p->private_names || p->dane)
		return;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return;
	hash_field(h, p->account);
	hash_field(h, p->host);
	hash_field(h, p->cache_scope);
	gnutls_hash_output(h, where); /* and starts afresh */
	gnutls_hash(h, where, sizeof where);
	hash_field(h, s->name);
	hash_field(h, p->trust_file ? p->trust_file : "system");
	hash_field(h, p->crl_file);
	hash_field(h, p->fingerprint);
	hash_field(h, p->cert_file);
	hash_field(h, p->key_file);
	hash_field(h, p->priorities ? p->priorities : TLS_DEFAULT_PRIORITIES);
	gnutls_hash_deinit(h, s->cache_id);
	o = (size_t)snprintf(s->cache_name, sizeof s->cache_name, "session-");
	for (size_t i = 0; i < 16 && o + 2 < sizeof s->cache_name; i++) {
		hex_pair(s->cache_name + o, where[i]);
		o += 2;
	}
	s->cache_name[o] = '\0';
	s->cache_dir = xstrdup(p->cache_dir);
}

/* Offer the session an earlier run kept, if there is a usable one. */
static void
cache_offer(struct tls *s)
{
	struct tlscache_entry e;
	char why[TLS_ERROR_MAX];

	if (!s->cache_dir)
		return;
	if (tlscache_load(s->cache_dir, s->cache_name, s->cache_id,
	                  (int64_t)time(NULL), &e, why, sizeof why) < 0) {
		transcript_trace(s->t, "no TLS session to resume: %s", why);
		return;
	}
	/* A file that passed every check above but that GnuTLS refuses
	 * (written by another version of it, or damaged inside the data):
	 * said at -v, as a resumed session is; the new session replaces it. */
	if (gnutls_session_set_data(s->session, e.data, e.len) == 0)
		s->cache_offered = true;
	else
		transcript_note(s->t, "the kept TLS session is not usable: "
		                      "a full handshake follows");
	tlscache_entry_clear(&e);
}

/* After the handshake: resumed or not.  An entry the server did not take
 * is stale (it forgot its ticket keys, or the ticket expired): it goes,
 * and this session's replaces it. */
static void
cache_judge(struct tls *s)
{
	s->resumed = gnutls_session_is_resumed(s->session) != 0;
	if (s->info)
		s->info->resumed = s->resumed;
	if (s->cache_offered && !s->resumed)
		tlscache_forget(s->cache_dir, s->cache_name);
}

/* When the entry stops being worth offering: the ticket's lifetime as
 * the library knows it, 7 days at most (RFC 8446 4.6.1), and never after
 * the certificate it would be verified with again has expired (a full
 * handshake may bring its successor). */
static int64_t
cache_expiry(struct tls *s, const gnutls_datum_t *data)
{
	int64_t now = (int64_t)time(NULL), until = now + TLSCACHE_AGE_MAX;
	int64_t lib =
	    (int64_t)gnutls_db_check_entry_expire_time((gnutls_datum_t *)data);
	gnutls_x509_crt_t crt;

	if (lib > now && lib < until)
		until = lib;
	/* verify_peer read it (a session is kept only once verified). */
	if (s->peer_not_after != -1) {
		if (s->peer_not_after < until)
			until = s->peer_not_after;
	} else if (peer_certificate(s, &crt, NULL) == 0) {
		int64_t end = (int64_t)gnutls_x509_crt_get_expiration_time(crt);

		if (end != -1 && end < until)
			until = end;
		gnutls_x509_crt_deinit(crt);
	}
	return until;
}

/* Is there a new session to keep?  TLS 1.3 sends its ticket after the
 * handshake (RFC 8446 4.6.1), so not before one came; a TLS 1.2 session
 * only with the extended master secret (RFC 7627 5.3: resuming one
 * without it opens the triple handshake attack on channel binding), and
 * a resumed one only when the server gave a new ticket. */
static bool
cache_ready(struct tls *s, bool *never)
{
	unsigned flags = gnutls_session_get_flags(s->session);
	bool ticket = flags & GNUTLS_SFLAGS_SESSION_TICKET;

	*never = false;
	if (gnutls_protocol_get_version(s->session) == GNUTLS_TLS1_3)
		return ticket;
	*never = !(flags & GNUTLS_SFLAGS_EXT_MASTER_SECRET) ||
	         (s->resumed && !ticket);
	return !*never;
}

/* Keep this session for the next run, once; a failure is a note (-v):
 * the next run makes a full handshake, nothing worse. */
static void
cache_keep(struct tls *s)
{
	gnutls_datum_t data = {NULL, 0};
	struct error err;
	bool never;

	if (!s->cache_dir || s->cache_done || !s->verified)
		return;
	if (!cache_ready(s, &never)) {
		s->cache_done = never;
		return;
	}
	s->cache_done = true;
	if (gnutls_session_get_data2(s->session, &data) < 0)
		return;
	error_clear(&err);
	if (tlscache_store(s->cache_dir, s->cache_name, s->cache_id,
	                   cache_expiry(s, &data), data.data, data.size,
	                   &err) < 0)
		transcript_note(
		    s->t, "TLS session not kept for the next run: %s", err.msg);
	wipe(data.data, data.size);
	gnutls_free(data.data);
}

/* --- the session --- */

/* SNI carries a DNS name only, never an address literal (RFC 6066 3). */
static bool
is_address_literal(const char *name)
{
	return strchr(name, ':') || strspn(name, "0123456789.") == strlen(name);
}

static int
set_priorities(struct tls *s, const char *prio, struct error *err)
{
	const char *where = NULL;
	int rc = gnutls_priority_set_direct(s->session, prio, &where);

	if (rc == GNUTLS_E_INVALID_REQUEST && where)
		return error_set(err, ERROR_CONFIG,
		                 "tls_priorities: invalid at \"%.40s\"", where);
	if (rc < 0)
		return error_set(err, ERROR_CONFIG, "tls_priorities: %s",
		                 gnutls_strerror(rc));
	return 0;
}

static int
new_session(struct tls *s, const struct tls_params *p, struct error *err)
{
	int rc = gnutls_init(&s->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
	                                      GNUTLS_NO_SIGNAL);

	if (rc < 0) {
		s->session = NULL;
		return error_set(err, ERROR_OSERR, "TLS session: %s",
		                 gnutls_strerror(rc));
	}
	gnutls_session_set_ptr(s->session, s);
	if (set_priorities(
	        s, p->priorities ? p->priorities : TLS_DEFAULT_PRIORITIES,
	        err) < 0)
		return -1;
	rc =
	    gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, s->cred);
	if (rc == 0 && !is_address_literal(s->name)) {
		rc = gnutls_server_name_set(s->session, GNUTLS_NAME_DNS,
		                            s->name, strlen(s->name));
		if (s->info)
			str_copy(s->info->sni, sizeof s->info->sni, s->name);
	}
	if (rc < 0)
		return error_set(err, ERROR_SOFTWARE, "TLS session: %s",
		                 gnutls_strerror(rc));
	gnutls_transport_set_int(s->session, s->fd);
	cache_offer(s);
	return 0;
}

/* GnuTLS's message for rc, without its final period (ours follow it). */
static const char *
reason(int rc, char *buf, size_t n)
{
	size_t len;

	str_copy(buf, n, gnutls_strerror(rc));
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '.')
		buf[len - 1] = '\0';
	return buf;
}

/* A refused certificate: why, and what to do about it. */
static int
refused(const struct tls *s, struct error *err)
{
	return error_set(err, ERROR_PROTOCOL,
	                 "TLS certificate of %s refused: %s%s%s", s->name,
	                 s->result, s->advice[0] ? "; " : "", s->advice);
}

/* A failed handshake in words. */
static int
handshake_failed(struct tls *s, int rc, struct error *err)
{
	char why[TLS_ERROR_MAX];

	if (s->trust_failed) {
		*err = s->trust_err;
		return -1;
	}
	if (s->verify_ran && !s->verified)
		return refused(s, err);
	switch (rc) {
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return error_set(
		    err, ERROR_PROTOCOL,
		    "TLS handshake failed: the server sent the "
		    "alert \"%s\"",
		    gnutls_alert_get_name(gnutls_alert_get(s->session)));
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		return error_set(err, ERROR_TEMPFAIL,
		                 "TLS handshake failed: %s",
		                 reason(rc, why, sizeof why));
	case GNUTLS_E_PREMATURE_TERMINATION:
		return error_set(err, ERROR_PROTOCOL,
		                 "TLS handshake failed: the server closed the "
		                 "connection");
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_UNEXPECTED_PACKET:
		/* RFC 8314 3.3: never fall back to plaintext. */
		return error_set(
		    err, ERROR_PROTOCOL,
		    "TLS handshake failed: %s (a server that "
		    "speaks plaintext on this port needs STARTTLS)",
		    reason(rc, why, sizeof why));
	default:
		return error_set(err, ERROR_PROTOCOL,
		                 "TLS handshake failed: %s",
		                 reason(rc, why, sizeof why));
	}
}

static int
handshake(struct tls *s, int timeout_ms, struct error *err)
{
	int64_t deadline;
	char secs[32];

	if (timeout_ms <= 0)
		timeout_ms = TLS_TIMEOUT_MS;
	deadline = now_ms() + timeout_ms;
	for (;;) {
		int rc = gnutls_handshake(s->session);
		int ready = 1;

		if (rc == GNUTLS_E_SUCCESS)
			return 0;
		if (gnutls_error_is_fatal(rc))
			return handshake_failed(s, rc, err);
		if (rc == GNUTLS_E_AGAIN)
			ready = wait_session(s, deadline);
		if (ready > 0 && now_ms() <= deadline)
			continue;
		if (ready < 0 && interrupt_cuts())
			return interrupt_error(err);
		if (ready < 0)
			return error_set_errno(err, ERROR_TEMPFAIL, errno,
			                       "TLS handshake failed");
		str_seconds(secs, sizeof secs, timeout_ms);
		return error_set(err, ERROR_TEMPFAIL,
		                 "timed out after %s s in the TLS handshake",
		                 secs);
	}
}

/* RFC 8997: TLS 1.0 and 1.1 are forbidden, whatever tls_priorities
 * allowed. */
static int
check_version(struct tls *s, struct error *err)
{
	gnutls_protocol_t v = gnutls_protocol_get_version(s->session);
	const char *name = gnutls_protocol_get_name(v);

	if (v == GNUTLS_TLS1_2 || v == GNUTLS_TLS1_3)
		return 0;
	return error_set(err, ERROR_PROTOCOL,
	                 "the server negotiated %s; TLS 1.2 or later is "
	                 "required (RFC 8997)",
	                 name ? name : "an unknown protocol");
}

/* After the handshake: the version, and a verdict even if GnuTLS never
 * called us (no certificate exchange at all is a refusal). */
static int
check_session(struct tls *s, struct error *err)
{
	info_note_session(s, true);
	cache_judge(s);
	if (check_version(s, err) < 0)
		return -1;
	/* A resumed session brings no certificate message: the one it was
	 * verified with when it was kept (GnuTLS keeps it in the session
	 * data) is verified again here, against today's trust, CRL, name
	 * and clock. */
	if (!s->verify_ran)
		(void)verify_peer(s);
	describe(s);
	if (s->trust_failed) {
		*err = s->trust_err;
		return -1;
	}
	if (!s->verified)
		return refused(s, err);
	transcript_tls(
	    s->t,
	    gnutls_protocol_get_name(gnutls_protocol_get_version(s->session)),
	    gnutls_ciphersuite_get(s->session));
	return 0;
}

int
tls_start(struct tls **out, int fd, const struct tls_params *p,
          struct transcript *t, struct error *err)
{
	const char *name = p->host_override ? p->host_override : p->host;
	struct tls *s;

	*out = NULL;
	if (!name || !*name)
		return error_set(err, ERROR_CONFIG,
		                 "no host name to verify the TLS certificate "
		                 "against");
	s = xcalloc(1, sizeof *s);
	s->fd = fd;
	s->t = t;
	s->name = xstrdup(name);
	s->no_certcheck = p->no_certcheck;
	s->dane = p->dane;
	s->info = p->info;
	s->peer_not_after = -1;
	s->info_chain = p->info_chain;
	s->trust_file = shown_trust_file(p);
	s->account = p->account;
	cache_setup(s, p);
	if ((p->dane && tlsdane_count_usable(p->dane) > 0 &&
	     tlsdane_load(err) < 0) ||
	    (p->fingerprint && !p->dane &&
	     parse_pin(p->fingerprint, s->pin, &s->pin_len, err) < 0) ||
	    load_credentials(s, p, err) < 0 || new_session(s, p, err) < 0 ||
	    handshake(s, p->timeout_ms, err) < 0 || check_session(s, err) < 0) {
		tls_free(s);
		return -1;
	}
	s->trust_file = s->account = NULL;
	s->dane = NULL;
	cache_keep(s); /* TLS 1.2: the ticket came in the handshake */
	*out = s;
	return 0;
}

/* --- data --- */

/* A GnuTLS error from record_recv/record_send as -1 and errno. */
static ssize_t
io_failed(struct tls *s, ssize_t rc)
{
	char why[TLS_ERROR_MAX];

	if (rc == GNUTLS_E_AGAIN) {
		errno = EAGAIN;
		return -1;
	}
	if (rc == GNUTLS_E_PREMATURE_TERMINATION) {
		if (s->expect_close)
			return 0;
		str_copy(s->last_error, sizeof s->last_error,
		         "the server closed the connection without a TLS "
		         "close_notify (the data may have been truncated)");
		errno = ECONNRESET;
		return -1;
	}
	if (rc == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal((int)rc)) {
		/* A warning alert or a renegotiation request (which a client
		 * may ignore, RFC 5246 7.4.1.1): try again. */
		errno = EINTR;
		return -1;
	}
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		snprintf(s->last_error, sizeof s->last_error,
		         "the server sent the TLS alert \"%s\"",
		         gnutls_alert_get_name(gnutls_alert_get(s->session)));
	else
		snprintf(s->last_error, sizeof s->last_error, "TLS error: %s",
		         reason((int)rc, why, sizeof why));
	errno = EPROTO;
	return -1;
}

ssize_t
tls_read(struct tls *s, void *buf, size_t n)
{
	ssize_t rc = gnutls_record_recv(s->session, buf, n);

	/* A TLS 1.3 ticket comes after the handshake, with or before the
	 * first reply; GnuTLS takes it in while reading. */
	if (!s->cache_done)
		cache_keep(s);
	/* 0 is the server's close_notify (RFC 8446 6.1). */
	return rc >= 0 ? rc : io_failed(s, rc);
}

ssize_t
tls_write(struct tls *s, const void *buf, size_t n)
{
	ssize_t rc = gnutls_record_send(s->session, buf, n);

	if (rc == 0 && n > 0) {
		errno = EAGAIN;
		return -1;
	}
	return rc >= 0 ? rc : io_failed(s, rc);
}

size_t
tls_pending(const struct tls *s)
{
	return gnutls_record_check_pending(s->session);
}

bool
tls_wants_write(const struct tls *s)
{
	return gnutls_record_get_direction(s->session) == 1;
}

const char *
tls_last_error(const struct tls *s)
{
	return s->last_error[0] ? s->last_error : "TLS error";
}

void
tls_expect_close(struct tls *s)
{
	s->expect_close = true;
}

/* --- channel binding --- */

/* RFC 9266 4: tls-exporter is the default on TLS 1.3; on TLS 1.2,
 * tls-unique stays the default (RFC 5802 6), which servers expect. */
enum tls_binding
tls_binding_preferred(const struct tls *s)
{
	if (gnutls_protocol_get_version(s->session) == GNUTLS_TLS1_3)
		return TLS_BINDING_EXPORTER;
	return TLS_BINDING_UNIQUE;
}

/* Is this binding defined and safe on the session? */
static int
binding_usable(const struct tls *s, enum tls_binding which, struct error *err)
{
	gnutls_protocol_t v = gnutls_protocol_get_version(s->session);

	if (which == TLS_BINDING_UNIQUE && v == GNUTLS_TLS1_3)
		return error_set(err, ERROR_PROTOCOL,
		                 "tls-unique is not defined for TLS 1.3 "
		                 "(RFC 8446 C.5)");
	if (which == TLS_BINDING_EXPORTER && v != GNUTLS_TLS1_3 &&
	    gnutls_session_ext_master_secret_status(s->session) == 0)
		return error_set(err, ERROR_PROTOCOL,
		                 "tls-exporter needs TLS 1.3 or the extended "
		                 "master secret (RFC 9266 3)");
	if (which != TLS_BINDING_UNIQUE && which != TLS_BINDING_EXPORTER)
		return error_set(err, ERROR_SOFTWARE,
		                 "unknown channel binding type");
	return 0;
}

int
tls_channel_binding(const struct tls *s, enum tls_binding which, char *out,
                    size_t size, struct error *err)
{
	gnutls_datum_t cb = {NULL, 0}, b64 = {NULL, 0};
	int rc;

	if (binding_usable(s, which, err) < 0)
		return -1;
	rc = gnutls_session_channel_binding(s->session,
	                                    which == TLS_BINDING_UNIQUE
	                                        ? GNUTLS_CB_TLS_UNIQUE
	                                        : GNUTLS_CB_TLS_EXPORTER,
	                                    &cb);
	if (rc == 0)
		rc = gnutls_base64_encode2(&cb, &b64);
	gnutls_free(cb.data);
	if (rc < 0)
		return error_set(err, ERROR_PROTOCOL,
		                 "no TLS channel binding data: %s",
		                 gnutls_strerror(rc));
	if (b64.size == 0 || b64.size >= size) {
		gnutls_free(b64.data);
		return error_set(err, ERROR_SOFTWARE,
		                 "TLS channel binding data of %u bytes",
		                 b64.size);
	}
	memcpy(out, b64.data, b64.size);
	out[b64.size] = '\0';
	gnutls_free(b64.data);
	return 0;
}

/* --- the end --- */

void
tls_close(struct tls *s, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	if (!s)
		return;
	/* SHUT_WR: send our close_notify (RFC 8446 6.1) without waiting for
	 * the server's. */
	for (;;) {
		int rc = gnutls_bye(s->session, GNUTLS_SHUT_WR);

		if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED)
			break;
		if (rc == GNUTLS_E_AGAIN && wait_session(s, deadline) <= 0)
			break;
	}
	tls_free(s);
}

void
tls_free(struct tls *s)
{
	if (!s)
		return;
	if (s->session)
		gnutls_deinit(s->session);
	if (s->cred)
		gnutls_certificate_free_credentials(s->cred);
	castore_free(s->store);
	free(s->name);
	free(s->cache_dir);
	wipe(s, sizeof *s);
	free(s);
}

int
tls_sha256(const void *p, size_t n, unsigned char *out)
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out) == 0 ? 0 : -1;
}
