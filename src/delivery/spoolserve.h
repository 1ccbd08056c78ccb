/*
 * spoolserve.h - the spool helper's side: the requests of the caller's
 * process served against the machine's spool (spoolserve_run), and the
 * helper process itself (spoolserve_child), which spoolgate_start runs
 * after its fork.  It is not the caller's side (spoolgate.h), nor the
 * frames' format (spoolframe.h), nor the queue (queue.h), which it only
 * calls with the group raised.
 *
 * Threat model.  The caller owns the other end: it can send any bytes,
 * stop half-way, or kill the helper (same uid); it cannot ptrace it (not
 * dumpable) nor give it a descriptor it did not ask for.  So every
 * request is hostile input: each frame has a type and a length checked
 * against that type's ceiling before anything is allocated, an envelope
 * is parsed with queuefile_parse and refused when damaged, an id is
 * checked with queue_id_valid, and a message is taken as frames of at
 * most SPOOLFRAME_CHUNK bytes adding up to exactly the size the envelope
 * announced.  One request at a time; a malformed frame ends the session
 * (the stream is out of step) after an error reply; EOF ends it quietly.
 * The helper opens nothing by a name the caller gives: ids name entries
 * inside the spool it opened itself, never through a symbolic link.
 */
#ifndef MAILPOST_SPOOLSERVE_H
#define MAILPOST_SPOOLSERVE_H

#include <sys/types.h>

#include "error.h"
#include "queue.h"

/* Serve requests on fd with the spool q and its dead-letter queue dead
 * (NULL: none), or, when q is NULL, answer every request with *broken
 * (why the spool could not be opened); for the child and for tests.
 * Around each queue call the group is raised when it is held.  Returns
 * at EOF (0) or after a malformed frame or a lost socket (-1). */
int spoolserve_run(int fd, struct queue *q, struct queue *dead,
                   const struct error *broken);

/* The helper process, in the child of spoolgate_start's fork, sock its
 * end of the socketpair: forget(arg) forgets the run, then the child
 * sheds the caller's context (descriptors, signals, environment, working
 * directory, umask), opens the spool in dir and its dead letters with
 * the group, serves, and exits.  Never returns. */
_Noreturn void spoolserve_child(int sock, const char *dir, gid_t group,
                                void (*forget)(void *), void *arg);

#endif
