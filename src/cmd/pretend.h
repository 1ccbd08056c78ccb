/*
 * pretend.h - what a send would do, shown instead of done, on the FILE
 * the driver gives (stdout): the settings a send would use, as "key =
 * value" lines (--check-config's first part, checkconf.h); --dry-run prints the
 * exact bytes that would be sent, and on standard error the envelope (and with
 * -v what the send would do).  Neither connects, nor asks for a password:
 * a password and a passwordeval command (which may hold one) show as
 * "*".
 */
#ifndef MAILPOST_PRETEND_H
#define MAILPOST_PRETEND_H

#include <stdio.h>

#include "error.h"
#include "job.h"
#include "stream.h"

/* The settings of job->acct and job->env.sender: the configuration file and
 * account, the connection, the credentials' sources, the message
 * settings.  ERROR_IOERR when out cannot be written. */
int pretend_settings(FILE *out, const struct job *job, struct error *err);

/* --dry-run: the whole stream m, to out.  m's read errors; ERROR_IOERR
 * when out cannot be written. */
int pretend_message(FILE *out, const struct message_stream *m,
                    struct error *err);

/* --dry-run's envelope, on diag (standard error: the message stays alone
 * and intact on standard output, for a script that pipes it on): the
 * account and its file, the sender, every recipient (-t's and Bcc's,
 * after the aliases file), the DSN parameters asked for; with -v also
 * where it would connect and how (TLS, certificate check, AUTH user and
 * mechanism, where the password would come from, never the password),
 * and the queue policy.  Every line starts "mailpost: dry run: ".
 * A value of the system configuration hidden from the caller is
 * "(set, hidden)".  ERROR_IOERR when diag cannot be written. */
int pretend_envelope(FILE *diag, const struct job *job,
                     enum queue_policy policy, struct error *err);

/* An OAuth2 account's state in words, read from its settings and its
 * token file alone (no keyring asked, nothing run, no token or secret
 * shown), for --check-config and --dry-run.  The process is protected
 * (secret_protect_process) before the token file is read. */
struct pretend_oauth2 {
	bool ok;        /* the settings resolve (else `where` says why) */
	bool logged_in; /* a refresh token is recorded */
	bool refused;   /* the token file or its directory is refused
	                 * (`refresh` says why and how to fix it) */
	char where[ERROR_MSG_MAX];   /* provider, endpoint hosts, client id,
	                              * secret */
	char refresh[ERROR_MSG_MAX]; /* "in the keyring", "in FILE", or "none:
	                              * no login yet: mailpost --oauth2-login -A
	                              * NAME" */
	char access[256]; /* the cached access token's expiry, or none */
	/* NULL, or why no token can be requested: this build has no
	 * libcurl (a cached access token still serves until it expires) */
	const char *no_https;
};
void pretend_oauth2_state(const struct job *job, struct pretend_oauth2 *w);

#endif
