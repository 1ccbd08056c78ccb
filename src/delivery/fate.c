/*
 * fate.c - what becomes of a message after an attempt (see fate.h).
 */
#include "config.h"

#include "fate.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* Where a message given up goes. */
static enum fate_action
give_up_action(const struct fate_facts *f)
{
	if (f->dead_letter == FATE_DL_FILE)
		return FATE_DEAD_LETTER;
	/* A queued entry with no dead letter file found stays: removing it
	 * would lose the only copy that nobody asked to drop. */
	if (f->origin == FATE_QUEUED && f->dead_letter == FATE_DL_NONE)
		return FATE_KEEP;
	return FATE_DROP;
}

/* When carrying out `a` fails: a message in hand falls to the dead letter
 * file, then to nothing (the failure says so); an entry stays. */
static enum fate_action
fallback_of(const struct fate_facts *f, enum fate_action a)
{
	if (f->origin == FATE_QUEUED)
		return FATE_KEEP;
	if (a == FATE_QUEUE)
		return give_up_action(f);
	return FATE_DROP;
}

static struct fate
make(const struct fate_facts *f, enum fate_action then, bool ok)
{
	struct fate d = {.then = then, .ok = ok};

	d.fallback = fallback_of(f, then);
	return d;
}

static struct fate
given_up(const struct fate_facts *f)
{
	struct fate d = make(f, give_up_action(f), false);

	d.give_up = true;
	return d;
}

/* Several transactions, none delivered, some refused for now and some
 * for good: the recipients part ways, as after a partial delivery. */
static bool
apart(const struct fate_facts *f)
{
	return f->split && !f->delivered && f->nretry > 0 &&
	       f->kind != ERROR_TEMPFAIL && f->kind != ERROR_NONE;
}

/* Delivered to some recipients: the others refused for now are queued
 * (a message in hand: unless the policy is never, which gives them up to
 * the dead letter file); what else happens depends on whether any refusal
 * was permanent. */
static struct fate
partly(const struct fate_facts *f)
{
	bool temporary = f->kind == ERROR_TEMPFAIL;
	struct fate d;

	if (f->origin == FATE_NEW) {
		/* Those refused for now are the only ones a copy would
		 * reach later: with no queue they are given up as a whole
		 * message would be, not dropped unsaved. */
		if (f->nretry > 0 && f->policy == QUEUE_NEVER)
			return given_up(f);
		/* A server has the message: no dead letter copy for those
		 * refused for good; the failure tells who did not get it.
		 * When none has it (split), they get the dead letter. */
		d = f->delivered ? make(f, FATE_DONE, false) : given_up(f);
		d.queue_rest = f->nretry > 0;
		d.ok = d.queue_rest && temporary;
		/* The rest that the queue cannot take is saved as a whole
		 * message would be: no mail lost. */
		if (d.queue_rest)
			d.fallback = give_up_action(f);
		return d;
	}
	d = temporary ? make(f, FATE_DONE, true) : given_up(f);
	/* The rest is queued before the entry goes or shrinks, so a crash
	 * can only repeat a delivery, never lose one.  Kept whole, the
	 * entry would go again to those who have it: it keeps only those
	 * who still need it. */
	d.queue_rest = f->nretry > 0;
	if (d.then == FATE_KEEP)
		d.then = FATE_SHRINK;
	d.fallback = FATE_SHRINK;
	return d;
}

static struct fate
decide_new(const struct fate_facts *f)
{
	if (f->policy == QUEUE_ALWAYS && !f->tried)
		return make(f, FATE_QUEUE, true);
	if (f->kind == ERROR_NONE)
		return make(f, FATE_DONE, true);
	if (f->delivered || apart(f))
		return partly(f);
	if (f->interrupted) /* always a failure: the exit status says so */
		return f->policy != QUEUE_NEVER ? make(f, FATE_QUEUE, false)
		                                : given_up(f);
	if (f->kind == ERROR_TEMPFAIL && f->policy == QUEUE_ON_FAILURE)
		return make(f, FATE_QUEUE, true);
	return given_up(f);
}

static struct fate
decide_queued(const struct fate_facts *f)
{
	struct fate d;

	if (f->unusable) {
		/* The configuration's fault, not the message's: whatever
		 * its age, the entry waits until someone fixes it. */
		d = make(f, FATE_QUEUE, false);
		d.loud = true;
		return d;
	}
	if (f->expired)
		return given_up(f);
	if (!f->tried)
		return make(f, FATE_TRY, true);
	if (f->kind == ERROR_NONE)
		return make(f, FATE_DONE, true);
	/* Before the signal: an entry left whole after a partial delivery
	 * would be delivered again to those who have it. */
	if (f->delivered || apart(f))
		return partly(f);
	if (f->interrupted)
		return make(f, FATE_KEEP, false);
	if (f->kind == ERROR_TEMPFAIL || f->before_mail) {
		/* Nothing reached the server: no reason to give the message
		 * up, but a refused session (authentication, TLS, an unknown
		 * host) will not cure itself. */
		d = make(f, FATE_QUEUE, f->kind == ERROR_TEMPFAIL);
		d.loud = f->kind != ERROR_TEMPFAIL;
		return d;
	}
	return given_up(f);
}

struct fate
fate_decide(const struct fate_facts *f)
{
	return f->origin == FATE_NEW ? decide_new(f) : decide_queued(f);
}

time_t
fate_next_attempt(time_t now, unsigned attempts, long backoff)
{
	long delay = backoff;

	if (backoff <= 0)
		return 0;
	for (unsigned i = 1; i < attempts && delay < FATE_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > FATE_BACKOFF_MAX)
		delay = FATE_BACKOFF_MAX;
	return now + delay;
}

bool
fate_expired(time_t now, time_t created, long max_age)
{
	return now - created > (max_age > 0 ? max_age : CONF_QUEUE_MAX_AGE);
}

void
fate_failed_attempt(struct queue_envelope *env, const char *why, time_t now,
                    long backoff)
{
	if (env->created <= 0)
		env->created = now;
	env->attempts++;
	env->last_attempt = now;
	env->last_error = (char *)why;
	env->next_attempt = fate_next_attempt(now, env->attempts, backoff);
}

void
fate_rest(struct queue_envelope *rest, const struct queue_envelope *env,
          const char *why, time_t now, long backoff)
{
	*rest = *env;
	envelope_init(&rest->env);
	envelope_copy_state(&rest->env, &env->env, ENVELOPE_REFUSED_TEMP);
	fate_failed_attempt(rest, why, now, backoff);
}

void
fate_rcpts(const struct envelope *env, unsigned states, char *out, size_t size)
{
	size_t used = 0, len;

	if (size == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < env->nrcpts; i++) {
		if (!(states & ENVELOPE_BIT(env->rcpts[i].state)))
			continue;
		len = strlen(env->rcpts[i].addr) + (used ? 2 : 0);
		if (used + len + 6 > size) { /* room for ", ..." and NUL */
			snprintf(out + used, size - used, "%s...",
			         used ? ", " : "");
			return;
		}
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		                         used ? ", " : "", env->rcpts[i].addr);
	}
}

/* A failure's reply by its class: what may pass later is 451 (the client
 * keeps the message and tries again), what will not is 5xx. */
static const char *
failure_reply(enum error_kind kind)
{
	switch (kind) {
	case ERROR_TEMPFAIL:
	case ERROR_OSERR:
	case ERROR_IOERR:
		return "451 4.3.0";
	case ERROR_NOUSER:
		return "550 5.1.1";
	case ERROR_DATA:
		return "554 5.6.0";
	default:
		return "554 5.0.0";
	}
}

void
fate_reply(const char *queue_id, bool delivered, const struct error *err,
           char *line, size_t size)
{
	if (queue_id)
		snprintf(line, size, "250 2.0.0 Ok: queued as %s", queue_id);
	else if (!err || err->kind == ERROR_NONE)
		snprintf(line, size, "250 2.0.0 Ok: delivered");
	else if (delivered)
		snprintf(line, size, "250 2.0.0 Ok: delivered in part: %.400s",
		         err->msg);
	else
		snprintf(line, size, "%s %.400s", failure_reply(err->kind),
		         err->msg);
}
