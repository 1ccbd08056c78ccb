/*
 * tlsdane.h - DANE: a server's certificate chain judged by the TLSA
 * records of its name (RFC 6698, RFC 7671; for SMTP RFC 7672 3), with
 * libgnutls-dane's matching.  tls.c calls it from its certificate
 * callback when tls_params.dane is set; nothing else does.
 *
 * Only the usages RFC 7672 3.1 allows for SMTP are usable: DANE-TA(2)
 * and DANE-EE(3).  PKIX-TA(0) and PKIX-EE(1), an unknown selector or
 * matching type, and a digest of the wrong length are unusable, as if
 * absent (RFC 7671 4.1, RFC 7672 3.1.3).
 *
 * - DANE-EE(3): the server's own certificate (or its public key) matches;
 *   its names and dates are not checked (RFC 7672 3.1.1).
 * - DANE-TA(2): a certificate the server sent after its own (or its
 *   public key) matches, and the server's certificate verifies up to it
 *   as the only trust anchor, dates and key purpose included, and carries
 *   one of the reference identifiers (RFC 7672 3.2.2: the MX host name,
 *   its name after CNAMEs), a wildcard only as the whole first label.  A
 *   trust anchor the server does not send is not found (RFC 7671 5.2.2
 *   asks servers to send it).
 * One usable record that matches is enough (RFC 7671 5).
 *
 * libgnutls-dane is loaded when a chain is first judged (src/base/
 * dynload.h), never at start-up: a send that uses no DANE never maps it.
 */
#ifndef MAILPOST_TLSDANE_H
#define MAILPOST_TLSDANE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* One TLSA record (RFC 6698 2.1): data[0..len) is the association
 * data, the caller's, read only during the call. */
struct tls_tlsa {
	unsigned char usage, selector, mtype;
	const unsigned char *data;
	size_t len;
};

/* The records a server is authenticated by, and the names a DANE-TA(2)
 * chain must carry (RFC 7672 3.2.2), in the caller's memory. */
struct tls_dane {
	const struct tls_tlsa *tlsa;
	size_t n;
	const char *const *names;
	size_t nnames;
};

/* Records looked at, and certificates of a chain: more are ignored (a
 * real TLSA RRset has one to four records; chains two to four
 * certificates). */
#define TLSDANE_RECORDS_MAX 32
#define TLSDANE_CHAIN_MAX 16
/* A verdict: every record's outcome in words. */
#define TLSDANE_VERDICT_MAX 768

/* One certificate of the server's chain, DER, as sent. */
struct tlsdane_cert {
	const unsigned char *der;
	size_t len;
};

/* True when r is usable for SMTP (see above). */
bool tlsdane_usable(const struct tls_tlsa *r);

/* The number of usable records of d. */
size_t tlsdane_count_usable(const struct tls_dane *d);

/* Load libgnutls-dane (once).  -1: ERROR_UNAVAILABLE, naming the
 * package (or, built without it, the package to build with). */
int tlsdane_load(struct error *err);

/* Judge chain[0..n) (the server's certificate first) by d's usable
 * records, the verdict in words in verdict[0..size): 0 when one matched
 * ("DANE-EE(3) record 3 1 1 matched the server's certificate"), -1 when
 * none did or none is usable (each record's reason).  tlsdane_load must
 * have succeeded. */
int tlsdane_verify(const struct tls_dane *d, const struct tlsdane_cert *chain,
                   size_t n, char *verdict, size_t size);

#endif
