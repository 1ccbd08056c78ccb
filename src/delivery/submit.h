/*
 * submit.h - delivery policy for one message: which host, which
 * recipients, what a rejection means, and the resulting failure class.
 *
 * The protocol (smtp.c) only reports replies; here they are judged:
 *  - a recipient refused permanently: with RCPT_POLICY_ALL (the default)
 *    nothing is sent; with RCPT_POLICY_ANY the accepted ones get the
 *    message and the refused ones are reported, the failure class being
 *    the worst of them;
 *  - anything that fails before the server's 250 to the final dot means
 *    the terminator is never sent;
 *  - after that 250 the mail is delivered, whatever happens to QUIT;
 *  - a lost connection between the dot and its reply is "delivery status
 *    unknown" (ERROR_TEMPFAIL); with LMTP (RFC 2033 4.2) only for the
 *    recipients whose reply had not come (or could not be read): those
 *    whose reply was read are judged by it (accepted ones are delivered,
 *    never to be sent again), the others are refused for now;
 *  - addresses (RFC 6531): U-label domains are sent in A-labels; only an
 *    address with a non-ASCII local part makes the transaction SMTPUTF8
 *    (every address then sent as UTF-8), and without the server's
 *    SMTPUTF8 that is ERROR_DATA before MAIL;
 *  - a header with UTF-8 (RFC 6532) is sent with SMTPUTF8 when offered,
 *    else downgraded to ASCII where nothing is lost, else refused with
 *    ERROR_UNAVAILABLE before MAIL (downgrade.h).
 */
#ifndef MAILPOST_SUBMIT_H
#define MAILPOST_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "envelope.h"
#include "error.h"
#include "smtp.h"
#include "stream.h"
#include "tls.h"
#include "transcript.h"

/* How the last session went, for a machine-readable result (--json):
 * owned by the caller, filled as the session goes and readable after it
 * closed.  Each new session (a failover's next hop, a flush's new
 * connection) starts it afresh; a flush's later messages on one session
 * overwrite the steps from MAIL on (smtp.h). */
struct submit_report {
	bool tried;     /* a session was begun */
	char host[256]; /* its server (the hop), as configured */
	int port;       /* submit_port */
	struct smtp_timing timing;
	struct tls_info tls;     /* tls.attempted false: no TLS */
	struct smtp_report smtp; /* the AUTH mechanism tried */
};

/* Release what the report holds (the TLS description's certificates);
 * it is then as a zeroed one, which is a valid empty report. */
void submit_report_clear(struct submit_report *r);

/* Whether the report's session began a TLS handshake. */
bool submit_report_tls(const struct submit_report *r);

/* How an MX hop (mxroute.h) is talked to: TLS as its policy says
 * (mxroute_hop_tls), never as the account's tls keys say, which are
 * about its own server. */
enum submit_hop_tls {
	SUBMIT_HOP_TLS_MAY = 0, /* opportunistic (RFC 7435): STARTTLS when
	                         * offered, any certificate; the session
	                         * goes on in the clear when it is not */
	SUBMIT_HOP_TLS_PLAIN,   /* no STARTTLS: a "may" hop again after
	                         * its handshake failed */
	SUBMIT_HOP_TLS_ENCRYPT, /* STARTTLS required, the certificate not
	                         * checked (RFC 7672 2.2: TLSA records, none
	                         * usable) */
	SUBMIT_HOP_TLS_VERIFY,  /* STARTTLS required and the certificate
	                         * verified: against the MX name and the
	                         * account's trust (RFC 8461 enforce) */
};

/* One MX hop's connection: the address to connect to (numeric: never
 * looked up again) while account->host, the MX host's name, stays the
 * name TLS sends (SNI) and verifies, and messages give. */
struct submit_hop {
	const char *address; /* "192.0.2.1", "2001:db8::1" */
	enum submit_hop_tls tls;
	/* What a stronger policy needs the session to check besides goes
	 * here too, set by mxroute_hop_tls and read by hop_options. */
	/* DANE (mxdane.h): the TLSA records that alone judge the
	 * certificate (tls_params.dane), with tls ENCRYPT (none usable) or
	 * VERIFY; NULL otherwise. */
	const struct tls_dane *dane;
};

struct submission {
	const struct account *account; /* host, port, timeouts, protocol */
	/* NULL: the account's server as configured; else an MX hop. */
	const struct submit_hop *hop;
	/* Sender, recipients, DSN, priority.  Each recipient's verdict of
	 * the attempt is recorded in it (envelope.h: reset when a
	 * transaction starts; refusals at RCPT; the reply to the dot, for
	 * every accepted recipient with SMTP, for each with LMTP). */
	struct envelope *env;
	struct message_stream message; /* complete, headers edited */
	enum rcpt_policy rcpt_policy;
	struct transcript *transcript; /* may be NULL */
	const char *secret;            /* password or token for AUTH, or NULL */
	bool bearer; /* secret is an OAuth2 access token (relay.c) */
	/* NULL, or the renewal of a refused token on the same session
	 * (smtp_options.renew; relay.c's) */
	int (*renew)(void *ctx, const char **secret, struct error *err);
	void *renew_ctx;
	bool more_follow;   /* another message follows on this session: no
	                     * QUIT after the dot */
	struct submit_report *report; /* NULL, or where the session is
	                               * described (submit_open's sub) */
};

/* What happened to the message, for the log line and the caller's report
 * (what happened to each recipient is in the submission's envelope: the
 * ones refused for now while others got the message are those in
 * ENVELOPE_REFUSED_TEMP, to be tried again later). */
struct submit_outcome {
	bool delivered; /* the server took responsibility (some or all:
	                 * those in ENVELOPE_ACCEPTED) */
	int final_code;   /* the code of the reply to the dot, or 0 */
	char final_reply[256]; /* the reply to the dot, censored, as sent
	                        * ("250 2.0.0 Ok"; reply_format), or "" */
	bool dot_sent;  /* the terminator went out: the server may have the
	                 * message even when the run failed ("status
	                 * unknown"), so it must not be offered elsewhere */
	char host[256]; /* the host that was talked to last, or "" */
	bool before_mail; /* failed before this message's MAIL was sent (the
	                   * session could not take it): nothing of it
	                   * reached the server, another session may try */
	bool dsn_unoffered; /* DSN was asked for (NOTIFY, RET or ENVID) and
	                     * the server does not offer it (RFC 3461 4): the
	                     * message went without them, as msmtp would
	                     * not; the caller says so */
	/* The step of the session the message failed in (smtp.h): where
	 * the session stopped, or the step whose reply refused it (MAIL,
	 * RCPT, DATA, the reply to the dot; RCPT too when some recipients
	 * were refused and the others got it).  in_step false: it failed
	 * in none (delivered, or refused before MAIL for what the server
	 * offers, or before any session). */
	bool in_step;
	enum smtp_step failed_step;
};

/* The port to connect to: the account's, else the one its TLS mode
 * implies: 465 for implicit TLS (RFC 8314 3.3), 587 for STARTTLS
 * (RFC 6409 3.1), 25 without TLS (RFC 5321 4.5.4.2), and 25 for an
 * account that delivers to the MX hosts, whatever its TLS keys. */
int submit_port(const struct account *a);

/* Deliver.  0 when every recipient got the message.  -1 otherwise, with err
 * saying why (and outcome->delivered true when some recipients got it
 * under RCPT_POLICY_ANY).  One connection for one message. */
int submit_send(const struct submission *sub, struct submit_outcome *outcome,
                struct error *err);

/* Several messages over one connection (a queue flush): open once, then
 * submit_message for each (RSET is sent between transactions), then
 * submit_close.  After a failure submit_usable says whether the session can
 * take the next message; if not, close it (and open another if wanted).
 * `sub` of submit_open gives the account, transcript and secret only. */
struct submit_session;

int submit_open(struct submit_session **out, const struct submission *sub,
                struct error *err);
int submit_message(struct submit_session *ss, const struct submission *sub,
                   struct submit_outcome *outcome, struct error *err);
bool submit_usable(const struct submit_session *ss);
/* The SMTP session under it, for a caller that drives the protocol itself
 * on the connection submit_open made (the smuggling test, cmd/smuggle.c). */
struct smtp_session;
struct smtp_session *submit_smtp(struct submit_session *ss);
void submit_close(struct submit_session *ss);

/* A test of the server that sends no message (--quit-after): the session
 * up to `step` (CONNECT to DATA, smtp.h says where each stops), then QUIT
 * (none after CONNECT; after DATA's 354 the connection is dropped, so the
 * server discards the transaction).  The submission's message is not
 * read; its envelope gives the sender from MAIL on and the recipients
 * from RCPT on, and records the RCPT verdicts.  0 when every step up to
 * `step` succeeded, else -1 with err as submit_send would have it for
 * that step; every recipient refused counts, whatever the rcpt_policy.
 * One host, no failover. */
int submit_quit_after(const struct submission *sub, enum smtp_step step,
                      struct error *err);

/* What --serverinfo (and --tls-get-peer-cert) learnt of a server. */
struct submit_probe {
	struct smtp_heard heard; /* greeting, EHLO replies, STARTTLS */
	struct tls_info tls;     /* the TLS session and the chain */
	struct smtp_timing timing;
	bool tls_asked; /* the account asks for TLS; else STARTTLS was tried
	                 * only because the server offered it */
	char host[256];  /* the host probed: the first of the account's */
	bool more_hosts; /* the account lists others (a send's failover) */
};

void submit_probe_init(struct submit_probe *p);
void submit_probe_clear(struct submit_probe *p);

/* A session to the account's server (the first of its `host` list, the
 * one a send tries first), opened as a send opens it (the same
 * target, TLS and certificate verification), with STARTTLS also when the
 * account asks for no TLS and the server offers it; never AUTH, never
 * MAIL; then QUIT.  p (submit_probe_init'ed) receives what was heard, the
 * TLS session and the steps' times, also when the session fails.  0, or
 * -1 with smtp_open's errors (a refused certificate: ERROR_PROTOCOL, the
 * handshake stopped with nothing of ours sent after it). */
int submit_probe(const struct account *a, struct transcript *t,
                 struct submit_probe *p, struct error *err);

/* The same probe of one MX hop (mxroute.h) of an account that delivers
 * to the MX hosts: a->host is the MX host's name (TLS's name), hop the
 * address connected to and the TLS its policy decided (mxprobe.h). */
int submit_probe_hop(const struct account *a, const struct submit_hop *hop,
                     struct transcript *t, struct submit_probe *p,
                     struct error *err);

#endif
