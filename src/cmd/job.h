/*
 * job.h - one run's job: the command line, the configuration and the
 * account chosen from it, the sender, the recipients, the message in hand
 * and where it goes when it cannot go now, gathered so that every mode
 * works on one structure and it is released in one place (job_clear).
 *
 * The functions here choose the account, the sender and the recipients;
 * prepare.h reads or composes the message.  None of them prints: a
 * failure is a struct error for the driver to report.
 */
#ifndef MAILPOST_JOB_H
#define MAILPOST_JOB_H

#include <stdio.h>

#include "address.h"
#include "aliases.h"
#include "cli.h"
#include "conf.h"
#include "depot.h"
#include "envelope.h"
#include "error.h"
#include "mime.h"
#include "outbox.h"
#include "override.h"
#include "relay.h"
#include "source.h"
#include "stream.h"
#include "transcript.h"
#include "util.h"

/* The log file of the queued entries' accounts during a flush
 * (queuecmd.c's log hook): the last one opened, kept open for the next
 * entry. */
struct job_entry_log {
	FILE *diag; /* where a log file that cannot be written is said */
	char *path; /* the file open in `file`, or NULL */
	FILE *file; /* NULL when it could not be opened (said once) */
	FILE *json; /* --json with -q: each entry's result as JSON here
	             * (stdout), whose log file "-" is then diag; else NULL */
};

/* Everything one send needs, gathered so it can be released in one place. */
struct job {
	struct request req;
	struct config *cfg;
	bool config_loaded; /* job_load_config ran (once per run) */
	struct account acct;
	/* The message's envelope: the sender (job_choose_sender), the
	 * recipients (job_add_recipient), the priority (prepare.h); the DSN
	 * parameters of a -bs client.  The rest (the DSN of the command line
	 * or the account, the account's identity) is set when it is posted. */
	struct envelope env;
	char *sender_name;   /* the display name given with -f, or NULL */
	char *sender_given;  /* the address given with -f, parsed, or NULL */
	char *sender_header; /* sender as header fields show it (A-labels) */
	char *msgid_domain;  /* its domain in A-labels, or NULL */
	char *envelope_from; /* --read-envelope-from: the From address */
	struct address_set rcpts_seen; /* env's recipients, for the duplicate
	                                * check */
	struct source *message;            /* stdin: the message, or the body */
	struct mime_message *composed;     /* composing: the result */
	struct message_stream stream;      /* what is sent (or printed) */
	struct strlist to, cc;             /* composing: the To and Cc fields */
	struct strlist to_names, cc_names; /* their display names ("": none) */
	char *to_group, *cc_group; /* "undisclosed-recipients" of ":;" */
	struct strlist reply_to, reply_to_names; /* composing: --reply-to */
	char *test_subject, *test_body; /* --test: behind req.subject and
	                                 * req.body_text (testmsg.h) */
	FILE *logfile;
	struct job_entry_log entry_log; /* a flush's (queuecmd.c) */
	struct transcript *transcript;
	struct aliases *aliases; /* the account's aliases file, or NULL */
	struct outbox outbox;    /* where a message that cannot go now goes */
	/* A caller outside the group with the system configuration of a
	 * setgid installation: its queue is the machine's spool, reached
	 * only through the spool helper (spoolgate.h), started when the
	 * mode may need it (NULL otherwise). */
	struct spoolgate *gate;
	char *spool_dir;         /* the spool it opens (read with the group) */
	char *queue_dir;         /* storage behind outbox.queue_dir */
	bool system_config;      /* the file read is the system's (no -C) */
	bool spool;              /* queue_dir is the machine's spool */
	gid_t spool_group;       /* its group (job_queue_dir) */
	char queue_problem[ERROR_MSG_MAX]; /* why there is none */
	char *dead_letter;            /* storage behind outbox.dead_letter */
	struct relay_finish finish;   /* settings for fallback accounts */
	struct override_queue queued; /* for a queued entry's account */
	int owner_dead_letter_seconds; /* flush_request's; 0 but in the test
	                                * program tests/mailpost-spooltest */
	/* The system configuration's OAuth2 account (of a setgid run, the
	 * caller outside the group): its access token, or why there is
	 * none, got by job_load_config while the group could be raised;
	 * the route uses it (relay_route.preset). */
	struct relay_token system_token;
};

/* An empty job (job must be zeroed), whose fallback accounts take the
 * command line's settings (override_fallback over job->req). */
void job_init(struct job *job);

/* The configuration file, if there is one, into job->cfg (NULL: none),
 * once per run (a second call does nothing).  A caller other than root
 * with the system configuration of a setgid installation gets the spool
 * helper (job->gate, spoolgate.h) for the machine's spool, forked with
 * the group before it is dropped, in the modes that may need the spool
 * (a send, -bs, mailq, --queue-show, --queue-remove) unless --queue-dir
 * names its own queue.  Called as msmtp with
 * --host, none is read (ERROR_USAGE with --account).  In a setgid
 * installation the system configuration is read with the group, the
 * account chosen from the command line (-A, -f; conf_keep_secrets), the
 * passwordeval commands of that account and its fallback accounts run
 * with it (modes that send), and the group is then given up for good,
 * whatever file was read (privilege.h); as a
 * caller outside the group, the options that would take its password
 * elsewhere are refused (ERROR_USAGE); --check-config sees its values
 * hidden (account.hidden).  conf_locate's,
 * conf_read_file's and secret_eval_system's errors; ERROR_OSERR when the
 * group cannot be given up. */
int job_load_config(struct job *job, struct error *err);

/* Where this run's messages wait and its queue commands look: the spool
 * helper when one was started, else the queue directory (job_queue_dir,
 * kept in job->queue_dir; when there is none, job->queue_problem says
 * why and the depot's calls fail with it). */
void job_depot(struct job *job, struct depot *out);

/* The account (job->acct): chosen from the configuration by --account or
 * the -f address, else the built-in defaults, then the command line's
 * settings over it (override_account), then its aliases file.  Reads the
 * configuration first (job_load_config) and parses -f.  ERROR_CONFIG when
 * an account is asked for without a file, or when there is no server and
 * one is needed; ERROR_USAGE for a -f naming more than one address. */
int job_load_account(struct job *job, struct error *err);

/* The error when no configuration file was found and one was needed:
 * what was looked for (conf_looked_for), and the next step.  -1. */
int job_no_config(const struct job *job, struct error *err);

/* "-a NAME" naming no file but an account: ERROR_NOINPUT saying that -A
 * was probably meant, before a body is typed in vain. */
int job_check_attach(const struct job *job, struct error *err);

/* The envelope sender (job->env.sender): -f, else --from (when the
 * account allows it), else the account's from, else user@maildomain or
 * user@host.  A local -f or --from ("root", "root@myhost",
 * "root@localhost": address_qualify_sender) gets the maildomain.
 * ERROR_CONFIG when a wildcard from or a proxy leaves no sender that may
 * be used; ERROR_USAGE for an address that fails address_check. */
int job_choose_sender(struct job *job, struct error *err);

/* One recipient, expanded through the account's aliases and qualified
 * with its maildomain, added once (a duplicate is dropped).  kind is the
 * error kind of a bad address (ERROR_USAGE from the command line,
 * ERROR_DATA from a message). */
int job_add_recipient(struct job *job, const char *addr, enum error_kind kind,
                      struct error *err);

/* The recipients of the command line (-c, -b included), and with -t those
 * of the message's To, Cc and Bcc (job->message must be open).
 * ERROR_USAGE or ERROR_DATA when nobody is named. */
int job_collect_recipients(struct job *job, struct error *err);

/* The queue directory, in *out (caller frees): --queue-dir, else the
 * account's queue_dir, else queue_default_dir's (whose error it returns:
 * no home).  For the system configuration of a program built with a
 * group (privilege_build_group) and no --queue-dir, the machine's spool
 * instead: the account's queue_dir, else the build's (configure
 * --with-mta-spool); job->spool and job->spool_group say so (ERROR_CONFIG
 * when the group does not exist).  job_spool is what queue_open_as
 * takes. */
int job_queue_dir(struct job *job, char **out, struct error *err);
const gid_t *job_spool(const struct job *job);

/* The user name a log line shows for account a: "*" for an account of
 * the system configuration, else its user. */
const char *job_log_user(const struct job *job, const struct account *a);

/* Empty the per-message part (sender, recipients, message and the stream
 * read from it, outbox), for the next message of a -bs session. */
void job_reset_message(struct job *job);

/* Release everything the job holds; the log files are closed unless they
 * are stdout. */
/* The run's transcript (job->transcript): the dialogue to diag at the
 * command line's verbosity and to logfile (may be NULL), styled as asked
 * (--color, NO_COLOR, --show-auth, --timing).  --show-auth warns on diag
 * that the terminal will show the credentials. */
void job_open_transcript(struct job *job, FILE *diag, FILE *logfile);

void job_clear(struct job *job);

#endif
