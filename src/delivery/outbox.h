/*
 * outbox.h - what becomes of one message in hand (a send, a -bs message):
 * delivered now, queued for later, or saved as a dead letter.  The route
 * is tried (relay.h) unless the policy is to queue always; what follows is
 * fate.h's decision, carried out here:
 *
 *  - QUEUE_ALWAYS: straight into the queue, no attempt.
 *  - delivered: done.
 *  - a temporary failure (ERROR_TEMPFAIL: connection refused or timed out,
 *    4xx, connection lost, delivery status unknown after the final dot)
 *    with QUEUE_ON_FAILURE: queued, and that is a success (the caller says
 *    "queued as ID: reason" and exits 0).
 *  - anything else (a permanent refusal, a temporary one with QUEUE_NEVER,
 *    a failure to queue): the message is appended to the dead letter file
 *    when there is one, and the failure is returned.  With the machine's
 *    spool (depot.h), a dead letter the file cannot take (a home that is
 *    not writable, none at all) goes to the spool's dead letters, and
 *    the failure says so with its id.
 *  - delivered to some recipients while others were refused for now
 *    (4xx to RCPT under rcpt_policy any, or from LMTP): queued for those,
 *    a success when no refusal was permanent; when the queue cannot take
 *    them (or the policy is QUEUE_NEVER), the dead letter file for them
 *    as for a whole message, and the failure names them (res->fate stays
 *    OUTBOX_DELIVERED).
 *  - deliver mx (several transactions), nothing delivered, some
 *    recipients refused for now and others for good: those refused for
 *    now are queued apart (res->rest_apart, res->id), the message is
 *    saved to the dead letter file for the others, and the failure is
 *    returned naming both.
 *  - a signal (interrupt.h) during the attempt: queued (QUEUE_NEVER: the
 *    dead letter file) and returned as a failure (ERROR_TEMPFAIL, exit 75)
 *    whose message says where the message went.
 */
#ifndef MAILPOST_OUTBOX_H
#define MAILPOST_OUTBOX_H

#include <stdbool.h>
#include <time.h>

#include "conf.h"
#include "depot.h"
#include "error.h"
#include "queue.h"
#include "relay.h"
#include "submit.h"

struct outbox {
	enum queue_policy policy; /* never UNSET here */
	struct depot depot;       /* the queue: the caller's or the spool */
	const char *dead_letter;  /* a path, or NULL for none */
	bool dead_letter_off;     /* none on purpose (dead_letter off, -bs):
	                           * not the spool's dead letters either */
	long backoff;             /* seconds before the first retry */
	time_t (*clock)(void);    /* the time now; NULL: time(2) */
};

enum outbox_fate {
	OUTBOX_FAILED = 0, /* not delivered, not kept */
	OUTBOX_DELIVERED,  /* (possibly to some recipients only: see err) */
	OUTBOX_QUEUED,
	OUTBOX_DEAD_LETTER, /* not delivered; saved to the dead letter file */
};

struct outbox_result {
	enum outbox_fate fate;
	char id[QUEUE_ID_SIZE]; /* OUTBOX_QUEUED; OUTBOX_DELIVERED to some:
	                         * the entry of those refused for now, ""
	                         * when they were not queued */
	struct error cause;     /* OUTBOX_QUEUED after a failure: why */
	bool rest_lost; /* OUTBOX_DELIVERED to some: those refused for now
	                 * were neither queued nor saved (err names them) */
	bool rest_apart; /* deliver mx, nothing delivered: those refused for
	                  * now are queued as id, apart from those refused
	                  * for good (fate.h) */
	struct submit_outcome outcome;
	const char *dead_letter; /* the dead letter file the message (or the
	                          * rest of its recipients) was saved to, or
	                          * NULL (the spool's dead letters: err says
	                          * which id) */
	struct submit_report session; /* the last session tried, when the
	                               * caller's submission pointed at it */
};

/* Post the message in sub (its route hops fill sub->account and secret;
 * sub->env, the envelope, is also what is queued, with the account it
 * names; its recipients' states say who was served).  `copy` is the same
 * message for the queue and the dead letter file (sub->message may be
 * wrapped in a progress display that is about sending only); a message
 * still being read from its input (stream.h: copy->settle) is settled
 * through copy after the attempt, and its failure to settle is the
 * failure, with nothing queued or saved.  0 when
 * delivered or queued (res->fate says which); -1 with err otherwise,
 * res->fate telling whether the message was saved. */
int outbox_post(const struct outbox *o, struct relay_route *route,
                const struct submission *sub, struct message_stream *copy,
                struct outbox_result *res, struct error *err);

#endif
