/*
 * headeredit.h - the edits mailpost makes to a message's header before it
 * is sent, read whole (sendmail mode, -bs) or composed (mime.h):
 *  - completing it as the account says (RFC 5322 3.6): From added or
 *    replaced, Date and Message-ID added when missing, Bcc and
 *    Resent-Bcc removed (with -t, or remove_bcc_headers), To/Cc/Bcc
 *    replaced by an empty group (undisclosed_recipients);
 *  - for system mail, the local From and bare names rewritten
 *    (rewrite_local_from, qualify_headers: rewrite.h does the rewriting);
 *  - the RFC 6710 priority the header asks for.
 * The sender goes into the fields in header form (headeredit_sender_forms:
 * A-labels).  Every edit is made through header.c's walker and block
 * functions; nothing here touches a field's bytes.
 */
#ifndef MAILPOST_HEADEREDIT_H
#define MAILPOST_HEADEREDIT_H

#include <stdbool.h>

#include "aliases.h"
#include "conf.h"
#include "error.h"
#include "header.h"

enum from_header_mode {
	FROM_HEADER_AUTO, /* add From when missing */
	FROM_HEADER_ON,   /* replace any From with ours */
	FROM_HEADER_OFF,  /* never touch From */
};

struct header_policy {
	const char *from_address; /* address for an added From (may be "") */
	const char *full_name;    /* display name for it, or NULL */
	enum from_header_mode set_from;
	bool set_date;            /* add Date when missing */
	bool set_msgid;           /* add Message-ID when missing */
	bool remove_bcc;          /* drop Bcc and Resent-Bcc fields */
	bool undisclosed;         /* replace To/Cc/Bcc by an empty group */
	const char *msgid_domain; /* right side of an added Message-ID */
};

/* Apply the policy to any header block (a read message's, or a composed
 * one's).  ERROR_DATA when a value given (full name, address) holds CR,
 * LF or other control characters, or the block would pass
 * HEADER_BLOCK_MAX. */
int headeredit_complete(struct header_block *h, const struct header_policy *p,
                        struct error *err);

/* The sender as the header fields mailpost writes show it (a From added
 * or rewritten, the right side of an added Message-ID): never a raw 8-bit
 * domain (RFC 6532 needs SMTPUTF8 for that), so the domain goes in
 * A-labels; only a UTF-8 local part stays UTF-8 (address_header_form).
 * *header becomes that form ("" for the null sender), *msgid_domain the
 * domain in A-labels or NULL; both are freed first (NULL or earlier
 * results).  address.h's errors. */
int headeredit_sender_forms(const char *sender, char **header,
                            char **msgid_domain, struct error *err);

/* The policy account a asks for, with the sender's header form and
 * domain (headeredit_sender_forms; NULL: the account's EHLO domain) and
 * the display name for a From; read_recipients (-t) removes Bcc and
 * Resent-Bcc. */
struct header_policy headeredit_policy(const struct account *a,
                                       const char *sender_header,
                                       const char *msgid_domain,
                                       const char *full_name,
                                       bool read_recipients);

/* Header hygiene for system mail, when account a asks for it
 * (rewrite_local_from with a non-null envelope sender, qualify_headers):
 * headers_rewrite with the sender's header form and the account's
 * aliases (NULL: none).  rewrite.h's errors. */
int headeredit_rewrite(struct header_block *h, const struct account *a,
                       const char *sender, const char *sender_header,
                       const struct aliases *aliases, struct error *err);

/* RFC 6710 priority of a passed-through message (4, 0 or -4), from its
 * Priority (RFC 2156: urgent, normal, non-urgent) or X-Priority
 * (1 highest .. 5) field. */
int headeredit_priority(const struct header_block *h);

#endif
