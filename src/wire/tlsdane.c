/*
 * tlsdane.c - a certificate chain judged by TLSA records (see tlsdane.h).
 *
 * libgnutls-dane does the matching: a certificate, or its public key,
 * against a record's association data by its selector and matching type
 * (dane_verify_crt_raw with one record, as DANE-EE, on one certificate).
 * Its own DANE-TA check looks only at the certificate right after the
 * server's and names nothing, so DANE-TA(2) is done here: the record
 * matched against each certificate the server sent after its own, then
 * the path up to the one that matched verified by GnuTLS with that
 * certificate as the only trust anchor, and the reference identifiers
 * checked.  Every record is judged on its own, so that one the library
 * cannot use (it refuses a DANE-TA check on a chain of one) never hides
 * another that matches.
 */
#include "config.h"

#include "tlsdane.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A full certificate or key as association data (matching type 0):
 * a TLSA record's RDATA is at most 65535 bytes (RFC 1035 3.2.1), three
 * of them the usage, selector and matching type. */
#define TLSDANE_DATA_MAX (65535 - 3)
#define TLSDANE_SHA256_LEN 32
#define TLSDANE_SHA512_LEN 64
/* One record's outcome, "record 2 0 1 (DANE-TA): ...". */
#define TLSDANE_WHY_MAX 384

bool
tlsdane_usable(const struct tls_tlsa *r)
{
	/* RFC 7672 3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for
	 * SMTP, since MX hosts are not expected to hold a certificate
	 * from a public CA. */
	if (r->usage != 2 && r->usage != 3)
		return false;
	if (r->selector > 1) /* Cert(0), SPKI(1) */
		return false;
	switch (r->mtype) {
	case 0: /* Full(0) */
		return r->len > 0 && r->len <= TLSDANE_DATA_MAX;
	case 1: /* SHA2-256(1) */
		return r->len == TLSDANE_SHA256_LEN;
	case 2: /* SHA2-512(2) */
		return r->len == TLSDANE_SHA512_LEN;
	default:
		return false;
	}
}

size_t
tlsdane_count_usable(const struct tls_dane *d)
{
	size_t usable = 0;

	for (size_t i = 0; i < d->n && i < TLSDANE_RECORDS_MAX; i++)
		if (tlsdane_usable(&d->tlsa[i]))
			usable++;
	return usable;
}

#ifdef HAVE_GNUTLS_DANE

#include <gnutls/dane.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "dynload.h"

static void add_reason(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append "; text" (or the first text) to a verdict, cutting what does
 * not fit. */
static void
add_reason(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used > 0 && used + 2 < size) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/* libgnutls-dane's functions, of the types its header gives them. */
static struct dane_api {
	__typeof__(dane_state_init) *dane_state_init;
	__typeof__(dane_state_deinit) *dane_state_deinit;
	__typeof__(dane_raw_tlsa) *dane_raw_tlsa;
	__typeof__(dane_query_deinit) *dane_query_deinit;
	__typeof__(dane_verify_crt_raw) *dane_verify_crt_raw;
} lib;

static const struct dynload_sym dane_syms[] = {
    DYNLOAD_SYM(struct dane_api, dane_state_init),
    DYNLOAD_SYM(struct dane_api, dane_state_deinit),
    DYNLOAD_SYM(struct dane_api, dane_raw_tlsa),
    DYNLOAD_SYM(struct dane_api, dane_query_deinit),
    DYNLOAD_SYM(struct dane_api, dane_verify_crt_raw),
};

static struct dynload dane_lib = {
    .soname = GNUTLS_DANE_SONAME,
    .package = GNUTLS_DANE_PACKAGE,
    .feature = "to verify an MX host by DANE (RFC 7672)",
    .syms = dane_syms,
    .nsyms = sizeof dane_syms / sizeof *dane_syms,
    .table = &lib,
};

int
tlsdane_load(struct error *err)
{
	return dynload_open(&dane_lib, err);
}

static const char *
usage_name(unsigned char usage)
{
	return usage == 2 ? "DANE-TA" : "DANE-EE";
}

/* Whether cert (or its public key) is what r's data says, by r's
 * selector and matching type: libgnutls-dane's comparison, given r as a
 * DANE-EE(3) record and cert as the whole chain.  The query points into
 * rdata, which must outlive it. */
static bool
matches(dane_state_t st, const struct tls_tlsa *r, const gnutls_datum_t *cert)
{
	unsigned char *rdata = xmalloc(r->len + 3);
	char *records[2] = {(char *)rdata, NULL};
	int lens[1] = {(int)(r->len + 3)};
	dane_query_t q = NULL;
	unsigned status = 0;
	int rc;

	rdata[0] = 3;
	rdata[1] = r->selector;
	rdata[2] = r->mtype;
	memcpy(rdata + 3, r->data, r->len);
	/* secure: the caller looked the records up and took only
	 * DNSSEC-validated ones (RFC 7672 2.2). */
	rc = lib.dane_raw_tlsa(st, &q, records, lens, 1, 0);
	if (rc == 0)
		rc = lib.dane_verify_crt_raw(st, cert, 1, GNUTLS_CRT_X509, q, 0,
		                             0, &status);
	if (q)
		lib.dane_query_deinit(q);
	free(rdata);
	return rc == 0 && status == 0;
}

/* Parse chain[0..n) into crts; -1 when one is not X.509 (the ones
 * parsed so far released). */
static int
import_chain(const gnutls_datum_t *chain, size_t n, gnutls_x509_crt_t *crts)
{
	for (size_t i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&crts[i]) < 0)
			crts[i] = NULL;
		if (!crts[i] ||
		    gnutls_x509_crt_import(crts[i], &chain[i],
		                           GNUTLS_X509_FMT_DER) < 0) {
			for (size_t j = 0; j <= i; j++)
				if (crts[j])
					gnutls_x509_crt_deinit(crts[j]);
			return -1;
		}
	}
	return 0;
}

/* The server's certificate names one of d's reference identifiers
 * (RFC 7672 3.2.2; a wildcard as RFC 6125 6.4.3 allows it). */
static bool
names_match(gnutls_x509_crt_t crt, const struct tls_dane *d)
{
	for (size_t i = 0; i < d->nnames; i++)
		if (d->names[i] && *d->names[i] &&
		    gnutls_x509_crt_check_hostname2(crt, d->names[i], 0))
			return true;
	return false;
}

/* "a, b or c": the reference identifiers, for a refusal. */
static void
names_text(const struct tls_dane *d, char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < d->nnames; i++) {
		size_t used = strlen(out);

		snprintf(out + used, n - used, "%s%s",
		         i == 0               ? ""
		         : i + 1 == d->nnames ? " or "
		                              : ", ",
		         d->names[i] ? d->names[i] : "");
	}
	if (!out[0])
		str_copy(out, n, "(no name given)");
}

/* The server's certificate verified up to chain[k] as the only trust
 * anchor (RFC 7671 5.2.2: dates and purpose as PKIX checks them; the
 * anchor's own, as a trust anchor's, not), then its names. */
static int
ta_path(const gnutls_datum_t *chain, size_t k, const struct tls_dane *d,
        char *why, size_t size)
{
	gnutls_x509_crt_t crts[TLSDANE_CHAIN_MAX];
	gnutls_x509_trust_list_t tl;
	gnutls_typed_vdata_st purpose = {
	    .type = GNUTLS_DT_KEY_PURPOSE_OID,
	    .data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER};
	unsigned status = 0;
	char names[TLSDANE_WHY_MAX / 2];
	int rc = -1;

	if (import_chain(chain, k + 1, crts) < 0) {
		snprintf(why, size, "a certificate of the chain is not X.509");
		return -1;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0 ||
	    gnutls_x509_trust_list_add_cas(tl, &crts[k], 1, 0) != 1) {
		snprintf(why, size, "cannot make a trust list");
		for (size_t i = 0; i <= k; i++)
			gnutls_x509_crt_deinit(crts[i]);
		return -1;
	}
	/* the list owns the anchor, crts[k], from now on */
	if (gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)k, &purpose,
	                                       1, 0, &status, NULL) < 0 ||
	    status != 0) {
		gnutls_datum_t text = {NULL, 0};

		if (gnutls_certificate_verification_status_print(
		        status, GNUTLS_CRT_X509, &text, 0) == 0)
			snprintf(why, size,
			         "the chain up to the certificate it matched "
			         "does not verify: %.*s",
			         (int)text.size, (const char *)text.data);
		else
			snprintf(why, size,
			         "the chain up to the certificate it matched "
			         "does not verify");
		gnutls_free(text.data);
	} else if (!names_match(crts[0], d)) {
		names_text(d, names, sizeof names);
		snprintf(why, size,
		         "the certificate it vouches for is not for %s", names);
	} else
		rc = 0;
	for (size_t i = 0; i < k; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_x509_trust_list_deinit(tl, 1);
	return rc;
}

/* One usable record against the chain: 0 when it authenticates the
 * server; why[] says what it found either way. */
static int
judge(dane_state_t st, const struct tls_tlsa *r, const gnutls_datum_t *chain,
      size_t n, const struct tls_dane *d, char *why, size_t size)
{
	char path[TLSDANE_WHY_MAX / 2];
	int at = snprintf(why, size, "record %u %u %u (%s) ", r->usage,
	                  r->selector, r->mtype, usage_name(r->usage));
	char *rest = why + (at > 0 && (size_t)at < size ? at : 0);
	size_t left = size - (size_t)(rest - why);
	bool found = false;

	if (r->usage == 3) {
		if (matches(st, r, &chain[0])) {
			snprintf(rest, left,
			         "matched the server's certificate");
			return 0;
		}
		snprintf(rest, left, "does not match the server's certificate");
		return -1;
	}
	for (size_t k = 1; k < n; k++) {
		if (!matches(st, r, &chain[k]))
			continue;
		found = true;
		if (ta_path(chain, k, d, path, sizeof path) == 0) {
			snprintf(rest, left,
			         "matched certificate %zu of the chain; the "
			         "server's verified up to it, its name checked",
			         k + 1);
			return 0;
		}
	}
	if (found)
		snprintf(rest, left, "matched, but %s", path);
	else
		snprintf(rest, left,
		         "matches no CA certificate the server sent%s",
		         n == 1 ? " (it sent only its own)" : "");
	return -1;
}

int
tlsdane_verify(const struct tls_dane *d, const struct tlsdane_cert *chain,
               size_t n, char *verdict, size_t size)
{
	gnutls_datum_t list[TLSDANE_CHAIN_MAX];
	char why[TLSDANE_WHY_MAX];
	size_t usable = 0, unusable = 0;
	dane_state_t st;

	verdict[0] = '\0';
	if (n > TLSDANE_CHAIN_MAX)
		n = TLSDANE_CHAIN_MAX;
	if (n == 0) {
		str_copy(verdict, size, "the server sent no certificate");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		list[i].data = (unsigned char *)chain[i].der;
		list[i].size = (unsigned)chain[i].len;
	}
	/* No resolver: the records come from the caller, validated. */
	if (lib.dane_state_init(&st, DANE_F_IGNORE_LOCAL_RESOLVER |
	                                 DANE_F_IGNORE_DNSSEC) < 0) {
		str_copy(verdict, size, "libgnutls-dane cannot start");
		return -1;
	}
	for (size_t i = 0; i < d->n && i < TLSDANE_RECORDS_MAX; i++) {
		const struct tls_tlsa *r = &d->tlsa[i];

		if (!tlsdane_usable(r)) {
			unusable++;
			continue;
		}
		usable++;
		if (judge(st, r, list, n, d, why, sizeof why) == 0) {
			snprintf(verdict, size, "trusted by DANE: %s", why);
			lib.dane_state_deinit(st);
			return 0;
		}
		add_reason(verdict, size, "%s", why);
	}
	lib.dane_state_deinit(st);
	if (usable == 0)
		snprintf(verdict, size,
		         "none of the %zu TLSA records is usable", unusable);
	else if (unusable > 0)
		add_reason(verdict, size, "%zu unusable record%s ignored",
		           unusable, unusable == 1 ? "" : "s");
	return -1;
}

#else /* built without libgnutls-dane */

int
tlsdane_load(struct error *err)
{
	return error_set(
	    err, ERROR_UNAVAILABLE,
	    "built without libgnutls-dane, needed to verify an MX "
	    "host by DANE; rebuild with libgnutls28-dev installed");
}

int
tlsdane_verify(const struct tls_dane *d, const struct tlsdane_cert *chain,
               size_t n, char *verdict, size_t size)
{
	(void)d;
	(void)chain;
	(void)n;
	str_copy(verdict, size, "built without libgnutls-dane");
	return -1;
}

#endif
