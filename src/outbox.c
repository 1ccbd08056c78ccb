/*
 * outbox.c - deliver, queue or save one message (see outbox.h).
 */
#include "config.h"

#include "outbox.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deadletter.h"
#include "interrupt.h"
#include "util.h"

time_t
outbox_next_attempt(time_t now, unsigned attempts, long backoff)
{
	long delay = backoff;

	if (backoff <= 0)
		return 0;
	for (unsigned i = 1; i < attempts && delay < OUTBOX_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > OUTBOX_BACKOFF_MAX)
		delay = OUTBOX_BACKOFF_MAX;
	return now + delay;
}

/* Into the queue, durably.  `why` is the failure that sent it there, or
 * NULL when nothing was tried. */
static int
enqueue(const struct outbox *o, const struct message_stream *copy,
        const struct queue_envelope *tmpl, const struct error *why,
        char id[QUEUE_ID_SIZE], struct error *err)
{
	struct queue_envelope env = *tmpl;
	struct message_stream m = *copy;
	struct queue *q;
	time_t now = time(NULL);
	int rc;

	env.created = now;
	if (why) {
		env.attempts = 1;
		env.last_attempt = now;
		env.last_error = (char *)why->msg;
		env.next_attempt = outbox_next_attempt(now, 1, o->backoff);
	}
	if (!o->queue_dir)
		return error_set(err, ERROR_CONFIG,
		                 "cannot queue the message: %s",
		                 o->queue_problem && *o->queue_problem
		                     ? o->queue_problem
		                     : "no queue directory");
	if (m.rewind && m.rewind(m.ctx, err) < 0)
		return -1;
	if (queue_open(&q, o->queue_dir, err) < 0)
		return -1;
	rc = queue_add(q, &env, &m, id, err);
	queue_close(q);
	return rc;
}

/* The dead letter file, when there is one; the message of err gets where
 * the message went (or why it could not be saved) appended. */
static void
save_dead_letter(const struct outbox *o, const struct message_stream *copy,
                 const char *sender, struct outbox_result *res,
                 struct error *err)
{
	struct message_stream m = *copy;
	struct error e, failure = *err;

	if (!o->dead_letter)
		return;
	error_clear(&e);
	if ((m.rewind && m.rewind(m.ctx, &e) < 0) ||
	    deadletter_append(o->dead_letter, sender, &m, &e) < 0) {
		error_set(err, failure.kind,
		          "%s; the message could not be saved either: %s",
		          failure.msg, e.msg);
	} else {
		res->fate = OUTBOX_DEAD_LETTER;
		error_set(err, failure.kind, "%s; the message was saved to %s",
		          failure.msg, o->dead_letter);
	}
	/* The reply behind the failure stays (it picks the exit code). */
	error_copy_reply(err, &failure);
}

/* After a signal: queued (or, with QUEUE_NEVER, saved); always a failure,
 * so that the exit status says the message did not go. */
static int
interrupted(const struct outbox *o, const struct message_stream *copy,
            const struct queue_envelope *env, struct outbox_result *res,
            struct error *err)
{
	struct error e;

	error_clear(&e);
	if (o->policy != QUEUE_NEVER &&
	    enqueue(o, copy, env, err, res->id, &e) == 0) {
		res->fate = OUTBOX_QUEUED;
		res->cause = *err;
		return error_set(err, ERROR_TEMPFAIL,
		                 "interrupted by %s: "
		                 "queued as %s",
		                 interrupt_name(interrupt_signal()), res->id);
	}
	if (o->policy != QUEUE_NEVER)
		error_set(err, ERROR_TEMPFAIL, "interrupted by %s; %s",
		          interrupt_name(interrupt_signal()), e.msg);
	else
		error_set(err, ERROR_TEMPFAIL, "interrupted by %s",
		          interrupt_name(interrupt_signal()));
	save_dead_letter(o, copy, env->sender, res, err);
	return -1;
}

/* Delivered to some recipients, refused for now by others: the message is
 * queued for those.  When every refusal was temporary that is a success
 * like any queueing ("queued as ID: ..."); with permanent refusals too,
 * the failure stands and says where the others went. */
static int
queue_the_rest(const struct outbox *o, const struct message_stream *copy,
               const struct queue_envelope *env, struct outbox_result *res,
               struct error *err)
{
	const struct submit_outcome *out = &res->outcome;
	struct queue_envelope rest = *env;
	struct error e, failure = *err;
	int rc;

	strlist_init(&rest.rcpts);
	for (size_t i = 0; i < out->nretry; i++)
		strlist_add(&rest.rcpts, env->rcpts.v[out->retry[i]]);
	error_clear(&e);
	rc = enqueue(o, copy, &rest, err, res->id, &e);
	strlist_clear(&rest.rcpts);
	if (rc < 0) {
		error_set(err, failure.kind, "%s; %s", failure.msg, e.msg);
		error_copy_reply(err, &failure);
		return -1;
	}
	if (failure.kind == ERROR_TEMPFAIL) {
		res->fate = OUTBOX_QUEUED;
		res->cause = failure;
		return 0;
	}
	error_set(err, failure.kind,
	          "%s; queued as %s for the %zu refused for "
	          "now",
	          failure.msg, res->id, out->nretry);
	error_copy_reply(err, &failure);
	return -1;
}

void
outbox_result_clear(struct outbox_result *res)
{
	submit_outcome_clear(&res->outcome);
}

int
outbox_post(const struct outbox *o, struct relay_route *route,
            const struct submission *sub, const struct message_stream *copy,
            const struct queue_envelope *env, struct outbox_result *res,
            struct error *err)
{
	struct error e;

	memset(res, 0, sizeof *res);
	error_clear(&res->cause);
	if (o->policy == QUEUE_ALWAYS) {
		if (enqueue(o, copy, env, NULL, res->id, err) < 0) {
			save_dead_letter(o, copy, env->sender, res, err);
			return -1;
		}
		res->fate = OUTBOX_QUEUED;
		return 0;
	}
	if (relay_send(route, sub, &res->outcome, err) == 0) {
		res->fate = OUTBOX_DELIVERED;
		return 0;
	}
	if (res->outcome.delivered) {
		res->fate = OUTBOX_DELIVERED; /* to some: err says who not */
		if (res->outcome.nretry > 0 && o->policy != QUEUE_NEVER)
			return queue_the_rest(o, copy, env, res, err);
		return -1;
	}
	if (interrupt_signal() != 0)
		return interrupted(o, copy, env, res, err);
	if (err->kind == ERROR_TEMPFAIL && o->policy == QUEUE_ON_FAILURE) {
		error_clear(&e);
		if (enqueue(o, copy, env, err, res->id, &e) == 0) {
			res->fate = OUTBOX_QUEUED;
			res->cause = *err;
			return 0;
		}
		/* Not queued: the failure to queue is the news, with the
		 * delivery failure behind it. */
		error_prefix(&e, "%s; ", err->msg);
		*err = e;
	}
	save_dead_letter(o, copy, env->sender, res, err);
	return -1;
}
