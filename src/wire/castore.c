/*
 * castore.c - CA certificates of a PEM file, indexed by subject (see
 * castore.h).
 *
 * A block in the layout every PEM writer uses (lines of 64 characters,
 * LF; struct pem_layout) is not decoded: each of its bytes stands at a
 * known character, so only the headers of the fields before the subject
 * and the subject itself are (index_by_layout; 0.3 M instructions fewer
 * for Debian's 146 CAs than decoding the first 256 or 512 bytes of
 * each).  Any other layout, or a block that is not quite that layout, is
 * read line by line and decoded as far as the subject (index_block).
 * Either way the DER is walked by hand as far as the subject, per RFC
 * 5280 4.1:
 *
 *   Certificate ::= SEQUENCE { tbsCertificate SEQUENCE {
 *       [0] EXPLICIT version OPTIONAL, serialNumber INTEGER,
 *       signature AlgorithmIdentifier (SEQUENCE), issuer Name (SEQUENCE),
 *       validity SEQUENCE, subject Name (SEQUENCE), ... }, ... }
 *
 * Every length is checked against the bytes that hold it before it is
 * used, and the outer SEQUENCE must span the decoded bytes exactly, so a
 * cut or padded block is refused rather than read past.
 */
#include "config.h"

#include "castore.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encode.h"
#include "util.h"

static const char begin_line[] = "-----BEGIN CERTIFICATE-----";
static const char end_mark[] = "-----END ";
static const char end_line[] = "-----END CERTIFICATE-----";

/* DER tags (X.690 8.1.2): universal SEQUENCE and INTEGER, and the
 * context-specific constructed [0] of tbsCertificate's version. */
#define DER_SEQUENCE 0x30
#define DER_INTEGER 0x02
#define DER_VERSION 0xa0
/* Long-form lengths of up to three octets: 16 MiB, more than any
 * certificate (CASTORE_CERT_MAX). */
#define DER_LENGTH_OCTETS_MAX 3
/* How much of a block is decoded to find its subject the quick way, in
 * two steps: the subjects of the 144 CAs of Debian 12's store end by byte
 * 489, half of them by 257; a later one costs a decoding of the whole
 * block. */
#define CASTORE_PREFIX_FIRST 256
#define CASTORE_PREFIX 512

struct castore_cert {
	size_t begin; /* offset of its BEGIN line in text */
	size_t body;  /* its base64 text: offset and length */
	size_t body_len;
	size_t dn; /* its subject: offset in dns, and length */
	size_t dn_len;
	/* Not 0: the block is in PEM's regular layout with lines of this
	 * width, and its subject is decoded only when asked for: dn is its
	 * offset in the DER. */
	size_t width;
};

struct castore {
	char *text;
	size_t len;
	bool mapped; /* text is the file's mapping (castore_open) */
	struct castore_cert *certs;
	size_t n, cap;
	unsigned char *dns; /* every subject, one after another */
	size_t dns_len, dns_cap;
	/* index_all's decoding buffer, kept here so that a jump out of it
	 * (guarded, below) leaves it to castore_free, not leaked. */
	unsigned char *scratch;
	size_t scratch_size;
};

/* The decoded size of in[0..len-1] when it is laid out as PEM writes it
 * (lines of base64 ended by LF or CRLF, '=' padding at the end): chars
 * characters on its lines, the padding counted back from its end.
 * SIZE_MAX when that cannot be whole quanta.  Only a guess for other
 * layouts: the caller checks it against the DER and decodes everything
 * when they disagree. */
static size_t
b64_size(const char *in, size_t len, size_t chars)
{
	const char *end = in + len;
	size_t pad = 0;

	while (end > in && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	while (pad < 2 && end > in && end[-1] == '=') {
		end--;
		pad++;
	}
	if (chars % 4 != 0 || chars == 0)
		return SIZE_MAX;
	return chars / 4 * 3 - pad;
}

/* --- DER, only as far as the subject --- */

/* A block laid out as PEM writers lay it out: after the BEGIN line, lines
 * of `width` base64 characters (a multiple of four) each ended by LF, the
 * last one as long or shorter, then the END line.  Character c of the
 * base64 text then stands at a known place, and so does every byte of
 * the DER: byte k is in the quad of characters 4 * (k / 3). */
struct pem_layout {
	const char *text; /* the first base64 character */
	size_t width;
	size_t chars; /* base64 characters, padding included */
};

/* How much is decoded at a time to read DER headers (tag and length),
 * and at first: the first line of 64 characters, which holds the headers
 * as far as the issuer's in most certificates. */
#define PEM_WINDOW 8
#define PEM_FIRST 48

/* A certificate of len bytes of which the first avail are decoded; or,
 * when pem is set, whose bytes are decoded from it a window at a time. */
struct der_view {
	const unsigned char *der;
	size_t len, avail;
	bool needs_more; /* a field lies past avail */
	const struct pem_layout *pem;
	unsigned char win[PEM_FIRST + 4];
	size_t win_at, win_len;
};

static const char *
pem_char(const struct pem_layout *l, size_t c)
{
	return l->text + c / l->width * (l->width + 1) + c % l->width;
}

/* DER bytes [from, from + n) (within the certificate) decoded into out,
 * which has room for n + 4: where they begin in out, or SIZE_MAX when a
 * character there is not base64 or is padding (the slow way then says
 * which).  A quad never spans two lines: width is a multiple of four. */
static size_t
pem_decode(const struct pem_layout *l, size_t from, size_t n,
           unsigned char *out)
{
	size_t q = from / 3, q1 = (from + n + 2) / 3, per_line = l->width / 4;

	for (unsigned char *o = out; q < q1;) {
		size_t k = per_line - q % per_line;

		if (k > q1 - q)
			k = q1 - q;
		if (b64_decode_quads(pem_char(l, 4 * q), k, o) != 3 * k)
			return SIZE_MAX;
		o += 3 * k;
		q += k;
	}
	return from % 3;
}

/* The window of a view over a PEM layout moved to p (no further than its
 * characters reach), and the byte there. */
static bool
pem_byte(struct der_view *v, size_t p, unsigned char *b)
{
	size_t n = v->len - p < PEM_WINDOW ? v->len - p : PEM_WINDOW;
	size_t there = v->pem->chars / 4 * 3, skip;

	if (p >= there)
		return false;
	if (n > there - p)
		n = there - p;
	skip = pem_decode(v->pem, p, n, v->win);
	if (skip == SIZE_MAX)
		return false;
	memmove(v->win, v->win + skip, n);
	v->win_at = p;
	v->win_len = n;
	*b = v->win[0];
	return true;
}

/* The byte at p, or false (and needs_more when it merely is not decoded
 * yet). */
static inline bool
der_byte(struct der_view *v, size_t p, size_t end, unsigned char *b)
{
	if (p >= end)
		return false;
	if (v->pem) {
		if (p - v->win_at < v->win_len) {
			*b = v->win[p - v->win_at];
			return true;
		}
		return pem_byte(v, p, b);
	}
	if (p >= v->avail) {
		v->needs_more = true;
		return false;
	}
	*b = v->der[p];
	return true;
}

/* The element at *pos must have tag `tag` and end by `end`: its
 * content's offset and length, and *pos moved past it. */
static bool
der_element(struct der_view *v, size_t end, size_t *pos, unsigned char tag,
            size_t *content, size_t *len)
{
	size_t p = *pos, n;
	unsigned char t, b;

	if (!der_byte(v, p, end, &t) || t != tag ||
	    !der_byte(v, p + 1, end, &b))
		return false;
	p += 2;
	n = b;
	if (b & 0x80) {
		size_t octets = b & 0x7f;

		/* 0x80 is BER's indefinite length, never DER. */
		if (octets == 0 || octets > DER_LENGTH_OCTETS_MAX)
			return false;
		n = 0;
		for (size_t k = 0; k < octets; k++) {
			if (!der_byte(v, p++, end, &b))
				return false;
			n = n << 8 | b;
		}
	}
	if (n > end - p)
		return false;
	*content = p;
	*len = n;
	*pos = p + n;
	return true;
}

/* The issuer and subject of the certificate: offsets of the Names' tags,
 * and their lengths with tag and length. */
static bool
der_names(struct der_view *v, size_t name[2], size_t name_len[2])
{
	size_t pos = 0, c, n, tbs_end;
	unsigned char t;

	/* The certificate is the whole block, nothing after it. */
	if (!der_element(v, v->len, &pos, DER_SEQUENCE, &c, &n) ||
	    pos != v->len)
		return false;
	pos = c;
	if (!der_element(v, c + n, &pos, DER_SEQUENCE, &c, &n))
		return false;
	tbs_end = pos;
	pos = c;
	if (!der_byte(v, pos, tbs_end, &t) ||
	    (t == DER_VERSION &&
	     !der_element(v, tbs_end, &pos, DER_VERSION, &c, &n)))
		return false;
	if (!der_element(v, tbs_end, &pos, DER_INTEGER, &c, &n) ||
	    !der_element(v, tbs_end, &pos, DER_SEQUENCE, &c, &n))
		return false;
	for (int k = 0; k < 2; k++) {
		name[k] = pos;
		if (!der_element(v, tbs_end, &pos, DER_SEQUENCE, &c, &n))
			return false;
		/* A name is read whole: its content decoded too. */
		if (pos > v->avail) {
			v->needs_more = true;
			return false;
		}
		name_len[k] = pos - name[k];
		/* validity, between issuer and subject */
		if (k == 0 &&
		    !der_element(v, tbs_end, &pos, DER_SEQUENCE, &c, &n))
			return false;
	}
	return true;
}

bool
castore_names(const unsigned char *der, size_t len, size_t name[2],
              size_t name_len[2])
{
	struct der_view v = {.der = der, .len = len, .avail = len};

	return der_names(&v, name, name_len);
}

/* DER tags of a Time (RFC 5280 4.1.2.5). */
#define DER_UTC_TIME 0x17
#define DER_GENERALIZED_TIME 0x18

/* digits[0..n-1] as a number, or -1 when one is not a digit. */
static int
der_digits(const unsigned char *d, size_t n)
{
	int v = 0;

	for (size_t k = 0; k < n; k++) {
		if (d[k] < '0' || d[k] > '9')
			return -1;
		v = v * 10 + (d[k] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil), so that no time zone is consulted. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* A Time's content, t[0..n-1], of type tag, as seconds; -1 when not in
 * RFC 5280's form. */
static int64_t
der_time(unsigned char tag, const unsigned char *t, size_t n)
{
	static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30,
	                                      31, 31, 30, 31, 30, 31};
	size_t y = tag == DER_UTC_TIME ? 2 : 4;
	int year, mon, day, h, min, sec;

	if (n != y + 11 || t[n - 1] != 'Z')
		return -1;
	year = der_digits(t, y);
	mon = der_digits(t + y, 2);
	day = der_digits(t + y + 2, 2);
	h = der_digits(t + y + 4, 2);
	min = der_digits(t + y + 6, 2);
	sec = der_digits(t + y + 8, 2);
	if (year < 0 || mon < 1 || mon > 12 || day < 1 ||
	    day > mdays[mon - 1] || h < 0 || h > 23 || min < 0 || min > 59 ||
	    sec < 0 || sec > 59)
		return -1;
	if (tag == DER_UTC_TIME)
		year += year >= 50 ? 1900 : 2000;
	/* GnuTLS says 0 before 1970; and 9999 has no well-defined end. */
	if (year < 1970 || year == 9999 ||
	    (mon == 2 && day == 29 &&
	     (year % 4 != 0 || (year % 100 == 0 && year % 400 != 0))))
		return -1;
	return days_from_civil(year, mon, day) * 86400 + h * 3600 + min * 60 +
	       sec;
}

int64_t
castore_not_after(const unsigned char *der, size_t len)
{
	struct der_view v = {.der = der, .len = len, .avail = len};
	size_t name[2], name_len[2], pos, end, c, n;
	unsigned char tag;

	if (!der_names(&v, name, name_len))
		return -1;
	/* validity SEQUENCE { notBefore Time, notAfter Time } */
	pos = name[0] + name_len[0];
	if (!der_element(&v, name[1], &pos, DER_SEQUENCE, &c, &n))
		return -1;
	end = c + n;
	pos = c;
	for (int k = 0; k < 2; k++) {
		if (!der_byte(&v, pos, end, &tag) ||
		    (tag != DER_UTC_TIME && tag != DER_GENERALIZED_TIME) ||
		    !der_element(&v, end, &pos, tag, &c, &n))
			return -1;
	}
	return pos == end ? der_time(tag, der + c, n) : -1;
}

/* --- the file --- */

static size_t
line_of(const struct castore *s, size_t offset)
{
	size_t line = 1;

	for (const char *p = s->text, *end = s->text + offset;
	     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		line++;
	return line;
}

static int
refuse(struct castore *s, size_t begin, const char *why, struct error *err)
{
	return error_set(err, ERROR_CONFIG, "certificate %zu (line %zu): %s",
	                 s->n + 1, line_of(s, begin), why);
}

static void
add_subject(struct castore *s, struct castore_cert *c, const unsigned char *dn,
            size_t len)
{
	if (s->dns_len + len > s->dns_cap) {
		s->dns_cap = (s->dns_len + len) * 2;
		s->dns = xrealloc(s->dns, s->dns_cap);
	}
	memcpy(s->dns + s->dns_len, dn, len);
	c->dn = s->dns_len;
	c->dn_len = len;
	s->dns_len += len;
}

static struct castore_cert *
add_block(struct castore *s, size_t begin, size_t body, size_t len)
{
	struct castore_cert *c;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->certs = xrealloc(s->certs, s->cap * sizeof *s->certs);
	}
	c = &s->certs[s->n++];
	*c = (struct castore_cert){
	    .begin = begin, .body = body, .body_len = len};
	return c;
}

static void
add_cert(struct castore *s, size_t begin, size_t body, size_t len,
         const unsigned char *dn, size_t dn_len)
{
	add_subject(s, add_block(s, begin, body, len), dn, dn_len);
}

/* The quickest way, for a block in the layout of struct pem_layout whose
 * base64 text starts at text[body]: its END line is the first '-' after
 * it (no base64 character is one), the certificate's length is read from
 * its first quads and must give exactly that layout, and then only the
 * headers of the fields before the subject and the subject itself are
 * decoded.  *end is set to the END line's offset.  False when any of it
 * does not hold: the line-by-line way then decides, as it always did. */
static bool
index_by_layout(struct castore *s, size_t begin, size_t body, size_t *end)
{
	const char *t = s->text + body, *stop = s->text + s->len, *dash, *nl;
	struct pem_layout l;
	struct der_view v = {.pem = &l, .len = CASTORE_CERT_MAX};
	struct castore_cert *c;
	size_t name[2], name_len[2], lines, at, n;

	dash = memchr(t, '-', (size_t)(stop - t));
	if (!dash || *t != '\n' || dash[-1] != '\n' ||
	    (size_t)(stop - dash) < sizeof end_line - 1 ||
	    memcmp(dash, end_line, sizeof end_line - 1) != 0)
		return false;
	l.text = t + 1;
	nl = memchr(l.text, '\n', (size_t)(dash - l.text));
	if (!nl || (size_t)(nl - l.text) < 8 || (nl - l.text) % 4 != 0)
		return false;
	l.width = (size_t)(nl - l.text);
	/* The outer SEQUENCE's header, from the first line, decoded whole
	 * when it is no shorter than usual. */
	l.chars = l.width;
	v.avail = v.len;
	if (l.width / 4 * 3 >= PEM_FIRST &&
	    b64_decode_quads(l.text, PEM_FIRST / 3, v.win) == PEM_FIRST)
		v.win_len = PEM_FIRST;
	if (!der_element(&v, v.len, &(size_t){0}, DER_SEQUENCE, &at, &n))
		return false;
	v.len = at + n;
	l.chars = (v.len + 2) / 3 * 4;
	lines = (l.chars + l.width - 1) / l.width;
	if (l.text + l.chars + lines != dash)
		return false;
	for (size_t k = 1; k < lines; k++)
		if (l.text[k * (l.width + 1) - 1] != '\n')
			return false;
	/* Exactly as much padding as the length needs: a certificate cut
	 * by a byte or two has as many characters, and one more '='. */
	for (size_t k = 1, pad = (3 - v.len % 3) % 3; k <= pad + 1; k++)
		if ((*pem_char(&l, l.chars - k) == '=') != (k <= pad))
			return false;
	v.avail = v.len;
	if (!der_names(&v, name, name_len))
		return false;
	c = add_block(s, begin, body, (size_t)(dash - t));
	c->dn = name[1];
	c->dn_len = name_len[1];
	c->width = l.width;
	*end = (size_t)(dash - s->text);
	return true;
}

/* The quick way, for a block laid out as PEM writes it: its size from
 * its line lengths and only its first CASTORE_PREFIX bytes decoded (the
 * subject comes early).  False when that does not settle it. */
static bool
index_quickly(struct castore *s, size_t begin, size_t body, size_t len,
              size_t chars, unsigned char *scratch)
{
	struct der_view v = {.der = scratch,
	                     .len = b64_size(s->text + body, len, chars)};
	size_t name[2], name_len[2], at = 0, more;
	const char *why = NULL;

	if (v.len == SIZE_MAX || v.len > CASTORE_CERT_MAX)
		return false;
	v.avail = b64_decode_text(s->text + body, len, &at, scratch,
	                          CASTORE_PREFIX_FIRST, &why);
	if (v.avail == SIZE_MAX || v.avail > v.len)
		return false;
	if (!der_names(&v, name, name_len)) {
		if (!v.needs_more || v.avail < CASTORE_PREFIX_FIRST)
			return false;
		more =
		    b64_decode_text(s->text + body, len, &at, scratch + v.avail,
		                    CASTORE_PREFIX - v.avail, &why);
		if (more == SIZE_MAX || (v.avail += more) > v.len)
			return false;
		v.needs_more = false;
		if (!der_names(&v, name, name_len))
			return false;
	}
	add_cert(s, begin, body, len, scratch + name[1], name_len[1]);
	return true;
}

/* One block whose BEGIN line is at text[begin] and whose base64 text is
 * text[body..body+len-1]; scratch has room for its decoded bytes.  The
 * quick way first; else every byte decoded, which also names what is
 * wrong. */
static int
index_block(struct castore *s, size_t begin, size_t body, size_t len,
            size_t chars, unsigned char *scratch, struct error *err)
{
	const char *why = NULL;
	struct der_view v = {.der = scratch};
	size_t name[2], name_len[2], at = 0;

	if (index_quickly(s, begin, body, len, chars, scratch))
		return 0;
	v.len = v.avail =
	    b64_decode_text(s->text + body, len, &at, scratch, SIZE_MAX, &why);
	if (v.len == SIZE_MAX)
		return refuse(s, begin, why, err);
	if (v.len > CASTORE_CERT_MAX)
		return refuse(s, begin, "larger than any certificate (64 KiB)",
		              err);
	if (!der_names(&v, name, name_len))
		return refuse(s, begin,
		              v.len == 0 ? "the block is empty"
		                         : "not a DER certificate (a length or "
		                           "a field before the subject is "
		                           "wrong)",
		              err);
	add_cert(s, begin, body, len, scratch + name[1], name_len[1]);
	return 0;
}

/* The end of the block whose base64 text starts at body: the offset of
 * its END line, found by walking the lines (which also counts their
 * characters for b64_size), or the reason there is none. */
static int
block_end(struct castore *s, size_t begin, size_t body, size_t *end,
          size_t *chars, struct error *err)
{
	const char *p = s->text + body, *stop = s->text + s->len;

	*chars = 0;
	while (p < stop) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		const char *e = nl ? nl : stop;

		if (*p == '-' && (size_t)(e - p) >= sizeof end_mark - 1 &&
		    memcmp(p, end_mark, sizeof end_mark - 1) == 0) {
			*end = (size_t)(p - s->text);
			if ((size_t)(stop - p) < sizeof end_line - 1 ||
			    memcmp(p, end_line, sizeof end_line - 1) != 0)
				return refuse(
				    s, begin,
				    "it ends with another -----END "
				    "line than -----END CERTIFICATE-----",
				    err);
			return 0;
		}
		*chars += (size_t)(e - p) - (e > p && e[-1] == '\r');
		p = nl ? nl + 1 : stop;
	}
	return refuse(s, begin, "no -----END CERTIFICATE----- line", err);
}

/* The next BEGIN line at or after pos: what memmem finds, without its
 * set-up for each block (a bundle's next block starts at once). */
static const char *
find_begin(const struct castore *s, size_t pos)
{
	const char *p = s->text + pos, *stop = s->text + s->len;

	while ((p = memchr(p, '-', (size_t)(stop - p))) != NULL) {
		if ((size_t)(stop - p) >= sizeof begin_line - 1 &&
		    memcmp(p, begin_line, sizeof begin_line - 1) == 0)
			return p;
		p++;
	}
	return NULL;
}

static int
index_all(struct castore *s, struct error *err)
{
	size_t pos = 0;
	int rc = 0;

	for (;;) {
		const char *b = find_begin(s, pos);
		size_t begin, body, end = 0, chars = 0;

		if (!b)
			break;
		begin = (size_t)(b - s->text);
		body = begin + sizeof begin_line - 1;
		if (!index_by_layout(s, begin, body, &end)) {
			if ((rc = block_end(s, begin, body, &end, &chars,
			                    err)) < 0)
				break;
			if ((end - body) / 4 * 3 + 3 > s->scratch_size) {
				s->scratch_size = (end - body) / 4 * 3 + 3;
				s->scratch =
				    xrealloc(s->scratch, s->scratch_size);
			}
			if ((rc = index_block(s, begin, body, end - body, chars,
			                      s->scratch, err)) < 0)
				break;
		}
		pos = end + sizeof end_line - 1;
	}
	free(s->scratch);
	s->scratch = NULL;
	s->scratch_size = 0;
	return rc;
}

int
castore_scan(struct castore **out, const char *text, size_t len,
             struct error *err)
{
	struct castore *s = xcalloc(1, sizeof *s);

	*out = NULL;
	s->text = xmalloc(len + 1);
	memcpy(s->text, text, len);
	s->text[len] = '\0';
	s->len = len;
	if (index_all(s, err) < 0) {
		castore_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* --- the file, mapped --- */

/* The file is mapped, not read: reading it cost a copy of every byte into
 * as many newly zeroed pages (some 55 page faults for Debian's 220 KB
 * bundle, a twelfth of a STARTTLS send's CPU here), and only its headers
 * and the few CAs a chain names are ever looked at.  But a mapped file can
 * shrink under us (another process truncating it in place): touching a
 * page past its new end raises SIGBUS, which would end the run and lose
 * the message.  So every read of a mapped text runs guarded: a SIGBUS at
 * an address inside the text jumps back to the guard, and the read fails
 * as a file cut short would ("cut_short").  Any other SIGBUS is left to
 * whatever handled it before.  One guard at a time: mailpost has one
 * thread, and nothing here calls out while guarded. */
static const char cut_short[] = "the file was cut short while it was read";

static sigjmp_buf *volatile bus_jump; /* set while a guarded read runs */
static const char *bus_lo, *bus_hi;
static struct sigaction bus_saved; /* SIGBUS's action before ours */
static size_t bus_users;           /* mapped stores alive */

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	const char *at = si->si_addr;

	(void)uc;
	if (bus_jump && si->si_code > 0 && at >= bus_lo && at < bus_hi)
		siglongjmp(*bus_jump, 1);
	/* Not a read of ours: the old action.  A fault happens again when
	 * the instruction does; a signal someone sent is sent again. */
	sigaction(sig, &bus_saved, NULL);
	if (si->si_code <= 0)
		raise(sig);
}

static void
bus_hold(void)
{
	struct sigaction sa;

	if (bus_users++ > 0)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	/* SA_NODEFER: the jump out leaves SIGBUS unblocked, without a
	 * sigsetjmp that saves the mask (a system call per guard). */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &bus_saved);
}

static void
bus_release(void)
{
	if (--bus_users == 0)
		sigaction(SIGBUS, &bus_saved, NULL);
}

/* Run work(arg), which reads s's text, guarded when the text is mapped:
 * false when the file was cut short under it (work did not finish). */
static bool
guarded(const struct castore *s, void (*work)(void *), void *arg)
{
	sigjmp_buf here;

	if (!s->mapped) {
		work(arg);
		return true;
	}
	if (sigsetjmp(here, 0) != 0) {
		bus_jump = NULL;
		return false;
	}
	bus_lo = s->text;
	bus_hi = s->text + s->len;
	bus_jump = &here;
	work(arg);
	bus_jump = NULL;
	return true;
}

/* The regular file on fd (at most CASTORE_FILE_MAX bytes), mapped into
 * s; read whole when it cannot be mapped. */
static int
map_file(struct castore *s, int fd, struct error *err)
{
	struct stat st;
	size_t size, got = 0;
	void *map;

	if (fstat(fd, &st) < 0)
		return error_set(err, ERROR_CONFIG, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error_set(err, ERROR_CONFIG, "%s",
		                 S_ISDIR(st.st_mode)
		                     ? "it is a directory"
		                     : "it is not a regular file");
	if (st.st_size > CASTORE_FILE_MAX)
		return error_set(err, ERROR_CONFIG, "it is larger than %d MiB",
		                 CASTORE_FILE_MAX >> 20);
	size = (size_t)st.st_size;
	if (size == 0) {
		s->text = xmalloc(1);
		return 0;
	}
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map != MAP_FAILED) {
		s->text = map;
		s->len = size;
		s->mapped = true;
		bus_hold();
		return 0;
	}
	/* A file system that cannot map: read what fstat said, and no
	 * more (a file that grew meanwhile is read as it was). */
	s->text = xmalloc(size);
	while (got < size) {
		ssize_t n = fd_read(fd, s->text + got, size - got);

		if (n < 0)
			return error_set(err, ERROR_CONFIG, "%s",
			                 strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	s->len = got;
	return 0;
}

struct index_work {
	struct castore *s;
	struct error *err;
	int rc;
};

static void
index_work(void *arg)
{
	struct index_work *w = arg;

	w->rc = index_all(w->s, w->err);
}

int
castore_open(struct castore **out, const char *path, struct error *err)
{
	struct castore *s;
	struct index_work w = {NULL, err, -1};
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	*out = NULL;
	if (fd < 0)
		return error_set(err, ERROR_CONFIG, "%s", strerror(errno));
	s = w.s = xcalloc(1, sizeof *s);
	if (map_file(s, fd, err) < 0) {
		close(fd);
		castore_free(s);
		return -1;
	}
	close(fd);
	if (!guarded(s, index_work, &w))
		w.rc = error_set(err, ERROR_CONFIG, "%s", cut_short);
	if (w.rc < 0) {
		castore_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

size_t
castore_count(const struct castore *s)
{
	return s->n;
}

bool
castore_subject_is(const struct castore *s, size_t i, const void *dn,
                   size_t len)
{
	const struct castore_cert *c = &s->certs[i];
	unsigned char *mine;
	bool same;

	if (c->dn_len != len)
		return false;
	if (c->width == 0)
		return memcmp(s->dns + c->dn, dn, len) == 0;
	mine = castore_subject(s, i, &len);
	same = !mine || memcmp(mine, dn, len) == 0;
	free(mine);
	return same;
}

/* The reads of the text behind the accessors below, for guarded(). */
struct text_work {
	const struct castore *s;
	const struct castore_cert *c;
	unsigned char *out;
	size_t n; /* what the read returned */
	const char **why;
};

static void
decode_subject(void *arg)
{
	struct text_work *w = arg;
	struct pem_layout l = {w->s->text + w->c->body + 1, w->c->width, 0};

	w->n = pem_decode(&l, w->c->dn, w->c->dn_len, w->out);
}

static void
decode_der(void *arg)
{
	struct text_work *w = arg;
	size_t at = 0;

	w->n = b64_decode_text(w->s->text + w->c->body, w->c->body_len, &at,
	                       w->out, SIZE_MAX, w->why);
}

static void
count_lines(void *arg)
{
	struct text_work *w = arg;

	w->n = line_of(w->s, w->c->begin);
}

unsigned char *
castore_subject(const struct castore *s, size_t i, size_t *len)
{
	const struct castore_cert *c = &s->certs[i];
	struct text_work w = {s, c, xmalloc(c->dn_len + 4), 0, NULL};

	*len = c->dn_len;
	if (c->width == 0)
		memcpy(w.out, s->dns + c->dn, c->dn_len);
	else if (!guarded(s, decode_subject, &w) || w.n == SIZE_MAX) {
		free(w.out);
		return NULL;
	}
	memmove(w.out, w.out + w.n, c->dn_len);
	return w.out;
}

unsigned char *
castore_der(const struct castore *s, size_t i, size_t *len, const char **why)
{
	const struct castore_cert *c = &s->certs[i];
	struct text_work w = {s, c, xmalloc(c->body_len / 4 * 3 + 3), 0, why};

	/* Only its beginning was read when the file was: the rest may
	 * still be bad. */
	if (!guarded(s, decode_der, &w)) {
		*why = cut_short;
		w.n = SIZE_MAX;
	}
	*len = w.n;
	if (*len == SIZE_MAX) {
		free(w.out);
		return NULL;
	}
	return w.out;
}

size_t
castore_line(const struct castore *s, size_t i)
{
	struct text_work w = {s, &s->certs[i], NULL, 0, NULL};

	return guarded(s, count_lines, &w) ? w.n : 0;
}

void
castore_free(struct castore *s)
{
	if (!s)
		return;
	if (s->mapped) {
		munmap(s->text, s->len);
		bus_release();
	} else
		free(s->text);
	free(s->certs);
	free(s->dns);
	free(s->scratch);
	free(s);
}
