/*
 * address.h - mail addresses: checking envelope addresses before they touch
 * the wire, and pulling addr-specs out of header fields (for -t).
 *
 * Envelope checks (RFC 5321 4.1.2, 4.5.3.1): no CR, LF, NUL or other
 * control bytes (a crafted address could smuggle further SMTP commands),
 * no unquoted spaces or angle brackets, local part at most 64 octets,
 * domain at most 255, whole path at most 256.
 */
#ifndef MAILPOST_ADDRESS_H
#define MAILPOST_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "util.h"

#define ADDRESS_LOCAL_MAX 64
#define ADDRESS_DOMAIN_MAX 255
#define ADDRESS_PATH_MAX 256 /* includes the angle brackets */

/* Check one envelope address ("user@example.org", a bare local name
 * "root", or "" for the null sender when allow_empty).  On failure fill err
 * with `kind` (ERROR_USAGE for the command line, ERROR_DATA for addresses
 * taken from the message) and a message naming the address, censored. */
int address_check(const char *addr, bool allow_empty, enum error_kind kind,
                  struct error *err);

/* Parse an RFC 5322 address-list (the value of To, Cc, Bcc, ...) and add
 * each addr-spec found to out: display names, comments (nested), quoted
 * strings, angle addresses, groups ("team: a@x, b@y;") and empty groups
 * ("undisclosed-recipients:;") are handled; obsolete source routes are
 * dropped.  A quoted local part stays quoted.  Returns -1 with ERROR_DATA
 * when the value cannot be parsed. */
int address_parse_list(const char *value, size_t len, struct strlist *out,
                       struct error *err);

/* When addr has no '@' and domain is non-empty, return a new string
 * "addr@domain"; otherwise a copy of addr.  Caller frees. */
char *address_qualify(const char *addr, const char *domain);

/* The host name for DNS, SNI and the certificate check: an ASCII name (or
 * address literal) as it is, a name with U-labels converted to A-labels
 * (RFC 5890 2.3.2.1; "b\u00fccher.example" becomes
 * "xn--bcher-kva.example") with IDNA2008 after NFC.  *out is a new string
 * (caller frees).  A name that is not valid IDNA is ERROR_CONFIG naming
 * it. */
int address_host_to_ascii(const char *host, char **out, struct error *err);

#endif
