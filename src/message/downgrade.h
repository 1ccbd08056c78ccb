/*
 * downgrade.h - a passed-through message whose header carries UTF-8
 * (RFC 6532: PHP's mail() with a raw UTF-8 Subject is the common case).
 *
 * Such a message may only go to a server that offers SMTPUTF8, with the
 * SMTPUTF8 parameter on MAIL (RFC 6531 3.4); it is then sent unchanged.
 * When the server does not offer it, the header is rewritten in ASCII
 * where that loses nothing for the reader:
 *  - unstructured fields (Subject, Comments, Content-Description,
 *    Organization, Thread-Topic, X-*): RFC 2047 encoded words;
 *  - address fields (From, To, Cc, Reply-To, Sender, Bcc, their Resent-
 *    forms, Mail-Followup-To, Mail-Reply-To, Disposition-Notification-To):
 *    display names as RFC 2047 words (5.3), domains as A-labels (RFC 5890);
 *  - anything else with 8-bit bytes (a UTF-8 local part, a Message-ID, a
 *    comment, a Content-Type parameter, bytes that are not UTF-8) cannot be
 *    written in ASCII without changing it: ERROR_UNAVAILABLE naming the
 *    field, before MAIL.
 * The body is never touched.
 */
#ifndef MAILPOST_DOWNGRADE_H
#define MAILPOST_DOWNGRADE_H

#include <stdbool.h>

#include "error.h"
#include "header.h"
#include "stream.h"

/* Rewrite the 8-bit fields of h in ASCII as above (the others stay byte
 * for byte).  0, or -1 with ERROR_UNAVAILABLE naming the first field that
 * cannot be, and h unchanged. */
int downgrade_header(struct header_block *h, struct error *err);

struct downgrade;

/* For a message m about to go to a server (smtputf8: the server offers
 * SMTPUTF8).  Reads m's header block (m is rewound before and after).
 *  - header all ASCII: *need_smtputf8 false, *out NULL;
 *  - UTF-8 in the header, SMTPUTF8 offered: *need_smtputf8 true, *out
 *    NULL: send m as it is with SMTPUTF8;
 *  - otherwise the header is downgraded: *out is set, and
 *    downgrade_stream gives the message to send instead of m (exact size
 *    known; it reads m for the body).
 * Errors: ERROR_UNAVAILABLE (see downgrade_header), ERROR_DATA for a
 * header block over HEADER_BLOCK_MAX, m's read errors. */
int downgrade_prepare(struct downgrade **out, struct message_stream *m,
                      bool smtputf8, bool *need_smtputf8, struct error *err);

/* The downgraded message; valid while d is. */
struct message_stream downgrade_stream(struct downgrade *d);

void downgrade_free(struct downgrade *d);

#endif
