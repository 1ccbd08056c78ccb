/*
 * mailq.c - listing and showing the queue (see mailq.h).
 */
#include "config.h"

#include "mailq.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define MAILQ_FIELD_MAX 1024

/* The owner column (root's listing of the machine's spool): a login
 * name as useradd allows by default fits; a longer one pushes the line
 * on, it is never cut. */
#define MAILQ_OWNER_WIDTH 8

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

/* One entry: its columns (cols, already formatted), the owner when
 * asked, the sender; then its recipients and last error under the
 * sender. */
static void
print_entry(FILE *out, const char *cols, const struct queue_envelope *e,
            bool owners)
{
	char buf[MAILQ_FIELD_MAX], who[64];
	int indent = (int)strlen(cols) + (owners ? MAILQ_OWNER_WIDTH + 1 : 0);

	fputs(cols, out);
	if (owners)
		fprintf(out, "%-*s ", MAILQ_OWNER_WIDTH,
		        queue_owner_name(e->owner, who, sizeof who));
	fprintf(out, "<%s>\n", safe(e->env.sender, buf, sizeof buf));
	for (size_t i = 0; i < e->env.nrcpts; i++)
		fprintf(out, "%*s<%s>\n", indent, "",
		        safe(e->env.rcpts[i].addr, buf, sizeof buf));
	if (e->last_error && *e->last_error)
		fprintf(out, "%*s(%s)\n", indent, "",
		        safe(e->last_error, buf, sizeof buf));
}

static void
print_queued(FILE *out, const struct queue_envelope *e, bool owners, time_t now)
{
	char age[32], cols[96];

	mailq_age(now - e->created, age, sizeof age);
	snprintf(cols, sizeof cols, "%-16s %9" PRIu64 " %7s %3d %4u  ", e->id,
	         e->size, age, e->env.priority, e->attempts);
	print_entry(out, cols, e, owners);
}

/* A dead letter: since when it was given up (its last attempt; one
 * saved without an attempt, since it was saved), and why. */
static void
print_dead(FILE *out, const struct queue_envelope *e, bool owners, time_t now)
{
	time_t since = e->last_attempt ? e->last_attempt : e->created;
	char age[32], cols[96];

	mailq_age(now - since, age, sizeof age);
	snprintf(cols, sizeof cols, "%-16s %9" PRIu64 " %7s  ", e->id, e->size,
	         age);
	print_entry(out, cols, e, owners);
}

static void
print_heading(FILE *out, const char *cols, bool owners, const char *last)
{
	fputs(cols, out);
	if (owners)
		fprintf(out, "%-*s ", MAILQ_OWNER_WIDTH, "Owner");
	fprintf(out, "%s\n", last);
}

static void
print_queue(FILE *out, const struct mailq_listing *l, time_t now)
{
	char cols[96];
	uint64_t total = 0;

	snprintf(cols, sizeof cols, "%-16s %9s %7s %3s %4s  ", "Queue ID",
	         "Size", "Age", "Pri", "Att");
	print_heading(out, cols, l->owners, "Sender/Recipient/Last error");
	for (size_t i = 0; i < l->n; i++) {
		print_queued(out, &l->v[i], l->owners, now);
		total += l->v[i].size;
	}
	fprintf(out, "-- %zu message%s, %" PRIu64 " bytes\n", l->n,
	        l->n == 1 ? "" : "s", total);
}

static void
print_dead_letters(FILE *out, const struct mailq_listing *l, time_t now)
{
	char cols[96];
	uint64_t total = 0;

	fputs("Dead letters, given up and never sent again (read one with "
	      "mailpost --queue-show ID, delete it with --queue-remove ID):\n",
	      out);
	snprintf(cols, sizeof cols, "%-16s %9s %7s  ", "Queue ID", "Size",
	         "Since");
	print_heading(out, cols, l->owners, "Sender/Recipient/Reason");
	for (size_t i = 0; i < l->ndead; i++) {
		print_dead(out, &l->dead[i], l->owners, now);
		total += l->dead[i].size;
	}
	fprintf(out, "-- %zu dead letter%s, %" PRIu64 " bytes\n", l->ndead,
	        l->ndead == 1 ? "" : "s", total);
}

int
mailq_print(FILE *out, const struct mailq_listing *l, time_t now,
            struct error *err)
{
	char buf[MAILQ_FIELD_MAX];
	size_t ndamaged = l->damaged ? l->damaged->n : 0;

	if (l->n == 0 && ndamaged == 0 && l->ndead == 0)
		fputs("Mail queue is empty\n", out);
	if (l->n > 0)
		print_queue(out, l, now);
	if (l->ndead > 0)
		print_dead_letters(out, l, now);
	if (ndamaged > 0)
		fprintf(out, "Damaged entries, never sent (see mailpost(1), "
		             "QUEUE):\n");
	for (size_t i = 0; i < ndamaged; i++)
		fprintf(out, "  %s\n", safe(l->damaged->v[i], buf, sizeof buf));
	if (fflush(out) != 0 || ferror(out))
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write the queue listing");
	return 0;
}

static void
show_time(FILE *out, const char *key, time_t t)
{
	char stamp[64];

	if (t == 0 || !str_utc_time(stamp, sizeof stamp, t)) {
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
mailq_show(FILE *out, struct depot_entry *de, const struct mailq_show_how *how,
           struct error *err)
{
	struct message_stream m = de->message;
	const struct queue_envelope *e = de->env;
	char buf[65536];

	fprintf(out, "Id: %s\n", de->id);
	if (de->dead)
		fputs("Dead-Letter: given up, never sent again\n", out);
	if (de->damage)
		fprintf(out, "Damaged: %s\n", safe(de->damage, buf, sizeof buf));
	if (e && how && how->owner)
		fprintf(out, "Owner: %s (uid %lu)\n",
		        queue_owner_name(e->owner, buf, sizeof buf),
		        (unsigned long)e->owner);
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

int
mailq_list(FILE *out, const struct depot *d, time_t now, struct error *err)
{
	struct spoolgate_listing got;
	int rc = depot_list(d, &got, err);

	if (rc == 0) {
		struct mailq_listing l = {
		    .v = got.entries,
		    .n = got.nentries,
		    .damaged = &got.damaged,
		    .dead = got.dead,
		    .ndead = got.ndead,
		    .owners = d->spool && geteuid() == 0,
		};

		rc = mailq_print(out, &l, now, err);
	}
	spoolgate_listing_clear(&got);
	return rc;
}

int
mailq_entry(FILE *out, const struct depot *d, const char *id, bool remove,
            struct error *err)
{
	struct mailq_show_how how = {.owner = depot_has_dead_letters(d)};
	struct depot_entry e;
	int rc;

	if (remove)
		return depot_remove(d, id, err);
	rc = depot_entry_open(d, id, &e, err);
	if (rc == 0)
		rc = mailq_show(out, &e, &how, err);
	/* Shown as far as it can be read, and said: it is never sent. */
	if (rc == 0 && e.damage)
		rc = error_set(err, ERROR_IOERR,
		               "queue entry %s is damaged and never sent: %s; "
		               "remove it with mailpost --queue-remove %s",
		               e.id, e.damage, e.id);
	depot_entry_close(&e);
	return rc;
}
