/*
 * conf.h - configuration profiles ("accounts") in msmtp's syntax, so an
 * existing ~/.msmtprc works unchanged:
 *
 *     # comment
 *     defaults
 *     port 587
 *     account work : base, other
 *     host "smtp.example.org"
 *     account default : work
 *
 * Pure code (no network, no output): it finds the file, checks its
 * permissions, parses and validates every key (also the keys of features
 * built later, so a real msmtprc loads), and resolves one account with
 * inheritance: defaults, then each parent in order, then the account.
 *
 * Errors: ERROR_CONFIG, with "FILE:LINE: " and the key in the message for
 * syntax errors.
 */
#ifndef MAILPOST_CONF_H
#define MAILPOST_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Ceilings on what a config file may hold. */
#define CONF_FILE_MAX (1024 * 1024)
#define CONF_LINE_MAX 4096
#define CONF_ACCOUNTS_MAX 1000 /* each one is a full copy */

enum rcpt_policy {
	RCPT_POLICY_UNSET = 0,
	RCPT_POLICY_ALL, /* every recipient must be accepted or nothing is sent */
	RCPT_POLICY_ANY, /* send to those accepted, report the others */
};

/* How an account's mail leaves (`deliver`, --deliver): through the
 * account's server (`host`, the default), or straight to each recipient
 * domain's mail exchangers (RFC 5321 5.1; delivery/mxroute.h). */
enum conf_deliver {
	CONF_DELIVER_RELAY = 0,
	CONF_DELIVER_MX,
};

enum conf_from_header {
	CONF_FROM_UNSET = -1, /* only on the command line: the account's */
	CONF_FROM_AUTO = 0,
	CONF_FROM_ON,
	CONF_FROM_OFF,
};

/* What to do with a message that cannot be delivered now (`queue` key,
 * --queue).  UNSET: send.c decides (send_setup_outbox: on-failure when
 * sending through a configured account, never when the server is given
 * with --host). */
enum queue_policy {
	QUEUE_POLICY_UNSET = 0,
	QUEUE_NEVER,      /* report the failure (exit 75), dead letter */
	QUEUE_ON_FAILURE, /* queue on a temporary failure, exit 0 */
	QUEUE_ALWAYS,     /* queue without trying; a flush sends it */
};

/* Where an OAuth2 refresh token is kept (`oauth2_store`, tokstore.h). */
enum conf_oauth2_store {
	CONF_OAUTH2_STORE_AUTO = 0, /* the keyring when secret-tool works,
	                             * else the file */
	CONF_OAUTH2_STORE_KEYRING,  /* the keyring or an error */
	CONF_OAUTH2_STORE_FILE,     /* the file in the state directory */
};

/* Defaults of the queue keys. */
#define CONF_QUEUE_MAX_AGE (5L * 24 * 3600) /* 5 days */
#define CONF_QUEUE_BACKOFF 60L              /* first retry after 1 minute */
#define CONF_FAILOVER_TIMEOUT 120           /* seconds for all hosts */

/* A resolved account.  Strings are owned (account_clear frees them) and NULL
 * when unset; numbers are 0 when unset unless said otherwise. */
struct account {
	char *name;       /* "default" for the default account */
	char *file;       /* the config file it came from, or NULL */
	unsigned long line; /* where its section starts in file (0: the
	                     * defaults, or none) */
	bool hidden;        /* of the system configuration (conf_set_private):
	                     * messages say where, not what (conf_hide) */
	bool withheld;      /* its secrets were forgotten (conf_keep_secrets):
	                     * it may not connect (conf_check_withheld) */

	/* where and how to connect */
	enum conf_deliver deliver; /* relay (host), or the MX hosts */
	char *host;       /* as written: one or more names or addresses,
	                   * separated by commas and/or blanks (each checked
	                   * non-empty, of host name characters) */
	int port;         /* 0: chosen by the TLS mode (25, 587, 465) */
	char *source_ip;
	char *proxy_host; /* SOCKS5 proxy (one name or address); NULL:
	                   * connect directly */
	int proxy_port;   /* 0: SOCKS_PORT (1080) */
	char *socket;     /* a local socket to connect to instead of host,
	                   * port and proxy; host then only names the server */
	int timeout;      /* seconds; 0: the RFC 5321 defaults */
	bool lmtp;        /* protocol lmtp */
	char *domain;     /* EHLO name; NULL: the local host name */
	bool pipelining;  /* default on; off (or --no-pipelining): one
	                   * command, one reply even when PIPELINING is
	                   * offered (RFC 2920) */
	bool chunking;    /* default on; off (or --no-chunking): DATA even
	                   * when CHUNKING is offered (RFC 3030) */

	/* envelope and headers */
	char *from;       /* may hold glob wildcards (matched with fnmatch) */
	bool auto_from;
	char *maildomain;
	char *from_full_name;
	bool allow_from_override; /* default on */
	enum conf_from_header set_from_header;
	bool set_date_header;     /* default on (auto) */
	bool set_msgid_header;    /* default on (auto) */
	bool remove_bcc_headers;  /* default on */
	bool undisclosed_recipients;
	char *dsn_notify;         /* NULL: off; else as sent (RFC 3461):
				   * "NEVER" or e.g. "SUCCESS,FAILURE" */
	char *dsn_return;         /* NULL: off; else "HDRS" or "FULL" */
	enum rcpt_policy rcpt_policy;

	/* logging */
	char *logfile;            /* "-" is standard output */
	char *logfile_time_format;
	bool logfile_transcript;  /* logfile_level transcript: the dialogue
	                           * too, not only the line per message */
	int syslog_facility;      /* -1: off; else a LOG_ facility value
				   * ("on" is LOG_MAIL) */

	/* transport security and authentication (used by later features) */
	bool tls;
	bool tls_starttls;        /* default on */
	char *tls_trust_file;     /* NULL or "system": the system store;
				   * "": trust no CA; else a path */
	char *tls_crl_file;
	char *tls_fingerprint;    /* upper-case hex pairs joined by ':' */
	char *tls_key_file;
	char *tls_cert_file;
	bool tls_certcheck;       /* default on */
	int tls_min_dh_prime_bits;
	char *tls_priorities;
	char *tls_host_override;
	bool tls_session_cache;   /* default on: a verified session is kept
	                           * in the state directory and resumed by
	                           * the next run (tlscache.h) */
	char *auth;               /* NULL: off; "on"; or a mechanism name in
				   * lower case ("plain", "scram-sha-256") */
	char *user;
	char *password;           /* secret: wiped by account_clear */
	char *passwordeval;
	int passwordeval_timeout; /* seconds; 0: SECRET_EVAL_TIMEOUT */
	int passwordfd;           /* 0: unset; else a descriptor >= 3 */
	char *passwordcred;       /* systemd credential name (no '/') */
	char *passwordenv;        /* environment variable name */
	bool auth_plaintext;      /* allow PLAIN, LOGIN and bearer tokens
				   * over an unencrypted connection */
	char *ntlmdomain;

	/* mail that cannot be delivered now */
	enum queue_policy queue;     /* UNSET unless the key is given */
	char *queue_dir;             /* NULL: queue_default_dir() */
	long queue_max_age;          /* seconds, 1..520 weeks;
	                              * CONF_QUEUE_MAX_AGE */
	long queue_backoff;          /* seconds before the first retry (0..4
	                              * hours), doubled after each failure (at
	                              * most 4 hours); 0: every flush retries;
	                              * CONF_QUEUE_BACKOFF */
	bool queue_flush_after_send; /* default on: a successful send flushes
	                              * this account's queued messages */
	char *dead_letter;           /* NULL: the default file; "off": none */

	/* failover: `host` may list several names (separated by commas or
	 * white space), tried in order on a temporary failure; then the
	 * fallback account's */
	char *fallback_account;      /* conf_select checks that the chain of
	                              * fallbacks is defined and ends */
	int failover_timeout;        /* seconds (1..3600) after which no
	                              * further host is tried;
	                              * CONF_FAILOVER_TIMEOUT */

	/* system mail */
	char *aliases;               /* /etc/aliases-style file, or NULL */
	bool rewrite_local_from;     /* From of a local user -> the sender */
	bool qualify_headers;        /* bare names in From/To/Cc: aliases,
	                              * then @maildomain */

	/* OAuth2 (provider.h, tokstore.h): with oauth2_provider set the
	 * account authenticates with a bearer token mailpost gets and
	 * refreshes itself; `auth` is then NULL or "on" (OAUTHBEARER or
	 * XOAUTH2, as the server offers), "oauthbearer" or "xoauth2"
	 * (conf_check_oauth2), and `user` names the mailbox. */
	char *oauth2_provider; /* "google", "microsoft", "generic";
	                        * NULL: no OAuth2 */
	char *oauth2_client_id;
	char *oauth2_client_secret;      /* secret: wiped by account_clear */
	char *oauth2_client_secret_eval; /* a command, run as passwordeval
	                                  * is (passwordeval_timeout) */
	char *oauth2_token_endpoint;     /* https:// URLs (checked when */
	char *oauth2_device_endpoint;    /* read); NULL: the provider's */
	char *oauth2_authorize_endpoint;
	char *oauth2_scope;      /* NULL: the provider's */
	char *oauth2_trust_file; /* CAs for the endpoints; NULL: the
	                          * system store */
	enum conf_oauth2_store oauth2_store;

	/* DNS look-ups (dns.h), for direct delivery and --configure */
	char *dns_server;          /* "ADDR[@PORT] ..." (white space or
	                            * commas); NULL: /etc/resolv.conf's */
	char *dnssec_trust_anchor; /* DS or DNSKEY records in a file; NULL:
	                            * Debian's copy of the root's key */
};

struct config;

/* A value of the syslog key (also --syslog): the LOG_ facility, -1 for
 * off, or CONF_SYSLOG_INVALID. */
#define CONF_SYSLOG_UNSET (-2)
#define CONF_SYSLOG_INVALID (-3)
int conf_syslog_value(const char *v);

/* Whether the configuration defines an account of that name. */
bool conf_has_account(const struct config *cfg, const char *name);

/* Messages about cfg list none of its accounts' names: the system
 * configuration, read with a group the caller is not in (job.c). */
void conf_set_private(struct config *cfg);

/* Whether conf_set_private was called: cfg is the system configuration of
 * a setgid installation, and its accounts' secrets belong to the group. */
bool conf_is_private(const struct config *cfg);

/* err's message replaced by where the error is (file:line, or file when
 * line is 0) and who may see what it is: for an error in the system
 * configuration, whose names and values only root and the group may
 * read.  err's kind stays.  Always -1. */
int conf_hide_at(struct error *err, const char *file, unsigned long line);

/* err (an error about account a, naming it or its values) hidden with
 * conf_hide_at at the account's section when a->hidden; else unchanged.
 * Always -1, for "return conf_hide(a, err);". */
int conf_hide(const struct account *a, struct error *err);

/* The file cfg came from is a regular file owned by root that neither its
 * group nor others may write: only then may its commands run with the
 * group of a setgid installation (privilege.h). */
bool conf_root_only(const struct config *cfg);

/* Only the accounts a run may use keep their secrets: the one
 * conf_select(cfg, name, sender, ...) chooses, and with any_sender (no
 * name, the sender read later: --read-envelope-from) also every account
 * with a `from` a sender could match; each with the accounts of its
 * fallback_account chain.  Every other account's password is wiped and its
 * passwordeval, tls_key_file and tls_cert_file forgotten, so that
 * conf_resolve_evals runs none of its commands and conf_resolve_files
 * copies none of its files; if it had any, conf_select still gives its
 * other settings (a queue_dir, a from) but marks it `withheld`.  The
 * system configuration's secrets are resolved with the group for the
 * accounts the command line chooses, not for every account (job.c). */
void conf_keep_secrets(struct config *cfg, const char *name, const char *sender,
                       bool any_sender);

/* ERROR_CONFIG when a is withheld (conf_keep_secrets): it would connect
 * without the secrets the file gives it; else 0.  relay.c asks it of
 * every account of a route. */
int conf_check_withheld(const struct account *a, struct error *err);

/* Gives the output of a passwordeval command (timeout_s 0: the default)
 * in *out, a string the config then owns (and wipes), or -1 and err. */
typedef int conf_eval_fn(const char *command, int timeout_s, void *arg,
                         char **out, struct error *err);

/* Every passwordeval of cfg (the defaults' and each account's) run now,
 * through fn, and replaced by a password holding its output: the system
 * configuration's commands run while the group is held, before it is
 * given up (job.c).  When fn fails for an account, its error is kept and
 * conf_select returns it when that account is chosen; the others work.
 * Always 0 (the signature stays fallible for callers). */
int conf_resolve_evals(struct config *cfg, conf_eval_fn *fn, void *arg,
                       struct error *err);

/* Gives another name for a file (*out, owned by the config then), or -1
 * and err. */
typedef int conf_file_fn(const char *path, void *arg, char **out,
                         struct error *err);

/* Every tls_key_file and tls_cert_file of cfg renamed through fn: the
 * system configuration's are copied, while the group is held, to where
 * the run can read them after it is given up (job.c).  fn's errors. */
int conf_resolve_files(struct config *cfg, conf_file_fn *fn, void *arg,
                       struct error *err);

/* Which file to read: explicit (from -C) if given, else the first that
 * exists of $MAILPOST_CONFIG, $XDG_CONFIG_HOME/mailpost/config (or
 * ~/.config/mailpost/config), ~/.msmtprc, $XDG_CONFIG_HOME/msmtp/config
 * (or ~/.config/msmtp/config), SYSCONFDIR/mailpost.conf,
 * SYSCONFDIR/msmtprc, /etc/msmtprc.  *path
 * is a new string, or NULL when no file exists (not an error: a one-off
 * --host needs none).  An explicit file that does not exist is an error. */
int conf_locate(const char *explicit_path, char **path, struct error *err);

/* The most files conf_locate may look for. */
#define CONF_CANDIDATES_MAX 8

/* What conf_locate looked for, for an error that found nothing: the
 * variable (named even when unset), then each file in its order, as one
 * new string ("$MAILPOST_CONFIG (not set), /home/a/.config/...").  */
char *conf_looked_for(void);

/* The user's own file that conf_locate looks for first (the one to
 * write): $XDG_CONFIG_HOME/mailpost/config or ~/.config/mailpost/config;
 * a new string, or NULL without $HOME. */
char *conf_user_file(void);

/* A directory of mailpost's state: $XDG_STATE_HOME/mailpost/LEAF, else
 * ~/.local/state/mailpost/LEAF (the queue's default "queue", the TLS
 * sessions kept between runs "tls", the OAuth2 tokens "oauth2").  A new
 * string; NULL with ERROR_CONFIG when there is no home to put it. */
char *conf_state_dir(const char *leaf, struct error *err);

/* Read, check and parse a file.  A file that holds a password or a
 * passwordeval and is readable or writable by group or others, or is owned
 * by another user, is refused with a message saying how to fix it; a
 * system file (conf_is_system_file) may also be owned by root and read by
 * its group, as msmtp allows for its system msmtprc (Debian's is 0640
 * root:msmtp). */
int conf_read_file(const char *path, struct config **out, struct error *err);

/* conf_read_file with the system file's rule or the user's, whatever the
 * path (for tests). */
int conf_read_file_as(const char *path, bool system, struct config **out,
                      struct error *err);

/* Whether path is one of the system files conf_locate looks at
 * (SYSCONFDIR/mailpost.conf, SYSCONFDIR/msmtprc, /etc/msmtprc). */
bool conf_is_system_file(const char *path);

/* Parse text (for tests; `name` is used in messages). No permission check. */
int conf_parse(const char *text, size_t len, const char *name,
	       struct config **out, struct error *err);

void conf_free(struct config *cfg);

/* Whether sender matches the account key `from` read as msmtp does: a
 * shell pattern (fnmatch(3)), without regard to ASCII case.  A plain
 * address matches itself. */
bool conf_from_matches(const char *pattern, const char *sender);

/* Choose and resolve an account: `name` when given (error if unknown);
 * else the first account whose `from` matches `sender` (when given);
 * else "default"; else, when the file has no accounts, the defaults
 * section alone (named "default": a->name given back as `name` selects
 * the same account again, also then).  Its chain of fallback_account names must name defined
 * accounts and must not loop (ERROR_CONFIG otherwise); the fallback is
 * resolved with conf_select(cfg, a.fallback_account, NULL, ...).  Fills
 * out (which the caller clears). */
int conf_select(const struct config *cfg, const char *name,
		const char *sender, struct account *out, struct error *err);

/* The defaults section alone, resolved over the built-in values (named
 * "defaults", line 0), whatever accounts the file has: the settings of a
 * run that uses no account's server (--configure: the resolver and the
 * trust).  Fills out (which the caller clears). */
void conf_select_defaults(const struct config *cfg, struct account *out);

/* For an account with oauth2_provider set: `user` set, oauth2_client_id
 * set, a generic provider's oauth2_token_endpoint set, and `auth` unset,
 * "on", "oauthbearer" or "xoauth2"; ERROR_CONFIG naming the key (and
 * hidden as conf_hide does) otherwise.  0 for any other account.
 * conf_select checks it; so does provider_resolve, for an account the
 * command line changed since (override.c). */
int conf_check_oauth2(const struct account *a, struct error *err);

/* The built-in values, for an account with no file at all. */
void account_defaults(struct account *a);
/* Free the strings (the password wiped first); leaves a zeroed struct. */
void account_clear(struct account *a);

#endif
