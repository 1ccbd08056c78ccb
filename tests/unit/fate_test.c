/*
 * fate_test.c - the decision of fate.h, one row per case that outbox.c
 * (a message in hand) and flush.c (a queued entry) carry out, and the
 * helpers around it: the back-off schedule, the expiry, the envelope of
 * what is queued again, and the reply a -bs client gets.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fate.h"
#include "unit.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof *(a))

#define NEW FATE_NEW
#define QUEUED FATE_QUEUED
#define TEMP ERROR_TEMPFAIL

struct row {
	const char *name;
	struct fate_facts in;
	struct fate want;
};

/* Facts not named are false, zero: ERROR_NONE, QUEUE_UNSET, FATE_DL_FILE. */
static const struct row rows[] = {
    /* A message in hand (a send, -bs). */
    {"always: queued without an attempt",
     {.origin = NEW, .policy = QUEUE_ALWAYS},
     {.then = FATE_QUEUE, .fallback = FATE_DEAD_LETTER, .ok = true}},
    {"always, no dead letter file: queued, else nothing",
     {.origin = NEW, .policy = QUEUE_ALWAYS, .dead_letter = FATE_DL_OFF},
     {.then = FATE_QUEUE, .fallback = FATE_DROP, .ok = true}},
    {"delivered",
     {.origin = NEW, .policy = QUEUE_ON_FAILURE, .tried = true},
     {.then = FATE_DONE, .fallback = FATE_DROP, .ok = true}},
    {"temporary, on failure: queued, a success",
     {.origin = NEW, .policy = QUEUE_ON_FAILURE, .tried = true, .kind = TEMP},
     {.then = FATE_QUEUE, .fallback = FATE_DEAD_LETTER, .ok = true}},
    {"temporary before MAIL, on failure: queued",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = TEMP,
      .before_mail = true},
     {.then = FATE_QUEUE, .fallback = FATE_DEAD_LETTER, .ok = true}},
    {"temporary, on failure, no dead letter (-bs): queued, else nothing",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .dead_letter = FATE_DL_OFF,
      .tried = true,
      .kind = TEMP},
     {.then = FATE_QUEUE, .fallback = FATE_DROP, .ok = true}},
    {"temporary, never: dead letter",
     {.origin = NEW, .policy = QUEUE_NEVER, .tried = true, .kind = TEMP},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"temporary, never, no dead letter file: reported only",
     {.origin = NEW,
      .policy = QUEUE_NEVER,
      .dead_letter = FATE_DL_NONE,
      .tried = true,
      .kind = TEMP},
     {.then = FATE_DROP, .fallback = FATE_DROP, .give_up = true}},
    {"permanent, on failure: dead letter, not queued",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = ERROR_NOPERM},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"session refused before MAIL, on failure: dead letter, not queued",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = ERROR_NOPERM,
      .before_mail = true},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"permanent, dead letter off: reported only",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .dead_letter = FATE_DL_OFF,
      .tried = true,
      .kind = ERROR_NOUSER},
     {.then = FATE_DROP, .fallback = FATE_DROP, .give_up = true}},
    {"signal, on failure: queued, a failure all the same",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = TEMP,
      .interrupted = true},
     {.then = FATE_QUEUE, .fallback = FATE_DEAD_LETTER}},
    {"signal, never: dead letter",
     {.origin = NEW,
      .policy = QUEUE_NEVER,
      .tried = true,
      .kind = TEMP,
      .interrupted = true},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"delivered to some, the others for now: the rest queued, a success",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = TEMP,
      .delivered = true,
      .nretry = 1},
     {.queue_rest = true,
      .then = FATE_DONE,
      .fallback = FATE_DEAD_LETTER,
      .ok = true}},
    {"delivered to some, others for good and for now: rest queued, failed",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = ERROR_NOUSER,
      .delivered = true,
      .nretry = 1},
     {.queue_rest = true, .then = FATE_DONE, .fallback = FATE_DEAD_LETTER}},
    {"delivered to some, the others for now, the rest unqueueable, no "
     "dead letter file (-bs): reported",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .dead_letter = FATE_DL_OFF,
      .tried = true,
      .kind = TEMP,
      .delivered = true,
      .nretry = 1},
     {.queue_rest = true,
      .then = FATE_DONE,
      .fallback = FATE_DROP,
      .ok = true}},
    {"delivered to some, others for good: reported, no dead letter",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = ERROR_NOUSER,
      .delivered = true},
     {.then = FATE_DONE, .fallback = FATE_DROP}},
    {"delivered to some, the others for now, never: saved for those",
     {.origin = NEW,
      .policy = QUEUE_NEVER,
      .tried = true,
      .kind = TEMP,
      .delivered = true,
      .nretry = 2},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"delivered to some, others for good and for now, never: saved for "
     "those refused for now, the failure stands",
     {.origin = NEW,
      .policy = QUEUE_NEVER,
      .tried = true,
      .kind = ERROR_NOUSER,
      .delivered = true,
      .nretry = 1},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"delivered to some, the others for now, never, dead letter off: "
     "reported",
     {.origin = NEW,
      .policy = QUEUE_NEVER,
      .dead_letter = FATE_DL_OFF,
      .tried = true,
      .kind = TEMP,
      .delivered = true,
      .nretry = 1},
     {.then = FATE_DROP, .fallback = FATE_DROP, .give_up = true}},
    {"delivered to some, others for good only, never: reported, no dead "
     "letter (the server has it)",
     {.origin = NEW,
      .policy = QUEUE_NEVER,
      .tried = true,
      .kind = ERROR_NOUSER,
      .delivered = true},
     {.then = FATE_DONE, .fallback = FATE_DROP}},
    {"delivered to some, the others for now, then a signal, never: saved "
     "for those",
     {.origin = NEW,
      .policy = QUEUE_NEVER,
      .tried = true,
      .kind = TEMP,
      .delivered = true,
      .nretry = 1,
      .interrupted = true},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"delivered to some, then a signal: the rest queued as without one",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = TEMP,
      .delivered = true,
      .nretry = 1,
      .interrupted = true},
     {.queue_rest = true,
      .then = FATE_DONE,
      .fallback = FATE_DEAD_LETTER,
      .ok = true}},
    {"split (deliver mx), none delivered, for good and for now: the rest "
     "queued apart, the message given up for the others",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = ERROR_UNAVAILABLE,
      .nretry = 1,
      .split = true},
     {.queue_rest = true,
      .then = FATE_DEAD_LETTER,
      .fallback = FATE_DEAD_LETTER,
      .give_up = true}},
    {"split, none delivered, all for now: queued whole, a success",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = TEMP,
      .nretry = 2,
      .split = true},
     {.then = FATE_QUEUE, .fallback = FATE_DEAD_LETTER, .ok = true}},
    {"split, none delivered, all for good: given up",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = ERROR_NOHOST,
      .split = true},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"split, none delivered, for good and for now, never: given up whole",
     {.origin = NEW,
      .policy = QUEUE_NEVER,
      .tried = true,
      .kind = ERROR_UNAVAILABLE,
      .nretry = 1,
      .split = true},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},
    {"not split, none delivered, for good and for now: given up whole",
     {.origin = NEW,
      .policy = QUEUE_ON_FAILURE,
      .tried = true,
      .kind = ERROR_UNAVAILABLE,
      .nretry = 1},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_DROP, .give_up = true}},

    /* A queued entry (a flush). */
    {"entry: its account unusable: held, loudly, whatever its age",
     {.origin = QUEUED, .unusable = true, .expired = true},
     {.then = FATE_QUEUE, .fallback = FATE_KEEP, .loud = true}},
    {"entry: too old: given up to the dead letter file",
     {.origin = QUEUED, .expired = true},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_KEEP, .give_up = true}},
    {"entry: too old, dead letter off: removed",
     {.origin = QUEUED, .dead_letter = FATE_DL_OFF, .expired = true},
     {.then = FATE_DROP, .fallback = FATE_KEEP, .give_up = true}},
    {"entry: too old, no dead letter file found: kept",
     {.origin = QUEUED, .dead_letter = FATE_DL_NONE, .expired = true},
     {.then = FATE_KEEP, .fallback = FATE_KEEP, .give_up = true}},
    {"entry: before its attempt: try",
     {.origin = QUEUED},
     {.then = FATE_TRY, .fallback = FATE_KEEP, .ok = true}},
    {"entry: delivered: removed",
     {.origin = QUEUED, .tried = true},
     {.then = FATE_DONE, .fallback = FATE_KEEP, .ok = true}},
    {"entry: temporary: deferred",
     {.origin = QUEUED, .tried = true, .kind = TEMP},
     {.then = FATE_QUEUE, .fallback = FATE_KEEP, .ok = true}},
    {"entry: the connection failed for now: deferred",
     {.origin = QUEUED, .tried = true, .kind = TEMP, .before_mail = true},
     {.then = FATE_QUEUE, .fallback = FATE_KEEP, .ok = true}},
    {"entry: session refused for good before MAIL: deferred, loudly",
     {.origin = QUEUED,
      .tried = true,
      .kind = ERROR_NOPERM,
      .before_mail = true},
     {.then = FATE_QUEUE, .fallback = FATE_KEEP, .loud = true}},
    {"entry: permanent: given up",
     {.origin = QUEUED, .tried = true, .kind = ERROR_UNAVAILABLE},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_KEEP, .give_up = true}},
    {"entry: permanent, dead letter off: removed",
     {.origin = QUEUED,
      .dead_letter = FATE_DL_OFF,
      .tried = true,
      .kind = ERROR_NOUSER},
     {.then = FATE_DROP, .fallback = FATE_KEEP, .give_up = true}},
    {"entry: a signal: left as it was",
     {.origin = QUEUED, .tried = true, .kind = TEMP, .interrupted = true},
     {.then = FATE_KEEP, .fallback = FATE_KEEP}},
    {"entry: a signal before MAIL: left as it was",
     {.origin = QUEUED,
      .tried = true,
      .kind = TEMP,
      .interrupted = true,
      .before_mail = true},
     {.then = FATE_KEEP, .fallback = FATE_KEEP}},
    {"entry: delivered to some, others for now: rest queued, entry goes "
     "(else shrunk, not kept whole)",
     {.origin = QUEUED,
      .tried = true,
      .kind = TEMP,
      .delivered = true,
      .nretry = 1},
     {.queue_rest = true,
      .then = FATE_DONE,
      .fallback = FATE_SHRINK,
      .ok = true}},
    {"entry: split, none delivered, for good and for now: the rest "
     "apart, then given up",
     {.origin = QUEUED,
      .tried = true,
      .kind = ERROR_UNAVAILABLE,
      .nretry = 1,
      .split = true},
     {.queue_rest = true,
      .then = FATE_DEAD_LETTER,
      .fallback = FATE_SHRINK,
      .give_up = true}},
    {"entry: delivered to some, others for good: given up, else shrunk",
     {.origin = QUEUED, .tried = true, .kind = ERROR_NOUSER, .delivered = true},
     {.then = FATE_DEAD_LETTER, .fallback = FATE_SHRINK, .give_up = true}},
    {"entry: delivered to some, for good and for now: rest, then given up",
     {.origin = QUEUED,
      .tried = true,
      .kind = ERROR_NOUSER,
      .delivered = true,
      .nretry = 1},
     {.queue_rest = true,
      .then = FATE_DEAD_LETTER,
      .fallback = FATE_SHRINK,
      .give_up = true}},
    {"entry: delivered to some, others for good, no dead letter file "
     "found: shrunk to those, not kept whole (that would deliver again)",
     {.origin = QUEUED,
      .dead_letter = FATE_DL_NONE,
      .tried = true,
      .kind = ERROR_NOUSER,
      .delivered = true,
      .nretry = 1},
     {.queue_rest = true,
      .then = FATE_SHRINK,
      .fallback = FATE_SHRINK,
      .give_up = true}},
    {"entry: delivered to some, others for good, dead letter off: removed",
     {.origin = QUEUED,
      .dead_letter = FATE_DL_OFF,
      .tried = true,
      .kind = ERROR_NOUSER,
      .delivered = true},
     {.then = FATE_DROP, .fallback = FATE_SHRINK, .give_up = true}},
    {"entry: delivered to some, then a signal: the rest queued, not kept "
     "whole (that would deliver again)",
     {.origin = QUEUED,
      .tried = true,
      .kind = TEMP,
      .delivered = true,
      .nretry = 1,
      .interrupted = true},
     {.queue_rest = true,
      .then = FATE_DONE,
      .fallback = FATE_SHRINK,
      .ok = true}},
};

static void
test_decide(void)
{
	for (size_t i = 0; i < N(rows); i++) {
		const struct row *r = &rows[i];
		struct fate got = fate_decide(&r->in);
		bool same =
		    got.queue_rest == r->want.queue_rest &&
		    got.then == r->want.then &&
		    got.fallback == r->want.fallback && got.ok == r->want.ok &&
		    got.give_up == r->want.give_up && got.loud == r->want.loud;

		if (!same)
			fprintf(stderr,
			        "%s: got rest %d then %d fallback %d ok %d "
			        "give_up %d loud %d\n",
			        r->name, got.queue_rest, got.then, got.fallback,
			        got.ok, got.give_up, got.loud);
		CHECK(same);
	}
}

/* The back-off: doubled after each failure, at most four hours. */
static void
test_next_attempt(void)
{
	static const struct {
		unsigned attempts;
		long backoff;
		time_t want; /* after 1000 */
	} cases[] = {
	    {1, 600, 1600},
	    {2, 600, 2200},
	    {3, 600, 3400},
	    {5, 600, 10600},
	    {6, 600, 15400},
	    {40, 600, 15400},
	    {4000000000u, 60, 15400},
	    {1, 14400, 15400},
	    {1, 21600, 15400},
	    {8, 60, 1000 + 60 * 128},
	    {9, 60, 15400},
	    {1, 0, 0},
	    {9, 0, 0},
	};

	for (size_t i = 0; i < N(cases); i++)
		CHECK_INT(fate_next_attempt(1000, cases[i].attempts,
		                            cases[i].backoff),
		          cases[i].want);
}

static void
test_expired(void)
{
	CHECK(!fate_expired(1000 + 86400, 1000, 86400));
	CHECK(fate_expired(1001 + 86400, 1000, 86400));
	CHECK(!fate_expired(1000 + CONF_QUEUE_MAX_AGE, 1000, 0));
	CHECK(fate_expired(1001 + CONF_QUEUE_MAX_AGE, 1000, -1));
}

/* What is queued again: a new message is created now with one attempt; an
 * entry keeps its age and counts one attempt more; the rest has only the
 * recipients refused for now. */
static void
test_envelopes(void)
{
	struct queue_envelope env, rest;

	queue_envelope_init(&env);
	fate_failed_attempt(&env, "451 later", 5000, 60);
	CHECK_INT(env.created, 5000);
	CHECK_INT(env.attempts, 1);
	CHECK_INT(env.last_attempt, 5000);
	CHECK_INT(env.next_attempt, 5060);
	CHECK_STR(env.last_error, "451 later");

	env.created = 100;
	env.last_error = NULL;
	envelope_add_rcpt(&env.env, "a@x.test");
	envelope_add_rcpt(&env.env, "b@x.test");
	envelope_add_rcpt(&env.env, "c@x.test");
	envelope_add_rcpt(&env.env, "d@x.test");
	envelope_rcpt_set(&env.env, 0, ENVELOPE_REFUSED_TEMP, 450, "450 full");
	envelope_rcpt_set(&env.env, 1, ENVELOPE_ACCEPTED, 250, "250 ok");
	envelope_rcpt_set(&env.env, 2, ENVELOPE_REFUSED_TEMP, 451, "451 later");
	envelope_rcpt_set(&env.env, 3, ENVELOPE_REFUSED_PERM, 550, "550 no");
	fate_rest(&rest, &env, "450 full", 9000, 60);
	CHECK_INT(rest.env.nrcpts, 2);
	CHECK_STR(rest.env.rcpts[0].addr, "a@x.test");
	CHECK_STR(rest.env.rcpts[1].addr, "c@x.test");
	CHECK_INT(envelope_count(&rest.env, ENVELOPE_PENDING), 2);
	CHECK_INT(rest.created, 100);
	CHECK_INT(rest.attempts, 2);
	CHECK_INT(rest.last_attempt, 9000);
	CHECK_INT(rest.next_attempt, 9120);
	CHECK_STR(rest.last_error, "450 full");
	CHECK_INT(env.env.nrcpts, 4);
	CHECK_INT(env.attempts, 1);
	envelope_clear(&rest.env);
	envelope_clear(&env.env);
}

/* The reply to a -bs client's final dot. */
static void
test_reply(void)
{
	static const struct {
		const char *id;
		bool delivered;
		enum error_kind kind; /* ERROR_NONE: no error given */
		const char *want;
	} cases[] = {
	    {NULL, true, ERROR_NONE, "250 2.0.0 Ok: delivered"},
	    {"ID1", false, ERROR_NONE, "250 2.0.0 Ok: queued as ID1"},
	    {"ID2", false, ERROR_TEMPFAIL, "250 2.0.0 Ok: queued as ID2"},
	    {"ID3", true, ERROR_NOUSER, "250 2.0.0 Ok: queued as ID3"},
	    {NULL, true, ERROR_NOUSER, "250 2.0.0 Ok: delivered in part: why"},
	    {NULL, false, ERROR_TEMPFAIL, "451 4.3.0 why"},
	    {NULL, false, ERROR_OSERR, "451 4.3.0 why"},
	    {NULL, false, ERROR_IOERR, "451 4.3.0 why"},
	    {NULL, false, ERROR_NOUSER, "550 5.1.1 why"},
	    {NULL, false, ERROR_DATA, "554 5.6.0 why"},
	    {NULL, false, ERROR_UNAVAILABLE, "554 5.0.0 why"},
	    {NULL, false, ERROR_NOPERM, "554 5.0.0 why"},
	    {NULL, false, ERROR_CONFIG, "554 5.0.0 why"},
	};
	char line[512];
	struct error err;

	for (size_t i = 0; i < N(cases); i++) {
		error_clear(&err);
		if (cases[i].kind != ERROR_NONE)
			error_set(&err, cases[i].kind, "why");
		fate_reply(cases[i].id, cases[i].delivered, &err, line,
		           sizeof line);
		CHECK_STR(line, cases[i].want);
	}
	fate_reply(NULL, false, NULL, line, sizeof line);
	CHECK_STR(line, "250 2.0.0 Ok: delivered");
	/* A long reason is cut, never the line overrun. */
	memset(err.msg, 'x', sizeof err.msg - 1);
	err.msg[sizeof err.msg - 1] = '\0';
	err.kind = ERROR_TEMPFAIL;
	fate_reply(NULL, false, &err, line, sizeof line);
	CHECK_INT(strlen(line), 10 + 400);
}

/* Who a kept copy is for: the recipients of the states asked, joined;
 * cut with "..." when they do not fit, never past the buffer. */
static void
test_rcpts(void)
{
	static const char *const addrs[] = {"a@x.test", "b@x.test", "c@x.test"};
	static const enum envelope_state states[] = {
	    ENVELOPE_ACCEPTED, ENVELOPE_REFUSED_TEMP, ENVELOPE_REFUSED_PERM};
	const unsigned refused = ENVELOPE_BIT(ENVELOPE_REFUSED_TEMP) |
	                         ENVELOPE_BIT(ENVELOPE_REFUSED_PERM);
	struct envelope e;
	char out[64], small[16], tiny[12];

	envelope_init(&e);
	for (size_t i = 0; i < N(addrs); i++)
		envelope_rcpt_set(&e, envelope_add_rcpt(&e, addrs[i]),
		                  states[i], 0, NULL);
	fate_rcpts(&e, refused, out, sizeof out);
	CHECK_STR(out, "b@x.test, c@x.test");
	fate_rcpts(&e, ENVELOPE_BIT(ENVELOPE_REFUSED_PERM), out, sizeof out);
	CHECK_STR(out, "c@x.test");
	fate_rcpts(&e, ENVELOPE_BIT(ENVELOPE_PENDING), out, sizeof out);
	CHECK_STR(out, "");
	fate_rcpts(&e, refused, small, sizeof small);
	CHECK_STR(small, "b@x.test, ...");
	fate_rcpts(&e, refused, tiny, sizeof tiny); /* not even the first */
	CHECK_STR(tiny, "...");
	envelope_clear(&e);
}

int
main(void)
{
	test_decide();
	test_next_attempt();
	test_expired();
	test_envelopes();
	test_reply();
	test_rcpts();
	return unit_done();
}
