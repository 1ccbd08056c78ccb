/*
 * address.c - mail addresses: the checks an envelope address must pass
 * before it is written into an SMTP command (RFC 5321 4.1.2, 4.5.3.1), and
 * a parser for RFC 5322 3.4 address lists that pulls out the addr-specs
 * (for -t), and host names converted to their A-label (RFC 5890) for DNS
 * and certificate checks.  The only user of libidn2.  See address.h.
 *
 * International addresses (RFC 6531, RFC 6532): UTF-8 is allowed in the
 * local part and the domain; a domain is checked and converted with
 * IDNA2008 (RFC 5890, RFC 5891) so that it can always go on the wire as
 * A-labels, while a non-ASCII local part needs SMTPUTF8.
 */
#include "config.h"

#include "address.h"

#include <idn2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "identity.h"

/* How much of an address an error message shows. */
#define SHOW_MAX 200

static bool
is_ctl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/* The address as the user wrote it, control bytes escaped ("\x1b"). */
static int
check_fail(struct error *err, enum error_kind kind, const char *addr,
           const char *why)
{
	char shown[SHOW_MAX * 4 + 4];

	return error_set(err, kind, "invalid address \"%s\": %s",
	                 str_show(shown, sizeof shown, addr, SHOW_MAX), why);
}

/* One pass over the bytes: quoting, forbidden characters, and where the
 * '@' that separates local part and domain is (*at, or NULL).  Returns
 * the reason the address is invalid, or NULL. */
static const char *
scan_chars(const char *addr, const char **at)
{
	bool quoted = false;

	*at = NULL;
	for (const char *p = addr; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\r' || ch == '\n')
			return "contains a line break";
		if (is_ctl(ch))
			return "contains a control character";
		if (quoted) {
			/* RFC 5321 4.1.2 quoted-pairSMTP: the escaped byte is
			 * printable too, so it is checked like any other. */
			if (ch == '\\' && p[1] != '\0') {
				ch = (unsigned char)*++p;
				if (ch == '\r' || ch == '\n')
					return "contains a line break";
				if (is_ctl(ch))
					return "contains a control character";
			} else if (ch == '"') {
				quoted = false;
			}
			continue;
		}
		if (ch == '"') {
			if (*at)
				return "has a quote in the domain";
			quoted = true;
		} else if (ch == ' ') {
			return "contains a space";
		} else if (ch == '<' || ch == '>') {
			return "contains an angle bracket";
		} else if (ch == '@') {
			if (*at)
				return "contains more than one '@'";
			*at = p;
		}
	}
	return quoted ? "has an unterminated quoted string" : NULL;
}

static bool
is_label_char(unsigned char ch)
{
	/* Letters, digits, hyphen; underscore for the hosts that have one;
	 * 8-bit for internationalised names (RFC 6531). */
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch >= 0x80;
}

/* RFC 5321 4.1.3: an address literal is ASCII; not even SMTPUTF8
 * (RFC 6531 3.3) puts UTF-8 in it. */
static const char *
check_literal(const char *d, size_t len)
{
	if (len <= 2 || d[len - 1] != ']')
		return "the domain is not valid";
	if (str_has_8bit(d, len))
		return "the address literal is not ASCII";
	return NULL;
}

/* RFC 5321 4.1.2: Domain = sub-domain *("." sub-domain), or an address
 * literal in brackets. */
static const char *
check_domain(const char *d, size_t len)
{
	size_t label = 0;

	if (len == 0)
		return "the domain is empty";
	if (len > ADDRESS_DOMAIN_MAX)
		return "the domain is longer than 255 characters "
		       "(RFC 5321 4.5.3.1.2)";
	if (d[0] == '[')
		return check_literal(d, len);
	for (size_t i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (label == 0)
				return "the domain has an empty label";
			label = 0;
		} else if (is_label_char((unsigned char)d[i])) {
			label++;
		} else {
			return "the domain is not valid";
		}
	}
	return label == 0 ? "the domain has an empty label" : NULL;
}

/* --- international domains: U-labels to A-labels --------------------- */

/* IDNA2008 (RFC 5891 5) after NFC, nontransitional as UTS #46 has it:
 * the lookup form browsers and MTAs use. */
#define IDN_FLAGS (IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL)

/* Whether a label of the ASCII name d is an A-label ("xn--", RFC 5890
 * 2.3.2.1), which must then be valid too. */
static bool
has_alabel(const char *d)
{
	for (const char *p = d; p; p = strchr(p, '.')) {
		if (*p == '.')
			p++;
		if (strncasecmp(p, "xn--", 4) == 0)
			return true;
	}
	return false;
}

/* The domain d (NUL-terminated, checked) as it goes on the wire without
 * SMTPUTF8: U-labels become A-labels; an ASCII name stays as written (its
 * A-labels are only validated); an address literal is left alone.  *out
 * is a new string; returns the libidn2 code (IDN2_OK). */
static int
domain_to_ascii(const char *d, char **out)
{
	char *ace = NULL;
	int rc;

	*out = NULL;
	if (d[0] == '[' || (str_is_ascii(d) && !has_alabel(d))) {
		*out = xstrdup(d);
		return IDN2_OK;
	}
	rc = idn2_to_ascii_8z(d, &ace, IDN_FLAGS);
	if (rc == IDN2_OK && ace)
		*out = xstrdup(str_is_ascii(d) ? d : ace);
	else if (rc == IDN2_OK)
		rc = IDN2_MALLOC;
	idn2_free(ace);
	return rc;
}

/* A domain that is not valid IDNA is a fault of the message, whoever
 * named it: ERROR_DATA (exit 65), before any connection. */
static int
idn_fail(struct error *err, const char *domain, int rc)
{
	return error_set(
	    err, ERROR_DATA, "invalid international domain name \"%.*s\"%s: %s",
	    SHOW_MAX, domain, strlen(domain) > SHOW_MAX ? "..." : "",
	    idn2_strerror(rc));
}

int
address_to_ascii(const char *addr, char **out, struct error *err)
{
	const char *why;
	const char *at = NULL;
	char *ace = NULL;
	size_t local_len, alen;
	int rc;

	*out = NULL;
	why = scan_chars(addr, &at);
	if (why)
		return check_fail(err, ERROR_DATA, addr, why);
	if (!at) {
		*out = xstrdup(addr);
		return 0;
	}
	rc = domain_to_ascii(at + 1, &ace);
	if (rc != IDN2_OK)
		return idn_fail(err, at + 1, rc);
	local_len = (size_t)(at - addr);
	alen = strlen(ace);
	/* RFC 5321 4.5.3.1.3, for the form that is sent. */
	if (local_len + 1 + alen + 2 > ADDRESS_PATH_MAX) {
		free(ace);
		return check_fail(err, ERROR_DATA, addr,
		                  "with its domain in A-labels it is longer "
		                  "than 254 characters (RFC 5321 4.5.3.1.3)");
	}
	*out = xmalloc(local_len + 1 + alen + 1);
	memcpy(*out, addr, local_len + 1);
	memcpy(*out + local_len + 1, ace, alen + 1);
	free(ace);
	return 0;
}

int
address_header_form(const char *addr, char **out, struct error *err)
{
	if (address_needs_smtputf8(addr)) {
		*out = xstrdup(addr);
		return 0;
	}
	return address_to_ascii(addr, out, err);
}

/* The address as sent is thrown away: only whether it converts counts. */
static int
check_ascii_form(const char *addr, struct error *err)
{
	char *ascii = NULL;
	int rc = address_to_ascii(addr, &ascii, err);

	free(ascii);
	return rc;
}

bool
address_needs_smtputf8(const char *addr)
{
	const char *at = NULL;
	size_t local_len;

	/* Unparseable: assume the worst (address_check refuses it anyway). */
	if (scan_chars(addr, &at))
		return !str_is_ascii(addr);
	local_len = at ? (size_t)(at - addr) : strlen(addr);
	return str_has_8bit(addr, local_len);
}

/* --- envelope checks ------------------------------------------------- */

/* RFC 6532 3.1: 8-bit bytes in an address must be UTF-8; the C1 controls
 * (U+0080..U+009F) are refused like the C0 ones. */
static const char *
check_utf8(const char *addr)
{
	const unsigned char *p = (const unsigned char *)addr;

	size_t len = strlen(addr);

	while (len > 0) {
		size_t n = utf8_seq_len(p, len);

		if (n == 0)
			return "is not valid UTF-8";
		if (utf8_is_c1(p, n))
			return "contains a control character";
		p += n;
		len -= n;
	}
	return NULL;
}

int
address_check(const char *addr, bool allow_empty, enum error_kind kind,
              struct error *err)
{
	size_t len = strlen(addr);
	size_t local_len;
	const char *why;
	const char *at;

	if (len == 0) {
		if (allow_empty)
			return 0;
		return error_set(err, kind, "the address is empty");
	}
	why = scan_chars(addr, &at);
	if (!why)
		why = check_utf8(addr);
	if (why)
		return check_fail(err, kind, addr, why);
	local_len = at ? (size_t)(at - addr) : len;
	if (local_len == 0)
		return check_fail(err, kind, addr, "the local part is empty");
	if (local_len > ADDRESS_LOCAL_MAX)
		return check_fail(err, kind, addr,
		                  "the local part is longer than 64 "
		                  "characters (RFC 5321 4.5.3.1.1)");
	if (at) {
		why = check_domain(at + 1, len - local_len - 1);
		if (why)
			return check_fail(err, kind, addr, why);
	}
	/* The path includes the angle brackets. */
	if (len + 2 > ADDRESS_PATH_MAX)
		return check_fail(err, kind, addr,
		                  "it is longer than 254 characters "
		                  "(RFC 5321 4.5.3.1.3)");
	/* The domain must convert to A-labels (and the result fit). */
	return at ? check_ascii_form(addr, err) : 0;
}

char *
address_qualify(const char *addr, const char *domain)
{
	size_t alen, dlen;
	const char *at;
	char *out;

	/* An address we cannot read is left for address_check to name. */
	if (!domain || !*domain || !*addr || scan_chars(addr, &at) || at)
		return xstrdup(addr);
	alen = strlen(addr);
	dlen = strlen(domain);
	out = xmalloc(alen + 1 + dlen + 1);
	memcpy(out, addr, alen);
	out[alen] = '@';
	memcpy(out + alen + 1, domain, dlen + 1);
	return out;
}

const char *
address_domain(const char *addr)
{
	const char *at = NULL;
	bool quoted = false;

	for (const char *p = addr; *p; p++) {
		if (quoted && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '@')
			at = p;
	}
	return at ? at + 1 : NULL;
}

char *
address_with_domain(const char *addr, const char *domain)
{
	const char *d = address_domain(addr);
	size_t local_len = d ? (size_t)(d - 1 - addr) : strlen(addr);
	size_t dlen;
	char *out;

	if (!domain || !*domain || !*addr)
		return xstrdup(addr);
	dlen = strlen(domain);
	out = xmalloc(local_len + 1 + dlen + 1);
	memcpy(out, addr, local_len);
	out[local_len] = '@';
	memcpy(out + local_len + 1, domain, dlen + 1);
	return out;
}

char *
address_qualify_sender(const char *addr, const char *maildomain,
                       const char *host)
{
	const char *d = address_domain(addr);

	if (!maildomain || !*maildomain ||
	    (d && !identity_is_local_domain(d, host)))
		return xstrdup(addr);
	return address_with_domain(addr, maildomain);
}

/* --- sets of addresses --------------------------------------------- */

/* The key an address is compared by: the domain (after the last '@', as
 * a quoted local part may hold one) in lower case. */
static char *
set_key(const char *addr)
{
	char *key = xstrdup(addr);
	char *at = strrchr(key, '@');

	for (char *c = at; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return key;
}

/* FNV-1a (64-bit): cheap, and good enough for keys nobody chooses to
 * collide against a set that lives for one message. */
static size_t
set_hash(const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot that holds key, or the free one where it would go; cap is a
 * power of two and never full. */
static size_t
set_find(struct address_set *s, const char *key)
{
	size_t i = set_hash(key) & (s->cap - 1);

	for (;;) {
		s->probes++;
		if (!s->slot[i] || strcmp(s->slot[i], key) == 0)
			return i;
		i = (i + 1) & (s->cap - 1);
	}
}

/* Double the table (kept at most half full, so probes stay short). */
static void
set_grow(struct address_set *s)
{
	struct address_set old = *s;

	s->cap = old.cap ? old.cap * 2 : 64;
	s->slot = xcalloc(s->cap, sizeof *s->slot);
	for (size_t i = 0; i < old.cap; i++)
		if (old.slot[i])
			s->slot[set_find(s, old.slot[i])] = old.slot[i];
	free(old.slot);
}

void
address_set_init(struct address_set *s)
{
	s->slot = NULL;
	s->cap = s->n = s->probes = 0;
}

bool
address_set_add(struct address_set *s, const char *addr)
{
	char *key = set_key(addr);
	size_t i;

	if ((s->n + 1) * 2 > s->cap)
		set_grow(s);
	i = set_find(s, key);
	if (s->slot[i]) {
		free(key);
		return false;
	}
	s->slot[i] = key;
	s->n++;
	return true;
}

void
address_set_clear(struct address_set *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	address_set_init(s);
}

/* --- host names: U-label to A-label ----------------------------------- */
/* The same conversion as for the domain of an address (IDN_FLAGS). */
int
address_host_to_ascii(const char *host, char **out, struct error *err)
{
	char *ace = NULL;
	int rc;

	*out = NULL;
	if (str_is_ascii(host)) {
		*out = xstrdup(host);
		return 0;
	}
	rc = idn2_to_ascii_8z(host, &ace, IDN_FLAGS);
	if (rc != IDN2_OK || !ace) {
		idn2_free(ace);
		return error_set(err, ERROR_CONFIG,
		                 "invalid host name \"%.*s\": %s", SHOW_MAX,
		                 host, idn2_strerror(rc));
	}
	*out = xstrdup(ace);
	idn2_free(ace);
	return 0;
}

/* --- RFC 5322 3.4 address lists -------------------------------------- */

/* The value is cut into tokens first (RFC 5322 3.2: white space and
 * comments only separate them), then the grammar works on the array. */
enum tok_kind {
	TOK_END,
	TOK_ATOM,    /* atext run; 8-bit allowed (RFC 6532) */
	TOK_QUOTED,  /* quoted-string, quotes included */
	TOK_LITERAL, /* domain-literal, brackets included */
	TOK_SPECIAL, /* one of < > : ; @ , . */
};

struct tok {
	enum tok_kind kind;
	const char *p;
	size_t len;
	/* The first comment between the previous token and this one
	 * (parentheses included), or NULL: address_walk_list reports it. */
	const char *cmt;
	size_t cmt_len;
};

/* Where the mailbox being parsed lies, as token indexes [a, b). */
struct mb_tokens {
	size_t first;          /* its first token */
	size_t name_a, name_b; /* the display name (name-addr only) */
	size_t spec_a, spec_b; /* the addr-spec */
	bool angle;
	bool in_group;
};

struct parser {
	struct tok *t;   /* ends with a TOK_END */
	size_t i;        /* the current token */
	const char *why; /* the syntax error, or NULL when err is filled */
	bool oom;        /* an append to word failed */
	struct buf word; /* the addr-spec being assembled */
	struct strlist *out;
	struct error *err;
	/* address_walk_list: the callback instead of out, and positions. */
	int (*fn)(void *ctx, const struct address_mailbox *mb,
	          struct error *err);
	void *ctx;
	const char *value;
	size_t len;
	struct mb_tokens mb;
	/* address_parse_input: mailboxes with their display names. */
	struct address_entries *entries;
	enum error_kind kind; /* of a syntax error or an invalid address */
};

static bool
is_special(unsigned char ch)
{
	return memchr("()<>[]:;@\\,.\"", ch, 14) != NULL;
}

/* RFC 5322 3.2.2: comments nest, and a quoted-pair may hide a paren. */
static const char *
skip_comment(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		if (*p == '\\' && p + 1 < end) {
			p += 2;
			continue;
		}
		if (*p == '(')
			depth++;
		if (*p == ')')
			depth--;
		p++;
		if (depth == 0)
			return p;
	}
	return NULL;
}

/* The end of a quoted-string or domain-literal that starts at p, or NULL
 * with *why set.  Tab is the only control allowed inside (FWS). */
static const char *
skip_quoted(const char *p, const char *end, char close, const char **why)
{
	for (p++; p < end; p++) {
		if (is_ctl((unsigned char)*p) && *p != '\t')
			break;
		if (*p == close)
			return p + 1;
		if (*p == '\\') {
			p++;
			if (p == end ||
			    (is_ctl((unsigned char)*p) && *p != '\t'))
				break;
		}
	}
	*why = p == end ? "a quoted string or literal is not closed"
	                : "it contains a control character";
	return NULL;
}

/* One token at p (white space and comments already skipped); returns the
 * position after it, or NULL with *why set. */
static const char *
lex_one(const char *p, const char *end, struct tok *t, const char **why)
{
	unsigned char ch = (unsigned char)*p;
	const char *q = p;

	t->p = p;
	if (ch == '"' || ch == '[') {
		t->kind = ch == '"' ? TOK_QUOTED : TOK_LITERAL;
		q = skip_quoted(p, end, ch == '"' ? '"' : ']', why);
	} else if (is_ctl(ch)) {
		*why = "it contains a control character";
		q = NULL;
	} else if (ch == ')' || ch == ']' || ch == '\\') {
		*why = ch == ')' ? "a ')' has no matching '('"
		                 : "it has a stray ']' or '\\'";
		q = NULL;
	} else if (is_special(ch)) {
		t->kind = TOK_SPECIAL;
		q = p + 1;
	} else {
		t->kind = TOK_ATOM;
		while (q < end && !is_ctl((unsigned char)*q) && *q != ' ' &&
		       !is_special((unsigned char)*q))
			q++;
	}
	if (q)
		t->len = (size_t)(q - p);
	return q;
}

/* Tokenise value[0..len) into t (when not NULL); returns the number of
 * tokens, or -1 with *why set.  Called once to count, once to fill. */
static long
lex_all(const char *value, size_t len, struct tok *t, const char **why)
{
	const char *p = value;
	const char *end = value + len;
	const char *cmt = NULL;
	size_t cmt_len = 0;
	struct tok tmp;
	long n = 0;

	for (;;) {
		while (p < end &&
		       (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p < end && *p == '(') {
			const char *q = skip_comment(p, end);

			if (!q) {
				*why = "a comment is not closed";
				return -1;
			}
			if (!cmt) {
				cmt = p;
				cmt_len = (size_t)(q - p);
			}
			p = q;
			continue;
		}
		if (t) {
			/* t[n] of a filling pass has room, TOK_END included. */
			t[n].cmt = cmt;
			t[n].cmt_len = cmt_len;
		}
		cmt = NULL;
		if (p == end)
			return n;
		p = lex_one(p, end, t ? &t[n] : &tmp, why);
		if (!p)
			return -1;
		n++;
	}
}

static const struct tok *
cur(const struct parser *ps)
{
	return &ps->t[ps->i];
}

static bool
at_special(const struct parser *ps, char ch)
{
	return cur(ps)->kind == TOK_SPECIAL && cur(ps)->p[0] == ch;
}

static int
fail(struct parser *ps, const char *why)
{
	ps->why = why;
	return -1;
}

static const struct tok dot_tok = {TOK_SPECIAL, ".", 1, NULL, 0};
static const struct tok at_tok = {TOK_SPECIAL, "@", 1, NULL, 0};

static void
append_tok(struct parser *ps, const struct tok *t)
{
	/* The buffer is sized for the whole value: only memory can fail. */
	if (buf_append(&ps->word, t->p, t->len) < 0)
		ps->oom = true;
}

/* word *(word / ".") into ps->word: a local part, or a display name
 * (RFC 5322 obs-phrase allows dots).  Returns true when two words stood
 * side by side, which a local part cannot have. */
static bool
collect_words(struct parser *ps)
{
	bool adjacent = false;
	bool last_word = false;

	for (;;) {
		const struct tok *t = cur(ps);
		bool word = t->kind == TOK_ATOM || t->kind == TOK_QUOTED;

		if (!word && !at_special(ps, '.'))
			return adjacent;
		adjacent = adjacent || (word && last_word);
		last_word = word;
		append_tok(ps, t);
		ps->i++;
	}
}

/* domain = dot-atom / domain-literal (RFC 5322 3.4.1). */
static int
parse_domain(struct parser *ps)
{
	if (cur(ps)->kind == TOK_LITERAL) {
		append_tok(ps, cur(ps));
		ps->i++;
		return 0;
	}
	if (cur(ps)->kind != TOK_ATOM)
		return fail(ps, "a domain is missing after '@'");
	append_tok(ps, cur(ps));
	ps->i++;
	while (at_special(ps, '.')) {
		ps->i++;
		if (cur(ps)->kind != TOK_ATOM)
			return fail(ps, "a domain is not valid");
		append_tok(ps, &dot_tok);
		append_tok(ps, cur(ps));
		ps->i++;
	}
	return 0;
}

static bool
is_fws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Offset of the first byte of token i, and of the byte after it. */
static size_t
tok_start(const struct parser *ps, size_t i)
{
	return (size_t)(ps->t[i].p - ps->value);
}

static size_t
tok_end(const struct parser *ps, size_t i)
{
	return tok_start(ps, i) + ps->t[i].len;
}

/* The mailbox that ends before the current token, as positions: it starts
 * after the token before its first one (so a leading comment is part of
 * it) and ends before the separator that follows it (so a trailing
 * comment is too), white space trimmed at both ends. */
static void
mailbox_spans(const struct parser *ps, struct address_mailbox *mb)
{
	const struct mb_tokens *m = &ps->mb;
	size_t start = m->first ? tok_end(ps, m->first - 1) : 0;
	size_t end = tok_start(ps, ps->i);

	while (start < end && is_fws(ps->value[start]))
		start++;
	while (end > start && is_fws(ps->value[end - 1]))
		end--;
	mb->start = start;
	mb->end = end;
	mb->name_start = mb->name_end = 0;
	if (m->name_b > m->name_a) {
		mb->name_start = tok_start(ps, m->name_a);
		mb->name_end = tok_end(ps, m->name_b - 1);
	}
	mb->spec_start = tok_start(ps, m->spec_a);
	mb->spec_end = tok_end(ps, m->spec_b - 1);
	mb->comment_start = mb->comment_end = 0;
	for (size_t i = m->first; i <= ps->i; i++) {
		if (ps->t[i].cmt) {
			mb->comment_start = (size_t)(ps->t[i].cmt - ps->value);
			mb->comment_end = mb->comment_start + ps->t[i].cmt_len;
			break;
		}
	}
	mb->angle = m->angle;
	mb->in_group = m->in_group;
}

/* --- display names, for address_parse_input ------------------------- */

/* Append s[0..n) to b without the backslashes of its quoted-pairs
 * (RFC 5322 3.2.1), unfolded: a comment may span lines (its CR and LF
 * are folding, RFC 5322 3.2.2), a name may not. */
static void
append_unescaped(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		if (s[i] != '\r' && s[i] != '\n')
			buf_append(b, s + i, 1);
	}
}

/* The phrase of tokens [a, b) as a person reads it: quoted strings
 * unquoted, words that stood apart joined by one space, a dot or other
 * special kept where it was ("J. Smith", "Smith, Anna"). */
static void
phrase_text(const struct parser *ps, size_t a, size_t b, struct buf *out)
{
	for (size_t i = a; i < b; i++) {
		const struct tok *t = &ps->t[i];

		if (i > a &&
		    (t->p != ps->t[i - 1].p + ps->t[i - 1].len || t->cmt))
			buf_append(out, " ", 1);
		if (t->kind == TOK_QUOTED)
			append_unescaped(out, t->p + 1, t->len - 2);
		else
			buf_append(out, t->p, t->len);
	}
}

/* The first comment of the mailbox, without its parentheses: the old way
 * of naming someone ("anna@example.org (Anna Smith)"), read as the
 * display name when there is no phrase, as mail readers do. */
static void
comment_text(const struct parser *ps, struct buf *out)
{
	for (size_t i = ps->mb.first; i <= ps->i; i++) {
		const struct tok *t = &ps->t[i];

		if (t->cmt) {
			append_unescaped(out, t->cmt + 1, t->cmt_len - 2);
			return;
		}
	}
}

/* The display name of the mailbox just parsed (a new string), or NULL
 * when it has none.  Leading and trailing white space is dropped. */
static char *
display_name(const struct parser *ps)
{
	struct buf b;
	char *name = NULL;
	size_t start = 0;

	buf_init(&b, ps->len + 1);
	if (ps->mb.name_b > ps->mb.name_a)
		phrase_text(ps, ps->mb.name_a, ps->mb.name_b, &b);
	else
		comment_text(ps, &b);
	while (start < b.len && is_fws(b.data[start]))
		start++;
	while (b.len > start && is_fws(b.data[b.len - 1]))
		b.len--;
	if (b.len > start)
		name = xstrndup(b.data + start, b.len - start);
	buf_clear(&b);
	return name;
}

static void
entries_add(struct address_entries *l, const char *addr, char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n].addr = xstrdup(addr);
	l->v[l->n].name = name;
	l->n++;
}

void
address_entries_init(struct address_entries *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

void
address_entries_clear(struct address_entries *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].addr);
		free(l->v[i].name);
	}
	free(l->v);
	address_entries_init(l);
}

/* The addr-spec in ps->word is complete: check it and keep it (or hand
 * it to the walker's callback with its positions). */
static int
emit(struct parser *ps)
{
	struct address_mailbox mb;

	if (ps->oom) {
		ps->why = NULL;
		return error_set(ps->err, ERROR_OSERR, "out of memory");
	}
	if (address_check(buf_str(&ps->word), false, ps->kind, ps->err) < 0)
		return -1;
	if (ps->entries) {
		entries_add(ps->entries, buf_str(&ps->word), display_name(ps));
	} else if (ps->fn) {
		mailbox_spans(ps, &mb);
		mb.addr = buf_str(&ps->word);
		if (ps->fn(ps->ctx, &mb, ps->err) < 0)
			return -1;
	} else {
		strlist_add(ps->out, buf_str(&ps->word));
	}
	buf_reset(&ps->word);
	return 0;
}

/* RFC 5322 4.4 obs-route: "@a,@b:" before the addr-spec; it names relays
 * no one should use any more, so it is dropped. */
static int
skip_route(struct parser *ps)
{
	while (at_special(ps, '@') || at_special(ps, ',')) {
		if (at_special(ps, '@')) {
			ps->i++;
			if (parse_domain(ps) < 0)
				return -1;
		} else {
			ps->i++;
		}
	}
	if (!at_special(ps, ':'))
		return fail(ps, "a source route does not end with ':'");
	ps->i++;
	buf_reset(&ps->word);
	return 0;
}

/* After "<": [route] addr-spec ">".  "<>" names no one. */
static int
parse_angle(struct parser *ps)
{
	buf_reset(&ps->word);
	if (at_special(ps, '>')) {
		ps->i++;
		return 0;
	}
	if (at_special(ps, '@') && skip_route(ps) < 0)
		return -1;
	ps->mb.angle = true;
	ps->mb.spec_a = ps->i;
	if (collect_words(ps))
		return fail(ps, "a local part has a space in it");
	if (ps->word.len == 0)
		return fail(ps, "an address is missing after '<'");
	if (at_special(ps, '@')) {
		append_tok(ps, &at_tok);
		ps->i++;
		if (parse_domain(ps) < 0)
			return -1;
	}
	if (!at_special(ps, '>'))
		return fail(ps, "'>' is missing after an address");
	ps->mb.spec_b = ps->i;
	ps->i++;
	return emit(ps);
}

static int parse_address(struct parser *ps, bool in_group);

/* After "name:": group members up to ";" (RFC 5322 3.4).  A missing ';'
 * at the very end is forgiven: "undisclosed-recipients:" is common. */
static int
parse_group(struct parser *ps)
{
	for (;;) {
		if (cur(ps)->kind == TOK_END)
			return 0;
		if (at_special(ps, ';')) {
			ps->i++;
			return 0;
		}
		if (at_special(ps, ',')) {
			ps->i++;
			continue;
		}
		if (parse_address(ps, true) < 0)
			return -1;
		if (!at_special(ps, ',') && !at_special(ps, ';') &&
		    cur(ps)->kind != TOK_END)
			return fail(ps, "',' or ';' is missing in a group");
	}
}

/* address = mailbox / group: which one is known only when the words are
 * followed by '<' (name-addr), ':' (group) or '@' (addr-spec). */
static int
parse_address(struct parser *ps, bool in_group)
{
	bool adjacent;

	buf_reset(&ps->word);
	ps->mb = (struct mb_tokens){.first = ps->i, .in_group = in_group};
	adjacent = collect_words(ps);
	if (at_special(ps, '<')) {
		ps->mb.name_a = ps->mb.first;
		ps->mb.name_b = ps->i;
		ps->i++;
		return parse_angle(ps);
	}
	if (at_special(ps, ':')) {
		if (in_group)
			return fail(ps, "a group cannot hold a group");
		ps->i++;
		return parse_group(ps);
	}
	if (ps->word.len == 0)
		return fail(ps, "an address is missing");
	if (adjacent)
		return fail(ps, "a display name is not followed by <address>");
	if (at_special(ps, '@')) {
		append_tok(ps, &at_tok);
		ps->i++;
		if (parse_domain(ps) < 0)
			return -1;
		/* Common in the wild: "a@x <a@x>", an unquoted address used
		 * as a display name.  The angle address is the real one. */
		if (at_special(ps, '<')) {
			ps->mb.name_a = ps->mb.first;
			ps->mb.name_b = ps->i;
			ps->i++;
			return parse_angle(ps);
		}
	}
	/* Without '@' this is a bare local name, as sendmail accepts. */
	ps->mb.spec_a = ps->mb.first;
	ps->mb.spec_b = ps->i;
	return emit(ps);
}

static int
parse_list(struct parser *ps)
{
	for (;;) {
		if (cur(ps)->kind == TOK_END)
			return 0;
		if (at_special(ps, ',')) {
			ps->i++;
			continue;
		}
		if (parse_address(ps, false) < 0)
			return -1;
		if (!at_special(ps, ',') && cur(ps)->kind != TOK_END)
			return fail(ps, "',' is missing between addresses");
	}
}

/* A syntax error, naming the value as it was written (control bytes
 * escaped). */
static void
list_fail(const struct parser *ps, struct error *err)
{
	char shown[SHOW_MAX * 4 + 4];
	char *copy = xstrndup(ps->value, ps->len);

	error_set(err, ps->kind, "cannot parse the address list \"%s\": %s",
	          str_show(shown, sizeof shown, copy, SHOW_MAX), ps->why);
	free(copy);
}

/* Lex and parse value with ps set up by the caller (out or fn). */
static int
run_parser(struct parser *ps, const char *value, size_t len, struct error *err)
{
	long n = lex_all(value, len, NULL, &ps->why);
	int rc = -1;

	ps->value = value;
	ps->len = len;
	ps->err = err;
	if (n >= 0) {
		ps->t = xcalloc((size_t)n + 1, sizeof *ps->t);
		lex_all(value, len, ps->t, &ps->why);
		ps->t[n].kind = TOK_END;
		ps->t[n].p = value + len;
		ps->t[n].len = 0;
		buf_init(&ps->word, len + 16);
		rc = parse_list(ps);
		buf_clear(&ps->word);
		free(ps->t);
	}
	if (rc < 0 && ps->why)
		list_fail(ps, err);
	return rc;
}

int
address_walk_list(const char *value, size_t len,
                  int (*fn)(void *ctx, const struct address_mailbox *mb,
                            struct error *err),
                  void *ctx, struct error *err)
{
	struct parser ps = {.fn = fn, .ctx = ctx, .kind = ERROR_DATA};

	return run_parser(&ps, value, len, err);
}

int
address_parse_list(const char *value, size_t len, struct strlist *out,
                   struct error *err)
{
	struct parser ps = {.out = out, .kind = ERROR_DATA};

	return run_parser(&ps, value, len, err);
}

bool
address_empty_group(const char *value, char **phrase)
{
	struct address_entries l;
	struct parser ps = {.entries = &l, .kind = ERROR_USAGE};
	struct error e;
	const char *colon = strchr(value, ':'), *a = value, *b;
	bool empty;

	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	/* One group: one ':' (a quoted name holding one is not worth it). */
	if (!colon || strrchr(value, ':') != colon)
		return false;
	address_entries_init(&l);
	empty = run_parser(&ps, value, strlen(value), &e) == 0 && l.n == 0;
	address_entries_clear(&l);
	if (!empty)
		return false;
	while (a < colon && (*a == ' ' || *a == '\t'))
		a++;
	b = colon;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	if (b == a)
		return false;
	*phrase = xstrndup(a, (size_t)(b - a));
	return true;
}

/* The next step, after a command-line error's cause. */
static void
add_hint(struct error *err, const char *hint)
{
	size_t n = strlen(err->msg);

	snprintf(err->msg + n, sizeof err->msg - n, "%s", hint);
}

int
address_parse_input(const char *value, enum error_kind kind,
                    struct address_entries *out, struct error *err)
{
	struct parser ps = {.entries = out, .kind = kind};
	size_t before = out->n;
	char shown[SHOW_MAX * 4 + 4];

	if (run_parser(&ps, value, strlen(value), err) < 0) {
		if (err->kind == ERROR_USAGE)
			add_hint(err, "; write a recipient as user@domain "
			              "or \"Name <user@domain>\", several "
			              "separated by commas");
		return -1;
	}
	if (out->n == before)
		return error_set(
		    err, kind, "\"%s\" names no address",
		    str_show(shown, sizeof shown, value, SHOW_MAX));
	return 0;
}
