/*
 * serverinfo.h - --serverinfo (msmtp's -S) and --tls-get-peer-cert: what
 * a server offers, found out the way a send would meet it and shown in
 * words, without sending anything.
 *
 * The session (submit_probe) connects to the account's server or to
 * --host, reads the greeting, sends EHLO, starts TLS (as the account asks,
 * or because the server offers STARTTLS) and EHLO again, then QUIT: never
 * AUTH, never MAIL.  A certificate that fails verification stops the
 * handshake; it is still described, and nothing but the end of the
 * connection follows it.
 *
 * The report goes to `out` (standard output): the server and the address
 * connected to, the greeting, each capability explained (before and after
 * TLS), the TLS session, the certificate chain with the verdict, and the
 * time each step took.  With -v also the EHLO replies as received.
 */
#ifndef MAILPOST_SERVERINFO_H
#define MAILPOST_SERVERINFO_H

#include <stdio.h>

#include "error.h"
#include "job.h"

/* The mode CLI_SERVERINFO: the account (job_load_account), the probe, the
 * report on out when --serverinfo was given, the chain as PEM when
 * --tls-get-peer-cert was (to its FILE, created with mode 0644 and never
 * over an existing file, else to out).  Notices go to diag.
 *
 * 0 when the server answered and, when the account asks for TLS, TLS was
 * set up and the certificate verified (a STARTTLS tried only because the
 * server offered it does not fail the probe; diag says how it went).
 * Otherwise -1 with the error a send would have met (a refused certificate
 * ERROR_PROTOCOL, a 554 greeting ERROR_UNAVAILABLE, a closed connection
 * ERROR_TEMPFAIL), after the report of what came before it.  With
 * --tls-get-peer-cert and no TLS session: ERROR_PROTOCOL; the FILE exists
 * or cannot be written: ERROR_IOERR. */
int serverinfo_run(struct job *job, FILE *out, FILE *diag, struct error *err);

/* How --check-config --connect judges the probe. */
enum serverinfo_verdict {
	SERVERINFO_OK,   /* answered; TLS, when asked for, verified */
	SERVERINFO_WARN, /* answered; a STARTTLS only offered failed */
	SERVERINFO_FAIL, /* failed as a send would have */
};

/* --check-config --connect: the probe of job->acct (job_load_account
 * already ran) and its report on out, the -v dialogue on diag; the
 * verdict in *verdict and, in why, one line that says it (for a failure
 * the send's error: kind and message).  -1 only when out cannot be
 * written (ERROR_IOERR). */
int serverinfo_connect(struct job *job, FILE *out, FILE *diag,
                       enum serverinfo_verdict *verdict, struct error *why,
                       struct error *err);

#endif
