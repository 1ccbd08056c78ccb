/*
 * fate.h - what becomes of a message after an attempt to send it: one
 * decision for a message in hand (a send, a -bs message: outbox.c) and a
 * queued entry (a flush: flush.c) alike.  The decision is a pure function
 * of what happened and of the policy; the callers carry it out where the
 * storage is (queue.c, deadletter.c) and say what they did.
 *
 * A message in hand (FATE_NEW):
 *  - queue always: into the queue without an attempt, a success;
 *  - delivered: done;
 *  - delivered to some, others refused for now: those are queued; a
 *    success when no refusal was permanent, else the failure stands and
 *    says where the others went; when the queue cannot take them, the
 *    message is saved to the dead letter file for them (the failure names
 *    them), as a whole message would be; with the policy never they are
 *    given up the same way at once (`then`: the dead letter file, or
 *    nothing when there is none; the failure names them); nothing is
 *    saved for those refused for good (the server has the message, the
 *    failure names them);
 *  - several transactions (deliver mx: one per recipient domain), none
 *    delivered, some recipients refused for now and others for good:
 *    those refused for now are queued apart, as after a partial
 *    delivery, and the message is given up for the others (the dead
 *    letter file): a failure;
 *  - a signal: queued (never: the dead letter file), always a failure;
 *  - a temporary failure, on failure: queued, a success;
 *  - anything else, or a queue that cannot take it: the dead letter file
 *    when there is one, and the failure.
 * A queued entry (FATE_QUEUED):
 *  - its account cannot be used: held (marked as an attempt), said on
 *    every run;
 *  - older than queue_max_age: given up;
 *  - delivered: removed;
 *  - delivered to some (or, with several transactions, refused for now
 *    by some and for good by others): the recipients refused for now
 *    get an entry of their own first; then a permanent refusal is a
 *    give-up, else the entry goes.  Whatever of that fails, the entry is
 *    never kept whole (the next run would deliver again to those who
 *    have it): it shrinks (FATE_SHRINK) to those who did not get it and
 *    have no entry of their own: refused for now and for good when their
 *    entry could not be made, refused for good when the give-up cannot
 *    save the message (the dead letter file unwritable, or none found).
 *    Only when even that cannot be written does it stay whole (a
 *    delivery may repeat, none is lost);
 *  - a signal (nothing delivered): it stays as it was;
 *  - a temporary failure, or one before MAIL (nothing reached the
 *    server): deferred (marked, the next attempt pushed back), said on
 *    every run when waiting will not cure it;
 *  - anything else: given up.
 * Giving up is the dead letter file, then the entry goes; with dead_letter
 * off it only goes; with no dead letter file found it stays.
 *
 * The connection lost between the final dot and its reply ("delivery
 * status unknown") is a temporary failure after MAIL like any other: kept
 * for a later attempt, which may repeat a delivery but never loses one.
 * That it is never offered to another host of the route meanwhile is
 * relay.c's business, not a fate.
 */
#ifndef MAILPOST_FATE_H
#define MAILPOST_FATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "error.h"
#include "queue.h"

enum fate_origin {
	FATE_NEW,    /* a message in hand: a send, a -bs message */
	FATE_QUEUED, /* a queued entry: a flush */
};

enum fate_dead_letter {
	FATE_DL_FILE, /* a dead letter file to append to */
	FATE_DL_OFF,  /* none on purpose (dead_letter off; -bs) */
	FATE_DL_NONE, /* none could be found (no home) */
};

/* What is known when the decision is made. */
struct fate_facts {
	enum fate_origin origin;
	enum queue_policy policy; /* FATE_NEW: never, on-failure, always */
	enum fate_dead_letter dead_letter;
	/* FATE_QUEUED, known before an attempt: */
	bool unusable; /* its account cannot be used */
	bool expired;  /* older than queue_max_age (fate_expired) */
	/* The attempt; tried false: none was made yet. */
	bool tried;
	enum error_kind kind; /* the failure; ERROR_NONE: delivered to all */
	bool delivered;       /* some recipients got it (submit_outcome) */
	size_t nretry;        /* recipients refused for now, others served */
	bool before_mail;     /* failed before MAIL: the server has nothing */
	bool split;           /* several transactions (deliver mx: one per
	                       * recipient domain): each recipient's verdict
	                       * is its own, delivered or not */
	bool interrupted;     /* a signal came (interrupt.h) */
};

enum fate_action {
	FATE_TRY,         /* FATE_QUEUED before an attempt: make one */
	FATE_DONE,        /* nothing (more) to keep: an entry is removed */
	FATE_QUEUE,       /* the whole message for a later attempt: queued
	                   * (FATE_NEW), the entry marked failed (QUEUED) */
	FATE_DEAD_LETTER, /* into the dead letter file; an entry removed */
	FATE_DROP,        /* given up without a copy: nothing is kept (an
	                   * entry is removed: dead_letter off) */
	FATE_KEEP,        /* an entry stays as it is */
	FATE_SHRINK,      /* after a partial delivery: an entry keeps only
	                   * those who did not get the message and have no
	                   * entry of their own (refused for good; refused
	                   * for now too when queue_rest failed), one
	                   * attempt more */
};

struct fate {
	bool queue_rest;           /* first: an entry for the recipients
	                            * refused for now (fate_rest); if that
	                            * fails, `fallback` (for those only,
	                            * FATE_NEW) */
	enum fate_action then;     /* for the message as a whole (FATE_NEW
	                            * delivered to some: for those refused
	                            * for now, when not queued) */
	enum fate_action fallback; /* when `then` (or queue_rest) fails */
	bool ok;      /* a success once carried out (a step that fails
	               * never is): delivered, or kept for later with
	               * nothing refused for good */
	bool give_up; /* given up for good (a permanent failure, an
	               * expiry): `then` says where the message goes */
	bool loud;    /* FATE_QUEUED kept for a cause waiting will not
	               * cure (held, blocked): said on every run */
};

/* The decision.  Pure: same facts, same fate. */
struct fate fate_decide(const struct fate_facts *f);

/* The next attempt after `attempts` failures: now + backoff doubled per
 * failure after the first, at most FATE_BACKOFF_MAX; 0 when backoff is 0
 * (due at once). */
#define FATE_BACKOFF_MAX (4L * 3600)
time_t fate_next_attempt(time_t now, unsigned attempts, long backoff);

/* Past queue_max_age (max_age <= 0: CONF_QUEUE_MAX_AGE). */
bool fate_expired(time_t now, time_t created, long max_age);

/* env after one more failed attempt at `now` (why: the error line, not
 * copied; NULL for none): attempts + 1, last attempt, next attempt by
 * backoff; a message never queued (created 0) is created now. */
void fate_failed_attempt(struct queue_envelope *env, const char *why,
                         time_t now, long backoff);

/* A copy of env for the recipients refused for now (those in
 * ENVELOPE_REFUSED_TEMP in env->env, as the attempt recorded them): its
 * own envelope (free with envelope_clear(&rest->env)), the rest shallow
 * (env's), after a failed attempt as above. */
void fate_rest(struct queue_envelope *rest, const struct queue_envelope *env,
               const char *why, time_t now, long backoff);

/* The addresses of env's recipients whose state is in `states`
 * (ENVELOPE_BIT), joined by ", ", into out (cut with "..." when they do
 * not fit): for a line that says who a kept copy is for. */
void fate_rcpts(const struct envelope *env, unsigned states, char *out,
                size_t size);

/* The reply to a -bs client's final dot (RFC 5321 4.2.5: a 250 takes
 * responsibility): 250 once the message is queued (queue_id) or
 * delivered (err NULL or ERROR_NONE), also when only some recipients got
 * it and every other one is kept for later (delivered: the caller's
 * word, false when any is kept nowhere); otherwise the failure's
 * class: 451 for what may pass later, 550/554 for what will not.  A line
 * without CRLF, cut to fit. */
void fate_reply(const char *queue_id, bool delivered, const struct error *err,
                char *line, size_t size);

#endif
