/*
 * jsonresult.h - one message's result as plain C data, for --json: what
 * a send (send.c) or a flush's entry (queuecmd.c) hands jsonout.h, the
 * one module that knows JSON.
 *
 * It is made from the log line's entry (maillog.h: the envelope with its
 * recipients' verdicts, the error, the reply to the dot, the queue id,
 * and the session's report: submit.h), so that what a run logs and what
 * it reports are gathered once.  The schema it becomes is mailpost(1)'s
 * JSON OUTPUT; the names of statuses and steps here are that schema's.
 *
 * Ownership: the strings point into the entry, the account and the
 * session's report, which must outlive the result; only the recipients'
 * array is the result's own (jsonresult_clear).
 */
#ifndef MAILPOST_JSONRESULT_H
#define MAILPOST_JSONRESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "maillog.h"
#include "smtp.h"

/* The schema's version: raised only when a field changes meaning or
 * type or goes away; fields may be added within a version. */
#define JSONRESULT_VERSION 1

/* RFC 3463: "5.1.1" at most "5.999.999". */
#define JSONRESULT_ENHANCED_MAX 16

struct jsonresult_rcpt {
	const char *address;
	const char *status; /* "accepted", "refused-temporarily",
	                     * "refused-permanently", "queued", "pending" */
	int code;           /* the reply behind the status, 0: none */
	char enhanced[JSONRESULT_ENHANCED_MAX]; /* its RFC 3463 code, or "" */
	const char *reply;                      /* its text as sent, or NULL */
};

struct jsonresult {
	const char *mode;     /* "send" or "flush" */
	const char *entry_id; /* flush: the queued entry tried, or NULL */
	const char *account;  /* the account's name, NULL: the defaults */

	/* The server: the session's (the last hop tried), else the
	 * account's. */
	const char *host;
	int port;
	const char *protocol;   /* "smtp" or "lmtp" */
	const char *socket;     /* a local socket, or NULL */
	const char *proxy_host; /* a SOCKS5 proxy, or NULL */
	int proxy_port;
	/* deliver mx to recipients at several domains: no one server (host
	 * and port null, and failed_step and timing too) */
	bool several_servers;

	bool tls;                        /* the account's TLS */
	const char *tls_mode;            /* "off", "starttls", "implicit" */
	const struct tls_info *tls_info; /* NULL: no handshake began
	                                  * (submit_report_tls) */

	bool auth;                  /* the account authenticates */
	const char *auth_mechanism; /* the one tried, or NULL */
	const char *user;           /* never a secret; NULL: none */

	const char *sender;
	struct jsonresult_rcpt *rcpts;
	size_t nrcpts;
	uint64_t size;

	const char *status;      /* "delivered", "delivered-in-part", "queued",
	                          * "refused", "failed" */
	const char *failed_step; /* smtp_step_name, or NULL */
	const char *error_kind;  /* error_kind_name, or NULL: none */
	const char *error;       /* the one line, or NULL */
	int reply_code;          /* the reply that decided, 0: none */
	char reply_enhanced[JSONRESULT_ENHANCED_MAX];
	const char *reply;       /* its text, or NULL */
	const char *queue_id;    /* queued (or the rest) under it, or NULL */
	const char *dead_letter; /* saved in this file, or NULL */

	/* Each step's duration in milliseconds, -1 for a step that did not
	 * run or did not end; total: from the connection's start to the last
	 * step that ended, -1 without a session. */
	double step_ms[SMTP_NSTEPS];
	double total_ms;

	int exit_code;
};

/* Fill r from the log line's entry e of a message sent with account a.
 * mode: "send" or "flush"; exit_code: what the run exits with for it. */
void jsonresult_fill(struct jsonresult *r, const char *mode,
                     const struct maillog_entry *e, const struct account *a,
                     int exit_code);

/* Free the recipients' array; r is then empty. */
void jsonresult_clear(struct jsonresult *r);

/* The RFC 3463 code in a reply as sent ("550 5.1.1 No such user"), whose
 * class agrees with its code, into out; "" when it has none. */
void jsonresult_enhanced(const char *reply, char *out, size_t n);

#endif
