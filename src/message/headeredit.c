/*
 * headeredit.c - the edits mailpost makes to a message's header before it
 * goes (headeredit.h): completing it (From, Date, Message-ID), removing
 * Bcc, the account's rewriting for system mail, and reading the priority
 * it asks for.  Every edit goes through header.c's block and walker.
 */
#include "config.h"

#include "headeredit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "crlf.h"
#include "encode.h"
#include "rewrite.h"
#include "util.h"

/* --- completing the header -------------------------------------------- */

/* RFC 2047 2: an encoded-word is at most 75 characters, and (5) holds
 * whole characters, so a long name becomes several words, cut only before
 * the first byte of a UTF-8 sequence.  45 bytes give 60 base64 ones. */
#define EW_CHUNK 45

static int
encode_words(struct buf *b, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t left = strlen(name);

	while (left > 0) {
		size_t n = left < EW_CHUNK ? left : EW_CHUNK;
		char b64[B64_LINE_SIZE(EW_CHUNK)];

		while (n < left && n > 1 && (p[n] & 0xc0) == 0x80)
			n--;
		if (buf_append_str(b, p == (const unsigned char *)name
		                          ? "=?UTF-8?B?"
		                          : " =?UTF-8?B?") < 0 ||
		    buf_append(b, b64, b64_line(p, n, b64)) < 0 ||
		    buf_append_str(b, "?=") < 0)
			return -1;
		p += n;
		left -= n;
	}
	return 0;
}

/* RFC 5322 3.2.3: a phrase of atoms cannot hold the specials; a
 * quoted-string can, with '"' and '\' escaped. */
static int
quote_name(struct buf *b, const char *name)
{
	if (!strpbrk(name, "()<>[]:;@\\,.\""))
		return buf_append_str(b, name);
	if (buf_append_char(b, '"') < 0)
		return -1;
	for (; *name; name++) {
		if ((*name == '"' || *name == '\\') &&
		    buf_append_char(b, '\\') < 0)
			return -1;
		if (buf_append_char(b, *name) < 0)
			return -1;
	}
	return buf_append_char(b, '"');
}

/* "Full Name" <addr>, or just addr without a name. */
static int
format_from(struct buf *b, const struct header_policy *p)
{
	const char *name = p->full_name;
	int rc;

	if (!name || !*name)
		return buf_append_str(b, p->from_address);
	rc = !str_is_ascii(name) ? encode_words(b, name) : quote_name(b, name);
	if (rc < 0)
		return -1;
	return buf_printf(b, " <%s>", p->from_address);
}

static int
set_from(struct header_block *h, const struct header_policy *p,
         struct error *err)
{
	bool present = header_first(h, "From") != NULL;
	struct buf v;
	int rc;

	if (p->set_from == FROM_HEADER_OFF || !p->from_address ||
	    !*p->from_address)
		return 0;
	if (p->set_from == FROM_HEADER_AUTO && present)
		return 0;
	/* The value is not folded, so it must fit one line (RFC 5322
	 * 2.1.1) with "From: " in front. */
	buf_init(&v, CRLF_LINE_MAX - 6);
	if (format_from(&v, p) < 0) {
		buf_clear(&v);
		return error_set(err, ERROR_DATA,
		                 "the full name is too long for a From field");
	}
	header_remove(h, "From");
	rc = header_add(h, "From", buf_str(&v), err);
	buf_clear(&v);
	return rc;
}

/* RFC 5322 3.3, with English names whatever the locale and the local
 * offset from UTC: "Sat, 28 Nov 2026 17:03:00 +0100". */
static int
add_date(struct header_block *h, struct error *err)
{
	char date[64];

	if (!str_rfc5322_date(date, sizeof date, time(NULL), false))
		return error_set(err, ERROR_OSERR, "cannot get the local time");
	return header_add(h, "Date", date, err);
}

/* The right side of a Message-ID: the configured domain, else the
 * sender's, else "localhost". */
static const char *
msgid_domain(const struct header_policy *p)
{
	const char *at;

	if (p->msgid_domain && *p->msgid_domain)
		return p->msgid_domain;
	at = p->from_address ? strrchr(p->from_address, '@') : NULL;
	return at && at[1] ? at + 1 : "localhost";
}

/* RFC 5322 3.6.4: unique on its own thanks to 128 random bits; the time
 * only helps a human reading it. */
static int
add_msgid(struct header_block *h, const struct header_policy *p,
          struct error *err)
{
	const char *domain = msgid_domain(p);
	unsigned char rnd[16];
	struct buf v;
	int rc;

	if (str_has_ctl(domain, strlen(domain)) || strpbrk(domain, " <>@"))
		return error_set(err, ERROR_DATA,
		                 "invalid domain for the Message-ID: \"%s\"",
		                 domain);
	if (random_bytes(rnd, sizeof rnd) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot get random bytes");
	buf_init(&v, CRLF_LINE_MAX - 12);
	buf_append_char(&v, '<');
	for (size_t i = 0; i < sizeof rnd; i++)
		buf_printf(&v, "%02x", rnd[i]);
	if (buf_printf(&v, ".%lld@%s>", (long long)time(NULL), domain) < 0)
		rc = error_set(err, ERROR_DATA,
		               "the domain for the Message-ID is too long");
	else
		rc = header_add(h, "Message-ID", buf_str(&v), err);
	buf_clear(&v);
	return rc;
}

static int
check_policy(const struct header_policy *p, struct error *err)
{
	const char *name = p->full_name;

	if (name && str_has_ctl(name, strlen(name)))
		return error_set(err, ERROR_DATA,
		                 "the full name \"%s\" contains a control "
		                 "character",
		                 name);
	if (p->from_address &&
	    address_check(p->from_address, true, ERROR_DATA, err) < 0)
		return -1;
	return 0;
}

int
headeredit_complete(struct header_block *h, const struct header_policy *p,
                    struct error *err)
{
	if (check_policy(p, err) < 0)
		return -1;
	if (p->undisclosed) {
		/* RFC 5322 A.1.3: an empty group keeps To present without
		 * naming anyone. */
		header_remove(h, "To");
		header_remove(h, "Cc");
		header_remove(h, "Bcc");
		if (header_add(h, "To", "undisclosed-recipients:;", err) < 0)
			return -1;
	}
	/* RFC 5322 3.6.6: Resent-Bcc names a resent message's blind
	 * recipients (-t sends to them) as Bcc does an original's. */
	if (p->remove_bcc) {
		header_remove(h, "Bcc");
		header_remove(h, "Resent-Bcc");
	}
	if (set_from(h, p, err) < 0)
		return -1;
	if (p->set_date && !header_first(h, "Date") && add_date(h, err) < 0)
		return -1;
	if (p->set_msgid && !header_first(h, "Message-ID") &&
	    add_msgid(h, p, err) < 0)
		return -1;
	return 0;
}

/* --- what the account and the sender ask for --------------------------- */

int
headeredit_sender_forms(const char *sender, char **header, char **msgid_domain,
                        struct error *err)
{
	const char *at = strrchr(sender, '@');

	free(*header);
	free(*msgid_domain);
	*header = *msgid_domain = NULL;
	if (!*sender) {
		*header = xstrdup("");
		return 0;
	}
	if (address_header_form(sender, header, err) < 0)
		return -1;
	if (at && at[1])
		return address_host_to_ascii(at + 1, msgid_domain, err);
	return 0;
}

struct header_policy
headeredit_policy(const struct account *a, const char *sender_header,
                  const char *msgid_domain, const char *full_name,
                  bool read_recipients)
{
	return (struct header_policy){
	    .from_address = sender_header,
	    .full_name = full_name,
	    .set_from = a->set_from_header == CONF_FROM_ON ? FROM_HEADER_ON
	                : a->set_from_header == CONF_FROM_OFF
	                    ? FROM_HEADER_OFF
	                    : FROM_HEADER_AUTO,
	    .set_date = a->set_date_header,
	    .set_msgid = a->set_msgid_header,
	    .remove_bcc = a->remove_bcc_headers || read_recipients,
	    .undisclosed = a->undisclosed_recipients,
	    /* the sender's domain, else the EHLO name */
	    .msgid_domain = msgid_domain ? msgid_domain : a->domain,
	};
}

int
headeredit_rewrite(struct header_block *h, const struct account *a,
                   const char *sender, const char *sender_header,
                   const struct aliases *aliases, struct error *err)
{
	const struct header_rewrite r = {
	    .rewrite_from = a->rewrite_local_from && *sender,
	    .from_address = sender_header,
	    .qualify = a->qualify_headers,
	    .maildomain = a->maildomain,
	    .aliases = aliases,
	};

	if (!r.rewrite_from && !r.qualify)
		return 0;
	return headers_rewrite(h, &r, err);
}

/* --- priority ------------------------------------------------------------- */

int
headeredit_priority(const struct header_block *h)
{
	const struct header_field *f;
	struct buf v;
	int prio = 0;

	buf_init(&v, 256);
	if ((f = header_first(h, "Priority")) != NULL &&
	    header_value(f, &v) == 0) {
		if (str_ieq(buf_str(&v), "urgent"))
			prio = 4;
		else if (str_ieq(buf_str(&v), "non-urgent"))
			prio = -4;
	} else if ((f = header_first(h, "X-Priority")) != NULL &&
	           header_value(f, &v) == 0) {
		char c = buf_str(&v)[0];

		prio = c == '1' || c == '2' ? 4 : c == '4' || c == '5' ? -4 : 0;
	}
	buf_clear(&v);
	return prio;
}
