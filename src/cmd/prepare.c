/*
 * prepare.c - the message of a job made ready to send: read whole or
 * composed, its header completed, the stream to send (prepare.h).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prepare.h"

#include "headeredit.h"
#include "interrupt.h"

/* The sender's display name: -F, else the one written with -f ("Anna
 * <anna@example.org>"), else the account's from_full_name. */
static const char *
full_name(const struct job *job)
{
	if (job->req.full_name)
		return job->req.full_name;
	if (job->sender_name)
		return job->sender_name;
	return job->acct.from_full_name;
}

/* The sender's header forms (headeredit_sender_forms) in the job. */
static int
sender_header_forms(struct job *job, struct error *err)
{
	return headeredit_sender_forms(job->env.sender, &job->sender_header,
	                               &job->msgid_domain, err);
}

static struct header_policy
header_policy(const struct job *job)
{
	return headeredit_policy(&job->acct, job->sender_header,
	                         job->msgid_domain, full_name(job),
	                         job->req.read_recipients);
}

static ssize_t
read_source(void *ctx, char *buf, size_t n, struct error *err)
{
	return source_read(ctx, buf, n, err);
}

static int
rewind_source(void *ctx, struct error *err)
{
	return source_rewind(ctx, err);
}

static ssize_t
read_composed(void *ctx, char *buf, size_t n, struct error *err)
{
	return mime_read(ctx, buf, n, err);
}

static int
rewind_composed(void *ctx, struct error *err)
{
	return mime_rewind(ctx, err);
}

/* A source still being read (stream.h): once a read has taken its input
 * to the end, the message is whole in the spool, and from then on a
 * signal must not end the run but queue it (interrupt.h; send_post
 * leaves the catching to this and to settle_source). */
static ssize_t
read_streaming(void *ctx, char *buf, size_t n, struct error *err)
{
	ssize_t got = source_read(ctx, buf, n, err);

	if (got >= 0 && !interrupt_active() && source_complete(ctx))
		interrupt_catch();
	return got;
}

/* A source still being read: the rest, made sendable (stream.h). */
static int
settle_source(void *ctx, struct message_stream *m, struct error *err)
{
	struct source *s = ctx;

	if (source_finish(s, err) < 0 || source_make_sendable(s, err) < 0)
		return -1;
	m->size = source_size(s);
	m->has_8bit = source_has_8bit(s);
	m->has_nul = source_has_nul(s);
	m->settle = NULL;
	/* Whole in hand now: signals no longer end the run (interrupt.h);
	 * the message is queued instead of lost. */
	interrupt_catch();
	return source_was_cut(s) ? 1 : 0;
}

/* A source that streams (source.h) only while its start shows nothing
 * that changes the decisions made before MAIL: 8-bit bytes (the header's
 * SMTPUTF8 or downgrade, the body's 8BITMIME), NUL, long lines.  Else it
 * is read whole now, as a small message is. */
static int
settle_early(struct job *job, struct error *err)
{
	const struct crlf_norm *n = source_stats(job->message);

	if (source_complete(job->message) ||
	    !(n->has_8bit || n->has_nul || n->first_long_line != 0))
		return 0;
	return source_finish(job->message, err);
}

/* A message read whole (sendmail mode, -bs): header hygiene, priority,
 * header completion, the checks, and the stream to send. */
int
prepare_finish_plain(struct job *job, struct error *err)
{
	struct header_block *h = source_headers(job->message);
	struct header_policy p;

	if (sender_header_forms(job, err) < 0 ||
	    headeredit_rewrite(h, &job->acct, job->env.sender, job->sender_header,
	                       job->aliases, err) < 0)
		return -1;
	job->env.priority = headeredit_priority(h);
	p = header_policy(job);
	if (headeredit_complete(h, &p, err) < 0 || settle_early(job, err) < 0 ||
	    source_make_sendable(job->message, err) < 0)
		return -1;
	job->stream = (struct message_stream){
	    .read = read_source,
	    .rewind = rewind_source,
	    .ctx = job->message,
	    .size = source_size(job->message),
	    .has_8bit = source_has_8bit(job->message),
	    .has_nul = source_has_nul(job->message),
	};
	if (!source_complete(job->message)) {
		uint64_t bound;

		job->stream.size =
		    source_size_bound(job->message, &bound) ? bound : 0;
		job->stream.read = read_streaming;
		job->stream.settle = settle_source;
	}
	return 0;
}

/* sendmail mode: standard input is the message, passed through with its
 * header completed. */
static int
prepare_plain(struct job *job, struct error *err)
{
	/* A large message goes to the server while it is read, unless the
	 * run only prints it. */
	const struct source_options so = {
	    .dot_ends_input = job->req.dot_ends_input,
	    .stream_after = job->req.dry_run ? 0 : SOURCE_STREAM_AFTER,
	};

	/* --read-envelope-from read it already. */
	if ((!job->message &&
	     source_open(&job->message, STDIN_FILENO, &so, err) < 0) ||
	    job_collect_recipients(job, err) < 0)
		return -1;
	return prepare_finish_plain(job, err);
}

/* --read-envelope-from: the message is read before the account is chosen,
 * since its From address is the sender that chooses it (as with -f). */
int
prepare_envelope_from(struct job *job, struct error *err)
{
	const struct source_options so = {
	    .dot_ends_input = job->req.dot_ends_input,
	};

	if (source_open(&job->message, STDIN_FILENO, &so, err) < 0 ||
	    source_sender(job->message, &job->envelope_from, err) < 0)
		return -1;
	job->req.sender = job->envelope_from;
	return 0;
}

/* A file named on the command line that cannot be read, found before the
 * body is typed rather than after (mime_compose checks again). */
static int
check_readable(const char *path, struct error *err)
{
	if (path && access(path, R_OK) < 0)
		return error_set_errno(err, ERROR_NOINPUT, errno,
		                       "cannot read %s", path);
	return 0;
}

static int
check_files(const struct request *req, struct error *err)
{
	if (check_readable(req->body_file, err) < 0 ||
	    check_readable(req->html_file, err) < 0)
		return -1;
	for (size_t i = 0; i < req->nattachments; i++)
		if (check_readable(req->attachments[i].path, err) < 0)
			return -1;
	return 0;
}

/* Composing: standard input is the whole message with -t, else the body
 * text, unless --body or --body-file gives it.  On a terminal a lone "."
 * ends the body, as in mailx; from a pipe it is text. */
static int
open_input(struct job *job, struct error *err)
{
	const struct request *req = &job->req;
	struct source_options so = {.dot_ends_input = req->dot_ends_input};
	bool tty = isatty(STDIN_FILENO) == 1;

	if (!req->read_recipients) {
		if (req->body_text || req->body_file)
			return 0;
		so.body_only = true;
		so.dot_ends_input = req->dot_ends_input && tty;
	}
	if (tty && check_files(req, err) < 0)
		return -1;
	return source_open(&job->message, STDIN_FILENO, &so, err);
}

/* The To or Cc field of a composed message: each argument's mailboxes,
 * qualified, in header form (A-labels), with their display names, each
 * address once; the first group with no members, when group is not NULL
 * (Reply-To takes none), into *group. */
static int
header_mailboxes(const struct job *job, const char *const *v, size_t n,
                 struct strlist *out, struct strlist *names, char **group,
                 struct error *err)
{
	struct address_entries list;
	struct address_set seen;
	char *phrase = NULL;
	int rc = 0;

	address_entries_init(&list);
	address_set_init(&seen);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (group && address_empty_group(v[i], &phrase)) {
			if (!*group)
				*group = phrase;
			else
				free(phrase);
			continue;
		}
		rc = address_parse_input(v[i], ERROR_USAGE, &list, err);
	}
	for (size_t i = 0; rc == 0 && i < list.n; i++) {
		char *q = address_qualify(list.v[i].addr, job->acct.maildomain);
		char *h = NULL;

		rc = address_header_form(q, &h, err);
		if (rc == 0 && address_set_add(&seen, h)) {
			strlist_add(out, h);
			strlist_add(names,
			            list.v[i].name ? list.v[i].name : "");
		}
		free(h);
		free(q);
	}
	address_set_clear(&seen);
	address_entries_clear(&list);
	return rc;
}

/* The From of a composed message: --from, else the envelope sender (none
 * for the null sender, or with -t: header completion decides). */
static int
compose_from(struct job *job, struct mime_request *mr, char **from,
             struct error *err)
{
	const struct request *req = &job->req;

	const char *addr = NULL;
	char *q;
	int rc;

	if (req->from) {
		addr = req->from;
		mr->from_name = req->from_name;
	} else if (!req->read_recipients && *job->env.sender) {
		addr = job->env.sender;
	}
	if (!addr)
		return 0;
	/* Local as the envelope sender is (address_qualify_sender); the
	 * header form: A-labels, never raw 8-bit for a domain. */
	q = address_qualify_sender(addr, job->acct.maildomain, NULL);
	rc = address_header_form(q, from, err);
	free(q);
	mr->from = *from;
	if (!mr->from_name)
		mr->from_name = full_name(job);
	return rc;
}

static int
fill_mime_request(struct job *job, struct mime_request *mr, char **from,
                  struct error *err)
{
	const struct request *req = &job->req;

	/* With -t the message's own To and Cc stand; addresses given on the
	 * command line are added to the envelope only. */
	if (!req->read_recipients &&
	    (header_mailboxes(job, req->rcpts, req->nrcpts, &job->to,
	                      &job->to_names, &job->to_group, err) < 0 ||
	     header_mailboxes(job, req->cc, req->ncc, &job->cc, &job->cc_names,
	                      &job->cc_group, err) < 0))
		return -1;
	/* Reply-To is a list of mailboxes too ('Name <addr>, b@y'), in
	 * header form: no raw 8-bit domain. */
	if (req->reply_to &&
	    header_mailboxes(job, &req->reply_to, 1, &job->reply_to,
	                     &job->reply_to_names, NULL, err) < 0)
		return -1;
	*mr = (struct mime_request){
	    .reply_to = (const char *const *)job->reply_to.v,
	    .reply_to_names = (const char *const *)job->reply_to_names.v,
	    .nreply_to = job->reply_to.n,
	    .subject = req->subject,
	    .to = (const char *const *)job->to.v,
	    .to_names = (const char *const *)job->to_names.v,
	    .to_group = job->to_group,
	    .nto = job->to.n,
	    .cc = (const char *const *)job->cc.v,
	    .cc_names = (const char *const *)job->cc_names.v,
	    .cc_group = job->cc_group,
	    .ncc = job->cc.n,
	    .extra = req->extra,
	    .nextra = req->nextra,
	    .priority = req->priority,
	    .body_source = job->message,
	    .keep_headers = req->read_recipients,
	    .body_text = req->body_text,
	    .body_file = req->body_file,
	    .html_file = req->html_file,
	    .attachments = req->attachments,
	    .nattachments = req->nattachments,
	};
	return compose_from(job, mr, from, err);
}

static int
prepare_composed(struct job *job, struct error *err)
{
	struct mime_request mr;
	struct header_policy p;
	char *from = NULL;
	int rc = 0;

	if (open_input(job, err) < 0 || job_collect_recipients(job, err) < 0)
		return -1;
	rc = fill_mime_request(job, &mr, &from, err);
	if (rc == 0)
		rc = mime_compose(&job->composed, &mr, err);
	free(from);
	if (rc < 0 || sender_header_forms(job, err) < 0)
		return -1;
	p = header_policy(job);
	/* A From we wrote from --from or -H is not the account's to
	 * replace. */
	if (job->req.from || mime_sets_field(&mr, "From"))
		p.set_from = FROM_HEADER_AUTO;
	if (headeredit_complete(mime_headers(job->composed), &p, err) < 0)
		return -1;
	job->env.priority = mime_priority_value(job->req.priority);
	job->stream = (struct message_stream){
	    .read = read_composed,
	    .rewind = rewind_composed,
	    .ctx = job->composed,
	    .size = mime_size(job->composed),
	    /* As for a message read whole (source.c): 8-bit in the header
	     * counts, so that the submit layer sees a UTF-8 header (an
	     * address in --from or a kept -t field) and does not send it
	     * as if it were ASCII. */
	    .has_8bit = mime_has_8bit(job->composed) ||
	                header_has_8bit(mime_headers(job->composed)),
	};
	return 0;
}

int
prepare_message(struct job *job, struct error *err)
{
	return job->req.compose ? prepare_composed(job, err)
	                        : prepare_plain(job, err);
}
