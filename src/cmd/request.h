/*
 * request.h - what one run of mailpost was asked to do: struct request,
 * the command line as data.
 *
 * cli.c fills it (the parser, with cliopt.c's option table), clicheck.c
 * checks it as a whole, and every mode reads it (job.h holds it).  Kept
 * apart from the parser so that those modules share the type without
 * including each other.
 */
#ifndef MAILPOST_REQUEST_H
#define MAILPOST_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "mime.h"
#include "smtp.h"

enum cli_mode {
	CLI_SEND = 0,     /* the default: submit a message */
	CLI_QUEUE_LIST,   /* mailq, -bp */
	CLI_QUEUE_FLUSH,  /* -q, --flush, -qI ID, -qR SUBSTR, -qS SUBSTR */
	CLI_QUEUE_SHOW,   /* --queue-show ID */
	CLI_QUEUE_REMOVE, /* --queue-remove ID */
	CLI_SERVE,        /* -bs: SMTP on standard input and output */
	CLI_NOOP,         /* newaliases, -bi: succeed, do nothing */
	CLI_PRETEND,      /* --check-config, --pretend (msmtp's -P): print
	                   * the settings and check them, connect nowhere */
	CLI_SERVERINFO,   /* --serverinfo (msmtp's -S), --tls-get-peer-cert:
	                   * probe the server, send nothing */
	CLI_SMUGGLE_TEST, /* --smtp-smuggling-test: probe the server named
	                   * with --host (or --socket) for the end-of-data
	                   * sequences of SMTP smuggling (smuggle.h) */
	CLI_OAUTH2_LOGIN, /* --oauth2-login: log the account in with its
	                   * OAuth2 provider and store the refresh token
	                   * (oauthlogin.h); no message */
	CLI_CONFIGURE,    /* --configure ADDRESS: find the address's
	                   * submission server (RFC 6186 SRV, the provider's
	                   * autoconfig document), probe it and print an
	                   * account for it (configure.h); no message */
	CLI_VERSION,
	CLI_HELP,
};

/* An on/off option that may be absent (then the account decides). */
enum cli_switch { CLI_UNSET = 0, CLI_OFF, CLI_ON };

/* --oauth2-flow: how --oauth2-login asks for the user's consent (UNSET:
 * the device grant when the provider has one, but for google, else the
 * browser; oauthlogin.h). */
enum cli_oauth2_flow {
	CLI_OAUTH2_FLOW_UNSET = 0,
	CLI_OAUTH2_FLOW_DEVICE,  /* RFC 8628: a code typed in on any device */
	CLI_OAUTH2_FLOW_BROWSER, /* RFC 8252: a browser, a loopback redirect */
};

/* --color: auto (the default: on a terminal, unless NO_COLOR), always,
 * never. */
/* --deliver (conf.h's enum conf_deliver for one run). */
enum cli_deliver { CLI_DELIVER_UNSET = 0, CLI_DELIVER_RELAY, CLI_DELIVER_MX };

enum cli_color { CLI_COLOR_AUTO = 0, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER };

struct request {
	enum cli_mode mode;
	const char *program; /* basename of argv[0] */
	bool msmtp;          /* called as msmtp: msmtp's meanings where the
	                      * letters collide (-a account, -d debug, -P
	                      * pretend, -X log file, --from envelope sender),
	                      * and a "." line is text, as msmtp reads it */

	const char *sender;      /* -f/-r; "" for the null sender; NULL unset */
	const char *full_name;   /* -F */
	bool read_recipients;    /* -t */
	bool dot_ends_input;     /* true unless -i, -oi */
	int verbosity;           /* number of -v; at least 1 with --timing
	                          * or --show-auth */
	enum cli_color color;    /* --color */
	bool show_auth;          /* --show-auth: AUTH in clear on stderr */
	bool timing;             /* --timing: latencies in the transcript */
	const char *config_file; /* -C */
	const char *account;     /* -A, --account */
	const char *host;        /* --host */
	int port;                /* --port; 0 unset */
	const char *proxy_host;  /* --proxy-host ("": no proxy); NULL unset */
	int proxy_port;          /* --proxy-port; 0 unset */
	const char *socket;      /* --socket ("": none); NULL unset */
	int timeout;             /* --timeout seconds; 0 unset; -1 "off":
	                          * the built-in (RFC 5321) timeouts */
	const char *domain;      /* --domain, --ehlo: EHLO name */
	enum rcpt_policy rcpt_policy; /* --rcpt-policy; UNSET */
	enum cli_deliver deliver;     /* --deliver; CLI_DELIVER_UNSET */
	const char *dsn_notify;       /* -N */
	const char *dsn_return;       /* -R */
	const char *dsn_envid;        /* -V */
	bool read_envelope_from;      /* --read-envelope-from: the sender is
	                               * the From field's address */

	/* msmtp's one-off settings over the account's keys of the same
	 * names (NULL, CLI_UNSET, -2: the account's). */
	const char *logfile;             /* --logfile, msmtp's -X ("": none) */
	const char *logfile_time_format; /* --logfile-time-format */
	int syslog;           /* --syslog: -1 off, else a LOG_ facility */
	const char *aliases;  /* --aliases ("": none) */
	enum cli_switch lmtp; /* --protocol=lmtp (ON) or smtp (OFF) */
	int set_from_header;  /* --set-from-header: enum conf_from_header */
	enum cli_switch set_date_header;  /* ON: auto */
	enum cli_switch set_msgid_header; /* ON: auto */
	enum cli_switch remove_bcc_headers;
	enum cli_switch undisclosed_recipients;

	/* The queue (NULL / UNSET: the account's). */
	/* --queue only with CLI_SEND and CLI_SERVE; --dead-letter also with
	 * CLI_QUEUE_FLUSH; --queue-dir also with every queue mode. */
	enum queue_policy queue; /* --queue=never|on-failure|always */
	const char *queue_dir;   /* --queue-dir */
	const char *dead_letter; /* --dead-letter FILE|off ("off" as is) */
	/* Which entries a flush takes (with -bp/mailq: which are listed), or
	 * which one --queue-show and --queue-remove mean (then always 'I'
	 * and the id as given, not checked here beyond being non-empty):
	 * queue_select is 0 (all), 'I' (the ids containing queue_match:
	 * -qI), 'R' (a recipient contains it: -qR) or 'S' (the sender
	 * contains it: -qS).  queue_match is never empty and holds no
	 * control character.  One selection at most. */
	char queue_select;
	const char *queue_match;
	/* --due (only with -q, --flush): take only the entries whose next
	 * attempt time has come, for a timer; without it every entry is
	 * tried now, as sendmail -q and postqueue -f do. */
	bool queue_due;

	/* Transport security and authentication, over the account's keys of
	 * the same names (NULL / CLI_UNSET: the account's).  There is no
	 * --password option: argv is visible to every user (ps). */
	enum cli_switch tls;           /* --tls[=on|off] */
	enum cli_switch tls_starttls;  /* --tls-starttls[=on|off] */
	enum cli_switch tls_certcheck; /* --tls-certcheck[=on|off] */
	const char *tls_trust_file;    /* --tls-trust-file ("system", "") */
	const char *tls_crl_file;      /* --tls-crl-file */
	const char *tls_fingerprint;   /* --tls-fingerprint */
	const char *tls_cert_file;     /* --tls-cert-file */
	const char *tls_key_file;      /* --tls-key-file */
	const char *tls_priorities;    /* --tls-priorities */
	const char *tls_host_override; /* --tls-host-override */
	enum cli_switch tls_session_cache; /* --tls-session-cache[=on|off] */
	const char *auth; /* --auth[=on|off|METHOD]: "on", "off" or a
	                   * mechanism name as given (any case) */
	const char *user; /* --user */
	/* --auth-mechanism M, checked to be one mailpost has; after parsing
	 * it is also auth, whatever --auth said (but off), so that
	 * "--auth-mechanism M --auth" still uses M. */
	const char *auth_mechanism;

	/* Testing a server (swaks' controls). */
	bool quit_after_set;       /* --quit-after: stop after ... */
	enum smtp_step quit_after; /* ... this step (CONNECT..DATA), send
	                            * QUIT, and exit: no message is read */
	bool no_pipelining;        /* --no-pipelining */
	bool no_chunking;          /* --no-chunking */
	bool test_message;         /* --test: send the built-in message */
	/* A password for this run's account, over the account's password
	 * keys (at most one; never the password itself, which argv would
	 * show to everyone): a command whose first line of output is the
	 * password (run as the configuration's passwordeval is), a
	 * descriptor to read its first line from, a variable that holds it.
	 * After cli_parse, password_fd is an open close-on-exec descriptor
	 * of 3 or more (0 is moved there when stdin is not read, standard
	 * input then being /dev/null; 1 and 2 are refused), or 0. */
	const char *passwordeval; /* --passwordeval CMD */
	int password_fd;          /* --password-fd N */
	bool password_fd_given;
	const char *password_env; /* --password-env VAR */

	const char **rcpts; /* recipients from the command line (argv),
	                     * the To of a composed message; not -c, -b */
	size_t nrcpts;

	/* Composing (mailx mode): set by -s -a -c -b ADDR --bcc --body
	 * --body-file --html -H --from --reply-to. */
	bool compose;
	const char *subject;                 /* -s, --subject */
	struct mime_attachment *attachments; /* -a, --attach-type/-name */
	size_t nattachments;
	const char **cc; /* -c, --cc: Cc and recipients */
	size_t ncc;
	const char **bcc; /* -b ADDR, --bcc: recipients, never in headers */
	size_t nbcc;
	const char **extra; /* -H 'Name: value' */
	size_t nextra;
	const char *body_text;       /* --body */
	const char *body_file;       /* --body-file */
	const char *html_file;       /* --html */
	const char *from;            /* --from: address of the From header */
	const char *from_name;       /* its display name ("N <a>"), or NULL */
	const char *reply_to;        /* --reply-to */
	enum mime_priority priority; /* --priority */
	bool dry_run;                /* --dry-run, --print */
	bool quiet;                  /* --quiet: no progress line */
	bool json;                   /* --json: one JSON object per message
	                              * on stdout (jsonout.h) */

	/* CLI_SERVERINFO: the report (--serverinfo), the chain as PEM
	 * (--tls-get-peer-cert), or both. */
	bool serverinfo;            /* --serverinfo, msmtp's -S */
	bool connect;               /* --connect: --check-config's probe */
	bool peer_cert;             /* --tls-get-peer-cert[=FILE] */
	const char *peer_cert_file; /* its FILE; NULL: standard output */

	/* CLI_OAUTH2_LOGIN: --oauth2-flow (only with --oauth2-login). */
	enum cli_oauth2_flow oauth2_flow;

	/* CLI_CONFIGURE: the address to find a server for, as given
	 * (clicheck.c: local@domain, no control character, white space or
	 * quote). */
	const char *configure_address;

	char *sender_copy; /* private: storage behind sender when -f
	                    * "<a@b>" had its angle brackets removed */
	char *from_copy;   /* private: storage behind from and from_name */
};

/* How a mode is asked for on the command line ("-bp", "--serverinfo"),
 * to name it in a message about an option it cannot take. */
const char *request_mode_option(enum cli_mode mode);

#endif
