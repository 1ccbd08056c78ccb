/*
 * flush.c - the queue runner (see flush.h).
 */
#include "config.h"

#include "flush.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deadletter.h"
#include "fate.h"
#include "interrupt.h"
#include "queue.h"
#include "relay.h"
#include "submit.h"
#include "util.h"

/* One run's state. */
struct run {
	const struct flush_request *fr;
	struct flush_report *rep;
	struct queue *q;
	struct queue *dead; /* the spool's dead letters, opened on need */
	/* Owners whose dead letter took too long (a lock of theirs on the
	 * file, a hung home): their next ones go to dead/ at once, so that
	 * one user cannot hold every other's mail owner_seconds per entry. */
	uid_t *slow;
	size_t nslow;
	int owner_seconds; /* an owner's dead letter's time limit */
	time_t now;
	bool stop; /* a signal: no further entry */
};

/* One group: the entries of one account (and remembered host and port). */
struct group {
	struct account acct;
	bool acct_ok;
	struct error acct_err;
	struct relay_route route;
	bool route_ok;
	struct submit_session *ss;
	size_t hop;
	bool unreachable; /* the connection failed: defer the rest */
	struct error conn_err;
	char *dead_letter;    /* path, or NULL for none */
	bool dead_letter_off; /* none because dead_letter is off */
	struct submit_report report; /* the group's session (the log hook's
	                              * machine-readable result) */
};

static void notice(const struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
notice(const struct run *r, const char *fmt, ...)
{
	char line[ERROR_MSG_MAX + 256];
	va_list ap;

	if (!r->fr->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* Entries carry text of their writer's (a last error, addresses:
	 * in the machine's spool, another user's) to root's terminal. */
	str_censor_utf8(line, strlen(line));
	r->fr->notice(r->fr->notice_ctx, line);
}

/* A queue operation failed (its notice is given): whatever became of the
 * message, the run must not end as a success. */
static void
troubled(struct run *r, const struct error *err)
{
	r->rep->trouble++;
	r->rep->trouble_kind = error_worse(r->rep->trouble_kind, err->kind);
}

static bool
contains(const char *hay, const char *needle)
{
	return hay && needle && strstr(hay, needle) != NULL;
}

/* Chosen by -qI, -qR or -qS. */
static bool
selected(const struct flush_request *fr, const struct queue_envelope *e)
{
	switch (fr->select) {
	case 'I':
		return contains(e->id, fr->match);
	case 'S':
		return contains(e->env.sender, fr->match);
	case 'R':
		for (size_t i = 0; i < e->env.nrcpts; i++)
			if (contains(e->env.rcpts[i].addr, fr->match))
				return true;
		return false;
	default:
		return true;
	}
}

/* Left for later by a run that honours the back-off schedule.  A next
 * attempt further ahead than the longest back-off was set by a clock that
 * ran ahead and was set back since (a machine without a battery-backed
 * clock): due now, or the entry would wait, silently, as long as the
 * clock was wrong. */
static bool
not_due(const struct run *r, const struct queue_envelope *e)
{
	return r->fr->due_only && e->next_attempt > r->now &&
	       e->next_attempt - r->now <= FATE_BACKOFF_MAX;
}

/* Of this run's selection (whether due or not). */
static bool
chosen(const struct run *r, const struct queue_envelope *e)
{
	const struct flush_request *fr = r->fr;

	if (!selected(fr, e))
		return false;
	return !fr->only_account ||
	       strcmp(fr->only_account, e->env.account ? e->env.account : "") ==
	           0;
}

static bool
wanted(const struct run *r, const struct queue_envelope *e)
{
	return chosen(r, e) && !not_due(r, e);
}

static bool
str_same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool
same_group(const struct queue_envelope *a, const struct queue_envelope *b)
{
	return str_same(a->env.account, b->env.account) &&
	       str_same(a->env.host, b->env.host) && a->env.port == b->env.port;
}

/* Another user's entry in the machine's spool (root's flush): its dead
 * letter is the owner's, and it never names its own server. */
static bool
foreign(const struct run *r, const struct queue_envelope *e)
{
	return r->fr->spool && e->owner != geteuid();
}

/* The dead letter file of a group: the override, else the account's (when
 * it could be loaded), else the default; "off" is none on purpose. */
static void
group_dead_letter(const struct run *r, struct group *g)
{
	const char *p = r->fr->dead_letter;
	struct error e;

	if (!p && g->acct_ok)
		p = g->acct.dead_letter;
	if (p && str_ieq(p, "off"))
		g->dead_letter_off = true;
	else if (p)
		g->dead_letter = xstrdup(p);
	else
		g->dead_letter = deadletter_default_path(&e);
}

static void
group_open(struct run *r, struct group *g, const struct queue_envelope *e)
{
	memset(g, 0, sizeof *g);
	error_clear(&g->acct_err);
	error_clear(&g->conn_err);
	if (r->fr->account(r->fr->account_ctx,
	                   e->env.account ? e->env.account : "", e->env.host,
	                   e->env.port, &g->acct, &g->acct_err) == 0)
		g->acct_ok = true;
	group_dead_letter(r, g);
	if (g->acct_ok &&
	    relay_route_build(&g->route, &g->acct, r->fr->cfg, r->fr->finish,
	                      r->fr->transcript, &g->acct_err) == 0)
		g->route_ok = true;
	g->route.report = &g->report;
}

static void
group_close(struct group *g)
{
	submit_close(g->ss);
	submit_report_clear(&g->report);
	if (g->route_ok)
		relay_route_clear(&g->route);
	if (g->acct_ok)
		account_clear(&g->acct);
	free(g->dead_letter);
}

/* What an entry of another user's records of why: an error of the
 * system configuration (an account renamed away, a fallback loop, a user
 * without a password) quotes its names and values, which only root and
 * the group may read, and so does an AUTH failure, which names the
 * account's user (sasl.h); the entry is its owner's to read (mailq,
 * --queue-show, the file itself): it gets where to look instead, and
 * root's notice the whole message. */
static const char *
recorded_error(const struct run *r, const struct group *g,
               const struct queue_envelope *e, const struct error *why)
{
	const char *user = g->acct_ok ? g->acct.user : NULL;

	if (!foreign(r, e))
		return why->msg;
	if (why->kind == ERROR_CONFIG)
		return "an error in the system configuration (shown only to "
		       "root and the system sendmail's group): root's flush "
		       "says what";
	if (user && *user && strstr(why->msg, user) != NULL)
		return "a failure that names the system configuration's user "
		       "(shown only to root and the system sendmail's "
		       "group): root's flush says what";
	return why->msg;
}

/* An attempt failed for now: the entry is marked (attempts + 1, why, the
 * next attempt by the account's back-off); 0, or -1 after a notice. */
static int
mark_failed(struct run *r, const struct group *g, struct queue_entry *qe,
            const struct error *why)
{
	const struct queue_envelope *e = queue_entry_envelope(qe);
	long backoff = g->acct_ok ? g->acct.queue_backoff : CONF_QUEUE_BACKOFF;
	time_t next = fate_next_attempt(r->now, e->attempts + 1, backoff);
	struct error err;

	error_clear(&err);
	if (queue_entry_failed(qe, recorded_error(r, g, e, why), r->now, next,
	                       &err) == 0)
		return 0;
	notice(r, "%s: %s", e->id, err.msg);
	troubled(r, &err);
	return -1;
}

/* The message could not be offered (or only for now): the entry stays,
 * tried again later.  A session refused for good (authentication, TLS, an
 * unknown host: fate.h's `loud`) is no reason to give the message up, but
 * waiting will not cure it either: said on every run, not only with -v,
 * and counted so that the run does not end as a success. */
static void
defer(struct run *r, const struct group *g, struct queue_entry *qe,
      const struct error *why, bool blocked)
{
	r->rep->deferred++;
	if (blocked) {
		r->rep->blocked++;
		r->rep->blocked_kind =
		    error_worse(r->rep->blocked_kind, why->kind);
	}
	if (mark_failed(r, g, qe, why) == 0 && (r->fr->verbose || blocked))
		notice(r, "%s: deferred: %s", queue_entry_envelope(qe)->id,
		       why->msg);
}

/* The entry's account cannot be used (why: g->acct_err): the
 * configuration's fault, not the message's, so the entry waits whatever
 * its age; said on every run, not only with -v, since nothing will go
 * until someone fixes the configuration. */
static void
hold(struct run *r, const struct group *g, struct queue_entry *qe)
{
	r->rep->held++;
	r->rep->held_kind = error_worse(r->rep->held_kind, g->acct_err.kind);
	mark_failed(r, g, qe, &g->acct_err);
	notice(r, "%s: %s; kept in the queue until that is fixed",
	       queue_entry_envelope(qe)->id, g->acct_err.msg);
}

/* Delivered to some (fate.h's FATE_SHRINK): the entry keeps only the
 * recipients in `states` (ENVELOPE_BIT), those who still need the
 * message and have no entry of their own: refused for good, whose copy
 * cannot be saved (cause), and refused for now when their entry could not
 * be made; so the next run delivers to none who has it.  If even that
 * cannot be written the entry stays whole, and the notice says what that
 * means. */
static void
shrink(struct run *r, const struct group *g, struct queue_entry *qe,
       unsigned states, const char *why, const char *cause)
{
	const struct queue_envelope *e = queue_entry_envelope(qe);
	long backoff = g->acct_ok ? g->acct.queue_backoff : CONF_QUEUE_BACKOFF;
	time_t next = fate_next_attempt(r->now, e->attempts + 1, backoff);
	char rcpts[ERROR_MSG_MAX / 2];
	struct error err;

	error_clear(&err);
	fate_rcpts(&e->env, states, rcpts, sizeof rcpts);
	if (queue_entry_narrow(qe, states, why, r->now, next, &err) == 0) {
		notice(r, "%s: %s; kept in the queue for %s only: %s", e->id,
		       why, rcpts, cause);
		return;
	}
	notice(r,
	       "%s: %s; kept in the queue whole (%s; %s): the next run "
	       "delivers again to those who have it",
	       e->id, why, cause, err.msg);
	troubled(r, &err);
}

/* Into the spool's dead letters, with the recipients in `states` (0:
 * all), saying why. */
static int
bury(struct run *r, struct queue_entry *qe, unsigned states, const char *why,
     struct error *err)
{
	if (!r->dead && queue_open_shared_dead(&r->dead, r->fr->queue_dir,
	                                       *r->fr->spool, err) < 0)
		return -1;
	return queue_entry_bury(qe, r->dead, states, why, r->now, err);
}

static bool
is_slow(const struct run *r, uid_t uid)
{
	for (size_t i = 0; i < r->nslow; i++)
		if (r->slow[i] == uid)
			return true;
	return false;
}

/* Another user's entry of the machine's spool, given up: the dead letter
 * goes to the owner's home, written as the owner (deadletter_append_as:
 * root never writes there), else into the spool's dead letters, kept
 * with its owner; never into root's file.  partial: delivered to some,
 * so only those refused for good stay in it.  Whether the entry stays in
 * the queue (neither could take it). */
static bool
give_up_for_owner(struct run *r, const struct group *g, struct queue_entry *qe,
                  bool partial, const char *why)
{
	const struct queue_envelope *e = queue_entry_envelope(qe);
	struct message_stream m = queue_entry_message(qe);
	unsigned states = partial ? ENVELOPE_BIT(ENVELOPE_REFUSED_PERM) : 0;
	struct error home_err, err;
	char who[64], *path = NULL;
	int rc;

	queue_owner_name(e->owner, who, sizeof who);
	error_clear(&home_err);
	error_clear(&err);
	if (is_slow(r, e->owner))
		rc = error_set(&home_err, ERROR_TEMPFAIL,
		               "an earlier dead letter of %s's took more than "
		               "%d seconds",
		               who, r->owner_seconds);
	else
		rc = deadletter_append_as(e->owner, r->owner_seconds,
		                          e->env.sender, r->now, &m, &path,
		                          &home_err);
	free(path);
	/* Only a child that ran out of time says ERROR_TEMPFAIL. */
	if (rc < 0 && home_err.kind == ERROR_TEMPFAIL &&
	    !is_slow(r, e->owner)) {
		r->slow = xrealloc(r->slow, (r->nslow + 1) * sizeof *r->slow);
		r->slow[r->nslow++] = e->owner;
	}
	if (rc == 0 && queue_entry_remove(qe, &err) == 0)
		notice(r,
		       "%s: %s; the message was saved to the dead.letter "
		       "of %s",
		       e->id, why, who);
	else if (rc == 0)
		notice(r, "%s: %s", e->id, err.msg);
	if (rc == 0)
		return !queue_entry_removed(qe);
	if (bury(r, qe, states, why, &err) == 0) {
		notice(r,
		       "%s: %s; %s; the message is kept for %s in the "
		       "spool's dead letters (mailq lists them)",
		       e->id, why, home_err.msg, who);
		return false;
	}
	troubled(r, &err);
	if (partial)
		shrink(r, g, qe, states, why, err.msg);
	else
		notice(r, "%s: %s; kept in the queue: %s; %s", e->id, why,
		       home_err.msg, err.msg);
	return !queue_entry_removed(qe);
}

/* Given up (to: FATE_DEAD_LETTER, FATE_DROP with dead_letter off,
 * FATE_KEEP with no dead letter file found, FATE_SHRINK for that after a
 * partial delivery): to the dead letter file, out of the queue.  If the
 * message cannot be saved it stays queued (fallback FATE_SHRINK: for
 * those refused for good only).  Whether the entry stays in the queue,
 * for the log line. */
static bool
give_up(struct run *r, const struct group *g, struct queue_entry *qe,
        enum fate_action to, enum fate_action fallback, const char *why,
        enum error_kind kind)
{
	static const char no_file[] = "no dead letter file (set dead_letter)";
	const struct queue_envelope *e = queue_entry_envelope(qe);
	struct message_stream m = queue_entry_message(qe);
	struct error err;

	error_clear(&err);
	r->rep->failed++;
	r->rep->worst = error_worse(r->rep->worst, kind);
	if (to == FATE_SHRINK) {
		shrink(r, g, qe, ENVELOPE_BIT(ENVELOPE_REFUSED_PERM), why,
		       no_file);
		return true;
	}
	if (to == FATE_KEEP) {
		notice(r, "%s: %s; kept in the queue: %s", e->id, why, no_file);
		return true;
	}
	if (to == FATE_DEAD_LETTER && foreign(r, e))
		return give_up_for_owner(r, g, qe, fallback == FATE_SHRINK,
		                         why);
	if (to == FATE_DEAD_LETTER &&
	    deadletter_append(g->dead_letter, e->env.sender, r->now, &m, &err) <
	        0) {
		if (fallback == FATE_SHRINK)
			shrink(r, g, qe, ENVELOPE_BIT(ENVELOPE_REFUSED_PERM),
			       why, err.msg);
		else
			notice(r, "%s: %s; kept in the queue: %s", e->id, why,
			       err.msg);
		return true;
	}
	if (queue_entry_remove(qe, &err) < 0) {
		notice(r, "%s: %s", e->id, err.msg);
		return !queue_entry_removed(qe);
	}
	if (to == FATE_DEAD_LETTER)
		notice(r, "%s: %s; the message was saved to %s", e->id, why,
		       g->dead_letter);
	else
		notice(r, "%s: %s; the message was removed (dead_letter off)",
		       e->id, why);
	return false;
}

/* The dead letter file a given-up entry went to (to: the give-up's
 * action; kept: it stayed in the queue instead), or NULL: another
 * user's goes to that user's home or the spool's dead/, not named. */
static const char *
saved_to(const struct run *r, const struct group *g,
         const struct queue_envelope *e, enum fate_action to, bool kept)
{
	if (kept || to != FATE_DEAD_LETTER || foreign(r, e))
		return NULL;
	return g->dead_letter;
}

/* The result line of the attempt at entry e (as it was before the
 * attempt's outcome changed it) where its account logs (why: the
 * failure, ERROR_NONE when delivered to all; out: what the server said,
 * NULL when nothing was sent; kept: the id the message stays queued
 * under, or NULL; saved: the dead letter file it went to, or NULL). */
static void
log_result(const struct run *r, const struct group *g,
           const struct queue_envelope *e, const struct submit_outcome *out,
           const struct error *why, const char *kept, const char *saved)
{
	char who[64];
	struct maillog_entry m = {
	    .owner = foreign(r, e) ? queue_owner_name(e->owner, who, sizeof who)
	                           : NULL,
	    .host = out && out->host[0] ? out->host : g->acct.host,
	    .tls = g->acct.tls,
	    .auth = g->acct.auth != NULL,
	    .user = g->acct.user,
	    .env = &e->env,
	    .size = e->size,
	    .error = why,
	    .reply_code = out ? out->final_code : 0,
	    .reply = out ? out->final_reply : "",
	    .queued_id = kept,
	    .entry_id = e->id,
	    .session = g->report.tried ? &g->report : NULL,
	    .outcome = out,
	    .dead_letter = saved,
	};

	if (r->fr->log && g->acct_ok)
		r->fr->log(r->fr->log_ctx, &g->acct, &m);
}

static void
expire(struct run *r, const struct group *g, struct queue_entry *qe,
       enum fate_action to)
{
	const struct queue_envelope *e = queue_entry_envelope(qe);
	char why[ERROR_MSG_MAX + 128];
	long days = (long)(r->now - e->created) / 86400;
	struct error gave_up;
	bool kept;

	snprintf(why, sizeof why,
	         "gave up after %u attempts over %ld day%s (last error: %s)",
	         e->attempts, days, days == 1 ? "" : "s",
	         e->last_error ? e->last_error : "none");
	error_clear(&gave_up);
	error_set(&gave_up, ERROR_TEMPFAIL, "%s", why);
	/* Expired, the entry keeps its recipients: it is still e. */
	kept = give_up(r, g, qe, to, FATE_KEEP, why, ERROR_TEMPFAIL);
	log_result(r, g, e, NULL, &gave_up, kept ? e->id : NULL,
	           saved_to(r, g, e, to, kept));
}

/* The connection for the group, opened on first need. */
static bool
group_connect(struct run *r, struct group *g)
{
	if (g->ss)
		return true;
	if (g->unreachable || !g->route_ok)
		return false;
	if (relay_open(&g->route, &g->ss, &g->hop, &g->conn_err) == 0)
		return true;
	g->unreachable = true;
	if (interrupt_signal())
		r->stop = true;
	return false;
}

/* Delivered (to every recipient, or to some when the others went on
 * with an entry of their own or were given up): out of the queue. */
static void
sent_ok(struct run *r, struct queue_entry *qe, bool whole)
{
	const struct queue_envelope *e = queue_entry_envelope(qe);
	struct error err;

	error_clear(&err);
	if (queue_entry_remove(qe, &err) < 0) {
		notice(r, whole ? "%s: delivered, but %s" : "%s: %s", e->id,
		       err.msg);
		troubled(r, &err);
	} else if (whole && r->fr->verbose)
		notice(r, "%s: delivered", e->id);
}

/* Delivered to some recipients: those refused for now (their state in the
 * entry's envelope, as the attempt recorded it) get an entry of their own
 * (same age, one more attempt), queued before this one goes, so a crash
 * in between can only repeat a delivery.  0 (its id in id), or -1 when
 * it could not be queued: the entry then keeps every recipient who did
 * not get the message (shrink), and the give-up of those refused for good
 * waits for a later run. */
static int
queue_rest(struct run *r, const struct group *g, struct queue_entry *qe,
           const struct error *why, char id[QUEUE_ID_SIZE])
{
	const struct queue_envelope *e = queue_entry_envelope(qe);
	struct queue_envelope rest;
	struct message_stream m = queue_entry_message(qe);
	char cause[ERROR_MSG_MAX + 64];
	struct error err;
	int rc;

	error_clear(&err);
	fate_rest(&rest, e, recorded_error(r, g, e, why), r->now,
	          g->acct.queue_backoff);
	rc = queue_add(r->q, &rest, &m, id, &err);
	envelope_clear(&rest.env);
	if (rc < 0) {
		troubled(r, &err);
		snprintf(cause, sizeof cause, "no entry of their own: %s",
		         err.msg);
		shrink(r, g, qe,
		       ENVELOPE_BIT(ENVELOPE_REFUSED_TEMP) |
		           ENVELOPE_BIT(ENVELOPE_REFUSED_PERM),
		       why->msg, cause);
		return -1;
	}
	notice(r, "%s: %s; queued as %s for the %zu refused for now", e->id,
	       why->msg, id, envelope_count(&e->env, ENVELOPE_REFUSED_TEMP));
	return 0;
}

/* What is known of an entry before its attempt. */
static struct fate_facts
entry_facts(const struct run *r, const struct group *g,
            const struct queue_envelope *e)
{
	/* Another user's dead letter has a place whatever root's has (its
	 * home, else dead/), dead_letter off included: that is root's word
	 * on its own mail, and the owner, told "queued", must find it. */
	bool file = g->dead_letter || foreign(r, e);

	return (struct fate_facts){
	    .origin = FATE_QUEUED,
	    .dead_letter = file                 ? FATE_DL_FILE
	                   : g->dead_letter_off ? FATE_DL_OFF
	                                        : FATE_DL_NONE,
	    .unusable = !g->acct_ok || !g->route_ok,
	    .expired = fate_expired(r->now, e->created, g->acct.queue_max_age),
	};
}

/* Another user's entry naming its own server: the system
 * configuration's account never goes there (as override_queued refuses
 * a caller's own entry): its password would.  Kept, said on every run,
 * until root removes it. */
static bool
refuse_server(struct run *r, const struct group *g, struct queue_entry *qe)
{
	const struct queue_envelope *e = queue_entry_envelope(qe);
	struct error why;

	if (!foreign(r, e) || (!e->env.host && !e->env.port))
		return false;
	error_set(&why, ERROR_CONFIG,
	          "the entry names its own server, which an account of the "
	          "system configuration never takes for another user: it "
	          "could take its password elsewhere; remove the entry with "
	          "--queue-remove");
	r->rep->held++;
	r->rep->held_kind = error_worse(r->rep->held_kind, why.kind);
	mark_failed(r, g, qe, &why);
	notice(r, "%s: %s", e->id, why.msg);
	return true;
}

/* The id the message stays queued under after fate d (rest: the id of
 * the rest's own entry, or ""), or NULL when it leaves the queue. */
static const char *
kept_as(const struct fate *d, const struct queue_envelope *e, const char *rest)
{
	if (d->then == FATE_QUEUE || d->then == FATE_KEEP ||
	    d->then == FATE_SHRINK)
		return e->id;
	return *rest ? rest : NULL;
}

/* Carry out fate_decide's word after an attempt (why: its failure; out:
 * what the server said, NULL when the attempt reached none), and log
 * it. */
static void
after_attempt(struct run *r, const struct group *g, struct queue_entry *qe,
              const struct fate_facts *f, const struct error *why,
              const struct submit_outcome *out)
{
	const struct queue_envelope *e = queue_entry_envelope(qe);
	struct fate d = fate_decide(f);
	char rest[QUEUE_ID_SIZE] = "";
	/* The log line names the entry's recipients as tried: a shrink
	 * below narrows e. */
	struct queue_envelope tried = *e;
	const char *kept, *saved = NULL;
	bool rest_failed = false;

	envelope_init(&tried.env);
	envelope_copy(&tried.env, &e->env);
	tried.last_error = NULL;
	if (f->interrupted)
		r->stop = true; /* no further entry */
	if (f->kind == ERROR_NONE || f->delivered)
		r->rep->delivered++;
	if (d.queue_rest && queue_rest(r, g, qe, why, rest) < 0) {
		rest_failed = true;
		kept = tried.id; /* shrunk, the give-up for a later run */
	} else if (d.give_up &&
	           give_up(r, g, qe, d.then, d.fallback, why->msg, why->kind))
		kept = tried.id; /* the dead letter could not take it */
	else {
		kept = kept_as(&d, &tried, rest);
		saved =
		    d.give_up ? saved_to(r, g, &tried, d.then, false) : NULL;
	}
	log_result(r, g, &tried, out, why, kept, saved);
	envelope_clear(&tried.env);
	if (rest_failed || d.give_up)
		return;
	if (d.then == FATE_DONE)
		sent_ok(r, qe, f->kind == ERROR_NONE);
	else if (d.then == FATE_QUEUE)
		defer(r, g, qe, why, d.loud);
	/* FATE_KEEP: the entry stays as it was */
}

/* Offer the message on the group's session, and once more on a fresh one
 * when that session could not take it at all: a server that ends the
 * session after a message (a per-connection limit, a 421) has not seen
 * this one, which deserves a connection rather than a deferral. */
static int
offer(struct run *r, struct group *g, const struct submission *sub,
      struct submit_outcome *out, struct error *err)
{
	if (submit_message(g->ss, sub, out, err) == 0)
		return 0;
	if (!out->before_mail || interrupt_signal())
		return -1;
	submit_close(g->ss);
	g->ss = NULL;
	if (!group_connect(r, g)) {
		*err = g->conn_err;
		return -1;
	}
	error_clear(err);
	return submit_message(g->ss, sub, out, err);
}

static void
send_entry(struct run *r, struct group *g, struct queue_entry *qe)
{
	struct queue_envelope *e = queue_entry_envelope(qe);
	struct submission sub = {
	    .env = &e->env, /* the attempt records its recipients' states */
	    .message = queue_entry_message(qe),
	    .rcpt_policy = g->acct.rcpt_policy,
	    .transcript = r->fr->transcript,
	    .more_follow = true,
	};
	struct submit_outcome out = {0};
	struct fate_facts f = entry_facts(r, g, e);
	struct error err;
	int rc;

	f.tried = true;
	error_clear(&err);
	if (relay_direct(&g->route)) {
		/* Its own transactions, one per recipient domain, each on
		 * the connections of its MX hosts: no group session. */
		sub.account = &g->acct;
		sub.more_follow = false;
		sub.report = &g->report;
		rc = relay_send(&g->route, &sub, &out, &err);
	} else if (relay_submission(&g->route, g->hop, &sub, &err) < 0) {
		/* No secret (the account's fault): nothing was offered. */
		f.before_mail = true;
		f.kind = err.kind;
		after_attempt(r, g, qe, &f, &err, NULL);
		return;
	} else
		rc = offer(r, g, &sub, &out, &err);
	/* As a direct send says it (send.c): the message went, without the
	 * notifications its sender asked for. */
	if (out.delivered && out.dsn_unoffered)
		notice(r,
		       "%s: %s does not offer DSN (RFC 3461): the message went "
		       "without the delivery notifications asked for",
		       e->id, out.host[0] ? out.host : "the server");
	if (rc < 0) {
		f.kind = err.kind;
		f.split = relay_direct(&g->route);
		f.delivered = out.delivered;
		f.nretry = envelope_count(&e->env, ENVELOPE_REFUSED_TEMP);
		f.before_mail = out.before_mail;
		f.interrupted = interrupt_signal() != 0;
		if (g->ss && !submit_usable(g->ss)) {
			submit_close(g->ss);
			g->ss = NULL;
		}
	}
	after_attempt(r, g, qe, &f, &err, &out);
}

/* One entry of a group: claimed, checked again, then sent or deferred. */
static void
run_entry(struct run *r, struct group *g, const char *id)
{
	struct queue_entry *qe = NULL;
	struct fate_facts f;
	struct fate d;
	struct error err;
	int rc;

	error_clear(&err);
	rc = queue_claim(r->q, id, &qe, &err);
	if (rc == QUEUE_BUSY)
		r->rep->skipped++;
	if (rc < 0) {
		notice(r, "%s: %s", id, err.msg);
		troubled(r, &err);
	}
	if (rc == QUEUE_DAMAGED) /* since it was listed: named at the end */
		queue_entry_release(qe);
	if (rc != QUEUE_CLAIMED)
		return;
	/* Re-read under the lock: another runner may have just tried it. */
	if (!wanted(r, queue_entry_envelope(qe))) {
		queue_entry_release(qe);
		return;
	}
	if (refuse_server(r, g, qe)) {
		queue_entry_release(qe);
		return;
	}
	f = entry_facts(r, g, queue_entry_envelope(qe));
	d = fate_decide(&f);
	if (d.then == FATE_QUEUE) /* before an attempt: held */
		hold(r, g, qe);
	else if (d.then != FATE_TRY)
		expire(r, g, qe, d.then);
	else if (relay_direct(&g->route) || group_connect(r, g))
		send_entry(r, g, qe);
	else {
		f.tried = f.before_mail = true;
		f.kind = g->conn_err.kind;
		f.interrupted = interrupt_signal() != 0;
		after_attempt(r, g, qe, &f, &g->conn_err, NULL);
	}
	queue_entry_release(qe);
}

/* What this run leaves out is marked done; with -v, an entry of the
 * selection that waits for its next attempt time says so. */
static void
skip_unwanted(struct run *r, const struct queue_envelope *v, size_t n,
              bool *done)
{
	for (size_t i = 0; i < n; i++) {
		if (wanted(r, &v[i]))
			continue;
		done[i] = true;
		if (r->fr->verbose && chosen(r, &v[i]))
			notice(r,
			       "%s: not due: next attempt in %llds (%u "
			       "attempt%s so far)",
			       v[i].id, (long long)(v[i].next_attempt - r->now),
			       v[i].attempts, v[i].attempts == 1 ? "" : "s");
	}
}

static void
run_groups(struct run *r, struct queue_envelope *v, size_t n)
{
	bool *done = xcalloc(n ? n : 1, sizeof *done);

	skip_unwanted(r, v, n, done);
	for (size_t i = 0; i < n && !r->stop; i++) {
		struct group g;

		if (done[i])
			continue;
		group_open(r, &g, &v[i]);
		for (size_t j = i; j < n && !r->stop; j++) {
			if (done[j] || !same_group(&v[i], &v[j]))
				continue;
			done[j] = true;
			run_entry(r, &g, v[j].id);
			if (interrupt_signal())
				r->stop = true;
		}
		group_close(&g);
	}
	free(done);
}

/* Entries that cannot be read are never sent: each run says so. */
static void
report_damaged(struct run *r)
{
	struct strlist damaged;
	struct error err;

	strlist_init(&damaged);
	error_clear(&err);
	if (queue_damaged(r->q, &damaged, &err) < 0) {
		notice(r, "%s", err.msg);
		troubled(r, &err);
	}
	/* Each line says what to do: after a successful send (the flush of
	 * flush_after_send) no summary line follows. */
	for (size_t i = 0; i < damaged.n; i++)
		notice(
		    r,
		    "%s; left in the queue, never sent: look at it with "
		    "mailpost --queue-show %.*s, remove it with --queue-remove",
		    damaged.v[i], QUEUE_ID_LEN, damaged.v[i]);
	r->rep->damaged = damaged.n;
	strlist_clear(&damaged);
}

int
flush_run(const struct flush_request *fr, struct flush_report *rep,
          struct error *err)
{
	struct run r = {.fr = fr,
	                .rep = rep,
	                .owner_seconds = fr->owner_dead_letter_seconds > 0
	                                     ? fr->owner_dead_letter_seconds
	                                     : DEADLETTER_CHILD_SECONDS,
	                .now = fr->clock ? fr->clock() : time(NULL)};
	struct queue_envelope *v = NULL;
	struct stat st;
	size_t n = 0;

	memset(rep, 0, sizeof *rep);
	if (lstat(fr->queue_dir, &st) < 0 && errno == ENOENT)
		return 0;
	if (queue_open_as(&r.q, fr->queue_dir, fr->spool, fr->clock, err) < 0)
		return -1;
	if (queue_list(r.q, &v, &n, err) < 0) {
		queue_close(r.q);
		return -1;
	}
	run_groups(&r, v, n);
	queue_list_free(v, n);
	report_damaged(&r);
	free(r.slow);
	queue_close(r.dead);
	queue_close(r.q);
	if (r.stop)
		return interrupt_error(err);
	return 0;
}

int
flush_verdict(const struct flush_report *rep, const char *dir,
              struct error *err)
{
	if (rep->trouble > 0 && rep->worst == ERROR_NONE && rep->held == 0 &&
	    rep->blocked == 0)
		return error_set(
		    err, rep->trouble_kind,
		    "%zu change%s to the queue failed (see above); "
		    "check the disk and the queue directory %s",
		    rep->trouble, rep->trouble == 1 ? "" : "s", dir);
	if (rep->worst != ERROR_NONE)
		return error_set(err, rep->worst,
		                 "%zu queued message%s failed permanently",
		                 rep->failed, rep->failed == 1 ? "" : "s");
	if (rep->held > 0)
		return error_set(err, rep->held_kind,
		                 "%zu queued message%s cannot be sent with the "
		                 "configuration as it is; fix it, or remove %s "
		                 "with mailpost --queue-remove ID",
		                 rep->held, rep->held == 1 ? "" : "s",
		                 rep->held == 1 ? "it" : "them");
	if (rep->blocked > 0)
		return error_set(err, rep->blocked_kind,
		                 "%zu queued message%s could not be sent and "
		                 "stay%s in the queue; fix what is said above "
		                 "(the account's settings or the server's), "
		                 "then run mailpost -q",
		                 rep->blocked, rep->blocked == 1 ? "" : "s",
		                 rep->blocked == 1 ? "s" : "");
	if (rep->damaged > 0)
		return error_set(
		    err, ERROR_IOERR,
		    "%zu queued entr%s damaged and never sent (see mailq); "
		    "remove %s with mailpost --queue-remove ID",
		    rep->damaged, rep->damaged == 1 ? "y is" : "ies are",
		    rep->damaged == 1 ? "it" : "them");
	return 0;
}
