/*
 * address.h - mail addresses: checking envelope addresses before they touch
 * the wire, and pulling addr-specs out of header fields (for -t).
 *
 * Envelope checks (RFC 5321 4.1.2, 4.5.3.1): no CR, LF, NUL or other
 * control bytes (a crafted address could smuggle further SMTP commands),
 * no unquoted spaces or angle brackets, local part at most 64 octets,
 * domain at most 255, whole path at most 256.
 *
 * International addresses (RFC 6531 3.3, RFC 6532 3.2): UTF-8 is allowed
 * in the local part and the domain.  A domain is IDNA2008 (RFC 5890,
 * RFC 5891) and can always be written in A-labels, so only a non-ASCII
 * local part needs the server's SMTPUTF8.
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
 * taken from the message) and a message naming the address, censored.
 * 8-bit bytes must be well-formed UTF-8 (else `kind`).  A domain that is
 * not a valid IDN (address_to_ascii fails) is ERROR_DATA whatever `kind`
 * is: "invalid international domain name "x": <libidn2's reason>". */
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

/* One mailbox of an address list, found by address_walk_list.  Positions
 * are byte offsets into the value given; an empty span (start == end) means
 * "none". */
struct address_mailbox {
	const char *addr;  /* the addr-spec as address_parse_list adds it */
	size_t start, end; /* the whole mailbox: display name, angle address,
	                    * comments before and after it; no outer white
	                    * space, no separating ',' or ';' */
	size_t spec_start, spec_end;       /* the addr-spec as written
	                                    * (inside the angle brackets) */
	size_t name_start, name_end;       /* the display name as written */
	size_t comment_start, comment_end; /* the first comment in the
	                                    * mailbox, parentheses included */
	bool angle;    /* written as [name] "<" addr-spec ">" */
	bool in_group; /* a member of a group ("team: a, b;") */
};

/* Parse an address-list as address_parse_list does (same grammar, same
 * checks, same errors) and call fn for each mailbox, in order, with its
 * positions in value; "<>" and empty groups name no mailbox.  mb and its
 * addr are valid only during the call.  fn returns 0, or -1 with err set
 * to stop the walk (its -1 is returned as it is). */
int address_walk_list(const char *value, size_t len,
                      int (*fn)(void *ctx, const struct address_mailbox *mb,
                                struct error *err),
                      void *ctx, struct error *err);

/* One mailbox of a list a person wrote (a command-line recipient, -c,
 * -b, -f): the addr-spec, and its display name as text (quoted strings
 * unquoted, words joined by one space; UTF-8 as given), or NULL. */
struct address_entry {
	char *addr;
	char *name;
};

struct address_entries {
	struct address_entry *v;
	size_t n, cap;
};

void address_entries_init(struct address_entries *l);
void address_entries_clear(struct address_entries *l);

/* Parse value as an RFC 5322 3.4 address-list, the grammar of
 * address_parse_list ("Anna <anna@example.org>", "a@x, b@y", groups,
 * comments, quoted display names with commas), and append each mailbox
 * with its display name to out: the phrase before the angle address, or,
 * when there is none, the text of the mailbox's first comment
 * ("anna@example.org (Anna)"), as mail readers show it.  A group's
 * members are appended one by one (its name is not kept).  Errors have
 * `kind` (ERROR_USAGE for the command line), except an invalid IDN
 * (ERROR_DATA, as address_check); a value that names no mailbox (",",
 * "team:;") is an error too.  The message shows the value as given, its
 * control bytes escaped. */
int address_parse_input(const char *value, enum error_kind kind,
                        struct address_entries *out, struct error *err);

/* True when value is one group with no members ("undisclosed-recipients:;",
 * RFC 5322 3.4), the way mailx users send to Bcc recipients only, in
 * printable ASCII; *phrase is then a new string, the group's name as
 * given (trimmed), for a header field that writes "phrase:;". */
bool address_empty_group(const char *value, char **phrase);

/* The address as a composed header field writes it: a header carries
 * 8-bit text only with SMTPUTF8 (RFC 6532 3.2, RFC 6531 3.3), so a domain
 * with U-labels is written in A-labels -- unless the local part is not
 * ASCII: then the message needs SMTPUTF8 anyway (the envelope holds the
 * same address) and the address stays as it is.  *out is a new string;
 * errors as address_to_ascii. */
int address_header_form(const char *addr, char **out, struct error *err);

/* A set of addresses, to drop repeated recipients in constant time per
 * address (a linear scan made 20,000 recipients quadratic).  Two
 * addresses are the same when their local parts are the same bytes (RFC
 * 5321 2.4: only the receiving host may interpret it) and their domains
 * differ at most in ASCII case. */
struct address_set {
	char **slot; /* cap slots, NULL when free; keys owned */
	size_t cap, n;
	size_t probes; /* slots looked at so far (for tests: stays O(n)) */
};

void address_set_init(struct address_set *s);
/* Add addr; true when it was not in the set yet. */
bool address_set_add(struct address_set *s, const char *addr);
void address_set_clear(struct address_set *s);

/* The address as it goes on the wire without SMTPUTF8: a domain with
 * U-labels in A-labels (RFC 5890 2.3.2.1, IDNA2008 after NFC,
 * nontransitional: "user@b\u00fccher.example" becomes
 * "user@xn--bcher-kva.example"), the local part unchanged; an ASCII domain
 * as written (its "xn--" labels must be valid), an address literal or a
 * bare local name as they are.  *out is a new string (caller frees).  An
 * invalid IDN, or a result over 256 octets with the brackets, is
 * ERROR_DATA naming it.  addr should have passed address_check. */
int address_to_ascii(const char *addr, char **out, struct error *err);

/* Whether addr cannot be written in ASCII: its local part has 8-bit bytes
 * (RFC 6531 3.3).  Only then is SMTPUTF8 needed; a U-label domain alone
 * never needs it.  "" is false. */
bool address_needs_smtputf8(const char *addr);

/* When addr has no '@' and domain is non-empty, return a new string
 * "addr@domain"; otherwise a copy of addr.  Caller frees. */
char *address_qualify(const char *addr, const char *domain);

/* The domain of addr: what follows the '@' that is not inside a quoted
 * local part, or NULL when it has none.  A pointer into addr; nothing is
 * checked. */
const char *address_domain(const char *addr);

/* addr with its domain, if it has one, replaced by domain ("root@vm" and
 * "root" become "root@example.org"): a new string.  A copy of addr when
 * domain is NULL or "", or addr is "". */
char *address_with_domain(const char *addr, const char *domain);

/* A sender address as the mail domain makes it: a local name, bare
 * ("root") or at a name of this machine ("root@myhost",
 * identity_is_local_domain), becomes "root@maildomain"; any other address,
 * "" and every address when maildomain is NULL or "" stay as they are.
 * A new string.  host: as for identity_is_local_domain (NULL: this
 * machine's names). */
char *address_qualify_sender(const char *addr, const char *maildomain,
                             const char *host);

/* The host name for DNS, SNI and the certificate check: an ASCII name (or
 * address literal) as it is, a name with U-labels converted to A-labels
 * (RFC 5890 2.3.2.1; "b\u00fccher.example" becomes
 * "xn--bcher-kva.example") with IDNA2008 after NFC.  *out is a new string
 * (caller frees).  A name that is not valid IDNA is ERROR_CONFIG naming
 * it. */
int address_host_to_ascii(const char *host, char **out, struct error *err);

#endif
