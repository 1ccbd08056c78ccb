/*
 * smuggle.c - --smtp-smuggling-test (see smuggle.h).
 */
#include "config.h"

#include "smuggle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "identity.h"
#include "relay.h"
#include "send.h"
#include "smtp.h"
#include "submit.h"
#include "util.h"

/* A probe's message: the header and text are a few hundred bytes. */
#define SMUGGLE_MESSAGE_MAX 4096
/* One probe's line of output: the replies, each cut to this. */
#define SMUGGLE_REPLY_SHOWN 120

#define PROBE(s, name)                                                         \
	{                                                                      \
		s, sizeof s - 1, name                                          \
	}

/* Every end-of-data sequence a server was found to take, or that tools
 * written after the disclosure try (SEC Consult's write-up, Postfix's
 * smtp-smuggling page, hannob/smtpsmug): bare LF and bare CR in each
 * place around the dot, a NUL before the dot, and the CR CR LF that
 * Postfix without smtpd_forbid_bare_newline reads as CR LF (3.7.11 still
 * does: tests/56-postfix-smuggling.bats). */
static const struct smuggle_probe probes[] = {
    PROBE("\n.\n", "<LF>.<LF>"),
    PROBE("\n.\r\n", "<LF>.<CR><LF>"),
    PROBE("\r\n.\n", "<CR><LF>.<LF>"),
    PROBE("\r.\r", "<CR>.<CR>"),
    PROBE("\r.\n", "<CR>.<LF>"),
    PROBE("\n.\r", "<LF>.<CR>"),
    PROBE("\r.\r\n", "<CR>.<CR><LF>"),
    PROBE("\r\n.\r", "<CR><LF>.<CR>"),
    PROBE("\r\n\0.\r\n", "<CR><LF><NUL>.<CR><LF>"),
    PROBE("\r\n.\r\r\n", "<CR><LF>.<CR><CR><LF>"),
};

const struct smuggle_probe *
smuggle_probes(size_t *n)
{
	*n = sizeof probes / sizeof probes[0];
	return probes;
}

char *
smuggle_message(const struct smuggle_probe *p, size_t i, size_t n,
                const char *sender, const char *rcpt, const char *host,
                const char *date, const char *msgid, size_t *len)
{
	struct buf b;

	buf_init(&b, SMUGGLE_MESSAGE_MAX);
	/* The header and text: CRLF lines, none starting with a dot. */
	if (buf_printf(
	        &b,
	        "From: <%s>\r\nTo: <%s>\r\n"
	        "Subject: SMTP smuggling test %zu of %zu: %s (mailpost)\r\n"
	        "Date: %s\r\nMessage-ID: %s\r\n"
	        "X-Mailpost-Test: smtp-smuggling %zu of %zu\r\n\r\n"
	        "This is a test message from mailpost --smtp-smuggling-test, "
	        "sent from\r\n%s. It checks whether the server takes %s\r\n"
	        "for the end of a message's data (SMTP smuggling: "
	        "CVE-2023-51764,\r\nCVE-2023-51765, CVE-2023-51766). "
	        "It can be deleted.\r\n\r\n"
	        "If NOOP shows at the end of the next line, the server kept "
	        "the\r\nsequence as text, as it should.\r\n"
	        "The sequence follows:",
	        sender, rcpt, i, n, p->name, date, msgid, i, n, host,
	        p->name) < 0 ||
	    buf_append(&b, p->bytes, p->len) < 0 ||
	    buf_append(&b, "NOOP\r\n.\r\n", 9) < 0) {
		buf_clear(&b);
		return NULL;
	}
	*len = b.len;
	return b.data;
}

bool
smuggle_taken(const struct reply *replies, size_t got)
{
	if (got > 0 && replies[got - 1].code == 221)
		got--;
	return got > 1;
}

/* --- running the probes --- */

struct run {
	struct job *job;
	struct relay_route route;
	const char *host; /* the server, for the lines */
	char me[256];     /* this machine, for the text */
	size_t taken;
	char taken_names[256];
};

static void
format_msgid(char *out, size_t n, const char *domain)
{
	unsigned char r[12];
	char hex[sizeof r * 2 + 1];

	random_unique(r, sizeof r);
	for (size_t i = 0; i < sizeof r; i++)
		hex_pair(hex + 2 * i, r[i]);
	hex[sizeof hex - 1] = '\0';
	snprintf(out, n, "<%s.smuggling-test@%s>", hex, domain);
}

/* What refused the probe before its data, as an error naming it. */
static int
refused(const struct smtp_envelope_result *res, size_t i,
        const struct smuggle_probe *p, struct error *err)
{
	if (!reply_is_positive(&res->mail))
		reply_to_error(&res->mail, REPLY_STAGE_MAIL, "MAIL FROM", err);
	else if (res->nrcpt > 0 && !reply_is_positive(&res->rcpt[0]))
		reply_to_error(&res->rcpt[0], REPLY_STAGE_RCPT, "RCPT TO", err);
	else if (res->data.code != 0)
		reply_to_error(&res->data, REPLY_STAGE_DATA, "DATA", err);
	else
		error_set(err, ERROR_PROTOCOL, "DATA was not answered");
	error_prefix(err, "probe %zu (%s) could not be sent: ", i, p->name);
	return -1;
}

/* What a probe showed.  Its replies ended cleanly (QUIT's 221, a 421,
 * the server closing the connection) or not: a reply that did not come
 * within the timeout, or bytes that are no reply, leave one reply or
 * none that tells nothing. */
enum verdict { VERDICT_NO, VERDICT_TAKEN, VERDICT_UNKNOWN };

static enum verdict
judge(const struct reply *replies, size_t got, const struct error *why)
{
	if (smuggle_taken(replies, got))
		return VERDICT_TAKEN;
	/* conn.c's "timed out after N s ..." */
	if (why->kind == ERROR_PROTOCOL ||
	    (why->kind != ERROR_NONE && strncmp(why->msg, "timed out", 9) == 0))
		return VERDICT_UNKNOWN;
	return VERDICT_NO;
}

/* One line: the probe, its bytes, the verdict, the replies, and what
 * ended them when it was not the server. */
static void
print_line(FILE *out, size_t i, const struct smuggle_probe *p, enum verdict v,
           const struct reply *replies, size_t got, const struct error *why)
{
	static const char *const words[] = {"no ", "YES", "?  "};
	char bytes[64], shown[SMUGGLE_REPLY_SHOWN];

	str_escape(bytes, sizeof bytes, p->bytes, p->len);
	fprintf(out, "%2zu  %-24s %-16s end of data: %s", i, p->name, bytes,
	        words[v]);
	if (got == 0)
		fprintf(out, "  (no reply: %s)", why->msg);
	for (size_t k = 0; k < got; k++) {
		reply_summary(&replies[k], shown, sizeof shown);
		fprintf(out, "%s%d %s", k == 0 ? "  (" : " | ", replies[k].code,
		        shown);
	}
	if (got > 0 && v == VERDICT_UNKNOWN)
		fprintf(out, " | then: %s", why->msg);
	fputs(got > 0 ? ")\n" : "\n", out);
	fflush(out);
}

/* Send probe i on a session of its own; *got replies in replies[]. */
static int
send_probe(struct run *rn, size_t i, const struct smuggle_probe *p, size_t n,
           struct reply *replies, size_t *got, struct error *err)
{
	struct job *job = rn->job;
	struct submission sub = {.env = &job->env,
	                         .transcript = job->transcript};
	/* DATA whatever the server offers: the probe is about how the end
	 * of DATA is found; BDAT has none. */
	struct smtp_envelope senv = {
	    .envelope = &job->env, .all_or_nothing = true, .want_data = true};
	struct smtp_envelope_result res;
	struct submit_session *ss;
	char date[64], msgid[320], *msg;
	size_t len = 0;
	int rc;

	if (relay_submission(&rn->route, 0, &sub, err) < 0 ||
	    submit_open(&ss, &sub, err) < 0)
		return -1;
	str_rfc5322_date(date, sizeof date, time(NULL), true);
	format_msgid(msgid, sizeof msgid, job->acct.domain);
	msg = smuggle_message(p, i, n, job->env.sender, job->env.rcpts[0].addr,
	                      rn->me, date, msgid, &len);
	senv.size = len;
	smtp_envelope_result_init(&res);
	rc = msg ? smtp_envelope(submit_smtp(ss), &senv, &res, err)
	         : error_set(err, ERROR_SOFTWARE, "probe message too long");
	/* With PIPELINING, DATA may get its 354 after the recipient was
	 * refused: the connection is then closed without the data. */
	if (rc == 0 && (res.naccepted == 0 || res.data.code != 354))
		rc = refused(&res, i, p, err);
	if (rc == 0 && smtp_body_raw(submit_smtp(ss), msg, len, replies,
	                             SMUGGLE_REPLIES_MAX, got, err) < 0)
		*got = 0; /* no reply at all: said on the probe's line */
	smtp_envelope_result_clear(&res);
	submit_close(ss);
	free(msg);
	return rc;
}

static void
note_taken(struct run *rn, const struct smuggle_probe *p)
{
	size_t used = strlen(rn->taken_names);

	rn->taken++;
	snprintf(rn->taken_names + used, sizeof rn->taken_names - used, "%s%s",
	         used ? ", " : "", p->name);
}

static int
run_probes(struct run *rn, FILE *out, struct error *err)
{
	size_t n;
	const struct smuggle_probe *p = smuggle_probes(&n);
	struct reply replies[SMUGGLE_REPLIES_MAX];
	int rc = 0;

	for (size_t k = 0; k < SMUGGLE_REPLIES_MAX; k++)
		reply_init(&replies[k]);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t got = 0;
		enum verdict v;
		struct error probe_err;

		error_clear(&probe_err);
		transcript_note(rn->job->transcript,
		                "smuggling probe %zu of %zu: %s", i + 1, n,
		                p[i].name);
		rc = send_probe(rn, i + 1, &p[i], n, replies, &got, &probe_err);
		if (rc < 0) {
			*err = probe_err;
			break;
		}
		v = judge(replies, got, &probe_err);
		print_line(out, i + 1, &p[i], v, replies, got, &probe_err);
		if (v == VERDICT_UNKNOWN) {
			/* Not "not taken"; and a server that answers no
			 * probe would hold each for the final reply's
			 * timeout (10 minutes by default). */
			rc = error_set(err, ERROR_TEMPFAIL,
			               "probe %zu (%s): %s; whether %s takes "
			               "it for the end of the data is not "
			               "known; the test stopped",
			               i + 1, p[i].name, probe_err.msg,
			               rn->host);
			break;
		}
		if (v == VERDICT_TAKEN)
			note_taken(rn, &p[i]);
	}
	for (size_t k = 0; k < SMUGGLE_REPLIES_MAX; k++)
		reply_clear(&replies[k]);
	return rc;
}

/* The summary, and the result: ERROR_PROTOCOL when some were taken. */
static int
conclude(const struct run *rn, FILE *out, struct error *err)
{
	size_t n;

	smuggle_probes(&n);
	if (rn->taken == 0) {
		fprintf(out,
		        "%s: none of the %zu sequences was taken as the end "
		        "of the data; only <CR><LF>.<CR><LF> ends it, as RFC "
		        "5321 4.1.1.4 says\n",
		        rn->host, n);
		return 0;
	}
	fprintf(out,
	        "%s: %zu of the %zu sequences were taken as the end of the "
	        "data: %s\n",
	        rn->host, rn->taken, n, rn->taken_names);
	return error_set(err, ERROR_PROTOCOL,
	                 "%s takes %zu malformed end-of-data sequence%s for "
	                 "the end of a message (SMTP smuggling; RFC 5321 "
	                 "4.1.1.4 allows only <CR><LF>.<CR><LF>); make the "
	                 "server refuse bare CR and LF (Postfix: "
	                 "smtpd_forbid_bare_newline)",
	                 rn->host, rn->taken, rn->taken == 1 ? "" : "s");
}

/* The sender and the one recipient, in the ASCII the probe's header
 * writes them in as they are. */
static int
choose_envelope(struct job *job, struct error *err)
{
	if (job_choose_sender(job, err) < 0 ||
	    job_add_recipient(job, job->req.rcpts[0], ERROR_USAGE, err) < 0)
		return -1;
	if (!str_is_ascii(job->env.sender) ||
	    !str_is_ascii(job->env.rcpts[0].addr))
		return error_set(
		    err, ERROR_USAGE,
		    "--smtp-smuggling-test writes the addresses "
		    "into its test messages as they are: give "
		    "them in ASCII (a domain as its xn-- A-label)");
	return 0;
}

int
smuggle_run(struct job *job, FILE *out, FILE *diag, struct error *err)
{
	struct run rn = {.job = job};
	int rc;

	if (job_load_account(job, err) < 0 || choose_envelope(job, err) < 0 ||
	    send_open_logs(job, diag, err) < 0)
		return -1;
	send_warn_insecure(&job->acct, diag);
	if (relay_route_build(&rn.route, &job->acct, NULL, NULL,
	                      job->transcript, err) < 0)
		return -1;
	if (rn.route.nhops != 1) {
		relay_route_clear(&rn.route);
		return error_set(err, ERROR_USAGE,
		                 "--smtp-smuggling-test probes one server: "
		                 "name one host with --host");
	}
	rn.host = rn.route.hops[0].host;
	identity_host(rn.me, sizeof rn.me);
	rc = run_probes(&rn, out, err);
	if (rc == 0)
		rc = conclude(&rn, out, err);
	relay_route_clear(&rn.route);
	/* A closed pipe or a full disk lost the lines: not a result. */
	if ((fflush(out) != 0 || ferror(out)) &&
	    (rc == 0 || err->kind == ERROR_PROTOCOL))
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write the test's results to "
		                       "standard output");
	return rc;
}
