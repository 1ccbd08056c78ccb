/*
 * tokstore.h - where an account's OAuth2 tokens are kept between runs:
 * the refresh token in the system keyring (through secret-tool) or in a
 * file of mailpost's state directory, the cached access token always in
 * that file.  No network.
 *
 * One file per identity: $XDG_STATE_HOME/mailpost/oauth2/ACCOUNT-DIGEST
 * (else ~/.local/state/mailpost/oauth2/...), the directory 0700, the file
 * 0600, both the caller's; for the system configuration's account of a
 * setgid installation TOKSTORE_SYSTEM_DIR, root:GROUP 2770 with files
 * root:GROUP 0660, read only while the group is raised and written by
 * root alone (a caller's run holds the group but a file it wrote would
 * be the caller's: ERROR_TEMPFAIL).  The identity
 * a token is for is the token endpoint, the client id and the user: the
 * file records them and a token for another identity is never given
 * back (tokstore.c's header documents the format).  A file or directory
 * that is a symbolic link, is not the caller's (the group's), or that
 * others may read or write is refused, with the command that fixes it
 * (a system account's file not root's too).
 * Files are replaced whole: written to a temporary file in the same
 * directory, fsynced, renamed over the old one, the directory fsynced.
 * A write reads the file, changes its part and writes it back under an
 * flock(2) of the directory (tokstore_lock), so that two runs at once
 * (one rotating the refresh token, one caching an access token) keep
 * both changes.
 *
 * The keyring entry: secret-tool store|lookup|clear with the attributes
 * service mailpost-oauth2, user U, endpoint TOKEN_ENDPOINT, client
 * CLIENT_ID; the token on secret-tool's standard input, never in argv.
 *
 * Errors: ERROR_NOPERM when there is no login to use (with the command
 * that logs in), ERROR_CONFIG for a refused file or directory or a
 * failing keyring, ERROR_TEMPFAIL for a keyring that did not answer in
 * time, ERROR_IOERR for a write that failed.  Messages never hold a
 * token.
 */
#ifndef MAILPOST_TOKSTORE_H
#define MAILPOST_TOKSTORE_H

#include <stdbool.h>

#include "conf.h"
#include "error.h"
#include "provider.h"
#include "secret.h"

/* Ceiling on a token file: two tokens of SECRET_MAX and the identity. */
#define TOKSTORE_FILE_MAX (32 * 1024)
/* How long secret-tool may take (a locked keyring asks for its
 * password). */
#define TOKSTORE_KEYRING_TIMEOUT 30
/* A temporary file (FILE.XXXXXX) older than this, in seconds, was left by
 * a run killed between its write and its rename: the next store removes
 * it.  Younger, it may be another run's write in progress. */
#define TOKSTORE_TEMP_AGE 60
/* The most names of the directory such a sweep looks at. */
#define TOKSTORE_SCAN_MAX 1000
/* How long a run waits for the store's lock (seconds): more than its
 * holder's own bounded waits (bearer.c's refresh: an HTTPS exchange of
 * at most 30 s, then the keyring's TOKSTORE_KEYRING_TIMEOUT), so that
 * only a holder stopped (SIGSTOP) makes it give up. */
#define TOKSTORE_LOCK_WAIT 90
/* The keyring's service attribute. */
#define TOKSTORE_SERVICE "mailpost-oauth2"
/* The system account's directory (make install and the package make it,
 * root:GROUP 2770). */
#ifndef TOKSTORE_SYSTEM_DIR
#define TOKSTORE_SYSTEM_DIR "/var/lib/mailpost/oauth2"
#endif

enum tokstore_where { TOKSTORE_AUTO, TOKSTORE_KEYRING, TOKSTORE_FILE };

struct tokstore_key {
	const char *account; /* for messages and the file name */
	const char *user;
	const char *token_endpoint; /* with client_id and user: the identity a
	                               token is for */
	const char *client_id;
	const char *scope; /* an access token is for this scope */
	bool
	    system; /* the system configuration's account of a setgid install */
	enum tokstore_where where; /* oauth2_store (TOKSTORE_FILE for system) */
	const char *config;        /* the -C file to name in "log in" hints,
	                            * or NULL */
	const char *dir;           /* NULL: the default directory (tests) */
};

/* The rule for where the system configuration's tokens are, shared by
 * the login, the sends and --check-config: on an installation built with
 * a group (setgid), an account read from the system configuration file
 * (conf_is_system_file: /etc/mailpost.conf or what configure names; the
 * file a run without -C reads when the caller has no file of its own)
 * keeps its tokens in TOKSTORE_SYSTEM_DIR, for root as for a caller whose
 * run holds the group (account.hidden).  Root's own state directory is
 * never used for it: a token root logged in there would be one no send
 * finds.  Any other account's tokens are the caller's own. */
bool tokstore_is_system(const struct account *a);

/* k for account a with settings s (provider_resolve): the strings stay
 * a's and s's. */
void tokstore_key_init(struct tokstore_key *k, const struct account *a,
                       const struct oauth2_settings *s);

/* The command that logs account (NULL: "default") of the -C file config
 * (NULL: none) in, for messages: "mailpost [-C FILE] --oauth2-login -A
 * NAME", FILE made absolute and each word quoted as a POSIX shell needs
 * it, so that it runs as printed wherever the message is read. */
void tokstore_login_command(const char *config, const char *account, char *out,
                            size_t n);

/* The refresh token.  None stored: -1 ERROR_NOPERM "account 'A' has no
 * OAuth2 login; log in: mailpost --oauth2-login -A A". */
int tokstore_get_refresh(const struct tokstore_key *k, struct secret *out,
                         struct error *err);

/* Replace it atomically (file: temp + fsync + rename in the same dir;
 * keyring: `secret-tool store`, token on stdin).  *where_out says where
 * it went (KEYRING or FILE).  Under TOKSTORE_AUTO a keyring that is
 * missing or fails is passed over for the file: then 0, *where_out FILE,
 * and err->msg says why (kind ERROR_NONE), for a line at -v; otherwise
 * err->msg is "" on success.  A token moved from the keyring to the file
 * (or back) is removed from the other place. */
int tokstore_put_refresh(const struct tokstore_key *k, const char *token,
                         enum tokstore_where *where_out, struct error *err);

/* The cached access token: 0 with out->data NULL when there is none, it is
 * for another identity or scope, the file is damaged, or it expires within
 * `margin_s` seconds. */
int tokstore_get_access(const struct tokstore_key *k, int margin_s,
                        struct secret *out, long long *expires_at,
                        struct error *err);
/* Cache it (expires_at: unix seconds; 0: unknown, then it is never
 * given back). */
int tokstore_put_access(const struct tokstore_key *k, const char *token,
                        long long expires_at, struct error *err);
/* Forget the cached access token (after the server refused it). */
int tokstore_drop_access(const struct tokstore_key *k, struct error *err);

/* What --check-config and --dry-run say, read from the file alone (no
 * keyring asked, no token given). */
struct tokstore_status {
	enum tokstore_where refresh; /* KEYRING, FILE, or AUTO: none */
	bool has_access;             /* an access token is cached */
	long long access_expires_at;
	char path[512]; /* the file */
};
int tokstore_status(const struct tokstore_key *k, struct tokstore_status *st,
                    struct error *err);

/* The file of k (another account's for the same identity when there is
 * none of k's name): a new string, or NULL with ERROR_CONFIG (no home). */
char *tokstore_path(const struct tokstore_key *k, struct error *err);

/* The store's lock for k's directory: flock(2) on
 * it, which tokstore_put_* and tokstore_drop_access take for their
 * read-modify-write of the file, and which a caller may hold by a caller across
 * a whole exchange, e.g. bearer.c's refresh, so that a second run refreshing at
 * once waits and then finds the first's tokens instead of spending a refresh
 * token the first had rotated.  Writes of this process while it is held do not
 * wait for it; nested calls count (one store per process).  Waited for at most
 * TOKSTORE_LOCK_WAIT seconds: then ERROR_TEMPFAIL.  Not taken (0) when
 * there is nothing to guard: no directory yet (no login), or the system
 * account's in a caller's run, which writes none of its files.  A child
 * forked while it is held shares it: such a child must not use the
 * store. */
int tokstore_lock(const struct tokstore_key *k, struct error *err);
void tokstore_unlock(void);

#endif
