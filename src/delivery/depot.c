/*
 * depot.c - the caller's own queue or the machine's spool, behind one
 * set of calls (depot.h).  The only place that asks which.
 */
#include "config.h"

#include "depot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *
depot_where(const struct depot *d)
{
	if (d->gate)
		return spoolgate_dir(d->gate);
	return d->dir ? d->dir : "(no queue directory)";
}

bool
depot_by_helper(const struct depot *d)
{
	return d->gate != NULL;
}

bool
depot_has_dead_letters(const struct depot *d)
{
	return d->gate != NULL || d->spool != NULL;
}

/* The local queue, opened (created) for a message. */
static int
open_local(const struct depot *d, struct queue **q, struct error *err)
{
	if (!d->dir)
		return error_set(
		    err, ERROR_CONFIG, "cannot queue the message: %s",
		    d->problem && *d->problem ? d->problem
		                              : "no queue directory");
	return queue_open_as(q, d->dir, d->spool, d->clock, err);
}

int
depot_add(const struct depot *d, const struct queue_envelope *env,
          struct message_stream *m, char id[QUEUE_ID_SIZE], struct error *err)
{
	struct queue *q;
	int rc;

	if (d->gate)
		return spoolgate_add(d->gate, false, env, m, id, err);
	if (open_local(d, &q, err) < 0)
		return -1;
	rc = queue_add(q, env, m, id, err);
	queue_close(q);
	return rc;
}

int
depot_add_dead(const struct depot *d, const struct queue_envelope *env,
               struct message_stream *m, char id[QUEUE_ID_SIZE],
               struct error *err)
{
	struct queue *q;
	int rc;

	if (d->gate)
		return spoolgate_add(d->gate, true, env, m, id, err);
	if (!d->spool || !d->dir)
		return error_set(err, ERROR_CONFIG,
		                 "only the machine's spool keeps dead letters");
	if (queue_open_shared_dead(&q, d->dir, *d->spool, err) < 0)
		return -1;
	rc = queue_add(q, env, m, id, err);
	queue_close(q);
	return rc;
}

/* An existing queue, or none (then there is nothing to list or touch);
 * dead: the spool's dead letters. */
static int
open_existing(const struct depot *d, bool dead, struct queue **q,
              struct error *err)
{
	struct stat st;

	*q = NULL;
	if (!d->dir)
		return error_set(err, ERROR_CONFIG, "%s",
		                 d->problem && *d->problem
		                     ? d->problem
		                     : "no queue directory");
	if (lstat(d->dir, &st) < 0 && errno == ENOENT)
		return 0;
	if (dead)
		return queue_open_shared_dead(q, d->dir, *d->spool, err);
	return queue_open_as(q, d->dir, d->spool, d->clock, err);
}

/* The entries and damaged ones of the local queue (dead: the spool's dead
 * letters), appended to *v (*n) and damaged. */
static int
collect(const struct depot *d, bool dead, struct queue_envelope **v,
        size_t *n, struct strlist *damaged, struct error *err)
{
	struct queue *q;
	size_t first = damaged->n;
	int rc = open_existing(d, dead, &q, err);

	if (rc == 0 && q)
		rc = queue_list(q, v, n, err);
	if (rc == 0 && q)
		rc = queue_damaged(q, damaged, err);
	queue_close(q);
	/* Said where they are, since --queue-remove finds them in both. */
	for (size_t i = first; dead && rc == 0 && i < damaged->n; i++) {
		size_t len = strlen(damaged->v[i]) + sizeof " (a dead letter)";
		char *line = xmalloc(len);

		snprintf(line, len, "%s (a dead letter)", damaged->v[i]);
		free(damaged->v[i]);
		damaged->v[i] = line;
	}
	return rc;
}

int
depot_list(const struct depot *d, struct spoolgate_listing *l,
           struct error *err)
{
	int rc;

	memset(l, 0, sizeof *l);
	strlist_init(&l->damaged);
	if (d->gate)
		return spoolgate_list(d->gate, l, err);
	rc = collect(d, false, &l->entries, &l->nentries, &l->damaged, err);
	if (rc == 0 && d->spool)
		rc = collect(d, true, &l->dead, &l->ndead, &l->damaged, err);
	if (rc < 0)
		spoolgate_listing_clear(l);
	return rc;
}

/* The entry id claimed in one local queue (dead: the spool's dead
 * letters): a queue_claim_result, or -1. */
static int
claim_in(const struct depot *d, bool dead, const char *id,
         struct depot_entry *out, struct error *err)
{
	queue_close(out->q);
	out->q = NULL;
	if (open_existing(d, dead, &out->q, err) < 0)
		return -1;
	return out->q ? queue_claim(out->q, id, &out->e, err) : QUEUE_GONE;
}

/* The entry id in the local queue, else (the machine's spool) among its
 * dead letters. */
static int
claim_local(const struct depot *d, const char *id, struct depot_entry *out,
            struct error *err)
{
	int rc = claim_in(d, false, id, out, err);

	if (rc == QUEUE_GONE && d->spool) {
		out->dead = true;
		rc = claim_in(d, true, id, out, err);
	}
	if (rc == QUEUE_BUSY)
		return error_set(err, ERROR_TEMPFAIL,
		                 "%s is being sent by another mailpost", id);
	if (rc == QUEUE_GONE)
		return error_set(err, ERROR_USAGE, "no queued message %s", id);
	if (rc < 0)
		return -1;
	/* A damaged one too: shown, or removed. */
	out->id = queue_entry_id(out->e);
	out->env = queue_entry_envelope(out->e);
	out->damage = queue_entry_damage(out->e);
	out->message = queue_entry_message(out->e);
	return 0;
}

int
depot_entry_open(const struct depot *d, const char *id, struct depot_entry *out,
                 struct error *err)
{
	memset(out, 0, sizeof *out);
	if (!d->gate)
		return claim_local(d, id, out, err);
	out->remote = true;
	if (spoolgate_show(d->gate, id, &out->shown, err) < 0)
		return -1;
	out->id = out->shown.id;
	out->env = out->shown.has_env ? &out->shown.env : NULL;
	out->damage = out->shown.damage;
	out->dead = out->shown.dead;
	out->message = out->shown.message;
	return 0;
}

void
depot_entry_close(struct depot_entry *e)
{
	if (e->remote)
		spoolgate_shown_clear(&e->shown);
	queue_entry_release(e->e);
	queue_close(e->q);
	memset(e, 0, sizeof *e);
}

int
depot_remove(const struct depot *d, const char *id, struct error *err)
{
	struct depot_entry e;
	int rc;

	if (d->gate)
		return spoolgate_remove(d->gate, id, err);
	memset(&e, 0, sizeof e);
	rc = claim_local(d, id, &e, err);
	if (rc == 0)
		rc = queue_entry_remove(e.e, err);
	depot_entry_close(&e);
	return rc;
}
