/*
 * reply.h - SMTP replies: parsing the lines a server sends into one record,
 * and judging them.
 *
 * A reply is one or more lines "CODE-text" ending with a line "CODE text"
 * (RFC 5321 section 4.2).  The parser is pushed one line at a time (without
 * its CRLF) and says when the reply is complete.  It is strict: a line that
 * is not three digits followed by '-', ' ' or the end, a code that changes
 * between lines, a first digit outside 2..5, too many lines or too long a
 * line are protocol errors, and a malformed reply is never read as success.
 *
 * The text is censored (control and non-ASCII bytes become '?') as it is
 * stored, so a reply can be printed as it is.
 */
#ifndef MAILPOST_REPLY_H
#define MAILPOST_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

/* RFC 5321 4.5.3.1.5 allows 512 octets a reply line; real servers send
 * longer ones (long EHLO keywords, verbose rejections), so we accept up to
 * this many and treat anything longer as a protocol error. */
#define REPLY_LINE_MAX 2048
/* A multi-line reply longer than this is hostile or broken. */
#define REPLY_LINES_MAX 100

struct reply {
	int code;         /* 200..599; 0 when no reply was read */
	char enhanced[16]; /* "5.1.1" when the first line carries an enhanced
			    * status code (RFC 3463) whose class agrees with
			    * the code, else "" */
	size_t nlines;
	/* The text of every line, code and separator removed, censored, lines
	 * joined by '\n'.  The enhanced code stays in the text. */
	struct buf text;
};

void reply_init(struct reply *r);
void reply_clear(struct reply *r);

/* dst (initialised) becomes a copy of src, which stays as it is. */
void reply_copy(struct reply *dst, const struct reply *src);

/* Push one received line (CRLF already removed).  Returns 1 when this line
 * completed the reply, 0 when more lines are expected, -1 (ERROR_PROTOCOL
 * filled in) when the line is malformed.  Push into a fresh or cleared
 * reply. */
int reply_push_line(struct reply *r, const char *line, size_t len,
		    struct error *err);

/* Line number i (0-based) of the text, without the '\n': points into the
 * reply and stays valid until the reply changes.  *len receives its length. */
const char *reply_line(const struct reply *r, size_t i, size_t *len);

/* The first line's text, as a C string of at most n-1 bytes, for messages. */
void reply_summary(const struct reply *r, char *out, size_t n);

/* The whole reply as the server sent it, lines joined by '\n'
 * ("250-first\n250 last"), censored, cut to n-1 bytes: for the log file. */
void reply_format(const struct reply *r, char *out, size_t n);

/* Record r in err as the reply behind its failure: code, enhanced code and
 * reply_format's text (err's kind and message stay). */
void reply_keep(const struct reply *r, struct error *err);

static inline bool reply_is_positive(const struct reply *r)
{
	return r->code >= 200 && r->code < 400;
}
static inline bool reply_is_temporary(const struct reply *r)
{
	return r->code >= 400 && r->code < 500;
}
static inline bool reply_is_permanent(const struct reply *r)
{
	return r->code >= 500 && r->code < 600;
}

/* Which command a reply answers; it refines what a permanent failure means. */
enum reply_stage {
	REPLY_STAGE_CONNECT,
	REPLY_STAGE_HELO,
	REPLY_STAGE_AUTH,
	REPLY_STAGE_MAIL,
	REPLY_STAGE_RCPT,
	REPLY_STAGE_DATA,
	REPLY_STAGE_BODY, /* the reply to the final dot (or last BDAT) */
};

/* May the command of this stage get this reply?  Negative replies always
 * may; a positive one only with the codes of RFC 5321 4.3.2 (RFC 4954 4
 * for AUTH): the greeting 220; EHLO, HELO, LHLO, MAIL, RSET and the final
 * dot (and LMTP's replies after it) 250; RCPT 250, 251 or 252; DATA 354;
 * AUTH 235 or 334.  The class alone is not enough: a RCPT answered 221 is
 * no accepted recipient, and a server that says it is not in step with
 * us (ERROR_PROTOCOL for the caller). */
bool reply_expected(const struct reply *r, enum reply_stage stage);

/* The failure class of a negative reply: 4xx is ERROR_TEMPFAIL; 5xx is
 * refined by the enhanced status code (5.1.x to RCPT or an LMTP per-recipient
 * reply ERROR_NOUSER, to MAIL ERROR_UNAVAILABLE; 5.7.x
 * ERROR_NOPERM, others ERROR_UNAVAILABLE), or without one by the code and
 * stage (530/534/535/538 ERROR_NOPERM; 550/551/553 to RCPT ERROR_NOUSER).
 * ERROR_NONE for a positive reply; ERROR_SOFTWARE for code 0 (nothing was
 * read: a caller's bug). */
enum error_kind reply_error_kind(const struct reply *r, enum reply_stage stage);

/* Fill err from a negative reply: kind from reply_error_kind, message
 * "WHAT: server said CODE TEXT" with the first line of the reply, and the
 * reply code recorded.  Given a positive reply (one the protocol did not
 * allow at that point) the kind is ERROR_PROTOCOL and the message
 * "WHAT: unexpected reply: server said CODE TEXT".  Returns -1. */
int reply_to_error(const struct reply *r, enum reply_stage stage,
		   const char *what, struct error *err);

#endif
