/*
 * secret.h - getting the password (or OAuth token) for an account.
 *
 * Never from the command line.  The sources, in the order they are tried;
 * the first that applies gives the secret:
 *
 *   1. `password`      the value in the (permission-checked) config file
 *   2. `passwordeval`  the first line of a shell command's output
 *   3. `passwordfd`    the first line read from an inherited descriptor
 *   4. `passwordcred`  a systemd credential file in $CREDENTIALS_DIRECTORY
 *   5. `passwordenv`   an environment variable the config names
 *   6. $CREDENTIALS_DIRECTORY/SECRET_CRED_DEFAULT, when that file exists
 *   7. ~/.netrc ($NETRC), by host and user
 *   8. the system keyring: `secret-tool lookup host H service smtp user U`
 *   9. a no-echo prompt on /dev/tty
 *
 * Sources 1-5 are explicit: when configured, they must work, and their
 * failure is an error (ERROR_CONFIG) rather than a reason to try the next.
 * Sources 6-9 are discovered: their absence is silent.  7-9 need a user,
 * and are not tried for an account of the system configuration of a
 * setgid installation (`system`): they are the caller's own, keyed by the
 * account's user and host, which the caller's file, keyring tool and
 * terminal would learn.
 *
 * Secrets never reach argv or the environment of a child, nor an error
 * message: messages name the cause (exit status, timeout), never output.
 * The variable named by `passwordenv` is removed from our environment once
 * read, so no later child inherits it.
 *
 * Errors: ERROR_CONFIG for a configured source that fails or when nothing
 * gives a secret; ERROR_OSERR for fork/pipe failures.
 */
#ifndef MAILPOST_SECRET_H
#define MAILPOST_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "error.h"

/* Longest secret accepted: OAuth access tokens run to about 2 KiB
 * (Microsoft's are the longest seen); passwords are far shorter. */
#define SECRET_MAX 8192
/* How long passwordeval and secret-tool may run, and how long passwordfd
 * may stay silent, unless passwordeval_timeout says otherwise. */
#define SECRET_EVAL_TIMEOUT 30
/* The systemd credential read when passwordcred is unset
 * (LoadCredential=mailpost-password:/path in a unit file). */
#define SECRET_CRED_DEFAULT "mailpost-password"
/* Ceiling on ~/.netrc, as on a config file. */
#define SECRET_NETRC_MAX (1024 * 1024)

enum secret_source {
	SECRET_NONE = 0,
	SECRET_PASSWORD,
	SECRET_EVAL,
	SECRET_FD,
	SECRET_CRED,
	SECRET_ENV,
	SECRET_NETRC,
	SECRET_KEYRING,
	SECRET_PROMPT,
	SECRET_TOKEN_FILE, /* an OAuth2 token from tokstore's file */
};

/* Where to look.  Strings stay owned by the caller. */
struct secret_request {
	const char *host; /* for netrc, keyring and the prompt */
	const char *user; /* NULL: sources 7-9 are skipped */
	const char *password;
	const char *passwordeval;
	int passwordfd;           /* 0: unset */
	const char *passwordcred; /* NULL: SECRET_CRED_DEFAULT, if present */
	const char *passwordenv;
	int timeout_ms; /* 0: SECRET_EVAL_TIMEOUT seconds */
	bool prompt;    /* may ask on /dev/tty (default true) */
	bool keyring;   /* may run secret-tool (default true) */
	bool system;    /* of the system configuration (account.hidden):
	                 * no netrc, keyring or prompt, and an error that
	                 * names neither user nor host */
	const char *eval_key; /* the key passwordeval's command came from,
	                       * for messages; NULL: "passwordeval"
	                       * (provider.h: oauth2_client_secret_eval) */
};

/* A secret, owned by the caller: release it with secret_free. */
struct secret {
	char *data; /* NUL-terminated, never NULL after success */
	size_t len;
	enum secret_source source;
};

/* Fill r from an account (host, user, password keys); prompt and keyring
 * allowed, unless the account is the system configuration's (`system`).
 * The strings stay the account's. */
void secret_request_init(struct secret_request *r, const struct account *a);

/* The variable --password-env names: kept out of the environment of every
 * child started here (a fallback account's passwordeval, secret-tool),
 * also when its own account never reads it (auth off, a dry run).  name
 * stays the caller's; NULL forgets it. */
void secret_withhold_env(const char *name);

/* The first source r names of those secret_get tries first (password,
 * passwordeval, passwordfd, passwordcred, passwordenv: the keys a user
 * sets, whose failure is an error rather than a reason to look further),
 * or SECRET_NONE when it names none, and ~/.netrc, the keyring and the
 * prompt would be asked.  Nothing is read or run. */
enum secret_source secret_configured(const struct secret_request *r);

/* Find the secret.  On success out holds it (out->source says where it
 * came from, for the transcript: see secret_source_name).  When no source
 * gives one: -1, ERROR_CONFIG, saying which keys could. */
int secret_get(const struct secret_request *r, struct secret *out,
               struct error *err);

/* Run a passwordeval command of the system configuration while the
 * group is held (job.c): with a fixed environment (PATH=/usr/local/bin:
 * /usr/bin:/bin), in a session of its own without a controlling
 * terminal (it cannot open /dev/tty), standard input /dev/null, never
 * on the caller's terminal, and errors that give
 * the cause (exit status, timeout) but nothing the command said.
 * timeout_s 0: SECRET_EVAL_TIMEOUT.  ERROR_CONFIG, ERROR_OSERR. */
int secret_eval_system(const char *command, int timeout_s, struct secret *out,
                       struct error *err);

/* secret-tool, libsecret's command-line tool, found on PATH, run with
 * the words args (NULL-terminated, after "secret-tool": "store",
 * "--label=...", attribute pairs...) for the keyring's other users
 * (tokstore.c): input, when not NULL, on its standard input (the one
 * way a secret reaches it: never argv, never the environment), and the
 * first line of its output in out when out is not NULL (owned by the
 * caller then; empty when it printed nothing).  As passwordeval, in a
 * process group of its own, killed after timeout_s seconds (0:
 * SECRET_EVAL_TIMEOUT).  0; or -1 with ERROR_UNAVAILABLE (no secret-tool
 * on PATH), ERROR_TEMPFAIL (it took too long: a locked keyring's
 * prompt), ERROR_CONFIG (it failed: the exit status and what it said,
 * censored, the input blanked out), ERROR_OSERR. */
int secret_tool(const char *const args[], const char *input, struct secret *out,
                int timeout_s, struct error *err);

/* out holds a copy of value (at most SECRET_MAX bytes; longer is cut),
 * from source. */
void secret_from(struct secret *out, const char *value,
                 enum secret_source source);

/* Wipe and free; leaves an empty struct.  secret_free(NULL) is a no-op. */
void secret_free(struct secret *s);

/* "password", "passwordeval", ..., "prompt": for "=== password from X". */
const char *secret_source_name(enum secret_source source);

/* Keep secrets out of core dumps and away from ptrace by other processes
 * of the same user: prctl(PR_SET_DUMPABLE, 0) on Linux, RLIMIT_CORE 0.
 * relay.c calls it before any secret is in memory.  ERROR_OSERR. */
int secret_protect_process(struct error *err);

#endif
