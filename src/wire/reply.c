/*
 * reply.c - SMTP replies (see reply.h): a strict, line-pushed parser that
 * builds one censored record per reply, and the judgement of what a
 * negative reply means (RFC 5321 4.2, RFC 3463).
 *
 * Nothing a server sends is trusted: every line is checked before it is
 * stored, and a reply that does not parse is an error, never a success.
 */
#include "config.h"

#include "reply.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* The text of every line plus its '\n' fits in this. */
#define REPLY_TEXT_MAX (REPLY_LINES_MAX * (REPLY_LINE_MAX + 1))

/* How much of an offending line a message quotes. */
#define REPLY_QUOTE_MAX 64

void
reply_init(struct reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	r->nlines = 0;
	buf_init(&r->text, REPLY_TEXT_MAX);
}

void
reply_clear(struct reply *r)
{
	buf_clear(&r->text);
	reply_init(r);
}

void
reply_copy(struct reply *dst, const struct reply *src)
{
	reply_clear(dst);
	dst->code = src->code;
	memcpy(dst->enhanced, src->enhanced, sizeof dst->enhanced);
	dst->nlines = src->nlines;
	/* Within the same ceiling, so it fits. */
	if (src->text.len > 0)
		buf_append(&dst->text, src->text.data, src->text.len);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ERROR_PROTOCOL quoting the start of the line, censored by error_set. */
static int
malformed(struct error *err, const char *why, const char *line, size_t len)
{
	int shown = len > REPLY_QUOTE_MAX ? REPLY_QUOTE_MAX : (int)len;

	return error_set(err, ERROR_PROTOCOL,
	                 "malformed reply from server: %s: \"%.*s%s\"", why,
	                 shown, line, len > REPLY_QUOTE_MAX ? "..." : "");
}

/* RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39.  We check the first
 * digit (it carries the meaning) and accept any digits after it, as real
 * servers occasionally use codes outside the RFC's list. */
static int
parse_code(const char *line, size_t len, int *code, struct error *err)
{
	if (len < 3 || !is_digit(line[0]) || !is_digit(line[1]) ||
	    !is_digit(line[2]))
		return malformed(err, "no 3-digit code", line, len);
	if (line[0] < '2' || line[0] > '5')
		return malformed(err, "first digit not 2 to 5", line, len);
	if (len > 3 && line[3] != '-' && line[3] != ' ')
		return malformed(err, "no '-' or ' ' after the code", line,
		                 len);
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	return 0;
}

/* Digits at s[0..len): 1 to 3 of them (RFC 3463 section 2). */
static size_t
count_digits(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && n < 4 && is_digit(s[n]))
		n++;
	return n;
}

/* RFC 3463: status-code = class "." subject "." detail, class 2, 4 or 5,
 * subject and detail 1 to 3 digits, followed by a space or the end.  It
 * only counts when its class agrees with the reply code (Postfix's
 * sanitizing rule): "250 5.1.1" is a server bug, and reading it as a
 * permanent failure would be worse. */
static void
parse_enhanced(struct reply *r, const char *s, size_t len)
{
	size_t i = 0, n;

	if (len < 5 || s[0] != (char)('0' + r->code / 100) || s[1] != '.')
		return;
	i = 2;
	n = count_digits(s + i, len - i);
	if (n < 1 || n > 3 || i + n >= len || s[i + n] != '.')
		return;
	i += n + 1;
	n = count_digits(s + i, len - i);
	if (n < 1 || n > 3)
		return;
	i += n;
	if (i < len && s[i] != ' ')
		return;
	memcpy(r->enhanced, s, i);
	r->enhanced[i] = '\0';
}

/* Store the text of one line, censored, lines joined by '\n'. */
static int
store_text(struct reply *r, const char *text, size_t len, struct error *err)
{
	size_t start;

	if (r->nlines > 0 && buf_append_char(&r->text, '\n') < 0)
		return error_set(err, ERROR_OSERR, "out of memory");
	start = r->text.len;
	if (buf_append(&r->text, text, len) < 0)
		return error_set(err, ERROR_OSERR, "out of memory");
	str_censor(r->text.data + start, len);
	return 0;
}

int
reply_push_line(struct reply *r, const char *line, size_t len,
                struct error *err)
{
	size_t skip;
	int code = 0;

	if (len > REPLY_LINE_MAX)
		return error_set(err, ERROR_PROTOCOL,
		                 "malformed reply from server: a line of %zu "
		                 "bytes (the limit is %d)",
		                 len, REPLY_LINE_MAX);
	if (parse_code(line, len, &code, err) < 0)
		return -1;
	if (r->nlines > 0 && code != r->code)
		return malformed(err, "reply code changed within one reply",
		                 line, len);
	if (r->nlines >= REPLY_LINES_MAX)
		return error_set(err, ERROR_PROTOCOL,
		                 "malformed reply from server: more than %d "
		                 "lines",
		                 REPLY_LINES_MAX);
	skip = len > 3 ? 4 : 3;
	r->code = code;
	if (store_text(r, line + skip, len - skip, err) < 0)
		return -1;
	if (r->nlines == 0)
		parse_enhanced(r, line + skip, len - skip);
	r->nlines++;
	/* A bare "250" or "250 text" is the last line (RFC 5321 4.2.1). */
	return len == 3 || line[3] == ' ' ? 1 : 0;
}

const char *
reply_line(const struct reply *r, size_t i, size_t *len)
{
	const char *p = buf_str(&r->text);
	const char *nl;

	*len = 0;
	if (i >= r->nlines)
		return NULL;
	for (; i > 0; i--) {
		nl = strchr(p, '\n');
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	nl = strchr(p, '\n');
	*len = nl ? (size_t)(nl - p) : strlen(p);
	return p;
}

void
reply_summary(const struct reply *r, char *out, size_t n)
{
	size_t len;
	const char *first = reply_line(r, 0, &len);

	if (n == 0)
		return;
	if (!first)
		len = 0;
	if (len > n - 1)
		len = n - 1;
	if (len)
		memcpy(out, first, len);
	out[len] = '\0';
}

void
reply_format(const struct reply *r, char *out, size_t n)
{
	size_t used = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < r->nlines && used < n - 1; i++) {
		size_t len;
		const char *text = reply_line(r, i, &len);
		int k = snprintf(
		    out + used, n - used, "%s%d%c%.*s", i ? "\n" : "", r->code,
		    i + 1 < r->nlines ? '-' : ' ', (int)len, text ? text : "");

		if (k < 0)
			break;
		used += (size_t)k;
	}
	/* The text was censored when stored; the code is digits. */
}

void
reply_keep(const struct reply *r, struct error *err)
{
	err->smtp_code = r->code;
	str_copy(err->smtp_enhanced, sizeof err->smtp_enhanced, r->enhanced);
	reply_format(r, err->smtp_reply, sizeof err->smtp_reply);
}

bool
reply_expected(const struct reply *r, enum reply_stage stage)
{
	if (!reply_is_positive(r))
		return true;
	switch (stage) {
	case REPLY_STAGE_CONNECT:
		return r->code == 220;
	case REPLY_STAGE_RCPT:
		return r->code == 250 || r->code == 251 || r->code == 252;
	case REPLY_STAGE_DATA:
		return r->code == 354;
	case REPLY_STAGE_AUTH:
		return r->code == 235 || r->code == 334;
	case REPLY_STAGE_HELO:
	case REPLY_STAGE_MAIL:
	case REPLY_STAGE_BODY:
		return r->code == 250;
	}
	return false;
}

/* Without an enhanced code: the codes that mean "authenticate first" or
 * "authentication failed" (RFC 4954 section 6), and the mailbox codes of
 * RFC 5321 4.2.2 that only name the recipient when they answer RCPT. */
static enum error_kind
kind_from_code(int code, enum reply_stage stage)
{
	switch (code) {
	case 530:
	case 534:
	case 535:
	case 538:
		return ERROR_NOPERM;
	case 550:
	case 551:
	case 553:
		return stage == REPLY_STAGE_RCPT ? ERROR_NOUSER
		                                 : ERROR_UNAVAILABLE;
	default:
		return ERROR_UNAVAILABLE;
	}
}

/* RFC 3463 section 3: subject 1 is addressing status, 7 is security or
 * policy status.  An addressing status names the recipient only when it
 * answers RCPT (or, in LMTP, the per-recipient reply after the data); to
 * MAIL it is about the sender (5.1.7, 5.1.8), which no "unknown user"
 * exit code should describe. */
static enum error_kind
kind_from_enhanced(const char *enhanced, enum reply_stage stage)
{
	const char *subject = enhanced + 2;
	bool about_recipient =
	    stage == REPLY_STAGE_RCPT || stage == REPLY_STAGE_BODY;

	if (subject[0] == '1' && subject[1] == '.')
		return about_recipient ? ERROR_NOUSER : ERROR_UNAVAILABLE;
	if (subject[0] == '7' && subject[1] == '.')
		return ERROR_NOPERM;
	return ERROR_UNAVAILABLE;
}

enum error_kind
reply_error_kind(const struct reply *r, enum reply_stage stage)
{
	if (reply_is_positive(r))
		return ERROR_NONE;
	if (reply_is_temporary(r))
		return ERROR_TEMPFAIL;
	if (!reply_is_permanent(r))
		return ERROR_SOFTWARE; /* no reply was read: a caller's bug */
	if (r->enhanced[0])
		return kind_from_enhanced(r->enhanced, stage);
	return kind_from_code(r->code, stage);
}

int
reply_to_error(const struct reply *r, enum reply_stage stage, const char *what,
               struct error *err)
{
	enum error_kind kind = reply_error_kind(r, stage);
	char first[REPLY_LINE_MAX + 1];
	const char *unexpected = "";

	/* A positive reply where a negative one was needed is the server
	 * breaking the protocol, e.g. 354 to MAIL. */
	if (kind == ERROR_NONE) {
		kind = ERROR_PROTOCOL;
		unexpected = "unexpected reply: ";
	}
	reply_summary(r, first, sizeof first);
	error_set(err, kind, "%s: %sserver said %d%s%s", what, unexpected,
	          r->code, first[0] ? " " : "", first);
	reply_keep(r, err);
	return -1;
}
