/*
 * jsonresult.c - one message's result as plain C data, made from its log
 * line's entry (jsonresult.h).
 */
#include "config.h"

#include "jsonresult.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reply.h"
#include "util.h"

void
jsonresult_enhanced(const char *reply, char *out, size_t n)
{
	char line[REPLY_LINE_MAX];
	size_t len;
	struct reply r;
	struct error err;

	out[0] = '\0';
	if (!reply)
		return;
	/* The first line, read as the last of its reply: reply.c's own
	 * reading (RFC 3463, its class agreeing with the code). */
	len = strcspn(reply, "\n");
	if (len < 4 || len >= sizeof line)
		return;
	memcpy(line, reply, len);
	line[len] = '\0';
	if (line[3] == '-')
		line[3] = ' ';
	reply_init(&r);
	if (reply_push_line(&r, line, len, &err) == 1)
		str_copy(out, n, r.enhanced);
	reply_clear(&r);
}

static bool
queued(const struct maillog_entry *e)
{
	return e->queued_id != NULL;
}

/* A recipient's status: its verdict, except that one whose copy waits in
 * the queue (the whole message, or the rest after a partial delivery) is
 * "queued". */
static const char *
rcpt_status(const struct maillog_entry *e, const struct envelope_rcpt *rc)
{
	if (queued(e) && (rc->state == ENVELOPE_REFUSED_TEMP ||
	                  rc->state == ENVELOPE_PENDING))
		return "queued";
	return envelope_state_name(rc->state);
}

static void
fill_rcpts(struct jsonresult *r, const struct maillog_entry *e)
{
	const struct envelope *env = e->env;

	r->nrcpts = env->nrcpts;
	r->rcpts = env->nrcpts ? xcalloc(env->nrcpts, sizeof *r->rcpts) : NULL;
	for (size_t i = 0; i < env->nrcpts; i++) {
		const struct envelope_rcpt *rc = &env->rcpts[i];
		struct jsonresult_rcpt *o = &r->rcpts[i];

		o->address = rc->addr;
		o->status = rcpt_status(e, rc);
		o->code = rc->code;
		o->reply = rc->reply;
		if (rc->code)
			jsonresult_enhanced(rc->reply, o->enhanced,
			                    sizeof o->enhanced);
	}
}

static bool
failed(const struct maillog_entry *e)
{
	return e->error && e->error->kind != ERROR_NONE;
}

/* The message's status: delivered to every recipient, to some, waiting
 * in the queue, refused by the server (a reply said no), or failed for
 * any other reason (the connection, TLS, the settings, this machine). */
static const char *
message_status(const struct maillog_entry *e)
{
	size_t accepted = envelope_count(e->env, ENVELOPE_ACCEPTED);

	if (!failed(e) && !queued(e))
		return "delivered";
	if (accepted > 0)
		return "delivered-in-part";
	/* Recipients refused for good beside others queued (deliver mx:
	 * one domain said no, another was down) exit as a refusal: the
	 * status says so too, the recipients which waits. */
	if (queued(e) && !envelope_count(e->env, ENVELOPE_REFUSED_PERM))
		return "queued";
	if (e->error->smtp_code ||
	    envelope_count(e->env, ENVELOPE_REFUSED_PERM) ||
	    envelope_count(e->env, ENVELOPE_REFUSED_TEMP))
		return "refused";
	return "failed";
}

/* The reply that decided: the failure's, else the reply to the dot. */
static void
fill_reply(struct jsonresult *r, const struct maillog_entry *e)
{
	if (failed(e) && e->error->smtp_code) {
		r->reply_code = e->error->smtp_code;
		str_copy(r->reply_enhanced, sizeof r->reply_enhanced,
		         e->error->smtp_enhanced);
		r->reply = e->error->smtp_reply;
	} else if (!failed(e) && e->reply_code) {
		r->reply_code = e->reply_code;
		r->reply = e->reply;
		jsonresult_enhanced(e->reply, r->reply_enhanced,
		                    sizeof r->reply_enhanced);
	}
}

static double
ms(int64_t us)
{
	return (double)us / 1000.0;
}

static void
fill_timing(struct jsonresult *r, const struct submit_report *s)
{
	int64_t last = -1;

	r->total_ms = -1;
	for (int i = 0; i < SMTP_NSTEPS; i++) {
		r->step_ms[i] = -1;
		if (!s || s->timing.begin_us[i] < 0 || s->timing.end_us[i] < 0)
			continue;
		r->step_ms[i] = ms(s->timing.end_us[i] - s->timing.begin_us[i]);
		if (s->timing.end_us[i] > last)
			last = s->timing.end_us[i];
	}
	if (s && last >= 0)
		r->total_ms = ms(last);
}

/* The step it failed in: the one whose reply refused it, else the one
 * the session stopped in. */
static const char *
failed_step(const struct maillog_entry *e)
{
	enum smtp_step step = SMTP_NSTEPS;

	if (!failed(e))
		return NULL;
	if (e->outcome && e->outcome->in_step)
		step = e->outcome->failed_step;
	else if (e->session)
		step = smtp_timing_failed(&e->session->timing);
	return step < SMTP_NSTEPS ? smtp_step_name(step) : NULL;
}

static const char *
tls_mode_name(const struct account *a)
{
	if (!a->tls)
		return "off";
	return a->tls_starttls ? "starttls" : "implicit";
}

static void
fill_server(struct jsonresult *r, const struct maillog_entry *e,
            const struct account *a)
{
	const struct submit_report *s = e->session;

	r->host = s && s->host[0] ? s->host : e->host;
	r->port = s ? s->port : submit_port(a);
	r->protocol = a->lmtp ? "lmtp" : "smtp";
	r->socket = a->socket && *a->socket ? a->socket : NULL;
	if (a->proxy_host && *a->proxy_host) {
		r->proxy_host = a->proxy_host;
		r->proxy_port = a->proxy_port ? a->proxy_port : 1080;
	}
	r->tls = a->tls;
	r->tls_mode = tls_mode_name(a);
	r->tls_info = s && submit_report_tls(s) ? &s->tls : NULL;
	r->auth = e->auth;
	r->auth_mechanism =
	    s && s->smtp.auth_mechanism[0] ? s->smtp.auth_mechanism : NULL;
	r->user = e->auth && e->user && *e->user ? e->user : NULL;
}

/* The domain part of an address, NULL without one. */
static const char *
domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at && at[1] ? at + 1 : NULL;
}

/* Whether e's recipients are at more than one domain (case aside): with
 * deliver mx, more than one transaction, each to its own server. */
static bool
several_domains(const struct maillog_entry *e)
{
	const char *first = NULL;

	for (size_t i = 0; i < e->env->nrcpts; i++) {
		const char *d = domain_of(e->env->rcpts[i].addr);

		if (!d)
			continue;
		if (!first)
			first = d;
		else if (strcasecmp(first, d) != 0)
			return true;
	}
	return false;
}

void
jsonresult_fill(struct jsonresult *r, const char *mode,
                const struct maillog_entry *e, const struct account *a,
                int exit_code)
{
	memset(r, 0, sizeof *r);
	r->mode = mode;
	r->entry_id = e->entry_id;
	r->account = a->name && *a->name ? a->name : NULL;
	fill_server(r, e, a);
	r->sender = e->env->sender ? e->env->sender : "";
	fill_rcpts(r, e);
	r->size = e->size;
	r->status = message_status(e);
	r->failed_step = failed_step(e);
	if (failed(e)) {
		r->error_kind = error_kind_name(e->error->kind);
		r->error = e->error->msg;
	}
	fill_reply(r, e);
	r->queue_id = e->queued_id;
	r->dead_letter = e->dead_letter;
	fill_timing(r, e->session);
	r->exit_code = exit_code;
	/* One transaction per domain: the last session's server, step and
	 * times would pass for the message's; the recipients say each
	 * domain's fate. */
	if (a->deliver == CONF_DELIVER_MX && several_domains(e)) {
		r->several_servers = true;
		r->failed_step = NULL;
		fill_timing(r, NULL);
	}
}

void
jsonresult_clear(struct jsonresult *r)
{
	free(r->rcpts);
	r->rcpts = NULL;
	r->nrcpts = 0;
}
