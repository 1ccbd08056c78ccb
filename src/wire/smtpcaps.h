/*
 * smtpcaps.h - the capabilities a server offers in its EHLO reply
 * (RFC 5321 4.1.1.1): each line after the first is a keyword and its
 * parameters, compared without regard to case; the ones mailpost uses
 * become struct smtp_caps, the rest are ignored.  Pure: no session, no
 * I/O, so tests/unit/smtpcaps_test.c feeds it replies directly.
 */
#ifndef MAILPOST_SMTPCAPS_H
#define MAILPOST_SMTPCAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reply.h"

/* RFC 4422 3.1: a SASL mechanism name is 1 to 20 characters. */
#define SMTP_MECH_MAX 20

/* What the server said it can do in its EHLO reply. */
struct smtp_caps {
	bool esmtp;               /* EHLO was accepted (else HELO was used) */
	bool pipelining;          /* RFC 2920 */
	bool size;                /* RFC 1870 */
	uint64_t size_max;        /* 0: no limit announced */
	bool eightbitmime;        /* RFC 6152 */
	bool smtputf8;            /* RFC 6531 */
	bool dsn;                 /* RFC 3461 */
	bool enhancedstatuscodes; /* RFC 2034 */
	bool chunking;            /* RFC 3030 */
	bool binarymime;          /* RFC 3030 3 (only with BDAT) */
	bool mt_priority;         /* RFC 6710 */
	bool starttls;            /* RFC 3207 */
	char auth[256]; /* RFC 4954 mechanism list, space-separated, or "" */
};

/* The next word of s[*pos..len), words being separated by spaces and tabs
 * (RFC 5321 4.1.1.1 says spaces; some servers send tabs): true with
 * w[0..n) and *pos after it, false at the end of s. */
bool smtpcaps_next_word(const char *s, size_t len, size_t *pos, const char **w,
                        size_t *n);

/* Whether w[0..n) is keyword (given in upper case), in any case. */
bool smtpcaps_word_is(const char *w, size_t n, const char *keyword);

/* RFC 1870's SIZE parameter w[0..n): true and *size set when it is a
 * number that fits (0: no fixed limit), else false and *size 0 (a
 * session then assumes no limit). */
bool smtpcaps_parse_size(const char *w, size_t n, uint64_t *size);

/* caps from the EHLO reply r (a complete, positive reply; its first line
 * is the server's name, not a capability).  What is malformed is left
 * out: a SIZE whose number does not fit is "no limit announced", a
 * mechanism name that is not one (RFC 4422 3.1) is dropped, a list that
 * would overflow auth keeps the names before it.  Mechanisms are
 * upper-cased, each once, the pre-RFC 4954 "AUTH=" form included. */
void smtpcaps_parse(struct smtp_caps *caps, const struct reply *r);

#endif
