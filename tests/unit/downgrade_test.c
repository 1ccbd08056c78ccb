/*
 * downgrade_test.c - UTF-8 header fields for a server without SMTPUTF8
 * (downgrade.c): what is rewritten, what is refused, and the stream that
 * puts the new header in front of the body.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "downgrade.h"
#include "error.h"
#include "header.h"
#include "header_text.h"
#include "memstream.h"
#include "unit.h"
#include "util.h"

static void
render(const struct header_block *h, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < h->n; i++)
		buf_append(out, h->v[i].raw, h->v[i].raw_len);
}

struct field_case {
	const char *in;
	const char *want; /* NULL: refused with ERROR_UNAVAILABLE */
	const char *why;  /* in the error */
};

static const struct field_case field_cases[] = {
    {"Subject: plain\r\nTo: a@b\r\n", "Subject: plain\r\nTo: a@b\r\n", NULL},
    {"Subject: caf\xc3\xa9 au lait\r\n",
     "Subject: =?UTF-8?B?Y2Fmw6k=?= au lait\r\n", NULL},
    {"X-Note: \xc3\xa9t\xc3\xa9\r\n", "X-Note: =?UTF-8?B?w6l0w6k=?=\r\n", NULL},
    {"From: \"J\xc3\xb6rg \\\"J\\\" M\" <j@example.org>\r\n",
     "From: =?UTF-8?B?SsO2cmcgIkoi?= M <j@example.org>\r\n", NULL},
    {"To: Bob <bob@b\xc3\xbc"
     "cher.example>, c@d\r\n",
     "To: Bob <bob@xn--bcher-kva.example>, c@d\r\n", NULL},
    {"Cc: team: a@x, b@b\xc3\xbc"
     "cher.example;\r\n",
     "Cc: team: a@x, b@xn--bcher-kva.example;\r\n", NULL},
    {"To: j\xc3\xb6rg@example.org\r\n", NULL, "local part"},
    {"To: a@b (caf\xc3\xa9)\r\n", NULL, "comment"},
    {"Message-ID: <caf\xc3\xa9@x>\r\n", NULL, "Message-ID"},
    {"Subject: bad \xff\r\n", NULL, "not UTF-8"},
    {"Subject: ok\r\nContent-Type: text/plain; name=\"\xc3\xa9.txt\"\r\n", NULL,
     "Content-Type"},
};

static void
test_fields(void)
{
	for (size_t i = 0; i < sizeof field_cases / sizeof field_cases[0];
	     i++) {
		const struct field_case *t = &field_cases[i];
		struct header_block h;
		struct buf out;
		struct error err;
		int rc;

		header_from(&h, t->in);
		buf_init(&out, 1 << 20);
		error_clear(&err);
		rc = downgrade_header(&h, &err);
		render(&h, &out);
		if (t->want) {
			CHECK_INT(rc, 0);
			CHECK_STR(buf_str(&out), t->want);
			CHECK_INT(h.bytes, out.len);
		} else {
			CHECK_INT(rc, -1);
			CHECK_INT(err.kind, ERROR_UNAVAILABLE);
			CHECK(strstr(err.msg, t->why) != NULL);
			CHECK(strstr(err.msg, "SMTPUTF8") != NULL);
			CHECK_STR(buf_str(&out), t->in); /* untouched */
		}
		buf_clear(&out);
		header_clear(&h);
	}
}

/* A long list of international addresses stays under 998 per line. */
static void
test_long_list(void)
{
	struct header_block h;
	struct buf in, out;
	struct error err;

	buf_init(&in, 1 << 20);
	buf_init(&out, 1 << 20);
	buf_append_str(&in, "To: ");
	for (int i = 0; i < 100; i++)
		buf_printf(&in,
		           "%s\"M\xc3\xbcller %d\" <m%d@b\xc3\xbc"
		           "cher.example>",
		           i ? ", " : "", i, i);
	buf_append_str(&in, "\r\n");
	header_from(&h, buf_str(&in));
	CHECK_INT(downgrade_header(&h, &err), 0);
	render(&h, &out);
	CHECK(!header_has_8bit(&h));
	for (const char *p = buf_str(&out), *lf; (lf = strchr(p, '\n'));
	     p = lf + 1)
		CHECK(lf - p <= 999);
	header_clear(&h);
	buf_clear(&in);
	buf_clear(&out);
}

static void
read_whole(struct message_stream *s, struct buf *out, size_t step)
{
	char chunk[64];
	struct error err;
	ssize_t got;

	buf_reset(out);
	while ((got = s->read(s->ctx, chunk, step, &err)) > 0)
		buf_append(out, chunk, (size_t)got);
}

static void
test_stream(void)
{
	static const char msg[] =
	    "Subject: caf\xc3\xa9\r\nTo: a@b\r\n\r\nbody caf\xc3\xa9\r\n";
	static const char want[] =
	    "Subject: =?UTF-8?B?Y2Fmw6k=?=\r\nTo: a@b\r\n\r\nbody "
	    "caf\xc3\xa9\r\n";
	struct memstream m;
	struct message_stream s = memstream_of(&m, msg, sizeof msg - 1, 5);
	struct message_stream d;
	struct downgrade *dg;
	struct buf out;
	struct error err;
	bool need;

	/* small pieces, so that every path is taken; not at the start, so
	 * that a missing rewind shows */
	m.pos = 7;
	s.has_8bit = true;
	buf_init(&out, 1 << 20);
	CHECK_INT(downgrade_prepare(&dg, &s, true, &need, &err), 0);
	CHECK(need);
	CHECK(dg == NULL);
	CHECK_INT(m.pos, 0);

	CHECK_INT(downgrade_prepare(&dg, &s, false, &need, &err), 0);
	CHECK(!need);
	CHECK(dg != NULL);
	if (!dg)
		return;
	d = downgrade_stream(dg);
	CHECK_INT(d.size, sizeof want - 1);
	for (size_t step = 1; step < 40; step += 3) {
		CHECK_INT(d.rewind(d.ctx, &err), 0);
		read_whole(&d, &out, step);
		CHECK_MEM(out.data, out.len, want, sizeof want - 1);
	}
	downgrade_free(dg);

	/* all ASCII: nothing to do */
	memstream_of(&m, "To: a@b\r\n\r\n\xc3\xa9\r\n", 15, 5);
	s.size = 15;
	CHECK_INT(downgrade_prepare(&dg, &s, false, &need, &err), 0);
	CHECK(!need);
	CHECK(dg == NULL);
	buf_clear(&out);
}

int
main(void)
{
	test_fields();
	test_long_list();
	test_stream();
	return unit_done();
}
