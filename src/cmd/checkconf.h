/*
 * checkconf.h - --check-config (msmtp's -P, --pretend): the settings a
 * send would use (pretend_settings, secrets masked), then one line per
 * check on the FILE the driver gives (stdout), without connecting:
 *
 *   OK    file: ...
 *   WARN  password: ...; NEXT STEP
 *   FAIL  trust: CAUSE; NEXT STEP
 *
 * The checks: which file was read (and which were looked for), which
 * account the command line (-f, --account) chooses and why, the file's
 * permissions, that there is a server, the TLS trust (with its count of
 * certificates) and the client certificate and key, the secret source
 * (passwordeval run, keyring looked up; what it gives is never shown),
 * and the envelope sender.  For an account of the system configuration
 * that the caller may not read (account.hidden) values are "set, hidden"
 * and neither its secret source nor its files are tried: only root checks
 * those.
 */
#ifndef MAILPOST_CHECKCONF_H
#define MAILPOST_CHECKCONF_H

#include <stdio.h>

#include "error.h"
#include "job.h"

enum checkconf_level { CHECKCONF_OK, CHECKCONF_WARN, CHECKCONF_FAIL };

/* The lines written so far, and how many warned or failed. */
struct checkconf_report {
	FILE *out;
	FILE *diag; /* the -v dialogue of --connect's probe (stderr) */
	unsigned warnings;
	unsigned failures;
	/* --connect's probe failed (serverinfo_check): how a send would
	 * have failed, for the exit status when nothing else did. */
	enum error_kind probe_failed;
};

/* One check's line: "OK    what: text", "WARN  ...", "FAIL  ...".  A
 * later check (--check-config --connect's probe) adds its lines with
 * it, into the same report, before checkconf_finish. */
void checkconf_say(struct checkconf_report *r, enum checkconf_level level,
                   const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The settings and every check above into r (r->out set by the caller).
 * -1 only when out cannot be written (ERROR_IOERR); a failed check is
 * counted, not returned. */
int checkconf_local(struct job *job, struct checkconf_report *r,
                    struct error *err);

/* The summary line; 0 when nothing failed, else -1 with ERROR_CONFIG
 * (exit 78) saying how many checks failed. */
int checkconf_finish(struct checkconf_report *r, struct error *err);

/* --check-config: checkconf_local, with --connect then the probe of the
 * server (serverinfo_check: its -v dialogue on diag), then
 * checkconf_finish, on out.  When the probe alone failed, the exit status
 * is the one a send would have had (75 unreachable, 76 TLS, ...), not
 * 78. */
int checkconf_run(struct job *job, FILE *out, FILE *diag, struct error *err);

#endif
