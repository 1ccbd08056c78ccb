/*
 * outbox.c - deliver, queue or save one message (see outbox.h).
 */
#include "config.h"

#include "outbox.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deadletter.h"
#include "fate.h"
#include "interrupt.h"
#include "util.h"

static time_t
now(const struct outbox *o)
{
	return o->clock ? o->clock() : time(NULL);
}

/* Into the queue, durably, with env as it is. */
static int
enqueue(const struct outbox *o, const struct message_stream *copy,
        const struct queue_envelope *env, char id[QUEUE_ID_SIZE],
        struct error *err)
{
	struct message_stream m = *copy;

	return depot_add(&o->depot, env, &m, id, err);
}

/* Whether a message given up can be saved somewhere: the dead letter
 * file, or the machine spool's dead letters. */
static bool
can_save(const struct outbox *o)
{
	return o->dead_letter ||
	       (!o->dead_letter_off && depot_has_dead_letters(&o->depot));
}

/* Into the spool's dead letters, why being the failure. */
static int
spool_dead_letter(const struct outbox *o, const struct message_stream *copy,
                  const struct queue_envelope *tmpl, const struct error *why,
                  char id[QUEUE_ID_SIZE], struct error *err)
{
	struct queue_envelope env = *tmpl;
	struct message_stream m = *copy;

	if (o->dead_letter_off || !depot_has_dead_letters(&o->depot))
		return error_set(err, ERROR_CONFIG, "no dead letter file");
	env.created = now(o);
	env.last_error = (char *)why->msg; /* copied by the queue */
	return depot_add_dead(&o->depot, &env, &m, id, err);
}

/* The whole message into the queue; `why` is the failure that sent it
 * there, or NULL when nothing was tried. */
static int
enqueue_whole(const struct outbox *o, const struct message_stream *copy,
              const struct queue_envelope *tmpl, const struct error *why,
              char id[QUEUE_ID_SIZE], struct error *err)
{
	struct queue_envelope env = *tmpl;
	time_t t = now(o);

	env.created = t;
	if (why)
		fate_failed_attempt(&env, why->msg, t, o->backoff);
	return enqueue(o, copy, &env, id, err);
}

/* Given up (`to`: FATE_DEAD_LETTER or FATE_DROP): the dead letter file,
 * when there is one, else (or when it cannot be written) the machine
 * spool's dead letters; the message of err gets where the message went
 * (or why it could not be saved) appended. */
static void
give_up(const struct outbox *o, enum fate_action to,
        const struct message_stream *copy, const struct queue_envelope *env,
        struct outbox_result *res, struct error *err)
{
	struct message_stream m = *copy;
	struct error e, in_spool, failure = *err;
	char id[QUEUE_ID_SIZE];

	if (to != FATE_DEAD_LETTER)
		return;
	error_clear(&e);
	error_clear(&in_spool);
	if (!o->dead_letter)
		error_set(&e, ERROR_CONFIG, "no dead letter file");
	if (o->dead_letter && deadletter_append(o->dead_letter, env->env.sender,
	                                        now(o), &m, &e) == 0) {
		res->fate = OUTBOX_DEAD_LETTER;
		res->dead_letter = o->dead_letter;
		error_set(err, failure.kind, "%s; the message was saved to %s",
		          failure.msg, o->dead_letter);
	} else if (spool_dead_letter(o, copy, env, &failure, id, &in_spool) ==
	           0) {
		res->fate = OUTBOX_DEAD_LETTER;
		error_set(err, failure.kind,
		          "%s; the message was kept as dead letter %s in %s "
		          "(mailq lists it)",
		          failure.msg, id, depot_where(&o->depot));
	} else if (depot_has_dead_letters(&o->depot) && !o->dead_letter_off) {
		error_set(err, failure.kind,
		          "%s; the message could not be saved either: %s; %s",
		          failure.msg, e.msg, in_spool.msg);
	} else {
		error_set(err, failure.kind,
		          "%s; the message could not be saved either: %s",
		          failure.msg, e.msg);
	}
	/* The reply behind the failure stays (it picks the exit code). */
	error_copy_reply(err, &failure);
}

/* After a signal: queued (or, with QUEUE_NEVER, saved); always a failure,
 * so that the exit status says the message did not go. */
static int
interrupted(const struct outbox *o, const struct fate *d,
            const struct message_stream *copy, const struct queue_envelope *env,
            struct outbox_result *res, struct error *err)
{
	const char *sig = interrupt_name(interrupt_signal());
	struct error e;

	error_clear(&e);
	if (d->then == FATE_QUEUE &&
	    enqueue_whole(o, copy, env, err, res->id, &e) == 0) {
		res->fate = OUTBOX_QUEUED;
		res->cause = *err;
		return error_set(err, ERROR_TEMPFAIL,
		                 "interrupted by %s: "
		                 "queued as %s",
		                 sig, res->id);
	}
	if (d->then == FATE_QUEUE)
		error_set(err, ERROR_TEMPFAIL, "interrupted by %s; %s", sig,
		          e.msg);
	else
		error_set(err, ERROR_TEMPFAIL, "interrupted by %s", sig);
	give_up(o, d->then == FATE_QUEUE ? d->fallback : d->then, copy, env,
	        res, err);
	return -1;
}

/* The rest (those refused for now) into the machine spool's dead
 * letters, with an envelope of its own (fate_rest): the recipients it is
 * for. */
static int
rest_to_spool(const struct outbox *o, const struct message_stream *copy,
              const struct queue_envelope *env, const struct error *why,
              char id[QUEUE_ID_SIZE], struct error *err)
{
	struct queue_envelope rest;
	int rc;

	fate_rest(&rest, env, why->msg, now(o), o->backoff);
	rc = spool_dead_letter(o, copy, &rest, why, id, err);
	envelope_clear(&rest.env);
	return rc;
}

/* The rest (those refused for now) that is not queued (not_queued says
 * why: the queue's error, or the policy never) goes where a whole message
 * would (to): the dead letter file, named with the recipients the copy is
 * for, since the file does not keep them; without one, the machine
 * spool's dead letters when spool_ok (not when it is the spool that could
 * not take the rest).  The delivery's failure stands (its kind picks the
 * exit code) and the fate stays OUTBOX_DELIVERED: the server has the
 * message for some. */
static int
save_rest(const struct outbox *o, enum fate_action to,
          const struct message_stream *copy, const struct queue_envelope *env,
          const char *not_queued, bool spool_ok, struct outbox_result *res,
          struct error *err)
{
	struct message_stream m = *copy;
	struct error e, in_spool, failure = *err;
	char rcpts[ERROR_MSG_MAX / 2], id[QUEUE_ID_SIZE];
	size_t n = envelope_count(&env->env, ENVELOPE_REFUSED_TEMP);

	fate_rcpts(&env->env, ENVELOPE_BIT(ENVELOPE_REFUSED_TEMP), rcpts,
	           sizeof rcpts);
	error_clear(&e);
	error_clear(&in_spool);
	if (to == FATE_DEAD_LETTER && !o->dead_letter)
		error_set(&e, ERROR_CONFIG, "no dead letter file");
	res->rest_lost = true; /* until saved */
	if (to != FATE_DEAD_LETTER)
		error_set(err, failure.kind,
		          "%s; the %zu refused for now %s and there is no "
		          "dead letter file: nothing was kept for %s",
		          failure.msg, n, not_queued, rcpts);
	else if (o->dead_letter &&
	         deadletter_append(o->dead_letter, env->env.sender, now(o), &m,
	                           &e) == 0) {
		res->rest_lost = false;
		res->dead_letter = o->dead_letter;
		error_set(err, failure.kind,
		          "%s; the %zu refused for now %s; saved to %s for %s",
		          failure.msg, n, not_queued, o->dead_letter, rcpts);
	} else if (spool_ok &&
	           rest_to_spool(o, copy, env, &failure, id, &in_spool) == 0) {
		res->rest_lost = false;
		error_set(err, failure.kind,
		          "%s; the %zu refused for now %s; kept as dead letter "
		          "%s in %s for %s (mailq lists it)",
		          failure.msg, n, not_queued, id,
		          depot_where(&o->depot), rcpts);
	} else if (in_spool.kind != ERROR_NONE)
		/* Both places said no: each says why. */
		error_set(err, failure.kind,
		          "%s; the %zu refused for now %s nor saved (%s; %s): "
		          "nothing was kept for %s",
		          failure.msg, n, not_queued, e.msg, in_spool.msg,
		          rcpts);
	else
		error_set(err, failure.kind,
		          "%s; the %zu refused for now %s nor saved (%s): "
		          "nothing was kept for %s",
		          failure.msg, n, not_queued, e.msg, rcpts);
	error_copy_reply(err, &failure);
	return -1;
}

/* Those refused for now (their state in env) into the queue on an entry
 * of their own, made now, why being the failure; its id in id, "" when
 * the queue could not take it (e says why). */
static int
enqueue_rest(const struct outbox *o, const struct message_stream *copy,
             const struct queue_envelope *env, const char *why,
             char id[QUEUE_ID_SIZE], struct error *e)
{
	struct queue_envelope rest;
	time_t t = now(o);
	int rc;

	fate_rest(&rest, env, why, t, o->backoff);
	rest.created = t;
	error_clear(e);
	rc = enqueue(o, copy, &rest, id, e);
	envelope_clear(&rest.env);
	if (rc < 0)
		id[0] = '\0'; /* no entry: the log line names none */
	return rc;
}

/* Delivered to some recipients, refused for now by others (their state in
 * the envelope): the message is queued for those.  When every refusal was
 * temporary that is a success like any queueing ("queued as ID: ...");
 * with permanent refusals too, the failure stands and says where the
 * others went.  When the queue cannot take it, save_rest. */
static int
queue_the_rest(const struct outbox *o, const struct fate *d,
               const struct message_stream *copy,
               const struct queue_envelope *env, struct outbox_result *res,
               struct error *err)
{
	struct error e, failure = *err;

	if (enqueue_rest(o, copy, env, failure.msg, res->id, &e) < 0) {
		char why[ERROR_MSG_MAX + 32];

		snprintf(why, sizeof why, "could not be queued (%s)", e.msg);
		return save_rest(o, d->fallback, copy, env, why, false, res,
		                 err);
	}
	if (d->ok) {
		res->fate = OUTBOX_QUEUED;
		res->cause = failure;
		return 0;
	}
	error_set(err, failure.kind,
	          "%s; queued as %s for the %zu refused for "
	          "now",
	          failure.msg, res->id,
	          envelope_count(&env->env, ENVELOPE_REFUSED_TEMP));
	error_copy_reply(err, &failure);
	return -1;
}

/* The whole message into the queue after a failure, a success; when the
 * queue cannot take it, the failure to queue is the news, with the
 * delivery failure behind it. */
static int
queue_failed(const struct outbox *o, const struct fate *d,
             const struct message_stream *copy,
             const struct queue_envelope *env, struct outbox_result *res,
             struct error *err)
{
	struct error e;

	error_clear(&e);
	if (enqueue_whole(o, copy, env, err, res->id, &e) == 0) {
		res->fate = OUTBOX_QUEUED;
		res->cause = *err;
		return 0;
	}
	error_prefix(&e, "%s; ", err->msg);
	*err = e;
	give_up(o, d->fallback, copy, env, res, err);
	return -1;
}

/* Several transactions (deliver mx), none delivered: those refused for
 * now are queued apart, and the message is given up (the dead letter
 * file) for those refused for good; a failure, the line saying both. */
static int
queue_apart(const struct outbox *o, const struct fate *d,
            const struct message_stream *copy, const struct queue_envelope *env,
            struct outbox_result *res, struct error *err)
{
	struct error e, failure = *err;
	size_t n = envelope_count(&env->env, ENVELOPE_REFUSED_TEMP);

	if (enqueue_rest(o, copy, env, failure.msg, res->id, &e) == 0) {
		res->rest_apart = true;
		error_set(err, failure.kind,
		          "%s; queued as %s for the %zu refused for now",
		          failure.msg, res->id, n);
	} else {
		error_set(err, failure.kind,
		          "%s; the %zu refused for now could not be queued "
		          "(%s)",
		          failure.msg, n, e.msg);
	}
	error_copy_reply(err, &failure);
	/* One copy in the dead letter file serves both: the file does not
	 * keep recipients. */
	give_up(o, d->then, copy, env, res, err);
	return -1;
}

/* What the attempt (if any) did, for fate_decide. */
static struct fate_facts
facts(const struct outbox *o, bool tried, int rc, const struct envelope *env,
      const struct submit_outcome *out, const struct error *err)
{
	return (struct fate_facts){
	    .origin = FATE_NEW,
	    .policy = o->policy,
	    .dead_letter = can_save(o) ? FATE_DL_FILE : FATE_DL_OFF,
	    .tried = tried,
	    .kind = tried && rc < 0 ? err->kind : ERROR_NONE,
	    .delivered = out->delivered,
	    .nretry = envelope_count(env, ENVELOPE_REFUSED_TEMP),
	    .before_mail = out->before_mail,
	    .interrupted = tried && interrupt_signal() != 0,
	};
}

/* A message that went out while it was read from its input (stream.h):
 * once the attempt is over, the rest is read, so that whatever follows
 * (the queue, the dead letter file, the log's size) has it whole.  When
 * the input could not be read whole, or the message cannot be sent, that
 * is the failure, as it would have been before any sending: nothing is
 * kept (-1).  When the attempt had to stop because the rest needed
 * changes (source.h, source_was_cut), the message is sent again, whole. */
static int
settle_input(struct relay_route *route, const struct submission *sub,
             struct message_stream *copy, struct outbox_result *res, int *rc,
             struct error *err)
{
	struct submission again = *sub;
	struct error e;
	int settled;

	error_clear(&e);
	settled = copy->settle(copy->ctx, copy, &e);
	if (settled < 0) {
		*err = e;
		return -1;
	}
	if (settled == 0)
		return 0;
	if (copy->rewind && copy->rewind(copy->ctx, err) < 0)
		return -1;
	again.message = *copy;
	memset(&res->outcome, 0, sizeof res->outcome);
	error_clear(err);
	*rc = relay_send(route, &again, &res->outcome, err);
	return 0;
}

int
outbox_post(const struct outbox *o, struct relay_route *route,
            const struct submission *sub, struct message_stream *copy,
            struct outbox_result *res, struct error *err)
{
	/* The queue's envelope borrows the submission's (never cleared). */
	const struct queue_envelope tmpl = {.env = *sub->env};
	const struct queue_envelope *env = &tmpl;
	bool tried = o->policy != QUEUE_ALWAYS;
	struct fate_facts f;
	struct fate d;
	int rc = 0;

	memset(res, 0, sizeof *res);
	error_clear(&res->cause);
	if (tried)
		rc = relay_send(route, sub, &res->outcome, err);
	if (copy->settle && settle_input(route, sub, copy, res, &rc, err) < 0)
		return -1;
	f = facts(o, tried, rc, sub->env, &res->outcome, err);
	f.split = relay_direct(route);
	d = fate_decide(&f);
	if (!tried) { /* straight into the queue */
		if (enqueue_whole(o, copy, env, NULL, res->id, err) < 0) {
			give_up(o, d.fallback, copy, env, res, err);
			return -1;
		}
		res->fate = OUTBOX_QUEUED;
		return 0;
	}
	if (f.kind == ERROR_NONE || f.delivered) {
		res->fate = OUTBOX_DELIVERED; /* to some: err says who not */
		if (d.queue_rest)
			return queue_the_rest(o, &d, copy, env, res, err);
		if (d.give_up) /* queue never: the rest is given up */
			return save_rest(o, d.then, copy, env,
			                 "are not queued (queue never)", true,
			                 res, err);
		return d.ok ? 0 : -1;
	}
	if (d.queue_rest) /* split: none delivered, refusals of both kinds */
		return queue_apart(o, &d, copy, env, res, err);
	if (f.interrupted)
		return interrupted(o, &d, copy, env, res, err);
	if (d.then == FATE_QUEUE)
		return queue_failed(o, &d, copy, env, res, err);
	give_up(o, d.then, copy, env, res, err);
	return -1;
}
