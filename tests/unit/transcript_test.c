/*
 * transcript_test.c - the transcript's layout (transcript.h): fixed
 * columns, a multi-line reply's further lines without a time, the TLS
 * marks after the separator, the body's count per verbosity and per
 * destination, state lines only at -vvv, colours only on the terminal,
 * the AUTH exchange in clear only on a terminal that asked for it, the
 * latency column of --timing, and the result line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"
#include "unit.h"

/* A transcript into two memory files: "terminal" and "log". */
struct pair {
	char *term, *log;
	size_t term_len, log_len;
	FILE *tf, *lf;
	struct transcript *t;
};

static void
open_pair(struct pair *p, int verbosity, const struct transcript_style *st)
{
	memset(p, 0, sizeof *p);
	p->tf = open_memstream(&p->term, &p->term_len);
	p->lf = open_memstream(&p->log, &p->log_len);
	p->t = transcript_new(p->tf, verbosity, p->lf);
	if (st)
		transcript_set_style(p->t, st);
}

static void
close_pair(struct pair *p)
{
	transcript_free(p->t);
	fclose(p->tf);
	fclose(p->lf);
}

static void
free_pair(struct pair *p)
{
	free(p->term);
	free(p->log);
}

/* Every time stamp "[   0.000]" replaced by "[T]" (the time varies). */
static void
unstamp(char *s)
{
	char *p = s, *o = s;

	while (*p) {
		if (p[0] == '[' && strchr(p, ']') && strchr(p, ']') - p == 9 &&
		    p[8] >= '0' && p[8] <= '9') {
			memcpy(o, "[T]", 3);
			o += 3;
			p += 10;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
}

/* Every digit made 0: for the times and latencies, which a slow machine
 * may turn from 0 to 1 ms. */
static void
zero_digits(char *s)
{
	for (; *s; s++)
		if (*s >= '1' && *s <= '9')
			*s = '0';
}

#define LINE(s) s, strlen(s)

static void
test_layout(void)
{
	struct pair p;

	open_pair(&p, TRANSCRIPT_DIALOGUE, NULL);
	transcript_note(p.t, "Connected to %s", "x");
	transcript_server(p.t, LINE("220 hi"));
	transcript_client(p.t, LINE("EHLO me"));
	transcript_server(p.t, LINE("250-hi"));
	transcript_server(p.t, LINE("250-PIPELINING"));
	transcript_server(p.t, LINE("250 SIZE"));
	transcript_client(p.t, LINE("STARTTLS"));
	transcript_server(p.t, LINE("220 go"));
	transcript_tls(p.t, "TLS1.3", "AES");
	transcript_client(p.t, LINE("EHLO me"));
	transcript_server(p.t, LINE("250 ok\033[31m"));
	transcript_problem(p.t, "oops %d", 1);
	close_pair(&p);
	unstamp(p.term);
	CHECK_STR(p.term, "[T] === Connected to x\n"
	                  "[T] <-  220 hi\n"
	                  "[T]  -> EHLO me\n"
	                  "[T] <-  250-hi\n"
	                  "           <-  250-PIPELINING\n"
	                  "           <-  250 SIZE\n"
	                  "[T]  -> STARTTLS\n"
	                  "[T] <-  220 go\n"
	                  "[T] === -------- TLS from here: TLS1.3, AES (<~ ~> "
	                  "encrypted) --------\n"
	                  "[T]  ~> EHLO me\n"
	                  "[T] <~  250 ok?[31m\n"
	                  "[T] *** oops 1\n");
	/* the log file: the same lines */
	unstamp(p.log);
	CHECK_STR(p.log, p.term);
	free_pair(&p);
}

/* A connection lost in the middle of a reply, then another server: its
 * greeting has a time of its own, and is not timed from a command the
 * lost one never answered. */
static void
test_interrupted(void)
{
	struct transcript_style st = {.timing = true};
	struct pair p;

	open_pair(&p, TRANSCRIPT_DIALOGUE, &st);
	transcript_client(p.t, LINE("EHLO me"));
	transcript_client(p.t, LINE("NOOP"));
	transcript_server(p.t, LINE("250-hi"));
	transcript_problem(p.t, "connection lost");
	transcript_note(p.t, "Trying %s", "b");
	transcript_server(p.t, LINE("220 b"));
	close_pair(&p);
	unstamp(p.term);
	zero_digits(p.term);
	CHECK_STR(p.term, "[T]             -> EHLO me\n"
	                  "[T]             -> NOOP\n"
	                  "[T]      +0 ms <-  000-hi\n"
	                  "[T]            *** connection lost\n"
	                  "[T]            === Trying b\n"
	                  "[T]      +0 ms <-  000 b\n");
	free_pair(&p);
}

static void
test_body_and_trace(void)
{
	struct pair p;
	int v;

	for (v = TRANSCRIPT_DIALOGUE; v <= TRANSCRIPT_DEBUG; v++) {
		open_pair(&p, v, NULL);
		transcript_trace(p.t, "state %s", "A -> B");
		transcript_body(p.t, LINE("Hello"));
		transcript_body_end(p.t, 42, 1843);
		close_pair(&p);
		unstamp(p.term);
		unstamp(p.log);
		if (v == TRANSCRIPT_DIALOGUE)
			CHECK_STR(p.term, "[T] === body: 42 lines, 1.8 KiB not "
			                  "shown (-vv shows them)\n");
		else if (v == TRANSCRIPT_BODY)
			CHECK_STR(p.term, "[T]  -> Hello\n"
			                  "[T] === body: 42 lines, 1.8 KiB\n");
		else
			CHECK_STR(p.term, "[T] === state A -> B\n"
			                  "[T]  -> Hello\n"
			                  "[T] === body: 42 lines, 1.8 KiB\n");
		/* never the body nor the states in the log file */
		CHECK_STR(p.log, "[T] === body: 42 lines, 1.8 KiB not shown\n");
		free_pair(&p);
	}
	open_pair(&p, TRANSCRIPT_DIALOGUE, NULL);
	transcript_body_end(p.t, 1, 1);
	close_pair(&p);
	unstamp(p.term);
	CHECK_STR(p.term,
	          "[T] === body: 1 line, 1 byte not shown (-vv shows them)\n");
	free_pair(&p);
}

static void
test_color(void)
{
	struct transcript_style st = {.color = true};
	struct pair p;

	open_pair(&p, TRANSCRIPT_DIALOGUE, &st);
	transcript_server(p.t, LINE("220 hi"));
	transcript_client(p.t, LINE("QUIT"));
	close_pair(&p);
	CHECK(strstr(p.term, "\033[36m<-  220 hi\033[0m\n") != NULL);
	CHECK(strstr(p.term, "\033[32m -> QUIT\033[0m\n") != NULL);
	CHECK(strchr(p.log, '\033') == NULL);
	free_pair(&p);
}

static void
test_auth(void)
{
	struct transcript_style st = {.show_auth = true};
	struct pair p;

	/* without --show-auth: redacted everywhere, clear ignored */
	open_pair(&p, TRANSCRIPT_DEBUG, NULL);
	CHECK(!transcript_shows_auth(p.t));
	transcript_auth_client(p.t, "AUTH PLAIN <redacted>", "AUTH PLAIN s3");
	transcript_auth_server(p.t, "334 <redacted>", "334 c3 [decoded]");
	close_pair(&p);
	CHECK(strstr(p.term, "s3") == NULL && strstr(p.term, "c3") == NULL);
	CHECK(strstr(p.term, " -> AUTH PLAIN <redacted>\n") != NULL);
	CHECK(strstr(p.term, "<-  334 <redacted>\n") != NULL);
	free_pair(&p);

	/* with it: in clear on the terminal only */
	open_pair(&p, TRANSCRIPT_DIALOGUE, &st);
	CHECK(transcript_shows_auth(p.t));
	transcript_auth_client(p.t, "AUTH PLAIN <redacted>", "AUTH PLAIN s3");
	transcript_auth_server(p.t, "334 <redacted>", "334 c3 [decoded]");
	close_pair(&p);
	CHECK(strstr(p.term, " -> AUTH PLAIN s3\n") != NULL);
	CHECK(strstr(p.term, "<-  334 c3 [decoded]\n") != NULL);
	CHECK(strstr(p.log, "s3") == NULL && strstr(p.log, "c3") == NULL);
	CHECK(strstr(p.log, " -> AUTH PLAIN <redacted>\n") != NULL);
	free_pair(&p);

	/* no terminal transcript (verbosity 0): nothing shown in clear */
	open_pair(&p, TRANSCRIPT_QUIET, &st);
	CHECK(!transcript_shows_auth(p.t));
	close_pair(&p);
	free_pair(&p);
}

static void
test_timing(void)
{
	struct transcript_style st = {.timing = true};
	struct pair p;

	open_pair(&p, TRANSCRIPT_DIALOGUE, &st);
	transcript_client(p.t, LINE("EHLO me"));
	transcript_server(p.t, LINE("250-hi"));
	transcript_server(p.t, LINE("250 X"));
	transcript_result(p.t, "delivered to %d recipient", 1);
	close_pair(&p);
	unstamp(p.term);
	zero_digits(p.term);
	CHECK_STR(p.term, "[T]             -> EHLO me\n"
	                  "[T]      +0 ms <-  000-hi\n"
	                  "                      <-  000 X\n"
	                  "[T]            === delivered to 0 recipient (0.000 "
	                  "s in all, 0 ms waiting for the server)\n");
	free_pair(&p);

	open_pair(&p, TRANSCRIPT_DIALOGUE, NULL);
	transcript_result(p.t, "queued as %s", "ABC");
	close_pair(&p);
	unstamp(p.term);
	zero_digits(p.term);
	CHECK_STR(p.term, "[T] === queued as ABC (0.000 s in all)\n");
	free_pair(&p);
}

int
main(void)
{
	test_layout();
	test_interrupted();
	test_body_and_trace();
	test_color();
	test_auth();
	test_timing();
	return unit_done();
}
