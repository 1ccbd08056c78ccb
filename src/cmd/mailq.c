/*
 * mailq.c - listing and showing the queue (see mailq.h).
 */
#include "config.h"

#include "mailq.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define MAILQ_FIELD_MAX 1024

void
mailq_age(time_t s, char *out, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(out, n, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, n, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600),
		         (long long)(s % 3600 / 60));
	else
		snprintf(out, n, "%lldd%02lldh", (long long)(s / 86400),
		         (long long)(s % 86400 / 3600));
}

/* A copy of untrusted text, safe for a terminal. */
static const char *
safe(const char *s, char *buf, size_t n)
{
	str_copy(buf, n, s ? s : "");
	return str_censor(buf, strlen(buf));
}

static void
print_entry(FILE *out, const struct queue_envelope *e, time_t now)
{
	char age[32], buf[MAILQ_FIELD_MAX];

	mailq_age(now - e->created, age, sizeof age);
	fprintf(out, "%-16s %9" PRIu64 " %7s %3d %4u  <%s>\n", e->id, e->size,
	        age, e->env.priority, e->attempts,
	        safe(e->env.sender, buf, sizeof buf));
	for (size_t i = 0; i < e->env.nrcpts; i++)
		fprintf(out, "%45s<%s>\n", "",
		        safe(e->env.rcpts[i].addr, buf, sizeof buf));
	if (e->last_error && *e->last_error)
		fprintf(out, "%45s(%s)\n", "",
		        safe(e->last_error, buf, sizeof buf));
}

int
mailq_print(FILE *out, const struct queue_envelope *v, size_t n,
            const struct strlist *damaged, time_t now, struct error *err)
{
	char buf[MAILQ_FIELD_MAX];
	uint64_t total = 0;

	if (n == 0 && damaged->n == 0) {
		fputs("Mail queue is empty\n", out);
	} else if (n > 0) {
		fprintf(out, "%-16s %9s %7s %3s %4s  %s\n", "Queue ID", "Size",
		        "Age", "Pri", "Att", "Sender/Recipient/Last error");
		for (size_t i = 0; i < n; i++) {
			print_entry(out, &v[i], now);
			total += v[i].size;
		}
		fprintf(out, "-- %zu message%s, %" PRIu64 " bytes\n", n,
		        n == 1 ? "" : "s", total);
	}
	if (damaged->n > 0)
		fprintf(out, "Damaged entries, never sent (see mailpost(1), "
		             "QUEUE):\n");
	for (size_t i = 0; i < damaged->n; i++)
		fprintf(out, "  %s\n", safe(damaged->v[i], buf, sizeof buf));
	if (fflush(out) != 0 || ferror(out))
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write the queue listing");
	return 0;
}

static void
show_time(FILE *out, const char *key, time_t t)
{
	char stamp[64];
	struct tm tm;

	if (t == 0 || !gmtime_r(&t, &tm) ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		fprintf(out, "%s: -\n", key);
		return;
	}
	fprintf(out, "%s: %s\n", key, stamp);
}

static void
show_envelope(FILE *out, const struct queue_envelope *e)
{
	const struct envelope *env = &e->env;
	char buf[MAILQ_FIELD_MAX];

	fprintf(out, "Account: %s\n",
	        env->account && *env->account
	            ? safe(env->account, buf, sizeof buf)
	            : "(default)");
	if (env->host)
		fprintf(out, "Host: %s\n", safe(env->host, buf, sizeof buf));
	if (env->port)
		fprintf(out, "Port: %d\n", env->port);
	fprintf(out, "Sender: <%s>\n", safe(env->sender, buf, sizeof buf));
	for (size_t i = 0; i < env->nrcpts; i++)
		fprintf(out, "Recipient: <%s>\n",
		        safe(env->rcpts[i].addr, buf, sizeof buf));
	fprintf(out, "Priority: %d\n", env->priority);
	fprintf(out, "Size: %" PRIu64 "\n", e->size);
	show_time(out, "Queued", e->created);
	fprintf(out, "Attempts: %u\n", e->attempts);
	show_time(out, "Last-Attempt", e->last_attempt);
	show_time(out, "Next-Attempt", e->next_attempt);
	if (e->last_error)
		fprintf(out, "Last-Error: %s\n",
		        safe(e->last_error, buf, sizeof buf));
}

int
mailq_show(FILE *out, struct queue_entry *qe, struct error *err)
{
	struct message_stream m = queue_entry_message(qe);
	const struct queue_envelope *e = queue_entry_envelope(qe);
	const char *damage = queue_entry_damage(qe);
	char buf[65536];

	fprintf(out, "Id: %s\n", queue_entry_id(qe));
	if (damage)
		fprintf(out, "Damaged: %s\n", safe(damage, buf, sizeof buf));
	if (e)
		show_envelope(out, e);
	fputc('\n', out);
	for (;;) {
		ssize_t got = m.read(m.ctx, buf, sizeof buf, err);

		if (got < 0)
			return -1;
		if (got == 0)
			break;
		if (fwrite(buf, 1, (size_t)got, out) != (size_t)got)
			break;
	}
	if (fflush(out) != 0 || ferror(out))
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write the queued message");
	return 0;
}

/* An existing queue, or none (then there is nothing to list or touch). */
static int
open_existing_queue(const char *dir, struct queue **q, struct error *err)
{
	struct stat st;

	*q = NULL;
	if (lstat(dir, &st) < 0 && errno == ENOENT)
		return 0;
	return queue_open(q, dir, err);
}

int
mailq_list(FILE *out, const char *dir, time_t now, struct error *err)
{
	struct queue_envelope *v = NULL;
	struct strlist damaged;
	struct queue *q;
	size_t n = 0;
	int rc;

	rc = open_existing_queue(dir, &q, err);
	strlist_init(&damaged);
	if (rc == 0 && q)
		rc = queue_list(q, &v, &n, err);
	if (rc == 0 && q)
		rc = queue_damaged(q, &damaged, err);
	if (rc == 0)
		rc = mailq_print(out, v, n, &damaged, now, err);
	strlist_clear(&damaged);
	queue_list_free(v, n);
	queue_close(q);
	return rc;
}

/* The entry named, claimed so that no runner sends it meanwhile. */
static int
claim_named(const char *dir, const char *id, struct queue **q,
            struct queue_entry **e, struct error *err)
{
	int rc;

	*e = NULL;
	if (open_existing_queue(dir, q, err) < 0)
		return -1;
	rc = *q ? queue_claim(*q, id, e, err) : QUEUE_GONE;
	if (rc == QUEUE_BUSY)
		return error_set(err, ERROR_TEMPFAIL,
		                 "%s is being sent by another mailpost", id);
	if (rc == QUEUE_GONE)
		return error_set(err, ERROR_USAGE, "no queued message %s", id);
	return rc < 0 ? -1 : 0; /* a damaged one too: shown, or removed */
}

int
mailq_entry(FILE *out, const char *dir, const char *id, bool remove,
            struct error *err)
{
	struct queue *q = NULL;
	struct queue_entry *e = NULL;
	int rc = claim_named(dir, id, &q, &e, err);

	if (rc == 0 && remove)
		rc = queue_entry_remove(e, err);
	else if (rc == 0)
		rc = mailq_show(out, e, err);
	/* Shown as far as it can be read, and said: it is never sent. */
	if (rc == 0 && !remove && queue_entry_damage(e))
		rc = error_set(err, ERROR_IOERR,
		               "queue entry %s is damaged and never sent: %s; "
		               "remove it with mailpost --queue-remove %s",
		               queue_entry_id(e), queue_entry_damage(e),
		               queue_entry_id(e));
	queue_entry_release(e);
	queue_close(q);
	return rc;
}
