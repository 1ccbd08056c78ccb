/*
 * smtp.c - the SMTP and LMTP client session (see smtp.h): greeting,
 * EHLO/HELO/LHLO and capabilities, STARTTLS (RFC 3207) or implicit TLS
 * (RFC 8314), AUTH (RFC 4954), MAIL/RCPT/DATA (pipelined when the server
 * offers RFC 2920), the dot-stuffed body or the body in BDAT chunks (RFC
 * 3030), RSET and QUIT.
 *
 * The session is a state machine: the states are listed once, with a
 * parallel table of names, and enter() is the only way to change state
 * (it records each change in the transcript at -vvv).  The verbs check the
 * state they are called in, so a caller's mistake (a body without a 354,
 * a QUIT in the middle of the data) is caught here rather than sent.
 *
 * Replies are judged only as far as the protocol goes: is it well formed,
 * is it a reply this command may have.  What a refusal means for the
 * message is submit.c's business.
 *
 * During AUTH every line in either direction reaches the transcript only
 * through sasl_redact_client / sasl_redact_server, replies are read into a
 * buffer of their own that is wiped afterwards, and no error message
 * quotes a line of the exchange.
 */
#include "config.h"

#include "smtp.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dot.h"
#include "encode.h"
#include "interrupt.h"
#include "sasl.h"
#include "smtpcaps.h"
#include "util.h"

/* RFC 5321 4.5.3.1.4 allows 512 octets a command line; the extensions we
 * use (RFC 1870, 3461, 6152) lengthen MAIL and RCPT.  A line longer than
 * this can only come from a parameter nobody checked. */
#define SMTP_CMD_MAX 2048
/* Commands written before their replies are read.  RFC 2920 3.1 lets a
 * whole envelope go out at once, but a server answering thousands of RCPTs
 * while we still write could fill both socket buffers and deadlock
 * (RFC 2920 3.2 item 2 warns of this); batches bound the unread replies. */
#define SMTP_PIPELINE_MAX 100
/* The body is read from its source in blocks of this size. */
#define SMTP_BLOCK_SIZE (64 * 1024)
/* QUIT's reply is a courtesy: wait no longer than this for it. */
#define SMTP_QUIT_TIMEOUT_MS 5000
/* Body lines shown at -vv longer than this are shown in pieces. */
#define SMTP_BODY_LOG_MAX 4096
/* A 334 line: "334 " and the base64 form of the largest challenge sasl.c
 * accepts (RFC 4954 4 sets no limit; SASL_CHALLENGE_MAX is ours), plus
 * the NUL. */
#define SMTP_AUTH_LINE_MAX (4 + (SASL_CHALLENGE_MAX + 2) / 3 * 4 + 1)
/* Room for a redacted line in the transcript. */
#define SMTP_SHOWN_MAX (REPLY_LINE_MAX + 16)
/* Room for a line of the AUTH exchange shown in clear (--show-auth): the
 * line, and its payload decoded with every byte possibly escaped as
 * "\xHH"; longer ones are cut. */
#define SMTP_CLEAR_MAX (SMTP_AUTH_LINE_MAX * 4)

enum smtp_state {
	SMTP_CONNECTING,
	SMTP_GREETING,
	SMTP_EHLO,
	SMTP_HELO,
	SMTP_STARTTLS,    /* STARTTLS sent; on 220 the handshake (RFC 3207) */
	SMTP_AUTH,        /* AUTH exchange (RFC 4954) */
	SMTP_READY,       /* between transactions */
	SMTP_ENVELOPE,    /* MAIL, RCPT, DATA being exchanged */
	SMTP_TRANSACTION, /* MAIL accepted, no 354: needs RSET */
	SMTP_BODY,        /* 354 received: the body may be sent */
	SMTP_DOT,         /* the terminator sent, its replies awaited */
	SMTP_RSET,
	SMTP_QUIT,   /* QUIT sent */
	SMTP_CLOSED, /* the connection is gone, on purpose */
	SMTP_BROKEN, /* an exchange failed: only smtp_close remains */
	SMTP_NSTATES
};

static const char *const state_names[] = {
    [SMTP_CONNECTING] = "CONNECTING",
    [SMTP_GREETING] = "GREETING",
    [SMTP_EHLO] = "EHLO",
    [SMTP_HELO] = "HELO",
    [SMTP_STARTTLS] = "STARTTLS",
    [SMTP_AUTH] = "AUTH",
    [SMTP_READY] = "READY",
    [SMTP_ENVELOPE] = "ENVELOPE",
    [SMTP_TRANSACTION] = "TRANSACTION",
    [SMTP_BODY] = "BODY",
    [SMTP_DOT] = "DOT",
    [SMTP_RSET] = "RSET",
    [SMTP_QUIT] = "QUIT",
    [SMTP_CLOSED] = "CLOSED",
    [SMTP_BROKEN] = "BROKEN",
};

_Static_assert(sizeof state_names / sizeof state_names[0] == SMTP_NSTATES,
               "every state has a name");

static const char *const step_names[] = {
    [SMTP_STEP_CONNECT] = "connect", [SMTP_STEP_GREETING] = "greeting",
    [SMTP_STEP_EHLO] = "ehlo",       [SMTP_STEP_TLS] = "tls",
    [SMTP_STEP_AUTH] = "auth",       [SMTP_STEP_MAIL] = "mail",
    [SMTP_STEP_RCPT] = "rcpt",       [SMTP_STEP_DATA] = "data",
    [SMTP_STEP_BODY] = "body",       [SMTP_STEP_QUIT] = "quit",
};

_Static_assert(sizeof step_names / sizeof step_names[0] == SMTP_NSTEPS,
               "every step has a name");

struct smtp_session {
	struct conn *conn; /* NULL once closed */
	struct smtp_timing *timing; /* the caller's, or own_timing */
	struct smtp_timing own_timing;
	struct transcript *t;
	struct smtp_timeouts to;
	struct smtp_caps caps;
	enum smtp_state state;
	bool lmtp;
	bool no_pipelining; /* smtp_options.no_pipelining */
	bool no_chunking;   /* smtp_options.no_chunking */
	bool bdat;          /* this transaction's body goes by BDAT */
	/* The envelope whose MAIL and RCPT went unanswered ahead of the
	 * chunks (piped): smtp_body reads their replies into res, the
	 * caller's, before the chunks'.  owed: steps sent, read: read. */
	struct {
		const struct smtp_envelope *env;
		struct smtp_envelope_result *res;
		size_t owed, read;
	} piped;
	bool stop;          /* smtp_options.stop and stop_after */
	enum smtp_step stop_after;
	bool quit_sent;
	bool tls;        /* TLS is on (implicit, or after STARTTLS) */
	bool starttls_done;       /* the handshake after STARTTLS happened */
	struct smtp_heard *heard; /* the caller's, or NULL */
	char *auth_line; /* SMTP_AUTH_LINE_MAX bytes while AUTH runs */
	char line[REPLY_LINE_MAX + 1]; /* one reply line as read */
};

/* The only way to change state. */
static void
enter(struct smtp_session *s, enum smtp_state next)
{
	if (s->state != next)
		transcript_trace(s->t, "state %s -> %s", state_names[s->state],
		                 state_names[next]);
	s->state = next;
}

/* RFC 2920 is used when offered, unless the caller turned it off. */
static bool
pipelines(const struct smtp_session *s)
{
	return s->caps.pipelining && !s->no_pipelining;
}

/* --quit-after: is `step` where the session was asked to stop? */
static bool
stops_after(const struct smtp_session *s, enum smtp_step step)
{
	return s->stop && s->stop_after == step;
}

/* --- step timing --- */

const char *
smtp_step_name(enum smtp_step step)
{
	return step < SMTP_NSTEPS ? step_names[step] : "?";
}

void
smtp_timing_init(struct smtp_timing *t)
{
	t->origin_us = now_us();
	for (int i = 0; i < SMTP_NSTEPS; i++) {
		t->begin_us[i] = -1;
		t->end_us[i] = -1;
	}
}

enum smtp_step
smtp_timing_failed(const struct smtp_timing *t)
{
	enum smtp_step failed = SMTP_NSTEPS;

	for (int i = 0; i < SMTP_NSTEPS; i++)
		if (t->begin_us[i] >= 0 && t->end_us[i] < 0)
			failed = (enum smtp_step)i;
	return failed;
}

static int64_t
since_origin(const struct smtp_session *s, int64_t at_us)
{
	return at_us - s->timing->origin_us;
}

static void
step_begin_at(struct smtp_session *s, enum smtp_step step, int64_t at_us)
{
	s->timing->begin_us[step] = since_origin(s, at_us);
	s->timing->end_us[step] = -1;
}

static void
step_begin(struct smtp_session *s, enum smtp_step step)
{
	step_begin_at(s, step, now_us());
}

static void
step_end_at(struct smtp_session *s, enum smtp_step step, int64_t at_us)
{
	s->timing->end_us[step] = since_origin(s, at_us);
}

static void
step_end(struct smtp_session *s, enum smtp_step step)
{
	step_end_at(s, step, now_us());
}

/* An exchange failed: the session can only be closed now. */
static int
fail(struct smtp_session *s, const struct error *err)
{
	transcript_problem(s->t, "%s", err->msg);
	enter(s, SMTP_BROKEN);
	return -1;
}

/* How long the reply to QUIT is awaited: it decides nothing a user
 * waits for, so never longer than SMTP_QUIT_TIMEOUT_MS. */
static int
quit_timeout(const struct smtp_session *s)
{
	return s->to.command < SMTP_QUIT_TIMEOUT_MS ? s->to.command
	                                            : SMTP_QUIT_TIMEOUT_MS;
}

static int
wrong_state(const struct smtp_session *s, const char *doing, struct error *err)
{
	return error_set(err, ERROR_SOFTWARE,
	                 "cannot %s in SMTP state %s (a bug in mailpost)",
	                 doing, state_names[s->state]);
}

void
smtp_timeouts_init(struct smtp_timeouts *t, int seconds)
{
	int ms;

	t->connect = 60 * 1000;
	t->greeting = 5 * 60 * 1000; /* RFC 5321 4.5.3.2.1 */
	t->command = 5 * 60 * 1000;  /* 4.5.3.2.2, .3, .8 */
	t->data = 2 * 60 * 1000;     /* 4.5.3.2.4 */
	t->block = 3 * 60 * 1000;    /* 4.5.3.2.5 */
	t->final = 10 * 60 * 1000;   /* 4.5.3.2.6 */
	if (seconds <= 0)
		return;
	ms = seconds > INT_MAX / 1000 ? INT_MAX : seconds * 1000;
	t->connect = t->greeting = t->command = ms;
	t->data = t->block = t->final = ms;
}

/* --- sending commands --- */

/* Queue one command line.  It must not hold CR or LF: addresses and
 * parameters were checked before they got here, and a line break would let
 * them smuggle in further commands, so finding one is our bug. */
static int
send_line(struct smtp_session *s, const char *line, size_t len,
          struct error *err)
{
	if (memchr(line, '\r', len) || memchr(line, '\n', len)) {
		error_set(err, ERROR_SOFTWARE,
		          "refusing to send a command with a line break (a "
		          "bug in mailpost)");
		return fail(s, err);
	}
	transcript_client(s->t, line, len);
	if (conn_write(s->conn, line, len, s->to.command, err) < 0 ||
	    conn_write(s->conn, "\r\n", 2, s->to.command, err) < 0)
		return fail(s, err);
	return 0;
}

static int send_cmd(struct smtp_session *s, struct error *err, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));

static int
send_cmd(struct smtp_session *s, struct error *err, const char *fmt, ...)
{
	char cmd[SMTP_CMD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof cmd) {
		error_set(err, ERROR_DATA,
		          "command too long to send (over %d bytes): %.40s...",
		          SMTP_CMD_MAX, cmd);
		return fail(s, err);
	}
	return send_line(s, cmd, (size_t)n, err);
}

static int
flush(struct smtp_session *s, int timeout_ms, struct error *err)
{
	if (conn_flush(s->conn, timeout_ms, err) < 0)
		return fail(s, err);
	return 0;
}

/* --- reading replies --- */

/* What a timeout says once part of a reply has come. */
#define SMTP_REST_OF_REPLY                                                     \
	"waiting for the rest of a reply (the whole reply must arrive within " \
	"the timeout)"

/* Read one whole reply, each line into the transcript as it arrives.
 * The timeout is for the whole reply, not for each line: a server that
 * dribbles one line per timeout would otherwise keep us for
 * REPLY_LINES_MAX of them.  Like every helper here that talks to the
 * server, it leaves the session broken when the exchange fails. */
static int
read_reply(struct smtp_session *s, struct reply *r, int timeout_ms,
           struct error *err)
{
	struct conn_wait w;
	size_t len;
	int rc;

	reply_clear(r);
	conn_wait_init(&w, timeout_ms, "waiting for the server");
	do {
		if (conn_read_line_until(s->conn, s->line, sizeof s->line, &len,
		                         &w, err) < 0) {
			if (err->kind == ERROR_PROTOCOL)
				error_prefix(err,
				             "malformed reply from server: ");
			return fail(s, err);
		}
		transcript_server(s->t, s->line, len);
		rc = reply_push_line(r, s->line, len, err);
		w.doing = SMTP_REST_OF_REPLY;
	} while (rc == 0);
	return rc < 0 ? fail(s, err) : 0;
}

/* Read a reply and check that the command may have it (reply_expected:
 * a positive code of the wrong kind is the server out of step). */
static int
read_checked(struct smtp_session *s, struct reply *r, int timeout_ms,
             enum reply_stage stage, const char *what, struct error *err)
{
	if (read_reply(s, r, timeout_ms, err) < 0)
		return -1;
	if (!reply_expected(r, stage)) {
		reply_to_error(r, stage, what, err);
		return fail(s, err);
	}
	return 0;
}

/* Called when every reply we are owed has been read, before we speak
 * again.  The server answers each command exactly once (RFC 5321 4.2,
 * RFC 2920 3.1) and speaks first only in its greeting, after which the
 * client talks (4.3.1): bytes already waiting now answer commands we never
 * sent.  That is a broken server or data injected into the stream, and
 * nothing read after it could be matched to our commands, so it is a
 * protocol error.  Inside a pipelined group, waiting replies are normal,
 * and this is not called until the group's last reply.  Best effort: bytes
 * still in flight are not seen. */
static int
check_in_sync(struct smtp_session *s, const char *after, struct error *err)
{
	if (conn_pending(s->conn) == 0)
		return 0;
	error_set(err, ERROR_PROTOCOL,
	          "unexpected data from the server after %s", after);
	return fail(s, err);
}

/* --- what the server said, for the caller (struct smtp_heard) --- */

void
smtp_heard_init(struct smtp_heard *h)
{
	memset(h, 0, sizeof *h);
	reply_init(&h->greeting);
	reply_init(&h->hello[0]);
	reply_init(&h->hello[1]);
	reply_init(&h->starttls);
}

void
smtp_heard_clear(struct smtp_heard *h)
{
	reply_clear(&h->greeting);
	reply_clear(&h->hello[0]);
	reply_clear(&h->hello[1]);
	reply_clear(&h->starttls);
	smtp_heard_init(h);
}

/* Move the reply r (read whole or in part) into the record's slot; r is
 * left holding the slot's old contents, for the caller to clear. */
static void
keep_reply(struct reply *slot, struct reply *r)
{
	struct reply old = *slot;

	*slot = *r;
	*r = old;
}

static void
hear_hello(struct smtp_session *s, const char *verb, struct reply *r,
           bool whole)
{
	int which = s->starttls_done ? 1 : 0;

	if (!s->heard || r->code == 0)
		return;
	keep_reply(&s->heard->hello[which], r);
	s->heard->hello_cut[which] = !whole;
	s->heard->hello_verb[which] = verb;
	s->heard->caps[which] = s->caps;
	s->heard->implicit_tls = s->tls && !s->starttls_done;
}

/* --- opening: greeting, EHLO (smtpcaps.c reads the capabilities) --- */

/* RFC 5321 4.3.2: the greeting is 220, or 554 for "no service here". */
static int
greeting(struct smtp_session *s, const char *host, struct error *err)
{
	struct reply r;
	char what[300];
	int rc;

	enter(s, SMTP_GREETING);
	step_begin(s, SMTP_STEP_GREETING);
	reply_init(&r);
	snprintf(what, sizeof what, "connecting to %s", host);
	rc =
	    read_checked(s, &r, s->to.greeting, REPLY_STAGE_CONNECT, what, err);
	if (rc == 0 && !reply_is_positive(&r))
		rc = reply_to_error(&r, REPLY_STAGE_CONNECT, what, err);
	else if (rc == 0)
		rc = check_in_sync(s, "its greeting", err);
	if (rc == 0)
		step_end(s, SMTP_STEP_GREETING);
	if (s->heard)
		keep_reply(&s->heard->greeting, &r);
	reply_clear(&r);
	return rc;
}

/* One EHLO, HELO or LHLO exchange. */
static int
hello_exchange(struct smtp_session *s, const char *verb, const char *name,
               struct reply *r, struct error *err)
{
	char after[32];

	snprintf(after, sizeof after, "the reply to %s", verb);
	if (send_cmd(s, err, "%s %s", verb, name) < 0 ||
	    flush(s, s->to.command, err) < 0)
		return -1;
	if (read_checked(s, r, s->to.command, REPLY_STAGE_HELO, verb, err) < 0)
		return -1;
	return check_in_sync(s, after, err);
}

/* EHLO (LHLO for LMTP, RFC 2033 4.1); HELO when EHLO is refused with a
 * 5xx, as RFC 5321 3.2 allows for servers that predate it. */
static int
hello(struct smtp_session *s, const char *name, struct error *err)
{
	const char *verb = s->lmtp ? "LHLO" : "EHLO";
	struct reply r;
	bool whole;
	int rc;

	reply_init(&r);
	enter(s, SMTP_EHLO);
	rc = hello_exchange(s, verb, name, &r, err);
	if (rc == 0 && reply_is_permanent(&r) && !s->lmtp) {
		enter(s, SMTP_HELO);
		verb = "HELO";
		rc = hello_exchange(s, verb, name, &r, err);
	}
	whole = rc == 0;
	if (rc == 0 && !reply_is_positive(&r)) {
		rc = reply_to_error(&r, REPLY_STAGE_HELO, verb, err);
	} else if (rc == 0 && s->state == SMTP_EHLO) {
		smtpcaps_parse(&s->caps, &r);
	}
	hear_hello(s, verb, &r, whole);
	reply_clear(&r);
	return rc;
}

/* --- TLS: implicit (RFC 8314) and STARTTLS (RFC 3207) --- */

/* The parameters for one handshake: the host to verify defaults to the
 * one connected to (already an A-label, see submit.c). */
static void
tls_setup(const struct smtp_session *s, const struct smtp_options *o,
          struct tls_params *p)
{
	*p = o->tls_params;
	if (!p->host)
		p->host = o->target.host;
	if (p->timeout_ms <= 0)
		p->timeout_ms = s->to.command;
	if (p->no_certcheck)
		transcript_problem(s->t, "TLS certificate checking is off "
		                         "(tls_certcheck off): the server is "
		                         "not authenticated");
}

/* Plain TCP, or TLS from the first byte: a server that talks plaintext
 * fails the handshake and is never spoken to in the clear. */
static int
open_connection(struct smtp_session *s, const struct smtp_options *o,
                const struct conn_target *tg, struct error *err)
{
	struct tls_params p;

	step_begin(s, SMTP_STEP_CONNECT);
	if (conn_open(&s->conn, tg, s->t, err) < 0)
		return -1;
	step_end(s, SMTP_STEP_CONNECT);
	if (s->heard)
		str_copy(s->heard->peer, sizeof s->heard->peer,
		         conn_peer(s->conn));
	if (o->tls != SMTP_TLS_IMPLICIT || stops_after(s, SMTP_STEP_CONNECT))
		return 0;
	step_begin(s, SMTP_STEP_TLS);
	tls_setup(s, o, &p);
	if (conn_start_implicit_tls(s->conn, &p, err) < 0) {
		transcript_problem(s->t, "%s", err->msg);
		conn_close(s->conn);
		s->conn = NULL;
		return -1;
	}
	step_end(s, SMTP_STEP_TLS);
	s->tls = true;
	if (s->heard)
		s->heard->tls_done = true;
	return 0;
}

/* A refusal that leaves the session in step with the server: it is
 * noted, and smtp_close still sends QUIT. */
static int
refuse(struct smtp_session *s, const struct error *err)
{
	transcript_problem(s->t, "%s", err->msg);
	return -1;
}

/* RFC 3207 4: 220 lets the handshake begin; 454 (any 4xx) is temporary;
 * anything else means no TLS, and we do not go on without it.  A positive
 * reply other than 220 (a 250, a 354) leaves us unsure what the server is
 * doing, so nothing more is sent. */
static int
starttls_exchange(struct smtp_session *s, struct reply *r, struct error *err)
{
	if (send_cmd(s, err, "STARTTLS") < 0 ||
	    flush(s, s->to.command, err) < 0 ||
	    read_reply(s, r, s->to.command, err) < 0)
		return -1;
	if (r->code == 220)
		return 0;
	if (reply_is_temporary(r)) {
		reply_to_error(r, REPLY_STAGE_HELO,
		               "STARTTLS failed temporarily", err);
		return refuse(s, err);
	}
	if (reply_is_permanent(r)) {
		reply_to_error(r, REPLY_STAGE_HELO,
		               "STARTTLS refused; not continuing without TLS",
		               err);
		err->kind = ERROR_PROTOCOL;
		return refuse(s, err);
	}
	reply_to_error(r, REPLY_STAGE_HELO, "STARTTLS", err);
	err->kind = ERROR_PROTOCOL;
	return fail(s, err);
}

/* STARTTLS is required when configured: not offered or not accepted
 * means stop, never a plaintext fallback.  conn_start_tls refuses bytes
 * that came before the handshake (response injection).  After it, every
 * capability learnt in the clear is forgotten and EHLO sent again
 * (RFC 3207 4.2); a STARTTLS in that reply is ignored. */
static int
starttls(struct smtp_session *s, const struct smtp_options *o, const char *name,
         struct error *err)
{
	struct tls_params p;
	struct reply r;
	int rc;

	step_begin(s, SMTP_STEP_TLS);
	if (!s->caps.starttls) {
		error_set(err, ERROR_PROTOCOL,
		          "the server does not offer STARTTLS; refusing to "
		          "continue without TLS");
		return refuse(s, err);
	}
	enter(s, SMTP_STARTTLS);
	reply_init(&r);
	rc = starttls_exchange(s, &r, err);
	if (s->heard)
		keep_reply(&s->heard->starttls, &r);
	reply_clear(&r);
	if (rc < 0)
		return -1;
	tls_setup(s, o, &p);
	if (conn_start_tls(s->conn, &p, err) < 0)
		return fail(s, err);
	s->tls = true;
	s->starttls_done = true;
	if (s->heard)
		s->heard->tls_done = true;
	memset(&s->caps, 0, sizeof s->caps);
	if (hello(s, name, err) < 0)
		return -1;
	s->caps.starttls = false;
	step_end(s, SMTP_STEP_TLS);
	return 0;
}

/* --- AUTH (RFC 4954) --- */

/* Does the server offer a SCRAM-*-PLUS mechanism? */
static bool
offers_plus(const struct smtp_caps *caps)
{
	const char *p = caps->auth;
	size_t n;

	while (*p) {
		n = strcspn(p, " ");
		if (n > 5 && memcmp(p + n - 5, "-PLUS", 5) == 0)
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

/* Channel binding for SCRAM-*-PLUS (RFC 5802 6, RFC 9266): the kind the
 * session prefers, given only when the server offers a -PLUS mechanism.
 * Given otherwise, SCRAM would send the GS2 flag "y" (RFC 5802 6: "I could
 * bind, I think you cannot"), which a server that can bind but does not
 * list -PLUS (Cyrus SASL behind Postfix with a restricted mech_list) must
 * refuse as a downgrade.  The list we read came over verified TLS, so
 * nobody can have stripped -PLUS from it: "n" loses nothing. */
static void
channel_binding(struct smtp_session *s, struct sasl_params *p, char *cb,
                size_t n)
{
	enum tls_binding kind = conn_channel_binding_type(s->conn);
	struct error e;

	if (kind == TLS_BINDING_NONE || !offers_plus(&s->caps))
		return;
	error_clear(&e);
	if (conn_channel_binding(s->conn, kind, cb, n, &e) < 0) {
		transcript_note(s->t, "no channel binding: %s", e.msg);
		return;
	}
	if (kind == TLS_BINDING_EXPORTER)
		p->cb_tls_exporter = cb;
	else
		p->cb_tls_unique = cb;
}

/* A line of the AUTH exchange into the transcript: its redacted form,
 * and for a terminal that asked for it (--show-auth) the line as it went
 * with its payload decoded, wiped after use. */
static void
show_auth(struct smtp_session *s, const char *redacted, const char *line,
          size_t len, bool server)
{
	char *clear = NULL;

	if (transcript_shows_auth(s->t)) {
		clear = xmalloc(SMTP_CLEAR_MAX);
		sasl_show_line(line, len, server, clear, SMTP_CLEAR_MAX);
	}
	if (server)
		transcript_auth_server(s->t, redacted, clear);
	else
		transcript_auth_client(s->t, redacted, clear);
	if (clear) {
		wipe(clear, SMTP_CLEAR_MAX);
		free(clear);
	}
}

/* One line of the exchange that may carry a secret: the transcript gets
 * only its redacted form (unless --show-auth, on the terminal). */
static int
send_secret_line(struct smtp_session *s, const char *line, size_t len,
                 struct error *err)
{
	char shown[64];

	if (memchr(line, '\r', len) || memchr(line, '\n', len)) {
		error_set(err, ERROR_SOFTWARE,
		          "refusing to send an AUTH line with a line break (a "
		          "bug in mailpost)");
		return fail(s, err);
	}
	sasl_redact_client(line, len, shown, sizeof shown);
	show_auth(s, shown, line, len, false);
	if (conn_write(s->conn, line, len, s->to.command, err) < 0 ||
	    conn_write(s->conn, "\r\n", 2, s->to.command, err) < 0 ||
	    conn_flush(s->conn, s->to.command, err) < 0)
		return fail(s, err);
	return 0;
}

/* "AUTH MECH [initial-response]" (RFC 4954 4); sasl_start keeps the line
 * within SASL_COMMAND_MAX, so not fitting here is our bug. */
static int
send_auth(struct smtp_session *s, const struct sasl_client *c,
          const char *initial, struct error *err)
{
	char line[SASL_COMMAND_MAX];
	int n = snprintf(line, sizeof line, "AUTH %s%s%s", sasl_mechanism(c),
	                 initial ? " " : "", initial ? initial : "");
	int rc;

	if (n < 0 || (size_t)n + 2 > sizeof line) {
		wipe(line, sizeof line);
		error_set(err, ERROR_SOFTWARE,
		          "AUTH command too long (a bug in mailpost)");
		return fail(s, err);
	}
	rc = send_secret_line(s, line, (size_t)n, err);
	wipe(line, sizeof line);
	return rc;
}

static void
show_auth_line(struct smtp_session *s, const struct sasl_client *c,
               const char *line, size_t len)
{
	char shown[SMTP_SHOWN_MAX];

	sasl_redact_server(c, line, len, shown, sizeof shown);
	show_auth(s, shown, line, len, true);
}

static bool
is_challenge(const char *line, size_t len)
{
	return len >= 3 && memcmp(line, "334", 3) == 0 &&
	       (len == 3 || line[3] == ' ');
}

/* One reply during AUTH.  A 334 is one line (RFC 4954 4) whose text, the
 * challenge, is left at *challenge (in s->auth_line); other replies are
 * parsed as usual into r.  Errors never quote what the server sent: it
 * may echo a response. */
static int
read_auth_reply(struct smtp_session *s, const struct sasl_client *c,
                struct reply *r, const char **challenge, size_t *clen,
                struct error *err)
{
	char *line = s->auth_line;
	struct conn_wait w;
	size_t len;
	int rc;

	reply_clear(r);
	conn_wait_init(&w, s->to.command, "waiting for the server");
	do {
		if (conn_read_line_until(s->conn, line, SMTP_AUTH_LINE_MAX,
		                         &len, &w, err) < 0)
			return fail(s, err);
		w.doing = SMTP_REST_OF_REPLY;
		show_auth_line(s, c, line, len);
		if (r->nlines == 0 && is_challenge(line, len)) {
			r->code = 334;
			*challenge = len > 4 ? line + 4 : "";
			*clen = len > 4 ? len - 4 : 0;
			return 0;
		}
		rc = reply_push_line(r, line, len, err);
	} while (rc == 0);
	if (rc < 0 || r->code == 334) {
		error_set(err, ERROR_PROTOCOL,
		          "malformed reply from server to AUTH (a 334 must be "
		          "one line: RFC 4954 4)");
		return fail(s, err);
	}
	return 0;
}

/* RFC 4954 4: "*" cancels; the server answers (501) and the exchange is
 * over.  The caller's error keeps the reason sasl_step gave; a server
 * that answers the cancel with another challenge is not trusted with a
 * QUIT. */
static int
cancel_auth(struct smtp_session *s, const struct sasl_client *c,
            struct reply *r)
{
	struct error e;
	const char *ch;
	size_t n;

	error_clear(&e);
	if (send_secret_line(s, "*", 1, &e) == 0 &&
	    read_auth_reply(s, c, r, &ch, &n, &e) == 0 && r->code == 334)
		enter(s, SMTP_BROKEN);
	return -1;
}

static int
answer_challenge(struct smtp_session *s, struct sasl_client *c, struct reply *r,
                 const char *challenge, size_t clen, struct error *err)
{
	const char *resp = NULL;
	int rc = sasl_step(c, challenge, clen, &resp, err);

	if (rc == 0 && !resp)
		rc = error_set(err, ERROR_SOFTWARE,
		               "no SASL response (a bug in mailpost)");
	if (rc != 0)
		return cancel_auth(s, c, r);
	return send_secret_line(s, resp, strlen(resp), err);
}

/* The final reply: 235 is success if the mechanism agrees (a SCRAM
 * server must prove itself); any other positive reply is out of
 * protocol; a negative one is explained by sasl_failure, secret-free. */
static int
auth_verdict(struct smtp_session *s, struct sasl_client *c,
             const struct reply *r, struct error *err)
{
	char text[300];

	if (r->code == 235) {
		if (sasl_success(c, err) < 0)
			return refuse(s, err);
		transcript_note(s->t, "authenticated with %s",
		                sasl_mechanism(c));
		return check_in_sync(s, "the reply to AUTH", err);
	}
	if (reply_is_positive(r)) {
		error_set(err, ERROR_PROTOCOL,
		          "unexpected reply %d to AUTH (RFC 4954 wants 235 or "
		          "334)",
		          r->code);
		return fail(s, err);
	}
	reply_summary(r, text, sizeof text);
	sasl_failure(c, r->code, text, err);
	wipe(text, sizeof text);
	/* The code only: a server may echo the credentials in the text. */
	err->smtp_code = r->code;
	str_copy(err->smtp_enhanced, sizeof err->smtp_enhanced, r->enhanced);
	return refuse(s, err);
}

/* Drive the exchange as sasl.h describes; sasl.c bounds the steps and
 * the challenge sizes. */
static int
auth_exchange(struct smtp_session *s, struct sasl_client *c, struct reply *r,
              struct error *err)
{
	const char *initial = NULL, *challenge = NULL;
	size_t clen = 0;
	int rc;

	if (sasl_start(c, &initial, err) < 0)
		return refuse(s, err);
	rc = send_auth(s, c, initial, err);
	if (rc == 0)
		rc = read_auth_reply(s, c, r, &challenge, &clen, err);
	while (rc == 0 && r->code == 334) {
		rc = answer_challenge(s, c, r, challenge, clen, err);
		if (rc == 0)
			rc = read_auth_reply(s, c, r, &challenge, &clen, err);
	}
	if (rc < 0)
		return s->state == SMTP_BROKEN ? -1 : refuse(s, err);
	return auth_verdict(s, c, r, err);
}

/* One AUTH exchange with the parameters p. */
static int
auth_once(struct smtp_session *s, const struct smtp_options *o,
          const struct sasl_params *p, struct error *err)
{
	struct sasl_client *c = NULL;
	struct reply r;
	int rc;

	enter(s, SMTP_AUTH);
	if (sasl_client_new(&c, p, err) < 0)
		return refuse(s, err);
	if (o->report)
		str_copy(o->report->auth_mechanism,
		         sizeof o->report->auth_mechanism, sasl_mechanism(c));
	s->auth_line = xmalloc(SMTP_AUTH_LINE_MAX);
	reply_init(&r);
	rc = auth_exchange(s, c, &r, err);
	reply_clear(&r);
	wipe(s->auth_line, SMTP_AUTH_LINE_MAX);
	free(s->auth_line);
	s->auth_line = NULL;
	sasl_client_free(c);
	return rc;
}

/* The server refused the credentials and the session is still up: the
 * caller's renewal (smtp_options.renew), then AUTH once more. */
static int
auth_renewed(struct smtp_session *s, const struct smtp_options *o,
             struct sasl_params *p, struct error *err)
{
	struct error refusal = *err;
	const char *fresh = NULL;
	int rc = o->renew(o->renew_ctx, &fresh, err);

	if (rc == 1) {
		*err = refusal;
		return -1;
	}
	if (rc < 0) {
		transcript_problem(s->t, "%s", err->msg);
		return -1;
	}
	transcript_note(s->t, "AUTH again with the renewed secret");
	p->secret = fresh;
	return auth_once(s, o, p, err);
}

static int
authenticate(struct smtp_session *s, const struct smtp_options *o,
             struct error *err)
{
	char cb[TLS_BINDING_B64_MAX] = "";
	struct sasl_params p = {
	    .auth = o->auth,
	    .offered = s->caps.auth,
	    .tls = s->tls,
	    .loopback = conn_is_local(s->conn),
	    .plaintext_ok = o->auth_plaintext,
	    .user = o->user,
	    .secret = o->secret,
	    .bearer = o->bearer,
	    .host = o->tls_params.host ? o->tls_params.host : o->target.host,
	    .account = o->account,
	    .private_names = o->private_names,
	};
	int rc;

	step_begin(s, SMTP_STEP_AUTH);
	channel_binding(s, &p, cb, sizeof cb);
	rc = auth_once(s, o, &p, err);
	/* 534 and 538 refuse the mechanism or the connection, which a new
	 * secret does not change. */
	if (rc < 0 && err->kind == ERROR_NOPERM && err->smtp_code != 534 &&
	    err->smtp_code != 538 && o->renew && s->state != SMTP_BROKEN)
		rc = auth_renewed(s, o, &p, err);
	wipe(cb, sizeof cb);
	if (rc == 0)
		step_end(s, SMTP_STEP_AUTH);
	return rc;
}

/* The first EHLO is a step of its own; the one after STARTTLS belongs to
 * the TLS step. */
static int
first_hello(struct smtp_session *s, const char *name, struct error *err)
{
	step_begin(s, SMTP_STEP_EHLO);
	if (hello(s, name, err) < 0)
		return -1;
	step_end(s, SMTP_STEP_EHLO);
	return 0;
}

static bool
wants_starttls(const struct smtp_session *s, const struct smtp_options *o)
{
	return o->tls == SMTP_TLS_STARTTLS ||
	       (o->tls == SMTP_TLS_OFF && o->starttls_if_offered &&
	        s->caps.starttls);
}

static bool
wants_auth(const struct smtp_options *o)
{
	return o->auth && *o->auth && !str_ieq(o->auth, "off");
}

/* The exchanges after the connection, in order, each skipped once the
 * step asked to stop after is over (smtp.h).  1: stopped early. */
static int
open_session(struct smtp_session *s, const struct smtp_options *o,
             const char *host, struct error *err)
{
	const char *name =
	    o->helo_name && *o->helo_name ? o->helo_name : "localhost";

	if (stops_after(s, SMTP_STEP_CONNECT))
		return 1;
	if (greeting(s, host, err) < 0)
		return -1;
	if (stops_after(s, SMTP_STEP_GREETING))
		return 1;
	if (first_hello(s, name, err) < 0)
		return -1;
	if (stops_after(s, SMTP_STEP_EHLO))
		return 1;
	if (wants_starttls(s, o) && starttls(s, o, name, err) < 0)
		return -1;
	if (stops_after(s, SMTP_STEP_TLS))
		return 1;
	if (wants_auth(o) && authenticate(s, o, err) < 0)
		return -1;
	return stops_after(s, SMTP_STEP_AUTH) ? 1 : 0;
}

int
smtp_open(struct smtp_session **out, const struct smtp_options *o,
          struct error *err)
{
	struct smtp_session *s = xcalloc(1, sizeof *s);
	struct conn_target tg = o->target;
	int rc;

	*out = NULL;
	s->timing = o->timing ? o->timing : &s->own_timing;
	smtp_timing_init(s->timing);
	if (o->report)
		memset(o->report, 0, sizeof *o->report);
	s->heard = o->heard;
	if (s->heard)
		smtp_heard_init(s->heard);
	s->t = o->transcript;
	s->to = o->timeouts;
	s->lmtp = o->lmtp;
	s->no_pipelining = o->no_pipelining;
	s->no_chunking = o->no_chunking;
	s->stop = o->stop;
	s->stop_after = o->stop_after;
	s->state = SMTP_CONNECTING;
	if (tg.timeout_ms <= 0)
		tg.timeout_ms = s->to.connect;
	if (open_connection(s, o, &tg, err) < 0) {
		free(s);
		return -1;
	}
	rc = open_session(s, o, tg.host, err);
	if (rc < 0) {
		/* A refusal still gets its QUIT (RFC 5321 3.1: a client
		 * given a 554 greeting SHOULD send QUIT); a session broken
		 * by a failed exchange (a failed TLS handshake among them)
		 * gets none from smtp_close. */
		smtp_close(s);
		return -1;
	}
	/* Stopped after the connection or the greeting: the state stays, so
	 * that smtp_close knows whether QUIT may be sent. */
	if (s->state != SMTP_CONNECTING && s->state != SMTP_GREETING)
		enter(s, SMTP_READY);
	if (rc == 0 && s->caps.pipelining && s->no_pipelining)
		transcript_note(s->t, "PIPELINING offered, not used: one "
		                      "command, one reply");
	*out = s;
	return 0;
}

const struct smtp_caps *
smtp_caps(const struct smtp_session *s)
{
	return &s->caps;
}

const struct smtp_timing *
smtp_timing(const struct smtp_session *s)
{
	return s->timing;
}

/* --- the envelope: MAIL, RCPT, DATA --- */

void
smtp_envelope_result_init(struct smtp_envelope_result *r)
{
	reply_init(&r->mail);
	r->rcpt = NULL;
	r->nrcpt = 0;
	r->naccepted = 0;
	reply_init(&r->data);
	r->bdat = r->piped = false;
}

void
smtp_envelope_result_clear(struct smtp_envelope_result *r)
{
	reply_clear(&r->mail);
	for (size_t i = 0; i < r->nrcpt; i++)
		reply_clear(&r->rcpt[i]);
	free(r->rcpt);
	r->rcpt = NULL;
	r->nrcpt = 0;
	r->naccepted = 0;
	reply_clear(&r->data);
	r->bdat = r->piped = false;
}

/* MAIL FROM with the parameters the server announced (RFC 1870 SIZE,
 * RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 3461 RET and ENVID, RFC 6710
 * MT-PRIORITY).  RET and NOTIFY go in upper case: RFC 3461 compares them
 * without regard to case, but then the command line's, an account's and
 * a -bs client's look alike in the transcript. */
static int
queue_mail(struct smtp_session *s, const struct smtp_envelope *env,
           struct error *err)
{
	const struct envelope *e = env->envelope;
	bool dsn = s->caps.dsn;
	char *ret = dsn && e->dsn.ret ? xstrdup_upper(e->dsn.ret) : NULL;
	int rc;
	char size[32] = "";
	char envid[SMTP_CMD_MAX / 2] = "";
	char priority[32] = "";

	if (s->caps.size && env->size > 0)
		snprintf(size, sizeof size, " SIZE=%" PRIu64, env->size);
	if (dsn && e->dsn.envid)
		xtext_encode(e->dsn.envid, envid, sizeof envid);
	if (s->caps.mt_priority && e->priority != 0 &&
	    e->priority >= ENVELOPE_PRIORITY_MIN &&
	    e->priority <= ENVELOPE_PRIORITY_MAX)
		snprintf(priority, sizeof priority, " MT-PRIORITY=%d",
		         e->priority);
	rc = send_cmd(s, err, "MAIL FROM:<%s>%s%s%s%s%s%s%s%s", e->sender, size,
	              env->body_binary ? " BODY=BINARYMIME"
	              : env->body_8bit ? " BODY=8BITMIME"
	                               : "",
	              env->smtputf8 ? " SMTPUTF8" : "", ret ? " RET=" : "",
	              ret ? ret : "", envid[0] ? " ENVID=" : "", envid,
	              priority);
	free(ret);
	return rc;
}

/* Whether the envelope asks for delivery status notifications at all. */
static bool
dsn_asked(const struct envelope *e)
{
	return e->dsn.notify || e->dsn.ret || e->dsn.envid;
}

/* RCPT TO with NOTIFY= and, when notifications were asked for at all,
 * ORCPT= (RFC 3461 4.2: the recipient as the sender gave it, which a DSN
 * then reports even when the server rewrites the address), both only to
 * a server that offers DSN. */
static int
queue_rcpt(struct smtp_session *s, const struct smtp_envelope *env,
           const char *rcpt, struct error *err)
{
	const struct envelope *e = env->envelope;
	char *notify =
	    s->caps.dsn && e->dsn.notify ? xstrdup_upper(e->dsn.notify) : NULL;
	char orcpt[XTEXT_ORCPT_MAX + 16] = "";
	int rc;

	if (s->caps.dsn && dsn_asked(e) &&
	    xtext_orcpt(rcpt, orcpt, sizeof orcpt) < 0)
		orcpt[0] = '\0';
	rc = send_cmd(s, err, "RCPT TO:<%s>%s%s%s%s", rcpt,
	              notify ? " NOTIFY=" : "", notify ? notify : "",
	              orcpt[0] ? " ORCPT=" : "", orcpt);
	free(notify);
	return rc;
}

/* Step i of the envelope: 0 is MAIL, 1..nrcpts the RCPTs, then DATA. */
static int
queue_step(struct smtp_session *s, const struct smtp_envelope *env, size_t i,
           struct error *err)
{
	size_t n = env->envelope->nrcpts;

	if (i == 0 || i == 1 || i == n + 1)
		step_begin(s, i == 0   ? SMTP_STEP_MAIL
		              : i == 1 ? SMTP_STEP_RCPT
		                       : SMTP_STEP_DATA);
	if (i == 0)
		return queue_mail(s, env, err);
	if (i <= env->envelope->nrcpts)
		return queue_rcpt(s, env, env->envelope->rcpts[i - 1].addr,
		                  err);
	return send_cmd(s, err, "DATA");
}

static int
read_step(struct smtp_session *s, const struct smtp_envelope *env,
          struct smtp_envelope_result *res, size_t i, struct error *err)
{
	struct reply *r;

	if (i == 0) {
		if (read_checked(s, &res->mail, s->to.command, REPLY_STAGE_MAIL,
		                 "MAIL FROM", err) < 0)
			return -1;
		step_end(s, SMTP_STEP_MAIL);
		return 0;
	}
	if (i > env->envelope->nrcpts) {
		if (read_checked(s, &res->data, s->to.data, REPLY_STAGE_DATA,
		                 "DATA", err) < 0)
			return -1;
		step_end(s, SMTP_STEP_DATA);
		return 0;
	}
	r = &res->rcpt[i - 1];
	if (read_checked(s, r, s->to.command, REPLY_STAGE_RCPT, "RCPT TO",
	                 err) < 0)
		return -1;
	if (reply_is_positive(r))
		res->naccepted++;
	if (i == env->envelope->nrcpts)
		step_end(s, SMTP_STEP_RCPT);
	return 0;
}

static const char *step_name(const struct smtp_envelope *env, size_t i);

/* How many of the envelope's steps (queue_step) are sent: MAIL, the
 * RCPTs and DATA, unless the session stops earlier (--quit-after) or the
 * body goes by BDAT (no DATA: RFC 3030 2 forbids both in a transaction). */
static size_t
envelope_steps(const struct smtp_session *s, const struct smtp_envelope *env)
{
	size_t n = env->envelope->nrcpts;

	if (stops_after(s, SMTP_STEP_MAIL))
		return 1;
	return stops_after(s, SMTP_STEP_RCPT) || s->bdat ? n + 1 : n + 2;
}

/* RFC 2920: everything written, one flush, then every reply read in
 * order.  Batches of SMTP_PIPELINE_MAX keep the unread replies bounded. */
static int
envelope_pipelined(struct smtp_session *s, const struct smtp_envelope *env,
                   struct smtp_envelope_result *res, struct error *err)
{
	size_t total = envelope_steps(s, env), sent = 0, done = 0;

	while (done < total) {
		for (; sent < total && sent - done < SMTP_PIPELINE_MAX; sent++)
			if (queue_step(s, env, sent, err) < 0)
				return -1;
		if (flush(s, s->to.command, err) < 0)
			return -1;
		for (; done < sent; done++)
			if (read_step(s, env, res, done, err) < 0)
				return -1;
	}
	return check_in_sync(s, step_name(env, total - 1), err);
}

static const char *
step_name(const struct smtp_envelope *env, size_t i)
{
	if (i == 0)
		return "the reply to MAIL";
	return i <= env->envelope->nrcpts ? "the reply to RCPT"
	                                  : "the reply to DATA";
}

/* Without pipelining: one command, one reply. */
static int
one_step(struct smtp_session *s, const struct smtp_envelope *env,
         struct smtp_envelope_result *res, size_t i, struct error *err)
{
	if (queue_step(s, env, i, err) < 0 ||
	    flush(s, s->to.command, err) < 0 ||
	    read_step(s, env, res, i, err) < 0)
		return -1;
	return check_in_sync(s, step_name(env, i), err);
}

/* Stop where the rest is pointless: after a refused MAIL; after a refused
 * RCPT when all_or_nothing; and send DATA only when the replies allow
 * (smtp.h). */
static int
envelope_stepwise(struct smtp_session *s, const struct smtp_envelope *env,
                  struct smtp_envelope_result *res, struct error *err)
{
	size_t i;

	if (one_step(s, env, res, 0, err) < 0)
		return -1;
	if (!reply_is_positive(&res->mail) || envelope_steps(s, env) == 1)
		return 0;
	for (i = 1; i <= env->envelope->nrcpts; i++) {
		if (one_step(s, env, res, i, err) < 0)
			return -1;
		if (!reply_is_positive(&res->rcpt[i - 1]) &&
		    env->all_or_nothing) {
			/* The step is over: the rest is not worth asking. */
			step_end(s, SMTP_STEP_RCPT);
			return 0;
		}
	}
	if (res->naccepted == 0 ||
	    envelope_steps(s, env) == env->envelope->nrcpts + 1)
		return 0;
	return one_step(s, env, res, env->envelope->nrcpts + 1, err);
}

/* RFC 6531 3.2, 3.4: UTF-8 addresses only in a transaction that asked for
 * SMTPUTF8, and SMTPUTF8 only from a server that offered it. */
static int
check_envelope_utf8(const struct smtp_session *s,
                    const struct smtp_envelope *env, struct error *err)
{
	if (env->smtputf8 && !s->caps.smtputf8)
		return error_set(err, ERROR_SOFTWARE,
		                 "SMTPUTF8 requested but not offered (a bug in "
		                 "mailpost)");
	if (env->smtputf8)
		return 0;
	if (!str_is_ascii(env->envelope->sender))
		return error_set(err, ERROR_SOFTWARE,
		                 "a non-ASCII sender without SMTPUTF8 (a bug "
		                 "in mailpost)");
	for (size_t i = 0; i < env->envelope->nrcpts; i++)
		if (!str_is_ascii(env->envelope->rcpts[i].addr))
			return error_set(err, ERROR_SOFTWARE,
			                 "a non-ASCII recipient without "
			                 "SMTPUTF8 (a bug in mailpost)");
	return 0;
}

static int
check_envelope(const struct smtp_session *s, const struct smtp_envelope *env,
               struct error *err)
{
	if (s->stop && s->stop_after < SMTP_STEP_MAIL)
		return error_set(err, ERROR_SOFTWARE,
		                 "a transaction on a session stopped before "
		                 "MAIL (a bug in mailpost)");
	if (env->body_binary && !smtp_envelope_uses_bdat(s, env))
		return error_set(err, ERROR_SOFTWARE,
		                 "BODY=BINARYMIME without BDAT (a bug in "
		                 "mailpost)");
	if (!env->envelope || !env->envelope->sender ||
	    (env->envelope->nrcpts == 0 && !stops_after(s, SMTP_STEP_MAIL)))
		return error_set(err, ERROR_SOFTWARE,
		                 "an envelope without sender or recipients "
		                 "(a bug in mailpost)");
	for (size_t i = 0; i < env->envelope->nrcpts; i++)
		if (!env->envelope->rcpts[i].addr)
			return error_set(err, ERROR_SOFTWARE,
			                 "a NULL recipient (a bug in "
			                 "mailpost)");
	return 0;
}

bool
smtp_envelope_uses_bdat(const struct smtp_session *s,
                        const struct smtp_envelope *env)
{
	return s->caps.chunking && !s->no_chunking && !s->stop &&
	       !env->want_data;
}

/* RFC 3030 2 lets BDAT follow RCPT in a pipeline, so MAIL, RCPT, the
 * chunks and QUIT can leave in one write (one round trip fewer than
 * waiting for the replies, or for DATA's 354).  Only where the replies
 * could not have stopped the message anyway: one recipient (refused,
 * the server refuses the chunks: nothing is delivered), or a policy that
 * sends to whoever was accepted; with several recipients and
 * all-or-nothing, the RCPT replies decide first.  Not for LMTP: the
 * replies after the LAST chunk are as many as the recipients accepted,
 * which the caller must know before. */
static bool
pipes_body(const struct smtp_session *s, const struct smtp_envelope *env)
{
	size_t n = env->envelope->nrcpts;

	return s->bdat && pipelines(s) && !s->lmtp &&
	       n + 1 <= SMTP_PIPELINE_MAX && (n == 1 || !env->all_or_nothing);
}

/* MAIL and the RCPTs queued, their replies left for smtp_body. */
static int
envelope_piped(struct smtp_session *s, const struct smtp_envelope *env,
               struct smtp_envelope_result *res, struct error *err)
{
	size_t total = env->envelope->nrcpts + 1;

	for (size_t i = 0; i < total; i++)
		if (queue_step(s, env, i, err) < 0)
			return -1;
	s->piped.env = env;
	s->piped.res = res;
	s->piped.owed = total;
	s->piped.read = 0;
	res->bdat = true;
	res->piped = true;
	enter(s, SMTP_TRANSACTION);
	return 0;
}

/* The replies to a piped envelope not read yet. */
static int
read_piped(struct smtp_session *s, struct error *err)
{
	for (; s->piped.read < s->piped.owed; s->piped.read++)
		if (read_step(s, s->piped.env, s->piped.res, s->piped.read,
		              err) < 0)
			return -1;
	return 0;
}

int
smtp_envelope(struct smtp_session *s, const struct smtp_envelope *env,
              struct smtp_envelope_result *res, struct error *err)
{
	int rc;

	smtp_envelope_result_clear(res);
	if (s->state != SMTP_READY)
		return wrong_state(s, "start a transaction", err);
	if (check_envelope(s, env, err) < 0 ||
	    check_envelope_utf8(s, env, err) < 0)
		return -1;
	res->rcpt = xcalloc(env->envelope->nrcpts, sizeof *res->rcpt);
	res->nrcpt = env->envelope->nrcpts;
	for (size_t i = 0; i < env->envelope->nrcpts; i++)
		reply_init(&res->rcpt[i]);
	s->bdat = smtp_envelope_uses_bdat(s, env);
	s->piped.owed = s->piped.read = 0;
	enter(s, SMTP_ENVELOPE);
	if (pipes_body(s, env))
		return envelope_piped(s, env, res, err);
	if (pipelines(s))
		rc = envelope_pipelined(s, env, res, err);
	else
		rc = envelope_stepwise(s, env, res, err);
	if (rc < 0)
		return -1;
	res->bdat =
	    s->bdat && reply_is_positive(&res->mail) && res->naccepted > 0;
	if (res->data.code == 354)
		enter(s, SMTP_BODY);
	else if (reply_is_positive(&res->mail))
		enter(s, SMTP_TRANSACTION);
	else
		enter(s, SMTP_READY);
	return 0;
}

/* --- the body --- */

/* What the body looked like, for the -v summary and the -vv listing. */
struct body_log {
	uint64_t lines, bytes;
	struct buf partial; /* a line split between blocks, at -vv */
};

static void
log_body_line(struct smtp_session *s, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	transcript_body(s->t, line, len);
}

/* At -vv, each body line as it goes on the wire (dot-stuffed). */
static void
log_body(struct smtp_session *s, struct body_log *log, const char *p, size_t n)
{
	if (!transcript_wants(s->t, TRANSCRIPT_BODY))
		return;
	while (n > 0) {
		const char *lf = memchr(p, '\n', n);
		size_t take = lf ? (size_t)(lf - p) + 1 : n;

		if (lf && log->partial.len == 0) {
			log_body_line(s, p, take);
		} else if (buf_append(&log->partial, p, take) < 0) {
			/* Too long to hold (the buffer emptied itself):
			 * show it in pieces rather than not at all. */
			log_body_line(s, p, take);
		} else if (lf) {
			log_body_line(s, log->partial.data, log->partial.len);
			buf_reset(&log->partial);
		}
		p += take;
		n -= take;
	}
}

static void
count_body(struct body_log *log, const char *p, size_t n)
{
	const char *end = p + n;

	log->bytes += n;
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));

		if (!lf)
			break;
		log->lines++;
		p = lf + 1;
	}
}

/* One read of the body source into buf[0..room), for DATA and BDAT
 * alike: the bytes read, 0 at the end, -1 with err when the source
 * failed, overran room, or a signal came (it stops the body where it is:
 * no end of data follows). */
static ssize_t
read_body(const struct smtp_body_source *src, char *buf, size_t room,
          struct error *err)
{
	ssize_t n;

	if (interrupt_cuts())
		return interrupt_error(err);
	n = src->read(src->ctx, buf, room, err);
	if (n > 0 && (size_t)n > room)
		return error_set(err, ERROR_SOFTWARE,
		                 "body source overran its buffer");
	return n;
}

/* Read, stuff and queue the whole body, without the terminator.  Returns
 * -1 with *source_failed when the source could not be read. */
static int
send_blocks(struct smtp_session *s, const struct smtp_body_source *src,
            struct dot_stuffer *d, struct body_log *log, bool *source_failed,
            struct error *err)
{
	char *in = xmalloc(SMTP_BLOCK_SIZE);
	char *out = xmalloc(DOT_OUT_MAX(SMTP_BLOCK_SIZE));
	int rc = 0;

	for (;;) {
		ssize_t n = read_body(src, in, SMTP_BLOCK_SIZE, err);
		size_t m;

		if (n < 0) {
			*source_failed = true;
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		count_body(log, in, (size_t)n);
		m = dot_stuff(d, in, (size_t)n, out);
		log_body(s, log, out, m);
		if (conn_write(s->conn, out, m, s->to.block, err) < 0) {
			rc = fail(s, err);
			break;
		}
	}
	free(in);
	free(out);
	return rc;
}

/* QUIT queued right behind the end of the data, to leave in its write. */
static int
queue_quit(struct smtp_session *s, struct error *err)
{
	if (send_line(s, "QUIT", 4, err) < 0)
		return -1;
	step_begin(s, SMTP_STEP_QUIT);
	s->quit_sent = true;
	conn_expect_close(s->conn);
	return 0;
}

/* The end of the body in the transcript: a line still held (-vv), then
 * the count (-v). */
static void
log_body_done(struct smtp_session *s, struct body_log *log)
{
	if (log->partial.len > 0)
		log_body_line(s, log->partial.data, log->partial.len);
	transcript_body_end(s->t, log->lines, log->bytes);
}

/* The end of the data is queued (the terminator, or the LAST chunk):
 * QUIT behind it in the same write when the server pipelines (RFC 2920
 * 3.1 allows QUIT after the dot in a group, and BDAT is no group ender),
 * then the write.  *dot_sent says whether the server may have the whole
 * end: when the flush fails without a QUIT behind it, its last byte
 * never left; with a QUIT behind it, nobody knows. */
static int
send_end_of_data(struct smtp_session *s, bool quit_after, bool *dot_sent,
                 struct error *err)
{
	if (quit_after && pipelines(s) && queue_quit(s, err) < 0)
		return -1;
	enter(s, SMTP_DOT);
	if (conn_flush(s->conn, s->to.block, err) < 0) {
		*dot_sent = s->quit_sent;
		return fail(s, err);
	}
	*dot_sent = true;
	return 0;
}

/* The terminator (RFC 5321 4.1.1.4), and QUIT as send_end_of_data says. */
static int
send_terminator(struct smtp_session *s, struct dot_stuffer *d,
                struct body_log *log, bool quit_after, bool *dot_sent,
                struct error *err)
{
	char tail[8];
	size_t n = dot_finish(d, tail);

	log_body(s, log, tail, n - 3);
	log_body_done(s, log);
	transcript_client(s->t, ".", 1);
	if (conn_write(s->conn, tail, n, s->to.block, err) < 0)
		return fail(s, err);
	return send_end_of_data(s, quit_after, dot_sent, err);
}

/* A connection lost once the end of the data went out: the server may
 * have the message, nobody knows. */
static void
status_unknown(struct error *err)
{
	char why[ERROR_MSG_MAX];

	if (err->kind != ERROR_TEMPFAIL)
		return;
	str_copy(why, sizeof why, err->msg);
	error_set(err, ERROR_TEMPFAIL,
	          "connection lost after the end of data: delivery status "
	          "unknown (%s)",
	          why);
}

/* The replies to the dot: one, or one per accepted recipient for LMTP
 * (RFC 2033 4.2).  Losing the connection now leaves the outcome unknown,
 * for LMTP only for the recipients whose reply did not come: the replies
 * read before stay, the one that failed is cleared (code 0). */
static int
read_final(struct smtp_session *s, struct reply *final, size_t nfinal,
           struct error *err)
{
	for (size_t i = 0; i < nfinal; i++) {
		if (read_checked(s, &final[i], s->to.final, REPLY_STAGE_BODY,
		                 "end of data", err) == 0)
			continue;
		reply_clear(&final[i]);
		status_unknown(err);
		return -1;
	}
	return 0;
}

/* RFC 2920 3.1: one reply per command, in order.  A server that sends
 * one reply too many shifts every later one: a BDAT chunk's 250 is taken
 * for the end of data's (with DATA, an extra reply behind the 354 does
 * the same), and the real reply to the end of data, a refusal perhaps,
 * is read as QUIT's.  So when QUIT left with the end of the data (or
 * goes right after its reply, without PIPELINING), its reply is read
 * now: 221 is in step.  Another code may be a server that
 * refuses QUIT (the message is still delivered, 32-cases) or a shifted
 * reply; only the shifted one has a reply behind it (the real 221), so
 * one more is read: when it comes, the replies were out of step and the
 * outcome is unknown.  No reply at all (a timeout, a close) proves
 * nothing and changes nothing.  LMTP the same (RFC 2033 4.2): its final
 * replies are one per accepted recipient, and one reply too many before
 * them shifts each onto the recipient before, the last one's onto QUIT,
 * so no recipient's verdict can be trusted: every final[] is cleared. */
static int
quit_in_step(struct smtp_session *s, bool quit_after, struct reply *final,
             size_t nfinal, struct error *err)
{
	struct error lost;
	struct reply r;
	int rc = 0, code;

	error_clear(&lost);
	/* Without PIPELINING, QUIT goes now rather than at smtp_close: the
	 * same round trip, but its reply can still change the outcome. */
	if (quit_after && !s->quit_sent &&
	    (s->state == SMTP_READY || s->state == SMTP_TRANSACTION)) {
		if (queue_quit(s, &lost) < 0 ||
		    flush(s, quit_timeout(s), &lost) < 0)
			return 0;
		enter(s, SMTP_QUIT);
	}
	if (!s->quit_sent || s->state != SMTP_QUIT)
		return 0;
	reply_init(&r);
	if (read_reply(s, &r, quit_timeout(s), &lost) == 0 && r.code == 221) {
		step_end(s, SMTP_STEP_QUIT);
		enter(s, SMTP_CLOSED);
	} else if (s->state == SMTP_QUIT) {
		code = r.code;
		if (read_reply(s, &r, quit_timeout(s), &lost) == 0) {
			error_set(err, ERROR_TEMPFAIL,
			          "the server's replies are out of step (%d "
			          "and %d to QUIT): delivery status unknown",
			          code, r.code);
			for (size_t i = 0; i < nfinal; i++)
				reply_clear(&final[i]);
			rc = fail(s, err);
		}
	}
	reply_clear(&r);
	return rc;
}

/* --- the body by BDAT (RFC 3030) --- */

/* Where a BDAT body stands: chunks written and replies read (in order,
 * RFC 2920 3.1), and the first chunk the server refused. */
struct chunks {
	size_t sent, read;
	bool last_sent;
	struct reply refusal; /* code 0: none refused */
	/* A piped envelope's MAIL, or every RCPT, was refused: no chunk
	 * may follow, whatever the server said of those already sent. */
	bool envelope_refused;
};

/* Up to SMTP_CHUNK_SIZE octets of the body into buf: *len of them, *end
 * when the source said it has no more.  A full buffer does not know
 * whether more follows: the next call may find 0 and the end. */
static int
fill_chunk(const struct smtp_body_source *src, char *buf, size_t *len,
           bool *end, struct error *err)
{
	*len = 0;
	*end = false;
	while (*len < SMTP_CHUNK_SIZE) {
		ssize_t n =
		    read_body(src, buf + *len, SMTP_CHUNK_SIZE - *len, err);

		if (n < 0)
			return -1;
		if (n == 0) {
			*end = true;
			break;
		}
		*len += (size_t)n;
	}
	return 0;
}

/* The connection lost after a chunk's refusal was read: the refusal
 * failed the transaction already (RFC 3030 2), whatever went after it,
 * the LAST chunk included, so it is what the error says, not an unknown
 * status; the loss is said after it. */
static void
refused_then_lost(const struct reply *refusal, struct error *err)
{
	struct error refused;
	char lost[ERROR_MSG_MAX];

	str_copy(lost, sizeof lost, err->msg);
	error_clear(&refused);
	reply_to_error(refusal, REPLY_STAGE_BODY, "BDAT chunk refused",
	               &refused);
	error_set(err, refused.kind, "%s; then the connection was lost (%s)",
	          refused.msg, lost);
	error_copy_reply(err, &refused);
}

/* The reply to the oldest chunk not yet answered.  The LAST chunk's is
 * the reply to the end of the data (read_final: with LMTP one per
 * accepted recipient, RFC 2033 4.2 and RFC 3030 2) unless a chunk before
 * it was refused; the others' are kept only when they refuse (RFC 3030 2:
 * the first refusal fails the transaction; the replies to chunks already
 * in the pipeline after it are read and dropped).  A piped envelope's
 * replies come first: lost there once the LAST went out, the status is
 * as unknown as after it. */
static int
read_chunk_reply(struct smtp_session *s, struct chunks *c, struct reply *final,
                 size_t nfinal, struct error *err)
{
	bool last = c->last_sent && c->read + 1 == c->sent;
	struct reply r;
	int rc;

	if (flush(s, s->to.block, err) < 0)
		return -1;
	if (read_piped(s, err) < 0) {
		if (c->last_sent)
			status_unknown(err);
		return -1;
	}
	c->read++;
	if (last && c->refusal.code == 0)
		return read_final(s, final, nfinal, err);
	reply_init(&r);
	rc = read_checked(s, &r, last ? s->to.final : s->to.block,
	                  REPLY_STAGE_BODY, "BDAT", err);
	if (rc < 0 && c->refusal.code != 0)
		refused_then_lost(&c->refusal, err);
	else if (rc < 0 && c->last_sent)
		status_unknown(err);
	if (rc == 0 && !reply_is_positive(&r) && c->refusal.code == 0) {
		c->refusal = r;
		reply_init(&r);
	}
	reply_clear(&r);
	return rc;
}

/* "BDAT n" (with LAST: "BDAT n LAST", and QUIT behind it when the server
 * pipelines, as behind the dot) and the chunk's octets as they are.  The
 * transcript shows the command; the octets only at -vv, as body lines,
 * and at -v the count after the LAST. */
static int
send_chunk(struct smtp_session *s, const char *buf, size_t len, bool last,
           bool quit_after, struct body_log *log, struct chunks *c,
           bool *dot_sent, struct error *err)
{
	count_body(log, buf, len);
	if (send_cmd(s, err, "BDAT %zu%s", len, last ? " LAST" : "") < 0)
		return -1;
	log_body(s, log, buf, len);
	if (last)
		log_body_done(s, log);
	if (conn_write(s->conn, buf, len, s->to.block, err) < 0)
		return fail(s, err);
	c->sent++;
	if (!last)
		return 0;
	c->last_sent = true;
	return send_end_of_data(s, quit_after, dot_sent, err);
}

/* Before the next chunk: with pipelining, the replies owed are kept
 * under SMTP_CHUNKS_UNREAD; without it, every one is read (one command,
 * one reply).  A piped envelope (pipes_body) is answered before a second
 * chunk goes: a refused one costs at most one chunk's octets, and stops
 * the rest by itself (c->envelope_refused), not only through the
 * server's refusal of that chunk: a server that took it anyway (against
 * RFC 3030 2) gets no more of the body and no LAST. */
static int
read_owed(struct smtp_session *s, struct chunks *c, struct reply *final,
          size_t nfinal, struct error *err)
{
	size_t allowed = pipelines(s) ? SMTP_CHUNKS_UNREAD - 1 : 0;

	if (c->sent > 0 && s->piped.read < s->piped.owed) {
		if (read_piped(s, err) < 0)
			return -1;
		c->envelope_refused = !reply_is_positive(&s->piped.res->mail) ||
		                      s->piped.res->naccepted == 0;
		if (c->envelope_refused)
			allowed = 0;
	}
	while (c->sent - c->read > allowed)
		if (read_chunk_reply(s, c, final, nfinal, err) < 0)
			return -1;
	/* One command, one reply: a second one already waiting would be
	 * taken for the next chunk's, and at the end for the LAST's. */
	if (allowed == 0 && c->sent > 0)
		return check_in_sync(s, "the reply to BDAT", err);
	return 0;
}

/* The whole body as chunks, then every reply still owed.  A refused
 * chunk stops the sending (*refused); its reply becomes each final[].  A
 * refused piped envelope stops it too (*refused), final[] holding the
 * chunk's refusal if the server gave one: the envelope's replies are the
 * verdict. */
static int
send_chunks(struct smtp_session *s, const struct smtp_body_source *src,
            bool quit_after, struct reply *final, size_t nfinal,
            struct body_log *log, bool *dot_sent, bool *source_failed,
            bool *refused, struct error *err)
{
	char *buf = xmalloc(SMTP_CHUNK_SIZE);
	struct chunks c = {0};
	int rc = 0;

	reply_init(&c.refusal);
	while (rc == 0 && !c.last_sent && c.refusal.code == 0 &&
	       !c.envelope_refused) {
		size_t len;
		bool end;

		if (fill_chunk(src, buf, &len, &end, err) < 0) {
			*source_failed = true;
			rc = -1;
		} else if ((rc = read_owed(s, &c, final, nfinal, err)) < 0 ||
		           c.refusal.code != 0 || c.envelope_refused) {
			break;
		} else if (end && interrupt_cuts()) {
			rc = interrupt_error(err);
			*source_failed = true;
		} else {
			/* After the LAST goes out its reply decides,
			 * whatever signal comes (as after the dot). */
			if (end)
				interrupt_hold(true);
			rc = send_chunk(s, buf, len, end, quit_after, log, &c,
			                dot_sent, err);
		}
	}
	while (rc == 0 && c.read < c.sent)
		rc = read_chunk_reply(s, &c, final, nfinal, err);
	/* The refusal is every recipient's verdict (LMTP: RFC 2033 4.2 has
	 * one reply per recipient only for the end of the data). */
	*refused = rc == 0 && (c.refusal.code != 0 || c.envelope_refused);
	for (size_t i = 0; c.refusal.code != 0 && *refused && i < nfinal; i++)
		reply_copy(&final[i], &c.refusal);
	reply_clear(&c.refusal);
	free(buf);
	return rc;
}

static int
body_by_bdat(struct smtp_session *s, const struct smtp_body_source *src,
             bool quit_after, struct reply *final, size_t nfinal,
             bool *dot_sent, struct error *err)
{
	struct body_log log = {0};
	bool source_failed = false, refused = false;
	int rc;

	buf_init(&log.partial, SMTP_BODY_LOG_MAX);
	rc = send_chunks(s, src, quit_after, final, nfinal, &log, dot_sent,
	                 &source_failed, &refused, err);
	buf_clear(&log.partial);
	s->bdat = false;
	if (source_failed) {
		/* Never the LAST after a failed read: dropping the
		 * connection makes the server discard the chunks it has. */
		transcript_problem(s->t, "%s", err->msg);
		smtp_abort(s);
		return -1;
	}
	interrupt_hold(false);
	if (rc < 0)
		return -1;
	step_end(s, SMTP_STEP_BODY);
	/* A chunk refused before the LAST leaves the transaction to be
	 * reset (RFC 3030 2, RFC 5321 4.1.1.5) before another; the LAST's
	 * replies end it, whatever they say. */
	if (s->quit_sent)
		enter(s, SMTP_QUIT);
	else
		enter(s, refused ? SMTP_TRANSACTION : SMTP_READY);
	return quit_in_step(s, quit_after, final, nfinal, err);
}

int
smtp_body(struct smtp_session *s, const struct smtp_body_source *src,
          bool quit_after, struct reply *final, size_t nfinal, bool *dot_sent,
          struct error *err)
{
	struct dot_stuffer d;
	struct body_log log = {0};
	bool source_failed = false;
	int rc;

	*dot_sent = false;
	if (s->bdat ? s->state != SMTP_TRANSACTION : s->state != SMTP_BODY)
		return wrong_state(s, "send a message body", err);
	if (nfinal == 0)
		return error_set(err, ERROR_SOFTWARE,
		                 "no room for the reply to the end of data");
	for (size_t i = 0; i < nfinal; i++)
		reply_clear(&final[i]);
	step_begin(s, SMTP_STEP_BODY);
	if (s->bdat)
		return body_by_bdat(s, src, quit_after, final, nfinal, dot_sent,
		                    err);
	dot_init(&d);
	buf_init(&log.partial, SMTP_BODY_LOG_MAX);
	rc = send_blocks(s, src, &d, &log, &source_failed, err);
	/* Signals are blocked outside fd_wait (interrupt.h), so none can
	 * arrive between this check and the hold: after it, the reply to the
	 * dot is awaited whatever happens, and it decides. */
	if (rc == 0 && interrupt_cuts()) {
		interrupt_error(err);
		source_failed = true;
		rc = -1;
	}
	if (rc == 0) {
		interrupt_hold(true);
		rc = send_terminator(s, &d, &log, quit_after, dot_sent, err);
	}
	buf_clear(&log.partial);
	if (source_failed) {
		/* Never the terminator after a failed read: dropping the
		 * connection makes the server discard the partial message
		 * (RFC 5321 4.1.1.4). */
		transcript_problem(s->t, "%s", err->msg);
		smtp_abort(s);
		return -1;
	}
	if (rc == 0)
		rc = read_final(s, final, nfinal, err);
	interrupt_hold(false);
	if (rc < 0)
		return -1;
	step_end(s, SMTP_STEP_BODY);
	enter(s, s->quit_sent ? SMTP_QUIT : SMTP_READY);
	return quit_in_step(s, quit_after, final, nfinal, err);
}

/* --- the smuggling probe --- */

/* The probe's bytes at -vv, one piece per CRLF, every other control
 * byte escaped: a bare CR or LF in them is the point of the probe. */
static void
log_raw(struct smtp_session *s, const char *p, size_t len)
{
	char shown[SMTP_SHOWN_MAX];

	transcript_note(s->t,
	                "probe data: %zu bytes sent as they are (no "
	                "dot-stuffing, line endings untouched)",
	                len);
	if (!transcript_wants(s->t, TRANSCRIPT_BODY))
		return;
	while (len > 0) {
		size_t take = 0;

		while (take < len && !(p[take] == '\r' && take + 1 < len &&
		                       p[take + 1] == '\n'))
			take++;
		str_escape(shown, sizeof shown, p, take);
		transcript_body(s->t, shown, strlen(shown));
		take += take < len ? 2 : 0;
		p += take;
		len -= take;
	}
}

/* The replies after the probe: every one up to QUIT's.  A server that
 * took the malformed sequence as the end of data answers it, then each
 * smuggled command as a command: more replies than the one an intact
 * message gets.  No wait is needed to catch a late one: QUIT goes last,
 * and its 221 comes after every reply to what was sent before it. */
static int
read_probe_replies(struct smtp_session *s, struct reply *replies, size_t n,
                   size_t *got, struct error *err)
{
	for (*got = 0; *got < n; (*got)++) {
		struct reply *r = &replies[*got];

		if (read_reply(s, r, s->to.final, err) < 0) {
			reply_clear(r);
			break;
		}
		if (r->code == 221 || r->code == 421) {
			(*got)++;
			enter(s, SMTP_CLOSED);
			return 0;
		}
	}
	if (*got == 0)
		return -1;
	/* The connection ended (or a reply could not be read) after some
	 * replies: the list is what came. */
	transcript_note(s->t, "no more replies: %s", err->msg);
	return 0;
}

int
smtp_body_raw(struct smtp_session *s, const char *bytes, size_t len,
              struct reply *replies, size_t nreplies, size_t *got,
              struct error *err)
{
	*got = 0;
	if (s->state != SMTP_BODY)
		return wrong_state(s, "send a probe", err);
	for (size_t i = 0; i < nreplies; i++)
		reply_clear(&replies[i]);
	step_begin(s, SMTP_STEP_BODY);
	log_raw(s, bytes, len);
	if (conn_write(s->conn, bytes, len, s->to.block, err) < 0)
		return fail(s, err);
	if (queue_quit(s, err) < 0)
		return -1;
	enter(s, SMTP_DOT);
	if (flush(s, s->to.block, err) < 0)
		return -1;
	if (read_probe_replies(s, replies, nreplies, got, err) < 0)
		return -1;
	step_end(s, SMTP_STEP_BODY);
	step_end(s, SMTP_STEP_QUIT);
	return 0;
}

/* --- RSET, abort, QUIT --- */

bool
smtp_reusable(const struct smtp_session *s)
{
	return s && s->conn &&
	       (s->state == SMTP_READY || s->state == SMTP_TRANSACTION);
}

int
smtp_rset(struct smtp_session *s, struct error *err)
{
	struct reply r;
	int rc;

	if (s->state != SMTP_READY && s->state != SMTP_TRANSACTION)
		return wrong_state(s, "send RSET", err);
	s->bdat = false;
	enter(s, SMTP_RSET);
	reply_init(&r);
	rc = send_cmd(s, err, "RSET");
	if (rc == 0)
		rc = flush(s, s->to.command, err);
	if (rc == 0)
		rc = read_checked(s, &r, s->to.command, REPLY_STAGE_MAIL,
		                  "RSET", err);
	if (rc == 0 && !reply_is_positive(&r)) {
		/* RFC 5321 4.1.1.5: RSET can only succeed; a server that
		 * refuses it cannot be trusted with another transaction. */
		reply_to_error(&r, REPLY_STAGE_MAIL, "RSET", err);
		rc = fail(s, err);
	}
	if (rc == 0)
		rc = check_in_sync(s, "the reply to RSET", err);
	if (rc == 0)
		enter(s, SMTP_READY);
	reply_clear(&r);
	return rc;
}

void
smtp_abort(struct smtp_session *s)
{
	if (!s || !s->conn)
		return;
	transcript_note(s->t, "closing the connection without ending the "
	                      "data: the server discards the message");
	conn_close(s->conn);
	s->conn = NULL;
	enter(s, SMTP_CLOSED);
}

/* QUIT may be sent between commands; never inside the data (it would be
 * message text) nor on a session that broke. */
static bool
may_quit(const struct smtp_session *s)
{
	switch (s->state) {
	case SMTP_GREETING:
	case SMTP_EHLO:
	case SMTP_HELO:
	case SMTP_STARTTLS:
	case SMTP_AUTH:
	case SMTP_READY:
	case SMTP_TRANSACTION:
	case SMTP_QUIT:
		return true;
	default:
		return false;
	}
}

static void
quit(struct smtp_session *s)
{
	int timeout = quit_timeout(s);
	struct error err;
	struct reply r;

	error_clear(&err);
	if (!s->quit_sent) {
		step_begin(s, SMTP_STEP_QUIT);
		if (send_line(s, "QUIT", 4, &err) < 0 ||
		    flush(s, timeout, &err) < 0)
			return;
		s->quit_sent = true;
	}
	/* RFC 8314 / 3207: after QUIT a TCP close without close_notify is
	 * the end of the session, not a truncation attack. */
	conn_expect_close(s->conn);
	enter(s, SMTP_QUIT);
	reply_init(&r);
	if (read_reply(s, &r, timeout, &err) == 0) {
		step_end(s, SMTP_STEP_QUIT);
		enter(s, SMTP_CLOSED);
	}
	reply_clear(&r);
}

/* --timing: what each step of the session took, in one line at its end
 * ("steps: connect 0.2 ms, greeting 21.0 ms, ..."); a step not finished
 * is where the session stopped. */
static void
note_steps(const struct smtp_session *s)
{
	char text[512] = "";
	size_t o = 0;

	if (!transcript_timing(s->t))
		return;
	for (int i = 0; i < SMTP_NSTEPS && o < sizeof text; i++) {
		int64_t b = s->timing->begin_us[i], e = s->timing->end_us[i];
		int n;

		if (b < 0)
			continue;
		if (e < 0)
			n = snprintf(text + o, sizeof text - o,
			             "%s%s unfinished", o ? ", " : "",
			             step_names[i]);
		else
			n = snprintf(text + o, sizeof text - o,
			             "%s%s %" PRId64 ".%" PRId64 " ms",
			             o ? ", " : "", step_names[i],
			             (e - b) / 1000, (e - b) % 1000 / 100);
		if (n < 0)
			return;
		o += (size_t)n;
	}
	if (o > 0)
		transcript_note(s->t, "steps: %s", text);
}

void
smtp_close(struct smtp_session *s)
{
	if (!s)
		return;
	if (s->conn && may_quit(s))
		quit(s);
	note_steps(s);
	conn_close(s->conn);
	free(s);
}
