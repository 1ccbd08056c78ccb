/*
 * spoolgate.h - the spool helper of a setgid installation: Postfix's
 * postdrop in one forked process.  It keeps the group (privilege.h) so
 * that a caller outside the group can use the machine's spool (the
 * system configuration's queue_dir, 2770 root:GROUP) while the caller's
 * own process has given the group up for good.
 *
 * Who does what.  job.c forks the helper (spoolgate_start) after the
 * system configuration was read with the group and before the group is
 * dropped, only for a caller other than root using the system
 * configuration in a mode that may need the spool.  The child
 * (spoolserve_child) forgets the run (the caller's hook wipes the
 * configuration and its secrets), keeps descriptor 0-2 on /dev/null and
 * its end of a socketpair and nothing else, empties its environment,
 * ignores the terminal's signals (the caller's side decides what an
 * interrupted send becomes, and needs the helper for it), opens the
 * spool and its dead-letter queue with the group raised, and serves
 * requests until the socket ends.  Its uid is the caller's: an entry it
 * writes is owned by the caller, and the queue shows it only the
 * caller's entries.  The group is raised only around the queue's own
 * calls.
 *
 * The helper's side (the threat model, the process) is spoolserve.h;
 * the frames both sides speak are spoolframe.h.  This module is the
 * caller's side: requests as calls, replies read back and checked.
 *
 * Errors are those of the queue (queue.h), returned to the caller's side
 * as they are; ERROR_TEMPFAIL "the spool helper ..." when the helper is
 * gone or answers out of step (the caller then does what it does without
 * a queue: the dead letter file, exit 75 at worst); ERROR_USAGE for an
 * unknown id, ERROR_TEMPFAIL for an entry being sent.
 */
#ifndef MAILPOST_SPOOLGATE_H
#define MAILPOST_SPOOLGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "queue.h"
#include "stream.h"
#include "util.h"

struct spoolgate;

/* Fork the helper for the spool in dir (group: the spool's group, as
 * queue_open_shared takes it).  In the child, forget(arg) runs first (it
 * must free and wipe what the caller's run holds: the configuration and
 * its secrets, the command line), then the child serves and exits; it
 * never returns here.  In the caller: 0 and *out, whose requests fail
 * with the helper's reason when it could not open the spool; -1 with
 * ERROR_OSERR when socketpair or fork failed. */
int spoolgate_start(struct spoolgate **out, const char *dir, gid_t group,
                    void (*forget)(void *arg), void *arg, struct error *err);

/* The caller's side over fd, whose other end runs spoolserve_run (for
 * tests: no process of its own to reap). */
struct spoolgate *spoolgate_attach(int fd, const char *dir);

/* Close the caller's end (the helper sees EOF and exits) and reap it. */
void spoolgate_close(struct spoolgate *g);

/* The spool's directory (for messages). */
const char *spoolgate_dir(const struct spoolgate *g);

/* Store m (rewound first, exactly m->size bytes) with env (id, size,
 * has_8bit ignored; created 0 means now) in the spool, or with dead in
 * its dead-letter queue; the new entry's id in id.  As queue_add. */
int spoolgate_add(struct spoolgate *g, bool dead,
                  const struct queue_envelope *env, struct message_stream *m,
                  char id[QUEUE_ID_SIZE], struct error *err);

/* The caller's entries (best first, as queue_list), its damaged entries
 * ("ID: why" lines) and its dead letters; each envelope's owner is the
 * caller.  Free with spoolgate_listing_clear. */
struct spoolgate_listing {
	struct queue_envelope *entries;
	size_t nentries;
	struct strlist damaged;
	struct queue_envelope *dead;
	size_t ndead;
};

int spoolgate_list(struct spoolgate *g, struct spoolgate_listing *out,
                   struct error *err);
void spoolgate_listing_clear(struct spoolgate_listing *l);

/* One entry of the caller's, in either queue, being shown: its envelope
 * (NULL when it could not be read), why it is damaged (NULL when it is
 * not), whether it is a dead letter, and its message, read from the
 * helper as it comes (message.size is not known: 0).  Read the message
 * to its end (0), then spoolgate_shown_clear. */
struct spoolgate_shown {
	struct spoolgate *g;
	char id[QUEUE_ID_SIZE];
	struct queue_envelope env;
	bool has_env;
	char *damage;
	bool dead;
	struct message_stream message;
	uint32_t left; /* bytes of the current 'D' frame not yet read */
	bool ended;
};

int spoolgate_show(struct spoolgate *g, const char *id,
                   struct spoolgate_shown *out, struct error *err);
void spoolgate_shown_clear(struct spoolgate_shown *s);

/* Remove the caller's entry id from either queue. */
int spoolgate_remove(struct spoolgate *g, const char *id, struct error *err);

#endif
