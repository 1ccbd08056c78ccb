/*
 * queuefile_test.c - a queue entry's envelope as text (queuefile.c): ids,
 * every byte of a value given back as it was (escapes for '%' and
 * control characters, nothing else), the ceiling, the in-place parser
 * alike, and DSN values RFC 3461 does not allow refused.  No file is
 * touched: the queue's files are queue_test's.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "queuefile.h"
#include "unit.h"
#include "util.h"

static void
test_id_valid(void)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
	    {"65543f009b3d4e7f", true},  {"0000000000000000", true},
	    {"ffffffffffffffff", true},  {"65543F009b3d4e7f", false},
	    {"65543f009b3d4e7", false},  {"65543f009b3d4e7f0", false},
	    {"65543f009b3d4e7g", false}, {"", false},
	    {"../../etc/passwd", false}, {"65543f009b3d4e7/", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK_INT(queue_id_valid(cases[i].s), cases[i].ok);
	CHECK(!queue_id_valid(NULL));
}

/* NOTIFY and RET go on the MAIL and RCPT lines as they are: a value with a
 * space (a parameter of the writer's own, such as AUTH=) makes the entry
 * damaged, and is never stored. */
static void
test_envelope_dsn_values(void)
{
	static const char *const bad[] = {
	    "dsn-return: FULL AUTH=<ceo@example.org>\n",
	    "dsn-return: NONE\n",
	    "dsn-notify: SUCCESS XFOO=1\n",
	    "dsn-notify: SUCCESS,\n",
	};
	struct queue_envelope e;
	struct error err;
	char text[512];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
		         "version: 1\nid: 6553f10000c0ffee\nsender: s@x\n"
		         "rcpt: r@x\n%screated: 1\nsize: 1\n",
		         bad[i]);
		queue_envelope_init(&e);
		error_clear(&err);
		CHECK_INT(queuefile_parse(text, strlen(text),
		                          "6553f10000c0ffee", &e, &err),
		          -1);
		CHECK(strstr(err.msg, "a DSN value is not one RFC 3461 "
		                      "allows") != NULL);
		queue_envelope_clear(&e);
	}
	/* The ENVID goes as xtext: any bytes (-bs decodes it). */
	snprintf(text, sizeof text,
	         "version: 1\nid: 6553f10000c0ffee\nsender: s@x\nrcpt: r@x\n"
	         "dsn-notify: success,DELAY\ndsn-return: hdrs\n"
	         "dsn-envid: a b=c\ncreated: 1\nsize: 1\n");
	queue_envelope_init(&e);
	CHECK_INT(
	    queuefile_parse(text, strlen(text), "6553f10000c0ffee", &e, &err),
	    0);
	queue_envelope_clear(&e);
}

/* Every byte but NUL comes back: '%', CR, LF, DEL and other control
 * bytes as %XX, spaces, quotes, a leading '-' and UTF-8 as they are. */
static void
test_format_parse_bytes(void)
{
	static const char sender[] = "-odd \"q\"%41@example.org";
	static const char rcpt[] = "caf\xc3\xa9 x@example.org";
	static const char error_line[] = "451 a\r\nb\x7f\x01%";
	static const char want[] = "version: 1\n"
	                           "id: 6553f10000c0ffee\n"
	                           "account: \n"
	                           "port: 0\n"
	                           "sender: -odd \"q\"%2541@example.org\n"
	                           "rcpt: caf\xc3\xa9 x@example.org\n"
	                           "priority: -9\n"
	                           "created: 1700000000\n"
	                           "attempts: 4\n"
	                           "last-attempt: 0\n"
	                           "next-attempt: 0\n"
	                           "last-error: 451 a%0D%0Ab%7F%01%25\n"
	                           "size: 42\n"
	                           "8bit: 1\n"
	                           "nul: 1\n";
	struct queue_envelope e, back, again;
	struct error err;
	struct buf b;
	char *copy;

	queue_envelope_init(&e);
	str_copy(e.id, sizeof e.id, "6553f10000c0ffee");
	envelope_set_sender(&e.env, sender);
	envelope_add_rcpt(&e.env, rcpt);
	e.env.priority = -9;
	e.created = 1700000000;
	e.attempts = 4;
	e.last_error = xstrdup(error_line);
	e.size = 42;
	e.has_8bit = true;
	e.has_nul = true;
	CHECK_INT(queuefile_format(&e, &b, &err), 0);
	CHECK_MEM(b.data, b.len, want, sizeof want - 1);

	queue_envelope_init(&back);
	CHECK_INT(queuefile_parse(b.data, b.len, e.id, &back, &err), 0);
	CHECK_STR(back.id, e.id);
	CHECK_STR(back.env.account, "");
	CHECK_STR(back.env.sender, sender);
	CHECK_INT(back.env.nrcpts, 1);
	if (back.env.nrcpts == 1)
		CHECK_STR(back.env.rcpts[0].addr, rcpt);
	CHECK_INT(back.env.priority, -9);
	CHECK_INT(back.created, 1700000000);
	CHECK_INT(back.attempts, 4);
	CHECK_STR(back.last_error, error_line);
	CHECK_INT(back.size, 42);
	CHECK(back.has_8bit);
	CHECK(back.has_nul);

	/* The in-place parser reads the same, and the text is its own. */
	copy = xmalloc(b.len + 1);
	memcpy(copy, b.data, b.len);
	queue_envelope_init(&again);
	CHECK_INT(queuefile_parse_in_place(copy, b.len, e.id, &again, &err), 0);
	CHECK_STR(again.env.sender, sender);
	CHECK_STR(again.last_error, error_line);
	free(copy);

	/* Read as another entry's, it is refused. */
	queue_envelope_clear(&again);
	CHECK_INT(
	    queuefile_parse(b.data, b.len, "6553f10000c0ffef", &again, &err),
	    -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_STR(err.msg, "queue entry 6553f10000c0ffef: bad envelope: its "
	                   "id is not the name of its directory");

	queue_envelope_clear(&again);
	queue_envelope_clear(&back);
	queue_envelope_clear(&e);
	buf_clear(&b);
}

/* An envelope whose text would pass QUEUE_ENVELOPE_MAX is not written. */
static void
test_format_ceiling(void)
{
	struct queue_envelope e;
	struct error err;
	struct buf b;
	char *big = xmalloc(QUEUE_ENVELOPE_MAX);

	memset(big, 'a', QUEUE_ENVELOPE_MAX - 1);
	big[QUEUE_ENVELOPE_MAX - 1] = '\0';
	queue_envelope_init(&e);
	str_copy(e.id, sizeof e.id, "6553f10000c0ffee");
	envelope_set_sender(&e.env, big);
	envelope_add_rcpt(&e.env, "r@example.org");
	CHECK_INT(queuefile_format(&e, &b, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(strstr(err.msg, "would pass") != NULL);
	queue_envelope_clear(&e);
	free(big);
}

int
main(void)
{
	test_id_valid();
	test_envelope_dsn_values();
	test_format_parse_bytes();
	test_format_ceiling();
	return unit_done();
}
