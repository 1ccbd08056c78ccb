/*
 * reencode.c - lossless re-encoding of long body lines (see reencode.h).
 *
 * Input is cut into lines; of each line only its first LINE_HEAD bytes
 * are held, enough to know whether it is too long and whether it is a
 * boundary (a boundary line is short).  The rest of a long line streams.
 * Each line is then judged by where the walk is: collecting a part's
 * header, or in a body whose mode says what happens to its lines.
 */
#include "config.h"

#include "reencode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "crlf.h"
#include "encode.h"
#include "util.h"

/* A line of CRLF_LINE_MAX octets and its CRLF: a line whose LF is not
 * among its first LINE_HEAD bytes is too long. */
#define LINE_HEAD (CRLF_LINE_MAX + 2)
/* Input to qp_push per call, so its output fits a buffer on the stack. */
#define QP_CHUNK 1024
/* Output of the rewrapping modes is gathered this much at a time. */
#define OUT_CHUNK 4096
/* RFC 2045 6.7 (5) and 6.8: encoded lines are at most 76 characters. */
#define WRAP_QP 75 /* and the "=" of the soft break */
#define WRAP_B64 76

enum cte {
	CTE_IDENTITY, /* none, 7bit, 8bit, binary: the bytes are the data */
	CTE_QP,
	CTE_BASE64,
	CTE_OTHER, /* unknown, or a part we cannot look into */
};

/* What happens to the lines of the body being walked. */
enum mode {
	MODE_KEEP,     /* a leaf without long lines: as it is */
	MODE_QP,       /* a leaf encoded as quoted-printable */
	MODE_WRAP_QP,  /* a leaf already quoted-printable: soft breaks */
	MODE_WRAP_B64, /* a leaf already base64: line breaks */
	MODE_CUT,      /* preamble, epilogue: long lines cut */
};

/* What the current line is, once its start was seen. */
enum line_kind {
	LINE_COPY,   /* written as it is */
	LINE_HEADER, /* collected into the part's header */
	LINE_QP,     /* through the quoted-printable encoder */
	LINE_WRAP,   /* written with breaks inserted */
	LINE_PAD,    /* white space after a delimiter: dropped */
};

enum charset { CHARSET_ASCII, CHARSET_UTF8, CHARSET_8BIT };

struct frame {
	char boundary[REENCODE_BOUNDARY_MAX];
	size_t len;
	bool digest; /* multipart/digest: parts default to message/rfc822 */
};

/* What a header says about its entity. */
struct entity {
	bool multipart, message, has_type;
	enum cte cte;
	char cte_name[40];
	char boundary[REENCODE_BOUNDARY_MAX];
	size_t boundary_len;
	bool digest;
	const char *opaque; /* why a leaf cannot be looked into, or NULL */
};

struct leaf_plan {
	unsigned long long index;
	enum charset charset;
};

struct reencoder {
	bool rewriting;
	struct reencode_sink sink;
	bool changes; /* the scan found something to change */

	/* leaves with long lines, in order (from the scan) */
	struct leaf_plan *plan;
	size_t nplan, plan_cap, cursor;

	/* the top entity */
	struct entity top;

	/* the walk */
	struct frame stack[REENCODE_DEPTH_MAX];
	size_t depth;
	bool in_header;      /* collecting a part's header */
	bool header_message; /* ... of a message (rfc822), not a part */
	bool header_digest;  /* ... of a part of a multipart/digest */
	struct header_block hb;
	struct buf hline; /* a header line being collected */
	enum mode mode;
	bool leaf; /* the body walked is a leaf's */
	unsigned long long leaves;
	bool leaf_long; /* scan: the leaf has a long line */
	enum cte leaf_cte;
	char leaf_cte_name[40];
	const char *leaf_opaque;
	enum charset charset; /* scan: what the leaf's bytes are */
	struct utf8_check utf8;

	/* the current line */
	char head[LINE_HEAD];
	size_t hlen;
	bool in_tail; /* the head was judged; the rest streams */
	bool held_cr; /* a CR at the end of a piece of the tail */
	bool long_line;
	enum line_kind kind;

	/* encoders */
	struct qp_encoder qp;
	bool held_crlf; /* MODE_QP: the last line's CRLF, not yet encoded */
	size_t wcol;    /* LINE_WRAP: column on the output line */
	int esc_left;   /* LINE_WRAP in MODE_WRAP_QP: rest of an "=XX" */
	char out[OUT_CHUNK];
	size_t olen;
};

static void
walk_reset(struct reencoder *r)
{
	r->depth = 0;
	r->in_header = false;
	header_clear(&r->hb);
	buf_reset(&r->hline);
	r->leaves = 0;
	r->cursor = 0;
	r->hlen = 0;
	r->in_tail = false;
	r->held_cr = false;
	r->held_crlf = false;
	r->olen = 0;
}

/* --- reading what a header says ---------------------------------------- */

static const char *
skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '(')
			return p;
		/* RFC 5322 3.2.2: comments nest. */
		for (int depth = 0; *p; p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

/* RFC 2045 5.1: token characters. */
static bool
is_token(char c)
{
	return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f &&
	       !strchr("()<>@,;:\\\"/[]?=", c);
}

/* A token or quoted-string at p into out (at most n - 1 bytes, NUL
 * ended; longer values are cut and *len says so).  Returns the end. */
static const char *
take_value(const char *p, char *out, size_t n, size_t *len)
{
	size_t k = 0;

	*len = 0;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (k + 1 < n)
				out[k] = *p;
			k++;
		}
		if (*p == '"')
			p++;
	} else {
		for (; is_token(*p); p++, k++)
			if (k + 1 < n)
				out[k] = *p;
	}
	out[k < n ? k : n - 1] = '\0';
	*len = k;
	return p;
}

static bool
word_is(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* The boundary parameter of a Content-Type value after its type. */
static void
take_boundary(const char *p, struct entity *e)
{
	while (*p) {
		const char *name;
		size_t nlen, vlen;
		char value[REENCODE_BOUNDARY_MAX + 1];

		p = skip_cfws(p);
		if (!*p)
			break; /* the value ended in white space or a comment */
		if (*p != ';') {
			p++;
			continue;
		}
		p = skip_cfws(p + 1);
		name = p;
		while (is_token(*p))
			p++;
		nlen = (size_t)(p - name);
		p = skip_cfws(p);
		if (*p != '=')
			continue;
		p = take_value(skip_cfws(p + 1), value, sizeof value, &vlen);
		if (word_is(name, nlen, "boundary") && vlen > 0 &&
		    vlen < sizeof value && e->boundary_len == 0) {
			memcpy(e->boundary, value, vlen);
			e->boundary_len = vlen;
		}
	}
}

static void
read_type(const char *v, struct entity *e)
{
	const char *type = skip_cfws(v), *sub, *p = type;
	size_t tlen, slen;

	while (is_token(*p))
		p++;
	tlen = (size_t)(p - type);
	p = skip_cfws(p);
	if (tlen == 0 || *p != '/')
		return; /* RFC 2045 5.2: a bad type is text/plain */
	sub = p = skip_cfws(p + 1);
	while (is_token(*p))
		p++;
	slen = (size_t)(p - sub);
	e->has_type = true;
	e->message = false;
	if (word_is(type, tlen, "multipart")) {
		take_boundary(p, e);
		e->multipart = e->boundary_len > 0;
		e->digest = word_is(sub, slen, "digest");
		/* RFC 2046 5.1.1: the boundary is mandatory; without it the
		 * parts cannot be found, so nothing inside may change. */
		if (!e->multipart)
			e->opaque = "a multipart without a boundary";
	} else if (word_is(type, tlen, "message")) {
		e->message = word_is(sub, slen, "rfc822") ||
		             word_is(sub, slen, "global");
	}
}

static void
read_cte(const char *v, struct entity *e)
{
	const char *p = skip_cfws(v), *w = p;
	size_t n;

	while (is_token(*p))
		p++;
	n = (size_t)(p - w);
	snprintf(e->cte_name, sizeof e->cte_name, "%.*s", (int)n, w);
	if (word_is(w, n, "7bit") || word_is(w, n, "8bit") ||
	    word_is(w, n, "binary"))
		e->cte = CTE_IDENTITY;
	else if (word_is(w, n, "quoted-printable"))
		e->cte = CTE_QP;
	else if (word_is(w, n, "base64"))
		e->cte = CTE_BASE64;
	else
		e->cte = CTE_OTHER;
}

/* The entity a header describes; digest: its parent is multipart/digest,
 * whose parts default to message/rfc822 (RFC 2046 5.1.5). */
static void
read_entity(const struct header_block *h, bool digest, struct entity *e)
{
	const struct header_field *f;
	struct buf v;

	memset(e, 0, sizeof *e);
	e->message = digest;
	e->cte = CTE_IDENTITY;
	buf_init(&v, HEADER_BLOCK_MAX);
	if ((f = header_first(h, "Content-Type")) != NULL &&
	    header_value(f, &v) == 0)
		read_type(buf_str(&v), e);
	buf_reset(&v);
	if ((f = header_first(h, "Content-Transfer-Encoding")) != NULL &&
	    header_value(f, &v) == 0)
		read_cte(buf_str(&v), e);
	buf_clear(&v);
	/* RFC 2046 5.2.1: a message/rfc822 part is 7bit, 8bit or binary; in
	 * another encoding it is a leaf like any other. */
	if (e->message && e->cte != CTE_IDENTITY)
		e->message = false;
}

/* --- output -------------------------------------------------------------- */

static int
put(struct reencoder *r, const char *p, size_t n, struct error *err)
{
	if (!r->rewriting || n == 0)
		return 0;
	return r->sink.write(r->sink.ctx, p, n, err);
}

static int
qp_put(struct reencoder *r, const char *p, size_t n, struct error *err)
{
	char buf[QP_OUT_MAX(QP_CHUNK)];

	if (!r->rewriting)
		return 0;
	while (n > 0) {
		size_t k = n < QP_CHUNK ? n : QP_CHUNK;

		if (put(r, buf, qp_push(&r->qp, p, k, buf), err) < 0)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

/* The end of a quoted-printable leaf.  The CRLF before a boundary belongs
 * to the delimiter (RFC 2046 5.1.1), so it is written as it is. */
static int
qp_end(struct reencoder *r, bool at_eof, bool eol_added, struct error *err)
{
	char buf[16];
	bool crlf = r->held_crlf;

	r->held_crlf = false;
	if (crlf && at_eof && !eol_added && qp_put(r, "\r\n", 2, err) < 0)
		return -1;
	if (put(r, buf, qp_finish(&r->qp, buf), err) < 0)
		return -1;
	/* The input ended without a line end: a soft break ends the text
	 * without adding one. */
	if (at_eof && r->qp.col > 0)
		return put(r, "=\r\n", 3, err);
	if (!at_eof && crlf)
		return put(r, "\r\n", 2, err);
	return 0;
}

static int
wrap_flush(struct reencoder *r, struct error *err)
{
	int rc = put(r, r->out, r->olen, err);

	r->olen = 0;
	return rc;
}

/* The byte c, after the line break brk when it is not empty.  A line a
 * break starts must not start with "-": it could complete a boundary
 * delimiter, which RFC 2046 5.1.1 lets a reader find by its prefix.  In
 * quoted-printable the "-" is written "=2D"; elsewhere (a preamble or
 * epilogue, which readers ignore, or base64, whose decoders skip what is
 * not in its alphabet) a space goes before it. */
static int
wrap_byte(struct reencoder *r, const char *brk, char c, struct error *err)
{
	const char *tok = &c;
	size_t blen = strlen(brk), tlen = 1;

	if (blen > 0 && c == '-') {
		tok = r->mode == MODE_WRAP_QP ? "=2D" : " -";
		tlen = strlen(tok);
	}
	if (r->olen + blen + tlen > sizeof r->out && wrap_flush(r, err) < 0)
		return -1;
	if (blen > 0) {
		memcpy(r->out + r->olen, brk, blen);
		r->olen += blen;
		r->wcol = 0;
	}
	memcpy(r->out + r->olen, tok, tlen);
	r->olen += tlen;
	r->wcol += tlen;
	return 0;
}

/* Bytes of a long line with breaks inserted before the byte that would
 * pass the limit, never at the line's end (a break is written only when
 * another byte follows). */
static int
wrap_put(struct reencoder *r, const char *p, size_t n, struct error *err)
{
	if (!r->rewriting)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *brk = "";
		char c = p[i];

		if (r->mode == MODE_WRAP_QP) {
			/* Never inside "=XX" (RFC 2045 6.7 rule 1).  An "="
			 * inside one ("==X", malformed) is its byte, not the
			 * start of another: a run of "=" is cut in threes,
			 * never left unbreakable. */
			if (r->esc_left > 0) {
				r->esc_left--;
			} else {
				if (c == '=' ? r->wcol > WRAP_QP - 3
				             : r->wcol >= WRAP_QP)
					brk = "=\r\n";
				if (c == '=')
					r->esc_left = 2;
			}
		} else if (r->wcol >= (r->mode == MODE_WRAP_B64
		                           ? WRAP_B64
		                           : CRLF_LINE_MAX)) {
			brk = "\r\n";
		}
		if (wrap_byte(r, brk, c, err) < 0)
			return -1;
	}
	return 0;
}

/* --- the plan ------------------------------------------------------------ */

static int
plan_add(struct reencoder *r, struct error *err)
{
	if (r->nplan == REENCODE_LEAVES_MAX)
		return error_set(
		    err, ERROR_DATA,
		    "the message has more than %d parts with lines "
		    "longer than %d characters",
		    REENCODE_LEAVES_MAX, CRLF_LINE_MAX);
	if (r->nplan == r->plan_cap) {
		r->plan_cap = r->plan_cap ? 2 * r->plan_cap : 8;
		r->plan = xrealloc(r->plan, r->plan_cap * sizeof *r->plan);
	}
	r->plan[r->nplan].index = r->leaves - 1;
	r->plan[r->nplan].charset = r->charset;
	r->nplan++;
	r->changes = true;
	return 0;
}

/* The plan for the leaf just started (rewrite), or NULL. */
static const struct leaf_plan *
plan_for(struct reencoder *r, unsigned long long index)
{
	while (r->cursor < r->nplan && r->plan[r->cursor].index < index)
		r->cursor++;
	if (r->cursor < r->nplan && r->plan[r->cursor].index == index)
		return &r->plan[r->cursor];
	return NULL;
}

/* The end of a leaf's body (a boundary, or the end of the input). */
static int
leaf_end(struct reencoder *r, bool at_eof, bool eol_added, struct error *err)
{
	if (!r->leaf)
		return 0;
	r->leaf = false;
	if (!r->rewriting)
		return r->leaf_long ? plan_add(r, err) : 0;
	if (r->mode == MODE_QP)
		return qp_end(r, at_eof, eol_added, err);
	return 0;
}

/* --- header edits ---------------------------------------------------- */

static const char *
charset_name(enum charset c)
{
	return c == CHARSET_ASCII  ? "us-ascii"
	       : c == CHARSET_UTF8 ? "utf-8"
	                           : "unknown-8bit"; /* RFC 1428 */
}

/* A leaf that becomes quoted-printable.  A message without MIME fields
 * gets them, with the charset its bytes have (RFC 2045 4, 5.2). */
static int
edit_for_qp(struct header_block *h, bool message, enum charset cs,
            struct error *err)
{
	char ct[64];

	if (header_replace(h, "Content-Transfer-Encoding", "quoted-printable",
	                   err) < 0)
		return -1;
	if (!message)
		return 0;
	if (!header_first(h, "MIME-Version") &&
	    header_add(h, "MIME-Version", "1.0", err) < 0)
		return -1;
	if (header_first(h, "Content-Type"))
		return 0;
	snprintf(ct, sizeof ct, "text/plain; charset=%s", charset_name(cs));
	return header_add(h, "Content-Type", ct, err);
}

/* --- entities ---------------------------------------------------------- */

/* The body of an entity described by e starts; *planned when it is a leaf
 * the rewrite changes. */
static void
body_begin(struct reencoder *r, const struct entity *e, bool *planned)
{
	*planned = false;
	r->leaf = false;
	if (e->multipart && r->depth < REENCODE_DEPTH_MAX) {
		struct frame *f = &r->stack[r->depth++];

		memcpy(f->boundary, e->boundary, e->boundary_len);
		f->len = e->boundary_len;
		f->digest = e->digest;
		r->mode = MODE_CUT; /* the preamble */
		return;
	}
	if (e->message) {
		r->in_header = true;
		r->header_message = true;
		r->header_digest = false;
		return;
	}
	r->leaf = true;
	r->leaves++;
	r->leaf_long = false;
	r->leaf_cte = e->cte;
	r->leaf_opaque =
	    e->multipart ? "a multipart nested too deeply" : e->opaque;
	snprintf(r->leaf_cte_name, sizeof r->leaf_cte_name, "%s", e->cte_name);
	r->charset = CHARSET_ASCII;
	r->utf8 = (struct utf8_check){0};
	r->mode = MODE_KEEP;
	if (r->rewriting && plan_for(r, r->leaves - 1)) {
		r->mode = e->cte == CTE_QP       ? MODE_WRAP_QP
		          : e->cte == CTE_BASE64 ? MODE_WRAP_B64
		                                 : MODE_QP;
		if (r->mode == MODE_QP)
			qp_init(&r->qp);
		*planned = true;
	}
}

/* A part's (or nested message's) header has ended: fold, edit, write it,
 * and start its body.  The empty line that may end it is written as the
 * line it is. */
static int
header_end(struct reencoder *r, struct error *err)
{
	struct entity e;
	size_t before = header_size(&r->hb);
	struct header_walk w;
	const struct header_field *f;
	bool planned;
	bool message = r->header_message;

	r->in_header = false;
	read_entity(&r->hb, r->header_digest, &e);
	if (header_fold_long(&r->hb, err) < 0)
		return -1;
	if (header_size(&r->hb) != before)
		r->changes = true;
	body_begin(r, &e, &planned);
	if (planned && e.cte == CTE_IDENTITY &&
	    edit_for_qp(&r->hb, message, r->plan[r->cursor].charset, err) < 0)
		return -1;
	header_walk_init(&w);
	while ((f = header_walk_next(&r->hb, &w, NULL)) != NULL) {
		size_t n;
		const char *raw = header_raw(f, &n);

		if (put(r, raw, n, err) < 0)
			return -1;
	}
	header_clear(&r->hb);
	return 0;
}

/* --- lines --------------------------------------------------------------- */

/* The frame whose boundary line this is, or -1; *close for "--b--".
 * RFC 2046 5.1.1: "--" boundary, optionally "--", then only white
 * space.  An outer boundary also ends the inner multiparts. */
static long
boundary_of(const struct reencoder *r, const char *p, size_t n, bool *close)
{
	if (n < 3 || p[0] != '-' || p[1] != '-')
		return -1;
	for (size_t i = r->depth; i-- > 0;) {
		const struct frame *f = &r->stack[i];
		size_t k = 2 + f->len;

		if (n < k || memcmp(p + 2, f->boundary, f->len) != 0)
			continue;
		*close = n >= k + 2 && p[k] == '-' && p[k + 1] == '-';
		if (*close)
			k += 2;
		while (k < n && (p[k] == ' ' || p[k] == '\t'))
			k++;
		if (k == n)
			return (long)i;
	}
	return -1;
}

static int
boundary_line(struct reencoder *r, long frame, bool close, struct error *err)
{
	if (r->in_header && header_end(r, err) < 0)
		return -1;
	if (leaf_end(r, false, false, err) < 0)
		return -1;
	r->depth = (size_t)frame + (close ? 0 : 1);
	r->kind = LINE_COPY;
	if (close) {
		r->mode = MODE_CUT; /* the epilogue */
		return 0;
	}
	r->in_header = true;
	r->header_message = false;
	r->header_digest = r->stack[frame].digest;
	return 0;
}

static void
track_charset(struct reencoder *r, const char *p, size_t n)
{
	for (size_t i = 0; i < n && r->charset != CHARSET_8BIT; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x80)
			r->charset = CHARSET_UTF8;
		if (!utf8_check_byte(&r->utf8, c))
			r->charset = CHARSET_8BIT;
	}
}

/* Bytes of the current line's content (not its CRLF). */
static int
line_bytes(struct reencoder *r, const char *p, size_t n, struct error *err)
{
	if (r->leaf && !r->rewriting)
		track_charset(r, p, n);
	switch (r->kind) {
	case LINE_HEADER:
		if (buf_append(&r->hline, p, n) < 0)
			return error_set(err, ERROR_DATA,
			                 "a part's header is larger than %d "
			                 "bytes",
			                 HEADER_BLOCK_MAX);
		return 0;
	case LINE_QP:
		return qp_put(r, p, n, err);
	case LINE_WRAP:
		return wrap_put(r, p, n, err);
	case LINE_PAD:
		for (size_t i = 0; i < n; i++)
			if (p[i] != ' ' && p[i] != '\t')
				return error_set(
				    err, ERROR_DATA,
				    "a line starts as a MIME boundary, then "
				    "has "
				    "text after more than %d characters of "
				    "white "
				    "space; remove that white space",
				    CRLF_LINE_MAX);
		return 0;
	case LINE_COPY:
		break;
	}
	return put(r, p, n, err);
}

static int
long_in_leaf(struct reencoder *r, struct error *err)
{
	if (r->leaf_opaque)
		return error_set(
		    err, ERROR_DATA,
		    "a line is longer than %d characters (RFC 5322 "
		    "2.1.1) in %s; it cannot be re-encoded without "
		    "changing it",
		    CRLF_LINE_MAX, r->leaf_opaque);
	if (r->leaf_cte != CTE_OTHER)
		return 0;
	return error_set(err, ERROR_DATA,
	                 "a line is longer than %d characters (RFC 5322 2.1.1) "
	                 "in a part with Content-Transfer-Encoding \"%s\", "
	                 "which cannot be re-encoded without changing it; "
	                 "encode the part as base64",
	                 CRLF_LINE_MAX, r->leaf_cte_name);
}

/* A body line starts (not a boundary). */
static int
body_line(struct reencoder *r, const char *p, size_t n, struct error *err)
{
	r->kind = LINE_COPY;
	if (r->long_line && !r->leaf)
		r->changes = true;
	if (r->long_line && r->leaf) {
		r->leaf_long = true;
		if (long_in_leaf(r, err) < 0)
			return -1;
	}
	if (r->mode == MODE_QP) {
		r->kind = LINE_QP;
		if (r->held_crlf && qp_put(r, "\r\n", 2, err) < 0)
			return -1;
		r->held_crlf = false;
	} else if (r->long_line && r->mode != MODE_KEEP) {
		r->kind = LINE_WRAP;
		r->wcol = 0;
		r->esc_left = 0;
	}
	return line_bytes(r, p, n, err);
}

/* A line starts in a part's header: collect it, or (when it is not a
 * header line) end the header and start the body with it. */
static int
header_line(struct reencoder *r, const char *p, size_t n, bool whole,
            struct error *err)
{
	bool field = header_line_belongs(&r->hb, p, n);

	/* An empty line, a field or its continuation is header; a leading
	 * "From " line is not (the top header's mbox rule is not for
	 * parts). */
	if (n == 0 && whole) {
		r->kind = LINE_COPY;
		return header_end(r, err);
	}
	if (field) {
		r->kind = LINE_HEADER;
		buf_reset(&r->hline);
		return line_bytes(r, p, n, err);
	}
	if (header_end(r, err) < 0)
		return -1;
	if (r->in_header) /* a nested message starts with this line */
		return header_line(r, p, n, whole, err);
	return body_line(r, p, n, err);
}

/* The start of a line: p[0..n) is all of it (whole) or its head. */
static int
line_start(struct reencoder *r, const char *p, size_t n, bool whole,
           struct error *err)
{
	bool close = false;
	long frame;

	r->long_line = !whole || n > CRLF_LINE_MAX;
	if ((frame = boundary_of(r, p, n, &close)) >= 0) {
		size_t delim = 2 + r->stack[frame].len + (close ? 2 : 0);

		if (boundary_line(r, frame, close, err) < 0)
			return -1;
		if (r->long_line) {
			/* RFC 2046 5.1.1: white space after a delimiter is
			 * transport padding, which readers ignore; a line
			 * made too long by it loses it. */
			r->changes = true;
			r->kind = LINE_PAD;
			n = delim;
		}
		return put(r, p, n, err);
	}
	if (r->in_header)
		return header_line(r, p, n, whole, err);
	return body_line(r, p, n, err);
}

/* The end of the line (its CRLF, or the end of the input: eol false). */
static int
line_end(struct reencoder *r, bool eol, struct error *err)
{
	enum line_kind kind = r->kind;

	r->kind = LINE_COPY;
	switch (kind) {
	case LINE_HEADER:
		if (buf_append(&r->hline, "\r\n", 2) < 0)
			return error_set(err, ERROR_DATA,
			                 "a part's header is larger than %d "
			                 "bytes",
			                 HEADER_BLOCK_MAX);
		return header_push_line(&r->hb, r->hline.data, r->hline.len,
		                        err) < 0
		           ? -1
		           : 0;
	case LINE_QP:
		r->held_crlf = eol;
		return 0;
	case LINE_WRAP:
		if (wrap_flush(r, err) < 0)
			return -1;
		break;
	case LINE_PAD:
	case LINE_COPY:
		break;
	}
	return eol ? put(r, "\r\n", 2, err) : 0;
}

/* --- pushing ------------------------------------------------------------- */

/* Bytes of a long line after its head: a CR at the end of a piece is
 * held until the next byte shows whether it ends the line. */
static size_t
push_tail(struct reencoder *r, const char *p, size_t n, struct error *err,
          int *rc)
{
	const char *lf = memchr(p, '\n', n);
	size_t seg = lf ? (size_t)(lf - p) : n;
	size_t text = seg;

	*rc = 0;
	if (r->held_cr) {
		r->held_cr = false;
		if (seg > 0 || !lf)
			*rc = line_bytes(r, "\r", 1, err);
	}
	if (*rc == 0 && text > 0 && p[text - 1] == '\r') {
		text--;
		r->held_cr = !lf;
	}
	if (*rc == 0)
		*rc = line_bytes(r, p, text, err);
	if (*rc == 0 && lf) {
		r->in_tail = false;
		*rc = line_end(r, true, err);
		return seg + 1;
	}
	return seg;
}

/* Fill the head of a line; when it is complete or full, judge it. */
static size_t
push_head(struct reencoder *r, const char *p, size_t n, struct error *err,
          int *rc)
{
	size_t room = LINE_HEAD - r->hlen;
	size_t take = n < room ? n : room;
	const char *lf = memchr(p, '\n', take);
	size_t len;

	*rc = 0;
	if (lf)
		take = (size_t)(lf - p) + 1;
	memcpy(r->head + r->hlen, p, take);
	r->hlen += take;
	if (lf) {
		len = r->hlen - 1;
		if (len > 0 && r->head[len - 1] == '\r')
			len--;
		r->hlen = 0;
		*rc = line_start(r, r->head, len, true, err);
		if (*rc == 0)
			*rc = line_end(r, true, err);
	} else if (r->hlen == LINE_HEAD) {
		len = r->hlen;
		r->held_cr = r->head[len - 1] == '\r';
		if (r->held_cr)
			len--;
		r->hlen = 0;
		r->in_tail = true;
		*rc = line_start(r, r->head, len, false, err);
	}
	return take;
}

int
reencode_push(struct reencoder *r, const char *p, size_t n, struct error *err)
{
	while (n > 0) {
		int rc;
		size_t used = r->in_tail ? push_tail(r, p, n, err, &rc)
		                         : push_head(r, p, n, err, &rc);

		if (rc < 0)
			return -1;
		p += used;
		n -= used;
	}
	return 0;
}

int
reencode_finish(struct reencoder *r, bool eol_added, struct error *err)
{
	/* A last line without CRLF (crlf.h always adds one; be safe). */
	if (r->in_tail) {
		if (r->held_cr && line_bytes(r, "\r", 1, err) < 0)
			return -1;
		if (line_end(r, false, err) < 0)
			return -1;
	} else if (r->hlen > 0) {
		if (line_start(r, r->head, r->hlen, true, err) < 0 ||
		    line_end(r, false, err) < 0)
			return -1;
	}
	r->in_tail = false;
	r->hlen = 0;
	if (r->in_header && header_end(r, err) < 0)
		return -1;
	if (leaf_end(r, true, eol_added, err) < 0)
		return -1;
	return wrap_flush(r, err);
}

/* --- the object ---------------------------------------------------------- */

struct reencoder *
reencode_new(const struct header_block *top)
{
	struct reencoder *r = xcalloc(1, sizeof *r);
	bool planned;

	header_init(&r->hb);
	buf_init(&r->hline, HEADER_BLOCK_MAX);
	read_entity(top, false, &r->top);
	body_begin(r, &r->top, &planned);
	return r;
}

void
reencode_free(struct reencoder *r)
{
	if (!r)
		return;
	header_clear(&r->hb);
	buf_clear(&r->hline);
	free(r->plan);
	free(r);
}

bool
reencode_needed(const struct reencoder *r)
{
	return r->changes;
}

void
reencode_rewrite(struct reencoder *r, const struct reencode_sink *sink)
{
	bool planned;

	walk_reset(r);
	r->rewriting = true;
	r->sink = *sink;
	body_begin(r, &r->top, &planned);
}

int
reencode_edit_top(const struct reencoder *r, struct header_block *top,
                  struct error *err)
{
	/* The top entity is leaf 0 when it is a leaf at all. */
	if (r->top.multipart || r->top.message || r->top.opaque ||
	    r->nplan == 0 || r->plan[0].index != 0 ||
	    r->top.cte != CTE_IDENTITY)
		return 0;
	return edit_for_qp(top, true, r->plan[0].charset, err);
}
