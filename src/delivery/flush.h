/*
 * flush.h - the queue runner (mailpost -q): every entry (or those
 * selected) sent again now; with due_only (-q --due, a timer's run) only
 * those whose next attempt time has come.
 *
 * Entries are taken best first (priority, then age) and grouped by account
 * (and by the host and port remembered from --host/--port): one connection
 * per group, RSET between its messages.  Each entry is claimed (locked)
 * before it is sent, so two runners at once never send one entry twice;
 * an entry another runner holds is skipped.  After each attempt, as
 * fate.h decides:
 *
 *  - delivered: the entry is removed;
 *  - delivered to some: those refused for now get an entry of their own
 *    (same age, one more attempt) before this one goes, so a failure in
 *    between can only repeat a delivery; a permanent refusal of the
 *    others is then a give-up as below;
 *  - a temporary failure: attempts + 1, the error kept, the next attempt
 *    pushed back (fate_next_attempt); when the group's connection could
 *    not be made at all, every entry of the group that the run takes is
 *    marked so, without one connection attempt each;
 *  - a permanent failure, or an entry older than the account's
 *    queue_max_age: appended to the dead letter file (when there is one),
 *    removed, and a notice is given;
 *  - an entry whose account cannot be used (gone from the configuration,
 *    unusable settings): held, whatever its age, with a notice on every
 *    run, since no attempt can succeed until the configuration is fixed;
 *  - a deferral for a failure that is not temporary (the session was
 *    refused: authentication, TLS, an unknown host): the entry stays, as
 *    for any deferral (nothing of it reached the server), but with a
 *    notice on every run that meets it, since waiting will not cure it.
 *
 * Each entry tried (delivered, deferred, refused, given up) gets its
 * result line (maillog.h, with the entry's id) where the account that
 * sends it logs, through the request's `log`; an entry whose account
 * cannot be used has no account to log with, and gets its notice only.
 *
 * Damaged entries (queue.h) are never sent: every run names them.  A
 * queue operation that fails (an update on a full disk, a removal) is
 * named and counted, so that the run does not end as a success.
 *
 * A signal (interrupt.h) stops the run after the current entry, which
 * stays queued untouched unless some recipients got it meanwhile (the
 * reply to the dot is awaited whatever comes): then it is treated as
 * without a signal, so those do not get it again.
 */
#ifndef MAILPOST_FLUSH_H
#define MAILPOST_FLUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "conf.h"
#include "error.h"
#include "maillog.h"
#include "relay.h"
#include "transcript.h"

/* A line for the user (a give-up, a permanent failure, or with verbose a
 * deferral); the caller prints it. */
typedef void (*flush_notice_fn)(void *ctx, const char *line);

/* How a queued entry's account is made ready to send: the configuration
 * resolved by name (and the --host/--port remembered), with command-line
 * settings on top: override.c's override_queued. */
typedef int (*flush_account_fn)(void *ctx, const char *name, const char *host,
                                int port, struct account *out,
                                struct error *err);

/* The result line of one entry's attempt (e->entry_id: its id), for the
 * log file and syslog of the account that sent it (a); the caller opens
 * the file and writes it (maillog_record). */
typedef void (*flush_log_fn)(void *ctx, const struct account *a,
                             const struct maillog_entry *e);

struct flush_request {
	const char *queue_dir;
	const gid_t *spool;       /* queue_dir is the machine's spool, of this
	                           * group (queue_open_as); NULL: one's own */
	const struct config *cfg; /* for fallback accounts; may be NULL */
	const struct relay_finish *finish; /* for fallback accounts */
	flush_account_fn account;
	void *account_ctx;
	char select; /* 0, 'I', 'R', 'S' (cli.h) */
	const char *match;
	const char *only_account; /* only this account's entries ("" is the
	                           * unnamed one), or NULL for all */
	bool due_only;            /* only entries whose next attempt time
	                           * has come (the back-off schedule of
	                           * unattended runs); else all, now */
	const char *dead_letter;  /* override of the accounts' (a path or
	                           * "off"), or NULL */
	struct transcript *transcript;
	bool verbose; /* a notice for each entry: delivered, deferred, or
	               * (due_only) not due yet */
	flush_notice_fn notice;
	void *notice_ctx;
	flush_log_fn log; /* NULL: no result lines */
	void *log_ctx;
	time_t (*clock)(void); /* the time now (what is due, too old, the
	                        * next attempt); NULL: time(2) */
	int owner_dead_letter_seconds; /* the time limit of another user's
	                                * dead letter (deadletter_append_as);
	                                * 0: DEADLETTER_CHILD_SECONDS */
};

struct flush_report {
	size_t delivered, deferred, failed, skipped; /* skipped: busy */
	size_t damaged;        /* entries that cannot be read (queue_damaged) */
	enum error_kind worst; /* of the permanent failures; ERROR_NONE */
	size_t held;           /* entries whose account cannot be used: the
	                        * configuration's fault, said on every run */
	enum error_kind held_kind; /* the worst of their errors */
	size_t blocked; /* deferred for a failure that is not temporary
	                 * (authentication, TLS, an unknown host: the
	                 * account's or the server's settings), said on
	                 * every run that meets it; also in deferred */
	enum error_kind blocked_kind; /* the worst of their errors */
	size_t trouble; /* queue operations that failed (claim, update,
	                 * removal), each named in a notice */
	enum error_kind trouble_kind; /* the worst of their errors */
};

/* Run once.  -1 only when the queue itself cannot be used (or a signal
 * stopped the run: ERROR_TEMPFAIL "interrupted by ..."); failures of single
 * messages are in the report and the notices.  A queue directory that does
 * not exist is an empty queue. */
int flush_run(const struct flush_request *fr, struct flush_report *rep,
              struct error *err);

/* mailpost -q's outcome from a run's report, as one error: the worst
 * that happened, in this order: queue changes that failed (only when
 * nothing worse did; dir is named), permanent failures, entries held by
 * the configuration, entries blocked by the settings or the server, and
 * damaged entries.  0 when every entry went or waits only for a retry. */
int flush_verdict(const struct flush_report *rep, const char *dir,
                  struct error *err);

#endif
